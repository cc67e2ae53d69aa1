// Walks a plan: dependency order, independent changes concurrently up to a bound, stop starting
// new changes after the first failure, and report what was and was not applied.

import { changeKey, type Change, type Plan } from '../core/plan.ts';
import { InternalError } from '../core/errors.ts';

export type { ApplyReport, ChangeResult, ChangeStatus } from '../core/model/apply.ts';
import type { ApplyReport, ChangeResult, ChangeStatus } from '../core/model/apply.ts';

export type ExecuteChange = (change: Change) => Promise<{ notes: string[] } | void>;

/** An error whose name marks a change as stale rather than failed (engine/execute.ts StaleChangeError). */
const isStale = (error: unknown) => error instanceof Error && error.name === 'StaleChangeError';

export interface ApplyOptions {
  /** Changes in flight at once; a function is asked again each time a slot frees (engine/adaptive-limit.ts). */
  concurrency?: number | (() => number);
  /**
   * Changes of different pools are bounded apart (each up to `concurrency`): a Kubernetes write
   * does not wait for a slot held by an IAM call, nor the reverse. Default: one pool.
   */
  poolOf?: (change: Change) => string;
  /**
   * A change for which `waits` holds starts only once every change for which `gates` holds has
   * been applied — except those that depend on it (directly or not), which could never go first.
   */
  gate?: { waits: (change: Change) => boolean; gates: (change: Change) => boolean };
  onStart?: (change: Change) => void;
  onFinish?: (result: ChangeResult) => void;
}

/** Topological order check: every dependency inside the plan must exist and there are no cycles. */
export function assertAcyclic(plan: Plan): void {
  const byKey = new Map(plan.changes.map((change) => [changeKey(change), change]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string, path: string[]) => {
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') throw new InternalError(`dependency cycle in plan: ${[...path, key].join(' → ')}`);
    state.set(key, 'visiting');
    for (const dep of byKey.get(key)?.dependsOn ?? []) if (byKey.has(dep)) visit(dep, [...path, key]);
    state.set(key, 'done');
  };
  for (const key of byKey.keys()) visit(key, []);
}

export async function applyPlan(plan: Plan, execute: ExecuteChange, options: ApplyOptions = {}): Promise<ApplyReport> {
  assertAcyclic(plan);
  const limit = options.concurrency;
  const concurrency = () => Math.max(1, (typeof limit === 'function' ? limit() : limit) ?? 8);
  const results = new Map<string, ChangeResult>();
  const pending = new Map(plan.changes.map((change) => [changeKey(change), change]));
  const inPlan = new Set(pending.keys());
  const poolOf = options.poolOf ?? (() => 'all');
  const running = new Map<string, number>();
  let inFlight = 0;
  let stopped = false;

  // No-ops are done before anything starts; they never call an API.
  for (const [key, change] of pending) {
    if (change.action === 'no-op') {
      results.set(key, { key, change, status: 'no-op' });
      pending.delete(key);
    }
  }

  const done = (key: string) => ['applied', 'no-op'].includes(results.get(key)?.status ?? '');
  const gateKeys = options.gate ? plan.changes.filter((change) => change.action !== 'no-op' && options.gate!.gates(change)).map(changeKey) : [];
  // For each waiting change, the gate changes it waits for: all but its own (transitive) dependents.
  const waitsFor = new Map<string, string[]>();
  if (options.gate && gateKeys.length > 0) {
    const dependents = new Map<string, string[]>();
    for (const change of plan.changes) for (const dep of change.dependsOn) dependents.set(dep, [...(dependents.get(dep) ?? []), changeKey(change)]);
    for (const change of plan.changes) {
      if (change.action === 'no-op' || !options.gate.waits(change)) continue;
      const key = changeKey(change);
      const below = new Set<string>();
      const stack = [key];
      while (stack.length > 0) for (const next of dependents.get(stack.pop()!) ?? []) if (!below.has(next)) (below.add(next), stack.push(next));
      waitsFor.set(key, gateKeys.filter((gate) => gate !== key && !below.has(gate)));
    }
  }
  const isReady = (change: Change) =>
    change.dependsOn.every((dep) => !inPlan.has(dep) || done(dep)) && (waitsFor.get(changeKey(change)) ?? []).every(done);

  await new Promise<void>((resolve) => {
    const pump = () => {
      if (!stopped) {
        for (const [key, change] of pending) {
          const pool = poolOf(change);
          if ((running.get(pool) ?? 0) >= concurrency()) continue;
          if (!isReady(change)) continue;
          pending.delete(key);
          running.set(pool, (running.get(pool) ?? 0) + 1);
          inFlight++;
          options.onStart?.(change);
          const started = performance.now();
          execute(change).then(
            (outcome) => {
              const notes = outcome?.notes ?? [];
              finish({ key, change, status: 'applied', durationMs: performance.now() - started, ...(notes.length > 0 ? { notes } : {}) });
            },
            (error: unknown) => {
              stopped = true;
              finish({ key, change, status: isStale(error) ? 'stale' : 'failed', error, durationMs: performance.now() - started });
            },
          );
        }
      }
      if (inFlight === 0) resolve();
    };
    const finish = (result: ChangeResult) => {
      const pool = poolOf(result.change);
      running.set(pool, (running.get(pool) ?? 1) - 1);
      inFlight--;
      results.set(result.key, result);
      options.onFinish?.(result);
      pump();
    };
    pump();
  });

  for (const [key, change] of pending) results.set(key, { key, change, status: 'not-started' });
  const ordered = plan.changes.map((change) => results.get(changeKey(change))!);
  const count = (status: ChangeStatus) => ordered.filter((result) => result.status === status).length;
  return {
    results: ordered,
    ok: count('failed') === 0 && count('stale') === 0 && count('not-started') === 0,
    applied: count('applied'),
    failed: count('failed'),
    stale: count('stale'),
    notStarted: count('not-started'),
  };
}
