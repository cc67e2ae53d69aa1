// What every executor (engine/executors/<kind>.ts) gets: the gateways, and the shared rules of
// apply — re-check verdicts turned into "write this" or "nothing to write", IAM eventual-consistency
// retries, and idempotent deletes/creates.

import { InternalError } from '../../core/errors.ts';
import { unreachable, type Change, type ChangeOf, type ResourceKind } from '../../core/plan.ts';
import type { Recheck } from '../../core/recheck.ts';
import type { IamGateway, KubeGateway, NodegroupGateway, PodIdentityGateway, ResourcePolicyGateway, WorkloadGateway } from '../../ports.ts';
import type { RetryPolicy } from '../retry.ts';
import type { TrustLocker } from '../trust-lock.ts';

/** The gateways apply may use. A kind that needs a new one adds an optional field here. */
export interface ExecutorDeps {
  iam?: IamGateway;
  kube?: KubeGateway;
  /** Pod-template and Secret writes of migrations (workload-template, secret changes). */
  workloads?: WorkloadGateway;
  /** EKS Pod Identity associations and add-ons (pod-identity-association, eks-addon changes). */
  podIdentity?: PodIdentityGateway;
  /** Launch template versions and nodegroup updates (nodegroup-metadata changes). */
  nodegroups?: NodegroupGateway;
  /** IAM of another account (target-role-trust changes land in the target role's account). */
  iamFor?: (account: string) => Promise<IamGateway>;
  /** Secrets Manager / KMS of an account (secret-policy, key-policy changes land in the resource's account). */
  resourcePolicies?: (account: string, region: string) => Promise<ResourcePolicyGateway>;
  /**
   * Locks on roles' trust policies (a Lease per role in the cluster, engine/trust-lock.ts). Absent
   * (no cluster to hold it in): trust writes are checked by reading them back instead.
   */
  trustLocks?: TrustLocker;
  now?: () => Date;
  retryPolicy?: RetryPolicy;
  /** Called for every IAM eventual-consistency retry (apply reports how many). */
  onRetry?: (change: Change, error: unknown) => void;
}

/** What happened beyond "written as planned", for the apply report. */
export interface ExecuteOutcome {
  /** Re-derived or already done: said to the user next to the change. */
  notes: string[];
}

/** The resource changed since the plan in a way irsa cannot re-derive: this change was not applied. */
export class StaleChangeError extends Error {
  override name = 'StaleChangeError';
}

/** One change's execution: its gateways, its notes, and its retry and re-check rules. */
export interface ExecutorContext {
  deps: ExecutorDeps;
  /** Said to the user next to the change (re-derived, already done). */
  notes: string[];
  /** Retries the call on IAM eventual consistency, counting each retry against this change. */
  retry<T>(call: () => Promise<T>): Promise<T>;
  /** Unwraps a re-check: the change to write, or null when there is nothing to write (notes say why); stale throws. */
  decide<C>(result: Recheck<C>): C | null;
  /** The gateway, or an internal error saying apply was wired without it. */
  need<G>(gateway: G | undefined, what: string): G;
}

/** Makes one kind of change true. Registered in engine/executors/index.ts. */
export type Executor<K extends ResourceKind> = (change: ChangeOf<K>, context: ExecutorContext) => Promise<void>;

export const difference = (a: string[], b: string[]): string[] => a.filter((item) => !b.includes(item));

/** Deletes (and creates) tolerate "not found" ("already exists"): an interrupted or retried apply converges. */
export async function tolerate(call: () => Promise<unknown>, acceptable: (error: unknown) => boolean): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    if (!acceptable(error)) throw error;
    return false;
  }
}

export function decide<C>(result: Recheck<C>, notes: string[]): C | null {
  switch (result.verdict) {
    case 'write':
      return result.change;
    case 'rederived':
      notes.push(result.note);
      return result.change;
    case 'done':
      notes.push(result.note);
      return null;
    case 'stale':
      throw new StaleChangeError(`${result.reason}; nothing was written for it. Run the command again to plan against what is there now.`);
    default:
      return unreachable(result);
  }
}

export function need<G>(gateway: G | undefined, what: string): G {
  if (!gateway) throw new InternalError(`apply needs the ${what} gateway but none was configured`);
  return gateway;
}
