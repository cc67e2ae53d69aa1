import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  diagnose,
  doctorExitCode,
  literalWildcards,
  type DoctorCheck,
  type DoctorInput,
  type MutatingWebhookState,
} from '../../src/core/doctor.ts';
import type { PodState, RoleState } from '../../src/core/state.ts';
import type { DryRunInput } from '../../src/core/admission.ts';
import { TOKEN_DIRECTORY, TOKEN_FILE, type ContainerState, type PodSpecState } from '../../src/core/pod-identity.ts';
import { renderDoctorText } from '../../src/ui/doctor.ts';
import type { PolicyDocument, PolicyStatement } from '../../src/core/trust-policy.ts';

const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const HOST = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/app-role`;

// ---- fixture builders -----------------------------------------------------------------------

function statement(overrides: Partial<PolicyStatement> = {}, sub = 'system:serviceaccount:prod:app', operator = 'StringEquals'): PolicyStatement {
  return {
    Effect: 'Allow',
    Principal: { Federated: PROVIDER },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: operator === 'StringEquals'
      ? { StringEquals: { [`${HOST}:sub`]: sub, [`${HOST}:aud`]: 'sts.amazonaws.com' } }
      : { [operator]: { [`${HOST}:sub`]: sub }, StringEquals: { [`${HOST}:aud`]: 'sts.amazonaws.com' } },
    ...overrides,
  };
}

const policy = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

function role(overrides: Partial<RoleState> = {}): RoleState {
  return {
    arn: ROLE_ARN,
    name: 'app-role',
    path: '/',
    description: '',
    maxSessionDuration: 3600,
    permissionsBoundary: null,
    trustPolicy: policy(statement()),
    tags: { 'irsa:managed-by': 'irsa' },
    attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
    inlinePolicies: {},
    ...overrides,
  };
}

function webhook(overrides: Partial<MutatingWebhookState> = {}): MutatingWebhookState {
  return {
    configuration: 'pod-identity-webhook',
    webhook: 'iam-for-pods.amazonaws.com',
    service: null,
    url: 'https://127.0.0.1:23443/mutate',
    rules: [{ operations: ['CREATE'], apiGroups: [''], resources: ['pods'] }],
    failurePolicy: 'Ignore',
    ...overrides,
  };
}

const IRSA_ENV = { AWS_ROLE_ARN: ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE };

function container(name: string, env: Record<string, string>, init = false): ContainerState {
  const mounted = 'AWS_WEB_IDENTITY_TOKEN_FILE' in env;
  return {
    name,
    init,
    env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
    envFromSecrets: [],
    volumeMounts: mounted ? [{ name: 'aws-iam-token', mountPath: TOKEN_DIRECTORY }] : [],
  };
}

function podSpec(containers: ContainerState[], overrides: Partial<PodSpecState> = {}): PodSpecState {
  const mounted = containers.some((c) => c.volumeMounts.length > 0);
  return {
    name: 'p',
    labels: {},
    annotations: {},
    containers,
    volumes: mounted ? [{ name: 'aws-iam-token', token: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }] : [],
    ...overrides,
  };
}

function pod(name: string, env: Record<string, string> = IRSA_ENV, owner = 'app'): PodState {
  return {
    namespace: 'prod',
    name,
    serviceAccountName: 'app',
    createdAt: '2024-01-01T00:00:00Z',
    env,
    volumes: ['aws-iam-token'],
    ownerWorkload: owner ? { kind: 'Deployment', namespace: 'prod', name: owner } : null,
    spec: podSpec([container('app', env)]),
  };
}

function dryRun(admitted: PodSpecState | null, outcome?: DryRunInput['outcome']): DryRunInput {
  return { source: 'a minimal pod', fromWorkload: false, submitted: podSpec([container('app', {})]), outcome: outcome ?? { admitted: admitted! } };
}

/** A healthy binding; each test breaks one thing. */
function healthy(overrides: Partial<DoctorInput> = {}): DoctorInput {
  return {
    namespace: 'prod',
    name: 'app',
    issuerUrl: ISSUER,
    targetArgs: '--cluster prod',
    account: ACCOUNT,
    partition: 'aws',
    provider: { arn: PROVIDER, url: HOST, clientIds: ['sts.amazonaws.com'], thumbprints: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'], tags: {} },
    otherProviderUrls: [],
    currentThumbprints: { value: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'] },
    serviceAccount: { namespace: 'prod', name: 'app', annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN }, labels: {} },
    role: role(),
    token: { value: { iss: ISSUER, sub: 'system:serviceaccount:prod:app', aud: ['sts.amazonaws.com'] } },
    webhooks: { value: [webhook()] },
    namespaceLabels: { value: {} },
    dryRun: [dryRun(podSpec([container('app', IRSA_ENV)]))],
    pods: { value: [pod('app-1')] },
    templateEnv: new Map(),
    secretKeys: new Map(),
    assume: undefined,
    ...overrides,
  };
}

const check = (checks: DoctorCheck[], id: string): DoctorCheck => {
  const found = checks.find((c) => c.id === id);
  assert.ok(found, `no check ${id}`);
  return found;
};
const statuses = (checks: DoctorCheck[]) => Object.fromEntries(checks.map((c) => [c.id, c.status]));

// ---- the chain ------------------------------------------------------------------------------

test('a healthy binding passes every check in chain order; --assume not given is skipped; exit 0', () => {
  const checks = diagnose(healthy());
  assert.deepEqual(checks.map((c) => c.id), [
    'oidc-provider', 'oidc-audience', 'oidc-thumbprints', 'service-account', 'role-annotation', 'role', 'trust-policy', 'permissions', 'admission', 'pod-environment', 'assume',
  ]);
  assert.deepEqual(checks.map((c) => c.step), [1, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6]);
  assert.ok(checks.slice(0, -1).every((c) => c.status === 'pass'), JSON.stringify(statuses(checks)));
  assert.equal(check(checks, 'assume').status, 'skip');
  assert.equal(doctorExitCode(checks), 0);
});

test('provider missing: fails with the exact ARN expected and associate-oidc as the fix; provider checks after it are skipped', () => {
  const checks = diagnose(healthy({ provider: null, otherProviderUrls: ['oidc.eks.eu-west-1.amazonaws.com/id/OTHER'] }));
  const provider = check(checks, 'oidc-provider');
  assert.equal(provider.status, 'fail');
  assert.equal(provider.expected, PROVIDER);
  assert.match(provider.observed, /no IAM OIDC provider for https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/ABC in account 111122223333; similar providers: .*OTHER/);
  assert.equal(provider.fix, 'irsa associate-oidc --cluster prod --approve');
  assert.equal(check(checks, 'oidc-audience').status, 'skip');
  assert.equal(check(checks, 'oidc-thumbprints').status, 'skip');
  assert.equal(doctorExitCode(checks), 1);
});

test('audience missing from the provider client IDs fails; a custom audience comes from the annotation', () => {
  const provider = { arn: PROVIDER, url: HOST, clientIds: ['other-client'], thumbprints: [], tags: {} };
  const missing = check(diagnose(healthy({ provider })), 'oidc-audience');
  assert.equal(missing.status, 'fail');
  assert.equal(missing.observed, 'client IDs: other-client');
  assert.match(missing.expected, /^sts\.amazonaws\.com among the client IDs/);
  assert.equal(missing.fix, 'irsa associate-oidc --cluster prod --approve');

  const sa = { namespace: 'prod', name: 'app', annotations: { 'eks.amazonaws.com/role-arn': ROLE_ARN, 'eks.amazonaws.com/audience': 'custom' }, labels: {} };
  const custom = check(diagnose(healthy({ serviceAccount: sa, provider: { ...provider, clientIds: ['sts.amazonaws.com'] } })), 'oidc-audience');
  assert.equal(custom.status, 'fail');
  assert.match(custom.expected, /^custom among the client IDs \(from the eks\.amazonaws\.com\/audience annotation\)/);
  assert.match(custom.fix!, /--attach-role-arn arn:aws:iam::111122223333:role\/app-role --audience custom --approve$/);
});

test('thumbprints: a mismatch only warns (exit 0); none stored passes; an unreadable chain warns', () => {
  const mismatch = diagnose(healthy({ currentThumbprints: { value: ['0000000000000000000000000000000000000000'] } }));
  assert.equal(check(mismatch, 'oidc-thumbprints').status, 'warn');
  assert.equal(doctorExitCode(mismatch), 0);
  const none = healthy();
  none.provider!.thumbprints = [];
  assert.equal(check(diagnose(none), 'oidc-thumbprints').status, 'pass');
  const unreadable = check(diagnose(healthy({ currentThumbprints: { error: 'ECONNREFUSED' } })), 'oidc-thumbprints');
  assert.equal(unreadable.status, 'warn');
  assert.match(unreadable.observed, /ECONNREFUSED/);
});

test('ServiceAccount missing: fails with create-sa-role; annotation, role and trust are skipped', () => {
  const checks = diagnose(healthy({ serviceAccount: null, role: undefined, token: { error: 'serviceaccounts "app" not found' } }));
  assert.equal(check(checks, 'service-account').status, 'fail');
  assert.equal(check(checks, 'service-account').fix, 'irsa create-sa-role --cluster prod -n prod --name app --approve');
  for (const id of ['role-annotation', 'role', 'trust-policy', 'permissions', 'pod-environment']) assert.equal(check(checks, id).status, 'skip', id);
});

test('SA not annotated: fails, names the annotation, and says pods fall back to the node role', () => {
  const checks = diagnose(healthy({ serviceAccount: { namespace: 'prod', name: 'app', annotations: {}, labels: {} }, role: undefined }));
  const annotation = check(checks, 'role-annotation');
  assert.equal(annotation.status, 'fail');
  assert.match(annotation.observed, /prod\/app has no eks\.amazonaws\.com\/role-arn annotation/);
  assert.equal(annotation.expected, 'eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/<name>');
  assert.equal(annotation.fix, 'irsa create-sa-role --cluster prod -n prod --name app --approve');
  assert.equal(check(checks, 'role').status, 'skip');
});

test('a malformed role ARN and a role in another account fail the annotation check', () => {
  const bad = check(diagnose(healthy({ serviceAccount: { namespace: 'prod', name: 'app', annotations: { 'eks.amazonaws.com/role-arn': 'app-role' }, labels: {} } })), 'role-annotation');
  assert.equal(bad.status, 'fail');
  assert.match(bad.observed, /"app-role" is not an IAM role ARN/);
  const other = check(diagnose(healthy({ serviceAccount: { namespace: 'prod', name: 'app', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::999999999999:role/x' }, labels: {} } })), 'role-annotation');
  assert.equal(other.status, 'fail');
  assert.equal(other.observed, 'arn:aws:iam::999999999999:role/x is in account 999999999999');
});

test('role missing: fails with create-sa-role --role-name; trust and permissions are skipped', () => {
  const checks = diagnose(healthy({ role: null }));
  const r = check(checks, 'role');
  assert.equal(r.status, 'fail');
  assert.equal(r.observed, 'app-role does not exist in account 111122223333 (iam:GetRole)');
  assert.equal(r.fix, 'irsa create-sa-role --cluster prod -n prod --name app --role-name app-role --approve');
  assert.equal(check(checks, 'trust-policy').status, 'skip');
  assert.equal(check(checks, 'permissions').status, 'skip');
});

// ---- trust evaluation through doctor ---------------------------------------------------------

test('trust policy for another namespace: names the exact sub mismatch', () => {
  const trust = check(diagnose(healthy({ role: role({ trustPolicy: policy(statement({}, 'system:serviceaccount:default:app')) }) })), 'trust-policy');
  assert.equal(trust.status, 'fail');
  assert.match(trust.observed, /condition StringEquals expects sub system:serviceaccount:default:app, token has sub system:serviceaccount:prod:app/);
  assert.match(trust.expected, new RegExp(`StringEquals ${HOST}:sub = system:serviceaccount:prod:app`));
  assert.equal(trust.fix, `irsa create-sa-role --cluster prod -n prod --name app --attach-role-arn ${ROLE_ARN} --approve`);
});

test('trust policy using the wrong provider ARN: names both ARNs', () => {
  const wrong = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/WRONG`;
  const trust = check(diagnose(healthy({ role: role({ trustPolicy: policy(statement({ Principal: { Federated: wrong } })) }) })), 'trust-policy');
  assert.equal(trust.status, 'fail');
  assert.match(trust.observed, new RegExp(`principal is ${wrong.replace(/[.*/]/g, '\\$&')}, not the provider ${PROVIDER.replace(/[.*/]/g, '\\$&')}`));
});

test('trust: StringLike pattern admits; multiple statements — any one admits', () => {
  const like = check(diagnose(healthy({ role: role({ trustPolicy: policy(statement({}, 'system:serviceaccount:prod:*', 'StringLike')) }) })), 'trust-policy');
  assert.equal(like.status, 'pass', like.observed);
  const multi = check(diagnose(healthy({ role: role({ trustPolicy: policy(statement({}, 'system:serviceaccount:other:x'), statement()) }) })), 'trust-policy');
  assert.equal(multi.status, 'pass');
  assert.match(multi.observed, /^statement 2: allows this token/);
});

test('trust: a token without the aud the condition needs fails; a policy without an aud condition still admits', () => {
  const noAud = check(diagnose(healthy({ token: { value: { iss: ISSUER, sub: 'system:serviceaccount:prod:app', aud: [] } } })), 'trust-policy');
  assert.equal(noAud.status, 'fail');
  assert.match(noAud.observed, new RegExp(`${HOST.replace(/[./]/g, '\\$&')}:aud`));
  const wrongAud = check(diagnose(healthy({ token: { value: { iss: ISSUER, sub: 'system:serviceaccount:prod:app', aud: ['vault'] } } })), 'trust-policy');
  assert.match(wrongAud.observed, /expects aud sts\.amazonaws\.com, token has aud vault/);
  const subOnly: PolicyStatement = { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${HOST}:sub`]: 'system:serviceaccount:prod:app' } } };
  assert.equal(check(diagnose(healthy({ role: role({ trustPolicy: policy(subOnly) }) })), 'trust-policy').status, 'pass');
});

test('trust: a wildcard under StringEquals fails and says to use StringLike; next to an admitting statement it warns', () => {
  const literal = statement({}, 'system:serviceaccount:prod:*');
  assert.deepEqual(literalWildcards(policy(literal)), [`statement 1: StringEquals ${HOST}:sub = system:serviceaccount:prod:*`]);
  const failed = check(diagnose(healthy({ role: role({ trustPolicy: policy(literal) }) })), 'trust-policy');
  assert.equal(failed.status, 'fail');
  assert.match(failed.observed, /compared literally.*use StringLike/);
  const warned = check(diagnose(healthy({ role: role({ trustPolicy: policy(literal, statement()) }) })), 'trust-policy');
  assert.equal(warned.status, 'warn');
});

test('trust: without a minted token the expected claims are evaluated and the check warns', () => {
  const trust = check(diagnose(healthy({ token: { error: 'forbidden' } })), 'trust-policy');
  assert.equal(trust.status, 'warn');
  assert.match(trust.observed, /no token could be minted: forbidden/);
});

// ---- permissions, webhook, pods, assume --------------------------------------------------------

test('permissions: a role without policies fails; the boundary is shown', () => {
  const none = check(diagnose(healthy({ role: role({ attachedPolicyArns: [], permissionsBoundary: 'arn:aws:iam::111122223333:policy/b' }) })), 'permissions');
  assert.equal(none.status, 'fail');
  assert.match(none.observed, /permissions boundary: arn:aws:iam::111122223333:policy\/b/);
  assert.match(none.fix!, /--role-name app-role --attach-policy-arn <policy-arn> --approve$/);
  const inline = check(diagnose(healthy({ role: role({ attachedPolicyArns: [], inlinePolicies: { x: {} } }) })), 'permissions');
  assert.equal(inline.status, 'pass');
  const foreign = check(diagnose(healthy({ role: role({ attachedPolicyArns: [], tags: {} }) })), 'permissions');
  assert.equal(foreign.fix, 'aws iam attach-role-policy --role-name app-role --policy-arn <policy-arn>');
});

test('admission: no webhook registered and an unchanged dry-run pod fails, and running pods are not told to restart', () => {
  const checks = diagnose(healthy({ webhooks: { value: [] }, dryRun: [dryRun(podSpec([container('app', {})]))], pods: { value: [pod('app-1', {})] } }));
  const admission = check(checks, 'admission');
  assert.equal(admission.status, 'fail');
  assert.match(admission.observed, /^no admission webhook mutates pods of this ServiceAccount/);
  const pods = check(checks, 'pod-environment');
  assert.equal(pods.status, 'fail');
  assert.match(pods.observed, /new pods would not get it either/);
  assert.doesNotMatch(pods.fix!, /kubectl/);
});

test('pods without the injected environment (or with an old role) need a restart, named with the command', () => {
  const checks = diagnose(healthy({
    pods: { value: [pod('app-1'), pod('app-2', {}), pod('app-3', { AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/old', AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE }), pod('lonely', {}, '')] },
  }));
  const pods = check(checks, 'pod-environment');
  assert.equal(pods.status, 'fail');
  assert.match(pods.observed, /^3 of 4 pods need a restart \(created before the annotation or the webhook\): app-2 \(created 2024-01-01T00:00:00Z\), app-3/);
  assert.equal(pods.fix, 'kubectl rollout restart deployment/app -n prod; kubectl delete pod lonely -n prod (and recreate it)');
  assert.equal(check(diagnose(healthy({ pods: { value: [] } })), 'pod-environment').status, 'skip');
});

test('assume: the caller identity passes, an STS error fails', () => {
  const ok = check(diagnose(healthy({ assume: { value: 'arn:aws:sts::111122223333:assumed-role/app-role/irsa-doctor' } })), 'assume');
  assert.equal(ok.status, 'pass');
  assert.equal(ok.observed, 'caller identity arn:aws:sts::111122223333:assumed-role/app-role/irsa-doctor');
  const denied = diagnose(healthy({ assume: { error: 'AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity' } }));
  assert.equal(check(denied, 'assume').status, 'fail');
  assert.equal(doctorExitCode(denied), 1);
  assert.equal(check(diagnose(healthy({ assume: { skipped: 'no token' } })), 'assume').status, 'skip');
});

test('renderDoctorText: ✓ lines show the observed value; ✗ and ! add observed, expected and fix; a count line ends it', () => {
  const text = renderDoctorText(diagnose(healthy({ role: null })), 'irsa doctor prod/app');
  assert.match(text, /^irsa doctor prod\/app\n\n✓ 1\. IAM OIDC provider for the cluster's issuer  arn:aws:iam::111122223333:oidc-provider\//);
  assert.match(text, /\n✗ 3\. IAM role exists\n    observed: app-role does not exist in account 111122223333 \(iam:GetRole\)\n    expected: arn:aws:iam::111122223333:role\/app-role\n    fix:      irsa create-sa-role /);
  assert.match(text, /\n- 3\. Trust policy admits the ServiceAccount's token \(skipped: the role does not exist\)\n/);
  assert.match(text, /\n\d+ passed, 1 failed, 0 warnings, \d+ skipped\n$/);
});

test('trust: where irsa cannot decide (aws:SourceVpc, {"AWS":"*"}), the check is ! with the reason, never ✓ or ✗', () => {
  for (const trust of [
    policy(statement({ Condition: { StringEquals: { [`${HOST}:sub`]: 'system:serviceaccount:prod:app', [`${HOST}:aud`]: 'sts.amazonaws.com', 'aws:SourceVpc': 'vpc-0good' } } })),
    policy(statement({ Principal: { AWS: '*' } })),
  ]) {
    const checks = diagnose(healthy({ role: role({ trustPolicy: trust }) }));
    const trustCheck = check(checks, 'trust-policy');
    assert.equal(trustCheck.status, 'warn');
    assert.match(trustCheck.observed, /irsa cannot decide whether STS admits this token/);
    const line = renderDoctorText(checks, "doctor").split('\n').find((l) => l.includes("Trust policy admits"))!;
    assert.ok(!line.includes('✓') && !line.includes('✗'), line);
  }
  // A Deny StringNotLike on this cluster's sub (absent for another cluster's token) is decided: denied.
  const deny = policy(statement(), { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringNotLike: { 'oidc.eks.us-east-1.amazonaws.com/id/OTHER:sub': 'system:serviceaccount:prod:*' } } });
  assert.equal(check(diagnose(healthy({ role: role({ trustPolicy: deny }) })), 'trust-policy').status, 'fail');
});
