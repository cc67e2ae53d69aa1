import type { MigrationWorkloadKind } from '../../core/migration.ts';
import type { Executor } from './types.ts';

/**
 * id: Kind/namespace/name. The gateway re-reads the workload and applies exactly before → after,
 * refusing when the fresh template no longer matches `before` (its own re-check).
 */
export const executeWorkloadTemplate: Executor<'workload-template'> = async (change, { deps, need }) => {
  if (change.action !== 'update') return;
  const [kind, namespace, name] = change.id.split('/') as [MigrationWorkloadKind, string, string];
  await need(deps.workloads, 'Kubernetes workload').updatePodTemplate({ kind, namespace, name }, change.before, change.after);
};
