// IAM is eventually consistent: right after CreateRole / CreateOpenIDConnectProvider, dependent
// calls can fail with NoSuchEntity or MalformedPolicyDocument ("Invalid principal") for seconds.
// Those are retried for a bounded time; throttling and 5xx are retried by the SDK itself.

export interface RetryPolicy {
  /** Total time budget for one call, in ms. */
  budgetMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_CONSISTENCY_RETRY: RetryPolicy = { budgetMs: 60_000, initialDelayMs: 500, maxDelayMs: 5_000 };

export const errorName = (error: unknown): string => {
  let current: unknown = error;
  // Adapters wrap SDK errors in user-facing ones; the SDK error is kept as `cause`.
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const name = (current as { name?: string; Code?: string }).Code ?? (current as { name?: string }).name;
    if (name && name !== 'Error' && name !== 'RemoteError' && name !== 'UserError') return name;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
};

const errorMessage = (error: unknown): string => {
  let current: unknown = error;
  const parts: string[] = [];
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    parts.push(String((current as { message?: string }).message ?? ''));
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(' ');
};

export function isEventualConsistencyError(error: unknown): boolean {
  const name = errorName(error);
  if (name === 'NoSuchEntity' || name === 'NoSuchEntityException') return true;
  if (name === 'MalformedPolicyDocument' || name === 'MalformedPolicyDocumentException') {
    return /invalid principal|principal/i.test(errorMessage(error));
  }
  return false;
}

/**
 * Runs `call`, retrying eventual-consistency errors with capped exponential backoff.
 *
 * An own loop rather than p-retry, on purpose: the budget is counted in planned waits (so a unit
 * test with an injected `sleep` checks the exact schedule without waiting — p-retry only sleeps on
 * real timers), and every retry is reported through `onRetry`, which the apply report counts.
 * Throttling and 5xx are not handled here at all: the AWS SDK's own retry strategy does that.
 */
export async function withConsistencyRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_CONSISTENCY_RETRY,
  onRetry?: (error: unknown) => void,
): Promise<T> {
  const sleep = policy.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let waited = 0;
  let delay = policy.initialDelayMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isEventualConsistencyError(error) || waited + delay > policy.budgetMs) throw error;
      onRetry?.(error);
      await sleep(delay);
      waited += delay;
      delay = Math.min(delay * 2, policy.maxDelayMs);
    }
  }
}

/** Walks an error and its causes for an HTTP status (Kubernetes client errors carry `code`). */
function errorStatus(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; statusCode?: unknown; $metadata?: { httpStatusCode?: number } };
    const status = [candidate.code, candidate.statusCode, candidate.$metadata?.httpStatusCode].find((v) => typeof v === 'number');
    if (typeof status === 'number') return status;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A create that found the thing already there: after a lost reply, our own earlier attempt. */
export function isAlreadyExists(error: unknown): boolean {
  const name = errorName(error);
  return name === 'EntityAlreadyExists' || name === 'EntityAlreadyExistsException' || name === 'AlreadyExists' || errorStatus(error) === 409;
}

/** A delete or detach that found nothing to remove. */
export function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchEntity' || name === 'NoSuchEntityException' || name === 'NotFound' || errorStatus(error) === 404;
}
