import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBindings, type BindingContext, type BindingRequest, type BindingsObserved } from '../../src/core/binding.ts';
import { savedPlanDrift, toSavedPlan } from '../../src/core/saved-plan.ts';
import { parseTrustPolicy } from '../../src/core/trust-policy.ts';
import type { RoleValue } from '../../src/core/resources/types.ts';
import { ACCOUNT, context, request, role, serviceAccount } from './fixtures/binding.ts';

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/irsa-prod-payments-api`;
const observed = (overrides: Partial<Omit<BindingsObserved, 'context'>> = {}): Omit<BindingsObserved, 'context'> => ({
  roles: new Map(),
  namespaces: new Map([['payments', true]]),
  serviceAccounts: new Map(),
  workloads: new Map(),
  clusterRoles: [],
  ...overrides,
});
const options = { prune: false, clusterName: 'prod' };
const exact = (overrides: Partial<BindingRequest> = {}) => request(overrides);
/** The declarative file's planning: planBindings in exact mode. */
const planDeclarative = (bindings: BindingRequest[], ctx: BindingContext, seen: Omit<BindingsObserved, 'context'>, opts: { prune: boolean; clusterName: string }) =>
  planBindings(bindings, { ...seen, context: ctx }, { mode: 'exact', ...opts });

test('the file is exact: extra subjects of this provider and extra policies are removed', () => {
  const current = role({
    subjects: ['system:serviceaccount:payments:api', 'system:serviceaccount:payments:old'],
    attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/Extra'],
  });
  const result = planDeclarative([exact()], context(), observed({ roles: new Map([['irsa-prod-payments-api', current]]), serviceAccounts: new Map([['payments/api', serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN })]]) }), options);
  const changed = result.plan.changes.filter((c) => c.action !== 'no-op');
  assert.deepEqual(changed.map((c) => `${c.action} ${c.kind}`), ['update iam-role', 'delete role-policy-attachment']);
  assert.deepEqual(parseTrustPolicy((changed[0]!.after as RoleValue).trustPolicy).trusts[0]!.subjects, ['system:serviceaccount:payments:api']);
});

test('exact keeps another cluster\'s trust in the same role (blue/green)', () => {
  const other = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/XYZ';
  const current = role();
  current.trustPolicy.Statement.push({
    Effect: 'Allow',
    Principal: { Federated: other },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { 'oidc.eks.us-west-2.amazonaws.com/id/XYZ:sub': 'system:serviceaccount:payments:api', 'oidc.eks.us-west-2.amazonaws.com/id/XYZ:aud': 'sts.amazonaws.com' } },
  });
  const result = planDeclarative([exact()], context(), observed({ roles: new Map([['irsa-prod-payments-api', current]]), serviceAccounts: new Map([['payments/api', serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN })]]) }), options);
  assert.ok(result.plan.changes.every((c) => c.action === 'no-op'));
});

test('several bindings on one role: one role change with all subjects and the union of policies', () => {
  const bindings = [
    exact({ name: 'api', roleName: 'shared', policyArns: ['arn:aws:iam::aws:policy/A'] }),
    exact({ name: 'worker', roleName: 'shared', policyArns: ['arn:aws:iam::aws:policy/B'] }),
  ];
  const result = planDeclarative(bindings, context(), observed(), options);
  const roles = result.plan.changes.filter((c) => c.kind === 'iam-role');
  assert.equal(roles.length, 1);
  assert.deepEqual(parseTrustPolicy((roles[0]!.after as RoleValue).trustPolicy).trusts[0]!.subjects, [
    'system:serviceaccount:payments:api',
    'system:serviceaccount:payments:worker',
  ]);
  assert.equal(result.plan.changes.filter((c) => c.kind === 'role-policy-attachment').length, 2);
  assert.equal(result.plan.changes.filter((c) => c.kind === 'service-account').length, 2);
});

test('irsa-owned roles of the cluster that no binding names: a note without --prune, deletion with it', () => {
  const orphan = role({ arn: `arn:aws:iam::${ACCOUNT}:role/orphan`, name: 'orphan', subjects: ['system:serviceaccount:payments:gone'] });
  const gone = { namespace: 'payments', name: 'gone', annotations: { 'eks.amazonaws.com/role-arn': orphan.arn }, labels: {} };
  const state = observed({ clusterRoles: [orphan], serviceAccounts: new Map([['payments/gone', gone]]) });
  const kept = planDeclarative([exact()], context(), state, options);
  assert.match(kept.plan.notes.join('\n'), /role orphan is irsa-owned for cluster prod but no binding names it; left alone/);
  assert.ok(!kept.plan.changes.some((c) => c.action === 'delete'));
  const pruned = planDeclarative([exact()], context(), state, { ...options, prune: true });
  const deletes = pruned.plan.changes.filter((c) => c.id.includes('orphan') && c.action === 'delete').map((c) => c.kind);
  assert.deepEqual(deletes, ['role-policy-attachment', 'iam-role']);
  const unbind = pruned.plan.changes.find((c) => c.kind === 'service-account' && c.id === 'prod/payments/gone')!;
  assert.equal(unbind.action, 'update');
  assert.ok(pruned.plan.changes.find((c) => c.kind === 'iam-role' && c.action === 'delete')!.dependsOn.includes('service-account:prod/payments/gone'));
});

test('a saved plan is stale when a resource it observed changed, and names it', () => {
  const state = observed({ roles: new Map([['irsa-prod-payments-api', role()]]), serviceAccounts: new Map([['payments/api', serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN })]]) });
  const planned = planDeclarative([exact({ policyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/New'] })], context(), state, options);
  const saved = toSavedPlan(planned.plan, { config: { file: 'irsa.yaml', cluster: { name: 'prod' }, manageOidcProvider: true, thumbprints: [], bindings: [] }, prune: false, irsaVersion: '0.1.0', now: new Date(0) });
  assert.deepEqual(savedPlanDrift(saved, planned.plan), []);
  const changedRole = role({ description: 'edited by hand' });
  const fresh = planDeclarative([exact({ policyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/New'] })], context(), { ...state, roles: new Map([['irsa-prod-payments-api', changedRole]]) }, options);
  const drift = savedPlanDrift(saved, fresh.plan);
  assert.equal(drift.length, 1);
  assert.match(drift[0]!, new RegExp(`^iam-role ${ROLE_ARN}: changed since the plan was made`));
});

