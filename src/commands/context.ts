// Builds the adapters a command needs from the global options, importing each SDK only when
// first used so commands that do not need Kubernetes never load its client.

import { readFileSync, writeFileSync } from 'node:fs';
import { assertRegion } from '../core/arn.ts';
import { UserError } from '../core/errors.ts';
import type { ClusterReader, IamGateway, KubeGateway, KubeInspector, StsGateway, TlsChainFetcher } from '../ports.ts';
import type { GlobalOptions } from './globals.ts';
import { countThrottles } from '../engine/adaptive-limit.ts';

export interface CommandContext {
  globals: GlobalOptions;
  region(): Promise<string>;
  clusters(): Promise<ClusterReader>;
  iam(): Promise<IamGateway>;
  sts(): Promise<StsGateway>;
  kube(): Promise<KubeGateway>;
  /** Read-only Kubernetes inspection for doctor and audit (Secrets, webhooks, pod templates). */
  inspector(): Promise<KubeInspector>;
  resolveThumbprints(issuerUrl: string): Promise<{ thumbprints: string[]; warnings: string[] }>;
  /** Discovery and certificate fetches over verified TLS (proxy-aware), e.g. with a shorter timeout. */
  tls(options?: { timeoutMs?: number }): Promise<TlsChainFetcher>;
  /** Retries made by the SDKs and the consistency retry, for the apply report. */
  retries(): number;
  /** Of those, retries after a throttling reply (the apply's concurrency adapts to them). */
  throttles(): number;
  calls(): Record<string, number>;
}

const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
};

export function createCommandContext(
  globals: GlobalOptions,
  extra: { caBundle?: string; clusterProfile?: string } = {},
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
    return createAwsContext({ region: globals.region, profile: globals.profile, observer: observerValue });
  });
  // Cross-account: the cluster may be read with other credentials than IAM is written with.
  const clusterAws = once(async () => {
    if (!extra.clusterProfile) return aws();
    const { createAwsContext } = await import('../adapters/aws/clients.ts');
    observerValue = await observer();
    return createAwsContext({ region: globals.region, profile: extra.clusterProfile, observer: observerValue });
  });
  const caBundlePem = () => {
    if (!extra.caBundle) return undefined;
    try {
      return readFileSync(extra.caBundle, 'utf8');
    } catch (error) {
      throw new UserError(`--ca-bundle: cannot read "${extra.caBundle}" (${(error as Error).message}). Give a PEM file of CA certificates.`, '--ca-bundle');
    }
  };
  return {
    globals,
    region: async () => {
      // A region from AWS_REGION or the profile is checked like --region, before any call uses it.
      const region = await (await aws()).region();
      assertRegion(region, globals.region ? '--region' : 'region (from AWS_REGION or the AWS profile)');
      return region;
    },
    clusters: async () => {
      const reader = await (await clusterAws()).eks();
      // Cross-account: with only --profile the cluster is looked up in the role's account.
      if (globals.profile && !extra.clusterProfile) {
        return Object.assign(Object.create(reader) as ClusterReader, {
          lookupHint: `It was looked up with --profile ${globals.profile}; if the cluster is in another account than the role, pass --cluster-profile <a profile of the cluster's account>.`,
        });
      }
      return reader;
    },
    iam: async () => (await aws()).iam(),
    sts: async () => (await aws()).sts(),
    kube: once(async () => {
      const { createKubeGateway } = await import('../adapters/k8s/kube.ts');
      observerValue = await observer();
      return createKubeGateway({ kubeconfig: globals.kubeconfig, context: globals.context, observer: observerValue });
    }),
    inspector: once(async () => {
      const { createKubeInspector } = await import('../adapters/k8s/inspect.ts');
      observerValue = await observer();
      return createKubeInspector({ kubeconfig: globals.kubeconfig, context: globals.context, observer: observerValue });
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
