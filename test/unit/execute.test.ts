import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExecutor, metadataPatch, StaleChangeError } from '../../src/engine/execute.ts';
import type { IamGateway, KubeGateway } from '../../src/ports.ts';
import type { Change } from '../../src/core/plan.ts';
import { roleValue } from '../../src/core/resources/iam-role.ts';
import type { RoleValue } from '../../src/core/resources/types.ts';
import type { RoleState } from '../../src/core/state.ts';
import { parseTrustPolicy } from '../../src/core/trust-policy.ts';
import { role } from './fixtures/binding.ts';

/** Records calls; methods not listed throw, so a test fails when apply calls something unplanned. */
function recorder<T extends object>(impl: Partial<Record<keyof T, (...args: never[]) => unknown>>): { gateway: T; calls: string[] } {
  const calls: string[] = [];
  const gateway = new Proxy({} as T, {
    get: (_, name: string) => async (...args: unknown[]) => {
      calls.push(`${name}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
      const fn = (impl as Record<string, (...a: unknown[]) => unknown>)[name];
      if (!fn) throw new Error(`unexpected call ${name}`);
      return fn(...args);
    },
  });
  return { gateway, calls };
}

const names = (calls: string[]) => calls.map((c) => c.split('(')[0]);
const writes = (calls: string[]) => names(calls).filter((name) => !/^(get|list)/.test(name!));

const current = (overrides: Partial<RoleState> & { subjects?: string[] } = {}): RoleState =>
  role({ arn: 'arn:aws:iam::111122223333:role/r', name: 'r', tags: { 'irsa:managed-by': 'irsa', a: '1' }, ...overrides });
const roleUpdate = (before: RoleValue, after: RoleValue): Change => ({ kind: 'iam-role', id: 'arn:aws:iam::111122223333:role/r', action: 'update', before, after, dependsOn: [] });

test('a role update re-reads the role, then calls only what differs: trust policy, boundary, tags added and removed', async () => {
  let state = current();
  const { gateway, calls } = recorder<IamGateway>({
    getRoleSettings: () => state,
    updateTrustPolicy: (_name: never, document: never) => { state = { ...state, trustPolicy: document }; },
    putPermissionsBoundary: () => {},
    tagRole: () => {},
    untagRole: () => {},
  });
  const before = roleValue(state);
  const after = { ...before, trustPolicy: role({ subjects: ['system:serviceaccount:x:y'] }).trustPolicy, permissionsBoundary: 'arn:aws:iam::aws:policy/B', tags: { 'irsa:managed-by': 'irsa', b: '2' } };
  const outcome = await createExecutor({ iam: gateway })(roleUpdate(before, after));
  // The trust write is read back (IAM has no conditional write: proof the subject is in place).
  assert.deepEqual(names(calls), ['getRoleSettings', 'updateTrustPolicy', 'getRoleSettings', 'putPermissionsBoundary', 'tagRole', 'untagRole']);
  assert.equal(calls[4], 'tagRole("r", {"b":"2"})');
  assert.equal(calls[5], 'untagRole("r", ["a"])');
  assert.deepEqual(outcome.notes, []);
});

test('updateRole carries description and max session duration; removing a boundary deletes it', async () => {
  const state = current({ permissionsBoundary: 'arn:aws:iam::aws:policy/B' });
  const { gateway, calls } = recorder<IamGateway>({ getRoleSettings: () => state, updateRole: () => {}, deletePermissionsBoundary: () => {} });
  const before = roleValue(state);
  await createExecutor({ iam: gateway })(roleUpdate(before, { ...before, description: 'new', maxSessionDuration: 7200, permissionsBoundary: null }));
  assert.deepEqual(writes(calls), ['updateRole', 'deletePermissionsBoundary']);
  assert.equal(calls[1], 'updateRole("r", {"description":"new","maxSessionDuration":7200})');
  assert.equal(calls[2], 'deletePermissionsBoundary("r")');
});

test('an OIDC provider update adds exactly the client IDs the plan adds (not the reverse) and sets thumbprints', async () => {
  const before = { url: 'issuer.example.com', clientIds: ['sts.amazonaws.com'], thumbprints: ['aa'], tags: {} };
  const after = { ...before, clientIds: ['custom', 'sts.amazonaws.com'], thumbprints: ['bb'] };
  const { gateway, calls } = recorder<IamGateway>({
    getOidcProvider: () => ({ arn: 'p', url: before.url, clientIds: before.clientIds, thumbprints: before.thumbprints, tags: {} }),
    addOidcProviderClientId: () => {},
    updateOidcProviderThumbprints: () => {},
  });
  await createExecutor({ iam: gateway })({ kind: 'oidc-provider', id: 'p', action: 'update', before, after, dependsOn: [] });
  assert.deepEqual(writes(calls), ['updateOidcProviderThumbprints', 'addOidcProviderClientId']);
  assert.equal(calls[2], 'addOidcProviderClientId("p", "custom")');
});

test('re-check: a trust policy that gained a subject since the plan is re-derived, keeping it, and said so', async () => {
  const planned = current({ subjects: ['system:serviceaccount:payments:api'] });
  let meanwhile = current({ subjects: ['system:serviceaccount:payments:api', 'system:serviceaccount:other:run'] });
  const written: unknown[] = [];
  const { gateway } = recorder<IamGateway>({
    getRoleSettings: () => meanwhile,
    updateTrustPolicy: (_name: never, document: never) => { written.push(document); meanwhile = { ...meanwhile, trustPolicy: document }; },
  });
  const before = roleValue(planned);
  const after = { ...before, trustPolicy: role({ subjects: ['system:serviceaccount:payments:api', 'system:serviceaccount:payments:worker'] }).trustPolicy };
  const outcome = await createExecutor({ iam: gateway })(roleUpdate(before, after));
  assert.equal(written.length, 1);
  const subjects = parseTrustPolicy(written[0] as RoleValue['trustPolicy']).trusts.flatMap((t) => t.subjects).sort();
  assert.deepEqual(subjects, ['system:serviceaccount:other:run', 'system:serviceaccount:payments:api', 'system:serviceaccount:payments:worker']);
  assert.match(outcome.notes.join('\n'), /changed after the plan was made; this change's subjects were merged/);
});

test('re-check: a role whose settings changed since the plan is stale and nothing is written', async () => {
  const planned = current();
  const { gateway, calls } = recorder<IamGateway>({ getRoleSettings: () => ({ ...planned, description: 'edited by hand' }) });
  const before = roleValue(planned);
  await assert.rejects(createExecutor({ iam: gateway })(roleUpdate(before, { ...before, maxSessionDuration: 7200 })), StaleChangeError);
  assert.deepEqual(writes(calls), []);
  const gone = recorder<IamGateway>({ getRoleSettings: () => null });
  await assert.rejects(createExecutor({ iam: gone.gateway })(roleUpdate(before, { ...before, maxSessionDuration: 7200 })), /deleted after the plan was made/);
});

test('re-check: a concurrent run that set a tag this change sets too (irsa:service-account on a shared role) is re-derived; another tag is stale', async () => {
  const planned = current({ subjects: ['system:serviceaccount:payments:api'], tags: { 'irsa:managed-by': 'irsa', 'irsa:service-account': 'api' } });
  // Meanwhile another run bound payments/other to the same role: a subject and the tag.
  let meanwhile = current({ subjects: ['system:serviceaccount:payments:api', 'system:serviceaccount:payments:other'], tags: { 'irsa:managed-by': 'irsa', 'irsa:service-account': 'other' } });
  const written: unknown[] = [];
  const { gateway, calls } = recorder<IamGateway>({
    getRoleSettings: () => meanwhile,
    updateTrustPolicy: (_name: never, document: never) => { written.push(document); meanwhile = { ...meanwhile, trustPolicy: document }; },
    tagRole: () => undefined,
  });
  const before = roleValue(planned);
  const after = { ...before, tags: { ...before.tags, 'irsa:service-account': 'worker' }, trustPolicy: role({ subjects: ['system:serviceaccount:payments:api', 'system:serviceaccount:payments:worker'] }).trustPolicy };
  await createExecutor({ iam: gateway })(roleUpdate(before, after));
  const subjects = parseTrustPolicy(written[0] as RoleValue['trustPolicy']).trusts.flatMap((t) => t.subjects).sort();
  assert.deepEqual(subjects, ['system:serviceaccount:payments:api', 'system:serviceaccount:payments:other', 'system:serviceaccount:payments:worker']);
  assert.ok(calls.some((c) => c.startsWith('tagRole(') && c.includes('"irsa:service-account":"worker"')));
  // A tag this change does not set, changed meanwhile: stale, nothing written.
  const edited = recorder<IamGateway>({ getRoleSettings: () => ({ ...planned, tags: { ...planned.tags, team: 'edited' } }) });
  await assert.rejects(createExecutor({ iam: edited.gateway })(roleUpdate(before, after)), StaleChangeError);
  assert.deepEqual(writes(edited.calls), []);
});

test('a role create that meets "already exists": irsa\'s role gets this subject merged; a hand-made role is stale', async () => {
  const planned = roleValue(current({ subjects: ['system:serviceaccount:payments:worker'] }));
  const create: Change = { kind: 'iam-role', id: 'arn:aws:iam::111122223333:role/r', action: 'create', before: null, after: planned, dependsOn: [] };
  const exists = Object.assign(new Error('Role with name r already exists.'), { name: 'EntityAlreadyExists' });
  const written: unknown[] = [];
  let existing = current({ subjects: ['system:serviceaccount:payments:api'] });
  const { gateway } = recorder<IamGateway>({
    createRole: () => { throw exists; },
    getRoleSettings: () => existing,
    updateTrustPolicy: (_name: never, document: never) => { written.push(document); existing = { ...existing, trustPolicy: document }; },
  });
  const outcome = await createExecutor({ iam: gateway })(create);
  assert.deepEqual(parseTrustPolicy(written[0] as RoleValue['trustPolicy']).trusts.flatMap((t) => t.subjects).sort(), [
    'system:serviceaccount:payments:api',
    'system:serviceaccount:payments:worker',
  ]);
  assert.match(outcome.notes.join('\n'), /created meanwhile \(another irsa run\)/);
  const lostReply = recorder<IamGateway>({ createRole: () => { throw exists; }, getRoleSettings: () => current({ subjects: ['system:serviceaccount:payments:worker'] }) });
  assert.match((await createExecutor({ iam: lostReply.gateway })(create)).notes.join('\n'), /already exists and trusts this ServiceAccount/);
  const other = recorder<IamGateway>({ createRole: () => { throw exists; }, getRoleSettings: () => current({ tags: {} }) });
  await assert.rejects(createExecutor({ iam: other.gateway })(create), /created by someone else/);
  assert.deepEqual(writes(other.calls), ['createRole']);
});

test('deletes tolerate "not found"; a ServiceAccount created meanwhile is planned again, never blindly patched', async () => {
  const notFound = Object.assign(new Error('gone'), { name: 'NoSuchEntity' });
  const { gateway } = recorder<IamGateway>({ detachPolicy: () => { throw notFound; } });
  await createExecutor({ iam: gateway })({ kind: 'role-policy-attachment', id: 'x', action: 'delete', before: { roleName: 'r', policyArn: 'p' }, after: null, dependsOn: [] });
  const conflict = Object.assign(new Error('conflict'), { code: 409 });
  const after = { namespace: 'n', name: 's', annotations: { 'eks.amazonaws.com/role-arn': 'arn' }, labels: {} };
  const create: Change = { kind: 'service-account', id: 'n/s', action: 'create', before: null, after, dependsOn: [] };
  // Unbound: the planner's update (set the annotation).
  const plain = recorder<KubeGateway>({ createServiceAccount: () => { throw conflict; }, getServiceAccount: () => ({ namespace: 'n', name: 's', annotations: {}, labels: {} }), patchServiceAccountMetadata: () => {} });
  await createExecutor({ kube: plain.gateway })(create);
  assert.equal(plain.calls[2], 'patchServiceAccountMetadata("n", "s", {"annotations":{"eks.amazonaws.com/role-arn":"arn"},"labels":{}})');
  // Bound to another role: stale, nothing patched.
  const bound = recorder<KubeGateway>({
    createServiceAccount: () => { throw conflict; },
    getServiceAccount: () => ({ namespace: 'n', name: 's', annotations: { 'eks.amazonaws.com/role-arn': 'arn:other' }, labels: {} }),
  });
  await assert.rejects(createExecutor({ kube: bound.gateway })(create), (error: unknown) => error instanceof StaleChangeError && /bound to arn:other.*--override-existing-serviceaccounts/.test(error.message));
  assert.deepEqual(writes(bound.calls), ['createServiceAccount']);
});

test('a ServiceAccount update whose annotation changed since the plan is stale', async () => {
  const before = { namespace: 'n', name: 's', annotations: { 'eks.amazonaws.com/role-arn': 'arn:old' }, labels: {} };
  const update: Change = { kind: 'service-account', id: 'n/s', action: 'update', before, after: { ...before, annotations: { 'eks.amazonaws.com/role-arn': 'arn:new' } }, dependsOn: [] };
  const moved = recorder<KubeGateway>({ getServiceAccount: () => ({ ...before, annotations: { 'eks.amazonaws.com/role-arn': 'arn:third' } }) });
  await assert.rejects(createExecutor({ kube: moved.gateway })(update), StaleChangeError);
  assert.deepEqual(writes(moved.calls), []);
});

test('metadataPatch sets changed keys and nulls removed ones', () => {
  assert.deepEqual(metadataPatch({ a: '1', b: '2' }, { a: '1', c: '3' }), { c: '3', b: null });
});

test('a trust write overwritten by a concurrent run (last writer wins) is read back, re-merged into the newer policy and said so', async () => {
  const api = 'system:serviceaccount:payments:api';
  const worker = 'system:serviceaccount:payments:worker';
  const other = 'system:serviceaccount:other:run';
  let state = current({ subjects: [api] });
  const written: unknown[] = [];
  let overwrite = true;
  const { gateway } = recorder<IamGateway>({
    getRoleSettings: () => state,
    updateTrustPolicy: (_name: never, document: never) => {
      written.push(document);
      state = { ...state, trustPolicy: document };
      // Another run that read the same document writes right after this one: this run's subject is gone.
      if (overwrite) { overwrite = false; state = current({ subjects: [api, other] }); }
    },
  });
  const before = roleValue(current({ subjects: [api] }));
  const outcome = await createExecutor({ iam: gateway })(roleUpdate(before, { ...before, trustPolicy: role({ subjects: [api, worker] }).trustPolicy }));
  assert.equal(written.length, 2);
  assert.deepEqual(parseTrustPolicy(state.trustPolicy).trusts.flatMap((t) => t.subjects).sort(), [other, api, worker].sort());
  assert.match(outcome.notes.join('\n'), /another run wrote the trust policy of r at the same time/);
});

test('a trust change that cannot be put in place is an error naming the role and the subject, never a quiet success', async () => {
  const api = 'system:serviceaccount:payments:api';
  const worker = 'system:serviceaccount:payments:worker';
  let state = current({ subjects: [api] });
  let writesSeen = 0;
  const { gateway } = recorder<IamGateway>({
    getRoleSettings: () => state,
    // A writer that always lands right after this run's writes, dropping its subject.
    updateTrustPolicy: () => { writesSeen += 1; state = current({ subjects: [api, `system:serviceaccount:other:w${writesSeen}`] }); },
  });
  const before = roleValue(current({ subjects: [api] }));
  await assert.rejects(
    createExecutor({ iam: gateway })(roleUpdate(before, { ...before, trustPolicy: role({ subjects: [api, worker] }).trustPolicy })),
    new RegExp(`trust policy of role r does not hold this change after 5 write\\(s\\): ${worker} is missing`),
  );
  assert.equal(writesSeen, 5);
});
