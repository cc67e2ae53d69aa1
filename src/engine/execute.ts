// Turns one planned change into the gateway calls that make it true. Before every update or
// delete it re-reads the resource and lets core/recheck.ts decide (write, re-derive, nothing to do,
// or stale); a create that meets "already exists" is planned again against what is there. Every
// handler is idempotent where the API allows it, so an interrupted apply converges when re-run.

import { unreachable, type Change, type ChangeOf } from '../core/plan.ts';
import {
  recheckInlinePolicy,
  recheckOidcProvider,
  recheckRoleCreate,
  recheckRoleDelete,
  recheckRoleUpdate,
  recheckServiceAccount,
  recheckServiceAccountCreate,
  type Recheck,
} from '../core/recheck.ts';
import { InternalError } from '../core/errors.ts';
import { samePolicy } from '../core/trust-policy.ts';
import type { IamGateway, KubeGateway, WorkloadGateway } from '../ports.ts';
import type { MigrationWorkloadKind } from '../core/migration.ts';
import { isAlreadyExists, isNotFound, withConsistencyRetry, type RetryPolicy } from './retry.ts';

export interface ExecutorDeps {
  iam?: IamGateway;
  kube?: KubeGateway;
  /** Pod-template and Secret writes of migrations (workload-template, secret changes). */
  workloads?: WorkloadGateway;
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

const need = <T>(gateway: T | undefined, what: string): T => {
  if (!gateway) throw new InternalError(`apply needs the ${what} gateway but none was configured`);
  return gateway;
};

const difference = (a: string[], b: string[]) => a.filter((item) => !b.includes(item));

/** Deletes tolerate "not found": an interrupted or retried apply converges. */
const tolerate = async (call: () => Promise<unknown>, acceptable: (error: unknown) => boolean): Promise<boolean> => {
  try {
    await call();
    return true;
  } catch (error) {
    if (!acceptable(error)) throw error;
    return false;
  }
};

/** Unwraps a re-check: the change to write, or null when there is nothing to write (notes say why). */
function decide<C>(result: Recheck<C>, notes: string[]): C | null {
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

export function createExecutor(deps: ExecutorDeps): (change: Change) => Promise<ExecuteOutcome> {
  const retry = <T>(change: Change, call: () => Promise<T>) => withConsistencyRetry(call, deps.retryPolicy, (error) => deps.onRetry?.(change, error));

  const updateRole = async (iam: IamGateway, change: Extract<ChangeOf<'iam-role'>, { action: 'update' }>) => {
    const { before, after } = change;
    if (!samePolicy(before.trustPolicy, after.trustPolicy)) {
      await retry(change, () => iam.updateTrustPolicy(after.name, after.trustPolicy));
    }
    if (before.description !== after.description || before.maxSessionDuration !== after.maxSessionDuration) {
      await retry(change, () => iam.updateRole(after.name, { description: after.description, maxSessionDuration: after.maxSessionDuration }));
    }
    if (before.permissionsBoundary !== after.permissionsBoundary) {
      const boundary = after.permissionsBoundary;
      if (boundary) await retry(change, () => iam.putPermissionsBoundary(after.name, boundary));
      else await retry(change, () => iam.deletePermissionsBoundary(after.name));
    }
    const changedTags = Object.fromEntries(Object.entries(after.tags).filter(([key, value]) => before.tags[key] !== value));
    const removedTags = difference(Object.keys(before.tags), Object.keys(after.tags));
    if (Object.keys(changedTags).length > 0) await retry(change, () => iam.tagRole(after.name, changedTags));
    if (removedTags.length > 0) await retry(change, () => iam.untagRole(after.name, removedTags));
  };

  const patchServiceAccount = (kube: KubeGateway, change: Extract<ChangeOf<'service-account'>, { action: 'update' }>) =>
    kube.patchServiceAccountMetadata(change.after.namespace, change.after.name, {
      annotations: metadataPatch(change.before.annotations, change.after.annotations),
      labels: metadataPatch(change.before.labels, change.after.labels),
    });

  return async (change: Change): Promise<ExecuteOutcome> => {
    const notes: string[] = [];
    switch (change.kind) {
      case 'oidc-provider': {
        const iam = need(deps.iam, 'IAM');
        if (change.action === 'create') {
          const { after } = change;
          await tolerate(() => iam.createOidcProvider({ url: after.url, clientIds: after.clientIds, thumbprints: after.thumbprints, tags: after.tags }), isAlreadyExists);
        } else if (change.action === 'update') {
          const current = decide(recheckOidcProvider(change, await iam.getOidcProvider(change.id)), notes);
          if (!current) break;
          const { before, after } = current;
          if (JSON.stringify([...before.thumbprints].sort()) !== JSON.stringify([...after.thumbprints].sort())) {
            await retry(change, () => iam.updateOidcProviderThumbprints(change.id, after.thumbprints));
          }
          for (const clientId of difference(after.clientIds, before.clientIds)) {
            await retry(change, () => iam.addOidcProviderClientId(change.id, clientId));
          }
        } else if (change.action === 'delete') {
          await tolerate(() => iam.deleteOidcProvider(change.id), isNotFound);
        }
        break;
      }
      case 'iam-role': {
        const iam = need(deps.iam, 'IAM');
        if (change.action === 'create') {
          const { after } = change;
          // The provider may have been created a moment ago: "Invalid principal" until IAM catches up.
          const created = await tolerate(() => retry(change, () => iam.createRole(after)), isAlreadyExists);
          if (!created) {
            // Our own lost reply, or another run that created it meanwhile: plan against it.
            const current = decide(recheckRoleCreate(change, await iam.getRole(after.name)), notes);
            if (current) await updateRole(iam, current);
          }
        } else if (change.action === 'delete') {
          const current = decide(recheckRoleDelete(change, await iam.getRole(change.before.name)), notes);
          if (current) await tolerate(() => iam.deleteRole(current.before.name), isNotFound);
        } else if (change.action === 'update') {
          const current = decide(recheckRoleUpdate(change, await iam.getRole(change.before.name)), notes);
          if (current) await updateRole(iam, current);
        }
        break;
      }
      case 'role-policy-attachment': {
        // Membership in a set: attaching twice or detaching what is gone changes nothing, so no re-check.
        const iam = need(deps.iam, 'IAM');
        if (change.action === 'create') {
          const { after } = change;
          await retry(change, () => iam.attachPolicy(after.roleName, after.policyArn));
        } else if (change.action === 'delete') {
          const { before } = change;
          await tolerate(() => iam.detachPolicy(before.roleName, before.policyArn), isNotFound);
        }
        break;
      }
      case 'inline-policy': {
        const iam = need(deps.iam, 'IAM');
        if (change.action === 'create') {
          const { after } = change;
          await retry(change, () => iam.putInlinePolicy(after.roleName, after.policyName, after.document));
        } else if (change.action === 'update' || change.action === 'delete') {
          const role = await iam.getRole(change.before.roleName);
          const current = decide(recheckInlinePolicy(change, role?.inlinePolicies[change.before.policyName]), notes);
          if (current?.action === 'update') await retry(change, () => iam.putInlinePolicy(current.after.roleName, current.after.policyName, current.after.document));
          else if (current?.action === 'delete') await tolerate(() => iam.deleteInlinePolicy(current.before.roleName, current.before.policyName), isNotFound);
        }
        break;
      }
      case 'namespace': {
        // A namespace is only created, and one that exists is what was asked for.
        const kube = need(deps.kube, 'Kubernetes');
        if (change.action === 'create') await tolerate(() => kube.createNamespace(change.after.name), isAlreadyExists);
        break;
      }
      case 'service-account': {
        const kube = need(deps.kube, 'Kubernetes');
        if (change.action === 'create') {
          const { after } = change;
          const created = await tolerate(() => kube.createServiceAccount(after), isAlreadyExists);
          if (!created) {
            // Created between plan and apply: back through the planner's rules, never a blind patch.
            const current = decide(recheckServiceAccountCreate(change, await kube.getServiceAccount(after.namespace, after.name)), notes);
            if (current) await patchServiceAccount(kube, current);
          }
        } else if (change.action === 'update' || change.action === 'delete') {
          const current = decide(recheckServiceAccount(change, await kube.getServiceAccount(change.before.namespace, change.before.name)), notes);
          if (current?.action === 'delete') await tolerate(() => kube.deleteServiceAccount(current.before.namespace, current.before.name), isNotFound);
          else if (current?.action === 'update') await patchServiceAccount(kube, current);
        }
        break;
      }
      case 'workload-restart': {
        const { after } = change;
        const now = deps.now?.() ?? new Date();
        await need(deps.kube, 'Kubernetes').restartWorkload(after, now.toISOString());
        break;
      }
      case 'workload-template': {
        // id: Kind/namespace/name. The gateway re-reads the workload and applies exactly before → after,
        // refusing when the fresh template no longer matches `before` (its own re-check).
        if (change.action !== 'update') break;
        const [kind, namespace, name] = change.id.split('/') as [MigrationWorkloadKind, string, string];
        await need(deps.workloads, 'Kubernetes workload').updatePodTemplate({ kind, namespace, name }, change.before, change.after);
        break;
      }
      case 'secret': {
        // A Secret is only deleted (once no workload uses it); one already gone is what was asked for.
        const [namespace, name] = change.id.split('/') as [string, string];
        if (change.action === 'delete') await tolerate(() => need(deps.workloads, 'Kubernetes workload').deleteSecret(namespace, name), isNotFound);
        break;
      }
      default:
        // Adding a kind to ChangeValues without a case here does not compile.
        return unreachable(change);
    }
    return { notes };
  };
}

/** Merge-patch entries that turn `before` into `after` (null deletes a key). */
export function metadataPatch(before: Record<string, string>, after: Record<string, string>): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) patch[key] = value;
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  return patch;
}
