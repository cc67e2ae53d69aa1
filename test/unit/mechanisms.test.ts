// The mechanism seam (core/mechanisms/types.ts): a second binding mechanism, defined only here,
// plans through the same planner (planBindings) and renders through the same renderer as IRSA.
// It trusts a service principal with a whole statement, needs no OIDC provider, and marks the
// ServiceAccount with its own annotation — none of which the planner or renderer know about.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBindings, type BindingRequest } from '../../src/core/binding.ts';
import { irsaMechanism } from '../../src/core/mechanisms/irsa.ts';
import { MECHANISMS } from '../../src/core/mechanisms/registry.ts';
import type { BindingMechanism, MechanismName, MechanismRegistry } from '../../src/core/mechanisms/types.ts';
import type { PolicyStatement } from '../../src/core/model/policy.ts';
import { changeKey } from '../../src/core/plan.ts';
import { planServiceAccount } from '../../src/core/resources/service-account.ts';
import type { RoleValue, ServiceAccountValue } from '../../src/core/resources/types.ts';
import { planToJson, renderPlanText } from '../../src/ui/render.ts';
import { ACCOUNT, context, ISSUER, PROVIDER, request, role } from './fixtures/binding.ts';

const STATEMENT: PolicyStatement = { Effect: 'Allow', Principal: { Service: 'agent.example.test' }, Action: ['sts:AssumeRole', 'sts:TagSession'] };
const MARK = 'example.test/role';

const exampleMechanism: BindingMechanism = {
  name: 'example',
  trust: () => ({ federated: [], statements: [STATEMENT] }),
  prerequisites: () => [],
  clusterSide: ({ request: r, cluster, roleArn, dependsOn, observed }) => {
    const sa = planServiceAccount({ cluster, namespace: r.namespace, name: r.name, annotations: { [MARK]: roleArn } }, observed.serviceAccounts.get(`${r.namespace}/${r.name}`) ?? null, dependsOn);
    return { changes: [sa.change], blockers: [], warnings: [], changedServiceAccounts: [], workloadsNeedingRestart: [] };
  },
};
const mechanisms: MechanismRegistry = { ...MECHANISMS, example: exampleMechanism };
// The name is not one of irsa's mechanisms: only this test knows it.
const example = (overrides: Partial<BindingRequest> = {}): BindingRequest => request({ mechanism: 'example' as MechanismName, name: 'agent', roleName: 'example-agent', ...overrides });

const providerChange = { kind: 'oidc-provider' as const, id: PROVIDER, action: 'create' as const, before: null, after: { url: ISSUER, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: {} }, dependsOn: [] };
const observedNothing = (roles: Map<string, ReturnType<typeof role> | null> = new Map()) => ({
  context: context({ providerChange }),
  roles,
  namespaces: new Map([['payments', true]]),
  serviceAccounts: new Map(),
  workloads: new Map(),
  clusterRoles: [],
});

test('IRSA is the default mechanism and is registered as such', () => {
  assert.equal(MECHANISMS['irsa'], irsaMechanism);
  assert.equal(request().mechanism, undefined);
});

test('a second mechanism plans through the same planner: its statement, its artefact, no OIDC provider prerequisite', () => {
  const { plan } = planBindings([request(), example()], observedNothing(), { mode: 'exact', prune: false, mechanisms });
  const roles = plan.changes.filter((c) => c.kind === 'iam-role');
  const irsaRole = roles.find((c) => (c.after as RoleValue).name === 'irsa-prod-payments-api')!;
  const exampleRole = roles.find((c) => (c.after as RoleValue).name === 'example-agent')!;
  // IRSA waits for the provider; the example mechanism has no prerequisite.
  assert.deepEqual(irsaRole.dependsOn, [changeKey(providerChange)]);
  assert.deepEqual(exampleRole.dependsOn, []);
  assert.deepEqual((exampleRole.after as RoleValue).trustPolicy.Statement, [STATEMENT]);
  const sas = plan.changes.filter((c) => c.kind === 'service-account');
  const agent = sas.find((c) => (c.after as ServiceAccountValue).name === 'agent')!;
  assert.deepEqual((agent.after as ServiceAccountValue).annotations, { [MARK]: `arn:aws:iam::${ACCOUNT}:role/example-agent` });
  assert.deepEqual(agent.dependsOn, [changeKey(exampleRole)]);
  assert.deepEqual(plan.blockers, []);

  // The same renderer shows it, text and JSON.
  const text = renderPlanText(plan, { color: false });
  assert.match(text, /^\+ service-account payments\/agent$/m);
  assert.match(text, /example\.test\/role/);
  assert.match(text, /agent\.example\.test/);
  assert.ok(planToJson(plan).changes.some((c) => c.kind === 'iam-role' && JSON.stringify(c.after).includes('agent.example.test')));
});

test('on an existing role the statement is added once, and a role that has it is a no-op', () => {
  const bare = role({ name: 'example-agent', arn: `arn:aws:iam::${ACCOUNT}:role/example-agent`, subjects: [], trustPolicy: { Version: '2012-10-17', Statement: [] } });
  const first = planBindings([example()], observedNothing(new Map([['example-agent', bare]])), { mode: 'ensure', prune: false, mechanisms });
  const update = first.plan.changes.find((c) => c.kind === 'iam-role')!;
  assert.equal(update.action, 'update');
  assert.deepEqual((update.after as RoleValue).trustPolicy.Statement, [STATEMENT]);
  const converged = { ...bare, ...(update.after as RoleValue) };
  const again = planBindings([example()], observedNothing(new Map([['example-agent', converged]])), { mode: 'ensure', prune: false, mechanisms });
  assert.equal(again.plan.changes.find((c) => c.kind === 'iam-role')!.action, 'no-op');
});

test('an unregistered mechanism is an internal error, not a silent IRSA binding', () => {
  assert.throws(() => planBindings([example()], observedNothing(), { mode: 'exact', prune: false }), /binding mechanism example is not registered/);
});
