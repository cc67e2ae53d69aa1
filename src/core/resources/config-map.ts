// The `config-map` kind: a ConfigMap that held static AWS keys, deleted by a migration with
// deleteKeySecrets once no workload uses it (core/migration.ts plans it, as it plans `secret`), or,
// while workloads still read its other keys, updated: only the AWS keys removed.

import type { KindSpec } from './kind.ts';

/** A ConfigMap as a plan shows it: where it is and the names of its keys, never the values. */
export interface ConfigMapValue {
  namespace: string;
  name: string;
  keys: string[];
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** A ConfigMap that held static AWS keys (key names only), deleted once no workload uses it. */
    'config-map': ConfigMapValue;
  }
}

/** id: `<cluster>/<namespace>/<name>`. A delete of one already gone is what was asked for. */
export const configMapKind: KindSpec<'config-map'> = {
  kind: 'config-map',
  api: 'kubernetes',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
