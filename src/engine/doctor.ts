// irsa doctor's reads: the OIDC provider and the issuer's thumbprints, the ServiceAccount, its
// role, webhooks, pods, a server-side dry run, workload templates and key names, a minted token
// (and with --assume, STS) — in rounds, each read as early as what it needs is known — handed to
// the pure core/doctor.ts diagnose. Read-only. commands/doctor.ts parses, proves the cluster and prints.

import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { annotatedRole, audienceOf, diagnose, hostPathOf, type DoctorCheck, type DoctorInput, type Read } from '../core/doctor.ts';
import { decodeJwtClaims } from '../core/jwt.ts';
import type { ClusterInfo, RoleState } from '../core/state.ts';
import type { TokenClaims } from '../core/trust-policy.ts';
import type { IamGateway, KubeGateway, KubeInspector, StsGateway } from '../ports.ts';

// TokenRequest's minimum lifetime: the token only lives for this run.
const TOKEN_SECONDS = 600;

const settle = <T>(promise: Promise<T>): Promise<Read<T>> =>
  promise.then((value) => ({ value }), (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));

export interface DoctorTarget {
  namespace: string;
  name: string;
  issuer: { issuerUrl: string; cluster: ClusterInfo | null };
  region: string;
  /** The command's target flags, for the fixes doctor prints (--cluster …, --region …, --profile …). */
  targetArgs: string;
  /** --assume: also call sts:AssumeRoleWithWebIdentity with a minted token. */
  assume: boolean;
}

export interface DoctorDeps {
  iam: IamGateway;
  kube: KubeGateway;
  inspector: KubeInspector;
  sts: () => Promise<StsGateway>;
  resolveThumbprints: (issuerUrl: string) => Promise<{ thumbprints: string[]; warnings: string[] }>;
}

export interface Diagnosis {
  checks: DoctorCheck[];
  account: string;
  providerArn: string;
  /** The ServiceAccount's role, when it names one of this account and it was read. */
  role: RoleState | null;
}

export async function readAndDiagnose(target: DoctorTarget, deps: DoctorDeps): Promise<Diagnosis> {
  const { iam, kube, inspector } = deps;
  const { namespace, name, issuer } = target;
  const partition = partitionForRegion(target.region);
  const account = await iam.accountId();
  const providerArn = oidcProviderArn(partition, account, hostPathOf(issuer.issuerUrl));

  // Everything is read first; what one read needs from another is read in the next round.
  const [provider, thumbprints, serviceAccount, webhooks, pods] = await Promise.all([
    iam.getOidcProvider(providerArn),
    settle(deps.resolveThumbprints(issuer.issuerUrl).then((r) => r.thumbprints)),
    kube.getServiceAccount(namespace, name),
    settle(inspector.listMutatingWebhooks()),
    settle(kube.listPods(namespace, name)),
  ]);
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
  if (target.assume) {
    if (!usableRole) assume = { skipped: 'no usable role ARN on the ServiceAccount' };
    else if (!minted || 'error' in minted) assume = { skipped: 'no token could be minted' };
    else {
      const sts = await deps.sts();
      assume = await settle(sts.assumeRoleWithWebIdentity(usableRole.arn, minted.value, `irsa-doctor-${Date.now()}`).then((identity) => identity.arn));
    }
  }

  const checks = diagnose({
    namespace, name, issuerUrl: issuer.issuerUrl, targetArgs: target.targetArgs, account, partition,
    provider, otherProviderUrls, currentThumbprints: thumbprints, serviceAccount,
    role: roleState, token, webhooks, pods, assume, namespaceLabels, dryRun, templateEnv, secretKeys, configMapKeys,
  });
  return { checks, account, providerArn, role: roleState ?? null };
}
