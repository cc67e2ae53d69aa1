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

import type { Tags } from '../state.ts';
import { CLUSTER_TAG, NAMESPACE_TAG, OWNER_TAG, OWNER_VALUE, SERVICE_ACCOUNT_TAG } from '../ownership.ts';

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

export type AssociationTransition =
  | { action: 'create'; before: null; after: PodIdentityAssociationValue }
  | { action: 'update'; before: PodIdentityAssociationValue; after: PodIdentityAssociationValue }
  | { action: 'no-op'; before: PodIdentityAssociationValue; after: PodIdentityAssociationValue }
  | { action: 'delete'; before: PodIdentityAssociationValue; after: null };

export type AssociationChange = AssociationTransition & {
  kind: 'pod-identity-association';
  id: string;
  dependsOn: string[];
  reason?: string;
  warnings?: string[];
};

export type AssociationBlockerCode = 'association-bound-elsewhere' | 'association-owned-by-addon';

export interface AssociationBlocker {
  code: AssociationBlockerCode;
  resource: string;
  message: string;
  fix: string;
  field: string;
}

export interface AssociationPlan {
  /** Null when the association is left alone (owned by an add-on). */
  change: AssociationChange | null;
  blocker: AssociationBlocker | null;
  notes: string[];
}

export const associationId = (ref: { cluster: string; namespace: string; serviceAccount: string }): string =>
  `${ref.cluster}/${ref.namespace}/${ref.serviceAccount}`;

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
  const base = { kind: 'pod-identity-association' as const, id, dependsOn: options.dependsOn };
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
      change: { kind: 'pod-identity-association', id, dependsOn, action: 'no-op', before, after: before },
      blocker: null,
      notes: [`the Pod Identity association ${observed.associationId} of ${observed.namespace}/${observed.serviceAccount} was not made by irsa; left alone (delete it with \`aws eks delete-pod-identity-association\` if it should go)`],
    };
  }
  return { change: { kind: 'pod-identity-association', id, dependsOn, action: 'delete', before, after: null, reason: 'irsa created this association' }, blocker: null, notes: [] };
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
