// After apply, trust changes are read back against their intent (engine/trust-verify.ts): an
// overwrite by a concurrent run is repaired through the executor, an unrepairable one fails the run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplyReport } from '../../src/core/model/apply.ts';
import type { Change } from '../../src/core/plan.ts';
import { roleValue } from '../../src/core/resources/iam-role.ts';
import { parseTrustPolicy } from '../../src/core/trust-policy.ts';
import type { RoleState } from '../../src/core/state.ts';
import { verifyTrustIntents } from '../../src/engine/trust-verify.ts';
import type { IamGateway } from '../../src/ports.ts';
import { role } from './fixtures/binding.ts';

const api = 'system:serviceaccount:payments:api';
const worker = 'system:serviceaccount:payments:worker';
const other = 'system:serviceaccount:other:run';
const state = (subjects: string[]): RoleState => role({ arn: 'arn:aws:iam::111122223333:role/r', name: 'r', tags: { 'irsa:managed-by': 'irsa' }, subjects });
const before = roleValue(state([api]));
const change: Change = { kind: 'iam-role', id: 'arn:aws:iam::111122223333:role/r', action: 'update', before, after: { ...before, trustPolicy: state([api, worker]).trustPolicy }, dependsOn: [] };
const report = (): ApplyReport => ({ results: [{ key: 'k', change, status: 'applied' }], ok: true, applied: 1, failed: 0, stale: 0, notStarted: 0 });
const iamReading = (read: () => RoleState | null) => ({ getRoleSettings: async () => read() }) as unknown as IamGateway;
const subjects = (role: RoleState) => parseTrustPolicy(role.trustPolicy).trusts.flatMap((t) => t.subjects).sort();

test('a trust change still in place after apply is left as it is, with one read', async () => {
  let reads = 0;
  const verified = await verifyTrustIntents(report(), iamReading(() => (reads++, state([api, worker, other]))), async () => assert.fail('nothing to repair'));
  assert.equal(reads, 1);
  assert.equal(verified.ok, true);
  assert.deepEqual(verified.results[0]!.notes, undefined);
});

test('a trust change a concurrent run overwrote after apply is replayed onto the newer policy through the executor, and said so', async () => {
  const repairs: Change[] = [];
  const verified = await verifyTrustIntents(report(), iamReading(() => state([api, other])), async (repair) => void repairs.push(repair));
  assert.equal(repairs.length, 1);
  const repaired = repairs[0]!;
  assert.ok(repaired.kind === 'iam-role' && repaired.action === 'update');
  assert.deepEqual(subjects({ ...state([]), trustPolicy: repaired.after.trustPolicy }), [other, api, worker].sort());
  assert.equal(verified.ok, true);
  assert.match(verified.results[0]!.notes!.join('\n'), /another run overwrote the trust policy of r .*payments:worker is missing/);
});

test('an overwrite that cannot be repaired fails the run, naming the role and the subject', async () => {
  const verified = await verifyTrustIntents(report(), iamReading(() => state([api, other])), async () => {
    throw new Error('AccessDenied');
  });
  assert.equal(verified.ok, false);
  assert.equal(verified.failed, 1);
  assert.equal(verified.results[0]!.status, 'failed');
  assert.match(String(verified.results[0]!.error), /trust policy of role r does not hold this change after apply: system:serviceaccount:payments:worker is missing/);
  const gone = await verifyTrustIntents(report(), iamReading(() => null), async () => undefined);
  assert.equal(gone.ok, false);
});
