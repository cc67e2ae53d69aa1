// irsa delete-sa-role: remove a ServiceAccount from its role's trust, delete the role when nothing
// trusts it any more (irsa-owned roles only, unless --force), and unbind the ServiceAccount.

import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { emptyPlan, changeKey } from '../core/plan.ts';
import { roleNameFromAnnotation } from '../core/inventory.ts';
import { assertNamespace, assertRoleName, assertServiceAccountName, defaultRoleName } from '../core/names.ts';
import { planRoleUnbinding } from '../core/resources/iam-role.ts';
import { planServiceAccountRemoval, ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import { serviceAccountSubject } from '../core/trust-policy.ts';
import { UserError } from '../core/errors.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { runPlan } from './run-plan.ts';
import { podServiceAccount } from '../core/credential-sources.ts';
import { serviceAccountUsers, workloadLabel } from '../core/migration.ts';
import type { Output } from '../ui/output.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], output?: Output): Promise<number> {
  const globals = parseGlobals(options);
  const namespace = options['namespace'] as string | undefined;
  const name = options['name'] as string | undefined;
  if (!namespace || !name) throw new UserError('--namespace and --name are required: the ServiceAccount to unbind.', '--name');
  assertNamespace(namespace);
  assertServiceAccountName(name);
  const givenRoleName = options['roleName'] as string | undefined;
  if (givenRoleName) assertRoleName(givenRoleName);
  const ctx = createCommandContext(globals, { clusterProfile: options['clusterProfile'] as string | undefined });

  const region = await ctx.region();
  const cluster = options['cluster'] as string | undefined;
  const issuer = await resolveIssuer({ cluster, issuerUrl: options['issuerUrl'] as string | undefined, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, tokenFor: { namespace, name }, writes: options['approve'] === true });
  const iam = await ctx.iam();
  const roleOnly = options['roleOnly'] === true;
  const kube = roleOnly ? null : await ctx.kube();
  const [account, serviceAccount] = await Promise.all([iam.accountId(), kube ? kube.getServiceAccount(namespace, name) : Promise.resolve(null)]);
  const annotated = serviceAccount?.annotations[ROLE_ARN_ANNOTATION];
  const roleName = givenRoleName ?? (annotated ? roleNameFromAnnotation(annotated) : null) ?? defaultRoleName(cluster ?? 'cluster', namespace, name);
  const role = await iam.getRole(roleName);
  const providerArn = oidcProviderArn(partitionForRegion(region), account, issuerHostPath(issuer.issuerUrl));

  const plan = emptyPlan();
  let refuse: string | null = null;
  let roleChangeKeys: string[] = [];
  if (role) {
    const unbinding = planRoleUnbinding(role, { subjects: [serviceAccountSubject(namespace, name)], providerArn }, { force: options['force'] === true });
    plan.changes.push(...unbinding.changes);
    roleChangeKeys = unbinding.changes.filter((c) => c.kind === 'iam-role').map(changeKey);
  } else {
    plan.notes.push(`role ${roleName} does not exist; nothing to change in IAM.`);
  }
  if (serviceAccount && annotated && role && annotated !== role.arn) {
    plan.notes.push(`ServiceAccount ${namespace}/${name} is bound to ${annotated}, not ${role.arn}; it is left alone.`);
  } else if (kube) {
    // The ServiceAccount goes last: until the role is changed, pods keep working as before.
    const saChange = planServiceAccountRemoval(serviceAccount, roleChangeKeys);
    if (saChange) plan.changes.push(saChange);
    else plan.notes.push(`ServiceAccount ${namespace}/${name} does not exist.`);
    if (saChange && saChange.action !== 'no-op') {
      // Every kind that runs pods (CronJobs, Jobs and bare Pods too), not only the restartable ones.
      const users = (await (await ctx.workloads()).listPodTemplates(namespace))
        .filter((w) => podServiceAccount(w.template.spec) === name)
        .map(workloadLabel);
      const judged = serviceAccountUsers(saChange, `${namespace}/${name}`, users, options['force'] === true);
      plan.warnings.push(...judged.warnings);
      refuse = judged.refuse;
    }
  }
  return runPlan(plan, {
    globals,
    ...(output ? { output } : {}),
    approve: options['approve'] === true,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam, ...(kube ? { kube } : {}) },
    retryCount: ctx.retries,
    ...(refuse ? { refuse } : {}),
  });
}
