// Desired ServiceAccount metadata for IRSA and its diff. Only the annotations irsa manages are
// compared and patched; everything else on the ServiceAccount stays as it is.

import type { KindSpec } from './kind.ts';
import { changeIds, clusterKey, type ClusterRef } from '../model/refs.ts';
import type { ChangeOf } from '../plan.ts';
import type { ServiceAccountState } from '../state.ts';
import { SA_CREATED_BY_LABEL, SA_CREATED_BY_VALUE } from '../ownership.ts';
import type { ServiceAccountValue } from './types.ts';

export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
export const STS_REGIONAL_ANNOTATION = 'eks.amazonaws.com/sts-regional-endpoints';
export const TOKEN_EXPIRATION_ANNOTATION = 'eks.amazonaws.com/token-expiration';
export const IRSA_ANNOTATIONS = [ROLE_ARN_ANNOTATION, AUDIENCE_ANNOTATION, STS_REGIONAL_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION];

export interface DesiredServiceAccount {
  cluster: ClusterRef;
  namespace: string;
  name: string;
  /** The irsa-managed annotations to ensure (role-arn plus any optional webhook settings). */
  annotations: Record<string, string>;
}

export interface ServiceAccountPlan {
  change: ChangeOf<'service-account'>;
  /** The role ARN the ServiceAccount is bound to now, when it is another one. */
  conflictingRoleArn: string | null;
}

const pick = (source: Record<string, string>, keys: string[]) =>
  Object.fromEntries(keys.filter((key) => key in source).map((key) => [key, source[key]!]));

export function planServiceAccount(desired: DesiredServiceAccount, observed: ServiceAccountState | null, dependsOn: string[]): ServiceAccountPlan {
  const id = changeIds.serviceAccount(desired);
  const base = { kind: 'service-account' as const, id, cluster: clusterKey(desired.cluster), dependsOn };
  if (!observed) {
    const after: ServiceAccountValue = {
      namespace: desired.namespace,
      name: desired.name,
      annotations: desired.annotations,
      labels: { [SA_CREATED_BY_LABEL]: SA_CREATED_BY_VALUE },
    };
    return { change: { ...base, action: 'create', before: null, after, reason: 'the ServiceAccount does not exist' }, conflictingRoleArn: null };
  }
  const managedKeys = Object.keys(desired.annotations);
  const before: ServiceAccountValue = { namespace: desired.namespace, name: desired.name, annotations: pick(observed.annotations, managedKeys), labels: {} };
  const after: ServiceAccountValue = { ...before, annotations: { ...before.annotations, ...desired.annotations } };
  const current = observed.annotations[ROLE_ARN_ANNOTATION];
  const wanted = desired.annotations[ROLE_ARN_ANNOTATION];
  const conflictingRoleArn = current && wanted && current !== wanted ? current : null;
  if (JSON.stringify(before.annotations) === JSON.stringify(after.annotations)) {
    return { change: { ...base, action: 'no-op', before, after: before }, conflictingRoleArn: null };
  }
  const change: ChangeOf<'service-account'> = {
    ...base,
    action: 'update',
    before,
    after,
    reason: conflictingRoleArn ? 'the ServiceAccount is bound to another role' : 'annotations differ',
  };
  if (conflictingRoleArn) change.warnings = [`already bound to ${conflictingRoleArn}; re-annotating needs --override-existing-serviceaccounts`];
  return { change, conflictingRoleArn };
}

/** Unbinding: delete a ServiceAccount irsa created, otherwise remove the IRSA annotations only. */
export function planServiceAccountRemoval(cluster: ClusterRef, observed: ServiceAccountState | null, dependsOn: string[] = []): ChangeOf<'service-account'> | null {
  if (!observed) return null;
  const id = changeIds.serviceAccount({ cluster, namespace: observed.namespace, name: observed.name });
  const where = { id, cluster: clusterKey(cluster) };
  const createdByIrsa = observed.labels[SA_CREATED_BY_LABEL] === SA_CREATED_BY_VALUE;
  const present = pick(observed.annotations, IRSA_ANNOTATIONS);
  const before: ServiceAccountValue = { namespace: observed.namespace, name: observed.name, annotations: present, labels: {} };
  if (createdByIrsa) {
    return { kind: 'service-account', ...where, action: 'delete', before, after: null, dependsOn, reason: 'irsa created this ServiceAccount' };
  }
  if (Object.keys(present).length === 0) return { kind: 'service-account', ...where, action: 'no-op', before, after: before, dependsOn };
  return {
    kind: 'service-account',
    ...where,
    action: 'update',
    before,
    after: { ...before, annotations: {} },
    dependsOn,
    reason: 'remove the IRSA annotations (irsa did not create this ServiceAccount)',
  };
}

/** The `service-account` kind (re-checked by recheckServiceAccount / recheckServiceAccountCreate, core/recheck.ts). */
export const serviceAccountKind: KindSpec<'service-account'> = {
  kind: 'service-account',
  api: 'kubernetes',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
