// irsa doctor: options, the cluster check and the output; engine/doctor.ts reads the whole IRSA
// chain of one ServiceAccount and core/doctor.ts decides each check; printed as ✓/✗/! lines. Exit 0 when nothing failed (warnings and skips included), 1 otherwise.

import { doctorExitCode } from '../core/doctor.ts';
import { renderDoctorText } from '../ui/doctor.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { UserError } from '../core/errors.ts';
import { assertNamespace, assertServiceAccountName } from '../core/names.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { readAndDiagnose } from '../engine/doctor.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { accessDoctor } from './doctor-access.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], outputArg?: Output): Promise<number> {
  const output = outputArg ?? createOutput(options);
  const globals = parseGlobals(options);
  const namespace = options['namespace'] as string | undefined;
  const name = options['name'] as string | undefined;
  if (!namespace) throw new UserError('-n, --namespace is required: the namespace of the ServiceAccount to check.', '--namespace');
  if (!name) throw new UserError('--name is required: the ServiceAccount to check.', '--name');
  assertNamespace(namespace);
  assertServiceAccountName(name);
  const ctx = createCommandContext(globals, {
    caBundle: options['caBundle'] as string | undefined,
    clusterProfile: options['clusterProfile'] as string | undefined,
  });
  const region = await ctx.region();
  const cluster = options['cluster'] as string | undefined;
  const issuer = await resolveIssuer({ cluster, issuerUrl: options['issuerUrl'] as string | undefined, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, tokenFor: { namespace, name }, writes: false });
  const [iam, kube] = await Promise.all([ctx.iam(), ctx.kube()]);
  const targetArgs = [
    issuer.cluster ? `--cluster ${issuer.cluster.name}` : `--issuer-url ${issuer.issuerUrl}`,
    ...(globals.region ? [`--region ${globals.region}`] : []),
    ...(globals.profile ? [`--profile ${globals.profile}`] : []),
  ].join(' ');
  const { checks, account, providerArn, role: roleState } = await readAndDiagnose(
    { namespace, name, issuer, region, targetArgs, assume: options['assume'] === true },
    { iam, kube, inspector: await ctx.inspector(), sts: ctx.sts, resolveThumbprints: ctx.resolveThumbprints },
  );

  // doctor --can (and the role's own access requests): identity, boundary, resource and key policies, each in its account.
  if (roleState) checks.push(...(await accessDoctor(options, roleState, iam, ctx, account)));

  // 7. Only its role? Every other path a compromised pod of this ServiceAccount has (issue 23).
  const { onlyItsRoleSection } = await import('../engine/only-its-role.ts');
  const only = await onlyItsRoleSection(ctx, { cluster: issuer.cluster?.name ?? null, namespace, name, providerArn, account, targetArgs, ownRole: roleState ?? null });
  const exitCode = Math.max(doctorExitCode(checks), only.exitCode);

  if (globals.output === 'json') {
    output.json({ serviceAccount: `${namespace}/${name}`, issuerUrl: issuer.issuerUrl, providerArn, ok: exitCode === 0, checks, onlyItsRole: only.report });
  } else {
    const c = output.paint;
    const heading = `irsa doctor ${namespace}/${name} (${issuer.cluster ? `cluster ${issuer.cluster.name}, ` : ''}issuer ${issuer.issuerUrl})`;
    output.out(renderDoctorText([...checks, ...only.report.checks], heading, { pass: c.green, fail: c.red, warn: c.yellow, dim: c.dim, bold: c.bold }));
  }
  return exitCode;
}
