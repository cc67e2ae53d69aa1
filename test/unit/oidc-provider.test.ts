import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOidcProvider, type DesiredOidcProvider } from '../../src/core/resources/oidc-provider.ts';
import type { OidcProviderState } from '../../src/core/state.ts';

const desired = (overrides: Partial<DesiredOidcProvider> = {}): DesiredOidcProvider => ({
  arn: 'arn:aws:iam::123456789012:oidc-provider/127.0.0.1:6443',
  url: '127.0.0.1:6443',
  clientIds: ['sts.amazonaws.com'],
  thumbprints: ['a'.repeat(40)],
  tags: { 'irsa:managed-by': 'irsa' },
  account: '123456789012',
  ...overrides,
});
const observed = (overrides: Partial<OidcProviderState> = {}): OidcProviderState => ({
  arn: 'arn:aws:iam::123456789012:oidc-provider/127.0.0.1:6443',
  url: '127.0.0.1:6443',
  clientIds: ['sts.amazonaws.com'],
  thumbprints: ['a'.repeat(40)],
  tags: {},
  ...overrides,
});

test('a missing provider is one create with the desired values', () => {
  const change = planOidcProvider(desired(), null);
  assert.equal(change.action, 'create');
  assert.deepEqual(change.after, { url: '127.0.0.1:6443', clientIds: ['sts.amazonaws.com'], thumbprints: ['a'.repeat(40)], tags: { 'irsa:managed-by': 'irsa' } });
});

test('a matching provider is a no-op, whatever its tags', () => {
  assert.equal(planOidcProvider(desired(), observed({ tags: { owner: 'someone' } })).action, 'no-op');
});

test('different thumbprints are one update that sets exactly the computed ones', () => {
  const change = planOidcProvider(desired(), observed({ thumbprints: ['b'.repeat(40)] }));
  assert.equal(change.action, 'update');
  assert.deepEqual((change.before as { thumbprints: string[] }).thumbprints, ['b'.repeat(40)]);
  assert.deepEqual((change.after as { thumbprints: string[] }).thumbprints, ['a'.repeat(40)]);
  assert.match(change.reason!, /thumbprints differ/);
});

test('a missing audience is an update that adds it and keeps other client IDs', () => {
  const change = planOidcProvider(desired(), observed({ clientIds: ['other'] }));
  assert.equal(change.action, 'update');
  assert.deepEqual((change.after as { clientIds: string[] }).clientIds, ['other', 'sts.amazonaws.com']);
});

test('--no-thumbprint leaves existing thumbprints alone', () => {
  assert.equal(planOidcProvider(desired({ thumbprints: null }), observed({ thumbprints: ['c'.repeat(40)] })).action, 'no-op');
  const created = planOidcProvider(desired({ thumbprints: null }), null);
  assert.deepEqual((created.after as { thumbprints: string[] }).thumbprints, []);
});
