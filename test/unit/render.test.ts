import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planToJson, renderPlanText } from '../../src/ui/render.ts';
import { buildTrustPolicy } from '../../src/core/trust-policy.ts';
import { change, planOf } from './fixtures/changes.ts';

const provider = 'arn:aws:iam::111122223333:oidc-provider/issuer.example.com';
const trust = (subjects: string[]) =>
  buildTrustPolicy([{ providerArn: provider, issuerHostPath: 'issuer.example.com', audience: 'sts.amazonaws.com', subjects, subjectPatterns: [] }]);

test('text: symbols per action, no-ops hidden, count line at the end, no colour codes when colour is off', () => {
  const plan = planOf(
    change('arn:role/new', { after: { name: 'new' } }),
    change('arn:role/same', { action: 'no-op' }),
    change('arn:role/old', { action: 'delete', before: { name: 'old' }, after: null }),
  );
  const text = renderPlanText(plan, { color: false });
  assert.match(text, /^\+ iam-role arn:role\/new$/m);
  assert.match(text, /^- iam-role arn:role\/old$/m);
  assert.doesNotMatch(text, /arn:role\/same/);
  assert.match(text, /Plan: 1 to create, 0 to update, 1 to delete, 1 unchanged\.\n$/);
  assert.doesNotMatch(text, /\u001b\[/);
  assert.match(renderPlanText(plan, { color: true }), /\u001b\[/);
  assert.match(renderPlanText(plan, { color: false, verbose: true }), /arn:role\/same/);
});

test('text: an updated JSON document is shown as a minimal diff, not two blobs', () => {
  const before = { name: 'r', description: 'same', trustPolicy: trust(['system:serviceaccount:a:one']) };
  const after = { name: 'r', description: 'same', trustPolicy: trust(['system:serviceaccount:a:one', 'system:serviceaccount:b:two']) };
  const text = renderPlanText(planOf(change('arn:role/r', { action: 'update', before, after })), { color: false });
  assert.match(text, /~ trustPolicy\.Statement\[0\]\.Condition\.StringEquals\.issuer\.example\.com:sub: "system:serviceaccount:a:one" → \["system:serviceaccount:a:one","system:serviceaccount:b:two"\]/);
  assert.doesNotMatch(text, /description/);
  assert.doesNotMatch(text, /Version/);
});

test('text: scalar lists show added and removed items', () => {
  const text = renderPlanText(
    planOf(change('p', { kind: 'oidc-provider', action: 'update', before: { thumbprints: ['aa', 'bb'] }, after: { thumbprints: ['bb', 'cc'] } })),
    { color: false },
  );
  assert.match(text, /~ thumbprints:\n\s+- "aa"\n\s+\+ "cc"/);
});

test('json: every change with action/kind/id/before/after and a summary per action', () => {
  const json = planToJson(planOf(change('a'), change('b', { action: 'no-op' })));
  assert.equal(json.formatVersion, 2);
  assert.deepEqual(json.summary, { create: 1, update: 0, delete: 0, 'no-op': 1 });
  assert.deepEqual(Object.keys(json.changes[0]!).sort(), ['account', 'action', 'after', 'before', 'cluster', 'dependsOn', 'id', 'kind', 'reason', 'warnings']);
});

test('text: a created resource shows its non-empty fields, small maps on one line, policies statement by statement', () => {
  const after = {
    name: 'reader', description: '', permissionsBoundary: null, tags: {}, maxSessionDuration: 3600,
    annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/r' },
    trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Principal: { Federated: 'arn:p' }, Condition: { StringEquals: { 'i:sub': 'system:serviceaccount:a:b' } } }] },
  };
  const text = renderPlanText(planOf(change('arn:role/reader', { after })), { color: false });
  assert.match(text, /^ {4}\+ annotations: eks\.amazonaws\.com\/role-arn=arn:aws:iam::1:role\/r$/m);
  assert.match(text, /^ {4}\+ trustPolicy:\n {8}Allow sts:AssumeRoleWithWebIdentity\n {10}principal Federated arn:p\n {10}if StringEquals i:sub = system:serviceaccount:a:b$/m);
  assert.doesNotMatch(text, /description|permissionsBoundary|tags|null/);
  assert.doesNotMatch(text, /\+ name: /, 'the name is already in the id');
  assert.match(renderPlanText(planOf(change('arn:role/reader', { after })), { color: false, verbose: true }), /permissionsBoundary: null/);
});

test('text: a one-binding plan (role, policy, ServiceAccount) fits in 25 lines', async () => {
    const { context, observed, planOne, request } = await import('./fixtures/binding.ts');
  const plan = planOne(request(), context(), observed()).plan;
  const text = renderPlanText(plan, { color: false });
  const lines = text.trimEnd().split('\n').length;
  assert.ok(lines <= 25, `${lines} lines:\n${text}`);
  assert.match(text, /^\+ iam-role /m);
  assert.match(text, /^\+ service-account payments\/api$/m);
});

test('text: notes that differ only in a name collapse into one line with a count; --verbose shows each', () => {
  const plan = planOf(change('a'));
  plan.notes.push(...['x', 'y', 'z', 'w'].map((name) => `role ${name} is irsa-owned for cluster prod but no binding names it; left alone (use --prune to delete it).`), 'something else entirely');
  const text = renderPlanText(plan, { color: false });
  const notes = text.split('\n').filter((line) => line.startsWith('Note:'));
  assert.equal(notes.length, 2, text);
  assert.match(notes[0]!, /role … is irsa-owned .*\(×4: x, y, z, …; --verbose lists each\)/);
  assert.equal(renderPlanText(plan, { color: false, verbose: true }).split('\n').filter((line) => line.startsWith('Note:')).length, 5);
});
