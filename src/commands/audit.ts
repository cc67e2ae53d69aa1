// irsa audit: options, the cluster check and the output; engine/audit.ts reads Secrets, workloads
// and ServiceAccounts (and the roles they name) and core/audit.ts finds what still uses static keys
// or kube2iam/kiam and proposes an irsa.yaml. Read-only; exit 0 whatever it finds.

import { proposedIrsaYaml, renderAuditText } from '../ui/audit.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { UserError } from '../core/errors.ts';
import { assertClusterName, assertNamespace } from '../core/names.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { readAndAudit } from '../engine/audit.ts';
import { readAndPlanClosePaths } from '../engine/close-paths.ts';
import { CLOSINGS, summarizeOldPaths } from '../core/close-paths.ts';
import { createCommandContext } from './context.ts';
import { assertWritableOut, writeOut } from './out-file.ts';
import { parseGlobals } from './globals.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], outputArg?: Output): Promise<number> {
  // yaml is audit's own output format; the global option parser knows text and json only.
  const yamlOutput = options['output'] === 'yaml';
  if (options['iam'] === true) {
    if (yamlOutput) throw new UserError('--output: irsa audit --iam prints text or json, not yaml.', '--output');
    return (await import('./audit-iam.ts')).runIamAudit(options, parseGlobals(options), outputArg ?? createOutput(options));
  }
  const globals = parseGlobals({ ...options, output: yamlOutput ? 'text' : options['output'] });
  const cluster = options['cluster'] as string | undefined;
  if (!cluster) throw new UserError('--cluster is required: the cluster name the proposed irsa.yaml is for.', '--cluster');
  assertClusterName(cluster);
  const issuerUrl = options['issuerUrl'] as string | undefined;
  if (issuerUrl !== undefined && !issuerUrl.startsWith('https://')) {
    throw new UserError(`--issuer-url: "${issuerUrl}" is not an https URL. Give the OIDC issuer of the self-managed cluster.`, '--issuer-url');
  }
  const namespace = options['namespace'] as string | undefined;
  if (namespace) assertNamespace(namespace);
  const outFile = options['out'] as string | undefined;
  if (outFile) assertWritableOut(outFile, { inputs: [], overwrite: options['overwrite'] === true, what: 'the proposed irsa.yaml', isOurs: () => false, existingIsNever: true, suggestion: 'irsa.yaml' });
  const ctx = createCommandContext(globals);
  // Audit reads only Kubernetes, but the irsa.yaml it writes is for --cluster: check that the
  // context is that cluster. Without AWS access the check cannot run; say so and go on (read-only).
  try {
    const region = globals.region ?? (await ctx.region());
    ctx.expectCluster({ ...(await resolveIssuer(issuerUrl ? { issuerUrl, region } : { cluster, region }, ctx.clusters)), writes: false });
  } catch (error) {
    if (error instanceof UserError && error.field === '--issuer-url') throw error;
    process.stderr.write(`Warning: could not check that the kubeconfig context is cluster ${cluster}: ${(error as Error).message.split('\n')[0]}\n`);
  }

  const report = await readAndAudit(
    { cluster, ...(issuerUrl ? { issuerUrl } : {}), ...(namespace ? { namespace } : {}), ...(globals.region ? { region: globals.region } : {}) },
    {
      kube: await ctx.kube(),
      inspector: await ctx.inspector(),
      iam: ctx.iam,
      region: ctx.region,
      warn: (line) => process.stderr.write(`${line}\n`),
    },
  );
  // The old paths, per node role (the same reads and plan as close-paths; read-only). Without AWS
  // (or a nodegroup) audit goes on and says so: a `!` line, never a ✓.
  const oldPaths = issuerUrl ? undefined : await readAndPlanClosePaths(
    { nodeAccess: ctx.nodeAccess, iam: ctx.iam, kube: ctx.kube, workloads: ctx.workloads, podIdentity: ctx.podIdentity },
    { cluster, region: globals.region ?? (await ctx.region().catch(() => '')), account: await ctx.iam().then((iam) => iam.accountId()).catch(() => ''), only: [...CLOSINGS] },
  ).then((closing) => summarizeOldPaths(closing.input, closing), (error: Error) => {
    process.stderr.write(`Warning: the node roles and IMDS were not read (${error.message.split('\n')[0]}): irsa close-paths --cluster ${cluster} reports them.\n`);
    return undefined;
  });
  const out = options['out'] as string | undefined;
  const irsaYaml = proposedIrsaYaml(report, oldPaths?.closings);
  const output = outputArg ?? createOutput(options);
  if (out) writeOut(out, irsaYaml);
  if (yamlOutput) output.out(irsaYaml);
  else if (globals.output === 'json') output.json({ findings: report.findings, bindings: report.bindings, ...(oldPaths ? { oldPaths } : {}), irsaYaml });
  else output.out(renderAuditText(report, oldPaths) + (out ? `\nWrote ${out}. Next: irsa plan -f ${out}\n` : ''));
  return 0;
}
