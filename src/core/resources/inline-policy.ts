// The `inline-policy` kind: a role's inline policy (planned with its role, core/resources/iam-role.ts;
// re-checked by recheckInlinePolicy in core/recheck.ts).

import type { KindSpec } from './kind.ts';

/** The name of the inline policy --inline-policy puts on the role unless --inline-policy-name says otherwise. */
export const DEFAULT_INLINE_POLICY_NAME = 'irsa-inline';

export const inlinePolicyKind: KindSpec<'inline-policy'> = {
  kind: 'inline-policy',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
