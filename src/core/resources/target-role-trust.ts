// The `target-role-trust` kind: the trust statement a cross-account EKS Pod Identity target role
// needs — it admits the association's role (ArnEquals aws:PrincipalARN, sts:AssumeRole +
// sts:TagSession: core/pods-eks-trust.ts targetRoleStatement) — planned in the target role's own
// account and written there with that account's profile. Only irsa's own statement for that
// source role is added or replaced; every other statement stays as written. irsa never creates
// or deletes the target role itself (it belongs to the other account's owners).
//
// The external id: the Amazon EKS API Reference (PodIdentityAssociation.externalId) says EKS
// issues one for an association with a target role, to put in the target role's trust as an
// sts:ExternalId condition; EKS passes it on the chained AssumeRole when session tags are disabled
// (issue 22's facts; Amazon EKS User Guide, pod-id-assign-target-role). irsa adds the condition
// only then: a condition on a key EKS might not send would lock the pods out. The id exists once
// the association does, so a plan that creates the association carries `externalIdPending` and
// apply reads the id from the association just before it writes the trust.

import type { ChangeOf } from '../plan.ts';
import type { PolicyDocument } from '../trust-policy.ts';
import { addTargetTrust } from '../pods-eks-trust.ts';
import type { KindSpec } from './kind.ts';

export interface TargetRoleTrustValue {
  /** The target role (ARN; its account is the change's account). */
  roleArn: string;
  /** The association's role the statement admits. */
  sourceRoleArn: string;
  /** The association the external id comes from. */
  association: { cluster: string; namespace: string; serviceAccount: string };
  /** The sts:ExternalId the statement requires (session tags off), or null. */
  externalId: string | null;
  /** True when the external id is needed but the association does not exist yet: apply reads it. */
  externalIdPending: boolean;
  trustPolicy: PolicyDocument;
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** A cross-account target role's trust (its irsa statement for one association role); id = the target role's ARN. */
    'target-role-trust': TargetRoleTrustValue;
  }
}

export type TargetRoleTrustChange = ChangeOf<'target-role-trust'>;

/** Absent from a fresh plan: the trust is in place now (a fresh plan would show the update otherwise). */
export const targetRoleTrustKind: KindSpec<'target-role-trust'> = {
  kind: 'target-role-trust',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'done' }),
};

/**
 * The change for one target role, given its current trust. `externalId` is the association's when
 * it exists; `needsExternalId` says whether the statement must carry one (session tags off).
 */
export function planTargetRoleTrust(input: {
  roleArn: string;
  account: string;
  sourceRoleArn: string;
  association: TargetRoleTrustValue['association'];
  current: PolicyDocument;
  needsExternalId: boolean;
  externalId: string | null;
  dependsOn: string[];
}): TargetRoleTrustChange {
  const externalId = input.needsExternalId ? input.externalId : null;
  const externalIdPending = input.needsExternalId && input.externalId === null;
  const merged = addTargetTrust(input.current, { sourceRoleArn: input.sourceRoleArn, externalId });
  const base = { kind: 'target-role-trust' as const, id: input.roleArn, account: input.account, dependsOn: input.dependsOn };
  const value = (trustPolicy: PolicyDocument, pending: boolean): TargetRoleTrustValue => ({
    roleArn: input.roleArn,
    sourceRoleArn: input.sourceRoleArn,
    association: input.association,
    externalId,
    externalIdPending: pending,
    trustPolicy,
  });
  const before = value(input.current, false);
  if (!merged.changed && !externalIdPending) return { ...base, action: 'no-op', before, after: before };
  return {
    ...base,
    action: 'update',
    before,
    after: value(merged.document, externalIdPending),
    reason: externalIdPending
      ? 'the target role must trust the association\'s role (sts:ExternalId: known once the association exists, read at apply)'
      : 'the target role must trust the association\'s role',
  };
}
