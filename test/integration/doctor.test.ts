// irsa doctor against moto, the real apiserver and the real amazon-eks-pod-identity-webhook
// (v0.6.17, run by the stack and registered as EKS registers it): a healthy binding made by
// create-sa-role, then one seeded fault per test. Admission is the real apiserver's: doctor's
// server-side dry run goes through it and the webhook. Faults that change the registration
// (removed, down, another selector) put the stack's EKS-shaped registration back afterwards; test
// files run one at a time, so no other file sees them.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { addPodIdentityServiceAccount, registerWebhook, removePodIdentityServiceAccount, unregisterWebhook } from '../harness/stack.ts';
import { aws, irsa, json, kubectl, writeCalls } from './helpers/cli.ts';
import { kubectlApply } from './helpers/kube-objects.ts';
import type { DoctorCheck } from '../../src/core/doctor.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const TOKEN_FILE = '/var/run/secrets/eks.amazonaws.com/serviceaccount/token';
let sequence = 0;
const uniqueNamespace = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;
const dir = mkdtempSync(join(tmpdir(), 'irsa-doctor-'));

const apply = (object: unknown) => kubectlApply(stack, object);

async function namespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const ns = uniqueNamespace(prefix);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } });
  return ns;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const webhookName = 'pod-identity-webhook'; // the stack's registration (stack.webhook.configurationName)

/** The stack's registration, as EKS registers the real webhook (after a test changed it). */
const registerEks = () => registerWebhook(stack);

/** A registration whose URL is a closed port: the webhook process is down. */
async function registerDown(failurePolicy: 'Fail' | 'Ignore'): Promise<void> {
  await registerWebhook(stack, {
    failurePolicy,
    timeoutSeconds: 2,
    clientConfig: { url: `https://127.0.0.1:${await closedPort()}/mutate`, caBundle: Buffer.from(stack.webhook.caBundlePem).toString('base64') },
  });
}
const removeWebhook = () => unregisterWebhook(stack);

/** How many pods of `ns` the real webhook has mutated so far (its log at -v=3). */
const mutatedIn = (ns: string) =>
  readFileSync(stack.webhook.logPath, 'utf8').split('\n').filter((line) => line.includes('Pod was mutated.') && line.includes(`Namespace=${ns}`)).length;

async function pod(ns: string, name: string, serviceAccountName: string, env: Record<string, string> = {}, extra: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Record<string, unknown> } = {}): Promise<void> {
  await apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: extra.labels ?? {}, annotations: extra.annotations ?? {} },
    spec: { serviceAccountName, containers: [{ name: 'app', image: 'busybox', env: Object.entries(env).map(([n, value]) => ({ name: n, value })) }], ...extra.spec },
  });
}

/** A Deployment (no controller runs here, so it makes no pods): doctor dry-runs its template. */
async function deployment(ns: string, name: string, serviceAccountName: string, template: { labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Record<string, unknown> }): Promise<void> {
  await apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...template.labels }, annotations: template.annotations ?? {} },
        spec: { serviceAccountName, containers: [{ name: 'app', image: 'busybox' }], ...template.spec },
      },
    },
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
    assert.equal(stack.webhook.configurationName, webhookName);
    await registerEks();
  });
  after(async () => {
    await registerEks();
  });

  /** Puts back the provider create-sa-role makes, after a test broke it. */
  async function restoreProvider() {
    await aws(stack, ['iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]).catch(() => {});
    const associated = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--approve']);
    assert.equal(associated.code, 0, associated.stderr);
  }

  it('a healthy binding made by create-sa-role, with the real webhook: every check ✓ (the dry run included), exit 0, nothing stored', async () => {
    const ns = await namespace('healthy');
    const roleArn = await bind(ns, 'app', `${ns}-app`);
    await pod(ns, 'app-1', 'app'); // mutated by the webhook on creation
    const created = await kubectl(stack, ['get', 'pod', 'app-1', '-n', ns, '-o', 'json']);
    assert.ok(created.spec.containers[0].env.some((e: { name: string; value: string }) => e.name === 'AWS_ROLE_ARN' && e.value === roleArn));
    const callsBefore = mutatedIn(ns);
    const { result, report, statuses, check } = await doctor(ns, 'app', '--assume');
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(report.ok, true);
    assert.ok(Object.values(statuses).every((s) => s === 'pass'), JSON.stringify(statuses));
    assert.equal(check('oidc-provider').observed, providerArn);
    assert.equal(check('admission').observed, `dry run of a minimal pod: container app get AWS_ROLE_ARN=${roleArn} and the token (audience sts.amazonaws.com, 86400 s)`);
    assert.equal(mutatedIn(ns), callsBefore + 1, 'the dry run went through the webhook');
    assert.equal(check('pod-environment').observed, `1 pod: every container uses web identity with ${roleArn}`);
    // Dry run: the apiserver stored nothing.
    const stored = await kubectl(stack, ['get', 'pods', '-n', ns, '-o', 'json']);
    assert.deepEqual(stored.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['app-1']);
    assert.match(check('trust-policy').observed, new RegExp(`token iss ${stack.issuerUrl}, sub system:serviceaccount:${ns}:app, aud sts\\.amazonaws\\.com`));
    assert.match(check('assume').observed, new RegExp(`caller identity arn:aws:sts::${stack.accountId}:assumed-role/${ns}-app/irsa-doctor-`));
    // The only "writes" are the TokenRequest, the dry run, the SubjectAccessReviews of step 7 (a
    // review is a question the apiserver answers and never stores) and STS for --assume; the token
    // never reaches the output.
    const allowedWrites = ['k8s POST serviceaccounts/token', 'k8s POST pods (dry run)', 'k8s POST subjectaccessreviews', 'sts AssumeRoleWithWebIdentity'];
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

  it('a pod created before the webhook was registered is listed as needing a restart, with the rollout command', async () => {
    const ns = await namespace('stale');
    await bind(ns, 'app', `${ns}-app`);
    await removeWebhook();
    try {
      await pod(ns, 'old', 'app');
    } finally {
      await registerEks();
    }
    await pod(ns, 'fresh', 'app');
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 1);
    assert.equal(check('admission').status, 'pass');
    const pods = check('pod-environment');
    assert.equal(pods.status, 'fail');
    assert.match(pods.observed, /^1 of 2 pods need a restart \(created before the annotation or the webhook\): old \(created \d{4}-/);
    assert.equal(pods.fix, `kubectl delete pod old -n ${ns} (and recreate it)`);
    assert.ok(pods.details!.includes(`pod old ✗ container app: no AWS_ROLE_ARN or AWS_WEB_IDENTITY_TOKEN_FILE; it will use instance metadata: the node's role`), pods.details!.join('\n'));
 
    // irsa list --pods counts the same pod, with one LIST pods for the namespace.
    const listed = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns, '--pods', '-o', 'json']);
    const rows = json<{ bindings: Array<{ serviceAccount: string; pods: number; needRestart: number }> }>(listed).bindings;
    assert.deepEqual(rows.map((r) => [r.serviceAccount, r.needRestart, r.pods]), [['app', 1, 2]]);
    assert.equal(listed.calls['k8s LIST pods'], 1);
    const table = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns, '--pods']);
    assert.match(table.stdout, /^NAMESPACE +SERVICEACCOUNT .* OWNER +TRUST LINT +RESTART$/m);
    assert.match(table.stdout, / 1\/2$/m);
  });

  it('no webhook registered: ✗ "no admission webhook mutates pods of this ServiceAccount"', async () => {
    const ns = await namespace('nohook');
    await bind(ns, 'app', `${ns}-app`);
    await removeWebhook();
    try {
      await pod(ns, 'app-1', 'app');
      const { result, check } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      const admission = check('admission');
      assert.equal(admission.status, 'fail');
      assert.equal(admission.observed, 'no admission webhook mutates pods of this ServiceAccount: a minimal pod came back unchanged');
      assert.match(check('pod-environment').observed, /new pods would not get it either/);
      assert.doesNotMatch(check('pod-environment').fix!, /kubectl/);
    } finally {
      await registerEks();
    }
  });

  it('webhook down with failurePolicy Fail: ✗ quoting the apiserver\'s refusal', async () => {
    const ns = await namespace('downfail');
    await bind(ns, 'app', `${ns}-app`);
    await registerDown('Fail');
    try {
      const { result, check } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      const admission = check('admission');
      assert.equal(admission.status, 'fail');
      assert.match(admission.observed, /^the apiserver refused a minimal pod: "Internal error occurred: failed calling webhook "iam-for-pods\.amazonaws\.com/);
      assert.match(admission.observed, /connection refused/);
      assert.match(admission.fix!, /^make webhook iam-for-pods\.amazonaws\.com reachable .*restarting pods cannot help/);
    } finally {
      await registerEks();
    }
  });

  it('webhook down with failurePolicy Ignore: ✗ "webhook registered but not answering", never "delete the pod"', async () => {
    const ns = await namespace('downignore');
    await bind(ns, 'app', `${ns}-app`);
    await registerDown('Ignore');
    try {
      await pod(ns, 'app-1', 'app'); // admitted unmutated: the webhook's failure is ignored
      const { result, check, report } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      const admission = check('admission');
      assert.equal(admission.status, 'fail');
      assert.match(admission.observed, new RegExp(`webhook registered but not answering: ${webhookName} \\(webhook iam-for-pods\\.amazonaws\\.com → https://127\\.0\\.0\\.1:\\d+/mutate, failurePolicy Ignore\\)`));
      assert.equal(check('pod-environment').status, 'fail');
      for (const c of report.checks) assert.doesNotMatch(c.fix ?? '', /delete pod|rollout restart/, c.id);
    } finally {
      await registerEks();
    }
  });

  it('a namespaceSelector that excludes the namespace: ✗ naming the selector', async () => {
    const ns = await namespace('excluded', { team: 'payments' });
    await bind(ns, 'app', `${ns}-app`);
    await registerWebhook(stack, { namespaceSelector: { matchLabels: { 'irsa-webhook': 'on' } } });
    try {
      const { result, check } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      const admission = check('admission');
      assert.equal(admission.status, 'fail');
      assert.match(admission.observed, new RegExp(`${webhookName} .* is not called: its namespaceSelector \\{irsa-webhook=on\\} does not select namespace ${ns} \\(labels .*team=payments`));
    } finally {
      await registerEks();
    }
  });

  it('opt-out label on the workload\'s pods: ! deliberately not mutated (dry run of its template), and its running pod is ! not "restart"', async () => {
    const ns = await namespace('optout');
    await bind(ns, 'app', `${ns}-app`);
    const labels = { 'eks.amazonaws.com/skip-pod-identity-webhook': 'true' };
    await deployment(ns, 'web', 'app', { labels });
    await pod(ns, 'web-1', 'app', {}, { labels });
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 0, JSON.stringify(check('admission')));
    assert.equal(check('admission').status, 'warn');
    assert.equal(check('admission').observed, 'the pod template of Deployment web is labelled eks.amazonaws.com/skip-pod-identity-webhook: deliberately not mutated');
    assert.equal(check('pod-environment').status, 'warn');
    assert.equal(check('pod-environment').observed, "pod web-1 container app: the pod is labelled eks.amazonaws.com/skip-pod-identity-webhook: deliberately left alone by the webhook; it will use instance metadata: the node's role");
    assert.equal(check('pod-environment').fix, null);
  });

  it('skip-containers: the skipped container is ! with the reason, the other ✓', async () => {
    const ns = await namespace('skipc');
    const roleArn = await bind(ns, 'app', `${ns}-app`);
    await deployment(ns, 'web', 'app', {
      annotations: { 'eks.amazonaws.com/skip-containers': 'sidecar' },
      spec: { containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'busybox' }] },
    });
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 0);
    const admission = check('admission');
    assert.equal(admission.status, 'warn');
    assert.deepEqual(admission.details, [
      `✓ container app: AWS_ROLE_ARN=${roleArn}, token ${TOKEN_FILE} (audience sts.amazonaws.com, 86400 s)`,
      "! container sidecar: named in the pod annotation eks.amazonaws.com/skip-containers: deliberately left without AWS_ROLE_ARN and the token mount; it will use instance metadata: the node's role",
    ]);
  });

  it('a container that sets its own AWS_ROLE_ARN: ! — the webhook adds no token file, so web identity is skipped', async () => {
    const ns = await namespace('ownarn');
    await bind(ns, 'app', `${ns}-app`);
    const mine = `arn:aws:iam::${stack.accountId}:role/mine`;
    await deployment(ns, 'web', 'app', { spec: { containers: [{ name: 'app', image: 'busybox', env: [{ name: 'AWS_ROLE_ARN', value: mine }] }] } });
    const { check } = await doctor(ns, 'app');
    const admission = check('admission');
    assert.equal(admission.status, 'warn');
    assert.deepEqual(admission.details, [
      `! container app: sets its own AWS_ROLE_ARN=${mine}: the webhook then adds neither AWS_ROLE_ARN nor the token file (only the mount and region), so the SDK skips web identity; it will use instance metadata: the node's role`,
    ]);
  });

  it('an init container is judged too: ✓ for both from the dry run; a skipped init container of a running pod is ! on its own', async () => {
    const ns = await namespace('init');
    const roleArn = await bind(ns, 'app', `${ns}-app`);
    await deployment(ns, 'web', 'app', { spec: { initContainers: [{ name: 'setup', image: 'busybox' }], containers: [{ name: 'app', image: 'busybox' }] } });
    const { check } = await doctor(ns, 'app');
    const admission = check('admission');
    assert.equal(admission.status, 'pass');
    assert.equal(admission.observed, `dry run of the pod template of Deployment web: init container setup, container app get AWS_ROLE_ARN=${roleArn} and the token (audience sts.amazonaws.com, 86400 s)`);
    // The same pod created with the init container skipped: only the init container is wrong.
    await pod(ns, 'web-1', 'app', {}, {
      annotations: { 'eks.amazonaws.com/skip-containers': 'setup' },
      spec: { initContainers: [{ name: 'setup', image: 'busybox' }] },
    });
    const again = await doctor(ns, 'app');
    assert.equal(again.check('pod-environment').status, 'warn');
    assert.match(again.check('pod-environment').observed, /^pod web-1 init container setup: named in the pod annotation eks\.amazonaws\.com\/skip-containers/);
  });

  it('a ServiceAccount set up for EKS Pod Identity: recognised (!), not called stale', async () => {
    const ns = await namespace('podid');
    const roleArn = await bind(ns, 'app', `${ns}-app`);
    await addPodIdentityServiceAccount(stack, ns, 'app');
    after(() => removePodIdentityServiceAccount(stack, ns, 'app'));
    await pod(ns, 'app-1', 'app');
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 0);
    assert.equal(check('admission').status, 'warn');
    assert.equal(check('admission').observed, `a minimal pod was set up for EKS Pod Identity, not IRSA: new pods use the Pod Identity association's role, not ${roleArn}`);
    assert.equal(check('pod-environment').status, 'warn');
    assert.equal(check('pod-environment').observed, `pod app-1 container app: set up for EKS Pod Identity (eks.amazonaws.com/pod-identity=enabled): it uses the Pod Identity association's role, not ${roleArn}`);
    assert.match(check('pod-environment').details![0]!, /credentials: container credentials \(EKS Pod Identity association\)$/);
  });

  it('the real v0.6.17 registered with admissionReviewVersions [v1] and Fail (it answers without apiVersion/kind): ✗ quoting the apiserver', async () => {
    const ns = await namespace('typemeta');
    await bind(ns, 'app', `${ns}-app`);
    await registerWebhook(stack, { failurePolicy: 'Fail', admissionReviewVersions: ['v1'] });
    try {
      const { result, check } = await doctor(ns, 'app');
      assert.equal(result.code, 1);
      assert.equal(check('admission').status, 'fail');
      assert.match(check('admission').observed, /^the apiserver refused a minimal pod: ".*failed calling webhook .*iam-for-pods\.amazonaws\.com/);
    } finally {
      await registerEks();
    }
  });

  it('static keys from a Secret next to AWS_ROLE_ARN: ✗ naming the Secret; a kube2iam annotation left over: !', async () => {
    const ns = await namespace('keys');
    await bind(ns, 'app', `${ns}-app`);
    await kubectl(stack, ['create', 'secret', 'generic', 'aws-creds', '-n', ns, '--from-literal=id=AKIAIOSFODNN7EXAMPLE', '--from-literal=secret=x']);
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app-1', namespace: ns, annotations: { 'iam.amazonaws.com/role': 'legacy-role' } },
      spec: {
        serviceAccountName: 'app',
        containers: [{
          name: 'app',
          image: 'busybox',
          env: [
            { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'aws-creds', key: 'id' } } },
            { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'aws-creds', key: 'secret' } } },
          ],
        }],
      },
    });
    const { result, check } = await doctor(ns, 'app');
    assert.equal(result.code, 1);
    const pods = check('pod-environment');
    assert.equal(pods.status, 'fail');
    assert.match(pods.observed, /^pod app-1 container app: static keys: env from Secret aws-creds \(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\) — they win over IRSA .*; the container also has AWS_ROLE_ARN/);
    assert.match(pods.observed, /pod app-1 still carries the kube2iam\/kiam annotation iam\.amazonaws\.com\/role=legacy-role/);
    assert.match(pods.fix!, /^remove the static keys from those containers/);
    assert.doesNotMatch(result.stdout, /AKIAIOSFODNN7EXAMPLE/);
  });

  it('RBAC forbids the dry-run pod create: falls back to reading the configuration, a weaker verdict that is never ✓', async () => {
    const ns = await namespace('rbac');
    await bind(ns, 'app', `${ns}-app`);
    // A ServiceAccount token user with every read doctor needs, TokenRequest, and no pod create.
    await kubectl(stack, ['create', 'sa', 'doctor', '-n', ns]);
    const rules = [
      { apiGroups: [''], resources: ['serviceaccounts', 'pods', 'namespaces', 'secrets'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      { apiGroups: ['apps', 'batch'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'cronjobs'], verbs: ['list'] },
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['list'] },
    ];
    await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${ns}-doctor` }, rules });
    await apply({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${ns}-doctor` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ns}-doctor` },
      subjects: [{ kind: 'ServiceAccount', name: 'doctor', namespace: ns }],
    });
    const token = (await kubectl<string>(stack, ['create', 'token', 'doctor', '-n', ns])).trim();
    const kubeconfig = join(dir, `${ns}.kubeconfig`);
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'limited',
      clusters: [{ name: 'local', cluster: { server: stack.apiserverUrl, 'certificate-authority-data': Buffer.from(stack.caCertPem).toString('base64') } }],
      users: [{ name: 'doctor', user: { token } }],
      contexts: [{ name: 'limited', context: { cluster: 'local', user: 'doctor' } }],
    }));
    const result = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', 'app', '-o', 'json'], { KUBECONFIG: kubeconfig });
    const report = json<{ checks: DoctorCheck[] }>(result);
    const admission = report.checks.find((c) => c.id === 'admission')!;
    assert.equal(admission.status, 'warn');
    assert.match(admission.observed, /^weaker verdict \(RBAC forbids the dry-run pod create: pods is forbidden: User "system:serviceaccount:.*:doctor" cannot create resource "pods"/);
    assert.match(admission.observed, new RegExp(`${webhookName} .* should be called for this ServiceAccount's pods$`));
  });

  it('every irsa fix doctor prints converges: applied, the check passes on the next run (custom audience included)', async () => {
    const run = async (fix: string) => {
      const args = fix.split(' ').slice(1); // "irsa create-sa-role --cluster … --approve"
      const applied = await irsa(stack, args);
      assert.equal(applied.code, 0, `${fix}\n${applied.stdout}${applied.stderr}`);
    };
    /** Runs doctor, applies every irsa fix of a failing check, and returns the checks that failed. */
    const fixAll = async (ns: string): Promise<string[]> => {
      const { report } = await doctor(ns, 'app');
      const failing = report.checks.filter((c) => c.status === 'fail' && c.fix?.startsWith('irsa '));
      assert.ok(failing.length > 0, 'a fault was seeded');
      for (const fix of new Set(failing.map((c) => c.fix!))) await run(fix);
      return failing.map((c) => c.id);
    };
    const assertPass = async (ns: string, ids: string[]) => {
      const { statuses } = await doctor(ns, 'app');
      for (const id of ids) assert.equal(statuses[id], 'pass', `${ns}: ${id} after its fix (${JSON.stringify(statuses)})`);
    };

    // Trust policy for another namespace.
    const owner = await namespace('cvowner');
    const roleArn = await bind(owner, 'app', `${owner}-app`);
    const stranger = await namespace('cvstranger');
    await kubectl(stack, ['create', 'sa', 'app', '-n', stranger]);
    await kubectl(stack, ['annotate', 'sa', 'app', '-n', stranger, `eks.amazonaws.com/role-arn=${roleArn}`]);
    await assertPass(stranger, await fixAll(stranger));

    // Not annotated; role missing.
    const plain = await namespace('cvplain');
    await kubectl(stack, ['create', 'sa', 'app', '-n', plain]);
    await assertPass(plain, await fixAll(plain));
    const gone = await namespace('cvgone');
    await kubectl(stack, ['create', 'sa', 'app', '-n', gone]);
    await kubectl(stack, ['annotate', 'sa', 'app', '-n', gone, `eks.amazonaws.com/role-arn=arn:aws:iam::${stack.accountId}:role/${gone}-gone`]);
    await assertPass(gone, await fixAll(gone));

    // Custom audience: the SA asks for another audience than the trust policy admits. (moto has no
    // AddClientIDToOpenIDConnectProvider, so the provider is re-created with both client IDs.)
    const custom = await namespace('cvaud');
    await bind(custom, 'app', `${custom}-app`);
    await kubectl(stack, ['annotate', 'sa', 'app', '-n', custom, 'eks.amazonaws.com/audience=custom-aud']);
    await aws(stack, ['iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]);
    await aws(stack, ['iam', 'create-open-id-connect-provider', '--url', stack.issuerUrl, '--client-id-list', 'sts.amazonaws.com', 'custom-aud', '--thumbprint-list', '0'.repeat(40)]);
    try {
      const { check } = await doctor(custom, 'app');
      assert.equal(check('trust-policy').status, 'fail');
      assert.match(check('trust-policy').fix!, / --audience custom-aud --approve$/);
      const fixed = await fixAll(custom);
      assert.deepEqual(fixed, ['trust-policy']);
      await assertPass(custom, fixed);
    } finally {
      await restoreProvider();
    }
  });
});
