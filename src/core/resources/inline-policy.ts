// The `inline-policy` kind: a role's inline policy (planned with its role, core/resources/iam-role.ts;
// re-checked by recheckInlinePolicy in core/recheck.ts).

import type { KindSpec } from './kind.ts';

export const inlinePolicyKind: KindSpec<'inline-policy'> = {
  kind: 'inline-policy',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
