// irsa create-sa-role: ensure an IAM role trusts a ServiceAccount and the ServiceAccount names it.

import { parseArn, partitionForRegion } from '../core/arn.ts';
import { bindingRoleArn } from '../core/binding.ts';
import { UserError } from '../core/errors.ts';
import { planBindingFromReads, readBinding } from '../engine/binding-reads.ts';
import { parseThumbprintOptions, resolveIssuer } from '../engine/oidc.ts';
import { missingPolicyHint } from '../engine/policy-suggestions.ts';
import { parseBindingOptions } from './binding-options.ts';
import { accountIams } from '../engine/pod-identity-reads.ts';
import { parseAccountProfile } from '../core/access-request.ts';

/** --account-profile <account>=<profile>, repeatable. */
function accountProfiles(options: Record<string, unknown>): Record<string, string> {
  const given = options['accountProfile'];
  const list = given === undefined ? [] : Array.isArray(given) ? (given as string[]) : [String(given)];
  return Object.fromEntries(list.map((text) => parseAccountProfile(text)));
}
import { createCommandContext } from './context.ts';
import { parseLockTimeout } from './trust-locks.ts';
import { parseGlobals } from './globals.ts';
import { runPlan } from './run-plan.ts';
import { parseVerifyOptions, runVerify } from './verify.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { restartAdvice } from '../ui/restart-advice.ts';
import { addMigrations, stillNeedingRestart, warnRolesWithoutPermissions } from '../engine/migration.ts';
import { addWidenings, wideRequests } from '../core/wide-subjects.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], output?: Output): Promise<number> {
  const globals = parseGlobals(options);
  const request = parseBindingOptions(options);
  const profiles = accountProfiles(options);
  const thumbprints = parseThumbprintOptions(options);
  const verify = parseVerifyOptions(options);
  const lockTimeoutMs = parseLockTimeout(options);
  if (verify && request.mechanism === 'pod-identity') {
    // --verify proves a web identity (a minted token and sts:AssumeRoleWithWebIdentity): not what EKS Pod Identity uses.
    throw new UserError('--verify proves an IRSA binding (a minted token and sts:AssumeRoleWithWebIdentity); EKS Pod Identity credentials come from the agent on the node, which irsa cannot call. Leave --verify out with --mechanism pod-identity.', '--verify');
  }
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
  const podIdentity = request.mechanism === 'pod-identity' && issuer.cluster ? await ctx.podIdentity() : null;
  // A cross-account target role's trust is read and written with a profile of its account.
  const iamFor = accountIams({ homeAccount: account, home: iam, profiles, open: ctx.iamAs, field: '--account-profile' });
  const reads = await readBinding(request, target, { iam, kube, resolveThumbprints: ctx.resolveThumbprints, iamFor, ...(podIdentity ? { podIdentity: async () => podIdentity } : {}) });
  // A misspelt policy ARN: the policy it was probably meant to be (listed only on this path).
  const missingHint = reads.missingPolicies.length > 0 ? await missingPolicyHint(iam, reads.missingPolicies) : '';
  const binding = planBindingFromReads(request, target, reads, {
    prune: options['prune'] === true,
    createOidc: options['createOidc'] !== false,
    missingHint,
  });
  // A wide subject pattern (allowed with --allow-wide-subjects) is shown with what it admits today.
  if (wideRequests([request]).length > 0) addWidenings(binding.plan, [request], kube ? await kube.listServiceAccounts() : null);
  const workloads = kube ? await ctx.workloads() : null;
  const migration = workloads ? await addMigrations(binding.plan, [request], workloads) : { rolled: [] };
  warnRolesWithoutPermissions(binding.plan, [request], options['prune'] === true);
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
    executor: { iam, ...(kube ? { kube } : {}), ...(workloads ? { workloads } : {}), ...(podIdentity ? { podIdentity, iamFor: (other: string) => iamFor(other) ?? Promise.reject(new UserError(`no profile for account ${other}`, '--account-profile')) } : {}) },
    ...(kube ? { leases: await ctx.leases() } : {}),
    lockTimeoutMs,
    footer,
    retryCount: ctx.retries,
  });
  // --verify: only after a successful --approve (exit 0, or 2 with --detailed-exitcode).
  if (!verify || options['approve'] !== true || code === 1) return code;
  const targets = request.roleOnly ? [] : [{ namespace: request.namespace, name: request.name, roleArn, audience: request.audience }];
  return (await runVerify(verify, targets, ctx, output ?? createOutput(options))) === 0 ? code : 1;
}
