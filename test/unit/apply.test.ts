import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlan } from '../../src/engine/apply.ts';
import { withConsistencyRetry } from '../../src/engine/retry.ts';
import { change, planOf } from './fixtures/changes.ts';
import type { Change } from '../../src/core/plan.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

test('apply runs dependencies first and skips no-ops without calling anything', async () => {
  const order: string[] = [];
  const plan = planOf(
    change('attach', { kind: 'role-policy-attachment', dependsOn: ['iam-role:role'] }),
    change('role', { dependsOn: ['oidc-provider:provider'] }),
    change('provider', { kind: 'oidc-provider' }),
    change('same', { action: 'no-op' }),
  );
  const report = await applyPlan(plan, async (c) => {
    await tick();
    order.push(c.id);
  });
  assert.deepEqual(order, ['provider', 'role', 'attach']);
  assert.equal(report.ok, true);
  assert.equal(report.applied, 3);
  assert.deepEqual(report.results.map((r) => r.status), ['applied', 'applied', 'applied', 'no-op']);
});

test('apply runs independent changes concurrently, never above the bound', async () => {
  let running = 0;
  let peak = 0;
  const plan = planOf(...Array.from({ length: 12 }, (_, i) => change(`r${i}`)));
  await applyPlan(
    plan,
    async () => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      running--;
    },
    { concurrency: 4 },
  );
  assert.equal(peak, 4);
});

test('after a failure apply starts nothing new, lets running changes finish, and reports both', async () => {
  const started: string[] = [];
  const plan = planOf(
    change('a'),
    change('b'),
    change('c'),
    change('d', { dependsOn: ['iam-role:a'] }),
  );
  const report = await applyPlan(
    plan,
    async (c: Change) => {
      started.push(c.id);
      if (c.id === 'a') throw new Error('boom');
      await tick();
      await tick();
    },
    { concurrency: 2 },
  );
  assert.deepEqual(started, ['a', 'b']);
  assert.equal(report.ok, false);
  assert.deepEqual(
    Object.fromEntries(report.results.map((r) => [r.change.id, r.status])),
    { a: 'failed', b: 'applied', c: 'not-started', d: 'not-started' },
  );
  assert.equal((report.results[0]!.error as Error).message, 'boom');
});

test('AWS and Kubernetes changes are bounded apart: a ServiceAccount write never waits for a slot an IAM call holds', async () => {
  const { apiOf } = await import('../../src/core/resources/registry.ts');
  const started: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const plan = planOf(
    change('r1'), change('r2'),
    change('ns/sa1', { kind: 'service-account' }), change('ns/sa2', { kind: 'service-account' }),
  );
  const applying = applyPlan(plan, async (c) => {
    started.push(c.id);
    if (c.kind === 'iam-role') await held;
  }, { concurrency: 2, poolOf: apiOf });
  await tick();
  // Both IAM slots are held; the Kubernetes writes still started (one pool would have stalled them).
  assert.deepEqual(started.sort(), ['ns/sa1', 'ns/sa2', 'r1', 'r2']);
  release();
  assert.equal((await applying).ok, true);
});

test('the cluster side waits for every role of the plan (CLUSTER_AFTER_ROLES), except roles that depend on it; a failed role leaves no ServiceAccount written', async () => {
  const { CLUSTER_AFTER_ROLES } = await import('../../src/commands/run-plan.ts');
  const order: string[] = [];
  const plan = planOf(
    change('fast'),
    change('slow'),
    change('ns/a', { kind: 'service-account', dependsOn: ['iam-role:fast'] }),
    // A role that waits for a ServiceAccount (e.g. deleted after un-annotating) is not waited for by it.
    change('ns/b', { kind: 'service-account', action: 'update' }),
    change('after-b', { action: 'update', dependsOn: ['service-account:ns/b'] }),
  );
  const report = await applyPlan(plan, async (c) => {
    await new Promise((resolve) => setTimeout(resolve, c.id === 'slow' ? 30 : 5));
    order.push(c.id);
  }, { gate: CLUSTER_AFTER_ROLES });
  assert.equal(report.ok, true);
  assert.ok(order.indexOf('ns/a') > order.indexOf('slow'), `ns/a waited for the slow role: ${order.join(', ')}`);
  assert.ok(order.indexOf('after-b') > order.indexOf('ns/b'), 'no deadlock: after-b depends on ns/b and ns/b does not wait for it');
  // A role that fails: apply starts nothing after it, so no ServiceAccount is written.
  const written: string[] = [];
  const failed = await applyPlan(planOf(change('ok'), change('bad'), change('ns/c', { kind: 'service-account', dependsOn: ['iam-role:ok'] })), async (c) => {
    await tick();
    if (c.id === 'bad') throw new Error('LimitExceeded');
    written.push(c.id);
  }, { gate: CLUSTER_AFTER_ROLES });
  assert.equal(failed.ok, false);
  assert.deepEqual(written, ['ok']);
});

test('a dependency cycle is an internal error, found before anything runs', async () => {
  let calls = 0;
  await assert.rejects(
    applyPlan(planOf(change('a', { dependsOn: ['iam-role:b'] }), change('b', { dependsOn: ['iam-role:a'] })), async () => {
      calls++;
    }),
    /dependency cycle/,
  );
  assert.equal(calls, 0);
});

test('withConsistencyRetry retries NoSuchEntity and invalid-principal errors within its budget only', async () => {
  const noSuchEntity = Object.assign(new Error('Role not found'), { name: 'NoSuchEntity' });
  const invalidPrincipal = Object.assign(new Error('Invalid principal in policy'), { name: 'MalformedPolicyDocument' });
  const badJson = Object.assign(new Error('Syntax errors in policy'), { name: 'MalformedPolicyDocument' });
  const policy = { budgetMs: 100, initialDelayMs: 10, maxDelayMs: 40, sleep: async () => {} };
  let attempts = 0;
  const result = await withConsistencyRetry(async () => {
    attempts++;
    if (attempts < 3) throw attempts === 1 ? noSuchEntity : invalidPrincipal;
    return 'ok';
  }, policy);
  assert.equal(result, 'ok');
  assert.equal(attempts, 3);

  attempts = 0;
  await assert.rejects(withConsistencyRetry(async () => { attempts++; throw badJson; }, policy), /Syntax errors/);
  assert.equal(attempts, 1, 'a real policy error is not retried');

  attempts = 0;
  await assert.rejects(withConsistencyRetry(async () => { attempts++; throw noSuchEntity; }, policy), /Role not found/);
  assert.ok(attempts > 1 && attempts < 10, `bounded retries, got ${attempts}`);
  // Wrapped errors (adapters keep the SDK error as cause) are recognised too.
  attempts = 0;
  await withConsistencyRetry(async () => {
    attempts++;
    if (attempts === 1) throw new Error('wrapped', { cause: noSuchEntity });
  }, policy);
  assert.equal(attempts, 2);
});
