// irsa list: every ServiceAccount with a role annotation, with the health of its binding.

import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { inventoryRows, roleNameFromAnnotation } from '../core/inventory.ts';
import { assertNamespace } from '../core/names.ts';
import { restartCount } from '../core/pod-identity.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import type { RoleState } from '../core/state.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import { lintTrust } from '../core/trust-lint.ts';
import { readRoles } from '../engine/bulk-reads.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { createCommandContext } from './context.ts';
import { renderListTable, type ListRow } from '../ui/list.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { parseGlobals } from './globals.ts';
import type { CommandContext } from './context.ts';
import { podIdentityRows, roleNameOfArn } from '../core/pod-identity-inventory.ts';
import type { PodIdentityAssociationState } from '../core/resources/pod-identity-association.ts';

/**
 * The cluster's EKS Pod Identity associations (one List, one Describe each: the list carries no
 * role). When they cannot be read, IRSA bindings are still listed and the gap is said.
 */
async function readAssociations(ctx: CommandContext, cluster: string, namespace: string | undefined, output: Output): Promise<PodIdentityAssociationState[]> {
  try {
    const gateway = await ctx.podIdentity();
    const listed = await gateway.listAssociations(cluster, namespace ? { namespace } : {});
    const described = await Promise.all(listed.map((a) => gateway.describeAssociation(cluster, a.associationId)));
    return described.filter((a): a is PodIdentityAssociationState => a !== null);
  } catch (error) {
    output.err(`Warning: the EKS Pod Identity associations of ${cluster} could not be read (${(error as Error).message.split('\n')[0]}); only IRSA bindings are listed.\n`);
    return [];
  }
}

export async function run(options: Record<string, unknown>, _args: string[] = [], outputArg?: Output): Promise<number> {
  const output = outputArg ?? createOutput(options);
  const globals = parseGlobals(options);
  const namespace = options['namespace'] as string | undefined;
  if (namespace) assertNamespace(namespace);
  const ctx = createCommandContext(globals, { clusterProfile: options['clusterProfile'] as string | undefined });
  const region = await ctx.region();
  const issuer = await resolveIssuer(
    { cluster: options['cluster'] as string | undefined, issuerUrl: options['issuerUrl'] as string | undefined, region },
    ctx.clusters,
  );
  ctx.expectCluster({ ...issuer, writes: false });
  const [iam, kube] = await Promise.all([ctx.iam(), ctx.kube()]);
  const [account, serviceAccounts, associations] = await Promise.all([
    iam.accountId(),
    kube.listServiceAccounts(namespace),
    issuer.cluster ? readAssociations(ctx, issuer.cluster.name, namespace, output) : Promise.resolve([]),
  ]);
  const providerArn = oidcProviderArn(partitionForRegion(region), account, issuerHostPath(issuer.issuerUrl));
  const roleNames = [
    ...new Set([
      ...serviceAccounts
        .map((sa) => sa.annotations[ROLE_ARN_ANNOTATION])
        .filter((arn): arn is string => !!arn)
        .map(roleNameFromAnnotation)
        .filter((n): n is string => !!n),
      ...associations.map((a) => roleNameOfArn(a.roleArn)).filter((n): n is string => !!n),
    ]),
  ];
  const [provider, roleReads] = await Promise.all([
    iam.getOidcProvider(providerArn),
    // GetRole each for a handful of roles, GetAccountAuthorizationDetails for many (engine/bulk-reads.ts).
    readRoles(iam, roleNames, { concurrency: 16 }),
  ]);
  const roles = [...roleReads.roles];
  const associated = new Set(associations.map((a) => `${a.namespace}/${a.serviceAccount}`));
  const inventory = [
    // A role-arn annotation beside an association is unused: EKS Pod Identity takes precedence (the webhook injects its credentials instead).
    ...inventoryRows({ serviceAccounts, roles: new Map(roles), issuerUrl: issuer.issuerUrl, providerArn, providerExists: !!provider }).map((row) =>
      associated.has(`${row.namespace}/${row.serviceAccount}`) ? { ...row, problem: row.problem ?? 'unused: the ServiceAccount has an EKS Pod Identity association, which takes precedence over the role-arn annotation' } : row,
    ),
    ...(issuer.cluster ? podIdentityRows({ associations, clusterArn: issuer.cluster.arn, roles: new Map(roles), serviceAccounts }) : []),
  ].sort((a, b) => `${a.namespace}/${a.serviceAccount}/${a.mechanism}`.localeCompare(`${b.namespace}/${b.serviceAccount}/${b.mechanism}`));
  // Mark roles with trust-lint findings (irsa audit --iam has the account-wide view and the fixes).
  const lint = lintTrust({ roles: roles.map(([, role]) => role).filter((role): role is RoleState => !!role), providerArns: await iam.listOidcProviderArns(), unreachableIssuers: new Map() });
  let rows: ListRow[] = inventory.map((row) => ({ ...row, trustFindings: lint.findings.filter((f) => f.roleArn === row.roleArn).map((f) => `${f.severity} ${f.rule}`) }));
  // --pods: one LIST pods per namespace that has bindings (the documented cost), judged in core.
  if (options['pods'] === true) {
    const namespaces = [...new Set(rows.map((row) => row.namespace))];
    const pods = new Map(await Promise.all(namespaces.map(async (ns) => [ns, await kube.listPods(ns)] as const)));
    rows = rows.map((row) => {
      const sa = serviceAccounts.find((s) => s.namespace === row.namespace && s.name === row.serviceAccount);
      const mine = (pods.get(row.namespace) ?? []).filter((pod) => pod.serviceAccountName === row.serviceAccount);
      // Restart counts judge the role-arn annotation (IRSA); a Pod Identity row's pods are not counted here.
      return row.mechanism === 'irsa' ? { ...row, ...restartCount(row.roleArn, sa?.annotations ?? {}, mine) } : row;
    });
  }
  if (globals.output === 'json') {
    output.json({ providerArn, providerExists: !!provider, bindings: rows });
  } else {
    output.out(renderListTable(rows, output.color));
  }
  return 0;
}
