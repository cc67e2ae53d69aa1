// doctor --can <action> <resource-arn> and --account-profile: the few lines doctor needs to check
// access (engine/access-doctor.ts reads, core/access-doctor.ts decides).

import { parseAccountProfile } from '../core/access-request.ts';
import type { DoctorCheck } from '../core/doctor.ts';
import { UserError } from '../core/errors.ts';
import type { RoleState } from '../core/state.ts';
import { accountGateways } from '../engine/access.ts';
import { doctorAccessChecks } from '../engine/access-doctor.ts';
import type { IamGateway } from '../ports.ts';
import type { CommandContext } from './context.ts';

export async function accessDoctor(options: Record<string, unknown>, role: RoleState, iam: IamGateway, ctx: CommandContext, account: string): Promise<DoctorCheck[]> {
  const can = options['can'] as string[] | undefined;
  const requests: Array<{ action: string; arn: string }> = [];
  if (can !== undefined) {
    if (can.length !== 2 || !/^[a-z0-9-]+:[A-Za-z*?]+$/.test(can[0]!) || !can[1]!.startsWith('arn:')) {
      throw new UserError(`--can: give an action and a resource ARN, e.g. --can secretsmanager:GetSecretValue arn:aws:secretsmanager:eu-west-1:222222222222:secret:db-AbCdEf (got "${can.join(' ')}").`, '--can');
    }
    requests.push({ action: can[0]!, arn: can[1]! });
  }
  const given = options['accountProfile'];
  const profiles = Object.fromEntries((given === undefined ? [] : Array.isArray(given) ? (given as string[]) : [String(given)]).map((text) => parseAccountProfile(text)));
  const gateways = accountGateways({
    homeAccount: account,
    profiles,
    open: (profile, region) => ctx.resourcePolicies(profile, region),
    fix: (other) => `Pass --account-profile ${other}=<a profile of account ${other}>.`,
    field: () => '--account-profile',
  });
  return doctorAccessChecks(role, requests, { iam, gateways });
}
