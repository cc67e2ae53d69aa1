// A binding is one ServiceAccount trusted by one IAM role. planBindings is the one planner for
// every entry point: create-sa-role (one request, ensure), plan/apply -f (many, exact), and the
// wizard. It plans the provider, roles (grouped: bindings may share one), policies, namespaces,
// ServiceAccounts and restarts. Conflicts with what exists are blockers in the plan, worded in
// the entry point's terms. planUnbinding is delete-sa-role's. Pure: the caller reads, this decides.

import { isWideSubjectPattern } from './binding-input.ts';
import { roleArn as buildRoleArn } from './arn.ts';
import { InternalError } from './errors.ts';
import { MECHANISMS } from './mechanisms/registry.ts';
import { DEFAULT_MECHANISM, type BindingMechanism, type MechanismRegistry } from './mechanisms/types.ts';
import { CLUSTER_TAG, isOwnedByIrsa, roleOwnershipTags } from './ownership.ts';
import { changeIds, clusterKey, clusterRef, serviceAccountLabel, type ServiceAccountRef } from './model/refs.ts';
import { changeKey, emptyPlan, type Blocker, type ChangeOf, type Plan } from './plan.ts';
import { planRole, planRoleDeletion, planRoleUnbinding, type DesiredRole } from './resources/iam-role.ts';
import { planOidcProvider } from './resources/oidc-provider.ts';
import { planServiceAccountRemoval, ROLE_ARN_ANNOTATION } from './resources/service-account.ts';
import type { BindingContext, BindingRequest, BindingsObserved } from './model/binding.ts';
import type { RoleState, ServiceAccountState, WorkloadRef } from './state.ts';
import { serviceAccountUsers } from './migration.ts';
import { FLAG_TERMS, type BindingField, type FieldPath, type Terms } from './terms.ts';
import { namedServiceAccounts } from './trust-merge.ts';
import { serviceAccountSubject } from './trust-policy.ts';

export type { BindingContext, BindingRequest, BindingsObserved } from './model/binding.ts';
export { bindingTrust, serviceAccountAnnotations } from './mechanisms/irsa.ts';

export interface PlanBindingsOptions {
  /**
   * ensure: add these subjects and policies to what the role has (imperative commands).
   * exact: each named role holds exactly its bindings' subjects and policies (irsa.yaml).
   */
  mode: 'ensure' | 'exact';
  /**
   * ensure: remove attachments and inline policies that were not asked for.
   * exact: also delete irsa-owned roles of the cluster that no binding names.
   */
  prune: boolean;
  /** How blockers name fields (flags by default). */
  terms?: Terms;
  /** Exact mode: the cluster whose irsa-owned roles are prune candidates. */
  clusterName?: string;
  /** The binding mechanisms by name (default: core/mechanisms/registry.ts). */
  mechanisms?: MechanismRegistry;
  /** irsa.yaml: the file a blocker's fix names; blockers then carry the binding's index. */
  file?: string;
  /**
   * --no-create-oidc: the OIDC provider must exist already; a plan that would create it is
   * blocked, the fix runs associate-oidc with `associateWith` (its target flags).
   */
  requireProvider?: { issuerUrl: string; associateWith: string };
}

export interface BindingsPlan {
  plan: Plan;
  /** ServiceAccounts whose annotation changes (their workloads matter for restarts). */
  changedServiceAccounts: ServiceAccountRef[];
  /** Workloads whose pods keep their old identity until restarted (not restarted by this plan). */
  workloadsNeedingRestart: WorkloadRef[];
}

export interface RoleGroup {
  roleName: string;
  bindings: Array<{ request: BindingRequest; index: number }>;
}

export function groupByRole(requests: BindingRequest[]): RoleGroup[] {
  const groups = new Map<string, RoleGroup['bindings']>();
  requests.forEach((request, index) => groups.set(request.roleName, [...(groups.get(request.roleName) ?? []), { request, index }]));
  return [...groups].map(([roleName, bindings]) => ({ roleName, bindings }));
}

export function bindingRoleArn(request: BindingRequest, context: Pick<BindingContext, 'partition' | 'account'>): string {
  return request.attachRoleArn ?? buildRoleArn(context.partition, context.account, request.rolePath, request.roleName);
}

/** The mechanism of a request (absent: irsa), from the planner's registry. */
export function mechanismOf(request: BindingRequest, mechanisms: MechanismRegistry = MECHANISMS): BindingMechanism {
  const name = request.mechanism ?? DEFAULT_MECHANISM;
  const mechanism = mechanisms[name];
  if (!mechanism) throw new InternalError(`binding mechanism ${name} is not registered (core/mechanisms/registry.ts)`);
  return mechanism;
}

/** The role a group of bindings wants. In exact mode, an absent setting means IAM's default. */
export function desiredRoleForGroup(group: RoleGroup, context: BindingContext, options: Pick<PlanBindingsOptions, 'mode' | 'prune' | 'mechanisms'>): DesiredRole {
  const requests = group.bindings.map((binding) => binding.request);
  const trusts = requests.map((request) => mechanismOf(request, options.mechanisms).trust(request, context));
  const prerequisites = [...new Set(requests.flatMap((request) => mechanismOf(request, options.mechanisms).prerequisites(request, context)))];
  const first = requests[0]!;
  const pick = <K extends keyof BindingRequest>(key: K): BindingRequest[K] | undefined => requests.find((b) => b[key] !== undefined)?.[key];
  const description = pick('description');
  const maxSessionDuration = pick('maxSessionDuration');
  const boundary = pick('permissionsBoundary');
  // Exact: no boundary in the file means no boundary on the role. Ensure: absent keeps the role's.
  const permissionsBoundary = options.mode === 'exact' ? (boundary ?? null) : boundary;
  const trustPolicySizeLimit = pick('trustPolicySizeLimit');
  return {
    arn: bindingRoleArn(first, context),
    name: group.roleName,
    path: first.rolePath,
    account: context.account,
    mode: options.mode,
    trusts: trusts.flatMap((trust) => trust.federated),
    requiredStatements: trusts.flatMap((trust) => trust.statements),
    managedPolicyArns: [...new Set(requests.flatMap((b) => b.policyArns))],
    inlinePolicies: Object.assign({}, ...requests.map((b) => b.inlinePolicies)),
    ...(description !== undefined ? { description } : {}),
    ...(maxSessionDuration !== undefined ? { maxSessionDuration } : {}),
    ...(permissionsBoundary !== undefined ? { permissionsBoundary } : {}),
    tags: Object.assign({}, ...requests.map((b) => b.tags)),
    ownershipTags: roleOwnershipTags(first.cluster, first.namespace, first.name),
    prune: options.mode === 'exact' || options.prune,
    adopt: requests.some((b) => b.adopt),
    trustOnly: first.attachRoleArn !== null,
    ...(trustPolicySizeLimit !== undefined ? { trustPolicySizeLimit } : {}),
    dependsOn: prerequisites,
  };
}

export function planBindings(requests: BindingRequest[], given: BindingsObserved, options: PlanBindingsOptions): BindingsPlan {
  // The OIDC provider is planned here from what was read (the roles' trusts wait for its change).
  const observed: BindingsObserved = given.provider
    ? { ...given, context: { ...given.context, providerChange: planOidcProvider(given.provider.desired, given.provider.observed) } }
    : given;
  const { context } = observed;
  const terms = options.terms ?? FLAG_TERMS;
  // One request (a command line) has no index to name; several (irsa.yaml) do.
  const at = (field: BindingField, index: number): FieldPath => (requests.length > 1 || options.mode === 'exact' ? { field, binding: index } : { field });
  const indexOf = (index: number) => (requests.length > 1 || options.mode === 'exact' ? { binding: index } : {});
  const plan = emptyPlan();
  if (context.providerChange) plan.changes.push(context.providerChange);
  const changedServiceAccounts: ServiceAccountRef[] = [];
  const workloadsNeedingRestart: WorkloadRef[] = [];
  const block = (blocker: Blocker) => plan.blockers.push(blocker);
  const sideKeys = new Set<string>();
  const blockerKeys = new Set<string>();

  for (const group of groupByRole(requests)) {
    const desired = desiredRoleForGroup(group, context, options);
    const firstIndex = group.bindings[0]!.index;
    const role = planRole(desired, observed.roles.get(group.roleName) ?? null, { terms, ...indexOf(firstIndex) });
    plan.changes.push(...role.changes);
    plan.warnings.push(...role.warnings);
    plan.blockers.push(...role.blockers);
    const roleKey = changeKey({ kind: 'iam-role', id: desired.arn });

    for (const { request, index } of group.bindings) {
      const cluster = clusterRef(request.cluster);
      const saRef: ServiceAccountRef = { cluster, namespace: request.namespace, name: request.name };
      // Observed maps are keyed by `namespace/name` (one cluster's reads).
      const saKey = serviceAccountLabel(saRef);
      // A pattern over several namespaces is shown as a widening instead (core/wide-subjects.ts).
      if (request.subjectPattern && !isWideSubjectPattern(request.subjectPattern)) {
        plan.warnings.push(
          `${terms.name(at('subjectPattern', index))} ${request.subjectPattern} lets every ServiceAccount whose subject matches it assume ${group.roleName}, not only ${saKey}`,
        );
      }
      if (request.roleOnly) continue;
      const saDependsOn = [roleKey];
      if (!observed.namespaces.get(request.namespace)) {
        const namespaceChange: ChangeOf<'namespace'> = {
          kind: 'namespace',
          id: changeIds.namespace({ cluster, name: request.namespace }),
          cluster: clusterKey(cluster),
          action: 'create',
          before: null,
          after: { name: request.namespace },
          dependsOn: [],
        };
        if (!request.createNamespace) {
          block({
            code: 'namespace-missing',
            resource: changeKey(namespaceChange),
            message: `${terms.name(at('namespace', index))}: namespace "${request.namespace}" does not exist in the cluster.`,
            fix: `Create it, ${terms.enable(at('createNamespace', index))}, or ${terms.enable(at('roleOnly', index))} to create only the IAM role.`,
            field: terms.name(at('createNamespace', index)),
            ...indexOf(index),
          });
        } else if (!plan.changes.some((c) => changeKey(c) === changeKey(namespaceChange))) {
          plan.changes.push(namespaceChange);
        }
        if (request.createNamespace) saDependsOn.push(changeKey(namespaceChange));
      }
      const side = mechanismOf(request, options.mechanisms).clusterSide({
        request,
        cluster,
        roleArn: desired.arn,
        dependsOn: saDependsOn,
        observed,
        mode: options.mode,
        terms,
        at: (field) => at(field, index),
        bindingIndex: indexOf(index),
      });
      // A cluster-wide change (EKS Pod Identity's agent add-on) or blocker comes once, however many bindings need it.
      for (const change of side.changes) {
        const key = changeKey(change);
        if (!sideKeys.has(key)) plan.changes.push(change);
        sideKeys.add(key);
      }
      for (const blocker of side.blockers) {
        const key = `${blocker.code} ${blocker.resource} ${blocker.message}`;
        if (!blockerKeys.has(key)) plan.blockers.push(blocker);
        blockerKeys.add(key);
      }
      plan.warnings.push(...side.warnings);
      changedServiceAccounts.push(...side.changedServiceAccounts);
      workloadsNeedingRestart.push(...side.workloadsNeedingRestart);
    }
  }

  if (options.mode === 'exact') planPrune(requests, observed, options, plan);
  plan.blockers.push(...missingPolicyBlockers(requests, observed, options));
  // Cross-account (the cluster read with one profile, IAM written with another): where things go.
  const { clusterAccount, account } = observed.context;
  if (clusterAccount && clusterAccount !== account) {
    plan.notes.push(
      options.mode === 'exact'
        ? `The cluster is in account ${clusterAccount}; the roles and the OIDC provider go to account ${account}.`
        : observed.context.providerChange
          ? `The cluster is in account ${clusterAccount}; the role and its OIDC provider go to account ${account}.`
          : `The cluster is in account ${clusterAccount}; the role goes to account ${account}.`,
    );
  }
  const providerChange = observed.context.providerChange;
  if (options.requireProvider && providerChange?.action === 'create') {
    const terms = options.terms ?? FLAG_TERMS;
    plan.blockers.push({
      code: 'oidc-provider-missing',
      resource: changeKey(providerChange),
      message: `The IAM OIDC provider for ${options.requireProvider.issuerUrl} does not exist in account ${observed.context.account}, and ${terms.name({ field: 'createOidc' })} was given.`,
      fix: `Create it first with:\n  irsa associate-oidc ${options.requireProvider.associateWith} --approve`,
      field: terms.name({ field: 'createOidc' }),
    });
  }
  return { plan, changedServiceAccounts, workloadsNeedingRestart };
}

/** A policy a binding names that IAM does not know stops apply, shown with the plan. */
function missingPolicyBlockers(requests: BindingRequest[], observed: BindingsObserved, options: PlanBindingsOptions): Blocker[] {
  const missing = observed.missingPolicies;
  if (!missing) return [];
  const terms = options.terms ?? FLAG_TERMS;
  const numbered = options.file !== undefined;
  return missing.arns.map((arn): Blocker => {
    const index = requests.findIndex((b) => b.policyArns.includes(arn) || b.permissionsBoundary === arn);
    const field: BindingField = requests[index]?.policyArns.includes(arn) ? 'policyArns' : 'permissionsBoundary';
    const path: FieldPath = numbered ? { field, binding: index } : { field };
    return {
      code: 'policy-not-found',
      resource: `policy:${arn}`,
      message: `${terms.name(path)}: ${arn} does not exist in account ${observed.context.account} (iam:GetPolicy).`,
      fix: `${missing.hint.trim()} Check the ARN${numbered ? ` in ${options.file}` : ''} (AWS managed policies are arn:aws:iam::aws:policy/<name>).`.trim(),
      field: terms.name(path),
      ...(numbered ? { binding: index } : {}),
    };
  });
}

/** Exact mode: irsa-owned roles of the cluster that no binding names go only with --prune. */
function planPrune(requests: BindingRequest[], observed: BindingsObserved, options: PlanBindingsOptions, plan: Plan): void {
  const named = new Set(requests.map((b) => b.roleName));
  const clusterName = options.clusterName ?? requests[0]?.cluster;
  for (const role of observed.clusterRoles) {
    if (named.has(role.name) || !isOwnedByIrsa(role.tags) || role.tags[CLUSTER_TAG] !== clusterName) continue;
    if (!options.prune) {
      plan.notes.push(`role ${role.name} is irsa-owned for cluster ${clusterName} but no binding names it; left alone (use --prune to delete it).`);
      continue;
    }
    const deletion = planRoleDeletion(role, [], 'no binding in the file names it (--prune)');
    plan.changes.push(...deletion);
    // Unbind the ServiceAccounts that still point at the pruned role, before it goes.
    const roleDelete = deletion.at(-1)!;
    for (const key of pruneSubjects([role], observed.context.providerArn)) {
      const sa = observed.serviceAccounts.get(key);
      if (!sa || sa.annotations[ROLE_ARN_ANNOTATION] !== role.arn) continue;
      const removal = planServiceAccountRemoval(clusterRef(clusterName ?? ''), sa);
      if (removal && removal.action !== 'no-op') {
        plan.changes.push(removal);
        roleDelete.dependsOn.push(changeKey(removal));
      }
    }
  }
}

/**
 * ServiceAccounts (`namespace/name`) of this provider that roles a prune would delete name
 * literally, read by the same trust reader as merge and unbind (trust-merge.ts): patterns and
 * policy variables name no ServiceAccount.
 */
export function pruneSubjects(roles: RoleState[], providerArn: string): string[] {
  return roles.flatMap((role) => namedServiceAccounts(role.trustPolicy, providerArn));
}

export interface UnbindingRequest {
  /** The cluster label (as for BindingRequest.cluster). */
  cluster: string;
  namespace: string;
  name: string;
  /** The role to remove the ServiceAccount from (given, from its annotation, or the default name). */
  roleName: string;
  force: boolean;
  /** Only the IAM side (--role-only): the ServiceAccount is not read or changed. */
  roleOnly: boolean;
}

export interface UnbindingObserved {
  providerArn: string;
  role: RoleState | null;
  serviceAccount: ServiceAccountState | null;
  /** Workloads (`kind/namespace/name`) whose pods run as the ServiceAccount. */
  users?: string[];
  /**
   * The ServiceAccount's EKS Pod Identity association (EKS clusters), null when it has none, or
   * 'unknown' when it could not be read. Either way but null, the ServiceAccount may still be bound
   * (a migration half done), so one irsa created is kept: only its IRSA annotations go.
   */
  association?: { roleArn: string } | null | 'unknown';
}

/**
 * delete-sa-role: remove the ServiceAccount from its role's trust (the role goes when nothing is
 * left), then unbind the ServiceAccount — unless it is bound to another role, which stays.
 */
export function planUnbinding(request: UnbindingRequest, observed: UnbindingObserved, terms: Terms = FLAG_TERMS): Plan {
  const { namespace, name } = request;
  const { role, serviceAccount } = observed;
  const plan = emptyPlan();
  let roleChangeKeys: string[] = [];
  if (role) {
    const unbinding = planRoleUnbinding(role, { subjects: [serviceAccountSubject(namespace, name)], providerArn: observed.providerArn }, { force: request.force, terms });
    plan.changes.push(...unbinding.changes);
    plan.blockers.push(...unbinding.blockers);
    // A role left unchanged still carries why (a kept statement still admits the ServiceAccount):
    // no-op changes are hidden, so the plan says it at the top level.
    for (const change of unbinding.changes) if (change.action === 'no-op') plan.warnings.push(...(change.warnings ?? []));
    roleChangeKeys = unbinding.changes.filter((c) => c.kind === 'iam-role').map(changeKey);
  } else {
    plan.notes.push(`role ${request.roleName} does not exist; nothing to change in IAM.`);
  }
  const annotated = serviceAccount?.annotations[ROLE_ARN_ANNOTATION];
  if (serviceAccount && annotated && role && annotated !== role.arn) {
    plan.notes.push(`ServiceAccount ${namespace}/${name} is bound to ${annotated}, not ${role.arn}; it is left alone.`);
  } else if (!request.roleOnly) {
    // The ServiceAccount goes last: until the role is changed, pods keep working as before.
    let saChange = planServiceAccountRemoval(clusterRef(request.cluster), serviceAccount, roleChangeKeys);
    // Still bound by EKS Pod Identity (or not known): deleting it would break its pods; unbind IRSA only.
    const association = observed.association ?? null;
    if (saChange?.action === 'delete' && association !== null) {
      const before = saChange.before;
      saChange = Object.keys(before.annotations).length > 0
        ? { ...saChange, action: 'update', after: { ...before, annotations: {} }, reason: 'remove the IRSA annotations (the ServiceAccount is kept: see the note)' }
        : { ...saChange, action: 'no-op', after: before };
      plan.notes.push(association === 'unknown'
        ? `ServiceAccount ${namespace}/${name} is kept: irsa could not read whether an EKS Pod Identity association still binds it.`
        : `ServiceAccount ${namespace}/${name} is kept: an EKS Pod Identity association still binds it (role ${association.roleArn}); irsa delete-sa-role --mechanism pod-identity undoes that binding.`);
    }
    if (saChange) plan.changes.push(saChange);
    else plan.notes.push(`ServiceAccount ${namespace}/${name} does not exist.`);
    if (saChange && saChange.action !== 'no-op') {
      const judged = serviceAccountUsers(saChange, `${namespace}/${name}`, observed.users ?? [], true);
      plan.warnings.push(...judged.warnings);
      // Deleting a ServiceAccount that pods still run as breaks their next pods.
      if (saChange.action === 'delete' && (observed.users ?? []).length > 0 && !request.force) {
        plan.blockers.push({
          code: 'service-account-in-use',
          resource: changeKey(saChange),
          message: `ServiceAccount ${namespace}/${name} is used by ${(observed.users ?? []).join(', ')}: once it is deleted, their new pods cannot be created. Nothing was changed.`,
          fix: `Point them at another ServiceAccount first, or ${terms.enable({ field: 'force' })} to delete it anyway.`,
          field: terms.name({ field: 'force' }),
        });
      }
    }
  }
  return plan;
}

