import { recheckInlinePolicy } from '../../core/recheck.ts';
import { isNotFound } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

export const executeInlinePolicy: Executor<'inline-policy'> = async (change, { deps, need, decide, retry }) => {
  const iam = need(deps.iam, 'IAM');
  if (change.action === 'create') {
    const { after } = change;
    await retry(() => iam.putInlinePolicy(after.roleName, after.policyName, after.document));
  } else if (change.action === 'update' || change.action === 'delete') {
    const role = await iam.getRole(change.before.roleName);
    const current = decide(recheckInlinePolicy(change, role?.inlinePolicies[change.before.policyName]));
    if (current?.action === 'update') await retry(() => iam.putInlinePolicy(current.after.roleName, current.after.policyName, current.after.document));
    else if (current?.action === 'delete') await tolerate(() => iam.deleteInlinePolicy(current.before.roleName, current.before.policyName), isNotFound);
  }
};
