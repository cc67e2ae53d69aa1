// The apply report for people and for machines: per-change progress lines, the closing summary,
// and the JSON form. Strings only; the caller writes them through the output object.

import type { ChalkInstance } from 'chalk';
import type { AdaptiveLimitSummary, ApplyReport, ChangeResult } from '../core/model/apply.ts';
import { shownId, type Change } from '../core/plan.ts';

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function formatStart(change: Change, c: ChalkInstance): string {
  return c.dim(`  … ${change.action} ${change.kind} ${shownId(change)}`);
}

export function formatResult(result: ChangeResult, c: ChalkInstance): string {
  const label = `${result.change.action} ${result.change.kind} ${shownId(result.change)}`;
  if (result.status === 'applied') {
    return [c.green(`  ✓ ${label}`) + c.dim(` (${Math.round(result.durationMs ?? 0)} ms)`), ...(result.notes ?? []).map((note) => c.yellow(`    ! ${note}`))].join('\n');
  }
  if (result.status === 'failed') return c.red(`  ✗ ${label}: ${errorText(result.error)}`);
  if (result.status === 'stale') return c.red(`  ✗ ${label}: stale: ${errorText(result.error)}`);
  return `  ${label}: ${result.status}`;
}

/** One line saying how much AWS throttling slowed the apply, or nothing when it did not. */
export function formatThrottling(throttling: AdaptiveLimitSummary | undefined): string[] {
  if (!throttling || throttling.throttles === 0) return [];
  const lowered = throttling.lowest < throttling.max ? `; irsa lowered its concurrency from ${throttling.max} to ${throttling.lowest}` : '';
  return [`AWS throttled ${throttling.throttles} requests${lowered} and ran slowed for ${(throttling.slowedMs / 1000).toFixed(1)} s.`];
}

export function formatReport(report: ApplyReport, c: ChalkInstance, retries: number, throttling?: AdaptiveLimitSummary, consistencyRetries = 0): string {
  const retryParts = [...(retries > 0 ? [`${retries} retries`] : []), ...(consistencyRetries > 0 ? [`${consistencyRetries} waits for IAM consistency`] : [])];
  const retryNote = retryParts.length > 0 ? ` after ${retryParts.join(' and ')}` : '';
  const slowed = formatThrottling(throttling).map((line) => c.yellow(line));
  if (report.ok) return [c.green(`Apply complete: ${report.applied} changes applied${retryNote}.`), ...slowed].join('\n');
  const staleNote = report.stale > 0 ? `, ${report.stale} stale` : '';
  const lines = [c.red(`Apply stopped: ${report.applied} applied, ${report.failed} failed${staleNote}, ${report.notStarted} not started${retryNote}.`), ...slowed];
  for (const result of report.results) {
    if (result.status === 'failed') lines.push(c.red(`  failed:      ${result.change.kind} ${shownId(result.change)}: ${errorText(result.error)}`));
    if (result.status === 'stale') lines.push(c.red(`  stale:       ${result.change.kind} ${shownId(result.change)}: ${errorText(result.error)}`));
    if (result.status === 'not-started') lines.push(`  not started: ${result.change.kind} ${shownId(result.change)}`);
  }
  lines.push('Run the same command again to converge: irsa re-reads what exists and plans only what is left.');
  return lines.join('\n');
}

export function reportToJson(report: ApplyReport, retries: number, throttling?: AdaptiveLimitSummary, consistencyRetries = 0) {
  return {
    ok: report.ok,
    applied: report.applied,
    failed: report.failed,
    stale: report.stale,
    notStarted: report.notStarted,
    retries,
    consistencyRetries,
    ...(throttling
      ? { throttling: { throttles: throttling.throttles, slowedMs: Math.round(throttling.slowedMs), maxConcurrency: throttling.max, lowestConcurrency: throttling.lowest } }
      : {}),
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
