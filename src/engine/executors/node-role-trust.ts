// Executes node-role-trust changes: the node role taken out of a (kube2iam) role's trust. The
// trust is read just before the write and re-checked (core/resources/node-role-trust.ts): an edit
// made since the plan is kept, the principal is removed from the trust as it is now. After the
// write the trust is read back: still naming the node role is an error, never exit 0.

import { recheckNodeRoleTrust, withoutAwsPrincipal } from '../../core/resources/node-role-trust.ts';
import { inTrustSection } from './iam-role.ts';
import { StaleChangeError, type Executor } from './types.ts';

export const executeNodeRoleTrust: Executor<'node-role-trust'> = async (change, { deps, need, decide, retry, notes }) => {
  if (change.action !== 'update') return;
  const iam = need(deps.iam, 'IAM');
  // Under the role's trust lock (engine/trust-lock.ts), like every other trust write: an irsa run
  // adding a subject to this role at the same time is not overwritten.
  await inTrustSection(iam, change.before.roleName, { deps, notes }, async (section) => {
    const fresh = await section.read();
    const current = decide(recheckNodeRoleTrust(change, fresh?.trustPolicy ?? null));
    if (!current) return;
    section.beforeWrite();
    await retry(() => iam.updateTrustPolicy(current.after.roleName, current.after.trustPolicy));
    const written = await iam.getRoleSettings(current.after.roleName);
    if (written) section.leave(written.trustPolicy);
    if (!written || withoutAwsPrincipal(written.trustPolicy, current.after.nodeRoleArn).changed) {
      throw new StaleChangeError(`role ${current.after.roleName} still trusts ${current.after.nodeRoleArn} after the write (another writer?). Run irsa close-paths again.`);
    }
  });
};
