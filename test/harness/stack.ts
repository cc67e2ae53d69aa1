// The local integration stack: moto (IAM, EKS, STS), etcd, a real kube-apiserver whose
// service-account issuer is the OIDC issuer that moto's EKS cluster reports, and the real
// amazon-eks-pod-identity-webhook registered as EKS registers it. All on 127.0.0.1, no docker.
// Binaries come from build-binaries.sh; certificates are made per run with openssl.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { stringify as toYaml } from 'yaml';

const run = promisify(execFile);
const HARNESS_DIR = import.meta.dirname;
export const BUILD_SCRIPT = path.join(HARNESS_DIR, 'build-binaries.sh');
const MOTO_LAUNCHER = path.join(HARNESS_DIR, 'moto_server.py');

/** Everything a test needs to reach the stack; plain data, so it can cross processes as JSON. */
export interface StackInfo {
  region: string;
  clusterName: string;
  accountId: string;
  /** http://127.0.0.1:<port>, moto */
  awsEndpoint: string;
  /** https://127.0.0.1:<port>, the apiserver itself (discovery is served at its root) */
  issuerUrl: string;
  apiserverUrl: string;
  kubeconfigPath: string;
  kubeContext: string;
  caCertPath: string;
  caCertPem: string;
  /** Environment for child processes (aws CLI, irsa): endpoint, dummy credentials, region, KUBECONFIG, CA. */
  env: Record<string, string>;
  /** Temp dir holding certificates, data and logs/; removed by stop(). */
  dir: string;
  logDir: string;
  /** Where this description is written as JSON (IRSA_STACK points here for test processes). */
  infoPath: string;
  startupMs: number;
  /** The real amazon-eks-pod-identity-webhook, running out of cluster. */
  webhook: WebhookInfo;
}

/** How the stack runs amazon-eks-pod-identity-webhook (see docs/local-stack.md). */
export interface WebhookInfo {
  /** https://127.0.0.1:<port>/mutate, served with a certificate of the stack's CA. */
  url: string;
  /** The CA that signed its serving certificate (the registration's caBundle). */
  caBundlePem: string;
  /** The MutatingWebhookConfiguration the stack creates (as EKS: one webhook, iam-for-pods.amazonaws.com). */
  configurationName: string;
  /** --watch-container-credentials-config: the ServiceAccounts set up for EKS Pod Identity. */
  containerCredentialsConfigPath: string;
  logPath: string;
  version: string;
}

export interface Stack extends StackInfo {
  /** Clears all moto state (POST /moto-api/reset), then re-creates the EKS cluster. */
  resetAws(): Promise<void>;
  /** Stops the processes and removes the temp dir. A no-op on an attached stack: its owner stops it. */
  stop(): Promise<void>;
}

export interface StackOptions {
  clusterName?: string;
  region?: string;
  /** Directory with etcd and kube-apiserver; defaults to build-binaries.sh's cache dir. */
  binDir?: string;
  /** The webhook binary; defaults to build-binaries.sh's `webhook-path`. */
  webhookBinary?: string;
  /** Per process start-up limit. */
  timeoutMs?: number;
  onProgress?: (message: string) => void;
}

const ACCOUNT_ID = '123456789012'; // moto's default account

/** The cache dir build-binaries.sh builds into (it owns the versions and IRSA_STACK_CACHE). */
export function stackBinDir(): string {
  return execFileSync('bash', [BUILD_SCRIPT, 'dir'], { encoding: 'utf8' }).trim();
}

/** The webhook binary build-binaries.sh builds (its file name carries the pinned version). */
export function webhookBinaryPath(): string {
  return execFileSync('bash', [BUILD_SCRIPT, 'webhook-path'], { encoding: 'utf8' }).trim();
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const started = performance.now();
  const region = options.region ?? 'us-east-1';
  const clusterName = options.clusterName ?? 'irsa-local';
  const binDir = options.binDir ?? stackBinDir();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const progress = options.onProgress ?? (() => {});

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'irsa-stack-'));
  const logDir = path.join(dir, 'logs');
  await fsp.mkdir(logDir);
  const owned: Owned = { dir, procs: [], stopped: false };
  liveStacks.add(owned);
  try {
    const [apiPort, etcdPort, etcdPeerPort, webhookPort, webhookMetricsPort] = (await freePorts(5)) as [number, number, number, number, number];
    const apiserverUrl = `https://127.0.0.1:${apiPort}`;
    const issuerUrl = apiserverUrl; // no trailing slash, no path: discovery is served at the root only
    progress('generating certificates');
    const certs = await makeCertificates(path.join(dir, 'pki'));
    const caCertPem = await fsp.readFile(certs.caCert, 'utf8');

    progress('starting moto, etcd and kube-apiserver');
    const motoStarted = startMoto({ logDir, owned, issuerUrl, apiserverUrl, caFile: certs.caCert, timeoutMs });
    const apiserverStarted = startEtcdAndApiserver({ dir, logDir, owned, binDir, certs, apiPort, etcdPort, etcdPeerPort, issuerUrl, timeoutMs, suffix: '' });
    const [awsPort] = await Promise.all([motoStarted, apiserverStarted]);
    const awsEndpoint = `http://127.0.0.1:${awsPort}`;

    progress('configuring discovery, kubeconfig and the EKS cluster');
    // EKS serves discovery publicly; the default binding covers only system:serviceaccounts.
    const binding = await kubeRequest(clientOf(certs), apiserverUrl, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'irsa-local:service-account-issuer-discovery-public' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:service-account-issuer-discovery' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' }],
    });
    if (binding.status !== 201) throw new Error(`creating the discovery ClusterRoleBinding: HTTP ${binding.status} ${binding.body}`);

    const kubeContext = 'irsa-local';
    const kubeconfigPath = path.join(dir, 'kubeconfig');
    await fsp.writeFile(kubeconfigPath, await kubeconfigYaml(kubeContext, apiserverUrl, certs), { mode: 0o600 });

    progress('starting amazon-eks-pod-identity-webhook');
    const webhook = await startWebhook({
      dir, logDir, owned, certs, region, kubeconfigPath, timeoutMs,
      binary: options.webhookBinary ?? webhookBinaryPath(), port: webhookPort, metricsPort: webhookMetricsPort,
    });
    await registerWebhookWith(clientOf(certs), apiserverUrl, webhookRegistration(webhook));

    const env: Record<string, string> = {
      AWS_ENDPOINT_URL: awsEndpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '', // aws CLI v2 would otherwise page output and wait on a terminal
      KUBECONFIG: kubeconfigPath,
      NODE_EXTRA_CA_CERTS: certs.caCert,
    };
    const infoPath = path.join(dir, 'stack.json');
    const info: StackInfo = {
      region, clusterName, accountId: ACCOUNT_ID, awsEndpoint, issuerUrl, apiserverUrl,
      kubeconfigPath, kubeContext, caCertPath: certs.caCert, caCertPem, env, dir, logDir, infoPath,
      startupMs: 0, webhook,
    };
    await createEksCluster(info);
    info.startupMs = Math.round(performance.now() - started);
    await fsp.writeFile(infoPath, JSON.stringify(info, null, 2));
    progress(`ready in ${(info.startupMs / 1000).toFixed(1)}s`);
    return {
      ...info,
      resetAws: () => resetAws(info),
      stop: () => stopOwned(owned),
    };
  } catch (error) {
    await stopOwned(owned);
    throw error;
  }
}

/** A Stack for a description written by another process (the global setup); stop() is left to the owner. */
export function attachStack(info: StackInfo): Stack {
  return { ...info, resetAws: () => resetAws(info), stop: async () => {} };
}

export function readStackInfo(infoPath: string): StackInfo {
  let text: string;
  try {
    text = fs.readFileSync(infoPath, 'utf8');
  } catch (error) {
    // Usually IRSA_STACK left in a shell after `npm run stack` was stopped.
    throw new Error(`IRSA_STACK=${infoPath} cannot be read (${(error as NodeJS.ErrnoException).code}): is that stack still running? Unset IRSA_STACK to start a fresh one.`);
  }
  return JSON.parse(text) as StackInfo;
}

async function resetAws(info: StackInfo): Promise<void> {
  const res = await fetch(`${info.awsEndpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset: HTTP ${res.status} ${await res.text()}`);
  await createEksCluster(info);
}

async function createEksCluster(info: StackInfo): Promise<void> {
  const eks = new EKSClient({
    region: info.region,
    endpoint: info.awsEndpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  try {
    // moto checks only the role ARN's shape and needs no VPC; the role is not created in IAM
    // so that it does not show up among the roles irsa lists.
    await eks.send(new CreateClusterCommand({
      name: info.clusterName,
      roleArn: `arn:aws:iam::${info.accountId}:role/${info.clusterName}-eks-cluster`,
      resourcesVpcConfig: { subnetIds: [] },
    }));
  } finally {
    eks.destroy();
  }
}

/** etcd and a kube-apiserver whose service-account issuer is issuerUrl; resolves when /readyz answers. */
async function startEtcdAndApiserver(o: {
  dir: string; logDir: string; owned: Owned; binDir: string; certs: Certificates;
  apiPort: number; etcdPort: number; etcdPeerPort: number; issuerUrl: string; timeoutMs: number;
  /** Appended to process and data names, so a second apiserver can run in the same dir. */
  suffix: string;
}): Promise<void> {
  const { dir, logDir, owned, binDir, certs, apiPort, etcdPort, etcdPeerPort, issuerUrl, timeoutMs, suffix } = o;
  const apiserverUrl = `https://127.0.0.1:${apiPort}`;
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = launch(`etcd${suffix}`, path.join(binDir, 'etcd'), [
    '--name=default',
    `--data-dir=${path.join(dir, `etcd${suffix}`)}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
    '--unsafe-no-fsync=true',
  ], { logDir, owned });
  await waitUntil(etcd, timeoutMs, async () => {
    const res = await fetch(`${etcdUrl}/health`);
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  });
  const apiserver = launch(`kube-apiserver${suffix}`, path.join(binDir, 'kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    // Without it a loopback bind is replaced by the default-route IP, which leaks into jwks_uri.
    '--advertise-address=127.0.0.1',
    `--secure-port=${apiPort}`,
    `--cert-dir=${path.join(dir, `apiserver${suffix}`)}`,
    `--tls-cert-file=${certs.servingCert}`,
    `--tls-private-key-file=${certs.servingKey}`,
    `--client-ca-file=${certs.caCert}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    // No controller-manager makes SA tokens; the admission plugin would reject every pod.
    '--disable-admission-plugins=ServiceAccount',
    // With a loopback advertise address the default (lease) reconciler refuses to start:
    // "cannot use public IP 127.0.0.1 with endpoint reconciler".
    '--endpoint-reconciler-type=none',
    `--service-account-issuer=${issuerUrl}`,
    `--service-account-signing-key-file=${certs.saKey}`,
    `--service-account-key-file=${certs.saPub}`,
    '--allow-privileged=true',
  ], { logDir, owned });
  await waitUntil(apiserver, timeoutMs, async () => {
    const res = await kubeRequest(clientOf(certs), apiserverUrl, 'GET', '/readyz');
    return res.status === 200;
  });
}

/** A second, independent cluster (its own etcd, apiserver, CA and issuer) beside the stack. */
export interface ExtraApiserver {
  apiserverUrl: string;
  /** Its service-account issuer (its own URL, like the stack's). */
  issuerUrl: string;
  /** Kubeconfig entries for it, to merge with the stack's (see kubeconfigWithContexts). */
  kubeconfig: KubeconfigEntries;
  stop(): Promise<void>;
}

export interface KubeconfigEntries {
  clusters: Array<{ name: string; cluster: Record<string, string> }>;
  users: Array<{ name: string; user: Record<string, string> }>;
  contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
}

/** Starts another etcd + kube-apiserver (tens of seconds); stop() removes it. Context name: `name`. */
export async function startExtraApiserver(options: { name: string; binDir?: string; timeoutMs?: number }): Promise<ExtraApiserver> {
  const binDir = options.binDir ?? stackBinDir();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'irsa-extra-apiserver-'));
  const logDir = path.join(dir, 'logs');
  await fsp.mkdir(logDir);
  const owned: Owned = { dir, procs: [], stopped: false };
  liveStacks.add(owned);
  try {
    const [apiPort, etcdPort, etcdPeerPort] = (await freePorts(3)) as [number, number, number];
    const apiserverUrl = `https://127.0.0.1:${apiPort}`;
    const certs = await makeCertificates(path.join(dir, 'pki'));
    await startEtcdAndApiserver({ dir, logDir, owned, binDir, certs, apiPort, etcdPort, etcdPeerPort, issuerUrl: apiserverUrl, timeoutMs: options.timeoutMs ?? 120_000, suffix: '' });
    return { apiserverUrl, issuerUrl: apiserverUrl, kubeconfig: await kubeconfigEntries(options.name, apiserverUrl, certs), stop: () => stopOwned(owned) };
  } catch (error) {
    await stopOwned(owned);
    throw error;
  }
}

/** Reads a kubeconfig file's entries (e.g. the stack's), to merge with others. */
export async function readKubeconfigEntries(file: string): Promise<KubeconfigEntries> {
  const { parse } = await import('yaml');
  const config = parse(await fsp.readFile(file, 'utf8')) as KubeconfigEntries;
  return { clusters: config.clusters, users: config.users, contexts: config.contexts };
}

/** One kubeconfig YAML holding several clusters' contexts, with `current` as the current context. */
export function kubeconfigWithContexts(entries: KubeconfigEntries[], current: string): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries.flatMap((e) => e.clusters),
    users: entries.flatMap((e) => e.users),
    contexts: entries.flatMap((e) => e.contexts),
    'current-context': current,
  });
}

// ---- amazon-eks-pod-identity-webhook ---------------------------------------------------------

const WEBHOOK_CONFIGURATION = 'pod-identity-webhook';
/** What the webhook logs each time it has (re)loaded the container credentials config file. */
const CREDENTIALS_CONFIG_LOADED = 'Successfully loaded container credentials config file';

/**
 * Runs the real webhook out of cluster: its own serving certificate (signed by the stack's CA,
 * which the registration carries as caBundle), the stack's admin kubeconfig, and the container
 * credentials config file that tells it which ServiceAccounts use EKS Pod Identity.
 */
async function startWebhook(o: {
  dir: string; logDir: string; owned: Owned; certs: Certificates; region: string; kubeconfigPath: string;
  binary: string; port: number; metricsPort: number; timeoutMs: number;
}): Promise<WebhookInfo> {
  const version = /-(v[0-9][^/]*)$/.exec(o.binary)?.[1] ?? 'unknown';
  const containerCredentialsConfigPath = path.join(o.dir, 'webhook', 'container-credentials.json');
  await fsp.mkdir(path.dirname(containerCredentialsConfigPath), { recursive: true });
  await fsp.writeFile(containerCredentialsConfigPath, JSON.stringify({ identities: [] }));
  const proc = launch('pod-identity-webhook', o.binary, [
    '--in-cluster=false',
    `--kubeconfig=${o.kubeconfigPath}`,
    `--tls-cert=${o.certs.webhookCert}`,
    `--tls-key=${o.certs.webhookKey}`,
    `--port=${o.port}`,
    `--metrics-port=${o.metricsPort}`,
    // EKS runs it with the cluster's region: every mutated container gets AWS_REGION/AWS_DEFAULT_REGION.
    `--aws-default-region=${o.region}`,
    `--watch-container-credentials-config=${containerCredentialsConfigPath}`,
    // The webhook reads ServiceAccounts from an informer: a pod created right after its
    // ServiceAccount can reach it before the watch event does and is then admitted unmutated.
    // Tests create ServiceAccounts and pods back to back, so wait for the ServiceAccount (the
    // webhook fetches it from the apiserver meanwhile) instead of depending on that race.
    '--service-account-lookup-grace-period=3s',
    // klog's verbosity 3 logs each pod's mutated/not-mutated decision: useful when a test fails.
    '--v=3',
  ], { logDir: o.logDir, owned: o.owned });
  const ca = await fsp.readFile(o.certs.caCert, 'utf8');
  const url = `https://127.0.0.1:${o.port}`;
  await waitUntil(proc, o.timeoutMs, async () => {
    const res = await kubeRequest({ ca }, url, 'GET', '/healthz');
    if (res.status !== 200) return false;
    // Ready for pods once it has read the container credentials config file once.
    return (await fsp.readFile(proc.logPath, 'utf8')).includes(CREDENTIALS_CONFIG_LOADED);
  });
  return {
    url: `${url}/mutate`, caBundlePem: ca, configurationName: WEBHOOK_CONFIGURATION,
    containerCredentialsConfigPath, logPath: proc.logPath, version,
  };
}

/**
 * The MutatingWebhookConfiguration as EKS registers the webhook (its deploy/mutatingwebhook.yaml):
 * pods CREATE, failurePolicy Ignore, sideEffects None, reinvocationPolicy IfNeeded, the opt-out
 * objectSelector, and admissionReviewVersions [v1beta1] — v0.6.17 answers without apiVersion/kind,
 * which the apiserver rejects for v1. `overrides` replace fields of the one webhook (tests that
 * seed faults).
 */
export function webhookRegistration(webhook: WebhookInfo, overrides: Record<string, unknown> = {}, name = webhook.configurationName): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [{
      name: 'iam-for-pods.amazonaws.com',
      admissionReviewVersions: ['v1beta1'],
      sideEffects: 'None',
      failurePolicy: 'Ignore',
      reinvocationPolicy: 'IfNeeded',
      clientConfig: { url: webhook.url, caBundle: Buffer.from(webhook.caBundlePem).toString('base64') },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      objectSelector: { matchExpressions: [{ key: 'eks.amazonaws.com/skip-pod-identity-webhook', operator: 'DoesNotExist' }] },
      ...overrides,
    }],
  };
}

async function registerWebhookWith(tls: TlsClient, apiserverUrl: string, configuration: Record<string, unknown>): Promise<void> {
  const name = (configuration['metadata'] as { name: string }).name;
  const base = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
  await kubeRequest(tls, apiserverUrl, 'DELETE', `${base}/${name}`);
  const res = await kubeRequest(tls, apiserverUrl, 'POST', base, configuration);
  if (res.status !== 201) throw new Error(`registering webhook ${name}: HTTP ${res.status} ${res.body}`);
}

const adminClientOf = (info: StackInfo): TlsClient => {
  const pki = path.join(info.dir, 'pki');
  return { ca: info.caCertPem, cert: fs.readFileSync(path.join(pki, 'admin.crt'), 'utf8'), key: fs.readFileSync(path.join(pki, 'admin.key'), 'utf8') };
};

/** (Re-)registers the stack's webhook; `overrides` as in webhookRegistration (none: as EKS does). */
export async function registerWebhook(info: StackInfo, overrides: Record<string, unknown> = {}): Promise<void> {
  await registerWebhookWith(adminClientOf(info), info.apiserverUrl, webhookRegistration(info.webhook, overrides));
}

/** Removes the stack's webhook registration (pods are then admitted unmutated). */
export async function unregisterWebhook(info: StackInfo): Promise<void> {
  await kubeRequest(adminClientOf(info), info.apiserverUrl, 'DELETE', `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${info.webhook.configurationName}`);
}

export interface PodIdentityServiceAccount { namespace: string; serviceAccount: string }

/** The ServiceAccounts the webhook currently treats as EKS Pod Identity ones. */
export async function podIdentityServiceAccounts(info: StackInfo): Promise<PodIdentityServiceAccount[]> {
  const text = await fsp.readFile(info.webhook.containerCredentialsConfigPath, 'utf8');
  return (JSON.parse(text) as { identities?: PodIdentityServiceAccount[] }).identities ?? [];
}

/**
 * Rewrites the webhook's container credentials config file (the format of its
 * --watch-container-credentials-config: {"identities":[{"namespace","serviceAccount"}]}) and
 * resolves once the webhook has reloaded it. On EKS the Pod Identity agent add-on's control plane
 * side keeps this file in step with the associations; in the stack, tests (and the Pod Identity
 * emulation) call this.
 */
export function setPodIdentityServiceAccounts(info: StackInfo, identities: PodIdentityServiceAccount[], timeoutMs = 30_000): Promise<void> {
  return serialized(() => writeIdentities(info, identities, timeoutMs));
}

// One change of the file at a time in this process: concurrent read-modify-writes would lose entries.
let identityWrites: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const result = identityWrites.then(work, work);
  identityWrites = result.catch(() => {});
  return result;
}

async function writeIdentities(info: StackInfo, identities: PodIdentityServiceAccount[], timeoutMs: number): Promise<void> {
  const loads = async () => ((await fsp.readFile(info.webhook.logPath, 'utf8')).split(CREDENTIALS_CONFIG_LOADED).length - 1);
  const before = await loads();
  const file = info.webhook.containerCredentialsConfigPath;
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const unique = [...new Map(identities.map((i) => [`${i.namespace}/${i.serviceAccount}`, { namespace: i.namespace, serviceAccount: i.serviceAccount }])).values()];
  await fsp.writeFile(tmp, JSON.stringify({ identities: unique }));
  await fsp.rename(tmp, file); // one atomic replace: the webhook never reads half a file
  const deadline = Date.now() + timeoutMs;
  while ((await loads()) <= before) {
    if (Date.now() > deadline) throw new Error(`the webhook did not reload ${file} within ${timeoutMs / 1000}s (log: ${info.webhook.logPath})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Adds one ServiceAccount to the webhook's EKS Pod Identity set (see setPodIdentityServiceAccounts). */
export function addPodIdentityServiceAccount(info: StackInfo, namespace: string, serviceAccount: string, timeoutMs = 30_000): Promise<void> {
  return serialized(async () => writeIdentities(info, [...(await podIdentityServiceAccounts(info)), { namespace, serviceAccount }], timeoutMs));
}

/** Removes one ServiceAccount from the webhook's EKS Pod Identity set. */
export function removePodIdentityServiceAccount(info: StackInfo, namespace: string, serviceAccount: string, timeoutMs = 30_000): Promise<void> {
  return serialized(async () => {
    const rest = (await podIdentityServiceAccounts(info)).filter((i) => i.namespace !== namespace || i.serviceAccount !== serviceAccount);
    await writeIdentities(info, rest, timeoutMs);
  });
}

// ---- processes -------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  /** Settles when the process is gone, with how it ended. */
  exited: Promise<string>;
  done: boolean;
}

interface Owned { dir: string; procs: Proc[]; stopped: boolean }
const liveStacks = new Set<Owned>();
let exitHookInstalled = false;

// setpriv makes the kernel kill a child when this process dies, even by SIGKILL.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

function launch(
  name: string,
  file: string,
  args: string[],
  opts: { logDir: string; owned: Owned; env?: NodeJS.ProcessEnv; pipeStdio?: boolean },
): Proc {
  // A sibling failed and the stack was torn down while this one waited its turn.
  if (opts.owned.stopped) throw new Error(`${name}: stack start-up was abandoned`);
  installExitHook();
  const logPath = path.join(opts.logDir, `${name}.log`);
  const logFd = fs.openSync(logPath, 'a');
  const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', file, ...args]] : [file, args];
  // detached: own process group, so stop() can signal the whole group.
  const child = spawn(cmd, argv, {
    detached: true,
    env: opts.env ?? process.env,
    stdio: opts.pipeStdio ? ['pipe', 'pipe', logFd] : ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const proc: Proc = { name, child, logPath, done: false, exited: Promise.resolve('') };
  proc.exited = new Promise((resolve) => {
    child.once('error', (err) => { proc.done = true; resolve(`could not be started: ${err.message}`); });
    child.once('exit', (code, signal) => { proc.done = true; resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`); });
  });
  // Never keep the event loop alive: a test process must be able to exit and run the exit hook.
  child.unref();
  for (const stream of [child.stdin, child.stdout]) (stream as unknown as net.Socket | null)?.unref();
  opts.owned.procs.push(proc);
  return proc;
}

async function startMoto(o: { logDir: string; owned: Owned; issuerUrl: string; apiserverUrl: string; caFile: string; timeoutMs: number }): Promise<number> {
  const python = process.env.IRSA_PYTHON ?? 'python3';
  const moto = launch('moto', python, [MOTO_LAUNCHER, '--issuer', o.issuerUrl, '--endpoint', o.apiserverUrl, '--ca-file', o.caFile], {
    logDir: o.logDir, owned: o.owned, pipeStdio: true,
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true', PYTHONUNBUFFERED: '1' },
  });
  const stdout = moto.child.stdout!;
  const log = fs.createWriteStream(moto.logPath, { flags: 'a' });
  const ready = new Promise<number>((resolve) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((l) => l.includes('"ready"'));
      if (!line) return;
      stdout.off('data', onData);
      stdout.pipe(log); // anything after the ready line goes to the log
      resolve((JSON.parse(line) as { port: number }).port);
    };
    stdout.on('data', onData);
  });
  return raceStart(moto, o.timeoutMs, ready);
}

/** Polls check() until true; fails with the log tail if the process ends or time runs out. */
async function waitUntil(proc: Proc, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const poll = (async () => {
    for (;;) {
      if (proc.done) return;
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  await raceStart(proc, timeoutMs, poll);
}

async function raceStart<T>(proc: Proc, timeoutMs: number, ready: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs / 1000}s`)), timeoutMs);
    proc.exited.then((how) => reject(new Error(how)));
  });
  try {
    const value = await Promise.race([ready, failed]);
    if (proc.done) throw new Error(await proc.exited);
    return value;
  } catch (error) {
    const tail = await logTail(proc.logPath, 40);
    throw new Error(`${proc.name} failed to start: ${(error as Error).message}\n--- last lines of ${proc.logPath} ---\n${tail}`);
  } finally {
    clearTimeout(timer);
  }
}

async function logTail(file: string, lines: number): Promise<string> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines - 1).join('\n');
}

function signalGroup(proc: Proc, signal: NodeJS.Signals): void {
  if (proc.done || proc.child.pid === undefined) return;
  try {
    process.kill(-proc.child.pid, signal);
  } catch {
    // already gone
  }
}

async function stopOwned(owned: Owned): Promise<void> {
  if (owned.stopped) return;
  owned.stopped = true;
  const stop = async (proc: Proc) => {
    proc.child.ref(); // launch() unref'd it; keep the loop alive until it is reaped
    proc.child.stdin?.end(); // the moto launcher exits on EOF
    signalGroup(proc, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(proc, 'SIGKILL'), 5000);
    await proc.exited;
    clearTimeout(timer);
  };
  // etcd last: while the apiserver holds watches on it, neither exits on SIGTERM.
  const etcd = owned.procs.filter((p) => p.name.startsWith('etcd'));
  await Promise.all(owned.procs.filter((p) => !p.name.startsWith('etcd')).map(stop));
  await Promise.all(etcd.map(stop));
  liveStacks.delete(owned);
  await fsp.rm(owned.dir, { recursive: true, force: true, maxRetries: 3 });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible here: SIGKILL, then remove the temp dirs.
  process.on('exit', () => {
    for (const owned of liveStacks) {
      for (const proc of owned.procs) signalGroup(proc, 'SIGKILL');
      try {
        fs.rmSync(owned.dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // a process may still be writing; the dir is in tmp
      }
    }
  });
}

async function freePorts(count: number): Promise<number[]> {
  // All held open at once so they are distinct; a small race with other processes remains.
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

// ---- certificates and kubeconfig -------------------------------------------------------------

interface Certificates {
  caCert: string; caKey: string;
  servingCert: string; servingKey: string;
  clientCert: string; clientKey: string;
  webhookCert: string; webhookKey: string;
  saKey: string; saPub: string;
}

async function makeCertificates(pki: string): Promise<Certificates> {
  await fsp.mkdir(pki, { recursive: true, mode: 0o700 });
  const f = (name: string) => path.join(pki, name);
  const c: Certificates = {
    caCert: f('ca.crt'), caKey: f('ca.key'),
    servingCert: f('apiserver.crt'), servingKey: f('apiserver.key'),
    clientCert: f('admin.crt'), clientKey: f('admin.key'),
    webhookCert: f('webhook.crt'), webhookKey: f('webhook.key'),
    saKey: f('sa.key'), saPub: f('sa.pub'),
  };
  const openssl = (...args: string[]) => run('openssl', args);
  const csr = (key: string, out: string, subj: string) =>
    openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', out, '-subj', subj);
  const sign = async (csrFile: string, out: string, extensions: string) => {
    await fsp.writeFile(`${csrFile}.ext`, extensions);
    // A random serial instead of -CAcreateserial: both signings run at once. A year of validity
    // keeps irsa's 180-day thumbprint-expiry warning out of the demo and tests.
    const serial = `0x1${randomBytes(15).toString('hex')}`;
    await openssl('x509', '-req', '-in', csrFile, '-CA', c.caCert, '-CAkey', c.caKey, '-set_serial', serial,
      '-days', '365', '-sha256', '-extfile', `${csrFile}.ext`, '-out', out);
  };
  await Promise.all([
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', c.caKey, '-out', c.caCert, '-days', '365',
      '-subj', '/CN=irsa-local-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'),
    csr(c.servingKey, f('apiserver.csr'), '/CN=kube-apiserver'),
    csr(c.clientKey, f('admin.csr'), '/O=system:masters/CN=irsa-local-admin'),
    csr(c.webhookKey, f('webhook.csr'), '/CN=pod-identity-webhook'),
    // EKS signs service-account tokens with RS256.
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', c.saKey)
      .then(() => openssl('pkey', '-in', c.saKey, '-pubout', '-out', c.saPub)),
  ]);
  const leaf = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n';
  await Promise.all([
    sign(f('apiserver.csr'), c.servingCert, `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`),
    sign(f('admin.csr'), c.clientCert, `${leaf}extendedKeyUsage=clientAuth\n`),
    sign(f('webhook.csr'), c.webhookCert, `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n`),
  ]);
  return c;
}

async function kubeconfigEntries(context: string, server: string, c: Certificates): Promise<KubeconfigEntries> {
  const b64 = async (file: string) => (await fsp.readFile(file)).toString('base64');
  return {
    clusters: [{ name: context, cluster: { server, 'certificate-authority-data': await b64(c.caCert) } }],
    users: [{ name: `${context}-admin`, user: { 'client-certificate-data': await b64(c.clientCert), 'client-key-data': await b64(c.clientKey) } }],
    contexts: [{ name: context, context: { cluster: context, user: `${context}-admin` } }],
  };
}

async function kubeconfigYaml(context: string, server: string, c: Certificates): Promise<string> {
  return kubeconfigWithContexts([await kubeconfigEntries(context, server, c)], context);
}

interface TlsClient { ca: string; cert?: string; key?: string }
const clientCache = new WeakMap<Certificates, TlsClient>();
function clientOf(c: Certificates): TlsClient {
  let client = clientCache.get(c);
  if (!client) {
    client = { ca: fs.readFileSync(c.caCert, 'utf8'), cert: fs.readFileSync(c.clientCert, 'utf8'), key: fs.readFileSync(c.clientKey, 'utf8') };
    clientCache.set(c, client);
  }
  return client;
}

function kubeRequest(tls: TlsClient, base: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(urlPath, base), {
      method, ...tls, agent: false, timeout: 5000,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
