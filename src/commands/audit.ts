// irsa audit: read Secrets, workloads and ServiceAccounts (and the kube2iam roles they name),
// let core/audit.ts find what still uses static keys or kube2iam/kiam and propose an irsa.yaml.
// Read-only; exit 0 whatever it finds.

import { audit, kube2iamRoleAccount, kube2iamRoleName, KUBE2IAM_ANNOTATION, type RoleRead } from '../core/audit.ts';
import { proposedIrsaYaml, renderAuditText } from '../ui/audit.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { UserError } from '../core/errors.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import { assertClusterName, assertNamespace } from '../core/names.ts';
import { resolveIssuer } from '../engine/oidc.ts';
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

  const kube = await ctx.kube();
  const inspector = await ctx.inspector();
  const [workloads, secrets, serviceAccounts, configMaps] = await Promise.all([
    inspector.listWorkloadTemplates(namespace),
    inspector.listSecrets(namespace),
    kube.listServiceAccounts(namespace),
    // Keys in ConfigMaps are findings too; without list on configmaps audit says so and goes on.
    inspector.listConfigMapKeys(namespace).catch((error: Error) => {
      process.stderr.write(`Warning: could not list ConfigMaps${namespace ? ` in ${namespace}` : ''} (${error.message.split('\n')[0]}): AWS keys in ConfigMaps are not looked for.\n`);
      return undefined;
    }),
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

  const input = {
    cluster: { name: cluster, ...(region ? { region } : {}), ...(issuerUrl ? { issuerUrl: issuerUrl.replace(/\/$/, '') } : {}) },
    workloads,
    secrets,
    ...(configMaps ? { configMaps } : {}),
    serviceAccounts,
    roles,
  };
  let report = audit(input);
  // A proposed binding for a ServiceAccount that is already bound keeps that role's policies:
  // read those roles and propose again (pure, cheap), so applying the file never detaches them.
  const boundArns = [...new Set(report.bindings.filter((b) => !b.newServiceAccount).map((b) => serviceAccounts.find((sa) => sa.namespace === b.namespace && sa.name === b.name)?.annotations[ROLE_ARN_ANNOTATION]).filter((arn): arn is string => !!arn))];
  if (boundArns.length > 0) {
    const boundRoles = new Map<string, RoleRead>();
    try {
      const iam = await ctx.iam();
      await Promise.all(boundArns.map(async (arn) => {
        const name = kube2iamRoleName(arn);
        boundRoles.set(arn, name ? await iam.getRole(name).then((role) => ({ role }), (error: Error) => ({ error: error.message })) : { error: 'not a role ARN' });
      }));
    } catch (error) {
      for (const arn of boundArns) if (!boundRoles.has(arn)) boundRoles.set(arn, { error: (error as Error).message });
    }
    report = audit({ ...input, boundRoles });
  }
  const out = options['out'] as string | undefined;
  const irsaYaml = proposedIrsaYaml(report);
  const output = outputArg ?? createOutput(options);
  if (out) writeOut(out, irsaYaml);
  if (yamlOutput) output.out(irsaYaml);
  else if (globals.output === 'json') output.json({ findings: report.findings, bindings: report.bindings, irsaYaml });
  else output.out(renderAuditText(report) + (out ? `\nWrote ${out}. Next: irsa plan -f ${out}\n` : ''));
  return 0;
}
