// Reads everything one binding's plan needs, concurrently, and hands it to the pure planner.
// Shared by create-sa-role and the wizard, so the same answers give the same plan either way.

import { partitionForRegion } from '../core/arn.ts';
import { bindingRoleArn, planBindings, type BindingsPlan, type BindingRequest } from '../core/binding.ts';
import type { RoleState, ServiceAccountState, WorkloadRef } from '../core/state.ts';
import { FLAG_TERMS, type Terms } from '../core/terms.ts';
import type { ClusterInfo } from '../core/state.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import type { IamGateway, KubeGateway, PodIdentityGateway } from '../ports.ts';
import type { PodIdentityObserved } from '../core/mechanisms/pod-identity.ts';
import { readPodIdentity, wantsPodIdentity, type AccountIam } from './pod-identity-reads.ts';
import { readRoles, readServiceAccounts } from './bulk-reads.ts';
import { readProviderForIssuer, type ProviderRead, type ThumbprintChoice } from './oidc.ts';

export interface BindingTarget {
  issuerUrl: string;
  /** The EKS cluster, or null for --issuer-url. */
  cluster: ClusterInfo | null;
  region: string;
  /** Account of the IAM credentials: the role and provider live here. */
  account: string;
  thumbprints: ThumbprintChoice;
}

export interface BindingReadDeps {
  iam: IamGateway;
  /** Null when Kubernetes is not touched (--role-only). */
  kube: KubeGateway | null;
  resolveThumbprints: (issuerUrl: string) => Promise<{ thumbprints: string[]; warnings: string[] }>;
  /** EKS Pod Identity (the cluster's credentials); opened only for a pod-identity binding. */
  podIdentity?: () => Promise<PodIdentityGateway>;
  /** IAM by account, for a cross-account target role (engine/pod-identity-reads.ts accountIams). */
  iamFor?: AccountIam;
}

/** What exists for one binding. */
export interface BindingObserved {
  role: RoleState | null;
  namespaceExists: boolean;
  serviceAccount: ServiceAccountState | null;
  workloads: WorkloadRef[];
}

export interface BindingReads {
  /** Null for a pod-identity binding: it needs no OIDC provider (none is read or planned). */
  provider: ProviderRead | null;
  /** Read only for a pod-identity binding (engine/pod-identity-reads.ts). */
  podIdentity?: PodIdentityObserved;
  observed: BindingObserved;
  /** Attached or boundary policy ARNs that iam:GetPolicy does not find (callers word the error). */
  missingPolicies: string[];
}

/** Every read happens here, concurrently; nothing is written. */
export async function readBinding(request: BindingRequest, target: BindingTarget, deps: BindingReadDeps): Promise<BindingReads> {
  const { iam, kube } = deps;
  const policies = [...request.policyArns, ...(request.permissionsBoundary ? [request.permissionsBoundary] : [])];
  const podIdentity = wantsPodIdentity([request]);
  const [provider, role, missingPolicies, namespaceExists, serviceAccount, workloads, podIdentityReads] = await Promise.all([
    podIdentity ? null : readProviderForIssuer(
      {
        issuerUrl: target.issuerUrl,
        clusterName: target.cluster?.name ?? null,
        region: target.region,
        account: target.account,
        thumbprints: target.thumbprints,
        audiences: [request.audience],
      },
      { iam, resolveThumbprints: deps.resolveThumbprints },
    ),
    // One role: the cost model always picks GetRole here (a bulk read would fetch the whole account).
    readRoles(iam, [request.roleName], { concurrency: 1 }).then((reads) => reads.roles.get(request.roleName) ?? null),
    Promise.all(policies.map(async (arn) => ((await iam.getPolicy(arn)) ? null : arn))).then((results) =>
      results.filter((arn): arn is string => arn !== null),
    ),
    kube ? kube.namespaceExists(request.namespace) : Promise.resolve(true),
    kube ? kube.getServiceAccount(request.namespace, request.name) : Promise.resolve(null),
    kube ? kube.listWorkloadsUsingServiceAccount(request.namespace, request.name) : Promise.resolve([]),
    podIdentity
      ? (async () => readPodIdentity(target.cluster && deps.podIdentity ? await deps.podIdentity() : null, { cluster: target.cluster, clusterLabel: request.cluster, region: target.region }, [{ namespace: request.namespace, name: request.name }], {
          ...(request.podIdentity?.targetRoleArn ? { targetRoleArns: [request.podIdentity.targetRoleArn] } : {}),
          ...(deps.iamFor ? { iamFor: deps.iamFor } : {}),
        }))()
      : Promise.resolve(undefined),
  ]);
  return { provider, observed: { role, namespaceExists, serviceAccount, workloads }, missingPolicies, ...(podIdentityReads ? { podIdentity: podIdentityReads } : {}) };
}

/** Pure: the binding plan for what readBinding saw (re-plannable without new reads). */
export function planBindingFromReads(
  request: BindingRequest,
  target: BindingTarget,
  reads: BindingReads,
  options: { prune: boolean; terms?: Terms; createOidc?: boolean; /** " Did you mean …?" for misspelt policy ARNs (engine/policy-suggestions.ts). */ missingHint?: string },
): BindingsPlan & { roleArn: string } {
  const terms = options.terms ?? FLAG_TERMS;
  const context = {
    partition: partitionForRegion(target.region),
    account: target.account,
    providerArn: reads.provider?.arn ?? '',
    issuerHostPath: issuerHostPath(target.issuerUrl),
    providerChange: null,
    ...(reads.podIdentity?.clusterArn ? { podIdentityClusterArn: reads.podIdentity.clusterArn } : {}),
    ...(target.cluster ? { clusterAccount: target.cluster.accountId } : {}),
  };
  const key = `${request.namespace}/${request.name}`;
  const binding = planBindings(
    [request],
    {
      context,
      roles: new Map([[request.roleName, reads.observed.role]]),
      namespaces: new Map([[request.namespace, reads.observed.namespaceExists]]),
      serviceAccounts: new Map([[key, reads.observed.serviceAccount]]),
      workloads: new Map([[key, reads.observed.workloads]]),
      clusterRoles: [],
      ...(reads.podIdentity ? { podIdentity: reads.podIdentity } : {}),
      ...(reads.missingPolicies.length > 0 ? { missingPolicies: { arns: reads.missingPolicies, hint: options.missingHint ?? '' } } : {}),
      ...(reads.provider ? { provider: { desired: reads.provider.desired, observed: reads.provider.observed } } : {}),
    },
    {
      mode: 'ensure',
      prune: options.prune,
      terms,
      // --no-create-oidc: the planner blocks a plan that would create the provider.
      ...(reads.provider && options.createOidc === false
        ? { requireProvider: { issuerUrl: target.issuerUrl, associateWith: target.cluster ? `--cluster ${target.cluster.name} --region ${target.region}` : `--issuer-url ${target.issuerUrl}` } }
        : {}),
    },
  );
  binding.plan.warnings.push(...(reads.podIdentity?.warnings ?? []));
  binding.plan.warnings.push(...(reads.provider?.warnings ?? []));
  return { ...binding, roleArn: bindingRoleArn(request, context) };
}

/** What many bindings of one cluster need, read once for all of them (readBindings). */
export interface ManyBindingsReads {
  /** Null when every binding is pod-identity (no OIDC provider is read or planned). */
  provider: ProviderRead | null;
  podIdentity?: PodIdentityObserved;
  /** By role name; null when the role does not exist. */
  roles: Map<string, RoleState | null>;
  namespaces: Map<string, boolean>;
  /** By `namespace/name`. */
  serviceAccounts: Map<string, ServiceAccountState | null>;
  /** By `namespace/name` of the ServiceAccount. */
  workloads: Map<string, WorkloadRef[]>;
  missingPolicies: string[];
}

/**
 * readBinding for many bindings of one cluster (irsa migrate): the same reads, made once for all of
 * them instead of once each — roles and ServiceAccounts through bulk-reads.ts's cost model, one
 * workload listing per namespace, the cluster's EKS Pod Identity state and the OIDC provider once.
 * At 100 ServiceAccounts that is a handful of round trips instead of a few hundred calls.
 */
export async function readBindings(
  requests: BindingRequest[],
  target: BindingTarget,
  deps: BindingReadDeps & {
    concurrency: number;
    /** ServiceAccounts the caller has read already, by `namespace/name`. */
    serviceAccounts?: Map<string, ServiceAccountState | null>;
    /** The roles are read once this settles (their trust locks taken first); everything else starts at once. */
    rolesAfter?: Promise<unknown>;
  },
): Promise<ManyBindingsReads> {
  const { iam, kube, concurrency } = deps;
  const keyOf = (r: BindingRequest) => `${r.namespace}/${r.name}`;
  const namespaces = [...new Set(requests.map((r) => r.namespace))];
  const policies = [...new Set(requests.flatMap((r) => [...r.policyArns, ...(r.permissionsBoundary ? [r.permissionsBoundary] : [])]))];
  const irsaRequests = requests.filter((r) => r.mechanism !== 'pod-identity');
  const podIdentityRequests = requests.filter((r) => r.mechanism === 'pod-identity');
  const known = deps.serviceAccounts ?? new Map<string, ServiceAccountState | null>();
  const unread = requests.map(keyOf).filter((key) => !known.has(key));
  const [provider, roles, missingPolicies, namespaceStates, serviceAccounts, listed, podIdentity] = await Promise.all([
    irsaRequests.length === 0 ? null : readProviderForIssuer(
      {
        issuerUrl: target.issuerUrl,
        clusterName: target.cluster?.name ?? null,
        region: target.region,
        account: target.account,
        thumbprints: target.thumbprints,
        audiences: [...new Set(irsaRequests.map((r) => r.audience))],
      },
      { iam, resolveThumbprints: deps.resolveThumbprints },
    ),
    Promise.resolve(deps.rolesAfter).then(() => readRoles(iam, requests.map((r) => r.roleName), { concurrency })).then((reads) => reads.roles),
    Promise.all(policies.map(async (arn) => ((await iam.getPolicy(arn)) ? null : arn))).then((results) => results.filter((arn): arn is string => arn !== null)),
    kube ? Promise.all(namespaces.map(async (ns) => [ns, await kube.namespaceExists(ns)] as const)) : namespaces.map((ns) => [ns, true] as const),
    kube && unread.length > 0 ? readServiceAccounts(kube, unread, { concurrency }) : new Map<string, ServiceAccountState | null>(),
    kube ? Promise.all(namespaces.map((ns) => kube.listWorkloads(ns))) : [],
    podIdentityRequests.length === 0
      ? undefined
      : (async () => readPodIdentity(target.cluster && deps.podIdentity ? await deps.podIdentity() : null, { cluster: target.cluster, clusterLabel: requests[0]!.cluster, region: target.region },
          podIdentityRequests.map((r) => ({ namespace: r.namespace, name: r.name })), {
            concurrency,
            targetRoleArns: podIdentityRequests.flatMap((r) => (r.podIdentity?.targetRoleArn ? [r.podIdentity.targetRoleArn] : [])),
            ...(deps.iamFor ? { iamFor: deps.iamFor } : {}),
          }))(),
  ]);
  const workloads = new Map<string, WorkloadRef[]>(requests.map((r) => [keyOf(r), []]));
  for (const workload of listed.flat()) {
    const key = `${workload.namespace}/${workload.serviceAccount}`;
    workloads.get(key)?.push({ kind: workload.kind, namespace: workload.namespace, name: workload.name });
  }
  return {
    provider,
    roles,
    namespaces: new Map(namespaceStates),
    serviceAccounts: new Map(requests.map((r) => [keyOf(r), known.get(keyOf(r)) ?? serviceAccounts.get(keyOf(r)) ?? null])),
    workloads,
    missingPolicies,
    ...(podIdentity ? { podIdentity } : {}),
  };
}
