// The small capability interfaces the engine and commands use. Adapters implement them;
// unit tests may fake them. Nothing outside src/adapters imports an SDK.

import type { ChangeResult } from './core/model/apply.ts';
import type {
  ClusterInfo,
  OidcProviderState,
  PodState,
  PresentedCertificate,
  RoleSettings,
  RoleState,
  ServiceAccountState,
  Tags,
  WorkloadRef,
} from './core/state.ts';
import type { PolicyDocument } from './core/trust-policy.ts';
import type { ConfigMapSummary, SecretSummary, WorkloadTemplate } from './core/audit.ts';
import type { MutatingWebhookState } from './core/doctor.ts';
import type { MigrationWorkloadKind, PodTemplateWorkload, TemplateView } from './core/migration.ts';
import type { DryRunInput } from './core/admission.ts';
import type { PodIdentityAssociationState } from './core/resources/pod-identity-association.ts';
import type { EksAddonState } from './core/resources/eks-addon.ts';

export interface ClusterReader {
  /** Null when the cluster does not exist in the region. */
  describeCluster(name: string): Promise<ClusterInfo | null>;
  listClusters(): Promise<string[]>;
  /** Added to "no EKS cluster named …": which credentials looked (e.g. only --profile, no --cluster-profile). */
  lookupHint?: string;
}

export interface CreateRoleInput {
  name: string;
  path: string;
  trustPolicy: PolicyDocument;
  description: string;
  maxSessionDuration: number;
  permissionsBoundary: string | null;
  tags: Tags;
}

export interface IamGateway {
  accountId(): Promise<string>;
  listOidcProviderArns(): Promise<string[]>;
  getOidcProvider(arn: string): Promise<OidcProviderState | null>;
  createOidcProvider(input: { url: string; clientIds: string[]; thumbprints: string[]; tags: Tags }): Promise<string>;
  updateOidcProviderThumbprints(arn: string, thumbprints: string[]): Promise<void>;
  addOidcProviderClientId(arn: string, clientId: string): Promise<void>;
  deleteOidcProvider(arn: string): Promise<void>;

  getRole(name: string): Promise<RoleState | null>;
  /** GetRole alone (one call): the trust, tags and settings without the policies, for a trust write's re-check and read-back. */
  getRoleSettings(name: string): Promise<RoleSettings | null>;
  listRoles(pathPrefix?: string): Promise<Array<{ name: string; arn: string }>>;
  /**
   * Every role (under pathPrefix, when given) exactly as getRole returns it, in a few paginated
   * calls (GetAccountAuthorizationDetails Filter=Role plus ListRoles, up to 1,000 roles a page)
   * instead of three or more per role. Costs iam:GetAccountAuthorizationDetails and iam:ListRoles.
   */
  listRoleDetails(pathPrefix?: string): Promise<RoleState[]>;
  /** Tags only (ListRoleTags): cheaper than getRole when scanning for irsa-owned roles. */
  listRoleTags(name: string): Promise<Tags>;
  createRole(input: CreateRoleInput): Promise<string>;
  updateRole(name: string, input: { description: string; maxSessionDuration: number }): Promise<void>;
  updateTrustPolicy(name: string, document: PolicyDocument): Promise<void>;
  putPermissionsBoundary(name: string, arn: string): Promise<void>;
  deletePermissionsBoundary(name: string): Promise<void>;
  tagRole(name: string, tags: Tags): Promise<void>;
  untagRole(name: string, keys: string[]): Promise<void>;
  attachPolicy(roleName: string, policyArn: string): Promise<void>;
  detachPolicy(roleName: string, policyArn: string): Promise<void>;
  putInlinePolicy(roleName: string, policyName: string, document: unknown): Promise<void>;
  deleteInlinePolicy(roleName: string, policyName: string): Promise<void>;
  deleteRole(name: string): Promise<void>;

  /** Null when the policy does not exist. */
  getPolicy(arn: string): Promise<{ arn: string; name: string } | null>;
  /** The default version's document of a managed policy (doctor --can); null when it does not exist. */
  getPolicyDocument?(arn: string): Promise<unknown | null>;
  listPolicies(scope: 'AWS' | 'Local' | 'All'): Promise<Array<{ arn: string; name: string }>>;
}

export interface StsGateway {
  assumeRoleWithWebIdentity(roleArn: string, token: string, sessionName: string): Promise<{ arn: string; account: string }>;
}

export interface KubeGateway {
  namespaceExists(name: string): Promise<boolean>;
  createNamespace(name: string): Promise<void>;
  listNamespaces(): Promise<string[]>;
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccountState | null>;
  listServiceAccounts(namespace?: string): Promise<ServiceAccountState[]>;
  createServiceAccount(sa: ServiceAccountState): Promise<void>;
  /** Merge-patches metadata: a null value removes that annotation or label. */
  patchServiceAccountMetadata(
    namespace: string,
    name: string,
    patch: { annotations?: Record<string, string | null>; labels?: Record<string, string | null> },
  ): Promise<void>;
  deleteServiceAccount(namespace: string, name: string): Promise<void>;
  listWorkloadsUsingServiceAccount(namespace: string, serviceAccount: string): Promise<WorkloadRef[]>;
  /** Every Deployment, StatefulSet and DaemonSet in the namespace with its pod template's ServiceAccount. */
  listWorkloads(namespace: string): Promise<Array<WorkloadRef & { serviceAccount: string }>>;
  /** Sets the pod-template annotation `kubectl rollout restart` sets. */
  restartWorkload(workload: WorkloadRef, restartedAt: string): Promise<void>;
  listPods(namespace: string, serviceAccount?: string): Promise<PodState[]>;
  /** Mints a token with the TokenRequest API. Callers must never print it. */
  createToken(namespace: string, serviceAccount: string, audience: string, expirationSeconds?: number): Promise<string>;
}

/** Pod templates of workloads and the writes of a migration (src/adapters/k8s/workloads.ts). */
export interface WorkloadGateway {
  /** Deployments, StatefulSets, DaemonSets, Jobs (not a CronJob's), CronJobs and bare Pods of the namespace. */
  listPodTemplates(namespace: string): Promise<PodTemplateWorkload[]>;
  /** Secret name → data key names (values are never returned). */
  listSecretKeyNames(namespace: string): Promise<Map<string, string[]>>;
  /** Re-reads the workload and applies the planned before → after (core/migration.ts), conditional on what was read. */
  updatePodTemplate(workload: { kind: MigrationWorkloadKind; namespace: string; name: string }, before: TemplateView, after: TemplateView): Promise<void>;
  /** Deletes a Secret; a missing one counts as deleted. */
  deleteSecret(namespace: string, name: string): Promise<void>;
  /** ConfigMap name → data key names (values are never returned). */
  listConfigMapKeyNames(namespace: string): Promise<Map<string, string[]>>;
  /** Deletes a ConfigMap; a missing one counts as deleted. */
  deleteConfigMap(namespace: string, name: string): Promise<void>;
  /**
   * Removes data keys from a ConfigMap read just now: nothing when it already has exactly `after`'s
   * keys, a refusal when its keys are not `before`'s (changed since the plan), else a JSON Patch
   * conditional on the resourceVersion read.
   */
  removeConfigMapKeys(namespace: string, name: string, before: string[], after: string[]): Promise<void>;
}

/** What the Kubernetes API server says about itself: proves which cluster a context is. */
export interface KubeIdentity {
  connection(): { context: string; server: string };
  /** The `issuer` of the API server's /.well-known/openid-configuration, read through the kubeconfig connection. */
  serviceAccountIssuer(): Promise<string>;
}

/** Kubernetes reads for `irsa doctor` and `irsa audit` (src/adapters/k8s/inspect.ts). */
export interface KubeInspector {
  /**
   * Secrets (all namespaces when omitted) with their data key names. Values are scanned for
   * access key IDs by the adapter and returned only masked (AKIA************WXYZ), never whole.
   */
  listSecrets(namespace?: string): Promise<SecretSummary[]>;
  /** Every webhook of every MutatingWebhookConfiguration, with its rules and endpoint. */
  listMutatingWebhooks(): Promise<MutatingWebhookState[]>;
  /** Deployments, StatefulSets, DaemonSets and CronJobs with their pod template's env, envFrom, secret volumes and annotations. */
  listWorkloadTemplates(namespace?: string): Promise<WorkloadTemplate[]>;
  /** The namespace's labels (what webhooks' namespaceSelector sees). */
  namespaceLabels(namespace: string): Promise<Record<string, string>>;
  /**
   * Creates, with server-side dry run (dryRun=All: nothing is stored), the pod of every workload
   * using the ServiceAccount (one per distinct pod template, a few at a time), or a minimal pod
   * when none does; returns what admission made of each.
   */
  dryRunPods(namespace: string, serviceAccount: string): Promise<DryRunInput[]>;
  /**
   * ConfigMaps (all namespaces when omitted) with their data key names; values are never kept, only
   * the access key IDs found in them, masked (AKIA************WXYZ), as for Secrets.
   */
  listConfigMapKeys(namespace?: string): Promise<ConfigMapSummary[]>;
}

export interface TlsChainFetcher {
  /** GET <issuer>/.well-known/openid-configuration over verified TLS. */
  fetchDiscovery(issuerUrl: string): Promise<{ issuer: string; jwksUri: string }>;
  /** The certificates the server presents, in the order it sends them (leaf first). */
  presentedChain(host: string, port: number): Promise<PresentedCertificate[]>;
}

/** Counts and reports every API call (for --verbose and the benchmark); never sees credentials. */
export interface CallObserver {
  onCall(service: string, operation: string, detail?: string): void;
  onRetry?(service: string, operation: string, reason: string): void;
}

export type { ChangeResult };

/**
 * Secrets Manager and KMS in one account, for access requests (src/adapters/aws/resource-policies.ts).
 * Policies are returned parsed; null when a secret has none. Reads of a secret or key that does not
 * exist return null.
 */
export interface ResourcePolicyGateway {
  /** The account these credentials act in (checked against the account a profile was named for). */
  accountId(): Promise<string>;
  /** DescribeSecret: the full ARN and the key that encrypts it (null: the AWS managed key aws/secretsmanager). */
  describeSecret(secretId: string): Promise<{ arn: string; kmsKeyId: string | null } | null>;
  getSecretPolicy(secretArn: string): Promise<PolicyDocument | null>;
  putSecretPolicy(secretArn: string, document: PolicyDocument): Promise<void>;
  deleteSecretPolicy(secretArn: string): Promise<void>;
  /** DescribeKey: the key's ARN and who manages it (a key id, key ARN, alias name or alias ARN). */
  describeKey(keyId: string): Promise<{ arn: string; manager: 'AWS' | 'CUSTOMER' } | null>;
  getKeyPolicy(keyArn: string): Promise<PolicyDocument | null>;
  putKeyPolicy(keyArn: string, document: PolicyDocument): Promise<void>;
  /** ListGrants (KMS): the grants of the key. */
  listGrants(keyArn: string): Promise<import('./core/access-eval.ts').KmsGrant[]>;
  /** Whether the account is in an AWS Organization (then SCPs/RCPs may apply; irsa does not read them). */
  organization(): Promise<'none' | 'member' | 'unknown'>;
}

/**
 * EKS Pod Identity associations, add-ons and the compute that decides whether Pod Identity can
 * work (src/adapters/aws/eks.ts). Reads return null for "not there"; deletes treat a missing
 * association as deleted.
 */
export interface PodIdentityGateway {
  /** Every association of the cluster (ListPodIdentityAssociations, paginated), optionally filtered by EKS. */
  listAssociations(cluster: string, filter?: { namespace?: string; serviceAccount?: string }): Promise<PodIdentityAssociationSummary[]>;
  /** Null when the association does not exist. */
  describeAssociation(cluster: string, associationId: string): Promise<PodIdentityAssociationState | null>;
  createAssociation(input: CreateAssociationInput): Promise<PodIdentityAssociationState>;
  updateAssociation(cluster: string, associationId: string, input: UpdateAssociationInput): Promise<PodIdentityAssociationState>;
  /** True when it deleted one, false when there was none. */
  deleteAssociation(cluster: string, associationId: string): Promise<boolean>;
  /** Null when the add-on is not installed. */
  describeAddon(cluster: string, name: string): Promise<EksAddonState | null>;
  createAddon(cluster: string, name: string, tags: Tags): Promise<EksAddonState>;
  /** Fargate profiles with their selectors (namespace + labels). */
  listFargateProfiles(cluster: string): Promise<FargateProfileState[]>;
  /** Managed nodegroups with their AMI type (Windows AMIs cannot run the agent). */
  listNodegroups(cluster: string): Promise<NodegroupState[]>;
}

export interface PodIdentityAssociationSummary {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  associationId: string;
  associationArn: string;
  ownerArn: string | null;
}

export interface CreateAssociationInput {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  policy: string | null;
  tags: Tags;
}

export interface UpdateAssociationInput {
  /** Always the whole role ARN: an empty one is refused before any call (eksctl#8718). */
  roleArn: string;
  /** "" removes the target role; absent keeps it. */
  targetRoleArn?: string;
  disableSessionTags: boolean;
  /** "" removes the session policy; absent keeps it. */
  policy?: string;
}

export interface FargateProfileState {
  name: string;
  status: string;
  selectors: Array<{ namespace: string; labels: Record<string, string> }>;
}

export interface NodegroupState {
  name: string;
  /** AL2023_x86_64_STANDARD, WINDOWS_CORE_2022_x86_64, CUSTOM, … (null when EKS does not say). */
  amiType: string | null;
  status: string;
}

/** A launch template as a nodegroup names it (id or name; version a number, $Latest or $Default). */
export interface LaunchTemplateRef {
  id: string | null;
  name: string | null;
  version: string | null;
}

/** A managed nodegroup's nodes: their role and the launch template it names (null: EKS's own). */
export interface NodegroupNodes {
  name: string;
  nodeRoleArn: string;
  launchTemplate: LaunchTemplateRef | null;
}

/** The nodes' side of "only its role?" (src/adapters/aws/ec2.ts). Read-only. */
export interface NodeAccessReader {
  /** eks:ListNodegroups + eks:DescribeNodegroup. */
  listNodegroups(cluster: string): Promise<NodegroupNodes[]>;
  /** ec2:DescribeLaunchTemplateVersions: the version's MetadataOptions (unset fields null). */
  launchTemplateMetadata(ref: LaunchTemplateRef): Promise<import('./core/only-its-role.ts').MetadataOptions & { version: number }>;
  /** iam:GetPolicy + iam:GetPolicyVersion: the default version's document. */
  policyDocument(arn: string): Promise<unknown>;
}

/** The writes of `irsa close-paths` on managed nodegroups (src/adapters/aws/ec2.ts). */
export interface NodegroupGateway {
  /** eks:DescribeNodegroup + ec2:DescribeLaunchTemplateVersions: the launch template and version it runs, with their MetadataOptions; null when the nodegroup or its template is gone. */
  nodegroupMetadata(cluster: string, nodegroup: string): Promise<{ launchTemplate: { id: string | null; name: string | null }; version: number; metadata: import('./core/only-its-role.ts').MetadataOptions } | null>;
  /** ec2:CreateLaunchTemplateVersion from `sourceVersion`, only MetadataOptions changed (the other metadata options kept); the new version's number. */
  createMetadataVersion(template: { id: string | null; name: string | null }, sourceVersion: number, options: import('./core/only-its-role.ts').MetadataOptions): Promise<number>;
  /** eks:UpdateNodegroupVersion to this launch template version; the update's id and status (InProgress while EKS replaces the nodes). */
  updateNodegroupLaunchTemplate(cluster: string, nodegroup: string, template: { id: string | null; name: string | null }, version: number): Promise<{ id: string; status: string }>;
}

/** Asks the apiserver what a user may do (SubjectAccessReview; src/adapters/k8s/access-review.ts). */
export interface AccessReviewer {
  allowed(review: { user: string; groups: string[]; namespace: string; verb: string; group: string; resource: string; name?: string }): Promise<boolean>;
}

/** A coordination.k8s.io/v1 Lease as the trust lock reads and writes it (src/adapters/k8s/leases.ts). */
export interface LeaseRecord {
  /** Who holds it; null when released. */
  holder: string | null;
  durationSeconds: number;
  acquireTime: Date | null;
  renewTime: Date | null;
  transitions: number;
  annotations: Record<string, string>;
  /** The apiserver's version of the object: a replace with an older one is refused (409), the compare-and-swap IAM lacks. */
  resourceVersion: string;
}

export type LeaseWrite = Omit<LeaseRecord, 'resourceVersion'>;

/** Thrown by create (exists) and replace (resourceVersion moved on): another writer got there first. */
export class LeaseConflictError extends Error {
  override name = 'LeaseConflictError';
}

/** Thrown when RBAC does not allow the Lease call: the trust lock falls back and says so. */
export class LeaseForbiddenError extends Error {
  override name = 'LeaseForbiddenError';
}

/** Leases of one namespace of the proven cluster (src/adapters/k8s/leases.ts). */
export interface LeaseGateway {
  /** The namespace the Leases live in (for messages). */
  readonly namespace: string;
  get(name: string): Promise<LeaseRecord | null>;
  create(name: string, lease: LeaseWrite): Promise<LeaseRecord>;
  /** Replaces the Lease only if it is still at `resourceVersion`. */
  replace(name: string, resourceVersion: string, lease: LeaseWrite): Promise<LeaseRecord>;
  /** irsa's Leases of the namespace (label app.kubernetes.io/managed-by=irsa), by name: one call for a batch. */
  list(): Promise<Map<string, LeaseRecord>>;
}
