// irsa plan -f irsa.yaml / irsa apply -f irsa.yaml / irsa apply plan.json.

import { readFileSync, writeFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { hasChanges } from '../core/plan.ts';
import { looksLikeSavedPlan, parseSavedPlan, savedPlanAsPlan, savedPlanDrift, toSavedPlan } from '../core/saved-plan.ts';
import { loadConfigFile, type IrsaConfig } from '../config/load.ts';
import { readAndPlanDeclarative } from '../engine/declarative.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { addMigrations, stillNeedingRestart, warnRolesWithoutPermissions } from '../engine/migration.ts';
import { createCommandContext, type CommandContext } from './context.ts';
import { parseGlobals, type GlobalOptions } from './globals.ts';
import { assertWritableOut } from './out-file.ts';
import { runPlan } from './run-plan.ts';
import { restartAdvice } from '../ui/restart-advice.ts';
import { packageVersion } from './version.ts';

const DEFAULT_CONCURRENCY = 16;

function concurrencyOption(options: Record<string, unknown>): number {
  const value = options['concurrency'] === undefined ? DEFAULT_CONCURRENCY : Number(options['concurrency']);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new UserError(`--concurrency: "${String(options['concurrency'])}" is not allowed. Give a whole number from 1 to 64.`, '--concurrency');
  }
  return value;
}

function contextFor(config: IrsaConfig, options: Record<string, unknown>): { globals: GlobalOptions; ctx: CommandContext } {
  const globals = parseGlobals(options);
  // Flags win over the file; the file wins over the environment.
  const withFile: GlobalOptions = {
    ...globals,
    region: globals.region ?? config.cluster.region,
    profile: globals.profile ?? config.cluster.profile,
  };
  return { globals: withFile, ctx: createCommandContext(withFile) };
}

async function planConfig(config: IrsaConfig, options: Record<string, unknown>, prune: boolean) {
  const { globals, ctx } = contextFor(config, options);
  const concurrency = concurrencyOption(options);
  const region = await ctx.region();
  // The engine resolves the issuer again; the context's cluster reader answers that from memory.
  const issuer = await resolveIssuer(
    config.cluster.issuerUrl ? { issuerUrl: config.cluster.issuerUrl, region } : { cluster: config.cluster.name, region },
    ctx.clusters,
  );
  const firstBound = config.bindings.find((binding) => !binding.roleOnly);
  ctx.expectCluster({ ...issuer, ...(firstBound ? { tokenFor: { namespace: firstBound.namespace, name: firstBound.name } } : {}), writes: options['approve'] === true });
  const iam = await ctx.iam();
  const result = await readAndPlanDeclarative(
    config,
    { region, clusters: ctx.clusters, iam, kube: ctx.kube, resolveThumbprints: ctx.resolveThumbprints, concurrency },
    { prune },
  );
  const migration = result.needsKube ? await addMigrations(result.plan, config.bindings, await ctx.workloads(), concurrency) : { rolled: [] };
  warnRolesWithoutPermissions(result.plan, config.bindings);
  const footer = restartAdvice(
    stillNeedingRestart(result.workloadsNeedingRestart, migration),
    'These workloads keep their old identity until their pods are recreated:',
    'Or set restart: true on their bindings.',
  );
  return { globals, ctx, iam, result, footer, concurrency };
}

export async function runPlanCommand(options: Record<string, unknown>): Promise<number> {
  const file = options['file'] as string | undefined;
  if (!file) throw new UserError('-f, --file is required: the irsa.yaml to plan.', '--file');
  const out = options['out'] as string | undefined;
  if (out) {
    assertWritableOut(out, { inputs: [file], overwrite: options['overwrite'] === true, what: 'a saved plan', isOurs: looksLikeSavedPlan, suggestion: 'plan.json' });
  }
  const config = loadConfigFile(file);
  const prune = options['prune'] === true;
  const { globals, ctx, iam, result, footer } = await planConfig(config, options, prune);
  if (out) {
    const saved = toSavedPlan(result.plan, { config, prune, irsaVersion: packageVersion(), now: new Date() });
    writeFileSync(out, JSON.stringify(saved, null, 2) + '\n');
  }
  const code = await runPlan(result.plan, {
    globals,
    approve: false,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam },
    footer: [...footer, ...(out ? ['', `Saved plan to ${out}. Apply exactly this plan with: irsa apply ${out} --approve`] : [])],
    applyHint: out ? `irsa apply ${out} --approve` : `irsa apply -f ${file}${prune ? ' --prune' : ''} --approve`,
    retryCount: ctx.retries,
  });
  return code;
}

export async function runApplyCommand(options: Record<string, unknown>, args: string[]): Promise<number> {
  const file = options['file'] as string | undefined;
  const planFile = args[0];
  if (file && planFile) throw new UserError('Give either -f irsa.yaml or a saved plan file, not both.', '--file');
  if (!file && !planFile) throw new UserError('Give -f irsa.yaml, or the plan file saved by irsa plan --out.', '--file');
  if (file) {
    const config = loadConfigFile(file);
    const prune = options['prune'] === true;
    const { globals, ctx, iam, result, footer, concurrency } = await planConfig(config, options, prune);
    const kube = result.needsKube ? await ctx.kube() : undefined;
    const workloads = result.needsKube ? await ctx.workloads() : undefined;
    return runPlan(result.plan, {
      globals,
      approve: options['approve'] === true,
      detailedExitcode: options['detailedExitcode'] === true,
      executor: { iam, ...(kube ? { kube } : {}), ...(workloads ? { workloads } : {}) },
      footer,
      concurrency,
      retryCount: ctx.retries,
    });
  }
  let text: string;
  try {
    text = readFileSync(planFile!, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read plan file "${planFile}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, 'plan file');
  }
  const saved = parseSavedPlan(text, planFile!);
  if (options['prune'] !== undefined && options['prune'] !== saved.options.prune) {
    throw new UserError(`--prune: the saved plan was made ${saved.options.prune ? 'with' : 'without'} --prune; apply it as saved, or plan again.`, '--prune');
  }
  const config: IrsaConfig = saved.config;
  const { globals, ctx, iam, result, concurrency } = await planConfig(config, options, saved.options.prune);
  const drift = savedPlanDrift(saved, result.plan);
  if (drift.length > 0) {
    throw new UserError(
      `${planFile}: what the plan was made against has changed, so it was not applied:\n${drift.map((line) => `  - ${line}`).join('\n')}\nRun irsa plan again and review the new plan.`,
      'plan file',
    );
  }
  const plan = savedPlanAsPlan(saved);
  const kube = result.needsKube && hasChanges(plan) ? await ctx.kube() : undefined;
  const workloads = kube ? await ctx.workloads() : undefined;
  return runPlan(plan, {
    globals,
    approve: options['approve'] === true,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam, ...(kube ? { kube } : {}), ...(workloads ? { workloads } : {}) },
    concurrency,
    retryCount: ctx.retries,
  });
}
