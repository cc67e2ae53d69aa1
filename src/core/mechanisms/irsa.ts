// IRSA (IAM Roles for Service Accounts): the role trusts the cluster's OIDC provider for the
// ServiceAccount's token (sts:AssumeRoleWithWebIdentity, `sub` and `aud` conditions); the
// ServiceAccount carries the role ARN annotation the pod identity webhook reads; the IAM OIDC
// provider of the cluster's issuer must exist first.
// https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html

import type { BindingContext, BindingRequest } from '../model/binding.ts';
import { serviceAccountLabel, type ServiceAccountRef } from '../model/refs.ts';
import { changeKey } from '../plan.ts';
import {
  AUDIENCE_ANNOTATION,
  planServiceAccount,
  ROLE_ARN_ANNOTATION,
  STS_REGIONAL_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
} from '../resources/service-account.ts';
import { planWorkloadRestarts } from '../resources/workload.ts';
import { DEFAULT_AUDIENCE, serviceAccountSubject, type FederatedTrust } from '../trust-policy.ts';
import type { BindingMechanism, ClusterSidePlan } from './types.ts';

export function serviceAccountAnnotations(request: BindingRequest, roleArn: string): Record<string, string> {
  const annotations: Record<string, string> = { ...request.extraAnnotations, [ROLE_ARN_ANNOTATION]: roleArn };
  if (request.audience !== DEFAULT_AUDIENCE) annotations[AUDIENCE_ANNOTATION] = request.audience;
  if (request.stsRegionalEndpoints) annotations[STS_REGIONAL_ANNOTATION] = 'true';
  if (request.tokenExpiration !== undefined) annotations[TOKEN_EXPIRATION_ANNOTATION] = String(request.tokenExpiration);
  return annotations;
}

export function bindingTrust(request: BindingRequest, context: Pick<BindingContext, 'providerArn' | 'issuerHostPath'>): FederatedTrust {
  return {
    providerArn: context.providerArn,
    issuerHostPath: context.issuerHostPath,
    audience: request.audience,
    subjects: request.subjectPattern ? [] : [serviceAccountSubject(request.namespace, request.name)],
    subjectPatterns: request.subjectPattern ? [request.subjectPattern] : [],
  };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export const irsaMechanism: BindingMechanism = {
  name: 'irsa',
  trust: (request, context) => ({ federated: [bindingTrust(request, context)], statements: [] }),
  prerequisites: (_request, context) => (context.providerChange ? [changeKey(context.providerChange)] : []),
  clusterSide({ request, cluster, roleArn, dependsOn, observed, mode, terms, at, bindingIndex }): ClusterSidePlan {
    const saRef: ServiceAccountRef = { cluster, namespace: request.namespace, name: request.name };
    // Observed maps are keyed by `namespace/name` (one cluster's reads).
    const saKey = serviceAccountLabel(saRef);
    const result: ClusterSidePlan = { changes: [], blockers: [], warnings: [], changedServiceAccounts: [], workloadsNeedingRestart: [] };
    const sa = planServiceAccount({ ...saRef, annotations: serviceAccountAnnotations(request, roleArn) }, observed.serviceAccounts.get(saKey) ?? null, dependsOn);
    result.changes.push(sa.change);
    // The file is the declaration of who is bound to what; a command line must say it means to take an SA over.
    if (sa.conflictingRoleArn && mode === 'ensure' && !request.overrideExistingServiceAccounts) {
      result.blockers.push({
        code: 'service-account-bound-elsewhere',
        resource: changeKey(sa.change),
        message: `ServiceAccount ${saKey} is already bound to ${sa.conflictingRoleArn}. Nothing was changed.`,
        fix: `${capitalize(terms.enable(at('overrideExistingServiceAccounts')))} to re-annotate it with ${roleArn}.`,
        field: terms.name(at('overrideExistingServiceAccounts')),
        ...bindingIndex,
      });
    }
    if (sa.change.action === 'no-op') return result;
    result.changedServiceAccounts.push(saRef);
    const restarts = planWorkloadRestarts(cluster, sa.change, request.name, observed.workloads.get(saKey) ?? [], request.restartWorkloads);
    result.changes.push(...restarts.changes);
    result.workloadsNeedingRestart.push(...restarts.needingRestart);
    return result;
  },
};
