// Reads the claims of a JWT without verifying it: doctor needs to see what the apiserver put in
// the token (iss, sub, aud) to evaluate a trust policy, not to trust it. The token itself is a
// credential, so no error message here ever includes it or any part of it.

import { UserError } from './errors.ts';
import type { TokenClaims } from './trust-policy.ts';

export function decodeJwtClaims(token: string): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) {
    throw new UserError('the token is not a JWT (expected three base64url parts separated by dots)', 'token');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new UserError('the token payload is not base64url-encoded JSON', 'token');
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new UserError('the token payload is not a JSON object', 'token');
  }
  const { iss, sub, aud } = payload as { iss?: unknown; sub?: unknown; aud?: unknown };
  if (typeof iss !== 'string' || typeof sub !== 'string') {
    throw new UserError('the token has no string "iss" and "sub" claims', 'token');
  }
  // RFC 7519: aud is a string or an array of strings; absent means no audience.
  const audiences = aud === undefined ? [] : Array.isArray(aud) ? aud : [aud];
  if (!audiences.every((value) => typeof value === 'string')) {
    throw new UserError('the token\'s "aud" claim is neither a string nor a list of strings', 'token');
  }
  return { iss, sub, aud: audiences as string[] };
}
