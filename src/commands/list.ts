// irsa list: every ServiceAccount with a role annotation, with the health of its binding.

import { Chalk } from 'chalk';
import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { inventoryRows, roleNameFromAnnotation, type BindingRow } from '../core/inventory.ts';
import { assertNamespace } from '../core/names.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import type { RoleState } from '../core/state.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import { lintTrust } from '../core/trust-lint.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';

export async function run(options: Record<string, unknown>): Promise<number> {
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
  const [account, serviceAccounts] = await Promise.all([iam.accountId(), kube.listServiceAccounts(namespace)]);
  const providerArn = oidcProviderArn(partitionForRegion(region), account, issuerHostPath(issuer.issuerUrl));
  const roleNames = [
    ...new Set(
      serviceAccounts
        .map((sa) => sa.annotations[ROLE_ARN_ANNOTATION])
        .filter((arn): arn is string => !!arn)
        .map(roleNameFromAnnotation)
        .filter((n): n is string => !!n),
    ),
  ];
  const [provider, roles] = await Promise.all([
    iam.getOidcProvider(providerArn),
    Promise.all(roleNames.map(async (roleName) => [roleName, await iam.getRole(roleName)] as [string, RoleState | null])),
  ]);
  const inventory = inventoryRows({ serviceAccounts, roles: new Map(roles), issuerUrl: issuer.issuerUrl, providerArn, providerExists: !!provider });
  // Mark roles with trust-lint findings (irsa audit --iam has the account-wide view and the fixes).
  const lint = lintTrust({ roles: roles.map(([, role]) => role).filter((role): role is RoleState => !!role), providerArns: await iam.listOidcProviderArns(), unreachableIssuers: new Map() });
  const rows: ListRow[] = inventory.map((row) => ({ ...row, trustFindings: lint.findings.filter((f) => f.roleArn === row.roleArn).map((f) => `${f.severity} ${f.rule}`) }));
  if (globals.output === 'json') {
    process.stdout.write(JSON.stringify({ providerArn, providerExists: !!provider, bindings: rows }, null, 2) + '\n');
  } else {
    process.stdout.write(renderTable(rows, globals.color));
  }
  return 0;
}

type ListRow = BindingRow & { trustFindings: string[] };

function renderTable(rows: ListRow[], color: boolean): string {
  const c = new Chalk({ level: color ? 1 : 0 });
  if (rows.length === 0) return 'No ServiceAccount carries an eks.amazonaws.com/role-arn annotation.\n';
  const yesNo = (value: boolean) => (value ? 'yes' : 'NO');
  const header = ['NAMESPACE', 'SERVICEACCOUNT', 'ROLE', 'ROLE EXISTS', 'TRUST OK', 'PROVIDER', 'OWNER', 'TRUST LINT'];
  const cells = rows.map((row) => [
    row.namespace,
    row.serviceAccount,
    row.roleArn,
    yesNo(row.roleExists),
    row.trustVerdict === 'cannot-decide' ? '?' : yesNo(row.trustAdmits),
    yesNo(row.providerExists),
    row.owner,
    row.trustFindings.length === 0 ? '-' : [...new Set(row.trustFindings.map((f) => f.split(' ')[0]))].join(','),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [c.bold(line(header))];
  rows.forEach((row, index) => {
    const text = line(cells[index]!);
    out.push(row.problem ? c.red(text) : text);
  });
  const problems = rows.filter((row) => row.problem);
  if (problems.length > 0) {
    out.push('', ...problems.map((row) => c.yellow(`${row.namespace}/${row.serviceAccount}: ${row.problem}`)));
  }
  const linted = rows.filter((row) => row.trustFindings.length > 0);
  if (linted.length > 0) {
    out.push('', ...linted.map((row) => c.yellow(`${row.namespace}/${row.serviceAccount}: trust lint of its role: ${row.trustFindings.join(', ')} (irsa audit --iam shows the statements and fixes)`)));
  }
  return out.join('\n') + '\n';
}
