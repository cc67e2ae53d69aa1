// The shared tail of every mutating command: show the plan, stop unless --approve, apply,
// report per change, and choose the exit code (eksctl's --approve, terraform's -detailed-exitcode).

import { hasChanges, type Plan } from '../core/plan.ts';
import { applyPlan, type ApplyReport, type ChangeResult } from '../engine/apply.ts';
import { createExecutor, type ExecutorDeps } from '../engine/execute.ts';
import { blockerText, planToJson, renderPlanText } from '../ui/render.ts';
import { applyCommandLine, type GlobalOptions } from './globals.ts';
import { Chalk } from 'chalk';

export interface RunPlanOptions {
  globals: GlobalOptions;
  approve: boolean;
  detailedExitcode: boolean;
  executor: ExecutorDeps;
  concurrency?: number;
  /** Extra lines printed after the plan (e.g. workloads to restart). */
  footer?: string[];
  /** The command that applies this plan, when it is not this command line plus --approve. */
  applyHint?: string;
  /** Returns how many retries were made (shown after apply). */
  retryCount?: () => number;
}

export async function runPlan(plan: Plan, options: RunPlanOptions): Promise<number> {
  const { globals } = options;
  const c = new Chalk({ level: globals.color ? 1 : 0 });
  const changes = hasChanges(plan);
  const out = (text: string) => process.stdout.write(text);
  if (globals.output === 'text') {
    out(renderPlanText(plan, { color: globals.color, verbose: globals.verbose }));
    for (const line of options.footer ?? []) out(line + '\n');
  }
  // Blockers are the only reason a plan is not applied: shown with it, and exit 1 with or without --approve.
  if (plan.blockers.length > 0) {
    const refused = plan.blockers.map(blockerText).join('\n');
    if (globals.output === 'json') out(JSON.stringify({ plan: planToJson(plan), applied: false, refused }, null, 2) + '\n');
    for (const blocker of plan.blockers) process.stderr.write(c.red(`Error: ${blockerText(blocker)}`) + '\n');
    return 1;
  }
  const noChangeCode = 0;
  const changeCode = options.detailedExitcode ? 2 : 0;
  if (!options.approve || !changes) {
    if (globals.output === 'json') out(JSON.stringify({ plan: planToJson(plan), applied: false }, null, 2) + '\n');
    else if (changes) out(`\nNothing was changed. To apply this plan, run:\n  ${options.applyHint ?? applyCommandLine()}\n`);
    return changes ? changeCode : noChangeCode;
  }

  // IAM eventual-consistency retries (the executor's own) are counted apart from the SDK's.
  let consistencyRetries = 0;
  const executor = createExecutor({
    ...options.executor,
    onRetry: (change, error) => {
      consistencyRetries++;
      options.executor.onRetry?.(change, error);
    },
  });
  const report = await applyPlan(plan, executor, {
    concurrency: options.concurrency ?? 8,
    onStart: (change) => {
      if (globals.output === 'text') process.stderr.write(c.dim(`  … ${change.action} ${change.kind} ${change.id}\n`));
    },
    onFinish: (result) => {
      if (globals.output === 'text') process.stderr.write(formatResult(result, c) + '\n');
    },
  });
  if (globals.output === 'json') {
    out(JSON.stringify({ plan: planToJson(plan), applied: true, apply: reportToJson(report, options.retryCount?.() ?? 0, consistencyRetries) }, null, 2) + '\n');
  } else {
    out('\n' + formatReport(report, c, options.retryCount?.() ?? 0, consistencyRetries) + '\n');
  }
  return report.ok ? changeCode : 1;
}

function formatResult(result: ChangeResult, c: InstanceType<typeof Chalk>): string {
  const label = `${result.change.action} ${result.change.kind} ${result.change.id}`;
  if (result.status === 'applied') {
    return [c.green(`  ✓ ${label}`) + c.dim(` (${Math.round(result.durationMs ?? 0)} ms)`), ...(result.notes ?? []).map((note) => c.yellow(`    ! ${note}`))].join('\n');
  }
  if (result.status === 'failed') return c.red(`  ✗ ${label}: ${errorText(result.error)}`);
  if (result.status === 'stale') return c.red(`  ✗ ${label}: stale: ${errorText(result.error)}`);
  return `  ${label}: ${result.status}`;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

function formatReport(report: ApplyReport, c: InstanceType<typeof Chalk>, retries: number, consistencyRetries: number): string {
  const retryParts = [
    ...(retries > 0 ? [`${retries} retries`] : []),
    ...(consistencyRetries > 0 ? [`${consistencyRetries} waits for IAM consistency`] : []),
  ];
  const retryNote = retryParts.length > 0 ? ` after ${retryParts.join(' and ')}` : '';
  if (report.ok) return c.green(`Apply complete: ${report.applied} changes applied${retryNote}.`);
  const staleNote = report.stale > 0 ? `, ${report.stale} stale` : '';
  const lines = [c.red(`Apply stopped: ${report.applied} applied, ${report.failed} failed${staleNote}, ${report.notStarted} not started${retryNote}.`)];
  for (const result of report.results) {
    if (result.status === 'failed') lines.push(c.red(`  failed:      ${result.change.kind} ${result.change.id}: ${errorText(result.error)}`));
    if (result.status === 'stale') lines.push(c.red(`  stale:       ${result.change.kind} ${result.change.id}: ${errorText(result.error)}`));
    if (result.status === 'not-started') lines.push(`  not started: ${result.change.kind} ${result.change.id}`);
  }
  lines.push('Run the same command again to converge: irsa re-reads what exists and plans only what is left.');
  return lines.join('\n');
}

function reportToJson(report: ApplyReport, retries: number, consistencyRetries: number) {
  return {
    ok: report.ok,
    applied: report.applied,
    failed: report.failed,
    stale: report.stale,
    notStarted: report.notStarted,
    retries,
    consistencyRetries,
    results: report.results.map((result) => ({
      kind: result.change.kind,
      id: result.change.id,
      action: result.change.action,
      status: result.status,
      error: result.error === undefined ? null : errorText(result.error),
      notes: result.notes ?? [],
    })),
  };
}
