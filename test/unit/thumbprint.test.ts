import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertHttpsIssuer,
  expiryWarnings,
  issuerHostPath,
  normalizeThumbprint,
  pickThumbprintCertificate,
  thumbprintTargets,
} from '../../src/core/thumbprint.ts';

const cert = (sha1: string, validTo = '2030-01-01T00:00:00.000Z') => ({ subject: `CN=${sha1}`, issuer: 'CN=x', sha1, validTo });

test('the last presented certificate counts (the top intermediate, not the leaf)', () => {
  assert.equal(pickThumbprintCertificate([cert('leaf'), cert('intermediate')]).sha1, 'intermediate');
  assert.equal(pickThumbprintCertificate([cert('only')]).sha1, 'only');
  assert.throws(() => pickThumbprintCertificate([]), /no certificate/);
});

test('targets: jwks_uri host and port; the issuer too when it differs; default port 443', () => {
  assert.deepEqual(thumbprintTargets('https://oidc.example.com/id/1', 'https://oidc.example.com/id/1/keys'), [{ host: 'oidc.example.com', port: 443 }]);
  assert.deepEqual(thumbprintTargets('https://127.0.0.1:6443', 'https://localhost:7443/openid/v1/jwks'), [
    { host: '127.0.0.1', port: 6443 },
    { host: 'localhost', port: 7443 },
  ]);
  assert.deepEqual(thumbprintTargets('https://a.example.com', 'https://a.example.com:8443/keys'), [
    { host: 'a.example.com', port: 443 },
    { host: 'a.example.com', port: 8443 },
  ]);
});

test('user thumbprints: colons and upper case accepted, anything else names --thumbprint', () => {
  assert.equal(normalizeThumbprint('9E:99:A4:8A:99:60:B1:49:26:BB:7F:3B:02:E2:2D:A2:B0:AB:72:80'), '9e99a48a9960b14926bb7f3b02e22da2b0ab7280');
  assert.equal(normalizeThumbprint('SHA1 Fingerprint=9E:99:A4:8A:99:60:B1:49:26:BB:7F:3B:02:E2:2D:A2:B0:AB:72:80'), '9e99a48a9960b14926bb7f3b02e22da2b0ab7280');
  assert.throws(() => normalizeThumbprint('abc'), /--thumbprint: "abc" is not a SHA-1 thumbprint/);
});

test('expiry within 180 days warns; later does not', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  assert.deepEqual(expiryWarnings(cert('x', '2027-01-01T00:00:00Z'), 'h:443', now), []);
  assert.match(expiryWarnings(cert('x', '2026-03-01T00:00:00Z'), 'h:443', now)[0]!, /expires 2026-03-01, in 59 days/);
});

test('issuers must be https; host/path is what IAM stores', () => {
  assert.throws(() => assertHttpsIssuer('http://example.com'), /--issuer-url: "http:\/\/example.com" is not https/);
  assert.throws(() => assertHttpsIssuer('not a url'), /is not a URL/);
  assert.doesNotThrow(() => assertHttpsIssuer('https://oidc.eks.us-east-1.amazonaws.com/id/ABC'));
  assert.equal(issuerHostPath('https://oidc.eks.us-east-1.amazonaws.com/id/ABC/'), 'oidc.eks.us-east-1.amazonaws.com/id/ABC');
  assert.equal(issuerHostPath('https://127.0.0.1:6443'), '127.0.0.1:6443');
});
