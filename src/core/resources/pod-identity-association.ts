// The `pod-identity-association` kind: one EKS Pod Identity association (cluster, namespace,
// ServiceAccount → role), its desired value, and the create / update / adopt / no-op / delete
// decision. Pure: the planner passes what it read.
//
// Rules (issue 22; eksctl's known failures in brackets):
// - Identity is (cluster, namespace, ServiceAccount), never a substring or prefix match [#8484,
//   #8511: the wrong association updated]; EKS allows one association per ServiceAccount.
// - Create when there is none; a re-run finds it and plans a no-op [#7753: re-run fails with 409].
// - An association that names another role is not re-pointed unless the user says so (the same
//   no-stealing rule as a ServiceAccount annotated with another role): a blocker, with the fix.
// - An association irsa did not create may be adopted (same role: other fields brought in line);
//   it is never deleted by irsa. irsa tags what it creates and deletes only what carries the tag.
// - An association an EKS add-on owns (`ownerArn`) is left alone: managed through the add-on.
// - Updates send the whole desired value: roleArn is never empty [#8718], a target role that must
//   go is sent as "" (remove), a session policy that must go as "".
// - namespace and serviceAccount cannot be updated (UpdatePodIdentityAssociation): moving a
//   binding is a delete of the old association and a create of the new one.

import type { Blocker, ChangeOf } from '../plan.ts';
import type { Recheck } from '../recheck.ts';
import type { Tags } from '../state.ts';
import { CLUSTER_TAG, NAMESPACE_TAG, OWNER_TAG, OWNER_VALUE, SERVICE_ACCOUNT_TAG } from '../ownership.ts';
import type { KindSpec } from './kind.ts';
import { changeIds, clusterRef } from '../model/refs.ts';

/** What an association is, as the plan shows it and apply writes it. */
export interface PodIdentityAssociationValue {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  /** Session policy, compact JSON, or null. */
  policy: string | null;
  /** Tags given on create (irsa's ownership tags); tags are not compared afterwards. */
  tags: Tags;
  /** Known once it exists: update and delete address it by id. */
  associationId: string | null;
}

/** An association as EKS reports it (DescribePodIdentityAssociation). */
export interface PodIdentityAssociationState {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  associationId: string;
  associationArn: string;
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  policy: string | null;
  /** Issued by EKS for a target role: the target role's trust may require it (sts:ExternalId). */
  externalId: string | null;
  /** Set when an EKS add-on owns the association. */
  ownerArn: string | null;
  tags: Tags;
}

export interface DesiredAssociation {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  policy: string | null;
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** An EKS Pod Identity association; id `cluster/namespace/serviceAccount`. */
    'pod-identity-association': PodIdentityAssociationValue;
  }
}

export type AssociationChange = ChangeOf<'pod-identity-association'>;

export type AssociationBlockerCode = 'association-bound-elsewhere' | 'association-owned-by-addon';

export type AssociationBlocker = Blocker & { code: AssociationBlockerCode };

export interface AssociationPlan {
  /** Null when the association is left alone (owned by an add-on). */
  change: AssociationChange | null;
  blocker: AssociationBlocker | null;
  notes: string[];
}

/** `<cluster>/<namespace>/<serviceAccount>`, built like a ServiceAccount's id (core/model/refs.ts). */
export const associationId = (ref: { cluster: string; namespace: string; serviceAccount: string }): string =>
  changeIds.serviceAccount({ cluster: clusterRef(ref.cluster), namespace: ref.namespace, name: ref.serviceAccount });

export function associationOwnershipTags(cluster: string, namespace: string, serviceAccount: string): Tags {
  return { [OWNER_TAG]: OWNER_VALUE, [CLUSTER_TAG]: cluster, [NAMESPACE_TAG]: namespace, [SERVICE_ACCOUNT_TAG]: serviceAccount };
}

export const associationMadeByIrsa = (observed: Pick<PodIdentityAssociationState, 'tags'>): boolean => observed.tags[OWNER_TAG] === OWNER_VALUE;

export function associationValue(observed: PodIdentityAssociationState): PodIdentityAssociationValue {
  return {
    cluster: observed.cluster,
    namespace: observed.namespace,
    serviceAccount: observed.serviceAccount,
    roleArn: observed.roleArn,
    targetRoleArn: observed.targetRoleArn,
    disableSessionTags: observed.disableSessionTags,
    policy: observed.policy,
    tags: {},
    associationId: observed.associationId,
  };
}

/** Session policies compare as documents: EKS may return them re-serialised. */
function samePolicyText(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

/** The fields UpdatePodIdentityAssociation can change that differ, for the plan's reason. */
export function associationDifferences(before: PodIdentityAssociationValue, after: PodIdentityAssociationValue): string[] {
  const differences: string[] = [];
  if (before.roleArn !== after.roleArn) differences.push('roleArn');
  if (before.targetRoleArn !== after.targetRoleArn) differences.push('targetRoleArn');
  if (before.disableSessionTags !== after.disableSessionTags) differences.push('disableSessionTags');
  if (!samePolicyText(before.policy, after.policy)) differences.push('policy');
  return differences;
}

export interface PlanAssociationOptions {
  /** The user allowed re-pointing an association irsa did not create (`--override-existing-serviceaccounts`). */
  override: boolean;
  /** The field that allows it, in the entry point's terms. */
  overrideField: string;
  dependsOn: string[];
}

/**
 * The change for one desired association, given the association EKS has for that exact
 * ServiceAccount (or null). `observed` must be the one for (cluster, namespace, ServiceAccount):
 * the caller filters by exact equality.
 */
export function planAssociation(desired: DesiredAssociation, observed: PodIdentityAssociationState | null, options: PlanAssociationOptions): AssociationPlan {
  const id = associationId(desired);
  const base = { kind: 'pod-identity-association' as const, id, cluster: desired.cluster, dependsOn: options.dependsOn };
  const resource = `pod-identity-association:${id}`;
  if (!observed) {
    const after: PodIdentityAssociationValue = {
      ...desired,
      tags: associationOwnershipTags(desired.cluster, desired.namespace, desired.serviceAccount),
      associationId: null,
    };
    return { change: { ...base, action: 'create', before: null, after, reason: 'the ServiceAccount has no Pod Identity association' }, blocker: null, notes: [] };
  }
  if (observed.namespace !== desired.namespace || observed.serviceAccount !== desired.serviceAccount || observed.cluster !== desired.cluster) {
    throw new Error(`planAssociation: observed association ${observed.associationId} is for ${associationId(observed)}, not ${id}`);
  }
  if (observed.ownerArn) {
    return {
      change: null,
      blocker: {
        code: 'association-owned-by-addon',
        resource,
        message: `the Pod Identity association ${observed.associationId} of ${desired.namespace}/${desired.serviceAccount} belongs to the EKS add-on ${observed.ownerArn}; irsa leaves it alone`,
        fix: 'change the role through the add-on (its podIdentityAssociations), or bind a different ServiceAccount',
        field: options.overrideField,
      },
      notes: [],
    };
  }
  const before = associationValue(observed);
  const after: PodIdentityAssociationValue = { ...desired, tags: {}, associationId: observed.associationId };
  const differences = associationDifferences(before, after);
  if (differences.length === 0) return { change: { ...base, action: 'no-op', before, after: before }, blocker: null, notes: [] };
  const mine = associationMadeByIrsa(observed);
  const change: AssociationChange = { ...base, action: 'update', before, after, reason: `${differences.join(', ')} differ${differences.length === 1 ? 's' : ''}` };
  if (observed.roleArn !== desired.roleArn && !mine && !options.override) {
    change.warnings = [`associated with ${observed.roleArn}; re-pointing it needs ${options.overrideField}`];
    return {
      change,
      blocker: {
        code: 'association-bound-elsewhere',
        resource,
        message: `${desired.namespace}/${desired.serviceAccount} already has a Pod Identity association (${observed.associationId}) with ${observed.roleArn}, which irsa did not create`,
        fix: `pass ${options.overrideField} to point it at ${desired.roleArn}, or bind a different ServiceAccount`,
        field: options.overrideField,
      },
      notes: [],
    };
  }
  const notes = mine ? [] : [`adopting the association ${observed.associationId} (irsa did not create it, so irsa will not delete it)`];
  return { change, blocker: null, notes };
}

/**
 * Unbinding: delete an association irsa created; leave others (made by someone else, or owned by
 * an add-on) with a note. Null when there is none.
 */
export function planAssociationRemoval(observed: PodIdentityAssociationState | null, dependsOn: string[] = []): AssociationPlan {
  if (!observed) return { change: null, blocker: null, notes: [] };
  const id = associationId(observed);
  const before = associationValue(observed);
  if (observed.ownerArn) {
    return { change: null, blocker: null, notes: [`the Pod Identity association of ${observed.namespace}/${observed.serviceAccount} belongs to the add-on ${observed.ownerArn}; left alone`] };
  }
  if (!associationMadeByIrsa(observed)) {
    return {
      change: { kind: 'pod-identity-association', id, cluster: observed.cluster, dependsOn, action: 'no-op', before, after: before },
      blocker: null,
      notes: [`the Pod Identity association ${observed.associationId} of ${observed.namespace}/${observed.serviceAccount} was not made by irsa; left alone (delete it with \`aws eks delete-pod-identity-association\` if it should go)`],
    };
  }
  return { change: { kind: 'pod-identity-association', id, cluster: observed.cluster, dependsOn, action: 'delete', before, after: null, reason: 'irsa created this association' }, blocker: null, notes: [] };
}

/**
 * A binding moved to another namespace or ServiceAccount: EKS cannot update either, so the old
 * association goes (if irsa made it) and the new one is created. The delete comes first in the
 * list so that the plan shows the move as "- old, + new".
 */
export function planAssociationMove(
  old: PodIdentityAssociationState | null,
  desired: DesiredAssociation,
  observedNew: PodIdentityAssociationState | null,
  options: PlanAssociationOptions,
): AssociationPlan[] {
  return [planAssociationRemoval(old, options.dependsOn), planAssociation(desired, observedNew, options)];
}

/** The arguments of UpdatePodIdentityAssociation for a planned update: every field, never an empty roleArn. */
export function updateArguments(change: { before: PodIdentityAssociationValue; after: PodIdentityAssociationValue }): {
  roleArn: string;
  targetRoleArn?: string;
  disableSessionTags: boolean;
  policy?: string;
} {
  const { before, after } = change;
  if (!after.roleArn) throw new Error('refusing to send an empty roleArn');
  const args: { roleArn: string; targetRoleArn?: string; disableSessionTags: boolean; policy?: string } = {
    roleArn: after.roleArn,
    disableSessionTags: after.disableSessionTags,
  };
  if (after.targetRoleArn !== null) args.targetRoleArn = after.targetRoleArn;
  else if (before.targetRoleArn !== null) args.targetRoleArn = '';
  if (after.policy !== null) args.policy = after.policy;
  else if (before.policy !== null) args.policy = '';
  return args;
}

/** Absent from a fresh plan: the binding is no longer asked for, or changed since: the saved plan is stale. */
export const podIdentityAssociationKind: KindSpec<'pod-identity-association'> = {
  kind: 'pod-identity-association',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};

// ---- re-checks: apply reads the association again just before writing (core/recheck.ts) ----

type Create = Extract<AssociationChange, { action: 'create' }>;
type Update = Extract<AssociationChange, { action: 'update' }>;
type Delete = Extract<AssociationChange, { action: 'delete' }>;

const desiredOf = (value: PodIdentityAssociationValue): DesiredAssociation => ({
  cluster: value.cluster,
  namespace: value.namespace,
  serviceAccount: value.serviceAccount,
  roleArn: value.roleArn,
  targetRoleArn: value.targetRoleArn,
  disableSessionTags: value.disableSessionTags,
  policy: value.policy,
});

/**
 * A create that met "already exists" (EKS: ResourceInUseException), or an update, against what is
 * there now: planned again with the planner's rules (no override: the user approved a different
 * state), so an association someone else made in between is never re-pointed silently.
 */
function replan(change: Create | Update, fresh: PodIdentityAssociationState, what: string): Recheck<Update> {
  const again = planAssociation(desiredOf(change.after), fresh, { override: false, overrideField: '--override-existing-serviceaccounts', dependsOn: change.dependsOn });
  if (again.blocker || !again.change) return { verdict: 'stale', reason: `${what}: ${again.blocker?.message ?? 'it is owned by an add-on now'}` };
  if (again.change.action === 'no-op') return { verdict: 'done', note: `${what}, and it is already as planned` };
  if (again.change.action !== 'update') return { verdict: 'stale', reason: `${what} and cannot be re-planned` };
  return { verdict: 'rederived', change: again.change, note: `${what}; updated it to the planned value instead` };
}

export function recheckAssociationCreate(change: Create, fresh: PodIdentityAssociationState | null): Recheck<Update> | { verdict: 'create' } {
  if (!fresh) return { verdict: 'create' };
  return replan(change, fresh, `the ServiceAccount got an association (${fresh.associationId}) since the plan`);
}

export function recheckAssociationUpdate(change: Update, fresh: PodIdentityAssociationState | null): Recheck<Update> {
  if (!fresh) return { verdict: 'stale', reason: `the association of ${change.id} was deleted since the plan` };
  const current = associationValue(fresh);
  if (associationDifferences(current, change.after).length === 0) return { verdict: 'done', note: `the association of ${change.id} is already as planned` };
  if (fresh.associationId === change.before.associationId && associationDifferences(current, change.before).length === 0) return { verdict: 'write', change };
  return replan(change, fresh, `the association of ${change.id} changed since the plan`);
}

export function recheckAssociationDelete(change: Delete, fresh: PodIdentityAssociationState | null): Recheck<Delete> {
  if (!fresh) return { verdict: 'done', note: `the association of ${change.id} is already gone` };
  if (fresh.ownerArn || !associationMadeByIrsa(fresh)) return { verdict: 'stale', reason: `the association of ${change.id} is no longer irsa's (${fresh.associationId})` };
  if (fresh.associationId !== change.before.associationId) {
    return { verdict: 'rederived', change: { ...change, before: associationValue(fresh) }, note: `the association of ${change.id} was re-created by irsa since the plan; deleting ${fresh.associationId}` };
  }
  return { verdict: 'write', change };
}
