// Tags that record what irsa made, so it changes and deletes only its own resources.

import type { Tags } from './state.ts';

export const OWNER_TAG = 'irsa:managed-by';
export const OWNER_VALUE = 'irsa';
export const CLUSTER_TAG = 'irsa:cluster';
export const NAMESPACE_TAG = 'irsa:namespace';
export const SERVICE_ACCOUNT_TAG = 'irsa:service-account';
/** Label irsa puts on ServiceAccounts it created (so delete-sa-role removes them, not user SAs). */
export const SA_CREATED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const SA_CREATED_BY_VALUE = 'irsa';

export const isOwnedByIrsa = (tags: Tags): boolean => tags[OWNER_TAG] === OWNER_VALUE;

export function roleOwnershipTags(cluster: string, namespace: string, name: string): Tags {
  return { [OWNER_TAG]: OWNER_VALUE, [CLUSTER_TAG]: cluster, [NAMESPACE_TAG]: namespace, [SERVICE_ACCOUNT_TAG]: name };
}

export function providerOwnershipTags(cluster: string | null): Tags {
  return cluster ? { [OWNER_TAG]: OWNER_VALUE, [CLUSTER_TAG]: cluster } : { [OWNER_TAG]: OWNER_VALUE };
}
