import type { ChangeOf } from '../../core/plan.ts';
import { recheckServiceAccount, recheckServiceAccountCreate } from '../../core/recheck.ts';
import type { KubeGateway } from '../../ports.ts';
import { isAlreadyExists, isNotFound } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

/** Merge-patch entries that turn `before` into `after` (null deletes a key). */
export function metadataPatch(before: Record<string, string>, after: Record<string, string>): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(after)) if (before[key] !== value) patch[key] = value;
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  return patch;
}

const patchServiceAccount = (kube: KubeGateway, change: Extract<ChangeOf<'service-account'>, { action: 'update' }>) =>
  kube.patchServiceAccountMetadata(change.after.namespace, change.after.name, {
    annotations: metadataPatch(change.before.annotations, change.after.annotations),
    labels: metadataPatch(change.before.labels, change.after.labels),
  });

export const executeServiceAccount: Executor<'service-account'> = async (change, { deps, need, decide }) => {
  const kube = need(deps.kube, 'Kubernetes');
  if (change.action === 'create') {
    const { after } = change;
    const created = await tolerate(() => kube.createServiceAccount(after), isAlreadyExists);
    if (!created) {
      // Created between plan and apply: back through the planner's rules, never a blind patch.
      const current = decide(recheckServiceAccountCreate(change, await kube.getServiceAccount(after.namespace, after.name)));
      if (current) await patchServiceAccount(kube, current);
    }
  } else if (change.action === 'update' || change.action === 'delete') {
    const current = decide(recheckServiceAccount(change, await kube.getServiceAccount(change.before.namespace, change.before.name)));
    if (current?.action === 'delete') await tolerate(() => kube.deleteServiceAccount(current.before.namespace, current.before.name), isNotFound);
    else if (current?.action === 'update') await patchServiceAccount(kube, current);
  }
};
