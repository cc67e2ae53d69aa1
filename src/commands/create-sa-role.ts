// irsa create-sa-role: ensure an IAM role trusts a ServiceAccount and the ServiceAccount names it.

import { parseArn, partitionForRegion } from '../core/arn.ts';
import { bindingRoleArn } from '../core/binding.ts';
import { UserError } from '../core/errors.ts';
import { planBindingFromReads, readBinding } from '../engine/binding-reads.ts';
import { parseThumbprintOptions, resolveIssuer } from '../engine/oidc.ts';
import { missingPolicyHint } from '../engine/policy-suggestions.ts';
import { parseBindingOptions } from './binding-options.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { runPlan } from './run-plan.ts';
import { parseVerifyOptions, runVerify } from './verify.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { restartAdvice } from '../ui/restart-advice.ts';
import { addMigrations, stillNeedingRestart, warnRolesWithoutPermissions } from '../engine/migration.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], output?: Output): Promise<number> {
  const globals = parseGlobals(options);
  const request = parseBindingOptions(options);
  const thumbprints = parseThumbprintOptions(options);
  const verify = parseVerifyOptions(options);
  const ctx = createCommandContext(globals, {
    caBundle: options['caBundle'] as string | undefined,
    clusterProfile: options['clusterProfile'] as string | undefined,
  });

  const region = await ctx.region();
  const issuer = await resolveIssuer(
    { cluster: options['cluster'] as string | undefined, issuerUrl: options['issuerUrl'] as string | undefined, region },
    ctx.clusters,
  );
  ctx.expectCluster({ ...issuer, tokenFor: { namespace: request.namespace, name: request.name }, writes: options['approve'] === true });
  const iam = await ctx.iam();
  const account = await iam.accountId();
  const partition = partitionForRegion(region);
  const roleArn = bindingRoleArn(request, { partition, account });
  const roleAccount = parseArn(roleArn)?.account;
  if (roleAccount !== account) {
    throw new UserError(
      `--attach-role-arn: ${roleArn} is in account ${roleAccount}, but the IAM credentials (--profile) are for account ${account}. Use --profile for the role's account (and --cluster-profile for the cluster's).`,
      '--attach-role-arn',
    );
  }
  const kube = request.roleOnly ? null : await ctx.kube();

  const target = { issuerUrl: issuer.issuerUrl, cluster: issuer.cluster, region, account, thumbprints };
  // Every read happens here, concurrently; nothing is written before the plan is shown.
  const reads = await readBinding(request, target, { iam, kube, resolveThumbprints: ctx.resolveThumbprints });
  const { missingPolicies, provider } = reads;
  if (missingPolicies.length > 0) {
    throw new UserError(
      `--attach-policy-arn: ${missingPolicies.join(', ')} ${missingPolicies.length === 1 ? 'does' : 'do'} not exist in account ${account} (iam:GetPolicy).${await missingPolicyHint(iam, missingPolicies)} Check the ARN (AWS managed policies are arn:aws:iam::aws:policy/<name>); nothing was changed.`,
      '--attach-policy-arn',
    );
  }
  if (provider.change.action === 'create' && options['createOidc'] === false) {
    const where = issuer.cluster ? `--cluster ${issuer.cluster.name} --region ${region}` : `--issuer-url ${issuer.issuerUrl}`;
    throw new UserError(
      `The IAM OIDC provider for ${issuer.issuerUrl} does not exist in account ${account}, and --no-create-oidc was given. Create it first with:\n  irsa associate-oidc ${where} --approve`,
      '--no-create-oidc',
    );
  }

  const binding = planBindingFromReads(request, target, reads);
  const workloads = kube ? await ctx.workloads() : null;
  const migration = workloads ? await addMigrations(binding.plan, [request], workloads) : { rolled: [] };
  warnRolesWithoutPermissions(binding.plan, [request]);
  const footer = restartAdvice(
    stillNeedingRestart(binding.workloadsNeedingRestart, migration),
    `These workloads use ${request.namespace}/${request.name} and keep their old identity until their pods are recreated:`,
    'Or run this command again with --restart-workloads.',
  );
  const code = await runPlan(binding.plan, {
    globals,
    ...(output ? { output } : {}),
    approve: options['approve'] === true,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam, ...(kube ? { kube } : {}), ...(workloads ? { workloads } : {}) },
    footer,
    retryCount: ctx.retries,
    ...(binding.refuse ? { refuse: binding.refuse } : {}),
  });
  // --verify: only after a successful --approve (exit 0, or 2 with --detailed-exitcode).
  if (!verify || options['approve'] !== true || code === 1) return code;
  const targets = request.roleOnly ? [] : [{ namespace: request.namespace, name: request.name, roleArn, audience: request.audience }];
  return (await runVerify(verify, targets, ctx, output ?? createOutput(options))) === 0 ? code : 1;
}
