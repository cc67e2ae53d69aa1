import type { ChangeOf } from '../../core/plan.ts';
import { recheckRoleCreate, recheckRoleDelete, recheckRoleUpdate, replayTrustChange, trustIntentGaps } from '../../core/recheck.ts';
import { samePolicy, type PolicyDocument } from '../../core/trust-policy.ts';
import type { RoleSettings } from '../../core/state.ts';
import type { IamGateway } from '../../ports.ts';
import { isAlreadyExists, isNotFound } from '../retry.ts';
import { trustDigest } from '../trust-lock.ts';
import { difference, tolerate, type Executor, type ExecutorContext } from './types.ts';

/** Writes of one trust change, the first included, before a run gives up on a contended role. */
const TRUST_WRITE_ATTEMPTS = 5;
/** Reads after a write that still show the pre-write document before it is treated as overwritten (IAM is eventually consistent). */
const STALE_READS = 3;

/** Reads, under the lock, until IAM shows the document the previous holder wrote (eventual consistency). */
const SETTLE_READS = 5;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A read-modify-write of one role's trust policy, under its lock when there is one. */
export interface TrustSection {
  /** The role as IAM shows it now; under a lock, once IAM shows what the previous holder left. */
  read(): Promise<RoleSettings | null>;
  /**
   * Throws when the lock was lost (a renewal failed): another run may be writing now. Otherwise
   * the document left behind is unknown until leave() says what was written.
   */
  beforeWrite(): void;
  /** The trust document this run leaves behind (recorded in the Lease for the next holder). */
  leave(document: PolicyDocument): void;
  /** True while this run holds the role's trust lock: no irsa run can write the role meanwhile. */
  readonly locked: boolean;
}

/**
 * Runs `body` holding the role's trust lock (engine/trust-lock.ts): every irsa run that shares the
 * cluster reads, decides and writes this role's trust one at a time, so none overwrites another's
 * subject. Without a lock (no cluster, or RBAC forbids Leases) the body runs as is, and the write
 * is proven by reading it back (writeTrustPolicy); the report says which.
 */
export async function inTrustSection<T>(iam: IamGateway, name: string, context: Pick<ExecutorContext, 'deps' | 'notes'>, body: (section: TrustSection) => Promise<T>): Promise<T> {
  const acquired = context.deps.trustLocks ? await context.deps.trustLocks.acquire(name) : null;
  if (acquired && 'unavailable' in acquired) {
    context.notes.push(`no trust lock for role ${name} (${acquired.unavailable}); a concurrent write is detected by reading back and merged again instead`);
  }
  const lock = acquired && 'lock' in acquired ? acquired.lock : null;
  let left: PolicyDocument | null = null;
  let firstRead = true;
  const section: TrustSection = {
    async read() {
      // Read in bulk right after the lock was taken (engine/trust-batch.ts): nothing to read again.
      if (firstRead && lock && lock.fresh !== undefined) {
        firstRead = false;
        if (lock.fresh) left = lock.fresh.trustPolicy;
        return lock.fresh;
      }
      let role = await iam.getRoleSettings(name);
      const previous = firstRead ? lock?.previousDigest : null;
      firstRead = false;
      for (let i = 0; previous && role && trustDigest(role.trustPolicy) !== previous && i < SETTLE_READS; i++) {
        await pause(100 * (i + 1));
        role = await iam.getRoleSettings(name);
      }
      if (role) left = role.trustPolicy;
      return role;
    },
    beforeWrite() {
      if (lock && !lock.held()) {
        throw new Error(`the trust lock of role ${name} (Lease ${lock.lease}) was lost before its trust policy was written: nothing more was written. Run the command again.`);
      }
      // If the write fails midway, what IAM holds is not known: the Lease then records nothing.
      left = null;
    },
    leave(document) {
      left = document;
    },
    locked: lock !== null,
  };
  try {
    return await body(section);
  } finally {
    if (lock) {
      context.notes.push(...lock.notes);
      await lock.release(left);
    }
  }
}

/**
 * The trust write, then proof that it is in place. IAM has no compare-and-swap for
 * UpdateAssumeRolePolicy, so a concurrent run that read the same document can overwrite this
 * write (last writer wins). After writing, read the role back: every subject this change adds
 * must be there and every subject it removes gone (other subjects are other runs' business). If
 * not, replay this change's subjects onto the newest document and write again, bounded; a change
 * that is still not in place is an error naming the role and the subject, so apply never exits 0
 * without it (issue 21).
 */
async function writeTrustPolicy(iam: IamGateway, name: string, before: PolicyDocument, after: PolicyDocument, context: Pick<ExecutorContext, 'retry' | 'notes'>, section: TrustSection) {
  if (section.locked) {
    // Under the lock no irsa run writes this role between our re-check and our write, so there is
    // nothing to merge again: the document written is the one left. The Lease records it and the
    // next holder reads until IAM shows it; the after-apply check (engine/trust-verify.ts) reads
    // every trust change once more, in bulk.
    section.beforeWrite();
    await context.retry(() => iam.updateTrustPolicy(name, after));
    section.leave(after);
    return;
  }
  let document = after;
  let staleReads = 0;
  for (let attempt = 1; ; ) {
    if (staleReads === 0) {
      section.beforeWrite();
      await context.retry(() => iam.updateTrustPolicy(name, document));
    }
    const current = await iam.getRoleSettings(name);
    if (!current) throw new Error(`role ${name} was deleted while irsa was writing its trust policy; its change is not in place. Run the command again to plan against what is there now.`);
    section.leave(current.trustPolicy);
    const gaps = trustIntentGaps(before, after, current.trustPolicy);
    if (gaps.missing.length === 0 && gaps.unexpected.length === 0) {
      if (attempt > 1) context.notes.push(`another run wrote the trust policy of ${name} at the same time; this change's subjects were merged into the newer policy (${attempt} writes)`);
      return;
    }
    // Read-after-write may still show the document from before this write: read again before writing again.
    if (staleReads < STALE_READS && samePolicy(current.trustPolicy, before) && !samePolicy(before, document)) {
      staleReads += 1;
      await pause(100 * staleReads);
      continue;
    }
    staleReads = 0;
    const replayed = replayTrustChange(before, after, current.trustPolicy);
    if (!replayed || attempt >= TRUST_WRITE_ATTEMPTS) {
      const what = [
        ...gaps.missing.map((subject) => `${subject} is missing`),
        ...gaps.unexpected.map((subject) => `${subject} is still trusted`),
      ].join('; ');
      throw new Error(
        `the trust policy of role ${name} does not hold this change after ${attempt} write(s): ${what}. Another writer changed it at the same time; run the command again to merge into what is there now.`,
      );
    }
    attempt += 1;
    document = replayed;
    // Jitter, so that two contending runs do not write in lockstep again.
    await pause(50 + Math.floor(Math.random() * 200));
  }
}

async function updateRole(iam: IamGateway, change: Extract<ChangeOf<'iam-role'>, { action: 'update' }>, { retry, notes }: Pick<ExecutorContext, 'retry' | 'notes'>, section: TrustSection) {
  const { before, after } = change;
  if (!samePolicy(before.trustPolicy, after.trustPolicy)) {
    await writeTrustPolicy(iam, after.name, before.trustPolicy, after.trustPolicy, { retry, notes }, section);
  }
  if (before.description !== after.description || before.maxSessionDuration !== after.maxSessionDuration) {
    await retry(() => iam.updateRole(after.name, { description: after.description, maxSessionDuration: after.maxSessionDuration }));
  }
  if (before.permissionsBoundary !== after.permissionsBoundary) {
    const boundary = after.permissionsBoundary;
    if (boundary) await retry(() => iam.putPermissionsBoundary(after.name, boundary));
    else await retry(() => iam.deletePermissionsBoundary(after.name));
  }
  const changedTags = Object.fromEntries(Object.entries(after.tags).filter(([key, value]) => before.tags[key] !== value));
  const removedTags = difference(Object.keys(before.tags), Object.keys(after.tags));
  if (Object.keys(changedTags).length > 0) await retry(() => iam.tagRole(after.name, changedTags));
  if (removedTags.length > 0) await retry(() => iam.untagRole(after.name, removedTags));
}

export const executeIamRole: Executor<'iam-role'> = async (change, { deps, need, decide, retry, notes }) => {
  const iam = need(deps.iam, 'IAM');
  if (change.action === 'create') {
    const { after } = change;
    // CreateRole is atomic (EntityAlreadyExists): a create needs no lock.
    // The provider may have been created a moment ago: "Invalid principal" until IAM catches up.
    const created = await tolerate(() => retry(() => iam.createRole(after)), isAlreadyExists);
    if (!created) {
      // Our own lost reply, or another run that created it meanwhile: plan against it, under the lock.
      await inTrustSection(iam, after.name, { deps, notes }, async (section) => {
        const current = decide(recheckRoleCreate(change, await section.read()));
        if (current) await updateRole(iam, current, { retry, notes }, section);
      });
    }
  } else if (change.action === 'delete') {
    // Under the lock: a run adding a subject meanwhile makes this delete stale instead of lost.
    await inTrustSection(iam, change.before.name, { deps, notes }, async (section) => {
      const current = decide(recheckRoleDelete(change, await section.read()));
      if (current) {
        section.beforeWrite();
        await tolerate(() => iam.deleteRole(current.before.name), isNotFound);
      }
    });
  } else if (change.action === 'update') {
    await inTrustSection(iam, change.before.name, { deps, notes }, async (section) => {
      const current = decide(recheckRoleUpdate(change, await section.read()));
      if (current) await updateRole(iam, current, { retry, notes }, section);
    });
  }
};
