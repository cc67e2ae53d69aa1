// The executor registry: one executor per resource kind (engine/executors/<kind>.ts), one line
// each. Typed as "every key of ChangeValues", so a kind declared without an executor does not
// compile (and test/unit/executors.test.ts checks the registries agree at run time).
//
// An executor turns one planned change into gateway calls. Before every update or delete it
// re-reads the resource and lets the kind's re-check (core/recheck.ts) decide: write, re-derive,
// nothing to do, or stale; a create that meets "already exists" is planned again against what is
// there. Every executor is idempotent where the API allows it, so an interrupted apply converges
// when re-run.

import type { Change, ResourceKind } from '../../core/plan.ts';
import { withConsistencyRetry } from '../retry.ts';
import { executeEksAddon } from './eks-addon.ts';
import { executeIamRole } from './iam-role.ts';
import { executeInlinePolicy } from './inline-policy.ts';
import { executeNamespace } from './namespace.ts';
import { executeOidcProvider } from './oidc-provider.ts';
import { executePodIdentityAssociation } from './pod-identity-association.ts';
import { executeRolePolicyAttachment } from './role-policy-attachment.ts';
import { executeSecret } from './secret.ts';
import { executeConfigMap } from './config-map.ts';
import { executeKeyPolicy, executeSecretPolicy } from './resource-policy.ts';
import { executeServiceAccount } from './service-account.ts';
import { executeTargetRoleTrust } from './target-role-trust.ts';
import { executeNodeRoleTrust } from './node-role-trust.ts';
import { executeNodegroupMetadata } from './nodegroup-metadata.ts';
import { executeWorkloadRestart } from './workload-restart.ts';
import { executeWorkloadTemplate } from './workload-template.ts';
import { decide, need, type ExecuteOutcome, type Executor, type ExecutorContext, type ExecutorDeps } from './types.ts';

export const EXECUTORS: { [K in ResourceKind]: Executor<K> } = {
  'oidc-provider': executeOidcProvider,
  'iam-role': executeIamRole,
  'role-policy-attachment': executeRolePolicyAttachment,
  'inline-policy': executeInlinePolicy,
  namespace: executeNamespace,
  'service-account': executeServiceAccount,
  'workload-restart': executeWorkloadRestart,
  'workload-template': executeWorkloadTemplate,
  secret: executeSecret,
  'config-map': executeConfigMap,
  'pod-identity-association': executePodIdentityAssociation,
  'eks-addon': executeEksAddon,
  'secret-policy': executeSecretPolicy,
  'key-policy': executeKeyPolicy,
  'target-role-trust': executeTargetRoleTrust,
  'node-role-trust': executeNodeRoleTrust,
  'nodegroup-metadata': executeNodegroupMetadata,
};

export function createExecutor(deps: ExecutorDeps): (change: Change) => Promise<ExecuteOutcome> {
  return async (change: Change): Promise<ExecuteOutcome> => {
    const notes: string[] = [];
    const context: ExecutorContext = {
      deps,
      notes,
      retry: (call) => withConsistencyRetry(call, deps.retryPolicy, (error) => deps.onRetry?.(change, error)),
      decide: (result) => decide(result, notes),
      need,
    };
    // The registry's key ties the executor to the change's kind; the union cannot say so itself.
    const execute = EXECUTORS[change.kind] as (change: Change, context: ExecutorContext) => Promise<void>;
    await execute(change, context);
    return { notes };
  };
}

export { metadataPatch } from './service-account.ts';
export { StaleChangeError, type ExecuteOutcome, type Executor, type ExecutorContext, type ExecutorDeps } from './types.ts';
