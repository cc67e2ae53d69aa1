// Workloads whose pods keep their old identity until recreated: the pod identity webhook only
// mutates pods when they are created. Restart them (what `kubectl rollout restart` does) only
// when asked, and only when the ServiceAccount's annotation actually changes.

import type { KindSpec } from './kind.ts';
import { changeIds, clusterKey, type ClusterRef } from '../model/refs.ts';
import { changeKey, type Change, type ChangeOf } from '../plan.ts';
import type { WorkloadRef } from '../state.ts';
import type { WorkloadRestartValue } from './types.ts';

export function planWorkloadRestarts(
  cluster: ClusterRef,
  serviceAccountChange: Change,
  serviceAccount: string,
  workloads: WorkloadRef[],
  restart: boolean,
): { changes: ChangeOf<'workload-restart'>[]; needingRestart: WorkloadRef[] } {
  if (serviceAccountChange.action !== 'create' && serviceAccountChange.action !== 'update') return { changes: [], needingRestart: [] };
  if (!restart) return { changes: [], needingRestart: workloads };
  const changes = workloads.map((workload): ChangeOf<'workload-restart'> => {
    const value: WorkloadRestartValue = { ...workload, serviceAccount };
    return {
      kind: 'workload-restart',
      id: changeIds.workloadRestart({ cluster, ...workload }),
      cluster: clusterKey(cluster),
      action: 'update',
      before: null,
      after: value,
      dependsOn: [changeKey(serviceAccountChange)],
      reason: 'the pod identity webhook only changes pods when they are created',
    };
  });
  return { changes, needingRestart: [] };
}

/** The `workload-restart` kind: an action on a workload, not a state, so nothing re-checks it. */
export const workloadRestartKind: KindSpec<'workload-restart'> = {
  kind: 'workload-restart',
  api: 'kubernetes',
  // Absent from a fresh plan: its ServiceAccount is already as planned, so the restart is not
  // planned again; whether the rollout ran cannot be read.
  absentFromFreshPlan: (change) => ({
    verdict: 'unverifiable',
    note: `workload-restart ${change.id}: its ServiceAccount is already annotated; irsa cannot tell whether the restart ran (kubectl rollout restart it if its pods lack AWS_ROLE_ARN)`,
  }),
};
