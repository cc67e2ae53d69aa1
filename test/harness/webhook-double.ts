// A test double of amazon-eks-pod-identity-webhook, for doctor's positive path only. The real
// webhook cannot be obtained here (docs/local-stack.md); this one injects what the real one is
// documented and observed to inject (/work/shared/IRSA-FACTS.md, the webhook's README):
// - for a ServiceAccount annotated eks.amazonaws.com/role-arn: into every container and
//   initContainer not named in the pod annotation eks.amazonaws.com/skip-containers, the mount of
//   the projected token volume `aws-iam-token` and AWS_REGION/AWS_DEFAULT_REGION; AWS_ROLE_ARN and
//   AWS_WEB_IDENTITY_TOKEN_FILE too, unless the container sets its own AWS_ROLE_ARN;
//   AWS_STS_REGIONAL_ENDPOINTS=regional when the SA says sts-regional-endpoints "true". The pod gets
//   the volume (audience from eks.amazonaws.com/audience, default sts.amazonaws.com; expiration from
//   eks.amazonaws.com/token-expiration on the pod, else the SA, default 86400, minimum 600);
// - for a ServiceAccount registered with `podIdentity` (EKS Pod Identity): the container
//   credentials variables, volume eks-pod-identity-token and label eks.amazonaws.com/pod-identity.
// The opt-out label eks.amazonaws.com/skip-pod-identity-webhook is honoured where EKS honours it:
// in the registration's objectSelector (registration() below), so the apiserver never calls it.
// HTTPS on 127.0.0.1 with its own CA (made per start with openssl); AdmissionReview v1, JSONPatch,
// sideEffects None. `omitTypeMeta` answers without apiVersion/kind, as v0.6.17 does.

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServiceAccountLookup {
  (namespace: string, name: string): Promise<{ annotations: Record<string, string> } | null>;
}

export interface WebhookDoubleOptions {
  /** Reads a ServiceAccount (the real webhook watches them). */
  serviceAccount: ServiceAccountLookup;
  region?: string;
  /** Answer without apiVersion/kind (v0.6.17's bug: the apiserver rejects the answer for v1). */
  omitTypeMeta?: boolean;
}

export interface WebhookDouble {
  url: string;
  caBundlePem: string;
  /** AdmissionReviews answered. */
  calls: number;
  /** ServiceAccounts ("ns/name") set up for EKS Pod Identity instead of IRSA. */
  podIdentity: Set<string>;
  setOmitTypeMeta(value: boolean): void;
  /** A MutatingWebhookConfiguration for this double, as EKS registers the real one. */
  registration(name: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

const TOKEN_DIRECTORY = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
const POD_IDENTITY_DIRECTORY = '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount';

interface EnvVar { name: string; value?: string; valueFrom?: unknown }
interface Container { name: string; env?: EnvVar[]; volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }> }
interface Pod {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { serviceAccountName?: string; serviceAccount?: string; containers?: Container[]; initContainers?: Container[]; volumes?: Array<{ name: string }> };
}

async function makeServingCertificate(): Promise<{ dir: string; ca: string; cert: string; key: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'irsa-webhook-double-'));
  const f = (name: string) => path.join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2',
    '-subj', '/CN=irsa-webhook-double-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('tls.key'), '-out', f('tls.csr'), '-subj', '/CN=127.0.0.1']);
  await fs.writeFile(f('tls.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n');
  await run('openssl', ['x509', '-req', '-in', f('tls.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-set_serial', '0x1234',
    '-days', '2', '-sha256', '-extfile', f('tls.ext'), '-out', f('tls.crt')]);
  const [ca, cert, key] = await Promise.all([f('ca.crt'), f('tls.crt'), f('tls.key')].map((file) => fs.readFile(file, 'utf8')));
  return { dir, ca: ca!, cert: cert!, key: key! };
}

/** The JSONPatch the webhook answers with for this pod (empty when it leaves the pod alone). */
export function mutation(pod: Pod, sa: { annotations: Record<string, string> } | null, podIdentity: boolean, region: string): unknown[] {
  const annotations = sa?.annotations ?? {};
  const roleArn = annotations['eks.amazonaws.com/role-arn'];
  if (!podIdentity && !roleArn) return [];
  const podAnnotations = pod.metadata?.annotations ?? {};
  const skipped = (podAnnotations['eks.amazonaws.com/skip-containers'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const has = (c: Container, name: string) => (c.env ?? []).some((e) => e.name === name);
  const regionEnv = (c: Container): EnvVar[] =>
    [...(has(c, 'AWS_REGION') ? [] : [{ name: 'AWS_REGION', value: region }]), ...(has(c, 'AWS_DEFAULT_REGION') ? [] : [{ name: 'AWS_DEFAULT_REGION', value: region }])];
  let volume: Record<string, unknown>;
  let mutate: (c: Container) => Container;
  const patch: unknown[] = [];
  if (podIdentity) {
    volume = { name: 'eks-pod-identity-token', projected: { sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: 86400, path: 'eks-pod-identity-token' } }] } };
    mutate = (c) => ({
      ...c,
      env: [...(c.env ?? []), ...regionEnv(c),
        { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: 'http://169.254.170.23/v1/credentials' },
        { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: `${POD_IDENTITY_DIRECTORY}/eks-pod-identity-token` }],
      volumeMounts: [...(c.volumeMounts ?? []), { name: 'eks-pod-identity-token', mountPath: POD_IDENTITY_DIRECTORY, readOnly: true }],
    });
    patch.push({ op: 'add', path: '/metadata/labels', value: { ...(pod.metadata?.labels ?? {}), 'eks.amazonaws.com/pod-identity': 'enabled' } });
  } else {
    const audience = annotations['eks.amazonaws.com/audience'] || 'sts.amazonaws.com';
    const rawExpiration = podAnnotations['eks.amazonaws.com/token-expiration'] ?? annotations['eks.amazonaws.com/token-expiration'];
    const expiration = Math.max(rawExpiration && /^\d+$/.test(rawExpiration) ? Number(rawExpiration) : 86400, 600);
    volume = { name: 'aws-iam-token', projected: { sources: [{ serviceAccountToken: { audience, expirationSeconds: expiration, path: 'token' } }] } };
    mutate = (c) => ({
      ...c,
      env: [
        ...(c.env ?? []),
        // A container with its own AWS_ROLE_ARN gets neither variable, only the mount and region.
        ...(has(c, 'AWS_ROLE_ARN') ? [] : [{ name: 'AWS_ROLE_ARN', value: roleArn! }, { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${TOKEN_DIRECTORY}/token` }]),
        ...regionEnv(c),
        ...(annotations['eks.amazonaws.com/sts-regional-endpoints'] === 'true' && !has(c, 'AWS_STS_REGIONAL_ENDPOINTS') ? [{ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' }] : []),
      ],
      volumeMounts: [...(c.volumeMounts ?? []), { name: 'aws-iam-token', mountPath: TOKEN_DIRECTORY, readOnly: true }],
    });
  }
  const apply = (list: Container[] | undefined) => (list ?? []).map((c) => (skipped.includes(c.name) ? c : mutate(c)));
  const volumes = pod.spec?.volumes ?? [];
  if (!volumes.some((v) => v.name === volume['name'])) patch.push({ op: 'add', path: '/spec/volumes', value: [...volumes, volume] });
  patch.push({ op: 'add', path: '/spec/containers', value: apply(pod.spec?.containers) });
  if (pod.spec?.initContainers?.length) patch.push({ op: 'add', path: '/spec/initContainers', value: apply(pod.spec.initContainers) });
  return patch;
}

export async function startWebhookDouble(options: WebhookDoubleOptions): Promise<WebhookDouble> {
  const tls = await makeServingCertificate();
  const region = options.region ?? 'us-east-1';
  let omitTypeMeta = options.omitTypeMeta ?? false;
  const podIdentity = new Set<string>();
  const double: Partial<WebhookDouble> & { calls: number } = { calls: 0 };

  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: { uid: string; namespace: string; object: Pod } };
        double.calls++;
        const { uid, namespace, object: pod } = review.request;
        const saName = pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
        const sa = await options.serviceAccount(namespace, saName);
        const patch = mutation(pod, sa, podIdentity.has(`${namespace}/${saName}`), region);
        const response = {
          uid,
          allowed: true,
          ...(patch.length > 0 ? { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}),
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(omitTypeMeta ? { response } : { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      } catch (error) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/mutate`;
  return Object.assign(double, {
    url,
    caBundlePem: tls.ca,
    podIdentity,
    setOmitTypeMeta: (value: boolean) => {
      omitTypeMeta = value;
    },
    registration: (name: string, overrides: Record<string, unknown> = {}) => ({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name },
      webhooks: [{
        name: 'iam-for-pods.amazonaws.com',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'IfNeeded',
        timeoutSeconds: 5,
        clientConfig: { url, caBundle: Buffer.from(tls.ca).toString('base64') },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        // As EKS registers it: the pod label opts out before the webhook is even called.
        objectSelector: { matchExpressions: [{ key: 'eks.amazonaws.com/skip-pod-identity-webhook', operator: 'DoesNotExist' }] },
        ...overrides,
      }],
    }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(tls.dir, { recursive: true, force: true });
    },
  }) as WebhookDouble;
}
