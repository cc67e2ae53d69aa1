// irsa delete-sa-role: remove a ServiceAccount from its role's trust, delete the role when nothing
// trusts it any more (irsa-owned roles only, unless --force), and unbind the ServiceAccount.

import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { planUnbinding } from '../core/binding.ts';
import { checkField, clusterLabel } from '../core/binding-input.ts';
import { roleNameFromAnnotation } from '../core/inventory.ts';
import { defaultRoleName } from '../core/names.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import { FLAG_TERMS, type BindingField } from '../core/terms.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { parseLockTimeout } from './trust-locks.ts';
import { runPlan } from './run-plan.ts';
import { podServiceAccount } from '../core/credential-sources.ts';
import { workloadLabel } from '../core/migration.ts';
import type { Output } from '../ui/output.ts';
import { planPodIdentityUnbinding } from '../core/mechanisms/pod-identity.ts';
import { roleNameOfArn } from '../core/pod-identity-inventory.ts';
import type { ClusterInfo } from '../core/state.ts';
import { findAssociation } from '../engine/executors/pod-identity-association.ts';
import { rolesOfTagsOffAssociations } from '../engine/pod-identity-reads.ts';
import type { IamGateway } from '../ports.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], output?: Output): Promise<number> {
  const globals = parseGlobals(options);
  const namespace = options['namespace'] as string | undefined;
  const name = options['name'] as string | undefined;
  if (!namespace || !name) throw new UserError('--namespace and --name are required: the ServiceAccount to unbind.', '--name');
  const givenRoleName = options['roleName'] as string | undefined;
  const fields: Array<[BindingField, string]> = [['namespace', namespace], ['name', name]];
  if (givenRoleName) fields.push(['roleName', givenRoleName]);
  const problems = fields.flatMap(([field, value]) => {
    const problem = checkField(field, value, FLAG_TERMS);
    return problem ? [`${FLAG_TERMS.name({ field })}: ${problem}`] : [];
  });
  if (problems.length === 1) throw new UserError(problems[0]!);
  if (problems.length > 1) throw new ValidationErrors(problems);
  const lockTimeoutMs = parseLockTimeout(options);
  const ctx = createCommandContext(globals, { clusterProfile: options['clusterProfile'] as string | undefined });

  const region = await ctx.region();
  const cluster = options['cluster'] as string | undefined;
  const issuerUrl = options['issuerUrl'] as string | undefined;
  const issuer = await resolveIssuer({ cluster, issuerUrl, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, tokenFor: { namespace, name }, writes: options['approve'] === true });
  const iam = await ctx.iam();
  if (options['mechanism'] === 'pod-identity') {
    return unbindPodIdentity({ options, globals, ctx, iam, cluster: issuer.cluster, namespace, name, givenRoleName, label: clusterLabel(cluster, issuerUrl), lockTimeoutMs, ...(output ? { output } : {}) });
  }
  const roleOnly = options['roleOnly'] === true;
  const kube = roleOnly ? null : await ctx.kube();
  const [account, serviceAccount] = await Promise.all([iam.accountId(), kube ? kube.getServiceAccount(namespace, name) : Promise.resolve(null)]);
  const annotated = serviceAccount?.annotations[ROLE_ARN_ANNOTATION];
  // The default name is the one create-sa-role gives (with --issuer-url: from the issuer's host).
  const roleName = givenRoleName ?? (annotated ? roleNameFromAnnotation(annotated) : null) ?? defaultRoleName(clusterLabel(cluster, issuerUrl), namespace, name);
  const role = await iam.getRole(roleName);
  const providerArn = oidcProviderArn(partitionForRegion(region), account, issuerHostPath(issuer.issuerUrl));

  // Workloads still running as the ServiceAccount (every kind that runs pods, not only restartable ones).
  const users =
    kube && serviceAccount
      ? (await (await ctx.workloads()).listPodTemplates(namespace)).filter((w) => podServiceAccount(w.template.spec) === name).map(workloadLabel)
      : [];
  const plan = planUnbinding({ cluster: clusterLabel(cluster, issuerUrl), namespace, name, roleName, force: options['force'] === true, roleOnly }, { providerArn, role, serviceAccount, users }, FLAG_TERMS);
  return runPlan(plan, {
    globals,
    ...(output ? { output } : {}),
    approve: options['approve'] === true,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam, ...(kube ? { kube } : {}) },
    ...(kube ? { leases: await ctx.leases() } : {}),
    lockTimeoutMs,
    retryCount: ctx.retries,
  });
}

/**
 * delete-sa-role --mechanism pod-identity: the ServiceAccount's EKS Pod Identity association (the
 * one irsa made), its role's pods.eks statement, and the ServiceAccount when irsa created it
 * (core/mechanisms/pod-identity.ts). The trust write runs under the role's Lease, as every trust
 * write does (engine/trust-lock.ts): EKS clusters always have a Kubernetes connection here.
 */
async function unbindPodIdentity(input: {
  options: Record<string, unknown>;
  globals: ReturnType<typeof parseGlobals>;
  ctx: ReturnType<typeof createCommandContext>;
  iam: IamGateway;
  cluster: ClusterInfo | null;
  namespace: string;
  name: string;
  givenRoleName: string | undefined;
  label: string;
  lockTimeoutMs: number;
  output?: Output;
}): Promise<number> {
  const { options, ctx, iam, cluster, namespace, name } = input;
  if (!cluster) throw new UserError('--mechanism pod-identity: EKS Pod Identity exists only on EKS clusters; give --cluster instead of --issuer-url.', '--mechanism');
  if (options['roleOnly'] === true) throw new UserError('--role-only: with --mechanism pod-identity the association is the binding; leave --role-only out.', '--role-only');
  const [podIdentity, kube] = await Promise.all([ctx.podIdentity(), ctx.kube()]);
  const [association, serviceAccount] = await Promise.all([
    findAssociation(podIdentity, { cluster: cluster.name, namespace, serviceAccount: name }),
    kube.getServiceAccount(namespace, name),
  ]);
  const roleName = input.givenRoleName ?? (association ? roleNameOfArn(association.roleArn) : null) ?? defaultRoleName(input.label, namespace, name);
  const role = await iam.getRole(roleName);
  const users = serviceAccount
    ? (await (await ctx.workloads()).listPodTemplates(namespace)).filter((w) => podServiceAccount(w.template.spec) === name).map(workloadLabel)
    : [];
  // Session tags off: the role's cluster-wide statement stays while another such association names it.
  const clusterWideStillUsed = association?.disableSessionTags
    ? (await rolesOfTagsOffAssociations(podIdentity, cluster.name, new Set([`${namespace}/${name}`]))).has(association.roleArn)
    : false;
  const plan = planPodIdentityUnbinding({ cluster: cluster.name, namespace, name, force: options['force'] === true }, { clusterArn: cluster.arn, association, role, serviceAccount, users, clusterWideStillUsed }, FLAG_TERMS);
  return runPlan(plan, {
    globals: input.globals,
    ...(input.output ? { output: input.output } : {}),
    approve: options['approve'] === true,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam, podIdentity, kube },
    leases: await ctx.leases(),
    lockTimeoutMs: input.lockTimeoutMs,
    retryCount: ctx.retries,
  });
}
