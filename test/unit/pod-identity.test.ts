import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admissionVerdict, selectorMatches, type AdmissionInput, type DryRunInput } from '../../src/core/admission.ts';
import type { MutatingWebhookState } from '../../src/core/doctor.ts';
import {
  expectationFor, goCsvFirstRecord, judgePod, needsRestart, parseGoBool, podIdentityTokenExpiration, skippedContainers, TOKEN_DIRECTORY, TOKEN_FILE,
  usesRegionalSts, webhookAudience, WINDOWS_TOKEN_FILE, type ContainerState, type PodSpecState,
} from '../../src/core/pod-identity.ts';

const ROLE = 'arn:aws:iam::111122223333:role/app';
const EXPECTED = { roleArn: ROLE, audience: 'sts.amazonaws.com', expirationSeconds: 86400 };
const IRSA = { AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE };

function container(name: string, env: Record<string, string>, extra: Partial<ContainerState> = {}): ContainerState {
  return {
    name,
    init: false,
    env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
    envFromSecrets: [],
    volumeMounts: 'AWS_WEB_IDENTITY_TOKEN_FILE' in env || extra.init ? [{ name: 'aws-iam-token', mountPath: TOKEN_DIRECTORY }] : [],
    ...extra,
  };
}

function pod(containers: ContainerState[], overrides: Partial<PodSpecState> = {}, audience = 'sts.amazonaws.com'): PodSpecState {
  return { name: 'p', labels: {}, annotations: {}, containers, volumes: [{ name: 'aws-iam-token', token: { audience, expirationSeconds: 86400, path: 'token' } }], ...overrides };
}

test('judgePod: every container, init containers included, judged on its own', () => {
  const verdicts = judgePod(pod([container('setup', {}, { init: true }), container('app', IRSA)]), EXPECTED);
  assert.deepEqual(verdicts.map((v) => [v.container, v.init, v.status, v.kind]), [['setup', true, 'fail', 'missing'], ['app', false, 'pass', 'mutated']]);
  assert.equal(verdicts[1]!.credentials.text, `web identity: ${ROLE}`);
  assert.match(verdicts[0]!.detail, /it will use instance metadata: the node's role$/);
});

test('judgePod: opt-outs are warnings with the reason, not restarts', () => {
  const labelled = judgePod(pod([container('app', {})], { labels: { 'eks.amazonaws.com/skip-pod-identity-webhook': 'true' } }), EXPECTED);
  assert.deepEqual(labelled.map((v) => [v.status, v.kind]), [['warn', 'pod-opt-out']]);
  const skipped = judgePod(pod([container('app', IRSA), container('side', {})], { annotations: { 'eks.amazonaws.com/skip-containers': 'side' } }), EXPECTED);
  assert.deepEqual(skipped.map((v) => [v.container, v.status, v.kind]), [['app', 'pass', 'mutated'], ['side', 'warn', 'container-opt-out']]);
  const own = judgePod(pod([container('app', { AWS_ROLE_ARN: 'arn:aws:iam::111122223333:role/mine' }, { volumeMounts: [{ name: 'aws-iam-token', mountPath: TOKEN_DIRECTORY }] })]), EXPECTED);
  assert.deepEqual(own.map((v) => [v.status, v.kind]), [['warn', 'own-role-arn']]);
  assert.match(own[0]!.detail, /adds neither AWS_ROLE_ARN nor the token file/);
  assert.equal(needsRestart(pod([container('app', {})], { labels: { 'eks.amazonaws.com/skip-pod-identity-webhook': '' } }), EXPECTED), false);
});

test('judgePod: an EKS Pod Identity pod is recognised and says which credentials it uses', () => {
  const verdicts = judgePod(pod([container('app', { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials', AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/x' })], { labels: { 'eks.amazonaws.com/pod-identity': 'enabled' } }), EXPECTED);
  assert.deepEqual(verdicts.map((v) => [v.status, v.kind, v.credentials.kind]), [['warn', 'pod-identity', 'container']]);
});

test('judgePod: static keys from a Secret next to AWS_ROLE_ARN fail and name the Secret', () => {
  const app = container('app', IRSA);
  app.env.push({ name: 'AWS_ACCESS_KEY_ID', secretKeyRef: { name: 'aws-creds', key: 'id' } }, { name: 'AWS_SECRET_ACCESS_KEY', secretKeyRef: { name: 'aws-creds', key: 'secret' } });
  const [verdict] = judgePod(pod([app]), EXPECTED);
  assert.equal(verdict!.status, 'fail');
  assert.equal(verdict!.kind, 'static-keys');
  assert.deepEqual(verdict!.credentials.secrets, ['aws-creds']);
  assert.match(verdict!.detail, /Secret aws-creds/);
  assert.match(verdict!.detail, /also has AWS_ROLE_ARN/);
});

test('judgePod: wrong audience or role fails; a different expiration only warns', () => {
  assert.equal(judgePod(pod([container('app', IRSA)], {}, 'other'), EXPECTED)[0]!.status, 'fail');
  assert.equal(judgePod(pod([container('app', { ...IRSA, AWS_ROLE_ARN: 'arn:aws:iam::1:role/old' })]), EXPECTED)[0]!.kind, 'mismatch');
  assert.equal(judgePod(pod([container('app', IRSA)]), { ...EXPECTED, expirationSeconds: 3600 })[0]!.status, 'warn');
});

test('selectorMatches: matchLabels and every matchExpressions operator', () => {
  assert.ok(selectorMatches(null, {}));
  assert.ok(selectorMatches({ matchLabels: { a: '1' } }, { a: '1', b: '2' }));
  assert.ok(!selectorMatches({ matchLabels: { a: '1' } }, { a: '2' }));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1', '2'] }] }, { a: '2' }));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, { a: '1' }));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {}));
  assert.ok(!selectorMatches({ matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] }, { skip: '' }));
  assert.ok(selectorMatches({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, { a: '' }));
});

// ---- admission verdicts ------------------------------------------------------------------------

const webhook = (overrides: Partial<MutatingWebhookState> = {}): MutatingWebhookState => ({
  configuration: 'pod-identity-webhook',
  webhook: 'iam-for-pods.amazonaws.com',
  service: null,
  url: 'https://127.0.0.1:1/mutate',
  rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
  failurePolicy: 'Ignore',
  namespaceSelector: null,
  objectSelector: null,
  ...overrides,
});

const unchanged = pod([container('app', {})], {});
const dry = (outcome: DryRunInput['outcome']): DryRunInput => ({ source: 'a minimal pod', fromWorkload: false, submitted: { ...unchanged, volumes: [] }, outcome });

function input(overrides: Partial<AdmissionInput>): AdmissionInput {
  return {
    namespace: 'prod',
    serviceAccount: { namespace: 'prod', name: 'app', annotations: { 'eks.amazonaws.com/role-arn': ROLE }, labels: {} },
    roleArn: ROLE,
    webhooks: { value: [webhook()] },
    namespaceLabels: { value: { team: 'a' } },
    dryRun: dry({ admitted: pod([container('app', IRSA)]) }),
    secretKeys: new Map(),
    ...overrides,
  };
}

test('admission: a mutated dry-run pod passes; new pods are ok', () => {
  const { check, newPodsOk } = admissionVerdict(input({}));
  assert.equal(check.status, 'pass');
  assert.ok(newPodsOk);
  assert.match(check.observed, /^dry run of a minimal pod: container app get AWS_ROLE_ARN=/);
});

test('admission: unchanged pod — no webhook; a webhook not answering (Ignore); a selector excluding the namespace', () => {
  const none = admissionVerdict(input({ webhooks: { value: [] }, dryRun: dry({ admitted: { ...unchanged, volumes: [] } }) })).check;
  assert.equal(none.status, 'fail');
  assert.match(none.observed, /^no admission webhook mutates pods of this ServiceAccount/);
  const istio = webhook({ configuration: 'istio-sidecar-injector', webhook: 'sidecar-injector.istio.io', url: null, namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } } });
  const other = admissionVerdict(input({ webhooks: { value: [istio] }, dryRun: dry({ admitted: { ...unchanged, volumes: [] } }) })).check;
  assert.equal(other.observed, 'no admission webhook mutates pods of this ServiceAccount: a minimal pod came back unchanged (other webhooks for pod CREATE: istio-sidecar-injector/sidecar-injector.istio.io — not called: its namespaceSelector {istio-injection=enabled} does not select namespace prod (labels team=a))');
  const ignored = admissionVerdict(input({ dryRun: dry({ admitted: { ...unchanged, volumes: [] } }) })).check;
  assert.equal(ignored.status, 'fail');
  assert.match(ignored.observed, /webhook registered but not answering/);
  assert.doesNotMatch(ignored.fix!, /delete/);
  const excluded = admissionVerdict(input({ webhooks: { value: [webhook({ namespaceSelector: { matchLabels: { team: 'b' } } })] }, dryRun: dry({ admitted: { ...unchanged, volumes: [] } }) })).check;
  assert.equal(excluded.status, 'fail');
  assert.match(excluded.observed, /namespaceSelector \{team=b\} does not select namespace prod \(labels team=a\)/);
});

test('admission: a refused dry run quotes the apiserver; a forbidden one falls back to a weaker verdict that is never ✓', () => {
  const message = 'Internal error occurred: failed calling webhook "iam-for-pods.amazonaws.com": failed to call webhook: Post "https://127.0.0.1:1/mutate": dial tcp 127.0.0.1:1: connect: connection refused';
  const refused = admissionVerdict(input({ dryRun: dry({ rejected: message }) })).check;
  assert.equal(refused.status, 'fail');
  assert.ok(refused.observed.includes(`"${message}"`));
  const forbidden = admissionVerdict(input({ dryRun: dry({ forbidden: 'pods is forbidden: User "x" cannot create resource "pods"' }) })).check;
  assert.equal(forbidden.status, 'warn');
  assert.match(forbidden.observed, /^weaker verdict \(RBAC forbids the dry-run pod create/);
  const forbiddenNone = admissionVerdict(input({ webhooks: { value: [] }, dryRun: dry({ forbidden: 'no' }) })).check;
  assert.equal(forbiddenNone.status, 'fail');
});

// ---- what amazon-eks-pod-identity-webhook v0.6.17 does in the corners (its source; the corpus
// integration test checks the same against the real binary) ----

test('skip-containers: one CSV record as Go reads it, names not trimmed; a parse error skips nothing', () => {
  assert.deepEqual(skippedContainers({ 'eks.amazonaws.com/skip-containers': 'app, sidecar' }), ['app', ' sidecar']);
  assert.deepEqual(skippedContainers({ 'eks.amazonaws.com/skip-containers': ' app' }), [' app']);
  assert.deepEqual(skippedContainers({ 'eks.amazonaws.com/skip-containers': '"a,b",c' }), ['a,b', 'c']);
  assert.deepEqual(skippedContainers({ 'eks.amazonaws.com/skip-containers': 'a"b' }), []);
  assert.deepEqual(skippedContainers({ 'eks.amazonaws.com/skip-containers': '' }), []);
  assert.deepEqual(goCsvFirstRecord('app,'), ['app', '']);
  assert.deepEqual(goCsvFirstRecord('\napp\nside'), ['app']);
  // Before: "app, sidecar" skipped both, so doctor said ! where the webhook mutated " sidecar"'s neighbour… and sidecar.
  const verdicts = judgePod(pod([container('app', {}), container('sidecar', IRSA)], { annotations: { 'eks.amazonaws.com/skip-containers': 'app, sidecar' } }), EXPECTED);
  assert.deepEqual(verdicts.map((v) => [v.container, v.status]), [['app', 'warn'], ['sidecar', 'pass']]);
});

test('token expiration: pod annotation when Go parses it, else the ServiceAccount\'s; below 600 → 600, negatives too', () => {
  const exp = (sa: Record<string, string>, pod: Record<string, string>) => expectationFor(ROLE, sa, pod).expirationSeconds;
  const key = 'eks.amazonaws.com/token-expiration';
  assert.equal(exp({ [key]: '3600' }, { [key]: 'abc' }), 3600);
  assert.equal(exp({ [key]: '-5' }, {}), 600);
  assert.equal(exp({}, { [key]: '-5' }), 600);
  assert.equal(exp({}, { [key]: '+7200' }), 7200);
  assert.equal(exp({ [key]: ' 3600' }, {}), 86400); // ParseInt accepts no spaces
  assert.equal(exp({ [key]: '3600' }, { [key]: '1200' }), 1200);
  assert.equal(exp({ [key]: 'x' }, { [key]: 'y' }), 86400);
});

test('Pod Identity token lifetime: 86400 (default or asked for) becomes 79,200–86,400; another value stays', () => {
  const key = 'eks.amazonaws.com/token-expiration';
  assert.deepEqual(podIdentityTokenExpiration({}, {}), { min: 79200, max: 86400 });
  assert.deepEqual(podIdentityTokenExpiration({ [key]: '3600' }, {}), { min: 3600, max: 3600 });
  assert.deepEqual(podIdentityTokenExpiration({ [key]: '100' }, {}), { min: 600, max: 600 });
  assert.deepEqual(podIdentityTokenExpiration({ [key]: '86400' }, {}), { min: 79200, max: 86400 });
});

test('sts-regional-endpoints is a Go bool; an empty audience annotation means the apiserver default', () => {
  for (const yes of ['true', 'True', 'TRUE', '1', 't', 'T']) assert.equal(usesRegionalSts({ 'eks.amazonaws.com/sts-regional-endpoints': yes }), true, yes);
  for (const no of ['false', '0', 'yes', ' true', '']) assert.equal(usesRegionalSts({ 'eks.amazonaws.com/sts-regional-endpoints': no }), false, no);
  assert.equal(parseGoBool('F'), false);
  assert.equal(webhookAudience({ 'eks.amazonaws.com/audience': '' }), '');
  assert.equal(webhookAudience({}), 'sts.amazonaws.com');
  // Before: "" was read as sts.amazonaws.com, so the webhook's token (no audience) was a ✗ mismatch.
  const verdicts = judgePod(pod([container('app', IRSA)], {}, ''), expectationFor(ROLE, { 'eks.amazonaws.com/audience': '' }, {}));
  assert.equal(verdicts[0]!.status, 'pass');
});

test('Windows pods: the C:\\ token path is on the mounted token volume (also on running pods); not on a Linux pod', () => {
  const windows = { nodeSelector: { 'kubernetes.io/os': 'windows' } };
  const app = container('app', { AWS_ROLE_ARN: ROLE, AWS_WEB_IDENTITY_TOKEN_FILE: WINDOWS_TOKEN_FILE }, { volumeMounts: [{ name: 'aws-iam-token', mountPath: TOKEN_DIRECTORY }] });
  assert.equal(judgePod(pod([app], windows), EXPECTED)[0]!.status, 'pass');
  assert.equal(judgePod(pod([app], { nodeSelector: { 'beta.kubernetes.io/os': 'windows' } }), EXPECTED)[0]!.status, 'pass');
  assert.equal(judgePod(pod([app]), EXPECTED)[0]!.status, 'fail');
});

test('a container with its own AWS_WEB_IDENTITY_TOKEN_FILE only: ! (the webhook adds no AWS_ROLE_ARN), not a restart', () => {
  const app = container('app', { AWS_WEB_IDENTITY_TOKEN_FILE: '/mine/token' });
  const [verdict] = judgePod(pod([app]), EXPECTED);
  assert.equal(verdict!.status, 'warn');
  assert.equal(needsRestart(pod([app]), EXPECTED), false);
});

test('static credentials: a session token alone or a key ID alone is not one; a key pair is, from a ConfigMap too', () => {
  const token = container('app', IRSA);
  token.env.push({ name: 'AWS_SESSION_TOKEN', secretKeyRef: { name: 's', key: 'token' } });
  assert.equal(judgePod(pod([token]), EXPECTED)[0]!.status, 'pass');
  const fromConfigMap = container('app', IRSA, { envFrom: [{ configMap: 'aws', prefix: '' }] });
  const verdict = judgePod(pod([fromConfigMap]), EXPECTED, { configMapKeys: new Map([['aws', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']]]) })[0]!;
  assert.equal(verdict.status, 'fail');
  assert.deepEqual(verdict.credentials.configMaps, ['aws']);
  const refs = container('app', IRSA);
  refs.env.push({ name: 'AWS_ACCESS_KEY_ID', configMapKeyRef: { name: 'aws', key: 'id' } }, { name: 'AWS_SECRET_ACCESS_KEY', value: '(literal)' });
  assert.equal(judgePod(pod([refs]), EXPECTED)[0]!.status, 'fail');
});

test('judgePod: a credentials file from a ConfigMap at ~/.aws is static keys (✗ naming the ConfigMap), as one from a Secret is', () => {
  const withFile = (volume: { secrets?: string[]; configMaps?: string[] }) =>
    pod([container('app', IRSA, { volumeMounts: [{ name: 'aws-iam-token', mountPath: TOKEN_DIRECTORY }, { name: 'aws', mountPath: '/root/.aws' }] })], {
      volumes: [{ name: 'aws-iam-token', token: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }, { name: 'aws', token: null, ...volume }],
    });
  const cases: Array<[{ secrets?: string[]; configMaps?: string[] }, string]> = [[{ configMaps: ['aws-file'] }, 'ConfigMap aws-file'], [{ secrets: ['aws-file'] }, 'Secret aws-file']];
  for (const [volume, from] of cases) {
    const [verdict] = judgePod(withFile(volume), EXPECTED);
    assert.deepEqual([verdict!.status, verdict!.kind], ['fail', 'static-keys']);
    assert.match(verdict!.detail, new RegExp(`^static keys: credentials file from ${from} mounted at /root/\\.aws — they win over IRSA`));
  }
});
