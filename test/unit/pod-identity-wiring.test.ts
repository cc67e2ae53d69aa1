// The pod-identity mechanism as the entry points select it: validation of --mechanism and the
// Pod Identity fields (flags and irsa.yaml terms), where Pod Identity cannot work (Fargate,
// Windows, not EKS), many bindings sharing one agent change, and list's trust verdict.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateBinding } from '../../src/core/binding-input.ts';
import { planBindings } from '../../src/core/binding.ts';
import type { PodIdentityObserved } from '../../src/core/mechanisms/pod-identity.ts';
import { clusterUnavailability, fargateUnavailability, nodegroupAvailability, type FargateSelector } from '../../src/core/pod-identity-availability.ts';
import { podIdentityStatement, podIdentityTrustVerdict } from '../../src/core/pods-eks-trust.ts';
import { configTerms, FLAG_TERMS } from '../../src/core/terms.ts';
import { ACCOUNT, context, request } from './fixtures/binding.ts';

const CLUSTER_ARN = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const base = { cluster: 'prod', namespace: 'payments', name: 'api' };
const render = (problems: ReturnType<typeof validateBinding>['problems'], terms = FLAG_TERMS) => problems.map((p) => `${terms.name(p.path)}: ${p.message}`);

test('--mechanism: irsa by default, pod-identity carries its settings, anything else is refused naming the choices', () => {
  assert.equal(validateBinding(base, FLAG_TERMS).request?.mechanism, undefined);
  const pi = validateBinding({ ...base, mechanism: 'pod-identity', targetRoleArn: 'arn:aws:iam::444455556666:role/t', disableSessionTags: true, sessionPolicy: { text: '{ "Version": "2012-10-17", "Statement": [] }', source: 'p.json' } }, FLAG_TERMS);
  assert.deepEqual(pi.problems, []);
  assert.equal(pi.request?.mechanism, 'pod-identity');
  assert.deepEqual(pi.request?.podIdentity, { targetRoleArn: 'arn:aws:iam::444455556666:role/t', disableSessionTags: true, policy: '{"Version":"2012-10-17","Statement":[]}', installAgent: false });
  assert.deepEqual(render(validateBinding({ ...base, mechanism: 'kiam' }, FLAG_TERMS).problems), ['--mechanism: "kiam" is not a mechanism. Use irsa or pod-identity.']);
});

test('fields of one mechanism are refused on the other, in each entry point\'s terms; the audience default is not "given"', () => {
  const irsaWithPi = render(validateBinding({ ...base, disableSessionTags: true, installPodIdentityAgent: true }, FLAG_TERMS).problems);
  assert.deepEqual(irsaWithPi, [
    '--disable-session-tags: applies to EKS Pod Identity only; add --mechanism pod-identity, or leave it out.',
    '--install-pod-identity-agent: applies to EKS Pod Identity only; add --mechanism pod-identity, or leave it out.',
  ]);
  assert.deepEqual(validateBinding({ ...base, mechanism: 'pod-identity', audience: 'sts.amazonaws.com' }, FLAG_TERMS).problems, []);
  const yaml = configTerms('irsa.yaml');
  const piWithIrsa = render(validateBinding({ ...base, mechanism: 'pod-identity', audience: 'vault', tokenExpiration: 3600 }, yaml, 1).problems, yaml);
  assert.equal(piWithIrsa.length, 2);
  assert.match(piWithIrsa[0]!, /^bindings\[1\]\.audience: is IRSA's .* Leave it out, or use bindings\[1\]\.mechanism irsa\.$/);
  assert.match(piWithIrsa[1]!, /^bindings\[1\]\.tokenExpiration: is IRSA's/);
  const policyWithTags = render(validateBinding({ ...base, mechanism: 'pod-identity', sessionPolicy: { text: '{"Statement":[]}', source: 'policy' } }, yaml, 0).problems, yaml);
  assert.deepEqual(policyWithTags.map((line) => line.split(':')[0]), ['bindings[0].disableSessionTags']);
});

test('where Pod Identity cannot work: not EKS, China, Fargate selectors (wildcards, labels), Windows-only or mixed nodegroups', () => {
  assert.match(clusterUnavailability({ cluster: 'x', eks: false, region: 'us-east-1' })[0]!.reason, /not an EKS cluster/);
  assert.match(clusterUnavailability({ cluster: 'x', eks: true, region: 'cn-north-1' })[0]!.reason, /China/);
  assert.deepEqual(clusterUnavailability({ cluster: 'x', eks: true, region: 'us-east-1' }), []);
  const selectors: FargateSelector[] = [{ profile: 'all-batch', namespace: 'batch-*', labels: {} }, { profile: 'some', namespace: 'payments', labels: { fargate: 'yes' } }];
  assert.equal(fargateUnavailability('prod', 'batch-nightly', selectors).length, 1);
  assert.match(fargateUnavailability('prod', 'payments', selectors)[0]!.reason, /labelled fargate=yes/);
  assert.deepEqual(fargateUnavailability('prod', 'web', selectors), []);
  assert.equal(nodegroupAvailability('prod', [{ name: 'win', amiType: 'WINDOWS_CORE_2022_x86_64' }]).unavailable.length, 1);
  const mixed = nodegroupAvailability('prod', [{ name: 'win', amiType: 'WINDOWS_FULL_2019_x86_64' }, { name: 'lin', amiType: 'AL2023_x86_64_STANDARD' }]);
  assert.deepEqual(mixed.unavailable, []);
  assert.match(mixed.warnings[0]!, /nodeSelector kubernetes.io\/os: linux/);
});

test('many pod-identity bindings: one agent change and one agent blocker; a Fargate blocker only for the namespace it selects', () => {
  const reads: PodIdentityObserved = { clusterArn: CLUSTER_ARN, associations: new Map(), agent: null, unavailable: [], fargateSelectors: [{ profile: 'fp', namespace: 'batch', labels: {} }] };
  const pi = (namespace: string, name: string) => request({ namespace, name, roleName: `r-${name}`, mechanism: 'pod-identity', podIdentity: { targetRoleArn: null, disableSessionTags: false, policy: null, installAgent: false } });
  const planned = planBindings([pi('payments', 'a'), pi('payments', 'b'), pi('batch', 'c')], {
    context: context({ providerChange: null, podIdentityClusterArn: CLUSTER_ARN }),
    roles: new Map(), namespaces: new Map([['payments', true], ['batch', true]]), serviceAccounts: new Map(), workloads: new Map(), clusterRoles: [], podIdentity: reads,
  }, { mode: 'exact', prune: false, terms: configTerms('irsa.yaml') });
  assert.equal(planned.plan.changes.filter((c) => c.kind === 'eks-addon').length, 1);
  assert.deepEqual(planned.plan.blockers.map((b) => [b.code, b.binding]), [['pod-identity-agent-missing', 0], ['pod-identity-unavailable', 2]]);
  assert.equal(planned.plan.blockers[0]!.field, 'bindings[0].installPodIdentityAgent');
  assert.equal(planned.plan.blockers[1]!.fix, 'use IRSA for this binding (bindings[2].mechanism irsa)');
});

test('a role of another account than the cluster is a blocker naming --target-role-arn', () => {
  const reads: PodIdentityObserved = { clusterArn: `arn:aws:eks:us-east-1:999988887777:cluster/prod`, associations: new Map(), agent: { cluster: 'prod', name: 'eks-pod-identity-agent', status: 'ACTIVE', version: 'v1' }, unavailable: [] };
  const planned = planBindings([request({ mechanism: 'pod-identity', podIdentity: { targetRoleArn: null, disableSessionTags: false, policy: null, installAgent: false } })], {
    context: context({ providerChange: null, podIdentityClusterArn: reads.clusterArn }),
    roles: new Map(), namespaces: new Map([['payments', true]]), serviceAccounts: new Map(), workloads: new Map(), clusterRoles: [], podIdentity: reads,
  }, { mode: 'ensure', prune: false });
  assert.equal(planned.plan.blockers.length, 1);
  assert.match(planned.plan.blockers[0]!.message, /is in account 111122223333, the cluster in 999988887777.*--target-role-arn/);
});

test('list\'s trust verdict for an association: allow, deny, cannot-decide (never a false ✓)', () => {
  const subject = { clusterArn: CLUSTER_ARN, namespace: 'payments', serviceAccount: 'api', sessionTags: true };
  const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement }) as never;
  const mine = podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: 'payments', serviceAccounts: ['api'] });
  assert.equal(podIdentityTrustVerdict(doc(mine), subject), 'allow');
  assert.equal(podIdentityTrustVerdict(doc(mine), { ...subject, serviceAccount: 'other' }), 'deny');
  // Session tags off: a statement that needs the tags admits nothing; a cluster-wide one admits it.
  assert.equal(podIdentityTrustVerdict(doc(mine), { ...subject, sessionTags: false }), 'deny');
  assert.equal(podIdentityTrustVerdict(doc(podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: null, serviceAccounts: [] })), { ...subject, sessionTags: false }), 'allow');
  assert.equal(podIdentityTrustVerdict(doc(mine, { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole' }), subject), 'cannot-decide');
  assert.equal(podIdentityTrustVerdict(doc({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }), subject), 'cannot-decide');
  assert.equal(podIdentityTrustVerdict(doc(), subject), 'deny');
});

test('trust lint: an unconditioned pods.eks trust is critical (IfExists does not scope it), a scoped one is not; a role trusted both ways is a warning', async () => {
  const { lintTrust } = await import('../../src/core/trust-lint.ts');
  const role = (name: string, ...Statement: unknown[]) => ({ name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, trustPolicy: { Version: '2012-10-17', Statement } as never, tags: {}, attachedPolicyArns: [], inlinePolicies: {}, path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, id: 'AROA' } as never);
  const open = { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] };
  const ifExists = { ...open, Condition: { ArnEqualsIfExists: { 'aws:SourceArn': CLUSTER_ARN } } };
  const scoped = podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: 'payments', serviceAccounts: ['api'] });
  const provider = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC';
  const irsaStatement = { Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'oidc.eks.us-east-1.amazonaws.com/id/ABC:sub': 'system:serviceaccount:payments:api', 'oidc.eks.us-east-1.amazonaws.com/id/ABC:aud': 'sts.amazonaws.com' } } };
  const report = lintTrust({ roles: [role('open', open), role('if-exists', ifExists), role('scoped', scoped), role('both', irsaStatement, scoped)], providerArns: [provider], unreachableIssuers: new Map() });
  assert.deepEqual(report.findings.map((f) => `${f.roleName} ${f.severity} ${f.rule}`), ['if-exists critical pods-eks-unconditioned', 'open critical pods-eks-unconditioned', 'both warning both-mechanisms']);
});

test('doctor for a Pod Identity binding: nothing without an association; agent missing, Fargate and an uninjected dry run fail; a healthy one passes', async () => {
  const { podIdentityChecks } = await import('../../src/core/pod-identity-doctor.ts');
  const association = { cluster: 'prod', namespace: 'payments', serviceAccount: 'api', associationId: 'a-0123456789abcdefg', associationArn: 'arn', roleArn: `arn:aws:iam::${ACCOUNT}:role/r`, targetRoleArn: null, disableSessionTags: false, policy: null, externalId: null, ownerArn: null, tags: {} };
  const role = { name: 'r', arn: association.roleArn, trustPolicy: { Version: '2012-10-17', Statement: [podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: 'payments', serviceAccounts: ['api'] })] } } as never;
  const pod = (env: Record<string, string>) => ({ name: 'p', labels: {}, annotations: {}, containers: [{ name: 'app', init: false, env: Object.entries(env).map(([name, value]) => ({ name, value })), envFromSecrets: [], volumeMounts: [] }], volumes: [] });
  const base = {
    cluster: 'prod', namespace: 'payments', name: 'api', serviceAccount: null, role, targetArgs: '--cluster prod',
    reads: { clusterArn: CLUSTER_ARN, associations: new Map([['payments/api', association]]), agent: { cluster: 'prod', name: 'eks-pod-identity-agent', status: 'ACTIVE', version: 'v1' }, unavailable: [] } as PodIdentityObserved,
    dryRun: { source: 'a minimal pod', fromWorkload: false, submitted: pod({}), outcome: { admitted: pod({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials', AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token' }) } },
  } as Parameters<typeof podIdentityChecks>[0];
  const statuses = (input: Parameters<typeof podIdentityChecks>[0]) => Object.fromEntries(podIdentityChecks(input).map((c) => [c.id.replace('pod-identity-', ''), c.status]));
  assert.deepEqual(statuses(base), { association: 'pass', trust: 'pass', agent: 'pass', admission: 'pass' });
  assert.deepEqual(podIdentityChecks({ ...base, reads: { ...base.reads, associations: new Map() } }), []);
  const broken = statuses({
    ...base,
    reads: { ...base.reads, agent: null, fargateSelectors: [{ profile: 'fp', namespace: 'payments', labels: {} }] },
    dryRun: { ...base.dryRun!, outcome: { admitted: pod({}) } },
  });
  assert.deepEqual([broken['agent'], broken['compute'], broken['admission']], ['fail', 'fail', 'fail']);
  assert.equal(statuses({ ...base, reads: { ...base.reads, associations: new Map([['payments/api', { ...association, disableSessionTags: true }]]) } })['trust'], 'fail');
});

test('migrate step 5: exactly the proven subjects leave the shared role (the role stays), IRSA annotations go; the proof needs container credentials and no AWS_ROLE_ARN', async () => {
  const { planIrsaRemoval, podIdentityProof } = await import('../../src/core/pod-identity-migration.ts');
  const { role: fixtureRole, serviceAccount, PROVIDER } = await import('./fixtures/binding.ts');
  const shared = fixtureRole({ subjects: ['system:serviceaccount:payments:a', 'system:serviceaccount:payments:b', 'system:serviceaccount:payments:c'] });
  const sa = serviceAccount({ 'eks.amazonaws.com/role-arn': shared.arn, 'eks.amazonaws.com/audience': 'sts.amazonaws.com', team: 'x' });
  const plan = planIrsaRemoval('prod', PROVIDER, [
    { namespace: 'payments', name: 'a', serviceAccount: { ...sa, name: 'a' }, role: shared },
    { namespace: 'payments', name: 'b', serviceAccount: { ...sa, name: 'b' }, role: shared },
  ]);
  assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.kind}`), ['update iam-role', 'update service-account', 'update service-account']);
  const after = JSON.stringify(plan.changes[0]!.after);
  assert.ok(after.includes('system:serviceaccount:payments:c') && !after.includes('payments:a"') && !after.includes('payments:b"'), after);
  assert.deepEqual((plan.changes[1]!.after as { annotations: object }).annotations, {});
  assert.deepEqual(Object.keys((plan.changes[1]!.before as { annotations: object }).annotations).sort(), ['eks.amazonaws.com/audience', 'eks.amazonaws.com/role-arn']);
  const pod = (env: string[]) => ({ name: 'p', labels: {}, annotations: {}, containers: [{ name: 'app', init: false, env: env.map((name) => ({ name, value: 'x' })), envFromSecrets: [], volumeMounts: [] }], volumes: [] });
  const dry = (env: string[]) => ({ source: 'a minimal pod', fromWorkload: false, submitted: pod([]), outcome: { admitted: pod(env) } });
  assert.equal(podIdentityProof(dry(['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'])).ok, true);
  assert.equal(podIdentityProof(dry(['AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'])).ok, false);
  assert.equal(podIdentityProof(dry(['AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'AWS_ROLE_ARN'])).ok, false);
  assert.equal(podIdentityProof(undefined).ok, false);
});

test('migrate back: the proof needs AWS_ROLE_ARN of the role and no container credentials; step 5 removes exactly the proven pods.eks subjects', async () => {
  const { irsaProof, planPodIdentityTrustRemoval } = await import('../../src/core/pod-identity-migration.ts');
  const ROLE = `arn:aws:iam::${ACCOUNT}:role/r`;
  const pod = (env: Record<string, string>) => ({ name: 'p', labels: {}, annotations: {}, containers: [{ name: 'app', init: false, env: Object.entries(env).map(([name, value]) => ({ name, value })), envFromSecrets: [], volumeMounts: [] }], volumes: [] });
  const dry = (env: Record<string, string>) => ({ source: 'a minimal pod', fromWorkload: false, submitted: pod({}), outcome: { admitted: pod(env) } });
  assert.equal(irsaProof(dry({ AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: '/t' }), ROLE).ok, true);
  assert.equal(irsaProof(dry({ AWS_ROLE_ARN: `${ROLE}-other`, AWS_WEB_IDENTITY_TOKEN_FILE: '/t' }), ROLE).ok, false);
  assert.equal(irsaProof(dry({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'x', AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: 'y' }), ROLE).ok, false);
  const role = { name: 'r', arn: ROLE, tags: {}, attachedPolicyArns: [], inlinePolicies: {}, trustPolicy: { Version: '2012-10-17', Statement: [
    podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: 'payments', serviceAccounts: ['a', 'c'] }),
  ] } } as never;
  const plan = planPodIdentityTrustRemoval(CLUSTER_ARN, [{ namespace: 'payments', name: 'a', serviceAccount: null, role }]);
  assert.equal(plan.changes.length, 1);
  const after = JSON.stringify(plan.changes[0]!.after);
  assert.ok(after.includes('"c"') && !after.includes('"a"'), after);
});
