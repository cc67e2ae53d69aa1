import type { ChangeOf } from '../../core/plan.ts';
import { recheckRoleCreate, recheckRoleDelete, recheckRoleUpdate } from '../../core/recheck.ts';
import { samePolicy } from '../../core/trust-policy.ts';
import type { IamGateway } from '../../ports.ts';
import { isAlreadyExists, isNotFound } from '../retry.ts';
import { difference, tolerate, type Executor, type ExecutorContext } from './types.ts';

async function updateRole(iam: IamGateway, change: Extract<ChangeOf<'iam-role'>, { action: 'update' }>, retry: ExecutorContext['retry']) {
  const { before, after } = change;
  if (!samePolicy(before.trustPolicy, after.trustPolicy)) {
    await retry(() => iam.updateTrustPolicy(after.name, after.trustPolicy));
  }
  if (before.description !== after.description || before.maxSessionDuration !== after.maxSessionDuration) {
    await retry(() => iam.updateRole(after.name, { description: after.description, maxSessionDuration: after.maxSessionDuration }));
  }
  if (before.permissionsBoundary !== after.permissionsBoundary) {
    const boundary = after.permissionsBoundary;
    if (boundary) await retry(() => iam.putPermissionsBoundary(after.name, boundary));
    else await retry(() => iam.deletePermissionsBoundary(after.name));
  }
  const changedTags = Object.fromEntries(Object.entries(after.tags).filter(([key, value]) => before.tags[key] !== value));
  const removedTags = difference(Object.keys(before.tags), Object.keys(after.tags));
  if (Object.keys(changedTags).length > 0) await retry(() => iam.tagRole(after.name, changedTags));
  if (removedTags.length > 0) await retry(() => iam.untagRole(after.name, removedTags));
}

export const executeIamRole: Executor<'iam-role'> = async (change, { deps, need, decide, retry }) => {
  const iam = need(deps.iam, 'IAM');
  if (change.action === 'create') {
    const { after } = change;
    // The provider may have been created a moment ago: "Invalid principal" until IAM catches up.
    const created = await tolerate(() => retry(() => iam.createRole(after)), isAlreadyExists);
    if (!created) {
      // Our own lost reply, or another run that created it meanwhile: plan against it.
      const current = decide(recheckRoleCreate(change, await iam.getRole(after.name)));
      if (current) await updateRole(iam, current, retry);
    }
  } else if (change.action === 'delete') {
    const current = decide(recheckRoleDelete(change, await iam.getRole(change.before.name)));
    if (current) await tolerate(() => iam.deleteRole(current.before.name), isNotFound);
  } else if (change.action === 'update') {
    const current = decide(recheckRoleUpdate(change, await iam.getRole(change.before.name)));
    if (current) await updateRole(iam, current, retry);
  }
};
