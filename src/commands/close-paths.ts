// irsa close-paths: once workloads have their own roles, close what a compromised pod can still
// reach besides its role (issue 23): kube2iam roles' trust in the node role and its grant, the
// node role's permissions the IRSA roles now carry, and IMDS on managed nodegroups. Thin: reads
// and decisions are engine/close-paths.ts and core/close-paths.ts; plan, --approve and apply are
// every command's (run-plan.ts). A closing irsa could not decide (a read denied, nodes it does not
// own) makes the run exit 1 after the plan, so a script never reads "closed" from it.

import { DEFAULT_LOCK_TIMEOUT_MS } from '../engine/trust-lock.ts';
import { CLOSINGS, type Closing } from '../core/close-paths.ts';
import { UserError } from '../core/errors.ts';
import { assertClusterName } from '../core/names.ts';
import { readAndPlanClosePaths } from '../engine/close-paths.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { runPlan } from './run-plan.ts';

export function parseOnly(value: unknown): Closing[] {
  if (value === undefined) return [...CLOSINGS];
  const items = String(value).split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((i) => !CLOSINGS.includes(i as Closing));
  if (items.length === 0 || bad.length > 0) {
    throw new UserError(`--only: ${bad.length > 0 ? `"${bad.join('", "')}" is not a path irsa closes` : 'no path given'}. Use a comma-separated list of ${CLOSINGS.join(', ')} (default: all three), e.g. --only kube2iam,imds.`, '--only');
  }
  return CLOSINGS.filter((c) => items.includes(c));
}

export async function run(options: Record<string, unknown>, _args: string[] = [], outputArg?: Output): Promise<number> {
  const output = outputArg ?? createOutput(options);
  const globals = parseGlobals(options);
  const cluster = options['cluster'] as string | undefined;
  if (!cluster) throw new UserError('--cluster is required: the EKS cluster whose old credential paths to close (its nodegroups, node roles and workloads are read).', '--cluster');
  assertClusterName(cluster);
  const only = parseOnly(options['only']);
  const approve = options['approve'] === true;
  const ctx = createCommandContext(globals, {});
  const region = await ctx.region();
  const issuer = await resolveIssuer({ cluster, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, writes: approve });
  const iam = await ctx.iam();
  const account = await iam.accountId();
  const result = await readAndPlanClosePaths(
    { nodeAccess: ctx.nodeAccess, iam: async () => iam, kube: ctx.kube, workloads: ctx.workloads, podIdentity: ctx.podIdentity },
    { cluster, region, account, only },
  );
  const plan = { ...result.plan, warnings: [...result.plan.warnings, ...result.undecided] };
  const code = await runPlan(plan, {
    globals, output, approve,
    detailedExitcode: options['detailedExitcode'] === true,
    executor: { iam, nodegroups: await ctx.nodegroups() },
    // kube2iam roles' trust is written under each role's Lease, as irsa's other trust writes are.
    leases: await ctx.leases(),
    lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
    retryCount: ctx.retries,
    extraJson: { closePaths: { only, proofs: result.proofs, undecided: result.undecided } },
  });
  // Undecided closings are never "closed": exit 1 once the plan (and any approved change) is shown.
  return code === 0 && result.undecided.length > 0 ? 1 : code;
}
