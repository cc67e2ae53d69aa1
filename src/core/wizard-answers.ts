// What the user chose in the wizard, and the BindingRequest it means. The request is built the
// way parseBindingOptions builds it from the equivalent command line, so both plan the same.

import type { BindingRequest } from './binding.ts';
import { DEFAULT_AUDIENCE } from './trust-policy.ts';

export interface InlinePolicyChoice {
  name: string;
  /** As the user typed it (the equivalent command repeats it). */
  file: string;
  document: unknown;
}

export interface WizardAnswers {
  region: string;
  cluster: string;
  namespace: string;
  createNamespace: boolean;
  serviceAccount: string;
  policyArns: string[];
  inlinePolicy: InlinePolicyChoice | null;
  roleName: string;
  permissionsBoundary: string | null;
  adopt: boolean;
  overrideExistingServiceAccount: boolean;
  restartWorkloads: boolean;
}

/** Global options the user started the wizard with; the equivalent command repeats them. */
export interface WizardGlobals {
  profile?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  caBundle?: string | undefined;
}

export function bindingRequestFromAnswers(answers: WizardAnswers): BindingRequest {
  return {
    cluster: answers.cluster,
    namespace: answers.namespace,
    name: answers.serviceAccount,
    roleName: answers.roleName,
    rolePath: '/',
    attachRoleArn: null,
    audience: DEFAULT_AUDIENCE,
    subjectPattern: null,
    policyArns: [...answers.policyArns],
    inlinePolicies: answers.inlinePolicy ? { [answers.inlinePolicy.name]: answers.inlinePolicy.document } : {},
    // Absent (not null) when none was chosen: like omitting --permissions-boundary, an existing boundary is kept.
    ...(answers.permissionsBoundary ? { permissionsBoundary: answers.permissionsBoundary } : {}),
    tags: {},
    adopt: answers.adopt,
    roleOnly: false,
    createNamespace: answers.createNamespace,
    overrideExistingServiceAccounts: answers.overrideExistingServiceAccount,
    stsRegionalEndpoints: false,
    restartWorkloads: answers.restartWorkloads,
  };
}
