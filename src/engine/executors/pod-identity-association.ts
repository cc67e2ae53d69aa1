// Executes pod-identity-association changes through the PodIdentityGateway. Before every write it
// reads the association of that exact ServiceAccount again and lets the kind's re-check decide
// (core/resources/pod-identity-association.ts): a create that meets one made in between is planned
// again (never a second association, never a silent re-point), an update sends the whole value.

import {
  recheckAssociationCreate,
  recheckAssociationDelete,
  recheckAssociationUpdate,
  updateArguments,
  type PodIdentityAssociationState,
} from '../../core/resources/pod-identity-association.ts';
import type { PodIdentityGateway } from '../../ports.ts';
import { isAlreadyExists } from '../retry.ts';
import type { Executor } from './types.ts';

/** The association of exactly (cluster, namespace, ServiceAccount), or null. */
export async function findAssociation(gateway: PodIdentityGateway, ref: { cluster: string; namespace: string; serviceAccount: string }): Promise<PodIdentityAssociationState | null> {
  const listed = await gateway.listAssociations(ref.cluster, { namespace: ref.namespace, serviceAccount: ref.serviceAccount });
  // EKS filters exactly; equality is checked again here so that a filter that matched more
  // (eksctl#8484 updated the wrong association through a substring match) cannot pick another.
  const match = listed.find((a) => a.namespace === ref.namespace && a.serviceAccount === ref.serviceAccount);
  return match ? gateway.describeAssociation(ref.cluster, match.associationId) : null;
}

export const executePodIdentityAssociation: Executor<'pod-identity-association'> = async (change, { deps, need, decide }) => {
  const gateway = need(deps.podIdentity, 'EKS Pod Identity');
  if (change.action === 'create') {
    const { after } = change;
    const input = { cluster: after.cluster, namespace: after.namespace, serviceAccount: after.serviceAccount, roleArn: after.roleArn, targetRoleArn: after.targetRoleArn, disableSessionTags: after.disableSessionTags, policy: after.policy, tags: after.tags };
    let conflict = false;
    try {
      await gateway.createAssociation(input);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      conflict = true; // ResourceInUseException: one was made since the plan (or by an interrupted run)
    }
    if (!conflict) return;
    const verdict = recheckAssociationCreate(change, await findAssociation(gateway, after));
    if (verdict.verdict === 'create') await gateway.createAssociation(input);
    else {
      const update = decide(verdict);
      if (update) await gateway.updateAssociation(update.after.cluster, update.after.associationId!, updateArguments(update));
    }
  } else if (change.action === 'update') {
    const update = decide(recheckAssociationUpdate(change, await findAssociation(gateway, change.before)));
    if (update) await gateway.updateAssociation(update.after.cluster, update.before.associationId!, updateArguments(update));
  } else if (change.action === 'delete') {
    const remove = decide(recheckAssociationDelete(change, await findAssociation(gateway, change.before)));
    // A delete that finds nothing is what was asked for (an interrupted apply re-run).
    if (remove) await gateway.deleteAssociation(remove.before.cluster, remove.before.associationId!);
  }
};
