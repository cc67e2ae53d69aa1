// The shared tail of every mutating command: show the plan, stop unless --approve, apply,
// report per change, and choose the exit code (eksctl's --approve, terraform's -detailed-exitcode).

import { hasChanges, type Change, type Plan } from '../core/plan.ts';
import { apiOf } from '../core/resources/registry.ts';
import { createAdaptiveLimit } from '../engine/adaptive-limit.ts';
import { applyPlan } from '../engine/apply.ts';
import { createExecutor, type ExecutorDeps } from '../engine/execute.ts';
import { createTrustLocker, type TrustLocker } from '../engine/trust-lock.ts';
import { verifyTrustIntents } from '../engine/trust-verify.ts';
import { prepareTrustBatch, type TrustBatch } from '../engine/trust-batch.ts';
import type { LeaseGateway } from '../ports.ts';
import type { RoleState } from '../core/state.ts';
import { formatReport, formatResult, formatStart, reportToJson } from '../ui/apply-report.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { blockerText, planToJson, renderPlanText } from '../ui/render.ts';
import { applyCommandLine, type GlobalOptions } from './globals.ts';

export interface RunPlanOptions {
  globals: GlobalOptions;
  /** Where and how to print (made once in cli.ts); built from `globals` when absent. */
  output?: Output;
  approve: boolean;
  detailedExitcode: boolean;
  executor: ExecutorDeps;
  /**
   * False: Kubernetes writes start as soon as their own dependencies are applied, not after every
   * role of the plan (CLUSTER_AFTER_ROLES) — for plans whose Kubernetes writes only take access
   * away after its trust is gone (a migration's last step), where the wait protects nothing.
   */
  clusterAfterRoles?: boolean;
  /**
   * False: the caller checks the trust changes itself right after (irsa migrate checks step 1's in
   * step 5's read under its locks); default true: every trust change is read back after apply.
   */
  verifyTrust?: boolean;
  /** Told the account's roles when the after-apply check read them in bulk (to decide more from the same read). */
  onTrustRead?: (roles: RoleState[]) => void;
  /** Locks the caller took before its reads (engine/trust-batch.ts lockTrustBatch); finished here. Needs `leases`. */
  trustBatch?: TrustBatch;
  /** The cluster's Leases: trust writes take a lock per role (engine/trust-lock.ts). Absent: read-back only. */
  leases?: LeaseGateway;
  /** How long to wait for another run's lock (--lock-timeout). */
  lockTimeoutMs?: number;
  concurrency?: number;
  /** Extra lines printed after the plan (e.g. workloads to restart). */
  footer?: string[];
  /** The command that applies this plan, when it is not this command line plus --approve. */
  applyHint?: string;
  /** Returns how many retries were made (shown after apply). */
  retryCount?: () => number;
  /** Throttling replies seen so far: with it, concurrency adapts to throttling (engine/adaptive-limit.ts). */
  throttleCount?: () => number;
  /** Cross-account: name the account of each change. */
  showAccounts?: boolean;
  /** Added to the JSON document (e.g. the saved plan's file and digest). */
  extraJson?: Record<string, unknown>;
}

/**
 * Without a cluster connection there is no Lease to serialise trust writes with (role-only
 * bindings, --issuer-url files, EKS Pod Identity unbinds): the plan says so, next to the changes
 * it concerns. Creates are atomic in IAM (EntityAlreadyExists) and need no lock.
 */
function withLockNote(plan: Plan, leases: LeaseGateway | undefined, approve: boolean): Plan {
  // Only when applying now: a plan shown without --approve may be applied later with a cluster connection.
  if (leases || !approve) return plan;
  const roles = plan.changes.filter((change) => change.kind === 'iam-role' && change.action !== 'create');
  if (roles.length === 0) return plan;
  const note =
    'No trust lock: these changes are made without a Kubernetes connection, so no Lease can serialise them with other irsa runs on the same roles. ' +
    'Each trust write is read back; a subject another run overwrote is merged into the newer policy and written again (bounded), else the run fails naming it.';
  return { ...plan, notes: [...plan.notes, note] };
}

/**
 * ServiceAccounts (and other Kubernetes writes) start once every role the plan creates or
 * changes is in place, not each as soon as its own role is: a role that fails then leaves no
 * ServiceAccount pointing at roles that are not all there (apply starts nothing after a failure),
 * so a failed apply is closer to nothing-changed on the cluster side, where pods read annotations.
 * It costs at most the wait for the slowest role; the writes still run side by side. Deletes are
 * not held back (un-annotating comes before a role goes).
 */
export const CLUSTER_AFTER_ROLES = {
  waits: (change: Change) => apiOf(change) === 'kubernetes' && change.action !== 'delete',
  gates: (change: Change) => change.kind === 'iam-role' && (change.action === 'create' || change.action === 'update'),
};

/** The trust locker of a run: waits are said on stderr, once per role. */
export function trustLockerFor(leases: LeaseGateway, output: Output, lockTimeoutMs?: number): TrustLocker {
  return createTrustLocker({
    leases,
    ...(lockTimeoutMs !== undefined ? { timeoutMs: lockTimeoutMs } : {}),
    // Said once per role, whatever the output format: a run that waits says so.
    onWait: ({ role, lease, holder }) => output.err(`waiting for the trust lock of role ${role}: Lease ${lease} is held by ${holder} (another irsa run writing this role)\n`),
  });
}

/** How long a run without a trust lock waits before its final read-back of trust changes. */
const NO_LOCK_SETTLE_MS = 1500;

export async function runPlan(given: Plan, options: RunPlanOptions): Promise<number> {
  const plan = withLockNote(given, options.leases, options.approve);
  const { globals } = options;
  const output = options.output ?? createOutput({ output: globals.output, verbose: globals.verbose, color: globals.color });
  const c = output.paint;
  const changes = hasChanges(plan);
  const text = output.format === 'text';
  if (text) {
    output.out(renderPlanText(plan, { color: output.color, verbose: output.verbose, showAccounts: options.showAccounts === true }));
    for (const line of options.footer ?? []) output.out(line + '\n');
  }
  // Blockers are the only reason a plan is not applied: shown with it, and exit 1 with or without --approve.
  if (plan.blockers.length > 0) {
    if (!text) output.json({ plan: planToJson(plan), applied: false, refused: plan.blockers.map(blockerText).join('\n'), ...options.extraJson });
    for (const blocker of plan.blockers) output.err(output.paintErr.red(`Error: ${blockerText(blocker)}`) + '\n');
    return 1;
  }
  const noChangeCode = 0;
  const changeCode = options.detailedExitcode ? 2 : 0;
  if (!options.approve || !changes) {
    if (!text) output.json({ plan: planToJson(plan), applied: false, ...options.extraJson });
    else if (changes) output.out(`\nNothing was changed. To apply this plan, run:\n  ${options.applyHint ?? applyCommandLine()}\n`);
    return changes ? changeCode : noChangeCode;
  }

  // The plan was just shown: per-change progress only with --verbose; failures always.
  const e = output.paintErr;
  const throttleCount = options.throttleCount;
  const limit = throttleCount ? createAdaptiveLimit({ max: options.concurrency ?? 8 }) : null;
  let throttlesSeen = throttleCount?.() ?? 0;
  // IAM eventual-consistency retries (the executor's own) are counted apart from the SDK's.
  let consistencyRetries = 0;
  const leases = options.leases;
  const trustLocks = leases ? trustLockerFor(leases, output, options.lockTimeoutMs) : undefined;
  // Many trust changes: every lock first, one bulk read under them (engine/trust-batch.ts) — or
  // the batch the caller took before reading what the plan was made from.
  const batch = options.trustBatch ?? (trustLocks && options.executor.iam ? await prepareTrustBatch(plan, trustLocks, options.executor.iam, options.concurrency ?? 8) : null);
  const executor = createExecutor({
    ...options.executor,
    ...(batch ? { trustLocks: batch.locker } : trustLocks ? { trustLocks } : {}),
    onRetry: (change, error) => {
      consistencyRetries++;
      options.executor.onRetry?.(change, error);
    },
  });
  const applying = applyPlan(plan, executor, {
    poolOf: apiOf,
    ...(options.clusterAfterRoles === false ? {} : { gate: CLUSTER_AFTER_ROLES }),
    concurrency: limit ? () => limit.current() : (options.concurrency ?? 8),
    onStart: (change) => {
      if (text && output.verbose) output.err(formatStart(change, e) + '\n');
    },
    onFinish: (result) => {
      if (limit && throttleCount) {
        const now = throttleCount();
        limit.record(now - throttlesSeen);
        throttlesSeen = now;
      }
      // Failures, stale changes and what apply's re-check did differently are always shown.
      if (text && (output.verbose || result.status === 'failed' || result.status === 'stale' || (result.notes ?? []).length > 0)) output.err(formatResult(result, e) + '\n');
    },
  });
  // The batch's locks go back (those of changes that never ran untouched) while the after-apply
  // check reads: a repair it makes locks on its own, waiting for these releases if it must.
  const applied = await applying.catch(async (error: unknown) => {
    await batch?.finish();
    throw error;
  });
  const finishing = batch ? batch.finish() : Promise.resolve();
  finishing.catch(() => {}); // awaited below
  // Never exit 0 without the change in place: trust changes are read back once the rest is applied.
  // Without a lock, another run's write that read the role before ours can land after it: wait a
  // moment before reading back, and check a repair again (engine/trust-verify.ts).
  const report = options.verifyTrust === false
    ? applied
    : await verifyTrustIntents(applied, options.executor.iam, executor, { ...(trustLocks ? {} : { settleMs: NO_LOCK_SETTLE_MS }), ...(options.onTrustRead ? { onBulkRead: options.onTrustRead } : {}) });
  await finishing;
  if (text) report.results.forEach((result, i) => { if (result !== applied.results[i]) output.err(formatResult(result, e) + '\n'); });
  const throttling = limit?.summary();
  if (!text) {
    output.json({ plan: planToJson(plan), applied: true, apply: reportToJson(report, options.retryCount?.() ?? 0, throttling, consistencyRetries) });
  } else {
    output.out('\n' + formatReport(report, c, options.retryCount?.() ?? 0, throttling, consistencyRetries) + '\n');
  }
  return report.ok ? changeCode : 1;
}
