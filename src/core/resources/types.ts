// The `before`/`after` value of each change kind. Apply reads exactly these.

import type { PolicyDocument } from '../trust-policy.ts';
import type { Tags, WorkloadRef } from '../state.ts';

export interface OidcProviderValue {
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Tags;
}

export interface RoleValue {
  name: string;
  path: string;
  description: string;
  maxSessionDuration: number;
  permissionsBoundary: string | null;
  tags: Tags;
  trustPolicy: PolicyDocument;
}

export interface AttachmentValue {
  roleName: string;
  policyArn: string;
}

export interface InlinePolicyValue {
  roleName: string;
  policyName: string;
  document: unknown;
}

export interface NamespaceValue {
  name: string;
}

/** Only the metadata irsa manages on the ServiceAccount; other keys are never touched. */
export interface ServiceAccountValue {
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
}

export interface WorkloadRestartValue extends WorkloadRef {
  serviceAccount: string;
}
