// The declarative file is exact: for every role it names, the trust policy holds exactly the
// file's subjects (for this cluster's provider) and the policies are exactly the listed ones.
// irsa-owned roles of the cluster that no binding names are deleted only with --prune.

import { bindingRoleArn, serviceAccountAnnotations, type BindingContext, type BindingRequest } from './binding.ts';
import { UserError } from './errors.ts';
import { CLUSTER_TAG, isOwnedByIrsa, roleOwnershipTags } from './ownership.ts';
import { changeKey, emptyPlan, type Change, type Plan } from './plan.ts';
import { planRole, planRoleDeletion, type DesiredRole } from './resources/iam-role.ts';
import { planServiceAccount, planServiceAccountRemoval, ROLE_ARN_ANNOTATION } from './resources/service-account.ts';
import { planWorkloadRestarts } from './resources/workload.ts';
import type { RoleState, ServiceAccountState, WorkloadRef } from './state.ts';
import { parseTrustPolicy, samePolicy, serviceAccountSubject, type FederatedTrust } from './trust-policy.ts';

export interface DeclarativeObserved {
  /** By role name; null when the role does not exist. */
  roles: Map<string, RoleState | null>;
  namespaces: Map<string, boolean>;
  /** By `namespace/name`. */
  serviceAccounts: Map<string, ServiceAccountState | null>;
  /** By `namespace/name` of the ServiceAccount; only needed where its annotation changes. */
  workloads: Map<string, WorkloadRef[]>;
  /** irsa-owned roles tagged with this cluster (prune candidates). */
  clusterRoles: RoleState[];
}

export interface DeclarativePlan {
  plan: Plan;
  /** ServiceAccounts whose annotation changes (their workloads matter for restarts). */
  changedServiceAccounts: string[];
  workloadsNeedingRestart: WorkloadRef[];
}

export interface RoleGroup {
  roleName: string;
  bindings: BindingRequest[];
}

export function groupByRole(bindings: BindingRequest[]): RoleGroup[] {
  const groups = new Map<string, BindingRequest[]>();
  for (const binding of bindings) groups.set(binding.roleName, [...(groups.get(binding.roleName) ?? []), binding]);
  return [...groups].map(([roleName, members]) => ({ roleName, bindings: members }));
}

function desiredRoleForGroup(group: RoleGroup, context: BindingContext): DesiredRole {
  const first = group.bindings[0]!;
  const pick = <K extends keyof BindingRequest>(key: K): BindingRequest[K] | undefined => group.bindings.find((b) => b[key] !== undefined)?.[key];
  const trusts: FederatedTrust[] = group.bindings.map((binding) => ({
    providerArn: context.providerArn,
    issuerHostPath: context.issuerHostPath,
    audience: binding.audience,
    subjects: binding.subjectPattern ? [] : [serviceAccountSubject(binding.namespace, binding.name)],
    subjectPatterns: binding.subjectPattern ? [binding.subjectPattern] : [],
  }));
  const inlinePolicies: Record<string, unknown> = {};
  for (const binding of group.bindings) {
    for (const [name, document] of Object.entries(binding.inlinePolicies)) {
      if (name in inlinePolicies && !samePolicy(inlinePolicies[name], document)) {
        throw new UserError(`bindings of role "${group.roleName}" define inline policy "${name}" differently; give it once, or use different names.`, 'inlinePolicies');
      }
      inlinePolicies[name] = document;
    }
  }
  const description = pick('description');
  const maxSessionDuration = pick('maxSessionDuration');
  return {
    arn: bindingRoleArn(first, context),
    name: group.roleName,
    path: first.rolePath,
    account: context.account,
    mode: 'exact',
    trusts,
    managedPolicyArns: [...new Set(group.bindings.flatMap((b) => b.policyArns))],
    inlinePolicies,
    ...(description !== undefined ? { description } : {}),
    ...(maxSessionDuration !== undefined ? { maxSessionDuration } : {}),
    // Exact: no boundary in the file means no boundary on the role.
    permissionsBoundary: pick('permissionsBoundary') ?? null,
    tags: Object.assign({}, ...group.bindings.map((b) => b.tags)),
    ownershipTags: roleOwnershipTags(first.cluster, first.namespace, first.name),
    prune: true,
    adopt: group.bindings.some((b) => b.adopt),
    // attachRoleArn: an existing role irsa only adds these subjects to (never exact, never its policies).
    trustOnly: first.attachRoleArn !== null,
    ...(first.attachRoleArn !== null ? { mode: 'ensure' as const } : {}),
    ...(pick('trustPolicySizeLimit') !== undefined ? { trustPolicySizeLimit: pick('trustPolicySizeLimit')! } : {}),
    dependsOn: context.providerChange ? [changeKey(context.providerChange)] : [],
  };
}

export function planDeclarative(
  bindings: BindingRequest[],
  context: BindingContext,
  observed: DeclarativeObserved,
  options: { prune: boolean; clusterName: string },
): DeclarativePlan {
  const plan = emptyPlan();
  if (context.providerChange) plan.changes.push(context.providerChange);
  const changedServiceAccounts: string[] = [];
  const workloadsNeedingRestart: WorkloadRef[] = [];

  // Every missing namespace at once, not one per run.
  const missingNamespaces = [...new Set(bindings.filter((b) => !b.roleOnly && !b.createNamespace && !observed.namespaces.get(b.namespace)).map((b) => b.namespace))];
  if (missingNamespaces.length > 0) {
    const list = missingNamespaces.map((ns) => `"${ns}"`).join(', ');
    throw new UserError(
      `${missingNamespaces.length === 1 ? 'namespace' : 'namespaces'} ${list} ${missingNamespaces.length === 1 ? 'does' : 'do'} not exist. Create ${missingNamespaces.length === 1 ? 'it' : 'them'}, or list ${missingNamespaces.length === 1 ? 'it' : 'them'} under namespaces.create in the file (or set roleOnly: true on ${missingNamespaces.length === 1 ? 'its' : 'their'} bindings).`,
      'namespace',
    );
  }

  for (const group of groupByRole(bindings)) {
    const desired = desiredRoleForGroup(group, context);
    const role = planRole(desired, observed.roles.get(group.roleName) ?? null);
    plan.changes.push(...role.changes);
    plan.warnings.push(...role.warnings);
    const roleKey = changeKey({ kind: 'iam-role', id: desired.arn });
    for (const binding of group.bindings) {
      if (binding.subjectPattern) {
        plan.warnings.push(`${binding.namespace}/${binding.name}: subjectPattern ${binding.subjectPattern} lets every matching ServiceAccount assume ${group.roleName}`);
      }
      if (binding.roleOnly) continue;
      const saKey = `${binding.namespace}/${binding.name}`;
      const saDependsOn = [roleKey];
      if (!observed.namespaces.get(binding.namespace)) {
        if (!binding.createNamespace) {
          throw new UserError(`bindings ${saKey}: namespace "${binding.namespace}" does not exist. Create it, or set createNamespace: true (or roleOnly: true) on the binding.`, 'namespace');
        }
        const namespaceChange: Change = { kind: 'namespace', id: binding.namespace, action: 'create', before: null, after: { name: binding.namespace }, dependsOn: [] };
        if (!plan.changes.some((c) => changeKey(c) === changeKey(namespaceChange))) plan.changes.push(namespaceChange);
        saDependsOn.push(changeKey(namespaceChange));
      }
      const sa = planServiceAccount(
        { namespace: binding.namespace, name: binding.name, annotations: serviceAccountAnnotations(binding, desired.arn) },
        observed.serviceAccounts.get(saKey) ?? null,
        saDependsOn,
      );
      plan.changes.push(sa.change);
      if (sa.change.action === 'no-op') continue;
      changedServiceAccounts.push(saKey);
      const restarts = planWorkloadRestarts(sa.change, binding.name, observed.workloads.get(saKey) ?? [], binding.restartWorkloads);
      plan.changes.push(...restarts.changes);
      workloadsNeedingRestart.push(...restarts.needingRestart);
    }
  }

  const named = new Set(bindings.map((b) => b.roleName));
  for (const role of observed.clusterRoles) {
    if (named.has(role.name) || !isOwnedByIrsa(role.tags) || role.tags[CLUSTER_TAG] !== options.clusterName) continue;
    if (!options.prune) {
      plan.notes.push(`role ${role.name} is irsa-owned for cluster ${options.clusterName} but no binding names it; left alone (use --prune to delete it).`);
      continue;
    }
    const deletion = planRoleDeletion(role, [], 'no binding in the file names it (--prune)');
    plan.changes.push(...deletion);
    // Unbind the ServiceAccounts that still point at the pruned role, before it goes.
    const roleDelete = deletion.at(-1)!;
    for (const trust of parseTrustPolicy(role.trustPolicy).trusts.filter((t) => t.providerArn === context.providerArn)) {
      for (const subject of trust.subjects) {
        const [, , namespace, name] = subject.split(':');
        const sa = observed.serviceAccounts.get(`${namespace}/${name}`);
        if (!sa || sa.annotations[ROLE_ARN_ANNOTATION] !== role.arn) continue;
        const removal = planServiceAccountRemoval(sa);
        if (removal && removal.action !== 'no-op') {
          plan.changes.push(removal);
          roleDelete.dependsOn.push(changeKey(removal));
        }
      }
    }
  }
  return { plan, changedServiceAccounts, workloadsNeedingRestart };
}

/** Subjects (`namespace/name`) of this provider in roles that a prune would delete. */
export function pruneSubjects(roles: RoleState[], providerArn: string): string[] {
  return roles.flatMap((role) =>
    parseTrustPolicy(role.trustPolicy)
      .trusts.filter((t) => t.providerArn === providerArn)
      .flatMap((t) => t.subjects.map((subject) => subject.split(':').slice(2).join('/'))),
  );
}

