// irsa audit: read Secrets, workloads and ServiceAccounts (and the kube2iam roles they name),
// let core/audit.ts find what still uses static keys or kube2iam/kiam and propose an irsa.yaml.
// Read-only; exit 0 whatever it finds.

import { writeFileSync } from 'node:fs';
import { audit, kube2iamRoleAccount, kube2iamRoleName, KUBE2IAM_ANNOTATION, type RoleRead } from '../core/audit.ts';
import { proposedIrsaYaml, renderAuditText } from '../ui/audit.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { UserError } from '../core/errors.ts';
import { assertClusterName, assertNamespace } from '../core/names.ts';
import { createCommandContext } from './context.ts';
import { assertWritableOut } from './out-file.ts';
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

  const kube = await ctx.kube();
  const inspector = await ctx.inspector();
  const [workloads, secrets, serviceAccounts] = await Promise.all([
    inspector.listWorkloadTemplates(namespace),
    inspector.listSecrets(namespace),
    kube.listServiceAccounts(namespace),
  ]);

  // IAM is read only for kube2iam roles, and its failure only limits the proposal.
  const annotated = [...new Set(workloads.map((w) => w.podAnnotations[KUBE2IAM_ANNOTATION] ?? w.annotations[KUBE2IAM_ANNOTATION]).filter((v): v is string => !!v))];
  const roles = new Map<string, RoleRead>();
  let region: string | undefined = globals.region;
  if (annotated.length > 0) {
    try {
      const iam = await ctx.iam();
      region ??= await ctx.region();
      const account = await iam.accountId();
      await Promise.all(annotated.map(async (value) => {
        const name = kube2iamRoleName(value);
        const roleAccount = kube2iamRoleAccount(value);
        if (!name) roles.set(value, { error: 'not a role name or role ARN' });
        else if (roleAccount && roleAccount !== account) roles.set(value, { error: `the role is in account ${roleAccount}, the credentials are for ${account} (use --profile)` });
        else roles.set(value, await iam.getRole(name).then((role) => ({ role }), (error: Error) => ({ error: error.message })));
      }));
    } catch (error) {
      for (const value of annotated) if (!roles.has(value)) roles.set(value, { error: (error as Error).message });
    }
  }
  if (!region) region = await ctx.region().catch(() => undefined);

  const report = audit({
    cluster: { name: cluster, ...(region ? { region } : {}), ...(issuerUrl ? { issuerUrl: issuerUrl.replace(/\/$/, '') } : {}) },
    workloads,
    secrets,
    serviceAccounts,
    roles,
  });
  const out = options['out'] as string | undefined;
  const irsaYaml = proposedIrsaYaml(report);
  const output = outputArg ?? createOutput(options);
  if (out) writeFileSync(out, irsaYaml);
  if (yamlOutput) output.out(irsaYaml);
  else if (globals.output === 'json') output.json({ findings: report.findings, bindings: report.bindings, irsaYaml });
  else output.out(renderAuditText(report) + (out ? `\nWrote ${out}. Next: irsa plan -f ${out}\n` : ''));
  return 0;
}
