import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRoleUnbinding } from '../../src/core/resources/iam-role.ts';
import { planBindings } from '../../src/core/binding.ts';
import { planServiceAccountRemoval } from '../../src/core/resources/service-account.ts';
import { parseTrustPolicy } from '../../src/core/trust-policy.ts';
import type { RoleValue } from '../../src/core/resources/types.ts';
import { ACCOUNT, ISSUER, context, observed, planOne, PROVIDER, request, role, serviceAccount } from './fixtures/binding.ts';

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/irsa-prod-payments-api`;
const actions = (plan: { changes: Array<{ action: string; kind: string }> }) => plan.changes.map((c) => `${c.action} ${c.kind}`);

test('a fresh binding creates role, attachments, inline policy and ServiceAccount in dependency order', () => {
  const providerChange = { kind: 'oidc-provider' as const, id: PROVIDER, action: 'create' as const, before: null, after: { url: ISSUER, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: {} }, dependsOn: [] };
  const result = planOne(
    request({ policyArns: ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/B'], inlinePolicies: { 'irsa-inline': { Version: '2012-10-17', Statement: [] } } }),
    context({ providerChange }),
    observed(),
  );
  assert.deepEqual(actions(result.plan), [
    'create oidc-provider',
    'create iam-role',
    'create role-policy-attachment',
    'create role-policy-attachment',
    'create inline-policy',
    'create service-account',
  ]);
  const roleChange = result.plan.changes[1]!;
  assert.deepEqual(roleChange.dependsOn, [`oidc-provider:${PROVIDER}`]);
  assert.ok(result.plan.changes.slice(2).every((c) => c.dependsOn.includes(`iam-role:${ROLE_ARN}`)));
  const after = roleChange.after as RoleValue;
  assert.equal(after.tags['irsa:managed-by'], 'irsa');
  assert.deepEqual(parseTrustPolicy(after.trustPolicy).trusts[0]!.subjects, ['system:serviceaccount:payments:api']);
  const sa = result.plan.changes.at(-1)!;
  assert.deepEqual((sa.after as { annotations: Record<string, string> }).annotations, { 'eks.amazonaws.com/role-arn': ROLE_ARN });
  assert.deepEqual(result.plan.blockers, []);
});

test('a converged binding plans only no-ops', () => {
  const result = planOne(request(), context(), observed({ role: role(), serviceAccount: serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN }) }));
  assert.ok(result.plan.changes.every((c) => c.action === 'no-op'), actions(result.plan).join(', '));
});

test('another ServiceAccount on the same role adds its subject and keeps the others', () => {
  const result = planOne(
    request({ name: 'worker' }),
    context(),
    observed({ role: role(), serviceAccount: null }),
  );
  const roleChange = result.plan.changes.find((c) => c.kind === 'iam-role')!;
  assert.equal(roleChange.action, 'update');
  assert.deepEqual(parseTrustPolicy((roleChange.after as RoleValue).trustPolicy).trusts[0]!.subjects, [
    'system:serviceaccount:payments:api',
    'system:serviceaccount:payments:worker',
  ]);
});

test('unlisted policies stay attached unless --prune', () => {
  const current = role({ attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/Other'] });
  const sa = serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN });
  const keep = planOne(request(), context(), observed({ role: current, serviceAccount: sa }));
  assert.ok(keep.plan.changes.every((c) => c.action === 'no-op'));
  const prune = planOne(request(), context(), observed({ role: current, serviceAccount: sa }), { prune: true });
  assert.deepEqual(prune.plan.changes.filter((c) => c.action !== 'no-op').map((c) => `${c.action} ${c.id}`), [`delete ${ROLE_ARN}#arn:aws:iam::aws:policy/Other`]);
});

test('a role irsa did not create is refused unless --adopt', () => {
  const handMade = role({ tags: {} });
  const refused = planOne(request(), context(), observed({ role: handMade }));
  assert.deepEqual(refused.plan.blockers.map((b) => [b.code, b.field]), [['role-not-owned', '--adopt']]);
  assert.match(`${refused.plan.blockers[0]!.message} ${refused.plan.blockers[0]!.fix}`, /irsa did not create it.*Pass --adopt.*--attach-role-arn.*--role-name/);
  const adopted = planOne(request({ adopt: true }), context(), observed({ role: handMade }));
  const roleChange = adopted.plan.changes.find((c) => c.kind === 'iam-role')!;
  assert.equal(roleChange.action, 'update');
  assert.equal((roleChange.after as RoleValue).tags['irsa:managed-by'], 'irsa');
});

test('--attach-role-arn only adds trust to an existing role, never removes subjects', () => {
  const existing = role({ tags: {}, subjects: ['system:serviceaccount:other:x'] });
  const result = planOne(request({ attachRoleArn: ROLE_ARN, policyArns: [] }), context(), observed({ role: existing }));
  const kinds = result.plan.changes.filter((c) => c.action !== 'no-op').map((c) => c.kind);
  assert.deepEqual(kinds, ['iam-role', 'service-account']);
  const subjects = parseTrustPolicy((result.plan.changes[0]!.after as RoleValue).trustPolicy).trusts[0]!.subjects;
  assert.deepEqual(subjects, ['system:serviceaccount:other:x', 'system:serviceaccount:payments:api']);
});

test('a ServiceAccount bound to another role is shown and refused without the override flag', () => {
  const sa = serviceAccount({ 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/other` });
  const refused = planOne(request(), context(), observed({ serviceAccount: sa }));
  const [blocker] = refused.plan.blockers;
  assert.equal(blocker!.code, 'service-account-bound-elsewhere');
  assert.equal(blocker!.resource, 'service-account:prod/payments/api');
  assert.match(`${blocker!.message} ${blocker!.fix}`, /already bound to arn:aws:iam::111122223333:role\/other.*--override-existing-serviceaccounts/);
  const saChange = refused.plan.changes.find((c) => c.kind === 'service-account')!;
  assert.equal(saChange.action, 'update');
  assert.match(saChange.warnings![0]!, /already bound/);
  assert.deepEqual(planOne(request({ overrideExistingServiceAccounts: true }), context(), observed({ serviceAccount: sa })).plan.blockers, []);
});

test('workloads: restart changes only with --restart-workloads and only when the annotation changes', () => {
  const workloads = [{ kind: 'Deployment' as const, namespace: 'payments', name: 'api' }];
  const advice = planOne(request(), context(), observed({ workloads }));
  assert.deepEqual(advice.workloadsNeedingRestart, workloads);
  assert.ok(!advice.plan.changes.some((c) => c.kind === 'workload-restart'));
  const restart = planOne(request({ restartWorkloads: true }), context(), observed({ workloads }));
  const change = restart.plan.changes.find((c) => c.kind === 'workload-restart')!;
  assert.equal(change.id, 'prod/payments/deployment/api');
  assert.deepEqual(change.dependsOn, ['service-account:prod/payments/api']);
  const converged = planOne(
    request({ restartWorkloads: true }),
    context(),
    observed({ role: role(), serviceAccount: serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN }), workloads }),
  );
  assert.ok(!converged.plan.changes.some((c) => c.kind === 'workload-restart'));
});

test('a missing namespace fails unless --create-namespace; --role-only skips Kubernetes', () => {
  const missing = planOne(request(), context(), observed({ namespaceExists: false })).plan.blockers;
  assert.deepEqual(missing.map((b) => b.code), ['namespace-missing']);
  assert.match(`${missing[0]!.message} ${missing[0]!.fix}`, /namespace "payments" does not exist.*--create-namespace/);
  const created = planOne(request({ createNamespace: true }), context(), observed({ namespaceExists: false }));
  assert.ok(created.plan.changes.some((c) => c.kind === 'namespace' && c.action === 'create'));
  const sa = created.plan.changes.find((c) => c.kind === 'service-account')!;
  assert.ok(sa.dependsOn.includes('namespace:prod/payments'));
  const roleOnly = planOne(request({ roleOnly: true }), context(), observed({ namespaceExists: false }));
  assert.ok(!roleOnly.plan.changes.some((c) => c.kind === 'service-account' || c.kind === 'namespace'));
});

test('a trust policy over the size limit fails before anything is planned, suggesting a split or a pattern', () => {
  const many = Array.from({ length: 40 }, (_, i) => `system:serviceaccount:payments:service-account-number-${i}`);
  const [blocker] = planOne(request(), context(), observed({ role: role({ subjects: many }) })).plan.blockers;
  assert.equal(blocker!.code, 'trust-policy-too-large');
  assert.match(`${blocker!.message} ${blocker!.fix}`, /would be \d+ characters; IAM allows 2048.*--subject-pattern/);
});

test('--subject-pattern uses StringLike and warns (that it matches its ServiceAccount is the validator\'s job)', () => {
  const result = planOne(request({ subjectPattern: 'system:serviceaccount:payments:*' }), context(), observed());
  const trust = parseTrustPolicy((result.plan.changes[0]!.after as RoleValue).trustPolicy).trusts[0]!;
  assert.deepEqual(trust.subjectPatterns, ['system:serviceaccount:payments:*']);
  assert.match(result.plan.warnings.join('\n'), /lets every ServiceAccount/);
});

test('optional webhook annotations follow the flags', () => {
  const result = planOne(request({ audience: 'custom', stsRegionalEndpoints: true, tokenExpiration: 3600 }), context(), observed());
  const sa = result.plan.changes.find((c) => c.kind === 'service-account')!;
  assert.deepEqual((sa.after as { annotations: Record<string, string> }).annotations, {
    'eks.amazonaws.com/role-arn': ROLE_ARN,
    'eks.amazonaws.com/audience': 'custom',
    'eks.amazonaws.com/sts-regional-endpoints': 'true',
    'eks.amazonaws.com/token-expiration': '3600',
  });
});

test('unbinding: the last subject deletes attachments, inline policies, then the role; others keep it', () => {
  const last = planRoleUnbinding(role({ inlinePolicies: { p: {} } }), { subjects: ['system:serviceaccount:payments:api'], providerArn: PROVIDER }, { force: false });
  assert.equal(last.deletesRole, true);
  assert.deepEqual(last.changes.map((c) => `${c.action} ${c.kind}`), ['delete role-policy-attachment', 'delete inline-policy', 'delete iam-role']);
  assert.equal(last.changes[2]!.dependsOn.length, 2);
  const shared = planRoleUnbinding(role({ subjects: ['system:serviceaccount:payments:api', 'system:serviceaccount:payments:worker'] }), { subjects: ['system:serviceaccount:payments:api'], providerArn: PROVIDER }, { force: false });
  assert.equal(shared.deletesRole, false);
  assert.deepEqual(parseTrustPolicy((shared.changes[0]!.after as RoleValue).trustPolicy).trusts[0]!.subjects, ['system:serviceaccount:payments:worker']);
  const handMade = planRoleUnbinding(role({ tags: {} }), { subjects: ['system:serviceaccount:payments:api'] }, { force: false });
  assert.deepEqual(handMade.blockers.map((b) => [b.code, b.field]), [['role-not-owned', '--force']]);
  assert.deepEqual(planRoleUnbinding(role({ tags: {} }), { subjects: ['system:serviceaccount:payments:api'] }, { force: true }).blockers, []);
});

test('unbinding a ServiceAccount: delete what irsa created, otherwise only remove the annotations', () => {
  const created = planServiceAccountRemoval({ name: 'prod' }, serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN }, { 'app.kubernetes.io/managed-by': 'irsa' }))!;
  assert.equal(created.action, 'delete');
  const userMade = planServiceAccountRemoval({ name: 'prod' }, serviceAccount({ 'eks.amazonaws.com/role-arn': ROLE_ARN, other: 'x' }))!;
  assert.equal(userMade.action, 'update');
  assert.deepEqual((userMade.after as { annotations: object }).annotations, {});
});

test('the planner blocks on what the reads found missing: a policy IAM does not know, the provider under --no-create-oidc', async () => {
  const { planBindings } = await import('../../src/core/binding.ts');
  const { configTerms } = await import('../../src/core/terms.ts');
  const providerChange = { kind: 'oidc-provider' as const, id: PROVIDER, action: 'create' as const, before: null, after: { url: ISSUER, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: {} }, dependsOn: [] };
  const missing = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcces';
  const one = request({ policyArns: [missing] });
  const seen = {
    context: context({ providerChange }),
    roles: new Map([[one.roleName, null]]),
    namespaces: new Map([[one.namespace, true]]),
    serviceAccounts: new Map([[`${one.namespace}/${one.name}`, null]]),
    workloads: new Map(),
    clusterRoles: [],
    missingPolicies: { arns: [missing], hint: 'Did you mean arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess?' },
  };
  const flags = planBindings([one], seen, { mode: 'ensure', prune: false, requireProvider: { issuerUrl: `https://${ISSUER}`, associateWith: '--cluster prod --region eu-west-1' } });
  assert.deepEqual(flags.plan.blockers.map((b) => [b.code, b.field]), [['policy-not-found', '--attach-policy-arn'], ['oidc-provider-missing', '--no-create-oidc']]);
  assert.match(flags.plan.blockers[0]!.fix, /^Did you mean .*AmazonS3ReadOnlyAccess\? Check the ARN \(AWS managed/);
  const file = planBindings([one], seen, { mode: 'exact', prune: false, terms: configTerms('irsa.yaml'), file: 'irsa.yaml' });
  assert.deepEqual(file.plan.blockers.map((b) => [b.code, b.field, b.binding]), [['policy-not-found', 'bindings[0].managedPolicies', 0]]);
  assert.match(file.plan.blockers[0]!.fix, /Check the ARN in irsa\.yaml/);
});

test('the planner says where things go when the cluster is in another account (once, in the plan notes)', () => {
  const elsewhere = planOne(request(), context({ clusterAccount: '999988887777' }), observed());
  assert.deepEqual(elsewhere.plan.notes.filter((n) => n.startsWith('The cluster is in account')), [`The cluster is in account 999988887777; the role goes to account ${ACCOUNT}.`]);
  const same = planOne(request(), context({ clusterAccount: ACCOUNT }), observed());
  assert.deepEqual(same.plan.notes.filter((n) => n.startsWith('The cluster is in account')), []);
});

test('the planner plans the OIDC provider from what was read, and the role waits for it', () => {
  const one = request();
  const desired = { arn: PROVIDER, url: ISSUER, clientIds: ['sts.amazonaws.com'], thumbprints: ['a'.repeat(40)], tags: {}, account: ACCOUNT };
  const result = planBindings([one], {
    context: context(),
    roles: new Map([[one.roleName, null]]),
    namespaces: new Map([[one.namespace, true]]),
    serviceAccounts: new Map([[`${one.namespace}/${one.name}`, null]]),
    workloads: new Map(),
    clusterRoles: [],
    provider: { desired, observed: null },
  }, { mode: 'ensure', prune: false });
  assert.deepEqual(actions(result.plan).slice(0, 2), ['create oidc-provider', 'create iam-role']);
  assert.deepEqual(result.plan.changes[1]!.dependsOn, [`oidc-provider:${PROVIDER}`]);
  const existing = planBindings([one], {
    context: context(), roles: new Map([[one.roleName, null]]), namespaces: new Map([[one.namespace, true]]),
    serviceAccounts: new Map([[`${one.namespace}/${one.name}`, null]]), workloads: new Map(), clusterRoles: [],
    provider: { desired, observed: { arn: PROVIDER, url: ISSUER, clientIds: ['sts.amazonaws.com'], thumbprints: ['a'.repeat(40)], tags: {} } },
  }, { mode: 'ensure', prune: false });
  assert.equal(existing.plan.changes[0]!.action, 'no-op');
});
