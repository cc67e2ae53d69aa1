// irsa apply -f while the AWS endpoint answers `Throttling` above a request rate (the fault proxy's
// token bucket): the apply converges, its concurrency comes down, and the report says so.
// Outcomes and counts only — never times.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { irsa, json, kubectl } from './helpers/cli.ts';

const { stack, skip } = await useStack();

type ApplyOutput = { applied: boolean; apply: { ok: boolean; applied: number; retries: number; throttling: { throttles: number; slowedMs: number; maxConcurrency: number; lowestConcurrency: number } } };

describe('apply under throttling', { skip }, () => {
  before(() => stack.resetAws());

  it('converges, lowers its concurrency and reports the throttling', async () => {
    const ns = `throttled-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(mkdtempSync(join(tmpdir(), 'irsa-throttle-')), 'irsa.yaml');
    const bindings = Array.from({ length: 20 }, (_, i) => ({ namespace: ns, name: `svc-${i}`, managedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] }));
    writeFileSync(file, stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings }));
    // 3 requests a second: a 20-binding apply (about 50 AWS calls, 16 at a time) cannot stay under it.
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, throttleAboveRps: 3 });
    try {
      const env = { AWS_ENDPOINT_URL: proxy.url };
      const applied = await irsa(stack, ['apply', '-f', file, '--approve', '-o', 'json'], env);
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      const report = json<ApplyOutput>(applied).apply;
      assert.equal(report.ok, true);
      assert.ok(proxy.counts.throttle > 0, 'the proxy throttled');
      assert.ok(report.throttling.throttles > 0, JSON.stringify(report.throttling));
      assert.ok(report.throttling.throttles <= proxy.counts.throttle, 'irsa counts only throttles it really got');
      assert.equal(report.throttling.maxConcurrency, 16);
      assert.ok(report.throttling.lowestConcurrency < 16, 'concurrency came down');
      assert.ok(report.throttling.slowedMs > 0);

      // Converged: a re-plan through the same throttling proxy has nothing left to do.
      const replan = await irsa(stack, ['plan', '-f', file, '--detailed-exitcode'], env);
      assert.equal(replan.code, 0, replan.stdout + replan.stderr);
    } finally {
      await proxy.close();
    }
  });

  it('says how long it was slowed in the text report', async () => {
    const ns = `throttled-text-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(mkdtempSync(join(tmpdir(), 'irsa-throttle-')), 'irsa.yaml');
    const bindings = Array.from({ length: 20 }, (_, i) => ({ namespace: ns, name: `svc-${i}`, managedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] }));
    writeFileSync(file, stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings }));
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, throttleAboveRps: 3 });
    try {
      const applied = await irsa(stack, ['apply', '-f', file, '--approve'], { AWS_ENDPOINT_URL: proxy.url });
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      assert.match(applied.stdout, /^AWS throttled \d+ requests; irsa lowered its concurrency from 16 to \d+ and ran slowed for \d+\.\d s\.$/m);
    } finally {
      await proxy.close();
    }
  });
});
