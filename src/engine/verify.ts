// --verify: proof after apply. For each bound ServiceAccount, mint a token with the TokenRequest
// API (the annotation's audience) and call sts:AssumeRoleWithWebIdentity with it, as the pod's SDK
// will. Right after CreateRole / UpdateAssumeRolePolicy / CreateOpenIDConnectProvider, STS may
// still refuse for a while (IAM is eventually consistent: "AccessDenied" or "InvalidIdentityToken:
// No OpenIDConnect provider found" for seconds), so those answers are retried until a deadline.
// The token and the temporary credentials never leave this function: only the assumed-role ARN does.

import type { KubeGateway, StsGateway } from '../ports.ts';

export interface VerifyTarget {
  namespace: string;
  name: string;
  roleArn: string;
  audience: string;
}

export interface VerifyResult {
  /** "namespace/name". */
  binding: string;
  roleArn: string;
  ok: boolean;
  /** The assumed-role ARN STS returned. */
  assumedRoleArn: string | null;
  /** The last error, when not ok. */
  error: string | null;
  attempts: number;
}

export interface VerifyOptions {
  kube: Pick<KubeGateway, 'createToken'>;
  sts: StsGateway;
  /** Overall deadline for all bindings, from the first call. */
  timeoutMs: number;
  /** Tests only: the pause between attempts. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onRetry?: (binding: string, attempt: number, reason: string) => void;
}

/** Default --verify-timeout: IAM changes usually reach STS within seconds, sometimes tens of them. */
export const DEFAULT_VERIFY_TIMEOUT_SECONDS = 60;
/** TokenRequest's minimum lifetime; the token lives only for this run. */
const TOKEN_SECONDS = 600;
const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 5000;

/** The SDK error's name, also when an adapter wrapped it as `cause`. */
function errorName(error: unknown): string {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const name = (current as { name?: unknown }).name;
    if (typeof name === 'string' && !['Error', 'RemoteError', 'UserError'].includes(name)) return name;
    current = (current as { cause?: unknown }).cause;
  }
  return '';
}

/** What IAM's propagation delay looks like from STS (and nothing else: a wrong ARN fails at once). */
export function isPropagationError(error: unknown): boolean {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  return /^(AccessDenied|AccessDeniedException|InvalidIdentityToken|InvalidIdentityTokenException|IDPCommunicationError|IDPCommunicationErrorException)$/.test(name) ||
    /not authorized to perform sts:AssumeRoleWithWebIdentity|No OpenIDConnect provider found/i.test(message);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export async function verifyBindings(targets: VerifyTarget[], options: VerifyOptions): Promise<VerifyResult[]> {
  const now = options.now ?? (() => Date.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.timeoutMs;
  return Promise.all(targets.map(async (target): Promise<VerifyResult> => {
    const binding = `${target.namespace}/${target.name}`;
    const result: VerifyResult = { binding, roleArn: target.roleArn, ok: false, assumedRoleArn: null, error: null, attempts: 0 };
    let pause = FIRST_PAUSE_MS;
    for (;;) {
      result.attempts++;
      try {
        const token = await options.kube.createToken(target.namespace, target.name, target.audience, TOKEN_SECONDS);
        const identity = await options.sts.assumeRoleWithWebIdentity(target.roleArn, token, `irsa-verify-${Date.now()}`);
        return { ...result, ok: true, assumedRoleArn: identity.arn, error: null };
      } catch (error) {
        result.error = messageOf(error);
        const left = deadline - now();
        if (!isPropagationError(error) || left <= 0) return result;
        options.onRetry?.(binding, result.attempts, result.error);
        await sleep(Math.min(pause, left));
        pause = Math.min(pause * 2, MAX_PAUSE_MS);
      }
    }
  }));
}

/** --verify-timeout in seconds → ms; null when the value is not a positive whole number. */
export function parseVerifyTimeout(value: unknown): number | null {
  if (value === undefined) return DEFAULT_VERIFY_TIMEOUT_SECONDS * 1000;
  const seconds = Number(value);
  return Number.isInteger(seconds) && seconds > 0 && seconds <= 3600 ? seconds * 1000 : null;
}

/** Lines for people: the assumed-role ARN per binding, or the binding and STS's last answer. */
export function renderVerify(results: VerifyResult[]): string[] {
  return results.map((r) =>
    r.ok
      ? `✓ verified ${r.binding}: assumed ${r.assumedRoleArn}${r.attempts > 1 ? ` (after ${r.attempts} attempts while IAM propagated)` : ''}`
      : `✗ verification failed for ${r.binding} (${r.roleArn}) after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}: ${r.error}`,
  );
}
