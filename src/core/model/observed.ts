// The observed state irsa reads, as plain data: what the ports (src/ports.ts) return and the
// planner compares. Every feature module depends on this module, never on another feature module
// for a base type, so core has no import circles. Nothing here imports anything of ours but
// model/policy.ts.

import type { PolicyDocument } from './policy.ts';

export type Tags = Record<string, string>;

export interface OidcProviderState {
  arn: string;
  /** Issuer URL without scheme, as IAM stores it (host[:port][/path]). */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Tags;
}

export interface RoleState {
  arn: string;
  name: string;
  path: string;
  description: string;
  maxSessionDuration: number;
  permissionsBoundary: string | null;
  trustPolicy: PolicyDocument;
  tags: Tags;
  attachedPolicyArns: string[];
  /** Inline policy name → parsed document. */
  inlinePolicies: Record<string, unknown>;
  /** RoleId (AROA…): a resource policy that names another id names a deleted role (doctor --can). */
  id?: string;
}

/**
 * A role without its permission policies: what one GetRole returns (trust, tags, settings). Enough
 * for a trust write's re-check and read-back, which never look at the policies (RoleValue).
 */
export type RoleSettings = Omit<RoleState, 'attachedPolicyArns' | 'inlinePolicies'>;

export interface ServiceAccountState {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export interface PodState {
  namespace: string;
  name: string;
  serviceAccountName: string;
  createdAt: string;
  env: Record<string, string>;
  volumes: string[];
  ownerWorkload: WorkloadRef | null;
  /** Per container env, mounts, token volumes, labels and annotations (doctor judges each container). */
  spec?: PodSpecState;
}

export interface EnvVarSummary {
  name: string;
  /** A literal value (the pod template is readable by anyone who can read the workload). */
  value?: string;
  secretKeyRef?: { name: string; key: string };
  configMapKeyRef?: { name: string; key: string };
}

export interface ContainerSummary {
  name: string;
  env: EnvVarSummary[];
  /** Secrets loaded whole through envFrom.secretRef. */
  envFromSecrets: string[];
  /** envFrom Secrets and ConfigMaps with their prefixes, in order (static keys reach a container through either). */
  envFrom?: Array<{ secret?: string; configMap?: string; prefix: string }>;
}

export interface ContainerState extends ContainerSummary {
  /** An initContainer (the webhook mutates those too). */
  init: boolean;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}

export interface PodVolumeState {
  name: string;
  /** The projected serviceAccountToken source of the volume, if it has one. */
  token: { audience: string | null; expirationSeconds: number | null; path: string } | null;
  /** Secrets the volume reads (a secret volume or projected secret sources). */
  secrets?: string[];
  /** ConfigMaps the volume reads (a configMap volume or projected configMap sources): a credentials file can come from one too. */
  configMaps?: string[];
}

/** A pod (or the pod a workload would create), reduced to what the webhook reads and writes. */
export interface PodSpecState {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** spec.nodeSelector (the webhook reads the OS labels); absent = none. */
  nodeSelector?: Record<string, string>;
  /** Init containers first, then containers. */
  containers: ContainerState[];
  volumes: PodVolumeState[];
}

export interface ClusterInfo {
  name: string;
  region: string;
  arn: string;
  /** Account that owns the cluster, parsed from its ARN. */
  accountId: string;
  issuerUrl: string | null;
  /** The API server endpoint (eks:DescribeCluster); absent where unknown. */
  endpoint?: string | null;
}

/** A certificate as the TLS adapter saw it; the core picks which one counts. */
export interface PresentedCertificate {
  subject: string;
  issuer: string;
  /** SHA-1 of the DER encoding, 40 lowercase hex characters. */
  sha1: string;
  validTo: string;
}
