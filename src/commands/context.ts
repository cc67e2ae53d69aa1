// Builds the adapters a command needs from the global options, importing each SDK only when
// first used so commands that do not need Kubernetes never load its client.

import { setTimeout as timersSetTimeout } from 'node:timers/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { assertRegion } from '../core/arn.ts';
import { judgeContext, matchingContexts, mismatchMessage, normalizeIssuer, unknownMessage, type ContextObservation, type ExpectedCluster, type Observed } from '../core/cluster-identity.ts';
import { UnreachableError, UserError } from '../core/errors.ts';
import { decodeJwtClaims } from '../core/jwt.ts';
import type { ClusterInfo } from '../core/state.ts';
import type { AccessReviewer, ClusterReader, LeaseGateway, IamGateway, KubeGateway, KubeIdentity, KubeInspector, NodeAccessReader, NodegroupGateway, PodIdentityGateway, ResourcePolicyGateway, StsGateway, TlsChainFetcher, WorkloadGateway } from '../ports.ts';
import type { GlobalOptions } from './globals.ts';
import { countThrottles } from '../engine/adaptive-limit.ts';

/** The cluster the command's IAM side is about (what the roles will trust). */
export interface ClusterExpectation {
  issuerUrl: string;
  /** The EKS cluster, or null for --issuer-url. */
  cluster: ClusterInfo | null;
  /** A ServiceAccount that may exist, for the TokenRequest proof when discovery is forbidden. */
  tokenFor?: { namespace: string; name: string };
  /** Writes follow (--approve): a context that cannot be proven is refused instead of warned about. */
  writes: boolean;
}

export interface CommandContext {
  globals: GlobalOptions;
  region(): Promise<string>;
  clusters(): Promise<ClusterReader>;
  iam(): Promise<IamGateway>;
  sts(): Promise<StsGateway>;
  /**
   * Secrets Manager / KMS / Organizations through a profile (undefined: the IAM credentials), in a
   * region (undefined: the command's); for access requests and doctor --can.
   */
  resourcePolicies(profile?: string, region?: string): Promise<ResourcePolicyGateway>;
  /** The Kubernetes gateway; once expectCluster was called, only after the context is proven to be that cluster. */
  kube(): Promise<KubeGateway>;
  /**
   * Declares the cluster the command works on. Before the first Kubernetes call, irsa proves that
   * the kubeconfig context is that cluster (core/cluster-identity.ts) and fails otherwise.
   */
  expectCluster(expectation: ClusterExpectation): void;
  /** Pod templates and migration writes (after the same cluster check as kube()). */
  workloads(): Promise<WorkloadGateway>;
  /** Read-only Kubernetes inspection for doctor and audit (Secrets, webhooks, pod templates). */
  inspector(): Promise<KubeInspector>;
  /** Nodegroups, launch templates, policy documents (with the cluster's credentials: the nodes live there). */
  nodeAccess(): Promise<NodeAccessReader>;
  /** Launch template versions and nodegroup updates (irsa close-paths; the cluster's credentials). */
  nodegroups(): Promise<NodegroupGateway>;
  /** EKS Pod Identity associations, add-ons, Fargate profiles, nodegroups (the cluster's credentials). */
  podIdentity(): Promise<PodIdentityGateway>;
  /** IAM through another profile (a cross-account Pod Identity target role's trust), opened once per profile. */
  iamAs(profile: string): Promise<IamGateway>;
  /** SubjectAccessReviews (after the same cluster check as kube()). */
  accessReviewer(): Promise<AccessReviewer>;
  /** The Leases of the trust lock (engine/trust-lock.ts), after the same cluster check as kube(). */
  leases(): Promise<LeaseGateway>;
  resolveThumbprints(issuerUrl: string): Promise<{ thumbprints: string[]; warnings: string[] }>;
  /** Discovery and certificate fetches over verified TLS (proxy-aware), e.g. with a shorter timeout. */
  tls(options?: { timeoutMs?: number }): Promise<TlsChainFetcher>;
  /** Retries made by the SDKs and the consistency retry, for the apply report. */
  retries(): number;
  /** Of those, retries after a throttling reply (the apply's concurrency adapts to them). */
  throttles(): number;
  calls(): Record<string, number>;
}

const settle = <T>(promise: Promise<T>): Promise<Observed<T>> =>
  promise.then((value) => ({ value }), (error: unknown) => ({ error: error instanceof Error ? error.message.split('\n')[0]! : String(error) }));

/** Resolves to undefined when the promise takes longer than ms (only used on the failure path). */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([promise, new Promise<undefined>((resolve) => void timersSetTimeout(ms, undefined, { ref: false }).then(resolve))]);

/** The KubeGateway calls that only read: they may start before the cluster check has answered. */
const KUBE_READS: ReadonlySet<string> = new Set<keyof KubeGateway>([
  'namespaceExists', 'listNamespaces', 'getServiceAccount', 'listServiceAccounts', 'listWorkloadsUsingServiceAccount', 'listWorkloads', 'listPods',
]);

/** The WorkloadGateway calls that only read. */
const WORKLOAD_READS: ReadonlySet<string> = new Set<keyof WorkloadGateway>(['listPodTemplates', 'listSecretKeyNames', 'listConfigMapKeyNames']);

/**
 * The gateway with every call gated on `proof`: a read starts now and answers after the proof
 * (its error, if the proof fails, is the proof's); any other call starts only after the proof.
 */
function answeredAfterProof<T extends object>(gateway: T, proof: () => Promise<void>, reads: ReadonlySet<string>): T {
  return new Proxy(gateway, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const call = (args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      if (reads.has(String(key))) {
        return (...args: unknown[]) => {
          const started = Promise.resolve(call(args));
          started.catch(() => {}); // reported below, once the proof holds
          return proof().then(() => started);
        };
      }
      return (...args: unknown[]) => proof().then(() => call(args));
    },
  });
}

const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
};

export function createCommandContext(
  globals: GlobalOptions,
  extra: { caBundle?: string; clusterProfile?: string; clusterProfileField?: string } = {},
): CommandContext {
  const observer = once(async () => {
    const { createCallObserver } = await import('../adapters/verbose.ts');
    return createCallObserver({ verbose: globals.verbose, write: (line) => process.stderr.write(line + '\n') });
  });
  let observerValue: Awaited<ReturnType<typeof observer>> | undefined;
  // For the benchmark and tests: the API calls this process made, written at exit.
  const statsFile = process.env['IRSA_STATS_FILE'];
  if (statsFile) {
    process.once('exit', () => {
      writeFileSync(statsFile, JSON.stringify({ calls: observerValue?.counts() ?? {}, retries: observerValue?.retries() ?? 0 }));
    });
  }
  const aws = once(async () => {
    const { createAwsContext } = await import('../adapters/aws/clients.ts');
    observerValue = await observer();
    return createAwsContext({ region: globals.region, profile: globals.profile, observer: observerValue, debug: globals.debug === true, profileField: globals.profileField ?? '--profile' });
  });
  // Cross-account: the cluster may be read with other credentials than IAM is written with.
  const clusterAws = once(async () => {
    if (!extra.clusterProfile) return aws();
    const { createAwsContext } = await import('../adapters/aws/clients.ts');
    observerValue = await observer();
    return createAwsContext({ region: globals.region, profile: extra.clusterProfile, observer: observerValue, debug: globals.debug === true, profileField: extra.clusterProfileField ?? '--cluster-profile' });
  });
  // Other accounts' documents (access requests): one AWS context per profile, opened when first used.
  const profileContexts = new Map<string, ReturnType<typeof aws>>();
  const resourcePolicies = async (profile?: string, region?: string): Promise<ResourcePolicyGateway> => {
    const home = await (await aws()).region();
    if ((!profile || profile === globals.profile) && (!region || region === home)) return (await aws()).resourcePolicies();
    const key = `${profile ?? ''}@${region ?? home}`;
    if (!profileContexts.has(key)) {
      profileContexts.set(key, (async () => {
        const { createAwsContext } = await import('../adapters/aws/clients.ts');
        observerValue = await observer();
        const chosen = profile ?? globals.profile;
        return createAwsContext({ region: region ?? home, ...(chosen ? { profile: chosen } : {}), observer: observerValue });
      })());
    }
    return (await profileContexts.get(key)!).resourcePolicies();
  };
  const profileIams = new Map<string, Promise<IamGateway>>();
  const iamAs = (profile: string): Promise<IamGateway> => {
    if (!profileIams.has(profile)) {
      profileIams.set(profile, (async () => {
        const { createAwsContext } = await import('../adapters/aws/clients.ts');
        observerValue = await observer();
        return (await createAwsContext({ region: globals.region, profile, observer: observerValue, debug: globals.debug === true, profileField: '--account-profile' })).iam();
      })());
    }
    return profileIams.get(profile)!;
  };
  const caBundlePem = () => {
    if (!extra.caBundle) return undefined;
    try {
      return readFileSync(extra.caBundle, 'utf8');
    } catch (error) {
      throw new UserError(`--ca-bundle: cannot read "${extra.caBundle}" (${(error as Error).message}). Give a PEM file of CA certificates.`, '--ca-bundle');
    }
  };
  // One DescribeCluster per name and process: the command and the engine may both resolve it.
  const clusterReader = once(async (): Promise<ClusterReader> => {
    const reader = await (await clusterAws()).eks();
    const described = new Map<string, Promise<ClusterInfo | null>>();
    return {
      describeCluster: (name) => {
        if (!described.has(name)) described.set(name, reader.describeCluster(name));
        return described.get(name)!;
      },
      listClusters: () => reader.listClusters(),
      // Cross-account: with only --profile the cluster is looked up in the role's account.
      ...(globals.profile && !extra.clusterProfile
        ? { lookupHint: `It was looked up with --profile ${globals.profile}; if the cluster is in another account than the role, pass --cluster-profile <a profile of the cluster's account>.` }
        : {}),
    };
  });
  // One options object for every gateway of the kubeconfig context: they share one KubeConfig, so
  // one connection (adapters/k8s/kube.ts loadKubeConfig).
  const kubeOptions = once(async () => {
    observerValue = await observer();
    return { kubeconfig: globals.kubeconfig, context: globals.context, observer: observerValue };
  });
  const kubeGateway = once(async () => {
    const { createKubeGateway } = await import('../adapters/k8s/kube.ts');
    return createKubeGateway(await kubeOptions());
  });
  // Reads start at once and are answered only once the context is proven (a wrong cluster is
  // reported before anything read from it is used); every other call waits for the proof. The
  // proof then costs no round trip of its own on the read path.
  const provenKube = once(async () => {
    const gateway = await kubeGateway();
    return answeredAfterProof<KubeGateway>(gateway, () => verified(gateway), KUBE_READS);
  });
  let expectation: ClusterExpectation | undefined;
  let verification: Promise<void> | undefined;
  const verified = (gateway: KubeGateway & KubeIdentity): Promise<void> => {
    if (!expectation || globals.skipClusterCheck) return Promise.resolve();
    verification ??= verifyCluster(gateway, expectation);
    return verification;
  };
  const say = (line: string) => process.stderr.write(line + '\n');

  async function verifyCluster(gateway: KubeGateway & KubeIdentity, wanted: ClusterExpectation): Promise<void> {
    const { context, server } = gateway.connection();
    const expected: ExpectedCluster = {
      label: wanted.cluster ? `EKS cluster "${wanted.cluster.name}"` : `the cluster of issuer ${wanted.issuerUrl}`,
      issuerUrl: wanted.issuerUrl,
      endpoint: wanted.cluster?.endpoint ?? null,
    };
    // An apiserver that cannot be reached at all is said as such (no RBAC advice, no --skip-cluster-check).
    let unreachable: UnreachableError | undefined;
    const discovery = await settle(
      gateway.serviceAccountIssuer().catch((error: unknown) => {
        if (error instanceof UnreachableError) unreachable = error;
        throw error;
      }),
    );
    if (unreachable) throw unreachable;
    const observation: ContextObservation = { context, server, discovery };
    if ('error' in observation.discovery && wanted.tokenFor) {
      const { namespace, name } = wanted.tokenFor;
      // The token never leaves this function: only its iss claim is kept.
      observation.token = await settle(gateway.createToken(namespace, name, 'irsa-cluster-check', 600).then((token) => decodeJwtClaims(token).iss ?? ''));
    }
    const judgement = judgeContext(expected, observation);
    if (judgement.verdict === 'match') {
      if (globals.verbose) say(`cluster check: context "${context}" is ${expected.label}: ${judgement.detail} (proof: ${judgement.proof})`);
      return;
    }
    if (judgement.verdict === 'unknown') {
      const message = unknownMessage(expected, observation, judgement);
      if (wanted.writes) throw new UserError(message, '--context');
      say(`Warning: ${message}`);
      return;
    }
    const [candidates, otherCluster] = await Promise.all([otherContexts(context), wanted.cluster ? eksClusterWithIssuer(judgement.observedIssuer) : null]);
    throw new UserError(mismatchMessage(expected, observation, judgement, matchingContexts(expected, candidates), otherCluster), '--context');
  }

  /** The kubeconfig's other contexts and their issuers (probed only after a mismatch). */
  async function otherContexts(current: string) {
    const { createKubeGateway, listKubeContexts } = await import('../adapters/k8s/kube.ts');
    const contexts = listKubeContexts({ kubeconfig: globals.kubeconfig }).filter((c) => c.name !== current).slice(0, 20);
    return Promise.all(contexts.map(async (c) => {
      const issuer = await within(createKubeGateway({ kubeconfig: globals.kubeconfig, context: c.name, observer: observerValue }).serviceAccountIssuer().catch(() => null), 10_000);
      return { context: c.name, server: c.server, issuer: issuer ?? null };
    }));
  }

  /** The EKS cluster in the region whose issuer the wrong context has, for the message. */
  async function eksClusterWithIssuer(issuer: string): Promise<string | null> {
    try {
      const reader = await clusterReader();
      const names = (await reader.listClusters()).slice(0, 20);
      const infos = await Promise.all(names.map((name) => reader.describeCluster(name).catch(() => null)));
      return infos.find((info) => info?.issuerUrl && normalizeIssuer(info.issuerUrl) === normalizeIssuer(issuer))?.name ?? null;
    } catch {
      return null; // naming the other cluster is a courtesy
    }
  }

  return {
    globals,
    region: async () => {
      // A region from AWS_REGION or the profile is checked like --region, before any call uses it.
      const region = await (await aws()).region();
      assertRegion(region, globals.region ? '--region' : 'region (from AWS_REGION or the AWS profile)');
      return region;
    },
    clusters: clusterReader,
    iam: async () => (await aws()).iam(),
    sts: async () => (await aws()).sts(),
    resourcePolicies,
    kube: provenKube,
    expectCluster: (value) => {
      expectation = value;
      verification = undefined;
    },
    workloads: once(async () => {
      // As kube(): its reads start at once and answer after the proof; its writes wait for it.
      const gateway = await kubeGateway();
      const { createWorkloadGateway } = await import('../adapters/k8s/workloads.ts');
      return answeredAfterProof<WorkloadGateway>(createWorkloadGateway(await kubeOptions()), () => verified(gateway), WORKLOAD_READS);
    }),
    inspector: once(async () => {
      await verified(await kubeGateway());
      const { createKubeInspector } = await import('../adapters/k8s/inspect.ts');
      return createKubeInspector(await kubeOptions());
    }),
    nodeAccess: async () => (await clusterAws()).nodeAccess(),
    nodegroups: async () => (await clusterAws()).nodegroups(),
    podIdentity: async () => (await clusterAws()).podIdentity(),
    iamAs,
    accessReviewer: once(async () => {
      await verified(await kubeGateway());
      const { createAccessReviewer } = await import('../adapters/k8s/access-review.ts');
      return createAccessReviewer(await kubeOptions());
    }),
    leases: once(async () => {
      await verified(await kubeGateway());
      const [{ createLeaseGateway }, { LEASE_NAMESPACE }] = await Promise.all([import('../adapters/k8s/leases.ts'), import('../engine/trust-lock.ts')]);
      return createLeaseGateway(LEASE_NAMESPACE, await kubeOptions());
    }),
    resolveThumbprints: async (issuerUrl) => {
      const pem = caBundlePem();
      const [{ createTlsChainFetcher }, { resolveThumbprints }] = await Promise.all([
        import('../adapters/tls/fetcher.ts'),
        import('../adapters/tls/thumbprints.ts'),
      ]);
      const observed = await observer();
      observerValue ??= observed;
      const onCall = (operation: string, detail: string) => observed.onCall('tls', operation, detail);
      return resolveThumbprints(createTlsChainFetcher({ ...(pem ? { caBundlePem: pem } : {}), onCall }), issuerUrl, new Date());
    },
    tls: async (options = {}) => {
      const pem = caBundlePem();
      const { createTlsChainFetcher } = await import('../adapters/tls/fetcher.ts');
      const observed = await observer();
      observerValue ??= observed;
      const onCall = (operation: string, detail: string) => observed.onCall('tls', operation, detail);
      return createTlsChainFetcher({ ...(pem ? { caBundlePem: pem } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}), onCall });
    },
    retries: () => observerValue?.retries() ?? 0,
    throttles: () => countThrottles(observerValue?.retryCounts() ?? {}),
    calls: () => observerValue?.counts() ?? {},
  };
}
