// How many changes apply runs at once, adapted to throttling the way TCP adapts to congestion
// (AIMD: additive increase, multiplicative decrease). IAM throttles at request rates AWS does not
// publish; the SDK retries a throttled call with backoff, but without this the apply would keep
// the same number of calls in flight and be throttled again. When a finished change met throttling,
// the limit halves (at most once per window of `limit` changes, so one burst of throttled replies
// counts once); each change that finishes without it adds 1/limit, so a full window adds one.

export type { AdaptiveLimitSummary } from '../core/model/apply.ts';
import type { AdaptiveLimitSummary } from '../core/model/apply.ts';

export interface AdaptiveLimit {
  /** Changes allowed in flight now. */
  current(): number;
  /** A change finished; `throttles` is how many throttling replies came in since the last call. */
  record(throttles: number): void;
  summary(): AdaptiveLimitSummary;
}

/** Error names AWS uses for "slow down" (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). */
const THROTTLING = /^(Throttling|ThrottlingException|ThrottledException|RequestThrottled|RequestThrottledException|TooManyRequestsException|RequestLimitExceeded|SlowDown|ProvisionedThroughputExceededException|PriorRequestNotComplete|BandwidthLimitExceeded|TransactionInProgressException|EC2ThrottledException)$/;

export const isThrottlingError = (name: string): boolean => THROTTLING.test(name) || name === 'HTTP 429';

/** Throttling retries in a CountingObserver's retryCounts() (keys end with the error name). */
export function countThrottles(retryCounts: Record<string, number>): number {
  let total = 0;
  for (const [key, count] of Object.entries(retryCounts)) {
    const reason = key.split(' ').slice(2).join(' ');
    if (isThrottlingError(reason)) total += count;
  }
  return total;
}

export function createAdaptiveLimit(options: { max: number; min?: number; now?: () => number }): AdaptiveLimit {
  const max = Math.max(1, options.max);
  const min = Math.max(1, Math.min(options.min ?? 1, max));
  const now = options.now ?? (() => performance.now());
  let limit = max;
  let lowest = max;
  let throttles = 0;
  let throttledChanges = 0;
  // Changes that must finish before the next decrease (one decrease per window).
  let holdOff = 0;
  let slowedSince: number | null = null;
  let slowedMs = 0;

  return {
    current: () => Math.floor(limit),
    record(seen) {
      throttles += seen;
      if (seen > 0) {
        throttledChanges++;
        if (holdOff <= 0) {
          limit = Math.max(min, Math.floor(limit / 2));
          lowest = Math.min(lowest, limit);
          holdOff = Math.floor(limit) + 1;
          slowedSince ??= now();
        }
      } else if (limit < max) {
        limit = Math.min(max, limit + 1 / Math.floor(limit));
        if (limit >= max && slowedSince !== null) {
          slowedMs += now() - slowedSince;
          slowedSince = null;
        }
      }
      holdOff--;
    },
    summary: () => ({
      throttledChanges,
      throttles,
      max,
      lowest,
      slowedMs: slowedMs + (slowedSince === null ? 0 : now() - slowedSince),
    }),
  };
}
