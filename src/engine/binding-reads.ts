// Reads everything one binding's plan needs, concurrently, and hands it to the pure planner.
// Shared by create-sa-role and the wizard, so the same answers give the same plan either way.

import { partitionForRegion } from '../core/arn.ts';
import { planBinding, type BindingObserved, type BindingPlan, type BindingRequest } from '../core/binding.ts';
import type { ClusterInfo } from '../core/state.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import type { IamGateway, KubeGateway } from '../ports.ts';
import { readRoles } from './bulk-reads.ts';
import { planProviderForIssuer, type ProviderPlanResult, type ThumbprintChoice } from './oidc.ts';

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
}

export interface BindingReads {
  provider: ProviderPlanResult;
  observed: BindingObserved;
  /** Attached or boundary policy ARNs that iam:GetPolicy does not find (callers word the error). */
  missingPolicies: string[];
}

/** Every read happens here, concurrently; nothing is written. */
export async function readBinding(request: BindingRequest, target: BindingTarget, deps: BindingReadDeps): Promise<BindingReads> {
  const { iam, kube } = deps;
  const policies = [...request.policyArns, ...(request.permissionsBoundary ? [request.permissionsBoundary] : [])];
  const [provider, role, missingPolicies, namespaceExists, serviceAccount, workloads] = await Promise.all([
    planProviderForIssuer(
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
  ]);
  return { provider, observed: { role, namespaceExists, serviceAccount, workloads }, missingPolicies };
}

/** Pure: the binding plan for what readBinding saw (re-plannable without new reads). */
export function planBindingFromReads(request: BindingRequest, target: BindingTarget, reads: BindingReads): BindingPlan {
  const binding = planBinding(
    request,
    {
      partition: partitionForRegion(target.region),
      account: target.account,
      providerArn: reads.provider.arn,
      issuerHostPath: issuerHostPath(target.issuerUrl),
      providerChange: reads.provider.change,
    },
    reads.observed,
  );
  binding.plan.warnings.push(...reads.provider.warnings);
  if (target.cluster && target.cluster.accountId !== target.account) {
    binding.plan.notes.push(`The cluster is in account ${target.cluster.accountId}; the role and its OIDC provider go to account ${target.account}.`);
  }
  return binding;
}
