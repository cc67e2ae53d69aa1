// What the user chose in the wizard, and the BindingRequest it means. The request is built the
// way parseBindingOptions builds it from the equivalent command line, so both plan the same.

import type { BindingRequest } from './binding.ts';
import { validateBinding, type BindingInput } from './binding-input.ts';
import { UserError, ValidationErrors } from './errors.ts';
import { WIZARD_TERMS } from './fields.ts';

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
  /** How pods get the role (absent: irsa); pod-identity: an EKS Pod Identity association. */
  mechanism?: 'irsa' | 'pod-identity';
  /** pod-identity: let irsa add the eks-pod-identity-agent add-on when it is missing. */
  installPodIdentityAgent?: boolean;
}

/** Global options the user started the wizard with; the equivalent command repeats them. */
export interface WizardGlobals {
  profile?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  caBundle?: string | undefined;
}

/**
 * The request the answers mean, through the same validator as flags and irsa.yaml
 * (validateBinding), so a rule holds for the wizard too; a problem names the question.
 */
export function bindingRequestFromAnswers(answers: WizardAnswers): BindingRequest {
  const input: BindingInput = {
    cluster: answers.cluster,
    namespace: answers.namespace,
    name: answers.serviceAccount,
    roleName: answers.roleName,
    policyArns: [...answers.policyArns],
    // The document was parsed when it was chosen; the validator checks it like a file's text.
    inlinePolicies: answers.inlinePolicy ? { [answers.inlinePolicy.name]: { text: JSON.stringify(answers.inlinePolicy.document), source: answers.inlinePolicy.file } } : {},
    // Absent (not null) when none was chosen: like omitting --permissions-boundary, an existing boundary is kept.
    ...(answers.permissionsBoundary ? { permissionsBoundary: answers.permissionsBoundary } : {}),
    adopt: answers.adopt,
    createNamespace: answers.createNamespace,
    overrideExistingServiceAccounts: answers.overrideExistingServiceAccount,
    restartWorkloads: answers.restartWorkloads,
    ...(answers.mechanism === 'pod-identity' ? { mechanism: 'pod-identity', installPodIdentityAgent: answers.installPodIdentityAgent === true } : {}),
  };
  const { request, problems } = validateBinding(input, WIZARD_TERMS);
  if (!request) {
    const lines = problems.map((problem) => `${WIZARD_TERMS.name(problem.path)}: ${problem.message}`);
    throw lines.length === 1 ? new UserError(lines[0]!) : new ValidationErrors(lines);
  }
  return request;
}
