// What a resource kind says about itself, in its own module (core/resources/<kind>.ts), so that a
// new kind is added without editing the planner, the saved-plan check or a central switch:
//
// - its value type: by augmenting `ChangeValues` (core/plan.ts) from its module;
// - its re-check: pure `(change, fresh) => Recheck` functions (core/recheck.ts's shape) that its
//   executor (engine/executors/<kind>.ts) calls on a fresh read before it writes;
// - its done-check: this spec, which core/saved-plan.ts asks when a saved change no longer appears
//   in a fresh plan;
// - one line in core/resources/registry.ts and one in engine/executors/index.ts.

import type { ChangeOf, ResourceKind } from '../plan.ts';

/**
 * What a pending change of a saved plan means when a fresh plan (same input) no longer contains
 * it. A delete that vanished is always done (core/saved-plan.ts decides that before asking).
 * - done: what it would have made true already is (e.g. a namespace that now exists);
 * - unverifiable: treated as done, but irsa cannot read whether it happened (said to the user);
 * - drift: something else changed since the plan was made; the saved plan is stale.
 */
export type AbsentVerdict = { verdict: 'done' } | { verdict: 'unverifiable'; note: string } | { verdict: 'drift' };

export interface KindSpec<K extends ResourceKind> {
  kind: K;
  /** Which API its executor writes to: apply bounds AWS and Kubernetes writes apart (engine/apply.ts). */
  api: 'aws' | 'kubernetes';
  absentFromFreshPlan(change: ChangeOf<K>): AbsentVerdict;
}

/** Every kind's spec, keyed by kind: a kind without a spec does not compile. */
export type KindRegistry = { [K in ResourceKind]: KindSpec<K> };
