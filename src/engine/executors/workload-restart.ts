import type { Executor } from './types.ts';

/** An action, not a state: the restart annotation `kubectl rollout restart` sets, stamped now. */
export const executeWorkloadRestart: Executor<'workload-restart'> = async (change, { deps, need }) => {
  const now = deps.now?.() ?? new Date();
  await need(deps.kube, 'Kubernetes').restartWorkload(change.after, now.toISOString());
};
