// irsa audit's reads and decisions: Secrets, ConfigMaps, workloads and ServiceAccounts, then the
// IAM roles kube2iam annotations and already-bound ServiceAccounts name, handed to the pure
// core/audit.ts. Read-only. commands/audit.ts parses options, proves the cluster and prints.

import { audit, kube2iamRoleAccount, kube2iamRoleName, KUBE2IAM_ANNOTATION, type AuditReport, type RoleRead } from '../core/audit.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import type { IamGateway, KubeGateway, KubeInspector } from '../ports.ts';

export interface AuditDeps {
  kube: KubeGateway;
  inspector: KubeInspector;
  /** Opened only when a workload names a role (IAM is optional for audit). */
  iam: () => Promise<IamGateway>;
  /** The region for the proposal's cluster (undefined when unknown: AWS is optional for audit). */
  region: () => Promise<string | undefined>;
  /** A read that limits the audit without stopping it (ConfigMaps not listable). */
  warn: (line: string) => void;
}

export interface AuditTarget {
  cluster: string;
  issuerUrl?: string;
  namespace?: string;
  /** --region, when given. */
  region?: string;
}

export async function readAndAudit(target: AuditTarget, deps: AuditDeps): Promise<AuditReport> {
  const { kube, inspector } = deps;
  const { namespace } = target;
  const [workloads, secrets, serviceAccounts, configMaps] = await Promise.all([
    inspector.listWorkloadTemplates(namespace),
    inspector.listSecrets(namespace),
    kube.listServiceAccounts(namespace),
    // Keys in ConfigMaps are findings too; without list on configmaps audit says so and goes on.
    inspector.listConfigMapKeys(namespace).catch((error: Error) => {
      deps.warn(`Warning: could not list ConfigMaps${namespace ? ` in ${namespace}` : ''} (${error.message.split('\n')[0]}): AWS keys in ConfigMaps are not looked for.`);
      return undefined;
    }),
  ]);

  // IAM is read only for kube2iam roles, and its failure only limits the proposal.
  const annotated = [...new Set(workloads.map((w) => w.podAnnotations[KUBE2IAM_ANNOTATION] ?? w.annotations[KUBE2IAM_ANNOTATION]).filter((v): v is string => !!v))];
  const roles = new Map<string, RoleRead>();
  let region: string | undefined = target.region;
  if (annotated.length > 0) {
    try {
      const iam = await deps.iam();
      region ??= await deps.region();
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
  if (!region) region = await deps.region().catch(() => undefined);

  const input = {
    cluster: { name: target.cluster, ...(region ? { region } : {}), ...(target.issuerUrl ? { issuerUrl: target.issuerUrl.replace(/\/$/, '') } : {}) },
    workloads,
    secrets,
    ...(configMaps ? { configMaps } : {}),
    serviceAccounts,
    roles,
  };
  const report = audit(input);
  // A proposed binding for a ServiceAccount that is already bound keeps that role's policies:
  // read those roles and propose again (pure, cheap), so applying the file never detaches them.
  const boundArns = [...new Set(report.bindings.filter((b) => !b.newServiceAccount).map((b) => serviceAccounts.find((sa) => sa.namespace === b.namespace && sa.name === b.name)?.annotations[ROLE_ARN_ANNOTATION]).filter((arn): arn is string => !!arn))];
  if (boundArns.length === 0) return report;
  const boundRoles = new Map<string, RoleRead>();
  try {
    const iam = await deps.iam();
    await Promise.all(boundArns.map(async (arn) => {
      const name = kube2iamRoleName(arn);
      boundRoles.set(arn, name ? await iam.getRole(name).then((role) => ({ role }), (error: Error) => ({ error: error.message })) : { error: 'not a role ARN' });
    }));
  } catch (error) {
    for (const arn of boundArns) if (!boundRoles.has(arn)) boundRoles.set(arn, { error: (error as Error).message });
  }
  return audit({ ...input, boundRoles });
}
