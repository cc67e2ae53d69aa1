// Trust writes in a batch: a plan with many trust changes (a migration of 100 ServiceAccounts, an
// irsa.yaml that moves a cluster) takes every role's lock first, then reads all the roles in one
// bulk read *under* those locks, so each write needs no read of its own: the re-check is done on
// what the bulk read returned, which no irsa run can change while the locks are held. Per role
// that is one call (the write) instead of three (re-check, write, read-back) — what lets
// `irsa migrate` of 100 run near its raw write floor (bench/pod-identity.ts).
//
// The locks are taken all or none and without waiting (TrustLocker.tryAcquireAll): if another run
// holds one, nothing is kept and every change locks on its own as before, so two batches never
// wait on each other. A role whose bulk read does not show what the Lease says the last holder
// left (IAM is eventually consistent) is read again by its change, as without a batch.
//
// What a bulk read costs is bulk-reads.ts's cost model: in an account of many roles, reading
// them all can cost more than one GetRole per change, and then there is no batch.

import type { Plan } from '../core/plan.ts';
import type { RoleSettings, RoleState } from '../core/state.ts';
import { samePolicy, type PolicyDocument } from '../core/trust-policy.ts';
import type { IamGateway } from '../ports.ts';
import { chooseRoleReads } from './bulk-reads.ts';
import { trustDigest, type HeldTrustLock, type TrustLocker } from './trust-lock.ts';

/** Below this many trust changes, locking and reading change by change is as fast. */
export const TRUST_BATCH_MIN = 8;

export interface TrustBatch {
  /** Hands out the batch's locks (with their fresh reads) first, then locks as the given locker does. */
  locker: TrustLocker;
  /** Gives back, untouched, the locks of changes that never ran (a failed dependency). */
  finish(): Promise<void>;
}

/** The roles whose trust policy the plan's iam-role updates change. */
export function trustWriteRoles(plan: Plan): string[] {
  const names = plan.changes.flatMap((change) =>
    change.kind === 'iam-role' && change.action === 'update' && !samePolicy(change.before.trustPolicy, change.after.trustPolicy) ? [change.before.name] : []);
  return [...new Set(names)];
}

/**
 * A role as a read under its lock returned it, if its change may use it as the re-check: not when
 * the role was not read, nor when it does not show what the Lease says was left there (IAM is
 * eventually consistent, or the role is gone) — then the change reads again, settling. Undefined:
 * read again.
 */
function usableRead(roles: Map<string, RoleSettings | RoleState | null>, name: string, expectedDigest: string | null): RoleSettings | null | undefined {
  if (!roles.has(name)) return undefined;
  const role = roles.get(name) ?? null;
  if (expectedDigest && (!role || trustDigest(role.trustPolicy) !== expectedDigest)) return undefined;
  return role ? settingsOf(role) : null;
}

const settingsOf = (role: RoleSettings | RoleState): RoleSettings => {
  const { attachedPolicyArns: _attached, inlinePolicies: _inline, ...settings } = role as RoleState;
  return settings;
};

export async function prepareTrustBatch(plan: Plan, locker: TrustLocker, iam: IamGateway, concurrency: number): Promise<TrustBatch> {
  const plain: TrustBatch = { locker, finish: async () => {} };
  const names = trustWriteRoles(plan);
  if (chooseRoleReads({ roles: names.length, accountScan: false, concurrency }).strategy !== 'bulk') return plain;
  const held = await lockTrustBatch(locker, names, concurrency);
  if (!held) return plain;
  let all: RoleState[];
  try {
    all = await iam.listRoleDetails();
  } catch {
    // Denied (iam:GetAccountAuthorizationDetails) or failed: each change reads its own role.
    await Promise.all([...held.values()].map((lock) => lock.abandon()));
    return plain;
  }
  return trustBatchOf(locker, held, new Map(all.map((role) => [role.name, role])));
}

/**
 * Takes a batch's locks now, before the reads a plan is made from (irsa migrate): then those
 * reads are the re-check, and the batch needs no read of its own. Null: too few roles for a
 * batch, or another run holds one of them (nothing is kept).
 */
export async function lockTrustBatch(locker: TrustLocker, names: string[], concurrency: number): Promise<Map<string, HeldTrustLock> | null> {
  const unique = [...new Set(names)];
  if (unique.length < TRUST_BATCH_MIN) return null;
  return locker.tryAcquireAll(unique, concurrency);
}

/**
 * The batch over locks taken before `roles` was read (by role name; absent: not read, its change
 * reads it): each change's first read under its lock is that read.
 */
export function trustBatchOf(locker: TrustLocker, held: Map<string, HeldTrustLock>, roles: Map<string, RoleSettings | RoleState | null>): TrustBatch {
  for (const [name, lock] of held) {
    const read = usableRead(roles, name, lock.previousDigest);
    if (read !== undefined) lock.fresh = read;
  }
  const waiting = new Map<string, HeldTrustLock>(held);
  // A change gives its lock back without waiting for the apiserver's answer (its write is done):
  // its slot goes to the next change at once; finish() waits for every release.
  const releasing: Array<Promise<void>> = [];
  return {
    locker: {
      async acquire(roleName) {
        const lock = waiting.get(roleName);
        if (!lock) return locker.acquire(roleName);
        waiting.delete(roleName);
        return { lock: { ...lock, release: async (written) => void releasing.push(lock.release(written)) } };
      },
      tryAcquireAll: (roleNames, limit) => locker.tryAcquireAll(roleNames, limit),
    },
    async finish() {
      const left = [...waiting.values()];
      waiting.clear();
      await Promise.all([...left.map((lock) => lock.abandon()), ...releasing]);
    },
  };
}

/** Locks held across the steps of one command (KeptTrustLocks). */
export interface KeptTrustLocks {
  /**
   * A step's batch: its changes use the kept locks, whose first read is `roles` (read under them).
   * `last`: the batch's finish() releases the locks (the command's last step).
   */
  batchOf(roles: Map<string, RoleSettings | RoleState | null>, options?: { last?: boolean }): TrustBatch;
  /** Releases every lock, each recording the document the last step left (untouched when none wrote). */
  release(): Promise<void>;
}

/**
 * Locks kept across the steps of one command (irsa migrate: step 1 adds the new mechanism's trust,
 * step 5 removes the old one): taken once before the first read, handed to each step's changes —
 * as often as asked, so an after-apply repair under the same lock does not wait for itself — and
 * released once at the end. A change's release only records what it left; the next step's read
 * is checked against that, as a new holder's read is checked against the Lease record.
 */
export function keepTrustLocks(locker: TrustLocker, held: Map<string, HeldTrustLock>): KeptTrustLocks {
  const left = new Map<string, PolicyDocument | null>();
  // Once released, a change (an after-apply repair) locks as any other: never writes unlocked.
  let released: Promise<void> | null = null;
  const release = () =>
    (released ??= Promise.all([...held].map(([name, lock]) => (left.has(name) ? lock.release(left.get(name)!) : lock.abandon()))).then(() => undefined));
  const expected = (name: string, lock: HeldTrustLock): string | null => (left.has(name) ? (left.get(name) ? trustDigest(left.get(name)!) : null) : lock.previousDigest);
  return {
    batchOf(roles, options = {}) {
      const fresh = new Map<string, RoleSettings | null>();
      for (const [name, lock] of held) {
        if (left.has(name) && left.get(name) === null) continue; // unknown after a failed write: read it
        const read = usableRead(roles, name, expected(name, lock));
        if (read !== undefined) fresh.set(name, read);
      }
      return {
        locker: {
          async acquire(roleName) {
            const lock = released ? undefined : held.get(roleName);
            if (!lock) return locker.acquire(roleName);
            const view: HeldTrustLock = {
              ...lock,
              previousDigest: expected(roleName, lock),
              release: async (written) => void left.set(roleName, written),
              abandon: async () => {},
            };
            if (fresh.has(roleName)) view.fresh = fresh.get(roleName)!;
            fresh.delete(roleName); // a second acquisition (a repair) reads again
            return { lock: view };
          },
          tryAcquireAll: (roleNames, limit) => locker.tryAcquireAll(roleNames, limit),
        },
        finish: async () => {
          if (options.last) await release();
        },
      };
    },
    release,
  };
}
