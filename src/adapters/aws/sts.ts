// StsGateway over @aws-sdk/client-sts, plus the caller identity (cached: it cannot change within
// one run and several commands ask for the account ID).

import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { StsGateway } from '../../ports.ts';
import { sendCommand, type CommandSender } from './clients.ts';

export interface CallerIdentity {
  account: string;
  arn: string;
}

export interface StsAdapter extends StsGateway {
  callerIdentity(): Promise<CallerIdentity>;
}

/** "arn:aws:sts::123456789012:assumed-role/r/s" → "123456789012". */
const accountOfArn = (arn: string): string => arn.split(':')[4] ?? '';

export function createStsGateway(client: CommandSender): StsAdapter {
  let identity: Promise<CallerIdentity> | undefined;
  return {
    callerIdentity() {
      identity ??= sendCommand('sts', client, new GetCallerIdentityCommand({})).then((out) => ({
        account: out.Account ?? accountOfArn(out.Arn ?? ''),
        arn: out.Arn ?? '',
      }));
      // A failed lookup (expired SSO session, say) may succeed after the user fixes it.
      identity.catch(() => (identity = undefined));
      return identity;
    },

    async assumeRoleWithWebIdentity(roleArn, token, sessionName) {
      // The token is a credential: it goes only into the request. It is not in any error we
      // build (the SDK's errors carry the response, not the request).
      const out = await sendCommand('sts', client, new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: sessionName,
        WebIdentityToken: token,
      }));
      const arn = out.AssumedRoleUser?.Arn ?? '';
      // The temporary credentials in `out.Credentials` are deliberately dropped.
      return { arn, account: accountOfArn(arn) };
    },
  };
}
