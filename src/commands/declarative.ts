// irsa plan -f irsa.yaml / irsa apply -f irsa.yaml / irsa apply plan.json.

import { parseLockTimeout } from './trust-locks.ts';
import { readFileSync } from 'node:fs';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { inFileTerms } from '../config/schema.ts';
import { changeKey, hasChanges, type Plan } from '../core/plan.ts';
import { assertDigest, assertSameAccount, assertSameCluster, checkSavedPlan, looksLikeSavedPlan, parseSavedPlan, savedPlanAsPlan, savedPlanDigest, toSavedPlan } from '../core/saved-plan.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { planToJson } from '../ui/render.ts';
import { loadConfigFile, type IrsaConfig } from '../config/load.ts';
import { readAndPlanDeclarative } from '../engine/declarative.ts';
import { accountGateways } from '../engine/access.ts';
import { accountIams } from '../engine/pod-identity-reads.ts';
import { parseAccountProfile } from '../core/access-request.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { addMigrations, stillNeedingRestart, warnRolesWithoutPermissions } from '../engine/migration.ts';
import { createCommandContext, type CommandContext } from './context.ts';
import { parseGlobals, type GlobalOptions } from './globals.ts';
import { assertWritableOut, writeOut } from './out-file.ts';
import { runPlan } from './run-plan.ts';
import { parseVerifyOptions, runVerify } from './verify.ts';
import { bindingRoleArn } from '../core/binding.ts';
import { partitionForRegion } from '../core/arn.ts';
import type { IamGateway, KubeGateway } from '../ports.ts';
import { readAndPlanClosePaths } from '../engine/close-paths.ts';
import { restartAdvice } from '../ui/restart-advice.ts';
import { packageVersion } from './version.ts';
import { addWidenings, wideRequests } from '../core/wide-subjects.ts';

const DEFAULT_CONCURRENCY = 16;

export function concurrencyOption(options: Record<string, unknown>): number {
  const value = options['concurrency'] === undefined ? DEFAULT_CONCURRENCY : Number(options['concurrency']);
  if (!Number.isInteger(value) || value < 1 || value > 64) {
    throw new UserError(`--concurrency: "${String(options['concurrency'])}" is not allowed. Give a whole number from 1 to 64.`, '--concurrency');
  }
  return value;
}

export function contextFor(config: IrsaConfig, options: Record<string, unknown>): { globals: GlobalOptions; ctx: CommandContext } {
  const globals = parseGlobals(options);
  // Flags win over the file; the file wins over the environment. cluster.profile reads the
  // cluster; iam.profile (else cluster.profile) writes IAM — as --cluster-profile and --profile.
  const withFile: GlobalOptions = {
    ...globals,
    region: globals.region ?? config.cluster.region,
    profile: globals.profile ?? config.iamProfile ?? config.cluster.profile,
    profileField: globals.profile ? '--profile' : config.iamProfile ? `iam.profile (${config.file})` : `cluster.profile (${config.file})`,
  };
  const clusterProfile = (options['clusterProfile'] as string | undefined) ?? config.cluster.profile;
  const clusterProfileField = options['clusterProfile'] ? '--cluster-profile' : `cluster.profile (${config.file})`;
  const caBundle = (options['caBundle'] as string | undefined) ?? config.caBundle;
  return {
    globals: withFile,
    ctx: createCommandContext(withFile, {
      ...(clusterProfile && clusterProfile !== withFile.profile ? { clusterProfile, clusterProfileField } : {}),
      ...(caBundle ? { caBundle } : {}),
    }),
  };
}

/** Errors thrown while planning speak in flags; a file's user gets irsa.yaml keys instead (blockers are worded in file terms already). */
export function inFileError(error: unknown): unknown {
  if (error instanceof ValidationErrors) return new ValidationErrors(error.problems.map(inFileTerms));
  if (error instanceof UserError) return new UserError(inFileTerms(error.message), error.field);
  return error;
}

/** A saved plan's checks, run at their point of the read path (before the reads they guard). */
interface SavedPlanChecks {
  /** The context made for the saved plan (its caller identity was already read). */
  context: { globals: GlobalOptions; ctx: CommandContext };
  /** Right after the issuer is known, before any other read. */
  afterIssuer: (issuer: { issuerUrl: string }, region: string) => void;
}

async function planConfig(config: IrsaConfig, options: Record<string, unknown>, prune: boolean, checks?: SavedPlanChecks) {
  try {
    return await planConfigWithFlags(config, options, prune, checks);
  } catch (error) {
    throw inFileError(error);
  }
}

async function planConfigWithFlags(config: IrsaConfig, options: Record<string, unknown>, prune: boolean, checks?: SavedPlanChecks) {
  const { globals, ctx } = checks?.context ?? contextFor(config, options);
  const concurrency = concurrencyOption(options);
  const region = await ctx.region();
  // The engine resolves the issuer too (one DescribeCluster: the context's cluster reader remembers
  // it) and starts the role and policy reads beside it: nothing here waits for it, except a saved
  // plan, whose cluster is checked before any other read.
  const issuerRead = resolveIssuer(
    config.cluster.issuerUrl ? { issuerUrl: config.cluster.issuerUrl, region } : { cluster: config.cluster.name, region },
    ctx.clusters,
  );
  if (checks) checks.afterIssuer(await issuerRead, region);
  else issuerRead.catch(() => {}); // a failure is the engine's to report, in the order of its reads
  const firstBound = config.bindings.find((binding) => !binding.roleOnly);
  // The cluster the kubeconfig context must prove to be, declared before the first Kubernetes call.
  let expected: Promise<void> | undefined;
  const expectCluster = () =>
    (expected ??= issuerRead.then((issuer) => {
      ctx.expectCluster({ ...issuer, ...(firstBound ? { tokenFor: { namespace: firstBound.namespace, name: firstBound.name } } : {}), writes: options['approve'] === true });
    }));
  const kube = async () => {
    await expectCluster();
    return ctx.kube();
  };
  const iam = await ctx.iam();
  const profiles = { ...config.accountProfiles, ...accountProfileFlags(options) };
  const accessGateways = (homeAccount: string) =>
    accountGateways({
      homeAccount,
      profiles,
      open: (profile, region) => ctx.resourcePolicies(profile, region),
      fix: (account) => `Name a profile of account ${account}: set accounts."${account}".profile in ${config.file} (or pass --account-profile ${account}=<profile>).`,
      field: (account) => `accounts.${account}.profile`,
    });
  // A cross-account Pod Identity target role's trust: read and written with its account's profile.
  const iamsFor = (homeAccount: string) => accountIams({ homeAccount, home: iam, profiles, open: ctx.iamAs, field: 'accounts' });
  const result = await readAndPlanDeclarative(
    config,
    {
      region, clusters: ctx.clusters, iam, kube, resolveThumbprints: ctx.resolveThumbprints, concurrency, accessGateways, podIdentity: ctx.podIdentity, iamFor: iamsFor,
      workloads: async () => {
        await expectCluster();
        return ctx.workloads();
      },
    },
    // Applying: a few unused lists are worth a round trip. A plan only reads what it uses.
    { prune, prefetch: options['approve'] === true },
  );
  // Every later Kubernetes call (migrations, apply) goes through the same check.
  await expectCluster();
  const issuer = await issuerRead;
  const migration = result.needsKube ? await addMigrations(result.plan, config.bindings, await ctx.workloads(), concurrency, result.migrationReads) : { rolled: [] };
  // Wide subject patterns (allowWideSubjects: true) are shown with what they admit today.
  if (wideRequests(config.bindings).length > 0) {
    addWidenings(result.plan, config.bindings, result.needsKube ? await (await ctx.kube()).listServiceAccounts() : null);
  }
  // The file is exact: its roles have exactly the policies it lists.
  warnRolesWithoutPermissions(result.plan, config.bindings, true);
  const footer = restartAdvice(
    stillNeedingRestart(result.workloadsNeedingRestart, migration),
    'These workloads keep their old identity until their pods are recreated:',
    'Or set restart: true on their bindings.',
  );
  // Apply writes each secret's and key's policy through its own account's profile.
  const resourcePolicies = async (account: string, resourceRegion: string) => {
    const gateway = accessGateways(await iam.accountId()).gateway(account, resourceRegion);
    // The plan had a blocker for an account without a profile; apply never gets here then.
    if (!gateway) throw new UserError(`no profile for account ${account}`, 'accounts');
    return gateway;
  };
  // EKS Pod Identity writes (associations, the agent add-on) only for a file that has such a binding.
  const podIdentity = config.bindings.some((binding) => binding.mechanism === 'pod-identity') ? await ctx.podIdentity() : undefined;
  const iamFor = iamsFor(await iam.accountId());
  // closePaths: the old credential paths, planned with the bindings; each closing waits for them.
  const nodegroups = config.closePaths ? await addClosings(result.plan, config, { ctx, iam, region, kube }) : undefined;
  const podIdentityDeps = podIdentity
    ? { podIdentity, iamFor: (account: string) => iamFor(account) ?? Promise.reject(new UserError(`no profile for account ${account}`, 'accounts')) }
    : undefined;
  return { globals, ctx, iam, result, footer, concurrency, resourcePolicies, issuer, region, executorDeps: { ...podIdentityDeps, ...(nodegroups ? { nodegroups } : {}) } };
}

/** irsa.yaml closePaths: core/close-paths.ts's plan merged into the file's (changes, blockers, notes; `!` lines as warnings). */
async function addClosings(plan: Plan, config: IrsaConfig, deps: { ctx: CommandContext; iam: IamGateway; region: string; kube: () => Promise<KubeGateway> }) {
  const bindingChanges = plan.changes.filter((c) => c.action !== 'no-op').map(changeKey);
  const closing = await readAndPlanClosePaths(
    { nodeAccess: deps.ctx.nodeAccess, iam: async () => deps.iam, kube: deps.kube, workloads: deps.ctx.workloads, podIdentity: deps.ctx.podIdentity },
    {
      cluster: config.cluster.name, region: deps.region, account: await deps.iam.accountId(), only: config.closePaths!,
      pending: { serviceAccounts: config.bindings.filter((b) => !b.roleOnly).map((b) => `${b.namespace}/${b.name}`), bindingChanges },
    },
  );
  plan.changes.push(...closing.plan.changes);
  plan.blockers.push(...closing.plan.blockers);
  plan.notes.push(...closing.plan.notes);
  plan.warnings.push(...closing.plan.warnings, ...closing.undecided);
  return deps.ctx.nodegroups();
}

/** --account-profile <account>=<profile>, repeatable: other accounts' profiles (flags win over the file). */
function accountProfileFlags(options: Record<string, unknown>): Record<string, string> {
  const given = options['accountProfile'];
  const list = given === undefined ? [] : Array.isArray(given) ? (given as string[]) : [String(given)];
  return Object.fromEntries(list.map((text) => parseAccountProfile(text)));
}

export async function runPlanCommand(options: Record<string, unknown>, _args: string[] = [], output?: Output): Promise<number> {
  const file = options['file'] as string | undefined;
  if (!file) throw new UserError('-f, --file is required: the irsa.yaml to plan.', '--file');
  const out = options['out'] as string | undefined;
  if (out) {
    assertWritableOut(out, { inputs: [file], overwrite: options['overwrite'] === true, what: 'a saved plan', isOurs: looksLikeSavedPlan, suggestion: 'plan.json' });
  }
  const config = loadConfigFile(file);
  const prune = options['prune'] === true;
  const { globals, ctx, iam, result, footer, issuer, region } = await planConfig(config, options, prune);
  let digest: string | undefined;
  if (out) {
    const target = { account: await iam.accountId(), region, issuerUrl: issuer.issuerUrl };
    const text = JSON.stringify(toSavedPlan(result.plan, { config, prune, irsaVersion: packageVersion(), now: new Date(), target }), null, 2) + '\n';
    writeOut(out, text);
    digest = savedPlanDigest(text);
  }
  const code = await runPlan(result.plan, {
    globals,
    ...(output ? { output } : {}),
    approve: false,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam },
    footer: [...footer, ...(out ? ['', `Saved plan to ${out} (digest ${digest}). Apply exactly this plan with: irsa apply ${out} --approve --expect-digest ${digest}`] : [])],
    applyHint: out ? `irsa apply ${out} --approve --expect-digest ${digest}` : `irsa apply -f ${file}${prune ? ' --prune' : ''} --approve`,
    ...(out ? { extraJson: { savedPlan: { file: out, digest } } } : {}),
    retryCount: ctx.retries,
    showAccounts: result.crossAccount,
  });
  return code;
}

export async function runApplyCommand(options: Record<string, unknown>, args: string[], output?: Output): Promise<number> {
  const file = options['file'] as string | undefined;
  const planFile = args[0];
  if (file && planFile) throw new UserError('Give either -f irsa.yaml or a saved plan file, not both.', '--file');
  if (!file && !planFile) throw new UserError('Give -f irsa.yaml, or the plan file saved by irsa plan --out.', '--file');
  const verify = parseVerifyOptions(options);
  const lockTimeoutMs = parseLockTimeout(options);
  if (file) {
    const config = loadConfigFile(file);
    const prune = options['prune'] === true;
    const { globals, ctx, iam, result, footer, concurrency, resourcePolicies, executorDeps } = await planConfig(config, options, prune);
    const kube = result.needsKube ? await ctx.kube() : undefined;
    const workloads = result.needsKube ? await ctx.workloads() : undefined;
    const code = await runPlan(result.plan, {
      globals,
      ...(output ? { output } : {}),
      approve: options['approve'] === true,
      detailedExitcode: options['detailedExitcode'] === true,
      executor: { iam, ...(kube ? { kube } : {}), ...(workloads ? { workloads } : {}), resourcePolicies, ...executorDeps },
      ...(kube ? { leases: await ctx.leases() } : {}),
      lockTimeoutMs,
      footer,
      concurrency,
      retryCount: ctx.retries,
      throttleCount: ctx.throttles,
      showAccounts: result.crossAccount,
    });
    return verifyAfterApply(verify, code, options, config, ctx, output ?? createOutput(options), iam);
  }
  let text: string;
  try {
    text = readFileSync(planFile!, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read plan file "${planFile}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, 'plan file');
  }
  const saved = parseSavedPlan(text, planFile!);
  // The reviewed plan is the plan applied: the digest first, before any call.
  const expected = options['expectDigest'] as string | undefined;
  const digest = expected !== undefined ? assertDigest(text, planFile!, expected) : savedPlanDigest(text);
  if (options['prune'] !== undefined && options['prune'] !== saved.options.prune) {
    throw new UserError(`--prune: the saved plan was made ${saved.options.prune ? 'with' : 'without'} --prune; apply it as saved, or plan again.`, '--prune');
  }
  const config: IrsaConfig = saved.config;
  const context = contextFor(config, options);
  // The account before any other call: a plan made elsewhere names no resource of this account.
  if (saved.target) {
    const account = await (await context.ctx.iam()).accountId();
    const credentials = context.globals.profile ? `${context.globals.profileField ?? '--profile'} ${context.globals.profile}` : 'the default credential chain';
    try {
      assertSameAccount(saved, planFile!, account, credentials);
    } catch (error) {
      throw inFileError(error);
    }
  }
  const checks: SavedPlanChecks = { context, afterIssuer: (issuer, region) => assertSameCluster(saved, planFile!, { issuerUrl: issuer.issuerUrl, region }) };
  const { globals, ctx, iam, result, concurrency, resourcePolicies, executorDeps } = await planConfig(config, options, saved.options.prune, checks);
  if (globals.output === 'text') (output ?? createOutput(options)).err(`Applying ${planFile} (digest ${digest}${expected !== undefined ? ', as expected' : ''}).\n`);
  const status = checkSavedPlan(saved, result.plan);
  if (status.status === 'stale') {
    throw new UserError(
      `${planFile}: what the plan was made against has changed, so it was not applied:\n${status.drift.map((line) => `  - ${line}`).join('\n')}\nRun irsa plan again and review the new plan.`,
      'plan file',
    );
  }
  const out = output ?? createOutput(options);
  for (const line of status.unverifiable) out.err(`Note: ${line}\n`);
  if (status.status === 'applied') {
    if (globals.output === 'json') out.json({ plan: planToJson(savedPlanAsPlan(saved)), applied: false, alreadyApplied: true });
    else out.out(`Already applied: all ${status.total} changes of ${planFile} are in place; nothing to do.\n`);
    return verifyAfterApply(verify, 0, options, config, ctx, out, iam);
  }
  if (status.done > 0 && globals.output === 'text') {
    out.out(`${status.done} of ${status.done + status.remaining} changes of ${planFile} are already in place (an earlier apply of this plan); ${status.remaining} remain.\n\n`);
  }
  // What blocks a fresh plan blocks the saved one too (e.g. a policy deleted since).
  const plan = { ...status.plan, blockers: result.plan.blockers };
  const kube = result.needsKube && hasChanges(plan) ? await ctx.kube() : undefined;
  const workloads = kube ? await ctx.workloads() : undefined;
  const code = await runPlan(plan, {
    globals,
    ...(output ? { output } : {}),
    approve: options['approve'] === true,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam, ...(kube ? { kube } : {}), ...(workloads ? { workloads } : {}), resourcePolicies, ...executorDeps },
    ...(kube ? { leases: await ctx.leases() } : {}),
    lockTimeoutMs,
    concurrency,
    retryCount: ctx.retries,
    throttleCount: ctx.throttles,
    showAccounts: result.crossAccount,
  });
  return verifyAfterApply(verify, code, options, config, ctx, output ?? createOutput(options), iam);
}

/** --verify after a successful --approve: every binding of the file that annotates a ServiceAccount. */
async function verifyAfterApply(
  verify: ReturnType<typeof parseVerifyOptions>,
  code: number,
  options: Record<string, unknown>,
  config: IrsaConfig,
  ctx: CommandContext,
  output: Output,
  iam: IamGateway,
): Promise<number> {
  if (!verify || options['approve'] !== true || code === 1) return code;
  const context = { partition: partitionForRegion(await ctx.region()), account: await iam.accountId() };
  const targets = config.bindings
    // --verify proves web identities; a pod-identity binding's credentials come from the node's agent.
    .filter((binding) => !binding.roleOnly && binding.mechanism !== 'pod-identity')
    .map((binding) => ({ namespace: binding.namespace, name: binding.name, roleArn: bindingRoleArn(binding, context), audience: binding.audience }));
  return (await runVerify(verify, targets, ctx, output)) === 0 ? code : 1;
}
