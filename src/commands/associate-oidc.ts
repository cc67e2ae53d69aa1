// irsa associate-oidc: plan (and with --approve create or repair) the IAM OIDC provider of an issuer.

import { emptyPlan } from '../core/plan.ts';
import { assertClusterName } from '../core/names.ts';
import { parseThumbprintOptions, planProviderForIssuer, resolveIssuer } from '../engine/oidc.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { runPlan } from './run-plan.ts';
import type { Output } from '../ui/output.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], output?: Output): Promise<number> {
  const globals = parseGlobals(options);
  const cluster = options['cluster'] as string | undefined;
  const issuerUrl = options['issuerUrl'] as string | undefined;
  if (cluster) assertClusterName(cluster);
  const thumbprints = parseThumbprintOptions(options);
  const ctx = createCommandContext(globals, { caBundle: options['caBundle'] as string | undefined });

  const region = await ctx.region();
  const issuer = await resolveIssuer({ cluster, issuerUrl, region }, ctx.clusters);
  const iam = await ctx.iam();
  const provider = await planProviderForIssuer(
    { issuerUrl: issuer.issuerUrl, clusterName: cluster ?? null, region, account: await iam.accountId(), thumbprints },
    { iam, resolveThumbprints: ctx.resolveThumbprints },
  );
  const plan = emptyPlan();
  plan.changes.push(provider.change);
  plan.warnings.push(...provider.warnings);
  return runPlan(plan, {
    globals,
    ...(output ? { output } : {}),
    approve: options['approve'] === true,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam },
    retryCount: ctx.retries,
  });
}
