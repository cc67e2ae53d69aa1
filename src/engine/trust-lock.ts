// The trust lock (issue 21): mutual exclusion for every read-modify-write of a role's trust policy
// by irsa runs that share a cluster. IAM has no conditional write (UpdateAssumeRolePolicy is last
// writer wins), so two runs that read the same document both write and one subject is lost. A
// coordination.k8s.io/v1 Lease named after the role gives the compare-and-swap IAM lacks: a
// create or a replace at the resourceVersion that was read succeeds for exactly one run.
//
// The rules are client-go's leader election (k8s.io/client-go/tools/leaderelection), kept short
// because a trust write is a critical section of a few seconds, not a term of leadership:
// - acquire: create the Lease, or replace it when it is released (no holder) or expired;
// - expired: its record has not changed for leaseDurationSeconds *as observed by this run's own
//   clock* (client-go's observedTime: no trust in other machines' clocks), so a killed holder
//   blocks the next run for at most one duration after that run first sees it;
// - renew every duration/3 while held; a failed renewal marks the lock lost and the write stops;
// - release: replace with no holder, recording the digest of the trust document this run wrote
//   and read back. The next holder reads the role until IAM returns that document (IAM is
//   eventually consistent: a read right after another run's write can still show the older one).
// https://kubernetes.io/docs/concepts/architecture/leases/
// https://pkg.go.dev/k8s.io/client-go/tools/leaderelection
//
// A run that waits says so once; it gives up after a bounded time with an error naming the role,
// the Lease and its holder. Where RBAC does not allow Leases, the caller falls back to
// write-then-read-back (engine/executors/iam-role.ts) and says so.

import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { canonicalPolicy, type PolicyDocument } from '../core/trust-policy.ts';
import type { RoleSettings } from '../core/state.ts';
import { LeaseConflictError, LeaseForbiddenError, type LeaseGateway, type LeaseRecord } from '../ports.ts';

/** client-go's defaults: a 15 s lease, renewed well before it runs out. */
export const LEASE_DURATION_SECONDS = 15;
/** A batch takes Leases this many times as many at once as the AWS calls it makes (engine/trust-batch.ts). */
const LEASE_WRITE_FANOUT = 4;
/** How long a run waits for a role's lock before it gives up (--lock-timeout). */
export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;
/** Where the Leases live: the namespace cluster components coordinate in. */
export const LEASE_NAMESPACE = 'kube-system';
/** The digest of the trust document the last holder wrote and read back. */
export const TRUST_DIGEST_ANNOTATION = 'irsa/trust-policy-sha256';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Calls `tick` every `ms` until the returned function is called (never keeps the process alive). */
  every(ms: number, tick: () => void): () => void;
}

const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export interface TrustLockOptions {
  leases: LeaseGateway;
  durationSeconds?: number;
  timeoutMs?: number;
  clock?: Clock;
  /** Told once per acquisition that this run waits, and for whom. */
  onWait?: (wait: { role: string; lease: string; holder: string }) => void;
  random?: () => number;
}

/** A lock held on one role's trust policy. */
export interface HeldTrustLock {
  /** The Lease (namespace/name), for messages. */
  lease: string;
  /** What the previous holder wrote and read back (null: unknown). */
  previousDigest: string | null;
  /** Notes for the apply report (took over an expired lease, waited). */
  notes: string[];
  /** False once a renewal failed: another run may hold it now, so nothing more may be written. */
  held(): boolean;
  /**
   * Releases the Lease, recording the trust document this run leaves behind. Null: unknown (a
   * write whose outcome is not known, a role that is gone): the record is cleared, so the next
   * holder reads the role without expecting a document.
   */
  release(written: PolicyDocument | null): Promise<void>;
  /** Releases the Lease untouched: this run neither read nor wrote the role under it (the record stays). */
  abandon(): Promise<void>;
  /**
   * The role as read *after* this lock was taken (a bulk read of a batch, engine/trust-batch.ts),
   * already checked against previousDigest: the first read under the lock needs no call. Absent:
   * read it.
   */
  fresh?: RoleSettings | null;
}

export type TrustLockResult = { lock: HeldTrustLock } | { unavailable: string };

export interface TrustLocker {
  acquire(roleName: string): Promise<TrustLockResult>;
  /**
   * Takes the locks of all these roles at once, without waiting: each Lease is taken if it is
   * free (absent, released or expired) at the first look; if any is held by another run, the ones
   * taken are given back untouched and the result is null (the caller then locks change by change,
   * waiting as usual). All or none, so a batch never holds some locks while waiting for others: two
   * runs cannot deadlock on each other's batches.
   */
  tryAcquireAll(roleNames: string[], concurrency: number): Promise<Map<string, HeldTrustLock> | null>;
}

/** sha256 of the document's canonical form: equal for documents IAM treats as equal. */
export function trustDigest(document: PolicyDocument): string {
  return createHash('sha256').update(JSON.stringify(canonicalPolicy(document))).digest('hex');
}

/**
 * The Lease's name for a role: a DNS subdomain (lowercase), readable, and unique per role name
 * (IAM role names are unique case-insensitively, so lowercasing merges nothing IAM keeps apart).
 */
export function leaseNameForRole(roleName: string): string {
  const lower = roleName.toLowerCase();
  const readable = lower.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 180);
  const hash = createHash('sha256').update(lower).digest('hex').slice(0, 10);
  return `irsa-trust-${readable ? `${readable}-` : ''}${hash}`;
}

let processIdentity: string | undefined;
/** Unique per acquisition: two changes of one run on one role exclude each other too. */
function newIdentity(random: () => number): string {
  processIdentity ??= `irsa@${hostname()}/pid-${process.pid}`;
  return `${processIdentity}/${Math.floor(random() * 0xffffffff).toString(16).padStart(8, '0')}`;
}

export function createTrustLocker(options: TrustLockOptions): TrustLocker {
  const { leases } = options;
  const durationSeconds = options.durationSeconds ?? LEASE_DURATION_SECONDS;
  const durationMs = durationSeconds * 1000;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;

  async function acquire(roleName: string): Promise<TrustLockResult> {
    const name = leaseNameForRole(roleName);
    const where = `${leases.namespace}/${name}`;
    const identity = newIdentity(random);
    const started = clock.now();
    const notes: string[] = [];
    // The record as this run last saw it, and when (its own clock) it last changed.
    let observed: { version: string; at: number } | null = null;
    let toldWaiting = false;
    try {
      for (;;) {
        const current = await leases.get(name);
        let taken: LeaseRecord | null = null;
        try {
          if (!current) {
            taken = await leases.create(name, freshRecord(identity, null));
          } else if (!current.holder) {
            taken = await leases.replace(name, current.resourceVersion, freshRecord(identity, current));
          } else {
            const now = clock.now();
            if (!observed || observed.version !== current.resourceVersion) observed = { version: current.resourceVersion, at: now };
            const holderDuration = Math.max(current.durationSeconds, 1) * 1000;
            if (now - observed.at >= holderDuration) {
              taken = await leases.replace(name, current.resourceVersion, freshRecord(identity, current));
              notes.push(`took over the trust lock of role ${roleName} (Lease ${where}) from ${current.holder}, which had not renewed it for ${current.durationSeconds} s`);
            } else if (!toldWaiting) {
              toldWaiting = true;
              options.onWait?.({ role: roleName, lease: where, holder: current.holder });
            }
          }
        } catch (error) {
          // Another run created or replaced it between our read and our write: read again.
          if (!(error instanceof LeaseConflictError)) throw error;
        }
        if (taken) {
          if (toldWaiting) notes.push(`waited ${Math.round((clock.now() - started) / 1000)} s for the trust lock of role ${roleName} (Lease ${where})`);
          return { lock: hold(name, where, taken, notes) };
        }
        if (clock.now() - started >= timeoutMs) {
          const holder = current?.holder ?? 'another run';
          throw new Error(
            `gave up waiting for the trust lock of role ${roleName} after ${Math.round(timeoutMs / 1000)} s: Lease ${where} is held by ${holder}. ` +
              `Another irsa run is writing this role's trust policy; run again when it has finished, or raise --lock-timeout. ` +
              `A run that died releases it at most ${durationSeconds} s after its last renewal.`,
          );
        }
        // Jittered polling, so that waiting runs do not retry in lockstep.
        await clock.sleep(200 + Math.floor(random() * 400));
      }
    } catch (error) {
      if (error instanceof LeaseForbiddenError) {
        return { unavailable: `${error.message}: grant get, create and update on leases.coordination.k8s.io in ${leases.namespace} (docs/architecture.md, "Concurrent runs")` };
      }
      throw error;
    }
  }

  function hold(name: string, where: string, taken: LeaseRecord, notes: string[]): HeldTrustLock {
    let record = taken;
    let lost = false;
    let renewing: Promise<void> = Promise.resolve();
    const renew = async () => {
      try {
        record = await leases.replace(name, record.resourceVersion, { ...record, renewTime: new Date(clock.now()) });
      } catch {
        lost = true;
      }
    };
    const stop = clock.every(Math.max(1000, Math.floor(durationMs / 3)), () => {
      renewing = renewing.then(renew);
    });
    return {
      lease: where,
      previousDigest: taken.annotations[TRUST_DIGEST_ANNOTATION] ?? null,
      notes,
      held: () => !lost,
      async release(written) {
        const annotations = { ...record.annotations };
        if (written) annotations[TRUST_DIGEST_ANNOTATION] = trustDigest(written);
        else delete annotations[TRUST_DIGEST_ANNOTATION];
        await giveBack(annotations);
      },
      abandon: () => giveBack({ ...record.annotations }),
    };
    async function giveBack(annotations: Record<string, string>) {
      stop();
      await renewing;
      if (lost) return;
      try {
        // As client-go's ReleaseOnCancel: no holder, so the next run takes it at once.
        await leases.replace(name, record.resourceVersion, { ...record, holder: null, annotations, renewTime: new Date(clock.now()) });
      } catch {
        // Not released: it expires one duration after the last renewal. The write itself is done.
      }
    }
  }

  async function tryAcquireAll(roleNames: string[], concurrency: number): Promise<Map<string, HeldTrustLock> | null> {
    const names = [...new Set(roleNames)];
    const taken = new Map<string, HeldTrustLock>();
    let refused = false;
    let failure: unknown = null;
    let next = 0;
    // One LIST instead of a GET per role (list forbidden: a GET each). Lease writes are small and
    // the apiserver takes many at once: more in flight than for AWS calls.
    const known = await leases.list().catch(() => null);
    await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency * LEASE_WRITE_FANOUT), names.length) }, async () => {
      while (!refused && failure === null && next < names.length) {
        const roleName = names[next++]!;
        try {
          const lock = await tryOnce(roleName, known ? known.get(leaseNameForRole(roleName)) ?? null : undefined);
          if (lock) taken.set(roleName, lock);
          else refused = true;
        } catch (error) {
          failure = error;
        }
      }
    }));
    if (refused || failure !== null) {
      await Promise.all([...taken.values()].map((lock) => lock.abandon()));
      // Forbidden or unreachable: the change-by-change path reports it (or falls back) as usual.
      return null;
    }
    return taken;
  }

  /** One look at a role's Lease (`listed`: as a LIST just showed it; undefined: read it): taken when free (absent or released), else null. */
  async function tryOnce(roleName: string, listed?: LeaseRecord | null): Promise<HeldTrustLock | null> {
    const name = leaseNameForRole(roleName);
    const where = `${leases.namespace}/${name}`;
    const identity = newIdentity(random);
    const current = listed === undefined ? await leases.get(name) : listed;
    try {
      if (!current) return hold(name, where, await leases.create(name, freshRecord(identity, null)), []);
      // A held Lease is never taken here, even if it looks expired: judging expiry needs this run's
      // own observation over time (acquire's rule); the change-by-change path does that.
      if (!current.holder) return hold(name, where, await leases.replace(name, current.resourceVersion, freshRecord(identity, current)), []);
      return null;
    } catch (error) {
      if (!(error instanceof LeaseConflictError)) throw error;
      // Changed since the LIST (or made without irsa's label): one more look, read this time.
      return listed === undefined ? null : tryOnce(roleName);
    }
  }

  function freshRecord(holder: string, previous: LeaseRecord | null): Omit<LeaseRecord, 'resourceVersion'> {
    const now = new Date(clock.now());
    return {
      holder,
      durationSeconds,
      acquireTime: now,
      renewTime: now,
      transitions: (previous?.transitions ?? 0) + (previous?.holder && previous.holder !== holder ? 1 : 0),
      annotations: { ...(previous?.annotations ?? {}) },
    };
  }

  return { acquire, tryAcquireAll };
}
