import { isNotFound } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

/** Membership in a set: attaching twice or detaching what is gone changes nothing, so no re-check. */
export const executeRolePolicyAttachment: Executor<'role-policy-attachment'> = async (change, { deps, need, retry }) => {
  const iam = need(deps.iam, 'IAM');
  if (change.action === 'create') {
    const { after } = change;
    await retry(() => iam.attachPolicy(after.roleName, after.policyArn));
  } else if (change.action === 'delete') {
    const { before } = change;
    await tolerate(() => iam.detachPolicy(before.roleName, before.policyArn), isNotFound);
  }
};
