// The apply's adaptive concurrency: halves on throttling (once per window), creeps back one per
// window of clean changes, reports how long it ran slowed; applyPlan follows it as it changes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countThrottles, createAdaptiveLimit, isThrottlingError } from '../../src/engine/adaptive-limit.ts';
import { applyPlan } from '../../src/engine/apply.ts';
import { formatReport, reportToJson } from '../../src/ui/apply-report.ts';
import { emptyPlan, type Change } from '../../src/core/plan.ts';
import { Chalk } from 'chalk';

test('halves on a throttled change, once per window, never below 1; grows back by one per clean window', () => {
  let clock = 0;
  const limit = createAdaptiveLimit({ max: 16, now: () => clock });
  assert.equal(limit.current(), 16);
  limit.record(3); // a burst of throttled replies
  assert.equal(limit.current(), 8);
  // The changes already in flight when it halved finish throttled too: counted, not halved again.
  for (let i = 0; i < 8; i++) limit.record(1);
  assert.equal(limit.current(), 8);
  limit.record(1); // a new window: halves again
  assert.equal(limit.current(), 4);
  for (let i = 0; i < 5; i++) limit.record(1);
  limit.record(1);
  assert.equal(limit.current(), 2);
  for (let i = 0; i < 3; i++) limit.record(1);
  limit.record(1);
  assert.equal(limit.current(), 1);
  for (let i = 0; i < 2; i++) limit.record(1);
  limit.record(1);
  assert.equal(limit.current(), 1, 'never below 1');
  clock = 1000;
  // Clean changes: one more slot per `limit` clean changes.
  limit.record(0);
  assert.equal(limit.current(), 2);
  limit.record(0);
  limit.record(0);
  assert.equal(limit.current(), 3);
  let clean = 0;
  while (limit.current() < 16) {
    limit.record(0);
    clean++;
  }
  clock = 5000;
  limit.record(0);
  assert.equal(limit.current(), 16, 'never above max');
  assert.ok(clean > 50 && clean < 150, `${clean} clean changes to recover`);
  const summary = limit.summary();
  assert.equal(summary.lowest, 1);
  assert.equal(summary.max, 16);
  assert.equal(summary.throttles, 3 + 8 + 1 + 5 + 1 + 3 + 1 + 2 + 1);
  assert.equal(summary.slowedMs, 1000, 'from the first decrease until back at max');
});

test('slowed time runs on to the end when the limit never recovers; no throttling, no slowing', () => {
  let clock = 0;
  const limit = createAdaptiveLimit({ max: 4, now: () => clock });
  clock = 100;
  limit.record(1);
  clock = 400;
  assert.equal(limit.summary().slowedMs, 300);
  const calm = createAdaptiveLimit({ max: 4, now: () => clock });
  for (let i = 0; i < 10; i++) calm.record(0);
  assert.deepEqual(calm.summary(), { throttledChanges: 0, throttles: 0, max: 4, lowest: 4, slowedMs: 0 });
});

test('throttling errors are recognised by the names AWS uses, in the observer keys', () => {
  for (const name of ['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'HTTP 429']) assert.ok(isThrottlingError(name), name);
  for (const name of ['NoSuchEntity', 'HTTP 503', 'ECONNRESET', 'AccessDenied']) assert.ok(!isThrottlingError(name), name);
  assert.equal(countThrottles({ 'iam CreateRole Throttling': 3, 'iam GetRole HTTP 503': 2, 'eks DescribeCluster ThrottlingException': 1 }), 4);
});

const change = (i: number): Change => ({ kind: 'iam-role', id: `r${i}`, action: 'create', before: null, after: {}, reason: '', dependsOn: [] }) as unknown as Change;

test('applyPlan asks a concurrency function each time a slot frees, so a lowered limit takes effect', async () => {
  const plan = { ...emptyPlan(), changes: Array.from({ length: 40 }, (_, i) => change(i)) };
  let allowed = 8;
  let running = 0;
  const peaks: number[] = [];
  const report = await applyPlan(plan, async (c) => {
    running++;
    peaks.push(running);
    await new Promise((resolve) => setTimeout(resolve, 2));
    running--;
    if (c.id === 'r10') allowed = 2; // throttling came in
  }, { concurrency: () => allowed });
  assert.equal(report.applied, 40);
  assert.equal(Math.max(...peaks), 8);
  // Once lowered, no change starts while two are running.
  const afterDrop = peaks.slice(peaks.length - 20);
  assert.ok(Math.max(...afterDrop) <= 2, `peaks after the drop: ${afterDrop}`);
});

test('the apply report says how long throttling slowed it; JSON carries the numbers; silent without throttling', () => {
  const report = { results: [], ok: true, applied: 3, failed: 0, stale: 0, notStarted: 0 };
  const c = new Chalk({ level: 0 });
  const throttling = { throttledChanges: 5, throttles: 37, max: 16, lowest: 2, slowedMs: 4200 };
  assert.equal(formatReport(report, c, 40, throttling), 'Apply complete: 3 changes applied after 40 retries.\nAWS throttled 37 requests; irsa lowered its concurrency from 16 to 2 and ran slowed for 4.2 s.');
  assert.equal(formatReport(report, c, 0, { ...throttling, throttles: 0, lowest: 16, slowedMs: 0 }), 'Apply complete: 3 changes applied.');
  assert.deepEqual(reportToJson(report, 40, throttling).throttling, { throttles: 37, slowedMs: 4200, maxConcurrency: 16, lowestConcurrency: 2 });
  assert.equal('throttling' in reportToJson(report, 0), false);
});
