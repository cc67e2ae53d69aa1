// The `role-policy-attachment` kind: a managed policy attached to a role (planned with its role,
// core/resources/iam-role.ts). Membership in a set: attach and detach are idempotent, so there is
// no re-check.

import type { KindSpec } from './kind.ts';

export const rolePolicyAttachmentKind: KindSpec<'role-policy-attachment'> = {
  kind: 'role-policy-attachment',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
