// Reads everything a declarative plan needs, concurrently and with a bound, then plans in core.
// How roles and ServiceAccounts are read (bulk or one by one) is bulk-reads.ts's cost model.

import { partitionForRegion } from '../core/arn.ts';
import { groupByRole, planBindings, pruneSubjects, type BindingContext, type BindingsObserved, type BindingsPlan } from '../core/binding.ts';
import { configTerms } from '../core/terms.ts';
import type { ServiceAccountState, WorkloadRef } from '../core/state.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import type { IrsaConfig } from '../config/load.ts';
import type { ClusterReader, IamGateway, KubeGateway, PodIdentityGateway, WorkloadGateway } from '../ports.ts';
import { prefetchMigrationReads, readForMigrations, type MigrationReads } from './migration.ts';
import { readPodIdentity, wantsPodIdentity, type AccountIam } from './pod-identity-reads.ts';
import { readProviderForIssuer, resolveIssuer } from './oidc.ts';
import { missingPolicyHint } from './policy-suggestions.ts';
import { readRoles, readServiceAccounts, type RoleReadStrategy } from './bulk-reads.ts';
import pMap from 'p-map';
import { planBindingAccess, type AccountGateways } from './access.ts';

export interface DeclarativeDeps {
  region: string;
  clusters: () => Promise<ClusterReader>;
  iam: IamGateway;
  kube: () => Promise<KubeGateway>;
  resolveThumbprints: (issuerUrl: string) => Promise<{ thumbprints: string[]; warnings: string[] }>;
  concurrency: number;
  /** Forces how observed state is read (tests compare both ways); the cost model decides otherwise. */
  reads?: { roles: RoleReadStrategy; serviceAccounts: 'list' | 'get' };
  /** Secrets Manager / KMS gateways by account, for access requests (engine/access.ts). */
  accessGateways?: (homeAccount: string) => AccountGateways;
  /** EKS Pod Identity (the cluster's credentials); opened only when a binding uses it. */
  podIdentity?: () => Promise<PodIdentityGateway>;
  /** Pod templates for the migrations (engine/migration.ts): their reads start beside the workload listing. */
  workloads?: () => Promise<WorkloadGateway>;
  /** IAM by account (a cross-account Pod Identity target role), given the IAM credentials' account. */
  iamFor?: (homeAccount: string) => AccountIam;
}

/** Up to this many namespaces, their workload and migration reads start beside the ServiceAccount reads. */
const SPECULATIVE_NAMESPACES = 4;

export async function readAndPlanDeclarative(
  config: IrsaConfig,
  deps: DeclarativeDeps,
  options: { prune: boolean; prefetch?: boolean },
): Promise<BindingsPlan & { needsKube: boolean; crossAccount: boolean; migrationReads?: Promise<MigrationReads> }> {
  const { iam, concurrency } = deps;
  const partition = partitionForRegion(deps.region);
  const needsKube = config.bindings.some((binding) => !binding.roleOnly);
  const namespaces = [...new Set(config.bindings.filter((b) => !b.roleOnly).map((b) => b.namespace))];
  const saKeys = config.bindings.filter((b) => !b.roleOnly).map((b) => `${b.namespace}/${b.name}`);
  const roleNames = groupByRole(config.bindings).map((group) => group.roleName);
  const allPolicyArns = [...new Set(config.bindings.flatMap((b) => [...b.policyArns, ...(b.permissionsBoundary ? [b.permissionsBoundary] : [])]))];

  // Everything that does not need the issuer or the account starts at once: at 100 ms per call the
  // plan's wall time is its longest chain of dependent calls, not the number of calls.
  const issuerAndAccount = Promise.all([
    resolveIssuer(
      config.cluster.issuerUrl ? { issuerUrl: config.cluster.issuerUrl, region: deps.region } : { cluster: config.cluster.name, region: deps.region },
      deps.clusters,
    ),
    iam.accountId(),
  ]);
  const rolesRead = readRoles(iam, roleNames, { concurrency, accountScan: { clusterName: config.cluster.name }, ...(deps.reads ? { strategy: deps.reads.roles } : {}) });
  const policiesRead = pMap(allPolicyArns, async (arn) => ((await iam.getPolicy(arn)) ? null : arn), { concurrency });
  // The Kubernetes client is large to load (a few hundred ms of compiling, which blocks the event
  // loop): load it once the first AWS reply is in, so the AWS requests are already on the wire and
  // the load overlaps the next round trip instead of delaying the first one.
  const firstAwsReply = Promise.race([issuerAndAccount, rolesRead, ...(allPolicyArns.length > 0 ? [policiesRead] : [])]).then(() => undefined, () => undefined);
  const kubeReady = needsKube ? firstAwsReply.then(() => deps.kube()) : Promise.resolve(null);
  // When applying a file of a few namespaces, their workloads and the migrations' inputs are read
  // beside the ServiceAccounts instead of after the first planning pass: one round trip less for a
  // few lists a converged plan does not use (errors of an unused read are ignored). A plan without
  // --approve, or many namespaces: after the first pass, only where something changes.
  const speculate = options.prefetch === true && needsKube && namespaces.length > 0 && namespaces.length <= SPECULATIVE_NAMESPACES;
  const workloadsEarly = speculate
    ? new Map(namespaces.map((ns) => {
        const listed = kubeReady.then((kube) => kube!.listWorkloads(ns));
        listed.catch(() => {}); // used (and its error reported) only if the plan needs it
        return [ns, listed] as const;
      }))
    : null;
  const migrationEarly = speculate && deps.workloads ? prefetchMigrationReads(kubeReady.then(() => deps.workloads!()), namespaces) : undefined;
  // Pod Identity bindings need no OIDC provider; a file of only those plans none.
  const podIdentityBindings = config.bindings.filter((b) => b.mechanism === 'pod-identity' && !b.roleOnly);
  const needsProvider = config.bindings.some((b) => b.mechanism !== 'pod-identity');
  const [[issuer, account], provider, roleReads, missingPolicies, namespaceStates, serviceAccounts, kube, podIdentity] = await settleInOrder([
    issuerAndAccount,
    config.manageOidcProvider && needsProvider
      ? issuerAndAccount.then(([issuer, account]) =>
          readProviderForIssuer(
            {
              issuerUrl: issuer.issuerUrl,
              clusterName: config.cluster.name,
              region: deps.region,
              account,
              thumbprints: { given: config.thumbprints, none: config.noThumbprint === true },
              audiences: [...new Set(config.bindings.map((b) => b.audience))],
            },
            { iam, resolveThumbprints: deps.resolveThumbprints },
          ),
        )
      : null,
    rolesRead,
    policiesRead,
    kubeReady.then((kube) => (kube ? pMap(namespaces, async (ns) => [ns, await kube.namespaceExists(ns)] as const, { concurrency }) : [])),
    kubeReady.then((kube) => (kube ? readServiceAccounts(kube, saKeys, { concurrency, ...(deps.reads ? { strategy: deps.reads.serviceAccounts } : {}) }) : new Map<string, ServiceAccountState | null>())),
    kubeReady,
    wantsPodIdentity(config.bindings)
      ? issuerAndAccount.then(async ([issuer, account]) =>
          readPodIdentity(
            issuer.cluster && deps.podIdentity ? await deps.podIdentity() : null,
            { cluster: issuer.cluster, clusterLabel: config.cluster.name, region: deps.region },
            podIdentityBindings.map((b) => ({ namespace: b.namespace, name: b.name })),
            {
              concurrency,
              targetRoleArns: podIdentityBindings.flatMap((b) => (b.podIdentity?.targetRoleArn ? [b.podIdentity.targetRoleArn] : [])),
              ...(deps.iamFor ? { iamFor: deps.iamFor(account) } : {}),
            },
          ),
        )
      : undefined,
  ]);
  const clusterRoles = roleReads.clusterRoles;
  const missing = missingPolicies.filter((arn): arn is string => arn !== null);
  // A misspelt policy ARN: the policy it was probably meant to be (listed only on this path).
  const missingHint = missing.length > 0 ? await missingPolicyHint(iam, missing) : '';
  const providerArn = provider?.arn ?? `arn:${partition}:iam::${account}:oidc-provider/${issuerHostPath(issuer.issuerUrl)}`;
  const context: BindingContext = {
    partition,
    account,
    providerArn,
    issuerHostPath: issuerHostPath(issuer.issuerUrl),
    // Planned by planBindings from observed.provider.
    providerChange: null,
    ...(podIdentity?.clusterArn ? { podIdentityClusterArn: podIdentity.clusterArn } : {}),
    ...(issuer.cluster?.accountId ? { clusterAccount: issuer.cluster.accountId } : {}),
  };
  // ServiceAccounts that a prune would unbind are read too.
  const extraSaKeys = options.prune && kube ? pruneSubjects(clusterRoles, providerArn).filter((key) => !saKeys.includes(key)) : [];
  const extraSas = kube && extraSaKeys.length > 0 ? await readServiceAccounts(kube, extraSaKeys, { concurrency, ...(deps.reads ? { strategy: deps.reads.serviceAccounts } : {}) }) : new Map<string, ServiceAccountState | null>();
  const observed: BindingsObserved = {
    context,
    roles: roleReads.roles,
    namespaces: new Map(namespaceStates),
    serviceAccounts: new Map<string, ServiceAccountState | null>([...serviceAccounts, ...extraSas]),
    workloads: new Map(),
    clusterRoles,
    ...(podIdentity ? { podIdentity } : {}),
    ...(provider ? { provider: { desired: provider.desired, observed: provider.observed } } : {}),
  };
  const terms = configTerms(config.file);
  // Access requests: their documents in each account, and each role's irsa-access policy (set on the bindings before planning).
  const access = await planBindingAccess(config.bindings, roleReads.roles, context, {
    gateways: deps.accessGateways,
    concurrency,
    field: (index) => terms.name({ field: 'access', binding: index }),
    ...(options.prune ? { deletedRoles: clusterRoles } : {}),
  });
  if (missing.length > 0) observed.missingPolicies = { arns: missing, hint: missingHint };
  const planOptions = { mode: 'exact' as const, prune: options.prune, clusterName: config.cluster.name, terms, file: config.file };
  const plan = () => planBindings(config.bindings, observed, planOptions);
  let result = plan();
  // The migrations' reads depend only on which ServiceAccounts are annotated, which this first
  // pass already knows: they run beside the workload listing below instead of after it.
  const firstPass = result.plan;
  const migrationReads = kube && deps.workloads ? deps.workloads().then((gateway) => readForMigrations(firstPass, config.bindings, gateway, concurrency, migrationEarly)) : undefined;
  migrationReads?.catch(() => {}); // awaited (and reported) by addMigrations
  // Workloads matter only where an annotation changes: read those, then plan again (pure, cheap).
  if (kube && result.changedServiceAccounts.length > 0) {
    const changedNamespaces = [...new Set(result.changedServiceAccounts.map((ref) => ref.namespace))];
    const perNamespace = await pMap(changedNamespaces, async (ns) => [ns, await (workloadsEarly?.get(ns) ?? kube.listWorkloads(ns))] as const, { concurrency });
    const workloads = new Map<string, WorkloadRef[]>();
    for (const [, list] of perNamespace) {
      for (const workload of list) {
        const key = `${workload.namespace}/${workload.serviceAccount}`;
        workloads.set(key, [...(workloads.get(key) ?? []), { kind: workload.kind, namespace: workload.namespace, name: workload.name }]);
      }
    }
    observed.workloads = workloads;
    result = plan();
  }
  if (access) {
    result.plan.changes.push(...access.changes);
    result.plan.blockers.push(...access.blockers);
    result.plan.notes.push(...access.notes);
  }
  if (provider) result.plan.warnings.push(...provider.warnings);
  if (podIdentity) result.plan.warnings.push(...(podIdentity.warnings ?? []));
  if (roleReads.fallback) result.plan.notes.push(roleReads.fallback);
  // Cross-account (cluster.profile and iam.profile in different accounts): say where each change goes.
  const clusterElsewhere = !!issuer.cluster && !!issuer.cluster.accountId && issuer.cluster.accountId !== account;
  // Access requests put documents in other accounts too: then every change shows its account.
  const crossAccount = clusterElsewhere || !!access?.changes.some((change) => change.account !== account);
  // (The planner says so in the plan's notes: core/binding.ts.)
  return { ...result, needsKube, crossAccount, ...(migrationReads ? { migrationReads } : {}) };
}

/**
 * Promise.all, except that when several reads fail the error reported is the earliest in the list,
 * not the quickest: the reads run side by side, but a wrong cluster name is still reported before
 * the Kubernetes or IAM errors that follow from it.
 */
async function settleInOrder<P extends readonly unknown[]>(promises: readonly [...P]): Promise<{ -readonly [K in keyof P]: Awaited<P[K]> }> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  // All fulfilled: Promise.all only collects the values, typed per position.
  return Promise.all(promises);
}
