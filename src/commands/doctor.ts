// irsa doctor: read the whole IRSA chain of one ServiceAccount, let core/doctor.ts decide each
// check, print ✓/✗/! lines. Exit 0 when nothing failed (warnings and skips included), 1 otherwise.

import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { annotatedRole, audienceOf, diagnose, doctorExitCode, hostPathOf, type DoctorInput, type Read } from '../core/doctor.ts';
import { renderDoctorText } from '../ui/doctor.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { UserError } from '../core/errors.ts';
import { decodeJwtClaims } from '../core/jwt.ts';
import { assertNamespace, assertServiceAccountName } from '../core/names.ts';
import type { TokenClaims } from '../core/trust-policy.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { accessDoctor } from './doctor-access.ts';
import type { DryRunInput } from '../core/admission.ts';
import type { DoctorCheck } from '../core/model/doctor.ts';
import { podIdentityChecks } from '../core/pod-identity-doctor.ts';
import { roleNameOfArn } from '../core/pod-identity-inventory.ts';
import type { ClusterInfo, ServiceAccountState } from '../core/state.ts';
import { readPodIdentity } from '../engine/pod-identity-reads.ts';
import type { IamGateway, KubeInspector, PodIdentityGateway } from '../ports.ts';

// TokenRequest's minimum lifetime: the token only lives for this run.
const TOKEN_SECONDS = 600;

const settle = <T>(promise: Promise<T>): Promise<Read<T>> =>
  promise.then((value) => ({ value }), (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));

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
  const inspector = await ctx.inspector();
  const partition = partitionForRegion(region);
  const account = await iam.accountId();
  const providerArn = oidcProviderArn(partition, account, hostPathOf(issuer.issuerUrl));

  // Everything is read first; what one read needs from another is read in the next round.
  const [provider, thumbprints, serviceAccount, webhooks, pods] = await Promise.all([
    iam.getOidcProvider(providerArn),
    settle(ctx.resolveThumbprints(issuer.issuerUrl).then((r) => r.thumbprints)),
    kube.getServiceAccount(namespace, name),
    settle(inspector.listMutatingWebhooks()),
    settle(kube.listPods(namespace, name)),
  ]);
  // EKS Pod Identity takes precedence over the annotation: a ServiceAccount with an association is
  // judged as a Pod Identity binding (docs/irsa-or-pod-identity.md).
  if (issuer.cluster) {
    const piChecks = await podIdentityDoctor(ctx, iam, inspector, { cluster: issuer.cluster, region, namespace, name, serviceAccount, account, targetArgs: targetArgsOf(issuer, globals) });
    if (piChecks) {
      const exitCode = doctorExitCode(piChecks);
      if (globals.output === 'json') output.json({ serviceAccount: `${namespace}/${name}`, mechanism: 'pod-identity', cluster: issuer.cluster.name, ok: exitCode === 0, checks: piChecks });
      else {
        const c = output.paint;
        output.out(renderDoctorText(piChecks, `irsa doctor ${namespace}/${name} (cluster ${issuer.cluster.name}, EKS Pod Identity)`, { pass: c.green, fail: c.red, warn: c.yellow, dim: c.dim, bold: c.bold }));
      }
      return exitCode;
    }
  }
  const role = annotatedRole(serviceAccount);
  const usableRole = role && 'arn' in role && role.account === account ? role : null;
  // The dry run, the namespace's labels (for selectors), workload templates (which variables a
  // container sets itself) and Secret key names (static keys loaded through envFrom) are read only
  // when there is a binding to judge; each may be forbidden by RBAC without stopping the others.
  const judging = serviceAccount !== null && usableRole !== null;
  const [namespaceLabels, dryRun, templates, secrets, configMaps] = await Promise.all([
    settle(inspector.namespaceLabels(namespace)),
    judging ? inspector.dryRunPods(namespace, name) : Promise.resolve(undefined),
    judging ? settle(inspector.listWorkloadTemplates(namespace)) : Promise.resolve({ value: [] }),
    judging ? settle(inspector.listSecrets(namespace)) : Promise.resolve({ error: 'not read' }),
    // Static keys reach containers from ConfigMaps too (envFrom needs their key names).
    judging ? settle(inspector.listConfigMapKeys(namespace)) : Promise.resolve({ error: 'not read' }),
  ]);
  const templateEnv = new Map(
    ('value' in templates ? templates.value : []).map((t) => [`${t.kind}/${t.name}`, new Map(t.containers.map((c) => [c.name, new Set(c.env.map((e) => e.name))]))]),
  );
  const secretKeys = 'value' in secrets ? new Map(secrets.value.map((s) => [s.name, s.keys])) : null;
  const configMapKeys = 'value' in configMaps ? new Map(configMaps.value.map((c) => [c.name, c.keys])) : null;
  const [roleState, minted, otherProviderUrls] = await Promise.all([
    usableRole ? iam.getRole(usableRole.name) : Promise.resolve(undefined),
    // The token is a credential: it stays in this function, is sent only to STS, never printed.
    serviceAccount ? settle(kube.createToken(namespace, name, audienceOf(serviceAccount), TOKEN_SECONDS)) : Promise.resolve(undefined),
    provider ? Promise.resolve([]) : iam.listOidcProviderArns().then((arns) => arns.map((arn) => arn.split(':oidc-provider/')[1] ?? arn)),
  ]);
  let token: Read<TokenClaims> | undefined;
  if (minted) {
    try {
      token = 'value' in minted ? { value: decodeJwtClaims(minted.value) } : minted;
    } catch (error) {
      token = { error: (error as Error).message };
    }
  }

  let assume: DoctorInput['assume'];
  if (options['assume'] === true) {
    if (!usableRole) assume = { skipped: 'no usable role ARN on the ServiceAccount' };
    else if (!minted || 'error' in minted) assume = { skipped: 'no token could be minted' };
    else {
      const sts = await ctx.sts();
      assume = await settle(sts.assumeRoleWithWebIdentity(usableRole.arn, minted.value, `irsa-doctor-${Date.now()}`).then((identity) => identity.arn));
    }
  }

  const targetArgs = targetArgsOf(issuer, globals);
  const checks = diagnose({
    namespace, name, issuerUrl: issuer.issuerUrl, targetArgs, account, partition,
    provider, otherProviderUrls, currentThumbprints: thumbprints, serviceAccount,
    role: roleState, token, webhooks, pods, assume, namespaceLabels, dryRun, templateEnv, secretKeys, configMapKeys,
  });

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

function targetArgsOf(issuer: { issuerUrl: string; cluster: ClusterInfo | null }, globals: ReturnType<typeof parseGlobals>): string {
  return [
    issuer.cluster ? `--cluster ${issuer.cluster.name}` : `--issuer-url ${issuer.issuerUrl}`,
    ...(globals.region ? [`--region ${globals.region}`] : []),
    ...(globals.profile ? [`--profile ${globals.profile}`] : []),
  ].join(' ');
}

/**
 * The Pod Identity checks of a ServiceAccount that has an EKS Pod Identity association; null when
 * it has none (or the associations cannot be listed: the IRSA checks run as before). One filtered
 * ListPodIdentityAssociations for an IRSA ServiceAccount; the rest only for an associated one.
 */
async function podIdentityDoctor(
  ctx: ReturnType<typeof createCommandContext>,
  iam: IamGateway,
  inspector: KubeInspector,
  input: { cluster: ClusterInfo; region: string; namespace: string; name: string; serviceAccount: ServiceAccountState | null; account: string; targetArgs: string },
): Promise<DoctorCheck[] | null> {
  let gateway: PodIdentityGateway;
  try {
    gateway = await ctx.podIdentity();
    const listed = await gateway.listAssociations(input.cluster.name, { namespace: input.namespace, serviceAccount: input.name });
    if (!listed.some((a) => a.namespace === input.namespace && a.serviceAccount === input.name)) return null;
  } catch {
    return null;
  }
  const reads = await readPodIdentity(gateway, { cluster: input.cluster, clusterLabel: input.cluster.name, region: input.region }, [{ namespace: input.namespace, name: input.name }]);
  const association = reads.associations.get(`${input.namespace}/${input.name}`) ?? null;
  const roleName = association ? roleNameOfArn(association.roleArn) : null;
  // The association's role is in the cluster's account; read it only when the IAM credentials are there too.
  const sameAccount = association?.roleArn.split(':')[4] === input.account;
  const [role, dryRuns] = await Promise.all([
    roleName && sameAccount ? iam.getRole(roleName) : Promise.resolve(undefined),
    inspector.dryRunPods(input.namespace, input.name).catch(() => [] as DryRunInput[]),
  ]);
  const dryRun = dryRuns.find((d) => !d.fromWorkload) ?? dryRuns[0];
  return podIdentityChecks({ cluster: input.cluster.name, namespace: input.namespace, name: input.name, reads, serviceAccount: input.serviceAccount, role, dryRun, targetArgs: input.targetArgs });
}
