// KubeGateway over @kubernetes/client-node 2.x. Every call goes through one wrapper that reports it
// to the CallObserver ("k8s GET serviceaccounts") and turns failures into RemoteError/UserError
// naming the API server, verb, resource and the fix; the client's error stays as `cause` (its
// numeric `code` is the HTTP status the engine checks for 404/409).

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  type RequestContext,
  setHeaderOptions,
  WellKnownApi,
  type V1DaemonSet,
  type V1Deployment,
  type V1ObjectMeta,
  type V1Pod,
  type V1PodTemplateSpec,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { RemoteError, UnreachableError, UserError } from '../../core/errors.ts';
import type { PodState, ServiceAccountState, WorkloadKind, WorkloadRef } from '../../core/state.ts';
import type { CallObserver, KubeGateway, KubeIdentity } from '../../ports.ts';
import { podStateOf } from './pods.ts';

export interface KubeGatewayOptions {
  /** Path of a kubeconfig file; default: KUBECONFIG (several paths merged), ~/.kube/config, in-cluster. */
  kubeconfig?: string;
  /** Context name; default: the kubeconfig's current-context. */
  context?: string;
  observer?: CallObserver;
}

/** What `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** Page size for list calls (kubectl uses 500 too). */
const PAGE_SIZE = 500;

// The apiserver applies JSON merge patch (RFC 7386) with this content type: a null value deletes
// the key, other keys are kept. The generated client would otherwise send json-patch+json.
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

type Verb = 'GET' | 'LIST' | 'POST' | 'PATCH' | 'DELETE';
const RBAC_VERB: Record<Verb, string> = { GET: 'get', LIST: 'list', POST: 'create', PATCH: 'patch', DELETE: 'delete' };

const TLS_CODES = /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_.*|EPROTO)$/;
const NETWORK_CODES = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)$/;

/** The first string `code` on the error or its causes (undici wraps socket errors in "fetch failed"). */
function systemCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The apiserver's Status message from an ApiException body (a JSON string or object). */
function statusMessage(error: ApiException<unknown>): string {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return (body as string).slice(0, 300);
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : '';
}

interface Target {
  server: string;
  context: string;
}

/** A namespace stuck in (or passing through) Terminating: nothing new can be created in it. */
function terminatingNamespace(name: string, target: Target): UserError {
  return new UserError(
    `namespace "${name}" is Terminating on ${target.server} (context "${target.context}"): it is being deleted and takes no new ServiceAccounts. ` +
      `Wait until it is gone (kubectl get namespace ${name}; a namespace stuck Terminating has finalizers or unavailable API services left), then create it again or use another namespace (--namespace). Nothing was changed.`,
    '--namespace',
  );
}

export function translateKubeError(error: unknown, verb: Verb, resource: string, path: string, target: Target): Error {
  if (error instanceof UserError || error instanceof RemoteError) return error;
  const what = `${verb} ${path}`;
  const wrap = (message: string) => {
    const wrapped = new RemoteError(message);
    wrapped.cause = error;
    return wrapped;
  };
  if (error instanceof ApiException) {
    const detail = statusMessage(error);
    switch (error.code) {
      case 401:
        return wrap(
          `The Kubernetes API server ${target.server} rejected the credentials of context "${target.context}" (401 Unauthorized) for ${what}. ` +
            'Refresh the kubeconfig (for EKS: `aws eks update-kubeconfig --name <cluster>`) or pick another context with --context.',
        );
      case 403:
        // The apiserver answers 403 to a create in a namespace being deleted; that is not RBAC.
        if (/because it is being terminated|NamespaceTerminating/.test(detail + JSON.stringify(error.body ?? ''))) {
          return terminatingNamespace(/namespaces\/([^/]+)/.exec(path)?.[1] ?? '?', target);
        }
        return wrap(
          `${what} was forbidden by ${target.server} (context "${target.context}"): ${detail || 'no detail'}. ` +
            `Grant "${RBAC_VERB[verb]}" on "${resource}" to that identity with a Role/ClusterRole binding, or use --context with one that has it.`,
        );
      default:
        return wrap(`${what} on ${target.server} failed: HTTP ${error.code}${detail ? `: ${detail}` : ''}`);
    }
  }
  const code = systemCode(error);
  // undici reports "fetch failed" and puts the reason in `cause`: show the innermost message.
  const messages: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    messages.push(e instanceof Error ? e.message : String(e));
  }
  const message = messages.join(': ');
  if (code && TLS_CODES.test(code)) {
    return wrap(
      `TLS verification of the Kubernetes API server ${target.server} failed for ${what}: ${code}. ` +
        `Check certificate-authority(-data) of the cluster in context "${target.context}" (--kubeconfig, --context) or the proxy in between.`,
    );
  }
  if (code && NETWORK_CODES.test(code)) {
    // Unreachable is not forbidden: no RBAC advice, and the cluster check passes it on as it is.
    const how = /REFUSED/.test(code) ? 'connection refused' : /TIMEOUT|TIMEDOUT/.test(code) ? 'timed out' : /NOTFOUND|EAI_AGAIN/.test(code) ? 'host name not found' : code;
    const unreachable = new UnreachableError(
      `The Kubernetes API server is unreachable at ${target.server} (context "${target.context}"): ${how} (${code}) on ${RBAC_VERB[verb]} ${resource}. ` +
        'Check that the cluster is running and that this address is right (--kubeconfig / KUBECONFIG, --context); this is not a permissions problem.',
    );
    unreachable.cause = error;
    return unreachable;
  }
  return wrap(`${what} on ${target.server} (context "${target.context}") failed: ${message}`);
}

/**
 * client-node 2.0 builds a new undici Agent, and so a new TLS connection, for every request (in
 * KubeConfig.applySecurityAuthentication). Reuse one per context through public API only: this
 * subclass overrides that public method (the SecurityAuthentication interface every generated
 * client calls) and swaps the request's fresh, never-connected dispatcher for the first one made
 * for the same context, cluster and user (RequestContext.getDispatcher/setDispatcher). 100
 * ServiceAccount reads then cost one handshake instead of 100 (measured: a third of a 100-binding
 * plan's CPU time). Bearer tokens (EKS exec credentials) travel in headers, set per request as before.
 */
type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class ConnectionReusingKubeConfig extends KubeConfig {
  private readonly dispatchers = new Map<string, Dispatcher>();
  /** How many dispatchers were made and kept (tests check reuse with it). */
  get dispatcherCount(): number {
    return this.dispatchers.size;
  }
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const key = JSON.stringify([this.getCurrentContext(), this.getCurrentCluster()?.name ?? null, this.getCurrentUser()?.name ?? null]);
    const kept = this.dispatchers.get(key);
    if (!kept) {
      this.dispatchers.set(key, fresh);
      return;
    }
    context.setDispatcher(kept);
    // The fresh one never connected; closing it frees nothing but its bookkeeping.
    void fresh.close().catch(() => {});
  }
}

/**
 * One KubeConfig per options object: the gateways a command makes from the same options (ServiceAccounts,
 * workloads, inspection) share its connection instead of each opening its own (a TLS handshake,
 * two round trips, on the critical path of an apply).
 */
const loaded = new WeakMap<KubeGatewayOptions, KubeConfig>();

export function loadKubeConfig(options: KubeGatewayOptions): KubeConfig {
  const known = loaded.get(options);
  if (known) return known;
  const kc = readKubeConfig(options);
  loaded.set(options, kc);
  return kc;
}

function readKubeConfig(options: KubeGatewayOptions): KubeConfig {
  const kc = new ConnectionReusingKubeConfig();
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) {
      throw new UserError(`--kubeconfig: "${options.kubeconfig}" does not exist. Give the path of a kubeconfig file.`, '--kubeconfig');
    }
    try {
      kc.loadFromFile(options.kubeconfig);
    } catch (error) {
      throw new UserError(`--kubeconfig: "${options.kubeconfig}" cannot be read as a kubeconfig (${(error as Error).message}).`, '--kubeconfig');
    }
  } else {
    // Without any config client-node silently falls back to http://localhost:8080; say so instead.
    const envPaths = (process.env['KUBECONFIG'] ?? '').split(process.platform === 'win32' ? ';' : ':').filter(Boolean);
    const inCluster = Boolean(process.env['KUBERNETES_SERVICE_HOST']);
    if (!envPaths.some((p) => existsSync(p)) && !existsSync(join(homedir(), '.kube', 'config')) && !inCluster) {
      throw new UserError(
        'No kubeconfig found (KUBECONFIG is unset or names no existing file, and ~/.kube/config does not exist). ' +
          'Pass --kubeconfig, set KUBECONFIG, or for EKS run `aws eks update-kubeconfig --name <cluster>`.',
        '--kubeconfig',
      );
    }
    try {
      kc.loadFromDefault();
    } catch (error) {
      throw new UserError(`The kubeconfig cannot be read (${(error as Error).message}). Fix it, or pass --kubeconfig.`, '--kubeconfig');
    }
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new UserError(
        `--context: "${options.context}" is not a context of the kubeconfig. Known contexts: ${known.length > 0 ? known.join(', ') : '(none)'}.`,
        '--context',
      );
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new UserError(
      `The kubeconfig has no usable current context${kc.getCurrentContext() ? ` ("${kc.getCurrentContext()}" names no cluster)` : ''}. Pass --context or run \`kubectl config use-context <name>\`.`,
      '--context',
    );
  }
  return kc;
}

const toRecord = (values: Record<string, string> | undefined): Record<string, string> => ({ ...(values ?? {}) });

const serviceAccountOf = (template: V1PodTemplateSpec | undefined): string =>
  // serviceAccount is the deprecated alias; an empty name means "default".
  template?.spec?.serviceAccountName || template?.spec?.serviceAccount || 'default';

const saState = (meta: V1ObjectMeta | undefined, namespace: string): ServiceAccountState => ({
  namespace: meta?.namespace ?? namespace,
  name: meta?.name ?? '',
  annotations: toRecord(meta?.annotations),
  labels: toRecord(meta?.labels),
});

/** Follows `continue` tokens until the list is complete. */
export async function allPages<T>(page: (token: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const list = await page(token);
    items.push(...list.items);
    token = list.metadata?._continue || undefined;
  } while (token);
  return items;
}

const WORKLOAD_PATHS: Record<WorkloadKind, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

/** Every context of the kubeconfig with its server (for naming the one that matches a cluster). */
export function listKubeContexts(options: Omit<KubeGatewayOptions, 'context'>): Array<{ name: string; server: string }> {
  const kc = loadKubeConfig({ ...options, context: undefined });
  return kc.getContexts().map((context) => ({ name: context.name, server: kc.getCluster(context.cluster)?.server ?? '' }));
}

export function createKubeGateway(options: KubeGatewayOptions = {}): KubeGateway & KubeIdentity {
  const kc = loadKubeConfig(options);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const target: Target = { server: kc.getCurrentCluster()?.server ?? '(unknown server)', context: kc.getCurrentContext() };
  const observer = options.observer;

  /** Reports and runs one API call; 404 becomes `onNotFound` when given. */
  async function call<T, N = never>(verb: Verb, resource: string, path: string, run: () => Promise<T>, onNotFound?: () => N): Promise<T | N> {
    observer?.onCall('k8s', `${verb} ${resource}`, path);
    try {
      return await run();
    } catch (error) {
      if (onNotFound && error instanceof ApiException && error.code === 404) return onNotFound();
      throw translateKubeError(error, verb, resource, path, target);
    }
  }

  const nsPath = (namespace: string) => `/api/v1/namespaces/${namespace}`;
  const saPath = (namespace: string, name?: string) => `${nsPath(namespace)}/serviceaccounts${name ? `/${name}` : ''}`;
  const appsPath = (kind: WorkloadKind, namespace: string, name?: string) =>
    `/apis/apps/v1/namespaces/${namespace}/${WORKLOAD_PATHS[kind]}${name ? `/${name}` : ''}`;

  async function listWorkloads(namespace: string): Promise<Array<WorkloadRef & { serviceAccount: string }>> {
    const list = <T extends V1Deployment | V1StatefulSet | V1DaemonSet>(kind: WorkloadKind, fetch: (token: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>) =>
      call('LIST', WORKLOAD_PATHS[kind], appsPath(kind, namespace), () => allPages(fetch)).then((items) =>
        items.map((w) => ({ kind, namespace, name: w.metadata?.name ?? '', serviceAccount: serviceAccountOf(w.spec?.template) })),
      );
    const [deployments, statefulSets, daemonSets] = await Promise.all([
      list('Deployment', (_continue) => apps.listNamespacedDeployment({ namespace, limit: PAGE_SIZE, _continue })),
      list('StatefulSet', (_continue) => apps.listNamespacedStatefulSet({ namespace, limit: PAGE_SIZE, _continue })),
      list('DaemonSet', (_continue) => apps.listNamespacedDaemonSet({ namespace, limit: PAGE_SIZE, _continue })),
    ]);
    return [...deployments, ...statefulSets, ...daemonSets];
  }

  /** ReplicaSet name → owning Deployment, for pods' owner references (null when not readable). */
  async function replicaSetOwners(namespace: string): Promise<Map<string, string> | null> {
    try {
      const sets = await call('LIST', 'replicasets', `/apis/apps/v1/namespaces/${namespace}/replicasets`, () =>
        allPages((_continue) => apps.listNamespacedReplicaSet({ namespace, limit: PAGE_SIZE, _continue })),
      );
      const owners = new Map<string, string>();
      for (const rs of sets) {
        const owner = rs.metadata?.ownerReferences?.find((ref) => ref.kind === 'Deployment');
        if (owner && rs.metadata?.name) owners.set(rs.metadata.name, owner.name);
      }
      return owners;
    } catch {
      // Reading ReplicaSets is a nicety (RBAC may not allow it); fall back to the name convention.
      return null;
    }
  }

  function ownerOf(pod: V1Pod, namespace: string, rsOwners: Map<string, string> | null): WorkloadRef | null {
    const ref = pod.metadata?.ownerReferences?.find((r) => r.controller) ?? pod.metadata?.ownerReferences?.[0];
    if (!ref) return null;
    if (ref.kind === 'StatefulSet' || ref.kind === 'DaemonSet') return { kind: ref.kind, namespace, name: ref.name };
    if (ref.kind !== 'ReplicaSet') return null;
    const fromList = rsOwners?.get(ref.name);
    if (fromList) return { kind: 'Deployment', namespace, name: fromList };
    if (rsOwners) return null; // the ReplicaSet exists without a Deployment (or is gone)
    // A Deployment's ReplicaSets are named <deployment>-<pod-template-hash>.
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    return hash && ref.name.endsWith(`-${hash}`) ? { kind: 'Deployment', namespace, name: ref.name.slice(0, -hash.length - 1) } : null;
  }

  function podState(pod: V1Pod, namespace: string, rsOwners: Map<string, string> | null): PodState {
    const env: Record<string, string> = {};
    for (const container of pod.spec?.containers ?? []) {
      for (const variable of container.env ?? []) {
        // First container wins; valueFrom entries are recorded as present with an empty value.
        if (!(variable.name in env)) env[variable.name] = variable.value ?? '';
      }
    }
    const created = pod.metadata?.creationTimestamp as Date | string | undefined;
    return {
      namespace: pod.metadata?.namespace ?? namespace,
      name: pod.metadata?.name ?? '',
      serviceAccountName: pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default',
      createdAt: created instanceof Date ? created.toISOString() : (created ?? ''),
      env,
      volumes: (pod.spec?.volumes ?? []).map((v) => v.name),
      ownerWorkload: ownerOf(pod, namespace, rsOwners),
      spec: podStateOf(pod),
    };
  }

  return {
    connection: () => ({ ...target }),

    async serviceAccountIssuer() {
      const wellKnown = kc.makeApiClient(WellKnownApi);
      const path = '/.well-known/openid-configuration';
      const body: unknown = await call('GET', 'openid-configuration', path, () => wellKnown.getServiceAccountIssuerOpenIDConfiguration());
      // The generated client types the document as a string; it may arrive parsed.
      const document = typeof body === 'string' ? (JSON.parse(body) as { issuer?: unknown }) : (body as { issuer?: unknown } | null);
      if (typeof document?.issuer !== 'string') throw new RemoteError(`GET ${path} on ${target.server} returned no issuer.`);
      return document.issuer;
    },

    async namespaceExists(name) {
      const namespace = await call('GET', 'namespaces', nsPath(name), async () => await core.readNamespace({ name }), () => null);
      // A namespace being deleted exists but takes no new objects: say so before planning into it.
      if (namespace?.status?.phase === 'Terminating') throw terminatingNamespace(name, target);
      return namespace !== null;
    },

    async createNamespace(name) {
      await call('POST', 'namespaces', '/api/v1/namespaces', () => core.createNamespace({ body: { metadata: { name } } }));
    },

    async listNamespaces() {
      const items = await call('LIST', 'namespaces', '/api/v1/namespaces', () =>
        allPages((_continue) => core.listNamespace({ limit: PAGE_SIZE, _continue })),
      );
      return items.map((ns) => ns.metadata?.name ?? '').filter(Boolean);
    },

    async getServiceAccount(namespace, name) {
      return call('GET', 'serviceaccounts', saPath(namespace, name), async () => saState((await core.readNamespacedServiceAccount({ namespace, name })).metadata, namespace), () => null);
    },

    async listServiceAccounts(namespace) {
      const items = namespace
        ? await call('LIST', 'serviceaccounts', saPath(namespace), () =>
            allPages((_continue) => core.listNamespacedServiceAccount({ namespace, limit: PAGE_SIZE, _continue })),
          )
        : await call('LIST', 'serviceaccounts', '/api/v1/serviceaccounts', () =>
            allPages((_continue) => core.listServiceAccountForAllNamespaces({ limit: PAGE_SIZE, _continue })),
          );
      return items.map((sa) => saState(sa.metadata, namespace ?? ''));
    },

    async createServiceAccount(sa) {
      await call('POST', 'serviceaccounts', saPath(sa.namespace), () =>
        core.createNamespacedServiceAccount({
          namespace: sa.namespace,
          body: { metadata: { name: sa.name, namespace: sa.namespace, annotations: sa.annotations, labels: sa.labels } },
        }),
      );
    },

    async patchServiceAccountMetadata(namespace, name, patch) {
      const metadata: Record<string, unknown> = {};
      if (patch.annotations) metadata['annotations'] = patch.annotations;
      if (patch.labels) metadata['labels'] = patch.labels;
      await call('PATCH', 'serviceaccounts', saPath(namespace, name), () =>
        core.patchNamespacedServiceAccount({ namespace, name, body: { metadata } }, MERGE_PATCH),
      );
    },

    async deleteServiceAccount(namespace, name) {
      await call('DELETE', 'serviceaccounts', saPath(namespace, name), () => core.deleteNamespacedServiceAccount({ namespace, name }));
    },

    listWorkloads,

    async listWorkloadsUsingServiceAccount(namespace, serviceAccount) {
      return (await listWorkloads(namespace))
        .filter((w) => w.serviceAccount === serviceAccount)
        .map(({ kind, namespace: ns, name }) => ({ kind, namespace: ns, name }));
    },

    async restartWorkload(workload, restartedAt) {
      const { kind, namespace, name } = workload;
      const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } };
      const patch = {
        Deployment: () => apps.patchNamespacedDeployment({ namespace, name, body }, MERGE_PATCH),
        StatefulSet: () => apps.patchNamespacedStatefulSet({ namespace, name, body }, MERGE_PATCH),
        DaemonSet: () => apps.patchNamespacedDaemonSet({ namespace, name, body }, MERGE_PATCH),
      }[kind];
      await call('PATCH', WORKLOAD_PATHS[kind], appsPath(kind, namespace, name), patch);
    },

    async listPods(namespace, serviceAccount) {
      // The field selector narrows the list server-side; pods that leave the name empty mean
      // "default", which the selector cannot match, so that case filters client-side only.
      const fieldSelector = serviceAccount && serviceAccount !== 'default' ? `spec.serviceAccountName=${serviceAccount}` : undefined;
      const pods = await call('LIST', 'pods', `${nsPath(namespace)}/pods`, () =>
        allPages((_continue) => core.listNamespacedPod({ namespace, limit: PAGE_SIZE, _continue, ...(fieldSelector ? { fieldSelector } : {}) })),
      );
      const needsOwners = pods.some((p) => p.metadata?.ownerReferences?.some((r) => r.kind === 'ReplicaSet'));
      const rsOwners = needsOwners ? await replicaSetOwners(namespace) : null;
      return pods
        .map((pod) => podState(pod, namespace, rsOwners))
        .filter((pod) => !serviceAccount || pod.serviceAccountName === serviceAccount);
    },

    async createToken(namespace, serviceAccount, audience, expirationSeconds) {
      const request = await call('POST', 'serviceaccounts/token', `${saPath(namespace, serviceAccount)}/token`, () =>
        core.createNamespacedServiceAccountToken({
          namespace,
          name: serviceAccount,
          // No audience: the apiserver's default audiences (what a projected token with audience "" gets).
          body: { spec: { audiences: audience === '' ? [] : [audience], ...(expirationSeconds ? { expirationSeconds } : {}) } },
        }),
      );
      const token = request.status?.token;
      if (!token) throw new RemoteError(`The TokenRequest for ${namespace}/${serviceAccount} on ${target.server} returned no token.`);
      return token;
    },
  };
}
