// Workloads whose pods keep their old identity until recreated: the pod identity webhook only
// mutates pods when they are created. Restart them (what `kubectl rollout restart` does) only
// when asked, and only when the ServiceAccount's annotation actually changes.

import { changeKey, type Change, type ChangeOf } from '../plan.ts';
import type { WorkloadRef } from '../state.ts';
import type { WorkloadRestartValue } from './types.ts';

export function planWorkloadRestarts(
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
      id: `${workload.namespace}/${workload.kind.toLowerCase()}/${workload.name}`,
      action: 'update',
      before: null,
      after: value,
      dependsOn: [changeKey(serviceAccountChange)],
      reason: 'the pod identity webhook only changes pods when they are created',
    };
  });
  return { changes, needingRestart: [] };
}
