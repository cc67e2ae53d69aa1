import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwtClaims } from '../../src/core/jwt.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (payload: unknown) => `${b64({ alg: 'RS256', kid: 'k' })}.${b64(payload)}.c2lnbmF0dXJl`;

test('decodeJwtClaims reads iss, sub and a list aud without verifying', () => {
  const claims = decodeJwtClaims(jwt({ iss: 'https://127.0.0.1:6443', sub: 'system:serviceaccount:prod:app', aud: ['sts.amazonaws.com', 'other'], exp: 1 }));
  assert.deepEqual(claims, { iss: 'https://127.0.0.1:6443', sub: 'system:serviceaccount:prod:app', aud: ['sts.amazonaws.com', 'other'] });
});

test('decodeJwtClaims: a string aud becomes a one-element list, a missing aud an empty one', () => {
  assert.deepEqual(decodeJwtClaims(jwt({ iss: 'https://i', sub: 's', aud: 'sts.amazonaws.com' })).aud, ['sts.amazonaws.com']);
  assert.deepEqual(decodeJwtClaims(jwt({ iss: 'https://i', sub: 's' })).aud, []);
});

test('decodeJwtClaims rejects malformed tokens without echoing them', () => {
  const secretish = 'not-a-jwt-SECRET';
  for (const token of [secretish, `${secretish}.x`, `a.${Buffer.from('not json').toString('base64url')}.c`, jwt(['array']), jwt({ iss: 1, sub: 's' }), jwt({ iss: 'i', sub: 's', aud: [1] })]) {
    assert.throws(() => decodeJwtClaims(token), (error: Error) => {
      assert.ok(!error.message.includes('SECRET'), error.message);
      return true;
    });
  }
});
