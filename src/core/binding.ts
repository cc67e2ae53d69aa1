// A binding is one ServiceAccount trusted by one IAM role. This module turns validated options
// into desired state and plans the whole binding: provider, role, policies, namespace,
// ServiceAccount and workload restarts. Pure: the command reads, this decides.

import { roleArn as buildRoleArn } from './arn.ts';
import { ConflictError } from './errors.ts';
import { roleOwnershipTags } from './ownership.ts';
import { changeKey, emptyPlan, type Change, type Plan } from './plan.ts';
import { planRole, type DesiredRole } from './resources/iam-role.ts';
import {
  AUDIENCE_ANNOTATION,
  planServiceAccount,
  ROLE_ARN_ANNOTATION,
  STS_REGIONAL_ANNOTATION,
  TOKEN_EXPIRATION_ANNOTATION,
} from './resources/service-account.ts';
import { planWorkloadRestarts } from './resources/workload.ts';
import type { RoleState, ServiceAccountState, Tags, WorkloadRef } from './state.ts';
import type { MigrationOptions } from './migration.ts';
import { DEFAULT_AUDIENCE, serviceAccountSubject, stringLike, type FederatedTrust } from './trust-policy.ts';

export interface BindingRequest {
  cluster: string;
  namespace: string;
  name: string;
  roleName: string;
  rolePath: string;
  /** Bind to this existing role and only add trust (--attach-role-arn). */
  attachRoleArn: string | null;
  audience: string;
  subjectPattern: string | null;
  policyArns: string[];
  inlinePolicies: Record<string, unknown>;
  permissionsBoundary?: string | null;
  maxSessionDuration?: number;
  description?: string;
  tags: Tags;
  prune: boolean;
  adopt: boolean;
  roleOnly: boolean;
  createNamespace: boolean;
  overrideExistingServiceAccounts: boolean;
  stsRegionalEndpoints: boolean;
  tokenExpiration?: number;
  restartWorkloads: boolean;
  trustPolicySizeLimit?: number;
  /** Further ServiceAccount annotations irsa keeps set (the declarative file's `annotations`). */
  extraAnnotations?: Record<string, string>;
  /** Static-key and kube2iam migrations of the workloads that use the ServiceAccount (core/migration.ts). */
  migration?: MigrationOptions;
}

export interface BindingContext {
  partition: string;
  /** Account the role and provider live in (IAM credentials). */
  account: string;
  providerArn: string;
  issuerHostPath: string;
  /** The provider's change (create/update/no-op); the role depends on it. */
  providerChange: Change | null;
}

export interface BindingObserved {
  role: RoleState | null;
  namespaceExists: boolean;
  serviceAccount: ServiceAccountState | null;
  workloads: WorkloadRef[];
}

export interface BindingPlan {
  plan: Plan;
  roleArn: string;
  /** Set when apply must not run (a conflict the plan shows). */
  refuse: string | null;
  /** Workloads whose pods keep their old identity until restarted (not restarted by this plan). */
  workloadsNeedingRestart: WorkloadRef[];
}

export function bindingRoleArn(request: BindingRequest, context: Pick<BindingContext, 'partition' | 'account'>): string {
  return request.attachRoleArn ?? buildRoleArn(context.partition, context.account, request.rolePath, request.roleName);
}

export function desiredRoleForBinding(request: BindingRequest, context: BindingContext): DesiredRole {
  const subject = serviceAccountSubject(request.namespace, request.name);
  const trust: FederatedTrust = {
    providerArn: context.providerArn,
    issuerHostPath: context.issuerHostPath,
    audience: request.audience,
    subjects: request.subjectPattern ? [] : [subject],
    subjectPatterns: request.subjectPattern ? [request.subjectPattern] : [],
  };
  return {
    arn: bindingRoleArn(request, context),
    name: request.roleName,
    path: request.rolePath,
    account: context.account,
    mode: 'ensure',
    trusts: [trust],
    managedPolicyArns: request.policyArns,
    inlinePolicies: request.inlinePolicies,
    ...(request.description !== undefined ? { description: request.description } : {}),
    ...(request.maxSessionDuration !== undefined ? { maxSessionDuration: request.maxSessionDuration } : {}),
    ...(request.permissionsBoundary !== undefined ? { permissionsBoundary: request.permissionsBoundary } : {}),
    tags: request.tags,
    ownershipTags: roleOwnershipTags(request.cluster, request.namespace, request.name),
    prune: request.prune,
    adopt: request.adopt,
    trustOnly: request.attachRoleArn !== null,
    ...(request.trustPolicySizeLimit !== undefined ? { trustPolicySizeLimit: request.trustPolicySizeLimit } : {}),
    dependsOn: context.providerChange ? [changeKey(context.providerChange)] : [],
  };
}

export function serviceAccountAnnotations(request: BindingRequest, roleArn: string): Record<string, string> {
  const annotations: Record<string, string> = { ...request.extraAnnotations, [ROLE_ARN_ANNOTATION]: roleArn };
  if (request.audience !== DEFAULT_AUDIENCE) annotations[AUDIENCE_ANNOTATION] = request.audience;
  if (request.stsRegionalEndpoints) annotations[STS_REGIONAL_ANNOTATION] = 'true';
  if (request.tokenExpiration !== undefined) annotations[TOKEN_EXPIRATION_ANNOTATION] = String(request.tokenExpiration);
  return annotations;
}

export function planBinding(request: BindingRequest, context: BindingContext, observed: BindingObserved): BindingPlan {
  const plan = emptyPlan();
  if (context.providerChange) plan.changes.push(context.providerChange);
  const desiredRole = desiredRoleForBinding(request, context);
  const roleArn = desiredRole.arn;
  const role = planRole(desiredRole, observed.role);
  plan.changes.push(...role.changes);
  plan.warnings.push(...role.warnings);

  if (request.subjectPattern) {
    const subject = serviceAccountSubject(request.namespace, request.name);
    plan.warnings.push(
      `--subject-pattern ${request.subjectPattern} lets every ServiceAccount whose subject matches it assume ${request.roleName}, not only ${request.namespace}/${request.name}`,
    );
    if (!stringLike(request.subjectPattern, subject)) {
      throw new ConflictError(
        `--subject-pattern: "${request.subjectPattern}" does not match this ServiceAccount's subject ${subject}, so the role would not trust it. Use a pattern such as system:serviceaccount:${request.namespace}:*.`,
        '--subject-pattern',
      );
    }
  }

  let refuse: string | null = null;
  const workloadsNeedingRestart: WorkloadRef[] = [];
  if (!request.roleOnly) {
    const roleKey = changeKey({ kind: 'iam-role', id: roleArn });
    const saDependsOn = [roleKey];
    if (!observed.namespaceExists) {
      if (!request.createNamespace) {
        throw new ConflictError(
          `--namespace: namespace "${request.namespace}" does not exist in the cluster. Create it, pass --create-namespace, or pass --role-only to create only the IAM role.`,
          '--namespace',
        );
      }
      const namespaceChange: Change = { kind: 'namespace', id: request.namespace, action: 'create', before: null, after: { name: request.namespace }, dependsOn: [] };
      plan.changes.push(namespaceChange);
      saDependsOn.push(changeKey(namespaceChange));
    }
    const sa = planServiceAccount(
      { namespace: request.namespace, name: request.name, annotations: serviceAccountAnnotations(request, roleArn) },
      observed.serviceAccount,
      saDependsOn,
    );
    plan.changes.push(sa.change);
    if (sa.conflictingRoleArn && !request.overrideExistingServiceAccounts) {
      refuse = `ServiceAccount ${request.namespace}/${request.name} is already bound to ${sa.conflictingRoleArn}. Nothing was changed. Pass --override-existing-serviceaccounts to re-annotate it with ${roleArn}.`;
    }
    const restarts = planWorkloadRestarts(sa.change, request.name, observed.workloads, request.restartWorkloads);
    plan.changes.push(...restarts.changes);
    workloadsNeedingRestart.push(...restarts.needingRestart);
  }
  return { plan, roleArn, refuse, workloadsNeedingRestart };
}
