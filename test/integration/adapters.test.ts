// The AWS and Kubernetes adapters against the local stack: moto for IAM/EKS/STS and a real
// kube-apiserver (merge-patch semantics, TokenRequest, RBAC and TLS errors are the real thing).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { createAwsContext, type AwsContext } from '../../src/adapters/aws/clients.ts';
import { createKubeGateway, RESTARTED_AT_ANNOTATION } from '../../src/adapters/k8s/kube.ts';
import { createCallObserver, type CountingObserver } from '../../src/adapters/verbose.ts';
import { RemoteError, UserError } from '../../src/core/errors.ts';
import { buildTrustPolicy, serviceAccountSubject } from '../../src/core/trust-policy.ts';
import { isAlreadyExists, isNotFound } from '../../src/engine/retry.ts';
import type { IamGateway, KubeGateway } from '../../src/ports.ts';
import { decodeJwtClaims } from '../../src/core/jwt.ts';

const { stack, skip } = await useStack();

/** A loopback port nothing listens on (fetch refuses "bad ports" such as 9 before connecting). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => assert.fail('expected a rejection'), (error: unknown) => error);

describe('AWS adapters against moto', { skip }, () => {
  let observer: CountingObserver;
  let aws: AwsContext;
  let iam: IamGateway;
  let hostPort: string;
  let providerArn: string;

  before(async () => {
    await stack.resetAws();
    // The adapters take endpoint and credentials from the environment, as the CLI does.
    for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED']) {
      process.env[key] = stack.env[key];
    }
    observer = createCallObserver();
    aws = createAwsContext({ observer });
    iam = await aws.iam();
    hostPort = new URL(stack.issuerUrl).host;
    providerArn = `arn:aws:iam::${stack.accountId}:oidc-provider/${hostPort}`;
  });
  after(() => aws?.destroy());

  it('resolves region and account, and reads the EKS cluster issuer', async () => {
    assert.equal(await aws.region(), stack.region);
    assert.equal(await iam.accountId(), stack.accountId);
    const eks = await aws.eks();
    const cluster = await eks.describeCluster(stack.clusterName);
    assert.deepEqual(cluster, {
      name: stack.clusterName,
      region: stack.region,
      arn: `arn:aws:eks:${stack.region}:${stack.accountId}:cluster/${stack.clusterName}`,
      accountId: stack.accountId,
      issuerUrl: stack.issuerUrl,
      // moto reports the apiserver as the cluster's endpoint (the cluster check compares it).
      endpoint: stack.apiserverUrl,
    });
    assert.equal(await eks.describeCluster('no-such-cluster'), null);
    assert.ok((await eks.listClusters()).includes(stack.clusterName));
  });

  it('creates, reads, updates and deletes an OIDC provider whose ARN has a port in it', async () => {
    const thumbprint = 'a'.repeat(40);
    assert.equal(await iam.getOidcProvider(providerArn), null);
    const arn = await iam.createOidcProvider({ url: hostPort, clientIds: ['sts.amazonaws.com'], thumbprints: [thumbprint], tags: { 'irsa.io/managed': 'true' } });
    assert.equal(arn, providerArn);
    assert.deepEqual(await iam.getOidcProvider(arn), { arn, url: hostPort, clientIds: ['sts.amazonaws.com'], thumbprints: [thumbprint], tags: { 'irsa.io/managed': 'true' } });
    assert.deepEqual(await iam.listOidcProviderArns(), [arn]);
    await iam.updateOidcProviderThumbprints(arn, ['b'.repeat(40), 'c'.repeat(40)]);
    assert.deepEqual((await iam.getOidcProvider(arn))?.thumbprints, ['b'.repeat(40), 'c'.repeat(40)]);
    const again = await rejection(iam.createOidcProvider({ url: hostPort, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: {} }));
    assert.ok(again instanceof RemoteError && isAlreadyExists(again), String(again));
    await iam.deleteOidcProvider(arn);
    assert.equal(await iam.getOidcProvider(arn), null);
  });

  it('round-trips a role: URL-encoded trust policy, tags, boundary, attached and inline policies', async () => {
    const trustPolicy = buildTrustPolicy([
      { providerArn, issuerHostPath: hostPort, audience: 'sts.amazonaws.com', subjects: [serviceAccountSubject('team-a', 'app+1')], subjectPatterns: [] },
    ]);
    const boundary = 'arn:aws:iam::aws:policy/PowerUserAccess';
    const arn = await iam.createRole({
      name: 'irsa-adapter-role', path: '/irsa/', trustPolicy, description: 'adapter test: 100% & more',
      maxSessionDuration: 7200, permissionsBoundary: boundary, tags: { 'irsa.io/managed': 'true', team: 'a b' },
    });
    assert.equal(arn, `arn:aws:iam::${stack.accountId}:role/irsa/irsa-adapter-role`);
    await iam.attachPolicy('irsa-adapter-role', 'arn:aws:iam::aws:policy/ReadOnlyAccess');
    const inline = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/a b/100%' }] };
    await iam.putInlinePolicy('irsa-adapter-role', 'objects', inline);

    const read = await iam.getRole('irsa-adapter-role');
    assert.match(read?.id ?? '', /^AROA[A-Z0-9]{17}$/, 'the unique role id (doctor --can compares it with ids in resource policies)');
    assert.deepEqual({ ...read, id: undefined }, {
      id: undefined, arn, name: 'irsa-adapter-role', path: '/irsa/', description: 'adapter test: 100% & more', maxSessionDuration: 7200,
      permissionsBoundary: boundary, trustPolicy, tags: { 'irsa.io/managed': 'true', team: 'a b' },
      attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'], inlinePolicies: { objects: inline },
    });

    const wider = buildTrustPolicy([
      { providerArn, issuerHostPath: hostPort, audience: 'sts.amazonaws.com', subjects: [serviceAccountSubject('team-a', 'app+1'), serviceAccountSubject('team-b', 'x')], subjectPatterns: [] },
    ]);
    await iam.updateTrustPolicy('irsa-adapter-role', wider);
    await iam.updateRole('irsa-adapter-role', { description: 'changed', maxSessionDuration: 3600 });
    await iam.deletePermissionsBoundary('irsa-adapter-role');
    await iam.tagRole('irsa-adapter-role', { extra: '1' });
    await iam.untagRole('irsa-adapter-role', ['team']);
    const changed = await iam.getRole('irsa-adapter-role');
    assert.deepEqual(changed?.trustPolicy, wider);
    assert.equal(changed?.description, 'changed');
    assert.equal(changed?.maxSessionDuration, 3600);
    assert.equal(changed?.permissionsBoundary, null);
    assert.deepEqual(await iam.listRoleTags('irsa-adapter-role'), { 'irsa.io/managed': 'true', extra: '1' });
    assert.deepEqual(await iam.listRoles('/irsa/'), [{ name: 'irsa-adapter-role', arn }]);

    await iam.detachPolicy('irsa-adapter-role', 'arn:aws:iam::aws:policy/ReadOnlyAccess');
    await iam.deleteInlinePolicy('irsa-adapter-role', 'objects');
    await iam.deleteRole('irsa-adapter-role');
    assert.equal(await iam.getRole('irsa-adapter-role'), null);
    const gone = await rejection(iam.deleteRole('irsa-adapter-role'));
    assert.ok(gone instanceof RemoteError && isNotFound(gone), String(gone));
  });

  it('getPolicy finds an AWS managed policy and returns null for a missing one', async () => {
    assert.deepEqual(await iam.getPolicy('arn:aws:iam::aws:policy/ReadOnlyAccess'), { arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess', name: 'ReadOnlyAccess' });
    assert.equal(await iam.getPolicy('arn:aws:iam::aws:policy/NoSuchPolicyAnywhere'), null);
    assert.ok((await iam.listPolicies('AWS')).length > 100, 'ListPolicies follows Marker past the first page');
  });

  it('counted every call by service and operation, without retries', () => {
    const counts = observer.counts();
    for (const key of ['sts GetCallerIdentity', 'eks DescribeCluster', 'iam CreateRole', 'iam GetRole', 'iam GetRolePolicy', 'iam CreateOpenIDConnectProvider']) {
      assert.ok((counts[key] ?? 0) > 0, `${key} counted: ${JSON.stringify(counts)}`);
    }
    assert.equal(counts['sts GetCallerIdentity'], 1, 'the account ID is cached');
    assert.equal(observer.retries(), 0);
  });

  it('retries throttling and 5xx with backoff and reports each retry', async () => {
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0.5, kinds: ['throttle', 'http503'], seed: 7 });
    const faulty = createCallObserver();
    const context = createAwsContext({ observer: faulty, endpoint: proxy.url });
    try {
      const gateway = await context.iam();
      for (let i = 0; i < 4; i++) assert.ok(await gateway.getPolicy('arn:aws:iam::aws:policy/ReadOnlyAccess'));
      assert.equal(faulty.counts()['iam GetPolicy'], 4);
      assert.ok(faulty.retries() > 0 && faulty.retries() === proxy.counts.throttle + proxy.counts.http503, JSON.stringify({ retries: faulty.retryCounts(), proxy: proxy.counts }));
    } finally {
      context.destroy();
      await proxy.close();
    }
  });

  it('turns an unreachable endpoint into a RemoteError that names it', async () => {
    const context = createAwsContext({ endpoint: `http://127.0.0.1:${await closedPort()}`, maxAttempts: 1 });
    try {
      const error = await rejection((await context.iam()).getRole('x'));
      assert.ok(error instanceof RemoteError);
      assert.match(error.message, /Cannot reach AWS IAM .*GetRole: ECONNREFUSED/);
    } finally {
      context.destroy();
    }
  });
});

describe('Kubernetes adapter against kube-apiserver', { skip }, () => {
  const namespace = `adapters-${randomBytes(3).toString('hex')}`;
  let observer: CountingObserver;
  let kube: KubeGateway;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  const template = (serviceAccountName: string | undefined): V1PodTemplateSpec => ({
    metadata: { labels: { app: 'x' } },
    spec: { ...(serviceAccountName ? { serviceAccountName } : {}), containers: [{ name: 'c', image: 'busybox' }] },
  });
  const selector = { matchLabels: { app: 'x' } };

  before(async () => {
    observer = createCallObserver();
    kube = createKubeGateway({ kubeconfig: stack.kubeconfigPath, context: stack.kubeContext, observer });
    // Fixtures are made with the client directly, so the adapter is only what is under test.
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfigPath);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
  });

  it('checks, creates and lists namespaces', async () => {
    assert.equal(await kube.namespaceExists(namespace), false);
    await kube.createNamespace(namespace);
    assert.equal(await kube.namespaceExists(namespace), true);
    assert.ok((await kube.listNamespaces()).includes(namespace));
    const again = await rejection(kube.createNamespace(namespace));
    assert.ok(again instanceof RemoteError && isAlreadyExists(again), String(again));
  });

  it('creates, reads, merge-patches and deletes a ServiceAccount', async () => {
    assert.equal(await kube.getServiceAccount(namespace, 'app'), null);
    await kube.createServiceAccount({ namespace, name: 'app', annotations: { 'example.com/keep': 'yes', 'example.com/drop': 'x' }, labels: { team: 'a', old: 'y' } });
    assert.deepEqual(await kube.getServiceAccount(namespace, 'app'), {
      namespace, name: 'app', annotations: { 'example.com/keep': 'yes', 'example.com/drop': 'x' }, labels: { team: 'a', old: 'y' },
    });
    const roleArn = `arn:aws:iam::${stack.accountId}:role/app`;
    await kube.patchServiceAccountMetadata(namespace, 'app', {
      annotations: { 'eks.amazonaws.com/role-arn': roleArn, 'example.com/drop': null },
      labels: { old: null },
    });
    assert.deepEqual(await kube.getServiceAccount(namespace, 'app'), {
      namespace, name: 'app', annotations: { 'example.com/keep': 'yes', 'eks.amazonaws.com/role-arn': roleArn }, labels: { team: 'a' },
    });
    await kube.patchServiceAccountMetadata(namespace, 'app', { annotations: { 'eks.amazonaws.com/role-arn': null } });
    assert.deepEqual((await kube.getServiceAccount(namespace, 'app'))?.annotations, { 'example.com/keep': 'yes' });

    await kube.createServiceAccount({ namespace, name: 'other', annotations: {}, labels: {} });
    assert.deepEqual((await kube.listServiceAccounts(namespace)).map((sa) => sa.name).sort(), ['app', 'other']);
    assert.ok((await kube.listServiceAccounts()).some((sa) => sa.namespace === namespace && sa.name === 'other'));
    await kube.deleteServiceAccount(namespace, 'other');
    assert.equal(await kube.getServiceAccount(namespace, 'other'), null);
    const gone = await rejection(kube.deleteServiceAccount(namespace, 'other'));
    assert.ok(gone instanceof RemoteError && isNotFound(gone), String(gone));
  });

  it('lists the workloads using a ServiceAccount and restarts only the one asked for', async () => {
    const deployment = await apps.createNamespacedDeployment({ namespace, body: { metadata: { name: 'uses-app' }, spec: { selector, template: template('app') } } });
    await apps.createNamespacedDeployment({ namespace, body: { metadata: { name: 'uses-other' }, spec: { selector, template: template('other') } } });
    await apps.createNamespacedStatefulSet({ namespace, body: { metadata: { name: 'stateful-app' }, spec: { selector, serviceName: 's', template: template('app') } } });
    await apps.createNamespacedDaemonSet({ namespace, body: { metadata: { name: 'agent' }, spec: { selector, template: template(undefined) } } });

    assert.deepEqual(await kube.listWorkloadsUsingServiceAccount(namespace, 'app'), [
      { kind: 'Deployment', namespace, name: 'uses-app' },
      { kind: 'StatefulSet', namespace, name: 'stateful-app' },
    ]);
    assert.deepEqual(await kube.listWorkloadsUsingServiceAccount(namespace, 'default'), [{ kind: 'DaemonSet', namespace, name: 'agent' }]);
    assert.equal((await kube.listWorkloads(namespace)).length, 4);

    const restartedAt = '2026-01-02T03:04:05Z';
    await kube.restartWorkload({ kind: 'Deployment', namespace, name: 'uses-app' }, restartedAt);
    const restarted = await apps.readNamespacedDeployment({ namespace, name: 'uses-app' });
    assert.equal(restarted.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION], restartedAt);
    assert.deepEqual(restarted.spec?.template.metadata?.labels, { app: 'x' }, 'the merge patch keeps the rest of the template');
    const untouched = await apps.readNamespacedDeployment({ namespace, name: 'uses-other' });
    assert.equal(untouched.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION], undefined);
    await kube.restartWorkload({ kind: 'StatefulSet', namespace, name: 'stateful-app' }, restartedAt);
    const statefulSet = await apps.readNamespacedStatefulSet({ namespace, name: 'stateful-app' });
    assert.equal(statefulSet.spec?.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION], restartedAt);

    // No controller-manager runs: make the ReplicaSet and pod a Deployment would have.
    const rs = await apps.createNamespacedReplicaSet({
      namespace,
      body: {
        metadata: { name: 'uses-app-5d4f8', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'uses-app', uid: deployment.metadata!.uid!, controller: true }] },
        spec: { selector, template: template('app') },
      },
    });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'uses-app-5d4f8-abcde', labels: { app: 'x', 'pod-template-hash': '5d4f8' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'uses-app-5d4f8', uid: rs.metadata!.uid!, controller: true }] },
        spec: {
          serviceAccountName: 'app',
          containers: [
            { name: 'c', image: 'busybox', env: [{ name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/app' }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' }] },
            { name: 'sidecar', image: 'busybox', env: [{ name: 'AWS_ROLE_ARN', value: 'ignored' }, { name: 'EXTRA', value: '1' }] },
          ],
          volumes: [{ name: 'aws-iam-token', emptyDir: {} }],
        },
      },
    });
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'loose' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });

    const pods = await kube.listPods(namespace, 'app');
    assert.equal(pods.length, 1);
    const pod = pods[0]!;
    assert.equal(pod.name, 'uses-app-5d4f8-abcde');
    assert.equal(pod.serviceAccountName, 'app');
    assert.deepEqual(pod.env, {
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/app',
      AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
      EXTRA: '1',
    });
    assert.deepEqual(pod.volumes, ['aws-iam-token']);
    assert.deepEqual(pod.ownerWorkload, { kind: 'Deployment', namespace, name: 'uses-app' });
    assert.ok(!Number.isNaN(Date.parse(pod.createdAt)), pod.createdAt);
    // An empty serviceAccountName means "default" (the admission plugin that fills it is off here).
    assert.deepEqual((await kube.listPods(namespace, 'default')).map((p) => [p.name, p.ownerWorkload]), [['loose', null]]);
    assert.equal((await kube.listPods(namespace)).length, 2);
  });

  it('mints a token with TokenRequest for the ServiceAccount, the audience and the issuer', async () => {
    const token = await kube.createToken(namespace, 'app', 'sts.amazonaws.com', 600);
    const claims = decodeJwtClaims(token);
    assert.equal(claims.iss, stack.issuerUrl);
    assert.equal(claims.sub, serviceAccountSubject(namespace, 'app'));
    assert.deepEqual(claims.aud, ['sts.amazonaws.com']);
  });

  it('the token is accepted by STS AssumeRoleWithWebIdentity (moto checks the call shape only)', async () => {
    for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) process.env[key] = stack.env[key];
    const aws = createAwsContext({});
    try {
      const token = await kube.createToken(namespace, 'app', 'sts.amazonaws.com');
      const roleArn = `arn:aws:iam::${stack.accountId}:role/app`;
      const assumed = await (await aws.sts()).assumeRoleWithWebIdentity(roleArn, token, 'irsa-adapter-test');
      assert.equal(assumed.account, stack.accountId);
      assert.match(assumed.arn, /:assumed-role\/app\/irsa-adapter-test$/);
      assert.ok(!JSON.stringify(assumed).includes(token));
    } finally {
      aws.destroy();
    }
  });

  it('counted each call as "k8s <VERB> <resource>"', () => {
    const counts = observer.counts();
    for (const key of ['k8s GET serviceaccounts', 'k8s POST serviceaccounts', 'k8s PATCH serviceaccounts', 'k8s DELETE serviceaccounts', 'k8s LIST deployments', 'k8s LIST statefulsets', 'k8s LIST daemonsets', 'k8s PATCH deployments', 'k8s LIST pods', 'k8s LIST replicasets', 'k8s POST serviceaccounts/token']) {
      assert.ok((counts[key] ?? 0) > 0, `${key} counted: ${JSON.stringify(counts)}`);
    }
    assert.equal(counts['k8s PATCH deployments'], 1);
  });

  it('explains RBAC denial, an unreachable server and an unknown context', async () => {
    // Same server and CA, no client certificate: the apiserver treats us as system:anonymous.
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfigPath);
    const cluster = kc.getCurrentCluster()!;
    const anonymous = join(stack.dir, `anonymous-${namespace}.kubeconfig`);
    const kubeconfig = (server: string) => JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'anon',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': Buffer.from(stack.caCertPem).toString('base64') } }],
      users: [{ name: 'u', user: {} }],
      contexts: [{ name: 'anon', context: { cluster: 'c', user: 'u' } }],
    });
    writeFileSync(anonymous, kubeconfig(cluster.server));
    const denied = await rejection(createKubeGateway({ kubeconfig: anonymous }).getServiceAccount(namespace, 'app'));
    assert.ok(denied instanceof RemoteError);
    assert.match(denied.message, new RegExp(`GET /api/v1/namespaces/${namespace}/serviceaccounts/app was forbidden by ${cluster.server.replace(/\./g, '\\.')}`));
    assert.match(denied.message, /system:anonymous.*Grant "get" on "serviceaccounts"/s);

    const unreachable = join(stack.dir, `unreachable-${namespace}.kubeconfig`);
    const port = await closedPort();
    writeFileSync(unreachable, kubeconfig(`https://127.0.0.1:${port}`));
    const refused = await rejection(createKubeGateway({ kubeconfig: unreachable }).listNamespaces());
    assert.ok(refused instanceof RemoteError);
    assert.match(refused.message, new RegExp(`The Kubernetes API server is unreachable at https://127\\.0\\.0\\.1:${port} \\(context "anon"\\): connection refused \\(ECONNREFUSED\\) on list namespaces`));

    assert.throws(() => createKubeGateway({ kubeconfig: stack.kubeconfigPath, context: 'nope' }), (error: unknown) =>
      error instanceof UserError && /--context: "nope" is not a context.*irsa-local/.test(error.message));
    assert.throws(() => createKubeGateway({ kubeconfig: join(stack.dir, 'missing') }), UserError);
  });
});
