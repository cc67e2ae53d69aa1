// Reads the pod templates and Secret key names of the bindings' namespaces and adds the migration
// changes (core/migration.ts) and static-key warnings to a binding plan. Shared by create-sa-role
// and plan/apply -f, after their own planning, so the binding planner stays as it is.

import pMap from 'p-map';
import type { BindingRequest } from '../core/binding.ts';
import { UserError } from '../core/errors.ts';
import { NO_MIGRATION, planMigrations, type MigrationBinding, type MigrationNamespace } from '../core/migration.ts';
import { changeIds, clusterRef } from '../core/model/refs.ts';
import { changeKey, type Change, type Plan } from '../core/plan.ts';
import type { RoleValue } from '../core/resources/types.ts';
import type { WorkloadRef } from '../core/state.ts';
import type { WorkloadGateway } from '../ports.ts';

export interface MigrationResult {
  /** Workloads whose template changes: they roll, so they need no restart advice. */
  rolled: Array<{ kind: string; namespace: string; name: string }>;
}

type NamespaceRead =
  | { namespace: string; read: MigrationNamespace; configMapError?: string }
  | { namespace: string; error: string };

/** What addMigrations reads: the namespaces' pod templates, Secret and ConfigMap key names. */
export interface MigrationReads {
  bound: BindingRequest[];
  reads: NamespaceRead[];
}

/**
 * The reads of addMigrations. They depend only on which ServiceAccounts the plan annotates, not on
 * its restarts, so plan/apply -f starts them right after its first planning pass, beside the
 * workload listing that pass needs.
 */
export async function readForMigrations(
  plan: Plan,
  bindings: BindingRequest[],
  gateway: WorkloadGateway,
  concurrency = 8,
  prefetched?: Map<string, Promise<NamespaceRead>>,
): Promise<MigrationReads> {
  const annotating = new Set(plan.changes.filter((c) => c.kind === 'service-account' && (c.action === 'create' || c.action === 'update')).map((c) => c.id));
  const asksMigration = (b: BindingRequest) => !!b.migration && (b.migration.removeStaticKeys || b.migration.migrateKube2iam || b.migration.workloads.length > 0);
  const bound = bindings.filter((binding) => !binding.roleOnly && (asksMigration(binding) || annotating.has(serviceAccountId(binding))));
  const namespaces = [...new Set(bound.map((binding) => binding.namespace))].sort();
  const reads = await pMap(namespaces, (namespace) => prefetched?.get(namespace) ?? readMigrationNamespace(gateway, namespace), { concurrency });
  return { bound, reads };
}

/**
 * Starts the migration reads of these namespaces now, before the first planning pass says which
 * of them it needs (plan/apply -f, for a few namespaces: one round trip saved at the cost of reads
 * that a converged plan does not use; their errors count only where the plan needs them).
 */
export function prefetchMigrationReads(gateway: Promise<WorkloadGateway>, namespaces: string[]): Map<string, Promise<NamespaceRead>> {
  return new Map(
    namespaces.map((namespace) => {
      const read = gateway.then((g) => readMigrationNamespace(g, namespace), (error: Error): NamespaceRead => ({ namespace, error: error.message.split('\n')[0]! }));
      return [namespace, read] as const;
    }),
  );
}

async function readMigrationNamespace(gateway: WorkloadGateway, namespace: string): Promise<NamespaceRead> {
  try {
    // ConfigMaps are read apart: without them only envFrom of a ConfigMap goes unjudged (said below).
    const [workloads, secrets, configMaps] = await Promise.all([
      gateway.listPodTemplates(namespace),
      gateway.listSecretKeyNames(namespace),
      gateway.listConfigMapKeyNames(namespace).then((value) => ({ value }), (error: Error) => ({ error: error.message.split('\n')[0]! })),
    ]);
    const read: MigrationNamespace = { workloads, secrets, ...('value' in configMaps ? { configMaps: configMaps.value } : {}) };
    return { namespace, read, ...('error' in configMaps ? { configMapError: configMaps.error } : {}) };
  } catch (error) {
    return { namespace, error: (error as Error).message.split('\n')[0]! };
  }
}

const serviceAccountId = (binding: BindingRequest) => changeIds.serviceAccount({ cluster: clusterRef(binding.cluster), namespace: binding.namespace, name: binding.name });

/** The role a role-side change is about, read from its value (ids are never parsed back). */
function roleNameOf(change: Change): string | null {
  const value = change.action === 'delete' ? change.before : change.after;
  if (change.kind === 'iam-role') return (value as RoleValue).name;
  if (change.kind === 'role-policy-attachment' || change.kind === 'inline-policy') return (value as { roleName: string }).roleName;
  return null;
}

/** Keys of the binding's own changes the workload changes must wait for (SA annotation, role, policies). */
function bindingKeys(plan: Plan, binding: BindingRequest): string[] {
  const saId = serviceAccountId(binding);
  return plan.changes
    .filter((change) => change.action !== 'no-op')
    .filter((change) => (change.kind === 'service-account' ? change.id === saId : roleNameOf(change) === binding.roleName))
    .map(changeKey);
}

/**
 * Reads happen where they matter: for bindings with a migration option, and for bindings whose
 * ServiceAccount annotation this plan sets (the moment a static key would silently win over the
 * new role). A converged re-plan reads nothing more (its cost stays fixed); doctor and audit find
 * keys later on.
 */
export async function addMigrations(
  plan: Plan,
  bindings: BindingRequest[],
  gateway: WorkloadGateway,
  concurrency = 8,
  /** The reads, when they were started earlier (readForMigrations, beside the planner's other reads). */
  started?: Promise<MigrationReads>,
): Promise<MigrationResult> {
  const { bound, reads } = await (started ?? readForMigrations(plan, bindings, gateway, concurrency));
  const rolled: MigrationResult['rolled'] = [];
  for (const entry of reads) {
    const members = bound.filter((binding) => binding.namespace === entry.namespace);
    if ('error' in entry) {
      const asked = members.find((b) => b.migration?.removeStaticKeys || b.migration?.migrateKube2iam);
      if (asked) {
        throw new UserError(
          `The workloads of namespace ${entry.namespace} could not be read for the migration of ${asked.namespace}/${asked.name} (${entry.error}). Nothing was changed. Grant list on the workloads and Secrets of ${entry.namespace}, or plan without removeStaticKeys / migrateKube2iam.`,
          'removeStaticKeys',
        );
      }
      plan.warnings.push(`Could not check the workloads of namespace ${entry.namespace} for static AWS keys or kube2iam annotations: ${entry.error}`);
      continue;
    }
    const migrationBindings: MigrationBinding[] = members.map((binding) => ({
      cluster: clusterRef(binding.cluster),
      namespace: binding.namespace,
      serviceAccount: binding.name,
      options: binding.migration ?? NO_MIGRATION,
      dependsOn: bindingKeys(plan, binding),
    }));
    if ('configMapError' in entry && entry.read.workloads.some((w) => [...(w.template.spec?.initContainers ?? []), ...(w.template.spec?.containers ?? [])].some((c) => c.envFrom?.some((f) => f.configMapRef)))) {
      plan.warnings.push(`Could not list the ConfigMaps of namespace ${entry.namespace} (${entry.configMapError}): AWS keys loaded through envFrom of a ConfigMap are not checked. Grant list on configmaps in ${entry.namespace}.`);
    }
    const planned = planMigrations(migrationBindings, entry.read!);
    plan.changes.push(...planned.changes);
    plan.warnings.push(...planned.warnings);
    rolled.push(...planned.rolled);
  }
  // A changed template rolls the workload already: a separate restart would roll it twice.
  const isRolled = (w: { kind: string; namespace: string; name: string }) => rolled.some((r) => r.kind === w.kind && r.namespace === w.namespace && r.name === w.name);
  plan.changes = plan.changes.filter((change) => !(change.kind === 'workload-restart' && isRolled(change.after)));
  return { rolled };
}

/**
 * "The role will have no permissions": a binding that asks for no policy, on a role that is created
 * now or whose policies are managed exactly (irsa.yaml, --prune). Pods could assume it and do nothing.
 */
export function warnRolesWithoutPermissions(plan: Plan, bindings: BindingRequest[], policiesExact: boolean): void {
  const byRole = new Map<string, BindingRequest[]>();
  for (const binding of bindings) if (!binding.attachRoleArn) byRole.set(binding.roleName, [...(byRole.get(binding.roleName) ?? []), binding]);
  for (const [roleName, members] of byRole) {
    if (members.some((b) => b.policyArns.length > 0 || Object.keys(b.inlinePolicies).length > 0)) continue;
    const created = plan.changes.some((c) => c.kind === 'iam-role' && c.action === 'create' && c.after.name === roleName);
    if (!created && !policiesExact) continue;
    const who = members.map((b) => `${b.namespace}/${b.name}`).join(', ');
    plan.warnings.push(`The role ${roleName} (for ${who}) will have no permissions: no managed or inline policy is given. Add --attach-policy-arn / --inline-policy (managedPolicies / inlinePolicies in irsa.yaml).`);
  }
}

/** Restart advice without the workloads the migration rolls anyway. */
export const stillNeedingRestart = (workloads: WorkloadRef[], result: MigrationResult): WorkloadRef[] =>
  workloads.filter((w) => !result.rolled.some((r) => r.kind === w.kind && r.namespace === w.namespace && r.name === w.name));
