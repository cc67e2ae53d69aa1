// Reads (does not verify) a JWT's claims, for checking tokens the apiserver minted.
export function decodeJwtClaims(token: string): { iss: string; sub: string; aud: string[] } {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
  return { iss: payload.iss, sub: payload.sub, aud: Array.isArray(payload.aud) ? payload.aud : [payload.aud] };
}
