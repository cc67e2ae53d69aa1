// `irsa list`'s rows for EKS Pod Identity bindings: one per association of the cluster, with the
// health of its role's trust (core/pods-eks-trust.ts podIdentityTrustVerdict). Pure.

import { parseArn } from './arn.ts';
import type { BindingRow } from './inventory.ts';
import { isOwnedByIrsa } from './ownership.ts';
import { podIdentityTrustVerdict } from './pods-eks-trust.ts';
import type { PodIdentityAssociationState } from './resources/pod-identity-association.ts';
import type { RoleState, ServiceAccountState } from './state.ts';

/** The role name of a role ARN (path dropped), or null. */
export function roleNameOfArn(arn: string): string | null {
  const parsed = parseArn(arn);
  if (!parsed || parsed.service !== 'iam' || !parsed.resource.startsWith('role/')) return null;
  return parsed.resource.split('/').pop() || null;
}

export function podIdentityRows(input: {
  associations: PodIdentityAssociationState[];
  clusterArn: string;
  roles: Map<string, RoleState | null>;
  serviceAccounts: ServiceAccountState[];
}): BindingRow[] {
  return input.associations.map((association) => {
    const roleName = roleNameOfArn(association.roleArn);
    const role = roleName ? (input.roles.get(roleName) ?? null) : null;
    const saExists = input.serviceAccounts.some((sa) => sa.namespace === association.namespace && sa.name === association.serviceAccount);
    let problem: string | null = null;
    let verdict: BindingRow['trustVerdict'] = null;
    if (!role) problem = 'role does not exist';
    else {
      verdict = podIdentityTrustVerdict(role.trustPolicy, { clusterArn: input.clusterArn, namespace: association.namespace, serviceAccount: association.serviceAccount, sessionTags: !association.disableSessionTags });
      if (verdict === 'cannot-decide') problem = 'irsa cannot decide whether the trust policy admits EKS Pod Identity for it (a statement of a shape irsa did not write, or a Deny)';
      else if (verdict === 'deny') problem = `the role's trust policy has no pods.eks.amazonaws.com statement for this cluster${association.disableSessionTags ? '' : ', namespace and ServiceAccount'}`;
    }
    if (!saExists) problem ??= 'the ServiceAccount does not exist';
    return {
      mechanism: 'pod-identity' as const,
      namespace: association.namespace,
      serviceAccount: association.serviceAccount,
      roleArn: association.targetRoleArn ? `${association.roleArn} → ${association.targetRoleArn}` : association.roleArn,
      roleExists: !!role,
      trustAdmits: verdict === 'allow',
      trustVerdict: verdict,
      // EKS Pod Identity needs no OIDC provider.
      providerExists: true,
      owner: role ? (isOwnedByIrsa(role.tags) ? 'irsa' : 'other') : 'unknown',
      problem,
    };
  });
}
