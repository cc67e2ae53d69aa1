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
import { readRoles } from './bulk-reads.ts';
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
