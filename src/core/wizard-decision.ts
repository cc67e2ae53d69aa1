// The wizard's decisions, as functions over immutable answers: which question comes next and
// what an answer changes. ui/wizard/flow.ts asks and renders; engine/wizard.ts reads and plans
// through the same reads and planner create-sa-role uses; a blocker becomes a question
// generically, by its code.

import type { BindingsPlan } from './binding.ts';
import type { Blocker, BlockerCode } from './plan.ts';
import type { WorkloadRef } from './state.ts';
import type { WizardAnswers } from './wizard-answers.ts';

export type WizardStep = 'region' | 'cluster' | 'namespace' | 'serviceAccount' | 'permissions' | 'role' | 'plan';
export const WIZARD_STEPS: readonly WizardStep[] = ['region', 'cluster', 'namespace', 'serviceAccount', 'permissions', 'role', 'plan'];

/**
 * How the wizard resolves each kind of blocker: a yes/no that changes one answer, or going back
 * to the step whose answer is wrong. A Record over every code: a new blocker code without a
 * wizard answer does not compile.
 */
export type Resolution =
  | { kind: 'confirm'; answer: 'overrideExistingServiceAccount'; step: WizardStep }
  | { kind: 'adopt-or-rename' }
  /** EKS Pod Identity's agent add-on is missing: let irsa add it (CreateAddon is in the plan), or use IRSA. */
  | { kind: 'install-agent-or-irsa' }
  | { kind: 'go-to'; step: WizardStep; label: string };

const RESOLUTIONS: Record<BlockerCode, Resolution> = {
  'service-account-bound-elsewhere': { kind: 'confirm', answer: 'overrideExistingServiceAccount', step: 'serviceAccount' },
  'role-not-owned': { kind: 'adopt-or-rename' },
  'role-not-found': { kind: 'go-to', step: 'role', label: 'Change the role name' },
  'trust-policy-too-large': { kind: 'go-to', step: 'role', label: 'Change the role name' },
  'too-many-managed-policies': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
  'inline-policies-too-large': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
  'policy-not-found': { kind: 'go-to', step: 'permissions', label: 'Change permissions or the boundary' },
  'namespace-missing': { kind: 'go-to', step: 'namespace', label: 'Choose the namespace' },
  'oidc-provider-missing': { kind: 'go-to', step: 'cluster', label: 'Choose the cluster' },
  // delete-sa-role only; the wizard never deletes a ServiceAccount.
  'service-account-in-use': { kind: 'go-to', step: 'serviceAccount', label: 'Choose the ServiceAccount' },
  // EKS Pod Identity (issue 22). Until the wizard asks for the mechanism, these send the user
  // back to the question that can avoid them.
  'association-bound-elsewhere': { kind: 'confirm', answer: 'overrideExistingServiceAccount', step: 'serviceAccount' },
  'association-owned-by-addon': { kind: 'go-to', step: 'serviceAccount', label: 'Choose the ServiceAccount' },
  'pod-identity-agent-missing': { kind: 'install-agent-or-irsa' },
  // The mechanism question is in the role step: going there lets the user choose IRSA.
  'pod-identity-agent-unhealthy': { kind: 'go-to', step: 'role', label: 'Choose IRSA (or another role) instead' },
  'pod-identity-unavailable': { kind: 'go-to', step: 'role', label: 'Choose IRSA instead' },
  // Access requests (core/access-plan.ts): the wizard asks none yet; its permissions step is where they would go.
  'account-profile-missing': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
  'secret-not-found': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
  'key-not-found': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
  'secret-uses-aws-managed-key': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
  'key-policy-would-be-empty': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
  // irsa close-paths only; the wizard never plans it.
  'node-policy-still-needed': { kind: 'go-to', step: 'permissions', label: 'Change permissions' },
};

/** What the wizard does after planning the answers. */
export type Decision =
  | { kind: 'resolve'; blocker: Blocker; resolution: Resolution; roleArn: string }
  | { kind: 'ask-restart'; workloads: WorkloadRef[] }
  | { kind: 'show-plan'; binding: BindingsPlan & { roleArn: string }; pendingRestarts: WorkloadRef[] };

export interface DecideState {
  /** The restart question is asked once per plan step. */
  restartAsked: boolean;
}

/** What the wizard does with the plan of its answers (the planner ran in engine/wizard.ts). */
export function decisionFor(binding: BindingsPlan & { roleArn: string }, state: DecideState): Decision {
  const blocker = binding.plan.blockers[0];
  if (blocker) return { kind: 'resolve', blocker, resolution: RESOLUTIONS[blocker.code], roleArn: binding.roleArn };
  if (binding.workloadsNeedingRestart.length > 0 && !state.restartAsked) return { kind: 'ask-restart', workloads: binding.workloadsNeedingRestart };
  return { kind: 'show-plan', binding, pendingRestarts: binding.workloadsNeedingRestart };
}

/** The answers with one yes/no changed; the input is not modified. */
export function withAnswer<K extends 'overrideExistingServiceAccount' | 'adopt' | 'restartWorkloads' | 'installPodIdentityAgent'>(answers: WizardAnswers, key: K, value: boolean): WizardAnswers {
  return { ...answers, [key]: value };
}
