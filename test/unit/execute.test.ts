import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExecutor, metadataPatch } from '../../src/engine/execute.ts';
import type { IamGateway, KubeGateway } from '../../src/ports.ts';
import type { Change } from '../../src/core/plan.ts';
import type { RoleValue } from '../../src/core/resources/types.ts';
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

const roleValue: RoleValue = { name: 'r', path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, tags: { a: '1' }, trustPolicy: role().trustPolicy };
const roleChange = (overrides: Record<string, unknown>): Change => {
  const loose: unknown = { kind: 'iam-role', id: 'arn:aws:iam::111122223333:role/r', action: 'update', before: roleValue, after: roleValue, dependsOn: [], ...overrides };
  return loose as Change;
};

test('a role update calls only what differs: trust policy, boundary, tags added and removed', async () => {
  const { gateway, calls } = recorder<IamGateway>({ updateTrustPolicy: () => {}, putPermissionsBoundary: () => {}, tagRole: () => {}, untagRole: () => {} });
  const before = roleValue;
  const after = { ...before, trustPolicy: role({ subjects: ['system:serviceaccount:x:y'] }).trustPolicy, permissionsBoundary: 'arn:aws:iam::aws:policy/B', tags: { b: '2' } };
  await createExecutor({ iam: gateway })(roleChange({ after }));
  assert.deepEqual(calls.map((c) => c.split('(')[0]), ['updateTrustPolicy', 'putPermissionsBoundary', 'tagRole', 'untagRole']);
  assert.equal(calls[2], 'tagRole("r", {"b":"2"})');
  assert.equal(calls[3], 'untagRole("r", ["a"])');
});

test('a create whose reply was lost ("already exists") succeeds when the role is the planned one', async () => {
  const planned = roleChange({ action: 'create', before: null });
  const exists = Object.assign(new Error('Role with name r already exists.'), { name: 'EntityAlreadyExists' });
  const { gateway } = recorder<IamGateway>({
    createRole: () => { throw exists; },
    getRole: () => role({ name: 'r' }),
  });
  await createExecutor({ iam: gateway })(planned);
  const other = recorder<IamGateway>({
    createRole: () => { throw exists; },
    getRole: () => role({ name: 'r', subjects: ['system:serviceaccount:someone:else'] }),
  });
  await assert.rejects(createExecutor({ iam: other.gateway })(planned), /created by someone else/);
});

test('deletes tolerate "not found"; a ServiceAccount that appeared meanwhile is patched instead', async () => {
  const notFound = Object.assign(new Error('gone'), { name: 'NoSuchEntity' });
  const { gateway } = recorder<IamGateway>({ detachPolicy: () => { throw notFound; } });
  await createExecutor({ iam: gateway })({ kind: 'role-policy-attachment', id: 'x', action: 'delete', before: { roleName: 'r', policyArn: 'p' }, after: null, dependsOn: [] });
  const conflict = Object.assign(new Error('conflict'), { code: 409 });
  const kube = recorder<KubeGateway>({ createServiceAccount: () => { throw conflict; }, patchServiceAccountMetadata: () => {} });
  const after = { namespace: 'n', name: 's', annotations: { 'eks.amazonaws.com/role-arn': 'arn' }, labels: {} };
  await createExecutor({ kube: kube.gateway })({ kind: 'service-account', id: 'n/s', action: 'create', before: null, after, dependsOn: [] });
  assert.equal(kube.calls[1], 'patchServiceAccountMetadata("n", "s", {"annotations":{"eks.amazonaws.com/role-arn":"arn"}})');
});

test('metadataPatch sets changed keys and nulls removed ones', () => {
  assert.deepEqual(metadataPatch({ a: '1', b: '2' }, { a: '1', c: '3' }), { c: '3', b: null });
});
