// The read cost model and the two ways of reading roles and ServiceAccounts, over fake gateways:
// both ways must return the same data in the same order, whatever the account holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRoleReads, chooseServiceAccountReads, readRoles, readServiceAccounts } from '../../src/engine/bulk-reads.ts';
import { RemoteError } from '../../src/core/errors.ts';
import type { RoleState, ServiceAccountState } from '../../src/core/state.ts';
import type { IamGateway, KubeGateway } from '../../src/ports.ts';

const role = (name: string, tags: Record<string, string> = {}): RoleState => ({
  arn: `arn:aws:iam::111122223333:role/${name}`, name, path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null,
  trustPolicy: { Version: '2012-10-17', Statement: [] }, tags, attachedPolicyArns: [], inlinePolicies: {},
});
const owned = (name: string, cluster: string) => role(name, { 'irsa:managed-by': 'irsa', 'irsa:cluster': cluster });

/** An IamGateway over a fixed set of roles that counts each read. */
function fakeIam(roles: RoleState[], options: { denyBulk?: boolean } = {}) {
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const iam = {
    async getRole(name: string) {
      count('getRole');
      return roles.find((r) => r.name === name) ?? null;
    },
    async listRoles() {
      count('listRoles');
      // A different order than the bulk read: the readers must not depend on it.
      return [...roles].reverse().map((r) => ({ name: r.name, arn: r.arn }));
    },
    async listRoleTags(name: string) {
      count('listRoleTags');
      return roles.find((r) => r.name === name)?.tags ?? {};
    },
    async listRoleDetails() {
      count('listRoleDetails');
      if (options.denyBulk) throw Object.assign(new RemoteError('iam:GetAccountAuthorizationDetails was denied'), { cause: Object.assign(new Error('no'), { name: 'AccessDenied' }) });
      return roles;
    },
  } as unknown as IamGateway;
  return { iam, calls };
}

test('cost model: an account scan always reads in bulk; without one, a handful of roles are read one by one', () => {
  for (const roles of [1, 5, 20, 200, 2000]) {
    assert.equal(chooseRoleReads({ roles, accountScan: true, concurrency: 16 }).strategy, 'bulk', `${roles} roles with a scan`);
  }
  assert.equal(chooseRoleReads({ roles: 1, accountScan: false, concurrency: 16 }).strategy, 'per-role');
  assert.equal(chooseRoleReads({ roles: 16, accountScan: false, concurrency: 16 }).strategy, 'per-role');
  assert.equal(chooseRoleReads({ roles: 100, accountScan: false, concurrency: 16 }).strategy, 'bulk');
  // A lower concurrency makes per-role reads take longer, so bulk wins sooner.
  assert.equal(chooseRoleReads({ roles: 8, accountScan: false, concurrency: 2 }).strategy, 'bulk');
  // Nothing to read: never a bulk read.
  assert.equal(chooseRoleReads({ roles: 0, accountScan: false, concurrency: 16 }).strategy, 'per-role');
});

test('cost model: ServiceAccounts are listed per namespace when two or more are wanted there', () => {
  assert.deepEqual(chooseServiceAccountReads(['a/x', 'a/y', 'b/z', 'c/1', 'c/2', 'c/3', 'a/x']), { list: ['a', 'c'], get: ['b/z'] });
  assert.deepEqual(chooseServiceAccountReads(['a/x']), { list: [], get: ['a/x'] });
});

test('readRoles: bulk and per-role reads give the same roles and the same cluster roles, sorted by name', async () => {
  const account = [role('app-a'), owned('zeta', 'prod'), owned('orphan', 'prod'), owned('other-cluster', 'dev'), role('unrelated'), owned('app-b', 'prod')];
  const names = ['app-b', 'missing', 'app-a'];
  const bulk = fakeIam(account);
  const single = fakeIam(account);
  const viaBulk = await readRoles(bulk.iam, names, { concurrency: 4, accountScan: { clusterName: 'prod' }, strategy: 'bulk' });
  const viaRoles = await readRoles(single.iam, names, { concurrency: 4, accountScan: { clusterName: 'prod' }, strategy: 'per-role' });
  assert.deepEqual([...viaBulk.roles], [...viaRoles.roles]);
  assert.deepEqual([...viaBulk.roles.keys()], names);
  assert.equal(viaBulk.roles.get('missing'), null);
  assert.deepEqual(viaBulk.clusterRoles, viaRoles.clusterRoles);
  assert.deepEqual(viaBulk.clusterRoles.map((r) => r.name), ['orphan', 'zeta']);
  assert.deepEqual(bulk.calls, { listRoleDetails: 1 });
  // Per role: one getRole per name and per owned candidate, one listRoleTags per other role.
  assert.deepEqual(single.calls, { getRole: 5, listRoles: 1, listRoleTags: 4 });
});

test('readRoles: the cost model picks bulk for a declarative scan and per-role for one named role', async () => {
  const account = [role('a'), owned('b', 'prod')];
  const scanned = fakeIam(account);
  assert.equal((await readRoles(scanned.iam, ['a'], { concurrency: 16, accountScan: { clusterName: 'prod' } })).strategy, 'bulk');
  assert.deepEqual(scanned.calls, { listRoleDetails: 1 });
  const one = fakeIam(account);
  assert.equal((await readRoles(one.iam, ['a'], { concurrency: 16 })).strategy, 'per-role');
  assert.deepEqual(one.calls, { getRole: 1 });
});

test('readRoles: a denied bulk read falls back to per-role reads and says so; other errors are not hidden', async () => {
  const account = [role('a'), owned('b', 'prod')];
  const denied = fakeIam(account, { denyBulk: true });
  const reads = await readRoles(denied.iam, ['a'], { concurrency: 4, accountScan: { clusterName: 'prod' } });
  assert.equal(reads.strategy, 'per-role');
  assert.match(reads.fallback ?? '', /iam:GetAccountAuthorizationDetails was denied/);
  assert.deepEqual(reads.clusterRoles.map((r) => r.name), ['b']);
  const broken = fakeIam(account);
  (broken.iam as { listRoleDetails: () => Promise<RoleState[]> }).listRoleDetails = async () => {
    throw new RemoteError('iam:GetAccountAuthorizationDetails failed: HTTP 500');
  };
  await assert.rejects(readRoles(broken.iam, ['a'], { concurrency: 4, accountScan: { clusterName: 'prod' } }), /HTTP 500/);
});

/** A KubeGateway over fixed ServiceAccounts that counts GETs and LISTs. */
function fakeKube(sas: ServiceAccountState[], options: { forbidList?: boolean } = {}) {
  const calls = { get: 0, list: 0 };
  const kube = {
    async getServiceAccount(namespace: string, name: string) {
      calls.get++;
      return sas.find((sa) => sa.namespace === namespace && sa.name === name) ?? null;
    },
    async listServiceAccounts(namespace: string) {
      calls.list++;
      if (options.forbidList) throw Object.assign(new RemoteError('LIST forbidden'), { cause: { code: 403 } });
      return sas.filter((sa) => sa.namespace === namespace);
    },
  } as unknown as KubeGateway;
  return { kube, calls };
}

test('readServiceAccounts: LIST and GET give the same map in the order asked; a forbidden LIST falls back to GETs', async () => {
  const sa = (namespace: string, name: string): ServiceAccountState => ({ namespace, name, annotations: { a: name }, labels: {} });
  const cluster = [sa('a', 'x'), sa('a', 'y'), sa('a', 'unrelated'), sa('b', 'z')];
  const keys = ['a/y', 'a/x', 'a/missing', 'b/z', 'gone/q', 'gone/r'];
  const listed = fakeKube(cluster);
  const got = fakeKube(cluster);
  const viaList = await readServiceAccounts(listed.kube, keys, { concurrency: 4, strategy: 'list' });
  const viaGet = await readServiceAccounts(got.kube, keys, { concurrency: 4, strategy: 'get' });
  assert.deepEqual([...viaList], [...viaGet]);
  assert.deepEqual([...viaList.keys()], keys);
  assert.equal(viaList.get('gone/q'), null);
  assert.deepEqual(listed.calls, { get: 0, list: 3 });
  assert.deepEqual(got.calls, { get: 6, list: 0 });

  const chosen = fakeKube(cluster);
  assert.deepEqual([...(await readServiceAccounts(chosen.kube, keys, { concurrency: 4 }))], [...viaGet]);
  assert.deepEqual(chosen.calls, { get: 1, list: 2 }); // b has one wanted ServiceAccount: a GET

  const forbidden = fakeKube(cluster, { forbidList: true });
  assert.deepEqual([...(await readServiceAccounts(forbidden.kube, keys, { concurrency: 4, strategy: 'list' }))], [...viaGet]);
});
