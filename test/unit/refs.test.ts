// Typed references and the ids derived from them (core/model/refs.ts): Kubernetes objects are
// cluster-qualified, ids are never parsed back, the text form reads as before inside one cluster,
// and a saved plan of the old format is refused with a message that says what to do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UserError } from '../../src/core/errors.ts';
import { changeIds, clusterRef } from '../../src/core/model/refs.ts';
import { shownId, type ChangeOf } from '../../src/core/plan.ts';
import { parseSavedPlan, SAVED_PLAN_VERSION } from '../../src/core/saved-plan.ts';
import { planToJson, renderPlanText } from '../../src/ui/render.ts';
import { planOf } from './fixtures/changes.ts';

const prod = clusterRef('prod');
const sa = (cluster = prod): ChangeOf<'service-account'> => ({
  kind: 'service-account',
  id: changeIds.serviceAccount({ cluster, namespace: 'payments', name: 'api' }),
  cluster: cluster.name,
  action: 'create',
  before: null,
  after: { namespace: 'payments', name: 'api', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/r' }, labels: {} },
  dependsOn: [],
});

test('ids: AWS resources by ARN, Kubernetes objects qualified by their cluster', () => {
  const role = { arn: 'arn:aws:iam::111122223333:role/r' };
  assert.equal(changeIds.role(role), role.arn);
  assert.equal(changeIds.attachment(role, 'arn:aws:iam::aws:policy/P'), `${role.arn}#arn:aws:iam::aws:policy/P`);
  assert.equal(changeIds.inlinePolicy(role, 'p'), `${role.arn}#inline/p`);
  assert.equal(changeIds.namespace({ cluster: prod, name: 'payments' }), 'prod/payments');
  assert.equal(changeIds.serviceAccount({ cluster: prod, namespace: 'payments', name: 'api' }), 'prod/payments/api');
  assert.equal(changeIds.workloadRestart({ cluster: prod, kind: 'Deployment', namespace: 'payments', name: 'api' }), 'prod/payments/deployment/api');
  assert.equal(changeIds.workloadTemplate({ cluster: prod, kind: 'Deployment', namespace: 'payments', name: 'api' }), 'prod/Deployment/payments/api');
  assert.equal(changeIds.secret({ cluster: prod, namespace: 'payments', name: 'keys' }), 'prod/payments/keys');
  // The same object in two clusters is two resources.
  assert.notEqual(sa(prod).id, sa(clusterRef('staging')).id);
});

test('text: one cluster reads namespace/name as before; several clusters show the whole id; JSON always carries it', () => {
  const one = renderPlanText(planOf(sa()), { color: false });
  assert.match(one, /^\+ service-account payments\/api$/m);
  const two = renderPlanText(planOf(sa(), sa(clusterRef('staging'))), { color: false });
  assert.match(two, /^\+ service-account prod\/payments\/api$/m);
  assert.match(two, /^\+ service-account staging\/payments\/api$/m);
  const json = planToJson(planOf(sa()));
  assert.equal(json.changes[0]!.id, 'prod/payments/api');
  assert.equal(json.changes[0]!.cluster, 'prod');
  assert.equal(shownId({ id: 'arn:aws:iam::1:role/r' }), 'arn:aws:iam::1:role/r');
});

test('a saved plan of format version 1 is refused: it names the versions and says to plan again', () => {
  const old = JSON.stringify({ kind: 'irsa-saved-plan', version: 1, createdAt: '', irsaVersion: '0.1.0', config: {}, options: { prune: false }, changes: [], warnings: [], notes: [] });
  assert.throws(
    () => parseSavedPlan(old, 'old.json'),
    (error: unknown) =>
      error instanceof UserError &&
      /old\.json is a saved plan of format version 1; this irsa reads version 2/.test(error.message) &&
      /Nothing was changed\. Plan again with the same irsa\.yaml \(irsa plan -f irsa\.yaml --out <a new file>\)/.test(error.message),
  );
  assert.equal(SAVED_PLAN_VERSION, 2);
});

test('no code reads meaning back out of a change id', () => {
  const SRC = new URL('../../src/', import.meta.url).pathname;
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const offenders = files(SRC).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/\b(?:change|c|result\.change)\.id\.(split|endsWith|match|lastIndexOf|indexOf|replace)\(/g)].map((m) => `${relative(SRC, file)}: ${m[0]}`),
  );
  assert.deepEqual(offenders, []);
});
