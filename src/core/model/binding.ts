// What a binding asks for and what it is planned against: the request every entry point builds
// (flags, irsa.yaml, wizard) and the observed snapshot the planner reads. Base types: feature
// modules and mechanisms (core/mechanisms/) depend on this module, not on core/binding.ts.

import type { ChangeOf } from '../plan.ts';
import type { ResourceAccess } from '../access-request.ts';
import type { OidcProviderState, RoleState, ServiceAccountState, Tags, WorkloadRef } from './observed.ts';

/**
 * The binding mechanisms irsa knows, by name (core/mechanisms/). A mechanism module adds its own:
 * declare module '../model/binding.ts' { interface MechanismNames { 'my-mechanism': true } }
 */
export interface MechanismNames {
  irsa: true;
}

export type MechanismName = keyof MechanismNames;

export type MigrationWorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'Pod';

export interface MigrationOptions {
  removeStaticKeys: boolean;
  deleteKeySecrets: boolean;
  migrateKube2iam: boolean;
  /** Workloads (kind/name) that should run as this ServiceAccount although they use "default" or none. */
  workloads: Array<{ kind: MigrationWorkloadKind; name: string }>;
}

export interface BindingRequest {
  /**
   * How the ServiceAccount gets the role (core/mechanisms/): its trust statement(s), its
   * cluster-side artefacts and its prerequisites. Absent: 'irsa'.
   */
  mechanism?: MechanismName;
  /** The cluster label of default role names and ownership tags. */
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
  /** Resources the ServiceAccount may use (core/access-request.ts; planned by core/access-plan.ts). */
  access?: ResourceAccess[];
}

export interface BindingContext {
  partition: string;
  /** Account the role and provider live in (IAM credentials). */
  account: string;
  providerArn: string;
  issuerHostPath: string;
  /** The provider's change (create/update/no-op); roles depend on it. */
  providerChange: ChangeOf<'oidc-provider'> | null;
  /** The EKS cluster's own account, when known: another one than `account` is said in the plan's notes. */
  clusterAccount?: string;
}

/** Everything planBindings needs to know about what exists, read beforehand. */
export interface BindingsObserved {
  context: BindingContext;
  /** By role name; null when the role does not exist. */
  roles: Map<string, RoleState | null>;
  namespaces: Map<string, boolean>;
  /** By `namespace/name`. */
  serviceAccounts: Map<string, ServiceAccountState | null>;
  /** By `namespace/name` of the ServiceAccount; only needed where its annotation changes. */
  workloads: Map<string, WorkloadRef[]>;
  /** irsa-owned roles tagged with this cluster that no request names (exact mode's prune candidates). */
  clusterRoles: RoleState[];
  /**
   * Attached or boundary policy ARNs iam:GetPolicy did not find, and what they were probably meant
   * to be (engine/policy-suggestions.ts; empty when nothing comes close). The planner blocks on them.
   */
  missingPolicies?: { arns: string[]; hint: string };
  /**
   * The cluster's OIDC provider as it should be and as it is: the planner plans its change (and
   * sets context.providerChange from it). Absent: context.providerChange as given (or none).
   */
  provider?: {
    desired: { arn: string; url: string; clientIds: string[]; thumbprints: string[] | null; tags: Tags; account: string };
    observed: OidcProviderState | null;
  };
}

