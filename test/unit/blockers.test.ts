import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockerText, planToJson, renderPlanText } from '../../src/ui/render.ts';
import { configTerms } from '../../src/core/terms.ts';
import { planBindings } from '../../src/core/binding.ts';
import { ACCOUNT, context, observed, planOne, request, serviceAccount } from './fixtures/binding.ts';

const OTHER = `arn:aws:iam::${ACCOUNT}:role/other`;

test('a blocker is data in the plan: the text form and the JSON form carry the same blocker', () => {
  const { plan } = planOne(request(), context(), observed({ serviceAccount: serviceAccount({ 'eks.amazonaws.com/role-arn': OTHER }) }));
  assert.equal(plan.blockers.length, 1);
  const [blocker] = plan.blockers;
  assert.deepEqual(
    { code: blocker!.code, resource: blocker!.resource, field: blocker!.field },
    { code: 'service-account-bound-elsewhere', resource: 'service-account:prod/payments/api', field: '--override-existing-serviceaccounts' },
  );
  const text = renderPlanText(plan, { color: false });
  assert.ok(text.includes(`Blocked: ${blockerText(blocker!)}\n`), text);
  // The plan's changes are still shown: the user sees what would happen.
  assert.match(text, /~ service-account payments\/api/);
  assert.deepEqual(planToJson(plan).blockers, plan.blockers);
});

test('the same conflict from irsa.yaml names the file key, not a flag', () => {
  const { plan } = planBindings(
    [request(), request({ name: 'worker' })],
    { context: context(), roles: new Map(), namespaces: new Map([['payments', false]]), serviceAccounts: new Map(), workloads: new Map(), clusterRoles: [] },
    { mode: 'exact', prune: false, terms: configTerms('irsa.yaml'), clusterName: 'prod' },
  );
  assert.deepEqual(plan.blockers.map((b) => [b.code, b.field, b.binding]), [
    ['namespace-missing', 'bindings[0].createNamespace', 0],
    ['namespace-missing', 'bindings[1].createNamespace', 1],
  ]);
  assert.match(plan.blockers[0]!.fix, /list it under namespaces\.create in irsa\.yaml, or set bindings\[0\]\.roleOnly: true in irsa\.yaml/);
  assert.doesNotMatch(blockerText(plan.blockers[0]!), /--create-namespace/);
});
