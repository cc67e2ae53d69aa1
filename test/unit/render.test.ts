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
  assert.equal(json.formatVersion, 1);
  assert.deepEqual(json.summary, { create: 1, update: 0, delete: 0, 'no-op': 1 });
  assert.deepEqual(Object.keys(json.changes[0]!).sort(), ['account', 'action', 'after', 'before', 'dependsOn', 'id', 'kind', 'reason', 'warnings']);
});

test('text: a created resource shows nested maps as indented keys and statement lists as JSON', () => {
  const after = { name: 'r', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/r' }, trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow' }] } };
  const text = renderPlanText(planOf(change('arn:role/r', { after })), { color: false });
  assert.match(text, /\+ annotations:\n {8}\+ eks\.amazonaws\.com\/role-arn: "arn:aws:iam::1:role\/r"\n/);
  assert.match(text, /\+ Statement:\n {12}\+ \[\n {12}\+ {3}\{\n {12}\+ {5}"Effect": "Allow"/);
});
