// The corpus: pod/ServiceAccount cases against the real amazon-eks-pod-identity-webhook v0.6.17 in
// the stack. For each case the test creates the ServiceAccount, the workload(s) and, from the same
// template, a real pod that the webhook mutates; it then judges, with its own code below (not
// doctor's), whether every container of that pod will use the role through web identity with a
// token the role's trust admits. doctor's verdict (admission, trust policy, provider audience: all
// ✓, or not) must agree on every case, and a case doctor cannot be sure of must not be ✓.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { useStack } from '../harness/availability.ts';
import { addPodIdentityServiceAccount } from '../harness/stack.ts';
import { aws, irsa, json } from './helpers/cli.ts';
import type { DoctorCheck } from '../../src/core/doctor.ts';

const { stack, skip } = await useStack();

const NS = `corpus-${process.pid}`;
const ROLE_NAME = `${NS}-role`;
const TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
const TOKEN_FILE = `${TOKEN_DIR}/token`;
const KEY_PAIR = { AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

type Env = k8s.V1EnvVar[];
interface Case {
  name: string;
  /** ServiceAccount name: `ok-…` ones are admitted by the role's trust, `no-…` ones are not. */
  sa?: string;
  saAnnotations?: Record<string, string>;
  podIdentity?: boolean;
  /** One pod template per workload (most cases have one). */
  templates: Array<{ labels?: Record<string, string>; annotations?: Record<string, string>; spec: Partial<k8s.V1PodSpec> }>;
  /** ConfigMaps / Secrets of the case (name → data). */
  configMaps?: Record<string, Record<string, string>>;
  secrets?: Record<string, Record<string, string>>;
  /** A regex the admission check's observed text must match (e.g. the failing workload's name). */
  observed?: RegExp;
  /** What the test expects its own judgement to be: a guard against a corpus that only agrees by accident. */
  works: boolean;
}

const literal = (vars: Record<string, string>): Env => Object.entries(vars).map(([name, value]) => ({ name, value }));
const app = (env: Env = [], extra: Partial<k8s.V1Container> = {}): k8s.V1Container => ({ name: 'app', image: 'busybox', env, ...extra });
const named = (name: string, env: Env = [], extra: Partial<k8s.V1Container> = {}): k8s.V1Container => ({ name, image: 'busybox', env, ...extra });
const one = (spec: Partial<k8s.V1PodSpec>, meta: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}) => [{ ...meta, spec }];
const skipAnn = (value: string) => ({ annotations: { 'eks.amazonaws.com/skip-containers': value } });
const two = [app(), named('sidecar')];

const CASES: Case[] = [
  { name: 'plain', templates: one({ containers: [app()] }), works: true },
  { name: 'init container too', templates: one({ initContainers: [named('setup')], containers: [app()] }), works: true },
  { name: 'skip-containers sidecar', templates: one({ containers: two }, skipAnn('sidecar')), works: false },
  { name: 'skip-containers "app, sidecar" (not trimmed: only app)', templates: one({ containers: two }, skipAnn('app, sidecar')), works: false },
  { name: 'skip-containers " app" skips nothing', templates: one({ containers: [app()] }, skipAnn(' app')), works: true },
  { name: 'skip-containers with a bare quote skips nothing', templates: one({ containers: [app()] }, skipAnn('a"pp')), works: true },
  { name: 'skip-containers of another name', templates: one({ containers: [app()] }, skipAnn('other')), works: true },
  { name: 'skip-containers quoted "app"', templates: one({ containers: two }, skipAnn('"app"')), works: false },
  { name: 'skip-containers of an init container', templates: one({ initContainers: [named('setup')], containers: [app()] }, skipAnn('setup')), works: false },
  { name: 'pod token-expiration abc, SA 3600', saAnnotations: { 'eks.amazonaws.com/token-expiration': '3600' }, templates: one({ containers: [app()] }, { annotations: { 'eks.amazonaws.com/token-expiration': 'abc' } }), works: true },
  { name: 'SA token-expiration -5', saAnnotations: { 'eks.amazonaws.com/token-expiration': '-5' }, templates: one({ containers: [app()] }), works: true },
  { name: 'pod token-expiration 100', templates: one({ containers: [app()] }, { annotations: { 'eks.amazonaws.com/token-expiration': '100' } }), works: true },
  { name: 'SA 3600, pod 7200', saAnnotations: { 'eks.amazonaws.com/token-expiration': '3600' }, templates: one({ containers: [app()] }, { annotations: { 'eks.amazonaws.com/token-expiration': '7200' } }), works: true },
  { name: 'SA token-expiration " 3600" (unparsable)', saAnnotations: { 'eks.amazonaws.com/token-expiration': ' 3600' }, templates: one({ containers: [app()] }), works: true },
  { name: 'sts-regional-endpoints True', saAnnotations: { 'eks.amazonaws.com/sts-regional-endpoints': 'True' }, templates: one({ containers: [app()] }), works: true },
  { name: 'sts-regional-endpoints 1', saAnnotations: { 'eks.amazonaws.com/sts-regional-endpoints': '1' }, templates: one({ containers: [app()] }), works: true },
  { name: 'sts-regional-endpoints yes (not a Go bool)', saAnnotations: { 'eks.amazonaws.com/sts-regional-endpoints': 'yes' }, templates: one({ containers: [app()] }), works: true },
  { name: 'empty audience: the apiserver default, which the trust does not admit', saAnnotations: { 'eks.amazonaws.com/audience': '' }, templates: one({ containers: [app()] }), works: false },
  { name: 'custom audience the trust does not admit', saAnnotations: { 'eks.amazonaws.com/audience': 'custom' }, templates: one({ containers: [app()] }), works: false },
  { name: 'Windows node selector', templates: one({ nodeSelector: { 'kubernetes.io/os': 'windows' }, containers: [app()] }), works: true },
  { name: 'Windows beta node selector with an init container', templates: one({ nodeSelector: { 'beta.kubernetes.io/os': 'windows' }, initContainers: [named('setup')], containers: [app()] }), works: true },
  { name: 'Linux node selector', templates: one({ nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [app()] }), works: true },
  { name: 'own AWS_REGION', templates: one({ containers: [app(literal({ AWS_REGION: 'eu-west-1' }))] }), works: true },
  { name: 'own AWS_DEFAULT_REGION', templates: one({ containers: [app(literal({ AWS_DEFAULT_REGION: 'eu-west-1' }))] }), works: true },
  { name: 'own AWS_WEB_IDENTITY_TOKEN_FILE only', templates: one({ containers: [app(literal({ AWS_WEB_IDENTITY_TOKEN_FILE: '/mine/token' }))] }), works: false },
  { name: 'own AWS_ROLE_ARN of another role', templates: one({ containers: [app(literal({ AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/other' }))] }), works: false },
  { name: 'own role ARN + token file + region (the webhook adds the mount)', templates: 'ROLE+FILE+REGION' as never, works: true },
  { name: 'own role ARN + token file + region + STS (the webhook adds nothing, no mount)', templates: 'ROLE+FILE+REGION+STS' as never, works: false },
  { name: 'own emptyDir volume named aws-iam-token', templates: one({ volumes: [{ name: 'aws-iam-token', emptyDir: {} }], containers: [app([], { volumeMounts: [{ name: 'aws-iam-token', mountPath: TOKEN_DIR }] })] }), works: false },
  { name: 'own mount named aws-iam-token elsewhere', templates: one({ volumes: [{ name: 'aws-iam-token', emptyDir: {} }], containers: [app([], { volumeMounts: [{ name: 'aws-iam-token', mountPath: '/elsewhere' }] })] }), works: false },
  { name: 'literal key pair', templates: one({ containers: [app(literal(KEY_PAIR))] }), works: false },
  { name: 'session token alone', templates: one({ containers: [app(literal({ AWS_SESSION_TOKEN: 'x' }))] }), works: true },
  { name: 'access key ID alone', templates: one({ containers: [app(literal({ AWS_ACCESS_KEY_ID: KEY_PAIR.AWS_ACCESS_KEY_ID }))] }), works: true },
  { name: 'key pair from a Secret (secretKeyRef)', secrets: { keys: { id: 'a', secret: 'b' } }, templates: one({ containers: [app([{ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'keys', key: 'id' } } }, { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'keys', key: 'secret' } } }])] }), works: false },
  { name: 'key pair from a ConfigMap (configMapKeyRef)', configMaps: { keys: { id: 'a', secret: 'b' } }, templates: one({ containers: [app([{ name: 'AWS_ACCESS_KEY_ID', valueFrom: { configMapKeyRef: { name: 'keys', key: 'id' } } }, { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { configMapKeyRef: { name: 'keys', key: 'secret' } } }])] }), works: false },
  { name: 'envFrom a Secret with the key pair', secrets: { keys: KEY_PAIR }, templates: one({ containers: [app([], { envFrom: [{ secretRef: { name: 'keys' } }] })] }), works: false },
  { name: 'envFrom a ConfigMap with the key pair', configMaps: { keys: KEY_PAIR }, templates: one({ containers: [app([], { envFrom: [{ configMapRef: { name: 'keys' } }] })] }), works: false },
  { name: 'envFrom a ConfigMap with prefix AWS_', configMaps: { keys: { ACCESS_KEY_ID: 'a', SECRET_ACCESS_KEY: 'b' } }, templates: one({ containers: [app([], { envFrom: [{ configMapRef: { name: 'keys' }, prefix: 'AWS_' }] })] }), works: false },
  { name: 'envFrom a ConfigMap with prefix X_ (names the SDKs do not read)', configMaps: { keys: KEY_PAIR }, templates: one({ containers: [app([], { envFrom: [{ configMapRef: { name: 'keys' }, prefix: 'X_' }] })] }), works: true },
  { name: 'envFrom a ConfigMap with a session token only', configMaps: { keys: { AWS_SESSION_TOKEN: 'x' } }, templates: one({ containers: [app([], { envFrom: [{ configMapRef: { name: 'keys' } }] })] }), works: true },
  { name: 'credentials file from a ConfigMap mounted at ~/.aws', configMaps: { keys: { credentials: `[default]\naws_access_key_id = ${KEY_PAIR.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${KEY_PAIR.AWS_SECRET_ACCESS_KEY}\n` } }, templates: one({ volumes: [{ name: 'aws', configMap: { name: 'keys' } }], containers: [app([], { volumeMounts: [{ name: 'aws', mountPath: '/root/.aws' }] })] }), works: false },
  { name: 'the same ConfigMap mounted elsewhere (no variable points at it)', configMaps: { keys: { credentials: `[default]\naws_access_key_id = ${KEY_PAIR.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${KEY_PAIR.AWS_SECRET_ACCESS_KEY}\n` } }, templates: one({ volumes: [{ name: 'aws', configMap: { name: 'keys' } }], containers: [app([], { volumeMounts: [{ name: 'aws', mountPath: '/etc/app' }] })] }), works: true },
  { name: 'init container with keys from a ConfigMap', configMaps: { keys: KEY_PAIR }, templates: one({ initContainers: [named('setup', [], { envFrom: [{ configMapRef: { name: 'keys' } }] })], containers: [app()] }), works: false },
  { name: 'EKS Pod Identity wins over the role-arn annotation', podIdentity: true, templates: one({ containers: [app()] }), works: false },
  { name: 'EKS Pod Identity, container with its own FULL_URI', podIdentity: true, templates: one({ containers: [app(literal({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1/creds' }))] }), works: false },
  { name: 'ServiceAccount the trust does not admit', sa: 'no-trust', templates: one({ containers: [app()] }), works: false },
  { name: 'opt-out label', templates: one({ containers: [app()] }, { labels: { 'eks.amazonaws.com/skip-pod-identity-webhook': 'true' } }), works: false },
  {
    name: 'two workloads, the second loads keys from a ConfigMap',
    configMaps: { keys: KEY_PAIR },
    templates: [{ spec: { containers: [app()] } }, { spec: { containers: [app([], { envFrom: [{ configMapRef: { name: 'keys' } }] })] } }],
    observed: /^dry run of the pod template of Deployment w\d+-1: container app: static keys: envFrom ConfigMap keys-\d+/,
    works: false,
  },
  { name: 'two identical workloads', templates: [{ spec: { containers: [app()] } }, { spec: { containers: [app()] } }], works: true },
];

// The two "own variables" cases need the role ARN, known once the stack is up.
function resolveTemplates(c: Case, roleArn: string): Case['templates'] {
  if (c.templates === ('ROLE+FILE+REGION' as never)) return one({ containers: [app(literal({ AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE, AWS_REGION: 'us-east-1' }))] });
  if (c.templates === ('ROLE+FILE+REGION+STS' as never)) return one({ containers: [app(literal({ AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: TOKEN_FILE, AWS_REGION: 'us-east-1', AWS_STS_REGIONAL_ENDPOINTS: 'regional' }))] });
  return c.templates;
}

// ---- the test's own judgement of a mutated pod ----------------------------------------------------

/** The container's environment as the kubelet builds it: envFrom first (with prefixes), env over it. */
function environment(container: k8s.V1Container, data: { configMaps: Record<string, Record<string, string>>; secrets: Record<string, Record<string, string>> }): Map<string, string> {
  const env = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const source = from.configMapRef ? data.configMaps[from.configMapRef.name!] : from.secretRef ? data.secrets[from.secretRef.name!] : undefined;
    for (const [key, value] of Object.entries(source ?? {})) env.set(`${from.prefix ?? ''}${key}`, value);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
    const store = variable.valueFrom?.configMapKeyRef ? data.configMaps : data.secrets;
    env.set(variable.name, variable.value ?? (ref ? store[ref.name!]?.[ref.key] ?? '' : ''));
  }
  return env;
}

/** Why the container will not use `roleArn` through web identity with an admitted token, or null. */
function whyNot(pod: k8s.V1Pod, container: k8s.V1Container, roleArn: string, saName: string, data: Parameters<typeof environment>[1]): string | null {
  const env = environment(container, data);
  // The SDKs' environment provider needs an access key ID and a secret key.
  if ((env.has('AWS_ACCESS_KEY_ID') || env.has('AWS_ACCESS_KEY')) && (env.has('AWS_SECRET_ACCESS_KEY') || env.has('AWS_SECRET_KEY'))) return 'static key pair';
  // Then the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials (busybox runs as root: /root).
  const credentialsFile = env.get('AWS_SHARED_CREDENTIALS_FILE') ?? '/root/.aws/credentials';
  for (const mount of container.volumeMounts ?? []) {
    const dir = mount.mountPath.replace(/\/$/, '');
    if (!credentialsFile.startsWith(`${dir}/`)) continue;
    const volume = pod.spec?.volumes?.find((v) => v.name === mount.name);
    const held = volume?.configMap ? data.configMaps[volume.configMap.name!] : volume?.secret ? data.secrets[volume.secret.secretName!] : undefined;
    if (/aws_access_key_id/.test(held?.[credentialsFile.slice(dir.length + 1)] ?? '')) return `static keys in the credentials file ${credentialsFile}`;
  }
  if (env.get('AWS_ROLE_ARN') !== roleArn) return `AWS_ROLE_ARN is ${env.get('AWS_ROLE_ARN')}`;
  let file = env.get('AWS_WEB_IDENTITY_TOKEN_FILE');
  if (!file) return 'no token file';
  const os = pod.spec?.nodeSelector?.['kubernetes.io/os'] ?? pod.spec?.nodeSelector?.['beta.kubernetes.io/os'];
  if (/^C:\\/.test(file)) {
    if (os !== 'windows') return 'a Windows path on a Linux pod';
    file = file.slice(2).replaceAll('\\', '/');
  }
  const mount = (container.volumeMounts ?? []).find((m) => file!.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  if (!mount) return `token file ${file} is on no mount`;
  const projection = pod.spec?.volumes?.find((v) => v.name === mount.name)?.projected?.sources?.find((s) => s.serviceAccountToken)?.serviceAccountToken;
  if (!projection || projection.path !== file.slice(mount.mountPath.replace(/\/$/, '').length + 1)) return 'the mount holds no service account token at that path';
  // An empty audience gets the apiserver's default: its issuer here (no --api-audiences).
  const audience = projection.audience || stack.issuerUrl;
  if (audience !== 'sts.amazonaws.com') return `token audience ${audience} is not admitted`;
  if (!saName.startsWith('ok-')) return `the trust does not admit ${saName}`;
  return null;
}

describe('doctor agrees with the real webhook and the role trust on every corpus case', { skip }, () => {
  let roleArn: string;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  before(async () => {
    await stack.resetAws();
    const associated = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--approve']);
    assert.equal(associated.code, 0, associated.stderr);
    const host = new URL(stack.issuerUrl).host;
    const trust = {
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${stack.accountId}:oidc-provider/${host}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com' }, StringLike: { [`${host}:sub`]: `system:serviceaccount:${NS}:ok-*` } },
      }],
    };
    const created = await aws<{ Role: { Arn: string } }>(stack, ['iam', 'create-role', '--role-name', ROLE_NAME, '--assume-role-policy-document', JSON.stringify(trust)]);
    roleArn = created.Role.Arn;
    await aws(stack, ['iam', 'attach-role-policy', '--role-name', ROLE_NAME, '--policy-arn', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(stack.kubeconfigPath);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });

  it(`${CASES.length} cases: the test's reading of each mutated pod and doctor's verdict agree`, async () => {
    assert.ok(CASES.length >= 40);
    const disagreements: string[] = [];
    const runCase = async (c: Case, index: number) => {
      const sa = `${c.sa ?? 'ok'}-${index}`;
      const data = {
        configMaps: Object.fromEntries(Object.entries(c.configMaps ?? {}).map(([k, v]) => [`${k}-${index}`, v])),
        secrets: Object.fromEntries(Object.entries(c.secrets ?? {}).map(([k, v]) => [`${k}-${index}`, v])),
      };
      // Each case has its own ConfigMaps/Secrets: rename the references.
      const templates = JSON.parse(JSON.stringify(resolveTemplates(c, roleArn)).replace(/"name":"keys"/g, `"name":"keys-${index}"`)) as Case['templates'];
      for (const [name, values] of Object.entries(data.configMaps)) await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name }, data: values } });
      for (const [name, values] of Object.entries(data.secrets)) await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name }, stringData: values } });
      await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: sa, annotations: { 'eks.amazonaws.com/role-arn': roleArn, ...c.saAnnotations } } } });
      if (c.podIdentity) await addPodIdentityServiceAccount(stack, NS, sa);
      const reasons: string[] = [];
      for (const [w, template] of templates.entries()) {
        const labels = { app: `w${index}-${w}`, ...template.labels };
        const spec = { serviceAccountName: sa, ...template.spec } as k8s.V1PodSpec;
        await apps.createNamespacedDeployment({
          namespace: NS,
          body: { metadata: { name: `w${index}-${w}` }, spec: { selector: { matchLabels: { app: `w${index}-${w}` } }, template: { metadata: { labels, annotations: template.annotations ?? {} }, spec } } },
        });
        // The pod the Deployment would make, created for real: what the webhook returned.
        const pod = await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: `p${index}-${w}`, labels, annotations: template.annotations ?? {} }, spec } });
        for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
          const why = whyNot(pod, container, roleArn, sa, data);
          if (why) reasons.push(`w${index}-${w} ${container.name}: ${why}`);
        }
      }
      const works = reasons.length === 0;
      const result = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', NS, '--name', sa, '-o', 'json']);
      const report = json<{ checks: DoctorCheck[] }>(result);
      const status = (id: string) => report.checks.find((check) => check.id === id)?.status;
      const admission = report.checks.find((check) => check.id === 'admission');
      const doctorSaysWorks = status('admission') === 'pass' && status('trust-policy') === 'pass' && status('oidc-audience') === 'pass';
      const line = `${index} ${c.name}: webhook+trust ${works ? 'works' : `fails (${reasons.join('; ')})`}, doctor admission ${status('admission')} trust ${status('trust-policy')} audience ${status('oidc-audience')}: ${admission?.observed}`;
      if (works !== c.works) disagreements.push(`corpus expectation wrong: ${line}`);
      if (works !== doctorSaysWorks) disagreements.push(line);
      if (c.observed && !c.observed.test(admission?.observed ?? '')) disagreements.push(`observed does not match ${c.observed}: ${line}`);
    };
    // Two at a time: the shared cores are busy enough.
    let next = 0;
    await Promise.all([0, 1].map(async () => {
      while (next < CASES.length) {
        const index = next++;
        await runCase(CASES[index]!, index);
      }
    }));
    assert.deepEqual(disagreements, []);
  });

  // "Every workload of the ServiceAccount is judged: dry-run each distinct pod template (bounded
  // concurrency, deduplicated)": three Deployments, two of them with the same template, make two
  // dry runs, and the verdict names the Deployment whose template fails.
  it('identical pod templates are dry-run once; each distinct one is, and the failing one is named', async () => {
    const sa = 'ok-dedup';
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: sa, annotations: { 'eks.amazonaws.com/role-arn': roleArn } } } });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'dedup-keys' }, data: KEY_PAIR } });
    const deploy = (name: string, spec: Partial<k8s.V1PodSpec>) => apps.createNamespacedDeployment({
      namespace: NS,
      // The same selector and labels for all three: only the containers tell the templates apart.
      body: { metadata: { name }, spec: { selector: { matchLabels: { app: 'dedup' } }, template: { metadata: { labels: { app: 'dedup' } }, spec: { serviceAccountName: sa, ...spec } as k8s.V1PodSpec } } },
    });
    await deploy('dedup-a', { containers: [app()] });
    await deploy('dedup-b', { containers: [app()] });
    await deploy('dedup-c', { containers: [app([], { envFrom: [{ configMapRef: { name: 'dedup-keys' } }] })] });
    const result = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', NS, '--name', sa, '-o', 'json']);
    assert.equal(result.calls['k8s POST pods (dry run)'], 2, JSON.stringify(result.calls));
    const admission = json<{ checks: DoctorCheck[] }>(result).checks.find((check) => check.id === 'admission')!;
    assert.equal(admission.status, 'fail');
    assert.match(admission.observed, /^dry run of the pod template of Deployment dedup-c: container app: static keys: envFrom ConfigMap dedup-keys/);
    assert.doesNotMatch(admission.observed, /dedup-a|dedup-b/);
  });
});
