// The `secret` kind: a Secret that held static AWS keys, deleted by a migration once no workload
// uses it (core/migration.ts plans it). Declared here, in its own module, like every kind that
// is not part of the original IRSA set: value type, and what a saved plan may assume when the
// change is absent from a fresh plan.

import type { KindSpec } from './kind.ts';

/** A Secret as a plan shows it: where it is and the names of its keys, never the values. */
export interface SecretValue {
  namespace: string;
  name: string;
  keys: string[];
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** A Secret that held static AWS keys (key names only), deleted once no workload uses it. */
    secret: SecretValue;
  }
}

/** id: `<cluster>/<namespace>/<name>`. Only deleted; one already gone is what was asked for. */
export const secretKind: KindSpec<'secret'> = {
  kind: 'secret',
  api: 'kubernetes',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
