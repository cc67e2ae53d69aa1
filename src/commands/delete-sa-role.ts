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
import { runPlan } from './run-plan.ts';
import { podServiceAccount } from '../core/credential-sources.ts';
import { workloadLabel } from '../core/migration.ts';
import type { Output } from '../ui/output.ts';

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
  const ctx = createCommandContext(globals, { clusterProfile: options['clusterProfile'] as string | undefined });

  const region = await ctx.region();
  const cluster = options['cluster'] as string | undefined;
  const issuerUrl = options['issuerUrl'] as string | undefined;
  const issuer = await resolveIssuer({ cluster, issuerUrl, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, tokenFor: { namespace, name }, writes: options['approve'] === true });
  const iam = await ctx.iam();
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
    retryCount: ctx.retries,
  });
}
