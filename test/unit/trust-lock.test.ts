// The trust lock (engine/trust-lock.ts) against an in-memory Lease store with the apiserver's
// optimistic concurrency (a create of an existing name and a replace at an old resourceVersion
// are refused with a conflict) and a virtual clock, so that every wait is deterministic: mutual
// exclusion, takeover of a dead holder after exactly one duration of its record not changing,
// no takeover of a live (renewing) holder, a bounded wait with a clear error, and RBAC fallback.
// The real apiserver's behaviour is exercised by test/integration/concurrent-runs.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTrustLocker, leaseNameForRole, trustDigest, TRUST_DIGEST_ANNOTATION, type Clock } from '../../src/engine/trust-lock.ts';
import { LeaseConflictError, LeaseForbiddenError, type LeaseGateway, type LeaseRecord, type LeaseWrite } from '../../src/ports.ts';
import type { PolicyDocument } from '../../src/core/trust-policy.ts';

function virtualClock() {
  let time = 1_000_000;
  const ticks: Array<{ every: number; next: number; tick: () => void; on: boolean }> = [];
  const clock: Clock & { advance(ms: number): void } = {
    now: () => time,
    advance(ms) {
      const end = time + ms;
      for (;;) {
        const due = ticks.filter((t) => t.on && t.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        time = Math.max(time, due.next);
        due.next += due.every;
        due.tick();
      }
      time = end;
    },
    async sleep(ms) {
      clock.advance(ms);
      // Let the other acquirers run between polls.
      await new Promise((resolve) => setImmediate(resolve));
    },
    every(ms, tick) {
      const entry = { every: ms, next: time + ms, tick, on: true };
      ticks.push(entry);
      return () => void (entry.on = false);
    },
  };
  return clock;
}

function leaseStore(options: { forbidden?: boolean } = {}) {
  const leases = new Map<string, LeaseRecord>();
  let version = 0;
  const calls: string[] = [];
  const gateway: LeaseGateway = {
    namespace: 'kube-system',
    async get(name) {
      calls.push('get');
      await new Promise((resolve) => setImmediate(resolve));
      if (options.forbidden) throw new LeaseForbiddenError('get on leases.coordination.k8s.io in namespace kube-system is forbidden');
      const lease = leases.get(name);
      return lease ? structuredClone(lease) : null;
    },
    async create(name, lease: LeaseWrite) {
      calls.push('create');
      await new Promise((resolve) => setImmediate(resolve));
      if (leases.has(name)) throw new LeaseConflictError('exists');
      const stored = { ...structuredClone(lease), resourceVersion: String(++version) };
      leases.set(name, stored);
      return structuredClone(stored);
    },
    async list() {
      calls.push('list');
      await new Promise((resolve) => setImmediate(resolve));
      if (options.forbidden) throw new LeaseForbiddenError('list on leases.coordination.k8s.io in namespace kube-system is forbidden');
      return new Map([...leases].map(([name, lease]) => [name, structuredClone(lease)]));
    },
    async replace(name, resourceVersion, lease: LeaseWrite) {
      calls.push('replace');
      await new Promise((resolve) => setImmediate(resolve));
      const current = leases.get(name);
      if (!current || current.resourceVersion !== resourceVersion) throw new LeaseConflictError('conflict');
      const stored = { ...structuredClone(lease), resourceVersion: String(++version) };
      leases.set(name, stored);
      return structuredClone(stored);
    },
  };
  return { gateway, leases, calls };
}

const doc = (subject: string): PolicyDocument => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/x' }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'x:sub': subject } } }] });

test('a free role is locked at once and released with no holder and the digest of what was left', async () => {
  const store = leaseStore();
  const locker = createTrustLocker({ leases: store.gateway, clock: virtualClock() });
  const result = await locker.acquire('payments-api');
  assert.ok('lock' in result);
  assert.equal(result.lock.previousDigest, null);
  const name = leaseNameForRole('payments-api');
  assert.match(store.leases.get(name)!.holder!, /^irsa@/);
  await result.lock.release(doc('a'));
  const released = store.leases.get(name)!;
  assert.equal(released.holder, null);
  assert.equal(released.annotations[TRUST_DIGEST_ANNOTATION], trustDigest(doc('a')));
  // The next holder learns what IAM should show before it reads.
  const next = await locker.acquire('payments-api');
  assert.ok('lock' in next);
  assert.equal(next.lock.previousDigest, trustDigest(doc('a')));
});

test('runs started together on one role hold its lock one at a time (and changes of one run exclude each other too)', async () => {
  const store = leaseStore();
  const clock = virtualClock();
  const waits: string[] = [];
  const locker = createTrustLocker({ leases: store.gateway, clock, onWait: ({ holder }) => waits.push(holder) });
  const other = createTrustLocker({ leases: store.gateway, clock });
  let inside = 0;
  let most = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: 6 }, async (_, i) => {
      const result = await (i % 2 ? other : locker).acquire('shared');
      assert.ok('lock' in result);
      inside++;
      most = Math.max(most, inside);
      for (let step = 0; step < 3; step++) await new Promise((resolve) => setImmediate(resolve));
      inside--;
      done++;
      await result.lock.release(doc(`s${i}`));
    }),
  );
  assert.equal(done, 6);
  assert.equal(most, 1, 'two runs held the lock of one role at once');
  assert.ok(waits.length > 0, 'a run that waits says so');
});

test('a holder that died is taken over exactly one lease duration after the waiter first saw its record, not sooner', async () => {
  const store = leaseStore();
  const clock = virtualClock();
  // The holder is killed: its renew timer dies with it (a clock whose timers never fire) and it never releases.
  const dead = createTrustLocker({ leases: store.gateway, clock: { ...clock, every: () => () => {} }, durationSeconds: 15 });
  const held = await dead.acquire('r');
  assert.ok('lock' in held);
  const name = leaseNameForRole('r');
  const waiterClock = clock;
  const start = waiterClock.now();
  const waiter = createTrustLocker({ leases: store.gateway, clock: waiterClock });
  const taken = await waiter.acquire('r');
  assert.ok('lock' in taken);
  const waited = waiterClock.now() - start;
  assert.ok(waited >= 15_000, `took over after ${waited} ms, before the lease's 15 s`);
  assert.ok(waited < 15_000 + 600 + 1, `took over after ${waited} ms: more than one poll after the lease's 15 s`);
  assert.match(taken.lock.notes.join('\n'), /took over the trust lock of role r .* which had not renewed it for 15 s/);
  assert.equal(store.leases.get(name)!.transitions, 1);
});

test('a live holder (renewing) is never taken over: the waiter gives up after --lock-timeout, naming role, Lease and holder', async () => {
  const store = leaseStore();
  const clock = virtualClock();
  const live = createTrustLocker({ leases: store.gateway, clock, durationSeconds: 15 });
  const held = await live.acquire('busy-role');
  assert.ok('lock' in held);
  const waiter = createTrustLocker({ leases: store.gateway, clock, timeoutMs: 60_000 });
  await assert.rejects(waiter.acquire('busy-role'), (error: Error) => {
    assert.match(error.message, /gave up waiting for the trust lock of role busy-role after 60 s: Lease kube-system\/irsa-trust-busy-role-[0-9a-f]{10} is held by irsa@/);
    assert.match(error.message, /--lock-timeout/);
    return true;
  });
  assert.equal(held.lock.held(), true, 'the live holder kept its lock through 60 s of renewals');
  assert.ok(store.calls.filter((c) => c === 'replace').length >= 10, 'the holder renewed while the waiter polled');
  await held.lock.release(null);
});

test('a holder whose renewal fails knows it lost the lock', async () => {
  const store = leaseStore();
  const clock = virtualClock();
  const locker = createTrustLocker({ leases: store.gateway, clock, durationSeconds: 15 });
  const held = await locker.acquire('r2');
  assert.ok('lock' in held);
  // Another writer changes the Lease behind its back (e.g. took it over while this process was paused).
  const name = leaseNameForRole('r2');
  const current = store.leases.get(name)!;
  store.leases.set(name, { ...current, holder: 'someone-else', resourceVersion: 'other' });
  clock.advance(5_000);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(held.lock.held(), false);
  await held.lock.release(doc('x'));
  assert.equal(store.leases.get(name)!.holder, 'someone-else', 'a lost lock is not released over the new holder');
});

test('RBAC that forbids Leases is not an error: the lock is unavailable, with the grant to make', async () => {
  const store = leaseStore({ forbidden: true });
  const result = await createTrustLocker({ leases: store.gateway, clock: virtualClock() }).acquire('r');
  assert.ok('unavailable' in result);
  assert.match(result.unavailable, /grant get, create and update on leases\.coordination\.k8s\.io in kube-system/);
});

test('Lease names are DNS subdomains, one per role name (case-insensitive, as IAM role names are)', () => {
  const names = ['payments-api', 'Payments-API', 'a.b', 'a_b', 'a+b=c,d@e', 'x'.repeat(64), '___'];
  for (const role of names) {
    const lease = leaseNameForRole(role);
    assert.match(lease, /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, lease);
    assert.ok(lease.length <= 253);
  }
  assert.equal(leaseNameForRole('payments-api'), leaseNameForRole('Payments-API'));
  assert.notEqual(leaseNameForRole('a.b'), leaseNameForRole('a_b'));
});

test('--lock-timeout takes whole seconds from 1 to 3600; anything else is one paragraph naming the flag and the fix', async () => {
  const { parseLockTimeout } = await import('../../src/commands/trust-locks.ts');
  assert.equal(parseLockTimeout({}), 120_000);
  assert.equal(parseLockTimeout({ lockTimeout: '300' }), 300_000);
  for (const bad of ['0', '-5', '1.5', '2m', '3601', '']) {
    assert.throws(() => parseLockTimeout({ lockTimeout: bad }), (error: Error & { field?: string }) => {
      assert.match(error.message, /^--lock-timeout: ".*" is not a number of seconds from 1 to 3600\. .*e\.g\. --lock-timeout 300\.$/);
      return true;
    });
  }
});

test('a batch takes every lock at once when all are free; if another run holds one, it keeps none and leaves their records as they were', async () => {
  const store = leaseStore();
  const clock = virtualClock();
  const locker = createTrustLocker({ leases: store.gateway, clock });
  const other = createTrustLocker({ leases: store.gateway, clock });
  // r1 was written before (its record says what it holds); r2 is held by another run now.
  const before = await locker.acquire('r1');
  assert.ok('lock' in before);
  await before.lock.release(doc('a'));
  const held = await other.acquire('r2');
  assert.ok('lock' in held);
  const r1Before = structuredClone(store.leases.get(leaseNameForRole('r1'))!);
  assert.equal(await locker.tryAcquireAll(['r0', 'r1', 'r2', 'r3'], 2), null);
  const r1After = store.leases.get(leaseNameForRole('r1'))!;
  assert.equal(r1After.holder, null, 'a lock taken by the failed batch was not given back');
  assert.equal(r1After.annotations[TRUST_DIGEST_ANNOTATION], r1Before.annotations[TRUST_DIGEST_ANNOTATION], 'giving back untouched changed the record');
  for (const name of ['r0', 'r3']) assert.ok(!store.leases.get(leaseNameForRole(name))?.holder, `${name} is still held by the failed batch`);
  assert.match(store.leases.get(leaseNameForRole('r2'))!.holder!, /^irsa@/, "the other run's lock was touched");
  // Once it is released, the whole batch is taken, each lock knowing what its last holder left.
  await held.lock.release(doc('b'));
  const all = await locker.tryAcquireAll(['r0', 'r1', 'r2', 'r3'], 2);
  assert.ok(all);
  assert.deepEqual([...all.keys()].sort(), ['r0', 'r1', 'r2', 'r3']);
  assert.equal(all.get('r1')!.previousDigest, trustDigest(doc('a')));
  assert.equal(all.get('r2')!.previousDigest, trustDigest(doc('b')));
  for (const name of ['r0', 'r1', 'r2', 'r3']) assert.match(store.leases.get(leaseNameForRole(name))!.holder!, /^irsa@/);
  await Promise.all([...all.values()].map((lock) => lock.abandon()));
});

test('a release whose document is unknown (a write that failed midway, a deleted role) clears the record: the next holder reads without expecting one', async () => {
  const store = leaseStore();
  const locker = createTrustLocker({ leases: store.gateway, clock: virtualClock() });
  const first = await locker.acquire('r');
  assert.ok('lock' in first);
  await first.lock.release(doc('a'));
  const second = await locker.acquire('r');
  assert.ok('lock' in second);
  assert.equal(second.lock.previousDigest, trustDigest(doc('a')));
  await second.lock.release(null);
  assert.equal(store.leases.get(leaseNameForRole('r'))!.annotations[TRUST_DIGEST_ANNOTATION], undefined);
  const third = await locker.acquire('r');
  assert.ok('lock' in third);
  assert.equal(third.lock.previousDigest, null);
});

test('a batch of trust changes: all locks first, one bulk read under them, then one write per role (no re-check or read-back call); a role whose bulk read lags the Lease record is read again', async () => {
  const { prepareTrustBatch, TRUST_BATCH_MIN } = await import('../../src/engine/trust-batch.ts');
  const { createExecutor } = await import('../../src/engine/execute.ts');
  const store = leaseStore();
  const clock = virtualClock();
  const locker = createTrustLocker({ leases: store.gateway, clock });
  const n = TRUST_BATCH_MIN + 2;
  const names = Array.from({ length: n }, (_, i) => `role-${i}`);
  const trust = new Map(names.map((name) => [name, doc(`old-${name}`)]));
  // role-0 was written by an earlier run whose document the bulk read does not show yet.
  const earlier = await locker.acquire('role-0');
  assert.ok('lock' in earlier);
  await earlier.lock.release(doc('newer-role-0'));
  let bulkReadsBehind = true;
  const calls: string[] = [];
  const state = (name: string) => ({ arn: `arn:aws:iam::111122223333:role/${name}`, name, path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, tags: {}, trustPolicy: trust.get(name)! });
  const iam = {
    async listRoleDetails() {
      calls.push('listRoleDetails');
      return names.map((name) => ({ ...state(name), attachedPolicyArns: [], inlinePolicies: {} }));
    },
    async getRoleSettings(name: string) {
      calls.push(`getRoleSettings ${name}`);
      if (name === 'role-0' && bulkReadsBehind) trust.set(name, doc('newer-role-0'));
      return state(name);
    },
    async updateTrustPolicy(name: string, document: PolicyDocument) {
      calls.push(`updateTrustPolicy ${name}`);
      trust.set(name, document);
    },
  } as unknown as import('../../src/ports.ts').IamGateway;
  const changes = names.map((name) => ({ kind: 'iam-role' as const, id: state(name).arn, action: 'update' as const, dependsOn: [], before: state(name), after: { ...state(name), trustPolicy: doc(`new-${name}`) } }));
  const plan = { changes, blockers: [], notes: [], warnings: [] } as unknown as import('../../src/core/plan.ts').Plan;
  const batch = await prepareTrustBatch(plan, locker, iam, 4);
  assert.deepEqual(calls, ['listRoleDetails']);
  for (const name of names) assert.match(store.leases.get(leaseNameForRole(name))!.holder!, /^irsa@/, `${name} is not locked before the writes`);
  const execute = createExecutor({ iam, trustLocks: batch.locker });
  const outcomes = await Promise.allSettled(changes.map((change) => execute(change)));
  await batch.finish();
  bulkReadsBehind = false;
  // role-0: its bulk read showed the document before the earlier run's write, so it was read again and found changed (stale: planned from the older one).
  assert.equal(outcomes[0]!.status, 'rejected');
  assert.deepEqual(calls.filter((c) => c.startsWith('getRoleSettings')), ['getRoleSettings role-0']);
  assert.deepEqual(calls.filter((c) => c.startsWith('updateTrustPolicy')).sort(), names.slice(1).map((name) => `updateTrustPolicy ${name}`).sort());
  for (const name of names.slice(1)) {
    const record = store.leases.get(leaseNameForRole(name))!;
    assert.equal(record.holder, null);
    assert.equal(record.annotations[TRUST_DIGEST_ANNOTATION], trustDigest(doc(`new-${name}`)), `${name}: the Lease does not record the written document`);
  }
});

test('locks kept across the steps of one command: taken once, handed out again (a repair does not wait for itself), released once with what the last write left', async () => {
  const { keepTrustLocks } = await import('../../src/engine/trust-batch.ts');
  const store = leaseStore();
  const clock = virtualClock();
  const locker = createTrustLocker({ leases: store.gateway, clock });
  const names = ['a', 'b', 'c'];
  const held = await locker.tryAcquireAll(names, 2);
  assert.ok(held);
  const kept = keepTrustLocks(locker, held);
  const role = (name: string, subject: string) => ({ arn: `arn:aws:iam::111122223333:role/${name}`, name, path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, tags: {}, trustPolicy: doc(subject) });
  // Step 1: each change gets its lock with the read made under it, and records what it wrote.
  const step1 = kept.batchOf(new Map(names.map((name) => [name, role(name, 'old')])));
  for (const name of names) {
    const got = await step1.locker.acquire(name);
    assert.ok('lock' in got);
    assert.deepEqual(got.lock.fresh?.trustPolicy, doc('old'));
    await got.lock.release(name === 'c' ? null : doc(`step1-${name}`));
  }
  await step1.finish();
  for (const name of names) assert.match(store.leases.get(leaseNameForRole(name))!.holder!, /^irsa@/, `${name} was released between the steps`);
  // Step 5: a read that shows what step 1 wrote is used; one that lags (b) is not (its change reads again); c's write was unknown.
  const step5 = kept.batchOf(new Map([['a', role('a', 'step1-a')], ['b', role('b', 'old')], ['c', role('c', 'whatever')]]), { last: true });
  const a = await step5.locker.acquire('a');
  const b = await step5.locker.acquire('b');
  const c = await step5.locker.acquire('c');
  assert.ok('lock' in a && 'lock' in b && 'lock' in c);
  assert.deepEqual(a.lock.fresh?.trustPolicy, doc('step1-a'));
  assert.equal(a.lock.previousDigest, trustDigest(doc('step1-a')));
  assert.equal(b.lock.fresh, undefined);
  assert.equal(c.lock.fresh, undefined);
  await a.lock.release(doc('step5-a'));
  // A repair of a in the same step gets the lock again at once, and reads (no stale fresh read).
  const again = await step5.locker.acquire('a');
  assert.ok('lock' in again);
  assert.equal(again.lock.fresh, undefined);
  await again.lock.release(doc('repaired-a'));
  await step5.finish();
  const record = (name: string) => store.leases.get(leaseNameForRole(name))!;
  assert.equal(record('a').holder, null);
  assert.equal(record('a').annotations[TRUST_DIGEST_ANNOTATION], trustDigest(doc('repaired-a')));
  assert.equal(record('b').annotations[TRUST_DIGEST_ANNOTATION], trustDigest(doc('step1-b')));
  assert.equal(record('c').annotations[TRUST_DIGEST_ANNOTATION], undefined, 'an unknown write left a digest behind');
  // Released: a later change locks as any other (never unlocked).
  const after = await step5.locker.acquire('a');
  assert.ok('lock' in after);
  assert.match(record('a').holder!, /^irsa@/);
  await after.lock.release(null);
});
