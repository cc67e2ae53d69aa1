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
