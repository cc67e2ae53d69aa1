// The health of every IRSA binding in a cluster, computed from what was read. Used by `list`.

import { parseRoleArn } from './arn.ts';
import { isOwnedByIrsa } from './ownership.ts';
import { AUDIENCE_ANNOTATION, ROLE_ARN_ANNOTATION } from './resources/service-account.ts';
import type { RoleState, ServiceAccountState } from './state.ts';
import { DEFAULT_AUDIENCE, evaluateTrustPolicy, serviceAccountSubject, type TrustVerdict } from './trust-policy.ts';
import { UserError } from './errors.ts';

export interface BindingRow {
  /** How the ServiceAccount gets its role: the role-arn annotation (irsa) or an EKS Pod Identity association. */
  mechanism: 'irsa' | 'pod-identity';
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  roleExists: boolean;
  trustAdmits: boolean;
  /** allow / deny / cannot-decide (then trustAdmits is false and the table shows "?"). */
  trustVerdict: TrustVerdict | null;
  providerExists: boolean;
  owner: 'irsa' | 'other' | 'unknown';
  /** Why trustAdmits is false, for people. */
  problem: string | null;
}

/** The role name in an annotation, or null when the annotation is not a role ARN. */
export function roleNameFromAnnotation(value: string): string | null {
  try {
    return parseRoleArn(value, ROLE_ARN_ANNOTATION).name;
  } catch (error) {
    if (error instanceof UserError) return null;
    throw error;
  }
}

export function inventoryRows(input: {
  serviceAccounts: ServiceAccountState[];
  roles: Map<string, RoleState | null>;
  issuerUrl: string;
  providerArn: string;
  providerExists: boolean;
}): BindingRow[] {
  const rows: BindingRow[] = [];
  for (const sa of input.serviceAccounts) {
    const roleArn = sa.annotations[ROLE_ARN_ANNOTATION];
    if (!roleArn) continue;
    const roleName = roleNameFromAnnotation(roleArn);
    const role = roleName ? (input.roles.get(roleName) ?? null) : null;
    const audience = sa.annotations[AUDIENCE_ANNOTATION] ?? DEFAULT_AUDIENCE;
    let trustAdmits = false;
    let trustVerdict: TrustVerdict | null = null;
    let problem: string | null = null;
    if (!roleName) problem = 'annotation is not a role ARN';
    else if (!role) problem = 'role does not exist';
    else {
      const evaluation = evaluateTrustPolicy(role.trustPolicy, input.providerArn, {
        iss: input.issuerUrl,
        sub: serviceAccountSubject(sa.namespace, sa.name),
        aud: [audience],
      });
      trustAdmits = evaluation.allowed;
      trustVerdict = evaluation.verdict;
      if (evaluation.verdict === 'cannot-decide') problem = `irsa cannot decide whether the trust policy admits it: ${evaluation.undecided.join('; ')}`;
      else if (!trustAdmits) problem = evaluation.reasons[0] ?? 'no statement admits this ServiceAccount';
    }
    if (!input.providerExists) problem ??= 'the cluster\'s IAM OIDC provider does not exist';
    rows.push({
      mechanism: 'irsa',
      namespace: sa.namespace,
      serviceAccount: sa.name,
      roleArn,
      roleExists: !!role,
      trustAdmits,
      trustVerdict,
      providerExists: input.providerExists,
      owner: role ? (isOwnedByIrsa(role.tags) ? 'irsa' : 'other') : 'unknown',
      problem,
    });
  }
  return rows.sort((a, b) => `${a.namespace}/${a.serviceAccount}`.localeCompare(`${b.namespace}/${b.serviceAccount}`));
}
