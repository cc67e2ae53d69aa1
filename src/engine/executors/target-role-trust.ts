// Executes target-role-trust changes in the target role's own account (ExecutorDeps.iamFor: that
// account's profile). The trust is re-derived from what the role has just before the write: irsa's
// statement for this association role is added or replaced on the fresh document, so a statement
// someone added since the plan is kept; an external id still pending at plan time is read from the
// association now (it exists: this change depends on it).

import { addTargetTrust } from '../../core/pods-eks-trust.ts';
import { InternalError } from '../../core/errors.ts';
import { findAssociation } from './pod-identity-association.ts';
import { StaleChangeError, type Executor } from './types.ts';

const roleNameOf = (arn: string): string => arn.split('/').pop() ?? arn;

export const executeTargetRoleTrust: Executor<'target-role-trust'> = async (change, { deps, need, retry }) => {
  if (change.action !== 'update') return;
  const iamFor = need(deps.iamFor, 'IAM of other accounts');
  const iam = await iamFor(change.account ?? '');
  const { after } = change;
  let externalId = after.externalId;
  if (after.externalIdPending) {
    const association = await findAssociation(need(deps.podIdentity, 'EKS Pod Identity'), after.association);
    if (!association?.externalId) {
      throw new InternalError(`the association of ${after.association.namespace}/${after.association.serviceAccount} has no external id for ${after.roleArn}`);
    }
    externalId = association.externalId;
  }
  const name = roleNameOf(after.roleArn);
  const fresh = await iam.getRoleSettings(name);
  if (!fresh) throw new StaleChangeError(`the target role ${after.roleArn} no longer exists; nothing was written for it. Run the command again to plan against what is there now.`);
  const merged = addTargetTrust(fresh.trustPolicy, { sourceRoleArn: after.sourceRoleArn, externalId });
  if (!merged.changed) return;
  await retry(() => iam.updateTrustPolicy(name, merged.document));
};
