// EKS Pod Identity: the role trusts pods.eks.amazonaws.com, conditioned on this cluster (and, with
// session tags, this namespace and ServiceAccount: core/pods-eks-trust.ts); an EKS Pod Identity
// association names the role for the ServiceAccount (core/resources/pod-identity-association.ts);
// the ServiceAccount needs no role-arn annotation; the eks-pod-identity-agent add-on must run on
// the nodes (core/resources/eks-addon.ts); no OIDC provider is needed.
// https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
//
// What it plans from is read by the engine into `observed.podIdentity` (the cluster's ARN, the
// association of each ServiceAccount, the agent add-on). Without those reads it plans nothing and
// says so as a blocker: never a false "nothing to do".

import type { BindingRequest } from '../model/binding.ts';
import { clusterRef, serviceAccountLabel, type ServiceAccountRef } from '../model/refs.ts';
import { changeKey, emptyPlan, type Blocker, type Plan } from '../plan.ts';
import { isOwnedByIrsa, SA_CREATED_BY_LABEL, SA_CREATED_BY_VALUE } from '../ownership.ts';
import { planRoleDeletion, roleValue } from '../resources/iam-role.ts';
import type { Terms } from '../terms.ts';
import { clusterArnAccount, podIdentityStatement, removePodIdentitySubject } from '../pods-eks-trust.ts';
import { roleAccountProblem } from '../pod-identity-input.ts';
import { planPodIdentityAgent, type EksAddonState } from '../resources/eks-addon.ts';
import { planAssociation, planAssociationRemoval, type PodIdentityAssociationState } from '../resources/pod-identity-association.ts';
import { planServiceAccount, planServiceAccountRemoval, ROLE_ARN_ANNOTATION } from '../resources/service-account.ts';
import { planTargetRoleTrust } from '../resources/target-role-trust.ts';
import { parseArn } from '../arn.ts';
import type { RoleState, ServiceAccountState } from '../state.ts';
import { planWorkloadRestarts } from '../resources/workload.ts';
import type { BindingMechanism, ClusterSidePlan } from './types.ts';
import { fargateUnavailability, type FargateSelector, type Unavailable } from '../pod-identity-availability.ts';

/** The binding's Pod Identity settings (flags / irsa.yaml), validated by core/pod-identity-input.ts. */
export interface PodIdentitySettings {
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  /** Session policy, compact JSON. */
  policy: string | null;
  /** The user lets irsa add the eks-pod-identity-agent add-on when it is missing. */
  installAgent: boolean;
}

/** What the engine read for Pod Identity bindings of one cluster. */
export interface PodIdentityObserved {
  /** arn:<partition>:eks:<region>:<account>:cluster/<name> */
  clusterArn: string;
  /** By `namespace/name`: the association of exactly that ServiceAccount, or null. */
  associations: Map<string, PodIdentityAssociationState | null>;
  /** The eks-pod-identity-agent add-on, null when it is not installed. */
  agent: EksAddonState | null;
  /** Cluster-wide reasons Pod Identity cannot work here (not EKS, a China region, only Windows nodes): core/pod-identity-availability.ts. */
  unavailable: Unavailable[];
  /** Fargate profiles' selectors: a binding whose namespace one selects is blocked (its pods may run on Fargate). */
  fargateSelectors?: FargateSelector[];
  /** Said once per plan (some Windows nodegroups). */
  warnings?: string[];
  /** Cross-account target roles by ARN, read in their own account; 'no-profile': irsa has no profile for that account. */
  targetRoles?: Map<string, RoleState | null | 'no-profile'>;
}

declare module '../model/binding.ts' {
  interface MechanismNames {
    'pod-identity': true;
  }
  interface BindingRequest {
    podIdentity?: PodIdentitySettings;
  }
  interface BindingsObserved {
    podIdentity?: PodIdentityObserved;
  }
  interface BindingContext {
    /** The cluster's ARN, for the pods.eks trust's aws:SourceArn (read with observed.podIdentity). */
    podIdentityClusterArn?: string;
  }
}

const DEFAULT_SETTINGS: PodIdentitySettings = { targetRoleArn: null, disableSessionTags: false, policy: null, installAgent: false };
const settingsOf = (request: BindingRequest): PodIdentitySettings => request.podIdentity ?? DEFAULT_SETTINGS;

export const podIdentityMechanism: BindingMechanism = {
  name: 'pod-identity',
  trust: (request, context) => {
    // The cluster's ARN is known from the reads; the trust statement needs it. Without it the
    // cluster side blocks (below), and the statement built from the context alone would be wrong.
    const clusterArn = context.podIdentityClusterArn;
    if (!clusterArn) return { federated: [], statements: [] };
    const settings = settingsOf(request);
    return {
      federated: [],
      statements: [podIdentityStatement({ clusterArn, namespace: settings.disableSessionTags ? null : request.namespace, serviceAccounts: [request.name] })],
    };
  },
  // No OIDC provider: the role waits for nothing.
  prerequisites: () => [],
  clusterSide({ request, cluster, roleArn, dependsOn, observed, bindingIndex, terms, at }): ClusterSidePlan {
    const result: ClusterSidePlan = { changes: [], blockers: [], warnings: [], changedServiceAccounts: [], workloadsNeedingRestart: [] };
    const saRef: ServiceAccountRef = { cluster, namespace: request.namespace, name: request.name };
    const saKey = serviceAccountLabel(saRef);
    const reads = observed.podIdentity;
    const mechanismField = terms.name(at('mechanism'));
    const useIrsa = `use IRSA for this binding (${mechanismField} irsa)`;
    const block = (blocker: Omit<Blocker, 'binding'>) => result.blockers.push({ ...blocker, ...bindingIndex });
    if (!reads) {
      block({ code: 'pod-identity-unavailable', resource: `pod-identity-association:${cluster.name}/${saKey}`, message: `irsa did not read the EKS Pod Identity state of ${cluster.name}`, fix: useIrsa, field: mechanismField });
      return result;
    }
    for (const { resource, reason } of [...reads.unavailable, ...fargateUnavailability(cluster.name, request.namespace, reads.fargateSelectors ?? [])]) {
      block({ code: 'pod-identity-unavailable', resource, message: `EKS Pod Identity cannot work for ${saKey}: ${reason}`, fix: useIrsa, field: mechanismField });
    }
    // The association's role must be in the cluster's account (CreatePodIdentityAssociation,
    // roleArn); a role of another account is reached through targetRoleArn.
    const accountProblem = reads.clusterArn ? roleAccountProblem(roleArn, clusterArnAccount(reads.clusterArn), { targetRoleArn: terms.name(at('targetRoleArn')) }) : null;
    if (accountProblem) {
      block({
        code: 'pod-identity-unavailable',
        resource: `iam-role:${roleArn}`,
        message: `the association's role: ${accountProblem}`,
        fix: `use --profile (irsa.yaml: iam.profile) of the cluster's account for the association's role, and ${terms.name(at('targetRoleArn'))} for the role in the other account`,
        field: terms.name(at('targetRoleArn')),
      });
    }
    const settings = settingsOf(request);
    const agent = planPodIdentityAgent(cluster.name, reads.agent, { install: settings.installAgent, installField: terms.name(at('installPodIdentityAgent')) });
    result.changes.push(agent.change);
    result.warnings.push(...agent.warnings);
    if (agent.blocker) block(agent.blocker);

    // The ServiceAccount must exist; it carries no role-arn annotation for Pod Identity (an existing
    // one is left: Pod Identity takes precedence over it, and `irsa migrate` removes it).
    const sa = planServiceAccount({ ...saRef, annotations: {} }, observed.serviceAccounts.get(saKey) ?? null, dependsOn);
    result.changes.push(sa.change);

    const association = planAssociation(
      { cluster: cluster.name, namespace: request.namespace, serviceAccount: request.name, roleArn, targetRoleArn: settings.targetRoleArn, disableSessionTags: settings.disableSessionTags, policy: settings.policy },
      reads.associations.get(saKey) ?? null,
      { override: request.overrideExistingServiceAccounts, overrideField: terms.name(at('overrideExistingServiceAccounts')), dependsOn: [...dependsOn, changeKey(agent.change)] },
    );
    if (association.blocker) block(association.blocker);
    if (!association.change) return result;
    result.changes.push(association.change);
    if (settings.targetRoleArn) {
      const observedAssociation = reads.associations.get(saKey) ?? null;
      const target = planTarget(settings, roleArn, observedAssociation?.targetRoleArn === settings.targetRoleArn ? observedAssociation.externalId : null, {
        read: reads.targetRoles?.get(settings.targetRoleArn),
        association: { cluster: cluster.name, namespace: request.namespace, serviceAccount: request.name },
        dependsOn: [changeKey(association.change)],
        field: terms.name(at('targetRoleArn')),
      });
      if (target.change) result.changes.push(target.change);
      if (target.blocker) block(target.blocker);
    }
    if (association.change.action === 'no-op') return result;
    result.changedServiceAccounts.push(saRef);
    // Only pods created after the association get its credentials (EKS User Guide, pod-id-association).
    const restarts = planWorkloadRestarts(cluster, association.change, request.name, observed.workloads.get(saKey) ?? [], request.restartWorkloads);
    result.changes.push(...restarts.changes);
    result.workloadsNeedingRestart.push(...restarts.needingRestart);
    return result;
  },
};

/**
 * The target role's trust, planned in its own account: the statement admitting the association's
 * role (core/resources/target-role-trust.ts). A target role irsa cannot read (no profile for its
 * account) or that does not exist is a blocker: irsa neither guesses its trust nor creates it.
 */
function planTarget(
  settings: PodIdentitySettings,
  sourceRoleArn: string,
  externalId: string | null,
  input: { read: RoleState | null | 'no-profile' | undefined; association: { cluster: string; namespace: string; serviceAccount: string }; dependsOn: string[]; field: string },
): { change: ReturnType<typeof planTargetRoleTrust> | null; blocker: Omit<Blocker, 'binding'> | null } {
  const targetRoleArn = settings.targetRoleArn!;
  const account = parseArn(targetRoleArn)?.account ?? '';
  const resource = `target-role-trust:${targetRoleArn}`;
  if (input.read === undefined || input.read === 'no-profile') {
    return {
      change: null,
      blocker: {
        code: 'account-profile-missing',
        resource,
        message: `${input.field}: ${targetRoleArn} is in account ${account}, and irsa has no profile for that account to read and update the role's trust`,
        fix: `name a profile of account ${account}: --account-profile ${account}=<profile> (irsa.yaml: accounts."${account}".profile)`,
        field: input.field,
      },
    };
  }
  if (input.read === null) {
    return {
      change: null,
      blocker: {
        code: 'role-not-found',
        resource,
        message: `${input.field}: the role ${targetRoleArn} does not exist in account ${account}`,
        fix: `create it in account ${account} (irsa does not create roles in another account; it adds the trust statement for the association's role), or correct ${input.field}`,
        field: input.field,
      },
    };
  }
  return {
    change: planTargetRoleTrust({
      roleArn: targetRoleArn,
      account,
      sourceRoleArn,
      association: input.association,
      current: input.read.trustPolicy,
      needsExternalId: settings.disableSessionTags,
      externalId,
      dependsOn: input.dependsOn,
    }),
    blocker: null,
  };
}

/** What delete-sa-role --mechanism pod-identity read. */
export interface PodIdentityUnbindingObserved {
  clusterArn: string;
  /** The association of exactly that ServiceAccount, or null. */
  association: PodIdentityAssociationState | null;
  /** The association's role (or --role-name's), or null. */
  role: RoleState | null;
  /** The ServiceAccount, or null when it does not exist. */
  serviceAccount: ServiceAccountState | null;
  /** Workloads that run as the ServiceAccount (`Kind/name`). */
  users: string[];
  /**
   * Whether another association of the cluster with session tags off names the same role (read
   * only when this one has them off): it still needs the role's cluster-wide pods.eks statement.
   */
  clusterWideStillUsed?: boolean;
}

/**
 * delete-sa-role for an EKS Pod Identity binding: the association goes (only one irsa made; an
 * add-on's or another tool's is left, said in a note), then the role's pods.eks statement for that
 * ServiceAccount; a role irsa made that trusts nothing any more is deleted (its policies first).
 * Last, as the IRSA delete-sa-role does, the ServiceAccount goes when irsa created it
 * (create-sa-role --mechanism pod-identity creates a missing one with irsa's label) — unless it is
 * still bound: an association irsa leaves, or an IRSA role-arn annotation (that binding is not this
 * command's to undo). Another ServiceAccount carries nothing of Pod Identity's and is left as it is.
 */
export function planPodIdentityUnbinding(
  request: { cluster: string; namespace: string; name: string; force: boolean },
  observed: PodIdentityUnbindingObserved,
  terms: Terms,
): Plan {
  const plan = emptyPlan();
  const association = planAssociationRemoval(observed.association);
  plan.notes.push(...association.notes);
  if (association.change) plan.changes.push(association.change);
  if (!observed.association) plan.notes.push(`${request.namespace}/${request.name} has no EKS Pod Identity association in ${request.cluster}.`);
  const dependsOn = association.change && association.change.action === 'delete' ? [changeKey(association.change)] : [];
  const associationKept = observed.association !== null && association.change?.action !== 'delete';
  planRoleSide(plan, request, observed, dependsOn, terms);
  planServiceAccountSide(plan, request, observed, associationKept, terms);
  return plan;
}

function planRoleSide(plan: Plan, request: { cluster: string; namespace: string; name: string; force: boolean }, observed: PodIdentityUnbindingObserved, dependsOn: string[], terms: Terms): void {
  const role = observed.role;
  if (!role) {
    plan.notes.push('the role does not exist; nothing to change in IAM.');
    return;
  }
  if (!isOwnedByIrsa(role.tags) && !request.force) {
    plan.blockers.push({
      code: 'role-not-owned',
      resource: changeKey({ kind: 'iam-role', id: role.arn }),
      message: `role "${role.name}" was not created by irsa (no irsa:managed-by tag), so irsa will not change it.`,
      fix: `Edit it yourself, or ${terms.enable({ field: 'force' })} to remove this ServiceAccount's pods.eks statement from its trust policy (and delete it when nothing else trusts it).`,
      field: terms.name({ field: 'force' }),
    });
  }
  // A cluster-wide statement (session tags off) is this binding's only when its association had
  // tags off, and it goes only when no other such association of the cluster names the role (that
  // one's pods would lose the role).
  const merge = removePodIdentitySubject(role.trustPolicy, {
    clusterArn: observed.clusterArn,
    namespace: request.namespace,
    serviceAccount: request.name,
    clusterWide: observed.association?.disableSessionTags === true && observed.clusterWideStillUsed !== true,
  });
  plan.warnings.push(...merge.notes);
  if (!merge.changed) {
    plan.notes.push(`the trust policy of ${role.name} has no irsa pods.eks statement for ${request.namespace}/${request.name}.`);
    return;
  }
  const before = roleValue(role);
  const account = role.arn.split(':')[4];
  if ((merge.document.Statement ?? []).length === 0) {
    plan.changes.push(...planRoleDeletion(role, dependsOn, 'nothing is left in its trust policy'));
    return;
  }
  plan.changes.push({ kind: 'iam-role', id: role.arn, action: 'update', before, after: { ...before, trustPolicy: merge.document }, dependsOn, ...(account ? { account } : {}), reason: 'remove this ServiceAccount\'s pods.eks statement from the trust policy' });
}

/**
 * The ServiceAccount goes last (after the association and the role), and only when irsa created it
 * and nothing else binds it. Its IRSA annotations are never removed here: they are another
 * binding's, undone by delete-sa-role without --mechanism.
 */
function planServiceAccountSide(plan: Plan, request: { cluster: string; namespace: string; name: string; force: boolean }, observed: PodIdentityUnbindingObserved, associationKept: boolean, terms: Terms): void {
  const sa = observed.serviceAccount;
  const label = `${request.namespace}/${request.name}`;
  if (!sa) {
    plan.notes.push(`ServiceAccount ${label} does not exist.`);
    return;
  }
  if (sa.labels[SA_CREATED_BY_LABEL] !== SA_CREATED_BY_VALUE) return;
  if (associationKept) {
    plan.notes.push(`ServiceAccount ${label} is kept: the association irsa leaves still binds it.`);
    return;
  }
  const irsaRole = sa.annotations[ROLE_ARN_ANNOTATION];
  if (irsaRole) {
    plan.notes.push(`ServiceAccount ${label} is kept: it is also bound to ${irsaRole} by IRSA (delete-sa-role without --mechanism undoes that binding).`);
    return;
  }
  const roleChanges = plan.changes.filter((c) => c.kind !== 'service-account' && c.action !== 'no-op').map(changeKey);
  const change = planServiceAccountRemoval(clusterRef(request.cluster), sa, roleChanges);
  if (!change || change.action !== 'delete') return;
  plan.changes.push(change);
  if (observed.users.length === 0) return;
  const users = observed.users.join(', ');
  plan.warnings.push(`ServiceAccount ${label} is used by ${users}: once it is deleted, their new pods cannot be created.`);
  if (!request.force) {
    plan.blockers.push({
      code: 'service-account-in-use',
      resource: changeKey(change),
      message: `ServiceAccount ${label} is used by ${users}: once it is deleted, their new pods cannot be created. Nothing was changed.`,
      fix: `Point them at another ServiceAccount first, or ${terms.enable({ field: 'force' })} to delete it anyway.`,
      field: terms.name({ field: 'force' }),
    });
  }
}
