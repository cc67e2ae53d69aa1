// --lock-timeout and the Leases of the trust lock (engine/trust-lock.ts), for the commands that
// write roles' trust policies. The lock lives in the cluster the bindings belong to; without a
// Kubernetes connection (role-only bindings, --issuer-url files) there is none, and trust writes
// are proven by reading them back instead (docs/architecture.md, "Concurrent runs").

import { UserError } from '../core/errors.ts';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../engine/trust-lock.ts';
import type { LeaseGateway } from '../ports.ts';
import type { CommandContext } from './context.ts';

export const LOCK_TIMEOUT_OPTION = {
  flags: '--lock-timeout <seconds>',
  description: `how long to wait for another irsa run writing the same role's trust policy (its Lease in the cluster) before giving up; default ${DEFAULT_LOCK_TIMEOUT_MS / 1000}`,
};

/** --lock-timeout in milliseconds; checked before anything is read or written. */
export function parseLockTimeout(options: Record<string, unknown>): number {
  const given = options['lockTimeout'];
  if (given === undefined) return DEFAULT_LOCK_TIMEOUT_MS;
  const text = String(given);
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 3600) {
    throw new UserError(`--lock-timeout: "${text}" is not a number of seconds from 1 to 3600. Give how long to wait for another run's lock on a role, e.g. --lock-timeout 300.`, '--lock-timeout');
  }
  return Number(text) * 1000;
}

/** What runPlan needs to take trust locks: the cluster's Leases when there is a cluster connection. */
export async function trustLockOptions(ctx: Pick<CommandContext, 'leases'>, options: Record<string, unknown>, hasCluster: boolean): Promise<{ leases?: LeaseGateway; lockTimeoutMs: number }> {
  const lockTimeoutMs = parseLockTimeout(options);
  return hasCluster ? { leases: await ctx.leases(), lockTimeoutMs } : { lockTimeoutMs };
}
