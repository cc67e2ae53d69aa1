// Saved-plan retries: what is left of a saved plan after a partial apply, "already applied", and
// refusal when anything else changed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSavedPlan, toSavedPlan, type SavedPlan } from '../../src/core/saved-plan.ts';
import { asDone, type Change, type Plan } from '../../src/core/plan.ts';
import { change, planOf } from './fixtures/changes.ts';

const roleA = change('arn:aws:iam::111122223333:role/a', { kind: 'iam-role', action: 'create', before: null, after: { name: 'a', description: '' } });
const roleB = change('arn:aws:iam::111122223333:role/b', { kind: 'iam-role', action: 'create', before: null, after: { name: 'b', description: '' } });
const attachB = change('arn:aws:iam::111122223333:role/b#arn:aws:iam::aws:policy/P', {
  kind: 'role-policy-attachment', action: 'create', before: null, after: { roleName: 'b', policyArn: 'P' }, dependsOn: [`iam-role:${roleB.id}`],
});
const oldAttach = change('arn:aws:iam::111122223333:role/a#arn:aws:iam::aws:policy/Old', { kind: 'role-policy-attachment', action: 'delete', before: { roleName: 'a', policyArn: 'Old' }, after: null });
const namespace = change('payments', { kind: 'namespace', action: 'create', before: null, after: { name: 'payments' } });

const save = (plan: Plan): SavedPlan =>
  toSavedPlan(plan, { config: { file: 'irsa.yaml', cluster: { name: 'prod' }, manageOidcProvider: true, thumbprints: [], bindings: [] }, prune: false, irsaVersion: '0', now: new Date(0) });
const done = (c: Change): Change => asDone(c);

test('nothing applied yet: the whole saved plan remains', () => {
  const saved = save(planOf(roleA, roleB, attachB));
  const status = checkSavedPlan(saved, planOf(roleA, roleB, attachB));
  assert.equal(status.status, 'remaining');
  if (status.status !== 'remaining') return;
  assert.equal(status.done, 0);
  assert.equal(status.remaining, 3);
});

test('half applied: the done changes become no-ops and only the rest is applied', () => {
  const saved = save(planOf(roleA, roleB, attachB, oldAttach, namespace));
  // role a exists as planned, the old attachment and the namespace are gone/present (absent from a fresh plan)
  const status = checkSavedPlan(saved, planOf(done(roleA), roleB, attachB));
  assert.equal(status.status, 'remaining');
  if (status.status !== 'remaining') return;
  assert.equal(status.done, 3);
  assert.deepEqual(status.plan.changes.filter((c) => c.action !== 'no-op').map((c) => c.id), [roleB.id, attachB.id]);
  assert.equal(status.plan.changes.find((c) => c.id === roleA.id)!.action, 'no-op');
});

test('everything in place: already applied', () => {
  const saved = save(planOf(roleA, roleB, attachB, oldAttach));
  const status = checkSavedPlan(saved, planOf(done(roleA), done(roleB), done(attachB)));
  assert.deepEqual(status, { status: 'applied', total: 4, unverifiable: [] });
});

test('a resource that is neither its planned before nor its planned after: refused, naming it', () => {
  const saved = save(planOf(roleA, roleB, attachB));
  const handEdited = change(roleA.id, { kind: 'iam-role', action: 'update', before: { name: 'a', description: 'by hand' }, after: { name: 'a', description: '' } });
  const status = checkSavedPlan(saved, planOf(handEdited, done(roleB), done(attachB)));
  assert.equal(status.status, 'stale');
  if (status.status !== 'stale') return;
  assert.deepEqual(status.drift, [`iam-role ${roleA.id}: changed since the plan was made (planned create, it would now be update)`]);
});

test('a change the saved plan does not contain: refused', () => {
  const saved = save(planOf(roleA));
  const status = checkSavedPlan(saved, planOf(roleA, roleB));
  assert.equal(status.status, 'stale');
});

test('a restart whose ServiceAccount is already annotated is counted done, and irsa says it cannot verify it', () => {
  const sa = change('payments/api', { kind: 'service-account', action: 'update', before: { annotations: {} }, after: { annotations: { x: 'y' } } });
  const restart = change('payments/deployment/api', { kind: 'workload-restart', action: 'update', before: null, after: { name: 'api' }, dependsOn: ['service-account:payments/api'] });
  const status = checkSavedPlan(save(planOf(sa, restart)), planOf(done(sa)));
  assert.equal(status.status, 'applied');
  if (status.status !== 'applied') return;
  assert.match(status.unverifiable[0]!, /cannot tell whether the restart ran/);
});

test('a resource already created by the plan and then edited by hand (a field the file does not set): refused', () => {
  const saved = save(planOf(roleA, roleB));
  // A fresh plan keeps a description the file does not set, so it is a no-op — but not the planned after.
  const edited = change(roleA.id, { kind: 'iam-role', action: 'no-op', before: { name: 'a', description: 'by hand' }, after: { name: 'a', description: 'by hand' } });
  const status = checkSavedPlan(saved, planOf(edited, roleB));
  assert.equal(status.status, 'stale');
  if (status.status !== 'stale') return;
  assert.match(status.drift[0]!, new RegExp(`^iam-role ${roleA.id}: changed since the plan was made`));
});

test('observed values are compared with the planned after on the fields the planner reads back', async () => {
  const { matchesPlanned } = await import('../../src/core/saved-plan.ts');
  const planned = { namespace: 'n', name: 'a', annotations: { 'eks.amazonaws.com/role-arn': 'arn:r' }, labels: { 'app.kubernetes.io/managed-by': 'irsa' } };
  assert.equal(matchesPlanned({ namespace: 'n', name: 'a', annotations: { 'eks.amazonaws.com/role-arn': 'arn:r' }, labels: {} }, planned), true);
  assert.equal(matchesPlanned({ namespace: 'n', name: 'a', annotations: { 'eks.amazonaws.com/role-arn': 'arn:other' }, labels: {} }, planned), false);
  assert.equal(matchesPlanned({ description: 'by hand' }, { description: '' }), false);
  assert.equal(matchesPlanned({ doc: { Statement: [{ Action: ['b', 'a'] }] } }, { doc: { Statement: [{ Action: ['a', 'b'] }] } }), true);
});

test('a saved plan made from a real binding plan matches docs/saved-plan.schema.json', async () => {
  const { readFileSync } = await import('node:fs');
  const { Ajv } = await import('ajv');
    const { context, observed, planOne, request } = await import('./fixtures/binding.ts');
  const load = (name: string) => JSON.parse(readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8'));
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(load('plan.schema.json'), 'plan.schema.json');
  const validate = ajv.compile(load('saved-plan.schema.json'));
  const binding = request({ inlinePolicies: { x: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] } } });
  const plan = planOne(binding, context(), observed()).plan;
  const saved = toSavedPlan(plan, { config: { file: 'irsa.yaml', cluster: { name: 'prod', region: 'eu-west-1' }, manageOidcProvider: true, thumbprints: [], bindings: [binding] }, prune: false, irsaVersion: '0.1.0', now: new Date(0) });
  const ok = validate(JSON.parse(JSON.stringify(saved)));
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
  assert.equal(validate({ ...saved, kind: 'something-else' }), false);
});
