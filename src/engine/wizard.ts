// The wizard's planning backend: the same issuer resolution, reads, planner and apply engine as
// create-sa-role, handed to ui/wizard/flow.ts by commands/wizard.ts (ui/ never imports engine/).
// What the wizard does with a plan is decided in core/wizard-decision.ts.

import { WIZARD_TERMS } from '../core/fields.ts';
import type { Plan } from '../core/plan.ts';
import type { ApplyReport, ChangeResult } from '../core/model/apply.ts';
import type { Change } from '../core/plan.ts';
import { decisionFor, type DecideState, type Decision } from '../core/wizard-decision.ts';
import { bindingRequestFromAnswers, type WizardAnswers } from '../core/wizard-answers.ts';
import type { ClusterReader, IamGateway, KubeGateway, LeaseGateway } from '../ports.ts';
import { apiOf } from '../core/resources/registry.ts';
import { applyPlan } from './apply.ts';
import { planBindingFromReads, readBinding, type BindingReadDeps, type BindingReads, type BindingTarget } from './binding-reads.ts';
import { createExecutor } from './execute.ts';
import { resolveIssuer } from './oidc.ts';
import { createTrustLocker } from './trust-lock.ts';
import { verifyTrustIntents } from './trust-verify.ts';

/** The wizard names fields by the question that sets them (core/fields.ts). */
export { WIZARD_TERMS } from '../core/fields.ts';

export const wizardPlanning = {
  resolveIssuer: (cluster: string, region: string, clusters: () => Promise<ClusterReader>) => resolveIssuer({ cluster, region }, clusters),
  read: (answers: WizardAnswers, target: BindingTarget, deps: BindingReadDeps): Promise<BindingReads> => readBinding(bindingRequestFromAnswers(answers), target, deps),
  /** Plans the answers against one set of reads (re-planning after an answer reads nothing again). */
  decide: (answers: WizardAnswers, target: BindingTarget, reads: BindingReads, state: DecideState): Decision =>
    decisionFor(planBindingFromReads(bindingRequestFromAnswers(answers), target, reads, { prune: false, terms: WIZARD_TERMS }), state),
  /**
   * Applies with the same guarantees as every command (commands/run-plan.ts): trust writes under
   * the role's Lease when `lock` is given (engine/trust-lock.ts), and read back once more after apply.
   */
  apply: async (
    plan: Plan,
    gateways: { iam: IamGateway; kube: KubeGateway },
    hooks: { onStart: (change: Change) => void; onFinish: (result: ChangeResult) => void },
    lock: { leases?: LeaseGateway; onWait?: (wait: { role: string; lease: string; holder: string }) => void } = {},
  ): Promise<ApplyReport> => {
    const trustLocks = lock.leases ? createTrustLocker({ leases: lock.leases, ...(lock.onWait ? { onWait: lock.onWait } : {}) }) : undefined;
    const execute = createExecutor({ ...gateways, ...(trustLocks ? { trustLocks } : {}) });
    const report = await applyPlan(plan, execute, { concurrency: 8, poolOf: apiOf, ...hooks });
    return verifyTrustIntents(report, gateways.iam, execute, trustLocks ? {} : { settleMs: 1500 });
  },
};
