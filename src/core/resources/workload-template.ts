// The `workload-template` kind: a workload's pod template with static keys or the kube2iam
// annotation removed (planned by core/migration.ts; the workload gateway re-reads the workload and
// refuses on drift, core/migration.ts applyTemplateChange).

import type { MigrationWorkloadKind, TemplateView } from '../migration.ts';
import type { KindSpec } from './kind.ts';

/** A workload's pod template as irsa sees it (core/migration.ts TemplateView), and which workload it is. */
export interface WorkloadTemplateValue extends TemplateView {
  workload: { kind: MigrationWorkloadKind; namespace: string; name: string };
}

declare module '../plan.ts' {
  interface ChangeValues {
    'workload-template': WorkloadTemplateValue;
  }
}

/** id: `<cluster>/<Kind>/<namespace>/<name>`. */
export const workloadTemplateKind: KindSpec<'workload-template'> = {
  kind: 'workload-template',
  api: 'kubernetes',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
