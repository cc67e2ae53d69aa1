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

const errorName = (error: unknown): string => {
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

/** Runs `call`, retrying eventual-consistency errors with capped exponential backoff. */
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
