// Desired state and diff for the IAM OIDC identity provider of a cluster's issuer.

import type { KindSpec } from './kind.ts';
import type { ChangeOf } from '../plan.ts';
import type { OidcProviderState, Tags } from '../state.ts';
import type { OidcProviderValue } from './types.ts';

export interface DesiredOidcProvider {
  arn: string;
  /** host[:port][/path], as IAM stores it. */
  url: string;
  clientIds: string[];
  /** Null: let IAM compute/keep thumbprints (--no-thumbprint); existing ones are left alone. */
  thumbprints: string[] | null;
  tags: Tags;
  account: string;
}


const sortedUnique = (values: string[]) => [...new Set(values)].sort();
const sameSet = (a: string[], b: string[]) => JSON.stringify(sortedUnique(a)) === JSON.stringify(sortedUnique(b));

/** Exact thumbprints (when given) and a superset of client IDs: other audiences on the provider stay. */
export function planOidcProvider(desired: DesiredOidcProvider, observed: OidcProviderState | null): ChangeOf<'oidc-provider'> {
  const base = { kind: 'oidc-provider' as const, id: desired.arn, dependsOn: [], account: desired.account };
  if (!observed) {
    const after: OidcProviderValue = {
      url: desired.url,
      clientIds: sortedUnique(desired.clientIds),
      thumbprints: desired.thumbprints ?? [],
      tags: desired.tags,
    };
    return { ...base, action: 'create', before: null, after, reason: 'no IAM OIDC provider exists for this issuer' };
  }
  const before: OidcProviderValue = {
    url: observed.url,
    clientIds: sortedUnique(observed.clientIds),
    thumbprints: sortedUnique(observed.thumbprints),
    tags: observed.tags,
  };
  const after: OidcProviderValue = {
    ...before,
    clientIds: sortedUnique([...observed.clientIds, ...desired.clientIds]),
    thumbprints: desired.thumbprints === null ? before.thumbprints : sortedUnique(desired.thumbprints),
  };
  const reasons: string[] = [];
  if (!sameSet(before.clientIds, after.clientIds)) reasons.push(`audience ${desired.clientIds.filter((id) => !observed.clientIds.includes(id)).join(', ')} is not a client ID`);
  if (!sameSet(before.thumbprints, after.thumbprints)) reasons.push("thumbprints differ from the issuer's current certificate chain");
  if (reasons.length === 0) return { ...base, action: 'no-op', before, after: before };
  return { ...base, action: 'update', before, after, reason: reasons.join('; ') };
}

/** The `oidc-provider` kind (re-checked by recheckOidcProvider, core/recheck.ts). */
export const oidcProviderKind: KindSpec<'oidc-provider'> = {
  kind: 'oidc-provider',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
