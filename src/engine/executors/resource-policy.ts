// Writes a secret's resource policy or a KMS key's key policy in the resource's own account (the
// change's `account`, through that account's profile). Re-reads the policy first: only irsa's own
// statement is ever changed on what is there (core/resources/resource-policy.ts).

import { recheckResourcePolicy } from '../../core/resources/resource-policy.ts';
import { InternalError } from '../../core/errors.ts';
import type { Executor } from './types.ts';

const gatewayFor = (deps: Parameters<Executor<'secret-policy'>>[1]['deps'], account: string | undefined, arn: string) => {
  if (!deps.resourcePolicies || !account) throw new InternalError('apply needs the resource-policy gateway of the resource\'s account but none was configured');
  // The resource's region is the fourth part of its ARN.
  return deps.resourcePolicies(account, arn.split(':')[3]!);
};

export const executeSecretPolicy: Executor<'secret-policy'> = async (change, { deps, decide, retry }) => {
  if (change.action === 'no-op') return;
  const value = (change.after ?? change.before)!;
  const gateway = await gatewayFor(deps, change.account, value.arn);
  const current = decide(recheckResourcePolicy(change, await gateway.getSecretPolicy(value.arn)));
  if (!current || current.action === 'no-op') return;
  const document = current.after?.document ?? null;
  // "Invalid principal" right after the role was created: IAM eventual consistency, retried.
  if (document) await retry(() => gateway.putSecretPolicy(value.arn, document));
  else await gateway.deleteSecretPolicy(value.arn);
};

export const executeKeyPolicy: Executor<'key-policy'> = async (change, { deps, decide, retry }) => {
  if (change.action === 'no-op') return;
  const value = (change.after ?? change.before)!;
  const gateway = await gatewayFor(deps, change.account, value.arn);
  const current = decide(recheckResourcePolicy(change, await gateway.getKeyPolicy(value.arn)));
  if (!current || current.action === 'no-op') return;
  const document = current.after?.document;
  // A key always has a key policy; irsa never removes the last statement of one (planned as a blocker).
  if (!document) throw new InternalError(`a key policy change for ${value.arn} would leave the key without a policy`);
  await retry(() => gateway.putKeyPolicy(value.arn, document));
};
