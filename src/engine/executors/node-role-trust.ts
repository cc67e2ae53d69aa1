// Executes node-role-trust changes: the node role taken out of a (kube2iam) role's trust. The
// trust is read just before the write and re-checked (core/resources/node-role-trust.ts): an edit
// made since the plan is kept, the principal is removed from the trust as it is now. After the
// write the trust is read back: still naming the node role is an error, never exit 0.

import { recheckNodeRoleTrust, withoutAwsPrincipal } from '../../core/resources/node-role-trust.ts';
import { StaleChangeError, type Executor } from './types.ts';

export const executeNodeRoleTrust: Executor<'node-role-trust'> = async (change, { deps, need, decide, retry }) => {
  if (change.action !== 'update') return;
  const iam = need(deps.iam, 'IAM');
  const fresh = await iam.getRole(change.before.roleName);
  const current = decide(recheckNodeRoleTrust(change, fresh?.trustPolicy ?? null));
  if (!current) return;
  await retry(() => iam.updateTrustPolicy(current.after.roleName, current.after.trustPolicy));
  const written = await iam.getRole(current.after.roleName);
  if (!written || withoutAwsPrincipal(written.trustPolicy, current.after.nodeRoleArn).changed) {
    throw new StaleChangeError(`role ${current.after.roleName} still trusts ${current.after.nodeRoleArn} after the write (another writer?). Run irsa close-paths again.`);
  }
};
