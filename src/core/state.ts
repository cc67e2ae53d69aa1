// Observed and desired state of the resources irsa manages, as plain data.
// Adapters translate SDK responses into these shapes; the planner compares them.

import type { PodSpecState } from './pod-identity.ts';
import type { PolicyDocument } from './trust-policy.ts';

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
}

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
