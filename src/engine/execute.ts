// Turns one planned change into the gateway calls that make it true. Every handler is
// idempotent where the API allows it, so an interrupted apply converges when re-run.

import type { Change } from '../core/plan.ts';
import type {
  AttachmentValue,
  InlinePolicyValue,
  NamespaceValue,
  OidcProviderAfter,
  RoleValue,
  ServiceAccountValue,
  WorkloadRestartValue,
} from '../core/resources/types.ts';
import { samePolicy } from '../core/trust-policy.ts';
import { ConflictError, InternalError } from '../core/errors.ts';
import type { IamGateway, KubeGateway, WorkloadGateway } from '../ports.ts';
import type { MigrationWorkloadKind, TemplateView } from '../core/migration.ts';
import { isAlreadyExists, isNotFound, withConsistencyRetry, type RetryPolicy } from './retry.ts';

export interface ExecutorDeps {
  iam?: IamGateway;
  kube?: KubeGateway;
  /** Pod-template and Secret writes of migrations (workload-template, secret changes). */
  workloads?: WorkloadGateway;
  now?: () => Date;
  retryPolicy?: RetryPolicy;
  onRetry?: (change: Change, error: unknown) => void;
}

const need = <T>(gateway: T | undefined, what: string): T => {
  if (!gateway) throw new InternalError(`apply needs the ${what} gateway but none was configured`);
  return gateway;
};

const difference = (a: string[], b: string[]) => a.filter((item) => !b.includes(item));

/** Creates tolerate "already exists" and deletes "not found": an interrupted or retried apply converges. */
const tolerate = async (call: () => Promise<unknown>, acceptable: (error: unknown) => boolean, verify?: () => Promise<void>) => {
  try {
    await call();
  } catch (error) {
    if (!acceptable(error)) throw error;
    await verify?.();
  }
};

export function createExecutor(deps: ExecutorDeps): (change: Change) => Promise<void> {
  const retry = <T>(change: Change, call: () => Promise<T>) =>
    withConsistencyRetry(call, deps.retryPolicy, (error) => deps.onRetry?.(change, error));

  return async (change: Change) => {
    switch (change.kind) {
      case 'oidc-provider': {
        const iam = need(deps.iam, 'IAM');
        const after = change.after as OidcProviderAfter;
        if (change.action === 'create') {
          await tolerate(() => iam.createOidcProvider({ url: after.url, clientIds: after.clientIds, thumbprints: after.thumbprints, tags: after.tags }), isAlreadyExists);
        } else if (change.action === 'update') {
          const before = change.before as OidcProviderAfter;
          if (JSON.stringify([...before.thumbprints].sort()) !== JSON.stringify([...after.thumbprints].sort())) {
            await retry(change, () => iam.updateOidcProviderThumbprints(change.id, after.thumbprints));
          }
          for (const clientId of difference(after.clientIds, before.clientIds)) {
            await retry(change, () => iam.addOidcProviderClientId(change.id, clientId));
          }
        } else if (change.action === 'delete') {
          await tolerate(() => iam.deleteOidcProvider(change.id), isNotFound);
        }
        return;
      }
      case 'iam-role': {
        const iam = need(deps.iam, 'IAM');
        if (change.action === 'create') {
          const after = change.after as RoleValue;
          // The provider may have been created a moment ago: "Invalid principal" until IAM catches up.
          await tolerate(() => retry(change, () => iam.createRole(after)), isAlreadyExists, async () => {
            // Only our own earlier attempt counts: the existing role must be the one planned.
            const existing = await iam.getRole(after.name);
            if (!existing || !samePolicy(existing.trustPolicy, after.trustPolicy)) {
              throw new ConflictError(`role ${after.name} was created by someone else while irsa was applying; run irsa again to plan against it.`);
            }
          });
          return;
        }
        if (change.action === 'delete') {
          await tolerate(() => iam.deleteRole((change.before as RoleValue).name), isNotFound);
          return;
        }
        if (change.action !== 'update') return;
        const before = change.before as RoleValue;
        const after = change.after as RoleValue;
        if (!samePolicy(before.trustPolicy, after.trustPolicy)) {
          await retry(change, () => iam.updateTrustPolicy(after.name, after.trustPolicy));
        }
        if (before.description !== after.description || before.maxSessionDuration !== after.maxSessionDuration) {
          await retry(change, () => iam.updateRole(after.name, { description: after.description, maxSessionDuration: after.maxSessionDuration }));
        }
        if (before.permissionsBoundary !== after.permissionsBoundary) {
          if (after.permissionsBoundary) await retry(change, () => iam.putPermissionsBoundary(after.name, after.permissionsBoundary!));
          else await retry(change, () => iam.deletePermissionsBoundary(after.name));
        }
        const changedTags = Object.fromEntries(Object.entries(after.tags).filter(([key, value]) => before.tags[key] !== value));
        const removedTags = difference(Object.keys(before.tags), Object.keys(after.tags));
        if (Object.keys(changedTags).length > 0) await retry(change, () => iam.tagRole(after.name, changedTags));
        if (removedTags.length > 0) await retry(change, () => iam.untagRole(after.name, removedTags));
        return;
      }
      case 'role-policy-attachment': {
        const iam = need(deps.iam, 'IAM');
        if (change.action === 'create') {
          const after = change.after as AttachmentValue;
          await retry(change, () => iam.attachPolicy(after.roleName, after.policyArn));
        } else if (change.action === 'delete') {
          const before = change.before as AttachmentValue;
          await tolerate(() => iam.detachPolicy(before.roleName, before.policyArn), isNotFound);
        }
        return;
      }
      case 'inline-policy': {
        const iam = need(deps.iam, 'IAM');
        if (change.action === 'create' || change.action === 'update') {
          const after = change.after as InlinePolicyValue;
          await retry(change, () => iam.putInlinePolicy(after.roleName, after.policyName, after.document));
        } else if (change.action === 'delete') {
          const before = change.before as InlinePolicyValue;
          await tolerate(() => iam.deleteInlinePolicy(before.roleName, before.policyName), isNotFound);
        }
        return;
      }
      case 'namespace': {
        const kube = need(deps.kube, 'Kubernetes');
        if (change.action === 'create') await tolerate(() => kube.createNamespace((change.after as NamespaceValue).name), isAlreadyExists);
        return;
      }
      case 'service-account': {
        const kube = need(deps.kube, 'Kubernetes');
        if (change.action === 'create') {
          const after = change.after as ServiceAccountValue;
          await tolerate(() => kube.createServiceAccount(after), isAlreadyExists, () =>
            kube.patchServiceAccountMetadata(after.namespace, after.name, { annotations: after.annotations }),
          );
        } else if (change.action === 'delete') {
          const before = change.before as ServiceAccountValue;
          await tolerate(() => kube.deleteServiceAccount(before.namespace, before.name), isNotFound);
        } else if (change.action === 'update') {
          const before = change.before as ServiceAccountValue;
          const after = change.after as ServiceAccountValue;
          await kube.patchServiceAccountMetadata(after.namespace, after.name, {
            annotations: metadataPatch(before.annotations, after.annotations),
            labels: metadataPatch(before.labels, after.labels),
          });
        }
        return;
      }
      case 'workload-restart': {
        const after = change.after as WorkloadRestartValue;
        const now = deps.now?.() ?? new Date();
        await need(deps.kube, 'Kubernetes').restartWorkload(after, now.toISOString());
        return;
      }
      case 'workload-template': {
        // id: Kind/namespace/name; the gateway re-reads the workload and refuses on drift.
        const [kind, namespace, name] = change.id.split('/') as [MigrationWorkloadKind, string, string];
        await need(deps.workloads, 'Kubernetes workload').updatePodTemplate({ kind, namespace, name }, change.before as TemplateView, change.after as TemplateView);
        return;
      }
      case 'secret': {
        const [namespace, name] = change.id.split('/') as [string, string];
        if (change.action === 'delete') await need(deps.workloads, 'Kubernetes workload').deleteSecret(namespace, name);
        return;
      }
      default:
        throw new InternalError(`no executor for change kind ${change.kind}`);
    }
  };
}

/** Merge-patch entries that turn `before` into `after` (null deletes a key). */
export function metadataPatch(before: Record<string, string>, after: Record<string, string>): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) patch[key] = value;
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  return patch;
}
