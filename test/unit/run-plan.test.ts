// The command shell's tail (show the plan, refuse on blockers, apply, report, exit code), with
// fake gateways at the port boundary and the real streams captured.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPlan } from '../../src/commands/run-plan.ts';
import type { GlobalOptions } from '../../src/commands/globals.ts';
import type { Plan } from '../../src/core/plan.ts';
import type { IamGateway } from '../../src/ports.ts';
import { context, observed, planOne, request, serviceAccount } from './fixtures/binding.ts';

const globals = (output: 'text' | 'json'): GlobalOptions => ({ region: undefined, profile: undefined, kubeconfig: undefined, context: undefined, output, verbose: false, color: false });

async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
  }
}

/** IAM that creates roles but refuses to attach policies: a partial apply. */
function iamFailingAttach(calls: string[]): IamGateway {
  return new Proxy({} as IamGateway, {
    get: (_, name: string) => async () => {
      calls.push(name);
      if (name === 'attachPolicy') throw Object.assign(new Error('User is not authorized to perform: iam:AttachRolePolicy'), { name: 'AccessDenied' });
      return undefined;
    },
  });
}

const rolePlan = (): Plan => planOne(request({ roleOnly: true }), context(), observed()).plan;

test('a failed apply exits 1 and the text report says what was applied, what failed and what was not started', async () => {
  const calls: string[] = [];
  const result = await capture(() => runPlan(rolePlan(), { globals: globals('text'), approve: true, detailedExitcode: false, executor: { iam: iamFailingAttach(calls) } }));
  assert.equal(result.code, 1);
  assert.match(result.stdout, /Apply stopped: 1 applied, 1 failed, 0 not started\./);
  assert.match(result.stdout, /failed: {6}role-policy-attachment .*AmazonS3ReadOnlyAccess: User is not authorized/);
  assert.match(result.stderr, /✗ create role-policy-attachment/);
  assert.deepEqual(calls, ['createRole', 'attachPolicy']);
});

test('a failed apply exits 1 with --detailed-exitcode too, and the JSON report has ok: false and per-change status', async () => {
  const result = await capture(() => runPlan(rolePlan(), { globals: globals('json'), approve: true, detailedExitcode: true, executor: { iam: iamFailingAttach([]) } }));
  assert.equal(result.code, 1);
  const document = JSON.parse(result.stdout) as { applied: boolean; apply: { ok: boolean; applied: number; failed: number; stale: number; notStarted: number; results: Array<{ kind: string; status: string; error: string | null }> } };
  assert.equal(document.applied, true);
  assert.deepEqual({ ok: document.apply.ok, applied: document.apply.applied, failed: document.apply.failed, stale: document.apply.stale, notStarted: document.apply.notStarted }, { ok: false, applied: 1, failed: 1, stale: 0, notStarted: 0 });
  assert.deepEqual(document.apply.results.map((r) => [r.kind, r.status]), [['iam-role', 'applied'], ['role-policy-attachment', 'failed']]);
  assert.match(document.apply.results[1]!.error!, /not authorized/);
});

test('a successful apply exits 0, or 2 with --detailed-exitcode', async () => {
  const ok = new Proxy({} as IamGateway, { get: () => async () => undefined });
  assert.equal((await capture(() => runPlan(rolePlan(), { globals: globals('text'), approve: true, detailedExitcode: false, executor: { iam: ok } }))).code, 0);
  assert.equal((await capture(() => runPlan(rolePlan(), { globals: globals('text'), approve: true, detailedExitcode: true, executor: { iam: ok } }))).code, 2);
});

test('a plan with blockers exits 1 with or without --approve, prints the blocker in text and JSON, and calls nothing', async () => {
  const { plan } = planOne(request(), context(), observed({ serviceAccount: serviceAccount({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/other' }) }));
  const calls: string[] = [];
  const iam = iamFailingAttach(calls);
  for (const approve of [true, false]) {
    const text = await capture(() => runPlan(plan, { globals: globals('text'), approve, detailedExitcode: false, executor: { iam } }));
    assert.equal(text.code, 1);
    assert.match(text.stdout, /Blocked: ServiceAccount payments\/api is already bound to .*other\. Nothing was changed\. Pass --override-existing-serviceaccounts/);
    assert.match(text.stderr, /^Error: ServiceAccount payments\/api is already bound/);
    const json = await capture(() => runPlan(plan, { globals: globals('json'), approve, detailedExitcode: false, executor: { iam } }));
    assert.equal(json.code, 1);
    const document = JSON.parse(json.stdout) as { applied: boolean; refused: string; plan: { blockers: Array<{ code: string }> } };
    assert.equal(document.applied, false);
    assert.deepEqual(document.plan.blockers.map((b) => b.code), ['service-account-bound-elsewhere']);
    assert.match(document.refused, /already bound/);
  }
  assert.deepEqual(calls, []);
});
