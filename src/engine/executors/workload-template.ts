import type { Executor } from './types.ts';

/**
 * The gateway re-reads the workload and applies exactly before → after, refusing when the fresh
 * template no longer matches `before` (its own re-check).
 */
export const executeWorkloadTemplate: Executor<'workload-template'> = async (change, { deps, need }) => {
  if (change.action !== 'update') return;
  await need(deps.workloads, 'Kubernetes workload').updatePodTemplate(change.before.workload, change.before, change.after);
};
