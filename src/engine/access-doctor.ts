// Reads what doctor --can needs, each document in its own account (through --account-profile),
// and hands it to core/access-doctor.ts. Without --can, the role's own access requests (its
// irsa-access policy) are checked.

import { accessChecks, type ResourceReads, type RoleForAccess } from '../core/access-doctor.ts';
import { accessesInIdentityPolicy, ACCESS_POLICY_NAME, arnAccount } from '../core/access-request.ts';
import type { DoctorCheck } from '../core/doctor.ts';
import type { RoleState } from '../core/state.ts';
import type { IamGateway } from '../ports.ts';
import type { AccountGateways } from './access.ts';

const settle = <T>(promise: Promise<T>): Promise<T | 'unreadable'> => promise.catch(() => 'unreadable' as const);

export async function doctorAccessChecks(
  role: RoleState,
  requests: Array<{ action: string; arn: string }>,
  deps: { iam: IamGateway; gateways: AccountGateways },
): Promise<DoctorCheck[]> {
  const account = role.arn.split(':')[4] ?? '';
  // Without --can: what irsa granted the role (its irsa-access policy).
  const wanted = requests.length > 0 ? requests : accessesInIdentityPolicy(role.inlinePolicies[ACCESS_POLICY_NAME]).secrets.map((arn) => ({ action: 'secretsmanager:GetSecretValue', arn }));
  if (wanted.length === 0) return [];
  const managed = await Promise.all(
    role.attachedPolicyArns.map(async (arn) => ({ name: `managed policy ${arn}`, document: deps.iam.getPolicyDocument ? await settle(deps.iam.getPolicyDocument(arn)) : ('unreadable' as const) })),
  );
  const boundaryArn = role.permissionsBoundary;
  const subject: RoleForAccess = {
    arn: role.arn,
    name: role.name,
    account,
    ...(role.id ? { id: role.id } : {}),
    policies: [...Object.entries(role.inlinePolicies).map(([name, document]) => ({ name: `inline policy ${name} of ${role.name}`, document })), ...managed],
    boundary: boundaryArn ? { name: boundaryArn, document: deps.iam.getPolicyDocument ? await settle(deps.iam.getPolicyDocument(boundaryArn)) : 'unreadable' } : null,
  };
  const organizations: ResourceReads['organizations'] = {};
  const orgOf = async (acct: string, region: string) => {
    const gateway = deps.gateways.gateway(acct, region);
    organizations[acct] = gateway ? await (await gateway).organization() : 'unknown';
  };
  const checks: DoctorCheck[] = [];
  for (const { action, arn } of wanted) {
    const where = arnAccount(arn);
    const reads: ResourceReads = { action, arn, organizations, profileFix: deps.gateways.fix };
    await orgOf(account, where?.region ?? '');
    if (where && arn.includes(':secretsmanager:')) {
      const gateway = deps.gateways.gateway(where.account, where.region);
      if (!gateway) reads.secret = 'unreachable';
      else {
        const g = await gateway;
        await orgOf(where.account, where.region);
        const described = await g.describeSecret(arn);
        if (!described) reads.secret = 'not-found';
        else {
          reads.arn = described.arn;
          reads.secret = { kmsKeyId: described.kmsKeyId, policy: await g.getSecretPolicy(described.arn) };
          if (described.kmsKeyId) {
            const keyWhere = arnAccount(described.kmsKeyId) ?? where;
            const keyGateway = deps.gateways.gateway(keyWhere.account, keyWhere.region);
            if (!keyGateway) reads.key = 'unreachable';
            else {
              const k = await keyGateway;
              await orgOf(keyWhere.account, keyWhere.region);
              const key = await k.describeKey(described.kmsKeyId);
              reads.key = key
                ? { ...key, policy: key.manager === 'AWS' ? null : await k.getKeyPolicy(key.arn), grants: await settle(k.listGrants(key.arn)) }
                : 'not-found';
            }
          }
        }
      }
    }
    checks.push(...accessChecks(subject, reads));
  }
  return checks;
}
