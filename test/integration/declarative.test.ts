// irsa plan / apply -f against the local stack: exactness, saved plans, located file errors,
// injected faults and a kill -9 in the middle of an apply.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { aws, irsa, IRSA_BIN, json, kubectl, writeCalls } from './helpers/cli.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const SQS_READ = 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess';
const dir = mkdtempSync(join(tmpdir(), 'irsa-decl-'));
let fileCount = 0;

interface Binding { namespace: string; name: string; [key: string]: unknown }

function writeConfig(bindings: Binding[], extra: Record<string, unknown> = {}): string {
  const file = join(dir, `irsa-${++fileCount}.yaml`);
  writeFileSync(file, stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings, ...extra }));
  return file;
}

/** 20 bindings: pairs sharing a role, one with an inline policy, one role-only. */
function twentyBindings(ns: string): Binding[] {
  return Array.from({ length: 20 }, (_, i) => {
    const binding: Binding = { namespace: ns, name: `svc-${i}`, managedPolicies: [S3_READ] };
    if (i < 6) binding['roleName'] = `${ns}-shared-${Math.floor(i / 2)}`; // 3 roles × 2 bindings
    if (i === 7) binding['inlinePolicies'] = { orders: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::orders/*' }] } };
    if (i === 8) binding['roleOnly'] = true;
    return binding;
  });
}

type PlanOutput = { plan: { changes: Array<{ action: string; kind: string; id: string }>; summary: Record<string, number> } };
const changed = (output: PlanOutput) => output.plan.changes.filter((c) => c.action !== 'no-op');

async function assertConverged(ns: string, bindings: Binding[]) {
  const roleFor = (b: Binding) => (b['roleName'] as string | undefined) ?? `irsa-${stack.clusterName}-${b.namespace}-${b.name}`;
  for (const binding of bindings) {
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', roleFor(binding)])).Role;
    assert.match(decodeURIComponent(JSON.stringify(role.AssumeRolePolicyDocument)), new RegExp(`system:serviceaccount:${ns}:${binding.name}"`), `${binding.name}: trust`);
    const attached = await aws(stack, ['iam', 'list-attached-role-policies', '--role-name', roleFor(binding)]);
    assert.ok(attached.AttachedPolicies.some((p: { PolicyArn: string }) => p.PolicyArn === S3_READ), `${binding.name}: attachment`);
    if (!binding['roleOnly']) {
      const sa = await kubectl(stack, ['get', 'sa', binding.name, '-n', ns, '-o', 'json']);
      assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn, `${binding.name}: annotation`);
    }
  }
}

describe('irsa plan / apply -f', { skip }, () => {
  before(() => stack.resetAws());

  it('applies 20 bindings; a re-plan is all no-ops; editing one binding\'s policies changes only that role', async () => {
    const ns = `decl-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const bindings = twentyBindings(ns);
    const file = writeConfig(bindings);
    const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    await assertConverged(ns, bindings);
    const inline = await aws(stack, ['iam', 'get-role-policy', '--role-name', `irsa-${stack.clusterName}-${ns}-svc-7`, '--policy-name', 'orders']);
    assert.ok(inline.PolicyDocument);
    await assert.rejects(kubectl(stack, ['get', 'sa', 'svc-8', '-n', ns, '-o', 'json']), /NotFound/); // role-only

    const replan = await irsa(stack, ['plan', '-f', file, '-o', 'json', '--detailed-exitcode']);
    assert.equal(replan.code, 0, replan.stderr);
    assert.deepEqual(changed(json<PlanOutput>(replan)), []);
    assert.deepEqual(writeCalls(replan.calls), {});

    const edited = twentyBindings(ns);
    edited[10]!['managedPolicies'] = [SQS_READ];
    const editedPlan = json<PlanOutput>(await irsa(stack, ['plan', '-f', writeConfig(edited), '-o', 'json']));
    const roleArn = `arn:aws:iam::${stack.accountId}:role/irsa-${stack.clusterName}-${ns}-svc-10`;
    assert.deepEqual(changed(editedPlan).map((c) => `${c.action} ${c.kind} ${c.id}`).sort(), [
      `create role-policy-attachment ${roleArn}#${SQS_READ}`,
      `delete role-policy-attachment ${roleArn}#${S3_READ}`,
    ]);
  });

  it('a saved plan is refused after an out-of-band change, naming the role; applied when nothing changed', async () => {
    const ns = `saved-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const bindings = [{ namespace: ns, name: 'a', managedPolicies: [S3_READ] }, { namespace: ns, name: 'b', managedPolicies: [S3_READ] }];
    await irsa(stack, ['apply', '-f', writeConfig(bindings), '--approve']);
    const edited = writeConfig(bindings.map((b) => ({ ...b, managedPolicies: [S3_READ, SQS_READ] })));
    const planFile = join(dir, 'plan.json');
    const planned = await irsa(stack, ['plan', '-f', edited, '--out', planFile]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, new RegExp(`irsa apply ${planFile} --approve`));
    await aws(stack, ['iam', 'update-role', '--role-name', `irsa-${stack.clusterName}-${ns}-a`, '--description', 'changed by hand']);
    const refused = await irsa(stack, ['apply', planFile, '--approve']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`iam-role arn:aws:iam::${stack.accountId}:role/irsa-${stack.clusterName}-${ns}-a: changed since the plan was made`));
    assert.deepEqual(writeCalls(refused.calls), {});

    const fresh = join(dir, 'plan2.json');
    await irsa(stack, ['plan', '-f', edited, '--out', fresh]);
    const applied = await irsa(stack, ['apply', fresh, '--approve']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(writeCalls(applied.calls), { 'iam AttachRolePolicy': 2 });
  });

  it('malformed files give a located, specific error and make no API call', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['bad YAML', 'cluster:\n  name: x\n bindings: [\n', /:\d+:\d+: /],
      ['unknown field', `cluster: { name: ${stack.clusterName} }\nbindings:\n  - namespace: a\n    name: b\n    policies: []\n`, /:5:5: bindings\[0\]\.policies: unknown field "policies"/],
      ['wrong type', `cluster: { name: ${stack.clusterName} }\nbindings:\n  - namespace: a\n    name: b\n    managedPolicies: ${S3_READ}\n`, /:5:22: bindings\[0\]\.managedPolicies: must be array/],
      ['duplicate binding', `cluster: { name: ${stack.clusterName} }\nbindings:\n  - { namespace: a, name: b }\n  - { namespace: a, name: b }\n`, /:4:27: bindings\[1\]\.name: duplicate binding: a\/b/],
      ['invalid name', `cluster: { name: ${stack.clusterName} }\nbindings:\n  - namespace: Bad_NS\n    name: b\n`, /:3:16: bindings\[0\]\.namespace: "Bad_NS" is not a valid Kubernetes namespace/],
    ];
    for (const [label, source, expected] of cases) {
      const file = join(dir, `bad-${label.replace(/ /g, '-')}.yaml`);
      writeFileSync(file, source);
      const result = await irsa(stack, ['apply', '-f', file, '--approve']);
      assert.equal(result.code, 1, label);
      assert.match(result.stderr, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + expected.source), `${label}: ${result.stderr}`);
      assert.deepEqual(result.calls, {}, label);
    }
  });

  it('with 20% injected faults (throttling, 5xx, resets, latency) apply of 20 bindings converges in one run and reports its retries', async () => {
    const ns = `faults-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0.2, latencyMs: 100, seed: 7 });
    try {
      const bindings = twentyBindings(ns);
      const result = await irsa(stack, ['apply', '-f', writeConfig(bindings), '--approve'], { AWS_ENDPOINT_URL: proxy.url });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const faults = proxy.counts.throttle + proxy.counts.http500 + proxy.counts.http503 + proxy.counts.reset;
      assert.ok(faults > 0, 'the proxy injected faults');
      assert.ok(result.retries > 0, 'irsa retried');
      assert.match(result.stdout, new RegExp(`after ${result.retries} retries`));
      console.log(`faults: ${JSON.stringify(proxy.counts)}; irsa retries: ${result.retries}`);
      await assertConverged(ns, bindings);
    } finally {
      await proxy.close();
    }
  });

  it('kill -9 in the middle of applying 20 bindings, then the same command again: it converges', async () => {
    const ns = `kill-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const bindings = twentyBindings(ns);
    const file = writeConfig(bindings);
    // Latency on every AWS call makes the apply slow enough to be killed half-way.
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 1, kinds: ['latency'], latencyMs: 150 });
    const child = spawn(process.execPath, [IRSA_BIN, 'apply', '-f', file, '--approve', '--concurrency', '4', '--verbose'], {
      env: { ...process.env, ...stack.env, AWS_ENDPOINT_URL: proxy.url, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let applied = 0;
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        applied += (chunk.toString().match(/✓/g) ?? []).length;
        if (applied >= 12 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    await proxy.close();
    assert.equal(child.signalCode, 'SIGKILL', 'irsa was killed before it finished');
    const rerun = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    await assertConverged(ns, bindings);
    const replan = await irsa(stack, ['plan', '-f', file, '-o', 'json']);
    assert.deepEqual(changed(json<PlanOutput>(replan)), []);
    const rerunWrites = Object.values(writeCalls(rerun.calls)).reduce((a, b) => a + b, 0);
    console.log(`kill -9 after ${applied} applied changes; the re-run made ${rerunWrites} writes and converged`);
  });
});
