// The `namespace` kind: only ever created (create-sa-role --create-namespace, irsa.yaml
// createNamespace); core/binding.ts plans it. One that exists is what was asked for.

import type { KindSpec } from './kind.ts';

export const namespaceKind: KindSpec<'namespace'> = {
  kind: 'namespace',
  api: 'kubernetes',
  // Absent from a fresh plan: the namespace now exists, which is all the create was for.
  absentFromFreshPlan: () => ({ verdict: 'done' }),
};
