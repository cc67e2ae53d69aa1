// irsa doctor against moto and the real apiserver: a healthy binding made by create-sa-role, then
// one seeded fault per test. The real pod identity webhook cannot be built here (its module is
// not reachable), so a MutatingWebhookConfiguration that looks like it is registered (failurePolicy
// Ignore, pointing at a closed port) and pods carry the injected environment by hand.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl, writeCalls } from './helpers/cli.ts';
import type { DoctorCheck } from '../../src/core/doctor.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const TOKEN_FILE = '/var/run/secrets/eks.amazonaws.com/serviceaccount/token';
const WEBHOOK_LABEL = 'irsa-doctor-test-webhook';
let sequence = 0;
const uniqueNamespace = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;
const dir = mkdtempSync(join(tmpdir(), 'irsa-doctor-'));

async function apply(object: unknown): Promise<void> {
  const file = join(dir, `object-${++sequence}.json`);
  writeFileSync(file, JSON.stringify(object));
  await kubectl(stack, ['apply', '-f', file]);
}

async function namespace(prefix: string): Promise<string> {
  const ns = uniqueNamespace(prefix);
  // The label scopes the test webhook to these namespaces, so other test files never call it.
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [WEBHOOK_LABEL]: 'on' } } });
  return ns;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const webhookName = `pod-identity-webhook-${process.pid}`;
async function registerWebhook(): Promise<void> {
  await apply({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: webhookName },
    webhooks: [{
      name: 'iam-for-pods.amazonaws.com',
      admissionReviewVersions: ['v1beta1'],
      sideEffects: 'None',
      // Nothing listens there: Ignore lets pods be created unmutated, as with a webhook that is down.
      failurePolicy: 'Ignore',
      timeoutSeconds: 1,
      clientConfig: { url: `https://127.0.0.1:${await closedPort()}/mutate`, caBundle: Buffer.from(stack.caCertPem).toString('base64') },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      namespaceSelector: { matchLabels: { [WEBHOOK_LABEL]: 'on' } },
    }],
  });
}
const removeWebhook = () => kubectl(stack, ['delete', 'mutatingwebhookconfiguration', webhookName, '--ignore-not-found']);

async function pod(ns: string, name: string, serviceAccountName: string, env: Record<string, string>): Promise<void> {
  await apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns },
    spec: { serviceAccountName, containers: [{ name: 'app', image: 'busybox', env: Object.entries(env).map(([n, value]) => ({ name: n, value })) }] },
  });
}

async function bind(ns: string, name: string, roleName: string): Promise<string> {
  const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', name, '--role-name', roleName, '--attach-policy-arn', S3_READ, '--approve']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  return `arn:aws:iam::${stack.accountId}:role/${roleName}`;
}

async function doctor(ns: string, name: string, ...extra: string[]) {
  const result = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', name, '-o', 'json', ...extra]);
  const report = json<{ ok: boolean; checks: DoctorCheck[] }>(result);
  const check = (id: string) => {
    const found = report.checks.find((c) => c.id === id);
    assert.ok(found, `no check ${id}`);
    return found;
  };
  return { result, report, check, statuses: Object.fromEntries(report.checks.map((c) => [c.id, c.status])) };
}

describe('irsa doctor', { skip }, () => {
  let hostPath: string;
  let providerArn: string;
  before(async () => {
    await stack.resetAws();
    hostPath = new URL(stack.issuerUrl).host;
    providerArn = `arn:aws:iam::${stack.accountId}:oidc-provider/${hostPath}`;
    await registerWebhook();
  });
  after(async () => {
    await removeWebhook();
  });

  /** Puts back the provider create-sa-role makes, after a test broke it. */
  async function restoreProvider() {
    await aws(stack, ['iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]).catch(() => {});
    const associated = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--approve']);
    assert.equal(associated.code, 0, associated.stderr);
  }

  it('a healthy binding made by create-sa-role, with a pod carrying the injected environment: every check ✓, exit 0, read-only', async () => {
    const ns = await namespace('healthy');
    const roleArn = await bind(ns, 'app', `${ns}-app`);
    await pod(ns, 'app-1', 'app', { AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE });
    const { result, report, statuses, check } = await doctor(ns, 'app', '--assume');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(report.ok, true);
    assert.ok(Object.values(statuses).every((s) => s === 'pass'), JSON.stringify(statuses));
    assert.equal(check('oidc-provider').observed, providerArn);
    assert.match(check('webhook').observed, new RegExp(`^${webhookName} \\(webhook iam-for-pods\\.amazonaws\\.com → https://127\\.0\\.0\\.1:\\d+/mutate`));
    assert.match(check('trust-policy').observed, new RegExp(`token iss ${stack.issuerUrl}, sub system:serviceaccount:${ns}:app, aud sts\\.amazonaws\\.com`));
    assert.match(check('assume').observed, new RegExp(`caller identity arn:aws:sts::${stack.accountId}:assumed-role/${ns}-app/irsa-doctor-`));
    // The only "write" is the TokenRequest (and STS for --assume); the token never reaches the output.
    const allowedWrites = ['k8s POST serviceaccounts/token', 'sts AssumeRoleWithWebIdentity'];
    assert.deepEqual(Object.keys(writeCalls(result.calls)).filter((call) => !allowedWrites.includes(call)), []);
    assert.doesNotMatch(result.stdout + result.stderr, /eyJ[\w-]+\.eyJ/);

    const text = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', 'app']);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, /^✓ 1\. IAM OIDC provider for the cluster's issuer {2}arn:aws:iam::/m);
    assert.match(text.stdout, /^- 6\. sts:AssumeRoleWithWebIdentity with a minted token \(skipped: not run: add --assume to call STS\)$/m);
  });

  it('fault: provider missing', async () => {
    const ns = await namespace('noprov');
    await bind(ns, 'app', `${ns}-app`);
    await aws(stack, ['iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]);
    try {
      const { result, check } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      assert.equal(check('oidc-provider').status, 'fail');
      assert.equal(check('oidc-provider').observed, `no IAM OIDC provider for ${stack.issuerUrl} in account ${stack.accountId}`);
      assert.equal(check('oidc-provider').fix, `irsa associate-oidc --cluster ${stack.clusterName} --approve`);
    } finally {
      await restoreProvider();
    }
  });

  it('fault: audience sts.amazonaws.com missing from the provider', async () => {
    const ns = await namespace('noaud');
    await bind(ns, 'app', `${ns}-app`);
    // moto has no AddClientIDToOpenIDConnectProvider/Remove…: re-create the provider with another client ID.
    await aws(stack, ['iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]);
    await aws(stack, ['iam', 'create-open-id-connect-provider', '--url', stack.issuerUrl, '--client-id-list', 'other-client', '--thumbprint-list', '0'.repeat(40)]);
    try {
      const { result, check } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      assert.equal(check('oidc-audience').status, 'fail');
      assert.equal(check('oidc-audience').observed, 'client IDs: other-client');
      assert.match(check('oidc-audience').expected, /^sts\.amazonaws\.com among the client IDs/);
      assert.equal(check('oidc-provider').status, 'pass');
    } finally {
      await restoreProvider();
    }
  });

  it('fault: trust policy for another namespace', async () => {
    const owner = await namespace('owner');
    const roleArn = await bind(owner, 'app', `${owner}-app`);
    const ns = await namespace('stranger');
    await kubectl(stack, ['create', 'sa', 'app', '-n', ns]);
    await kubectl(stack, ['annotate', 'sa', 'app', '-n', ns, `eks.amazonaws.com/role-arn=${roleArn}`]);
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 1);
    const trust = check('trust-policy');
    assert.equal(trust.status, 'fail');
    assert.match(trust.observed, new RegExp(`condition StringEquals expects sub system:serviceaccount:${owner}:app, token has sub system:serviceaccount:${ns}:app`));
    assert.equal(trust.fix, `irsa create-sa-role --cluster ${stack.clusterName} -n ${ns} --name app --attach-role-arn ${roleArn} --approve`);
  });

  it('fault: trust policy using the wrong provider ARN', async () => {
    const ns = await namespace('wrongprov');
    await bind(ns, 'app', `${ns}-app`);
    const wrong = `arn:aws:iam::${stack.accountId}:oidc-provider/127.0.0.1:1`;
    const document = {
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Principal: { Federated: wrong },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${hostPath}:sub`]: `system:serviceaccount:${ns}:app`, [`${hostPath}:aud`]: 'sts.amazonaws.com' } },
      }],
    };
    await aws(stack, ['iam', 'update-assume-role-policy', '--role-name', `${ns}-app`, '--policy-document', JSON.stringify(document)]);
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 1);
    assert.equal(check('trust-policy').status, 'fail');
    assert.equal(check('trust-policy').observed, `statement 1: principal is ${wrong}, not the provider ${providerArn}`);
  });

  it('fault: ServiceAccount not annotated', async () => {
    const ns = await namespace('plain');
    await kubectl(stack, ['create', 'sa', 'app', '-n', ns]);
    const { result, check, statuses } = await doctor(ns, 'app');
    assert.equal(result.code, 1);
    assert.equal(check('role-annotation').status, 'fail');
    assert.equal(check('role-annotation').observed, `${ns}/app has no eks.amazonaws.com/role-arn annotation (its pods fall back to the node's role)`);
    assert.equal(check('role-annotation').fix, `irsa create-sa-role --cluster ${stack.clusterName} -n ${ns} --name app --approve`);
    assert.equal(statuses['role'], 'skip');
  });

  it('fault: role missing', async () => {
    const ns = await namespace('norole');
    await kubectl(stack, ['create', 'sa', 'app', '-n', ns]);
    await kubectl(stack, ['annotate', 'sa', 'app', '-n', ns, `eks.amazonaws.com/role-arn=arn:aws:iam::${stack.accountId}:role/${ns}-gone`]);
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 1);
    assert.equal(check('role').status, 'fail');
    assert.equal(check('role').observed, `${ns}-gone does not exist in account ${stack.accountId} (iam:GetRole)`);
    assert.equal(check('role').fix, `irsa create-sa-role --cluster ${stack.clusterName} -n ${ns} --name app --role-name ${ns}-gone --approve`);
  });

  it('a pod created without the injected environment is listed as needing a restart', async () => {
    const ns = await namespace('stale');
    const roleArn = await bind(ns, 'app', `${ns}-app`);
    await pod(ns, 'fresh', 'app', { AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE });
    await pod(ns, 'old', 'app', {});
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 1);
    const pods = check('pod-environment');
    assert.equal(pods.status, 'fail');
    assert.match(pods.observed, /^1 of 2 pods need a restart: old \(lacks AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, created \d{4}-/);
    assert.equal(pods.fix, `kubectl delete pod old -n ${ns} (and recreate it)`);
  });

  it('fault: webhook missing', async () => {
    const ns = await namespace('nohook');
    await bind(ns, 'app', `${ns}-app`);
    await pod(ns, 'app-1', 'app', {});
    await removeWebhook();
    try {
      const { result, check } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      assert.equal(check('webhook').status, 'fail');
      assert.match(check('webhook').observed, /^no MutatingWebhookConfiguration looks like the pod identity webhook/);
      assert.match(check('pod-environment').fix!, /^install the pod identity webhook first/);
    } finally {
      await registerWebhook();
    }
  });
});
