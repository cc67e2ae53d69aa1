// The advice printed for workloads whose pods keep their old identity until recreated.

import type { WorkloadRef } from '../core/state.ts';

export const rolloutRestartCommand = (w: WorkloadRef): string => `kubectl rollout restart ${w.kind.toLowerCase()}/${w.name} -n ${w.namespace}`;

export function restartAdvice(workloads: WorkloadRef[], intro: string, hint: string): string[] {
  if (workloads.length === 0) return [];
  return ['', intro, ...workloads.map((w) => `  ${rolloutRestartCommand(w)}`), hint];
}
