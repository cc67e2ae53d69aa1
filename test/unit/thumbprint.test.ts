import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UserError } from '../../src/core/errors.ts';
import {
  assertHttpsIssuer,
  expiryWarnings,
  isValidThumbprint,
  issuerHostPath,
  normalizeThumbprint,
  pickThumbprintCertificate,
  thumbprintTargets,
} from '../../src/core/thumbprint.ts';
import type { PresentedCertificate } from '../../src/core/state.ts';
import { resolveThumbprints } from '../../src/adapters/tls/thumbprints.ts';
import type { TlsChainFetcher } from '../../src/ports.ts';

const cert = (sha1: string, validTo = '2030-01-01T00:00:00.000Z'): PresentedCertificate => ({ subject: `CN=${sha1}`, issuer: 'CN=x', sha1, validTo });

test('the last presented certificate counts: the top intermediate, not the leaf; a lone self-signed leaf is its own', () => {
  assert.equal(pickThumbprintCertificate([cert('leaf'), cert('intermediate')]).sha1, 'intermediate');
  assert.equal(pickThumbprintCertificate([cert('leaf'), cert('intermediate'), cert('top-intermediate')]).sha1, 'top-intermediate');
  assert.equal(pickThumbprintCertificate([cert('self-signed')]).sha1, 'self-signed');
  assert.throws(() => pickThumbprintCertificate([]), (error: Error) => error instanceof UserError && /no certificate.*--thumbprint/.test(error.message));
});

test('targets: one when issuer and jwks_uri share host and port (default 443); issuer first, then jwks_uri, when they differ', () => {
  assert.deepEqual(thumbprintTargets('https://oidc.example.com/id/1', 'https://oidc.example.com/id/1/keys'), [{ host: 'oidc.example.com', port: 443 }]);
  assert.deepEqual(thumbprintTargets('https://OIDC.example.com:443/id/1', 'https://oidc.example.com/keys'), [{ host: 'oidc.example.com', port: 443 }]);
  assert.deepEqual(thumbprintTargets('https://127.0.0.1:6443', 'https://localhost:7443/openid/v1/jwks'), [
    { host: '127.0.0.1', port: 6443 },
    { host: 'localhost', port: 7443 },
  ]);
  assert.deepEqual(thumbprintTargets('https://a.example.com', 'https://a.example.com:8443/keys'), [
    { host: 'a.example.com', port: 443 },
    { host: 'a.example.com', port: 8443 },
  ]);
  assert.deepEqual(thumbprintTargets('https://[::1]:6443', 'https://[::1]:6443/keys'), [{ host: '::1', port: 6443 }]);
});

test('thumbprint syntax: 40 lowercase hex only', () => {
  assert.ok(isValidThumbprint('9e99a48a9960b14926bb7f3b02e22da2b0ab7280'));
  assert.ok(!isValidThumbprint('9E99A48A9960B14926BB7F3B02E22DA2B0AB7280'));
  assert.ok(!isValidThumbprint('9e99a48a9960b14926bb7f3b02e22da2b0ab728'));
  assert.ok(!isValidThumbprint('9e99a48a9960b14926bb7f3b02e22da2b0ab7280a'));
  assert.ok(!isValidThumbprint('ge99a48a9960b14926bb7f3b02e22da2b0ab7280'));
});

test('user thumbprints: colons, spaces, upper case and openssl\'s prefix accepted; anything else names --thumbprint and the fix', () => {
  const hex = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';
  assert.equal(normalizeThumbprint('9E:99:A4:8A:99:60:B1:49:26:BB:7F:3B:02:E2:2D:A2:B0:AB:72:80'), hex);
  assert.equal(normalizeThumbprint('SHA1 Fingerprint=9E:99:A4:8A:99:60:B1:49:26:BB:7F:3B:02:E2:2D:A2:B0:AB:72:80\n'), hex);
  assert.equal(normalizeThumbprint('9E 99 A4 8A 99 60 B1 49 26 BB 7F 3B 02 E2 2D A2 B0 AB 72 80'), hex);
  assert.equal(normalizeThumbprint(hex.toUpperCase()), hex);
  assert.throws(
    () => normalizeThumbprint('abc'),
    (error: Error) => error instanceof UserError && error.field === '--thumbprint' && /--thumbprint: "abc" is not a SHA-1 thumbprint.*40 hexadecimal/.test(error.message),
  );
  // A SHA-256 fingerprint (64 hex) is the usual mistake.
  assert.throws(() => normalizeThumbprint('a'.repeat(64)), /is not a SHA-1 thumbprint/);
  assert.throws(() => normalizeThumbprint('x', 'oidcProvider.thumbprints[0]'), (error: UserError) => error.field === 'oidcProvider.thumbprints[0]' && error.message.startsWith('oidcProvider.thumbprints[0]: "x"'));
});

test('expiry within 180 days warns (also once expired); later does not; the limit is a parameter', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  assert.deepEqual(expiryWarnings(cert('x', '2027-01-01T00:00:00Z'), now), []);
  assert.deepEqual(expiryWarnings(cert('x', '2026-06-30T00:00:00Z'), now), [
    'the certificate whose thumbprint IAM stores (CN=x) expires 2026-06-30, in 180 days; after the server rotates it, run irsa associate-oidc again to update the thumbprint',
  ]);
  assert.deepEqual(expiryWarnings(cert('x', '2026-07-01T00:00:00Z'), now), [], '181 days left is outside the window');
  assert.match(expiryWarnings(cert('x', '2026-03-01T00:00:00Z'), now)[0]!, /\(CN=x\) expires 2026-03-01, in 59 days/);
  assert.match(expiryWarnings(cert('x', '2026-01-02T00:00:00Z'), now)[0]!, /in 1 day;/);
  assert.match(expiryWarnings(cert('x', '2025-12-01T00:00:00Z'), now)[0]!, /expired on 2025-12-01/);
  assert.deepEqual(expiryWarnings(cert('x', '2026-03-01T00:00:00Z'), now, 30), []);
  assert.deepEqual(expiryWarnings(cert('x', 'not a date'), now), []);
});

test('issuers must be https URLs without query, fragment or credentials; the error names --issuer-url and the fix', () => {
  assert.throws(
    () => assertHttpsIssuer('http://example.com'),
    (error: Error) => error instanceof UserError && error.field === '--issuer-url' && /--issuer-url: "http:\/\/example.com" is not https.*give the https:\/\/ issuer URL/.test(error.message),
  );
  assert.throws(() => assertHttpsIssuer('not a url'), /--issuer-url: "not a url" is not a URL.*e\.g\. https:\/\//);
  assert.throws(() => assertHttpsIssuer('https://example.com/?x=1'), /query, fragment or user part/);
  assert.throws(() => assertHttpsIssuer('https://user:pw@example.com'), /query, fragment or user part/);
  assert.throws(() => assertHttpsIssuer('http://example.com', 'issuerUrl'), (error: UserError) => error.field === 'issuerUrl' && error.message.startsWith('issuerUrl: '));
  assert.doesNotThrow(() => assertHttpsIssuer('https://oidc.eks.us-east-1.amazonaws.com/id/ABC'));
  assert.doesNotThrow(() => assertHttpsIssuer('https://127.0.0.1:6443'));
});

test('issuer host/path as IAM stores it: no scheme, no trailing slash, port and path case kept', () => {
  assert.equal(issuerHostPath('https://oidc.eks.us-east-1.amazonaws.com/id/ABC/'), 'oidc.eks.us-east-1.amazonaws.com/id/ABC');
  assert.equal(issuerHostPath('https://127.0.0.1:6443'), '127.0.0.1:6443');
  assert.equal(issuerHostPath('HTTPS://oidc.example.com/Path'), 'oidc.example.com/Path');
});

/** A fetcher that serves fixed documents and chains, and records which hosts were read. */
function fakeFetcher(discovery: { issuer: string; jwksUri: string }, chains: Record<string, PresentedCertificate[]>) {
  const read: string[] = [];
  const fetcher: TlsChainFetcher = {
    fetchDiscovery: async () => discovery,
    presentedChain: async (host, port) => {
      read.push(`${host}:${port}`);
      return chains[`${host}:${port}`] ?? [];
    },
  };
  return { fetcher, read };
}

test('resolveThumbprints: issuer then jwks_uri host, one entry when both present the same CA, expiry warnings name the host', async () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const a = '1'.repeat(40);
  const b = '2'.repeat(40);
  const split = fakeFetcher(
    { issuer: 'https://oidc.example.com/id/1', jwksUri: 'https://keys.example.com:8443/jwks' },
    { 'oidc.example.com:443': [cert('leaf'), cert(a)], 'keys.example.com:8443': [cert('leaf2'), cert(b, '2026-02-01T00:00:00Z')] },
  );
  const result = await resolveThumbprints(split.fetcher, 'https://oidc.example.com/id/1', now);
  assert.deepEqual(result.thumbprints, [a, b]);
  assert.deepEqual(split.read, ['oidc.example.com:443', 'keys.example.com:8443']);
  assert.equal(result.jwksUri, 'https://keys.example.com:8443/jwks');
  assert.equal(result.warnings.length, 1);
  assert.match(result.warnings[0]!, /^keys\.example\.com:8443: .*expires 2026-02-01, in 31 days/);

  const sameCa = fakeFetcher(
    { issuer: 'https://oidc.example.com', jwksUri: 'https://keys.example.com/jwks' },
    { 'oidc.example.com:443': [cert('leaf'), cert(a)], 'keys.example.com:443': [cert('leaf2'), cert(a)] },
  );
  assert.deepEqual((await resolveThumbprints(sameCa.fetcher, 'https://oidc.example.com/', now)).thumbprints, [a]);
});

test('resolveThumbprints: a discovery document naming another issuer is a warning; no certificate is an error', async () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const other = fakeFetcher({ issuer: 'https://kubernetes.default.svc', jwksUri: 'https://oidc.example.com/keys' }, { 'oidc.example.com:443': [cert('1'.repeat(40))] });
  const result = await resolveThumbprints(other.fetcher, 'https://oidc.example.com', now);
  assert.match(result.warnings[0]!, /names the issuer https:\/\/kubernetes\.default\.svc/);
  const empty = fakeFetcher({ issuer: 'https://oidc.example.com', jwksUri: 'https://oidc.example.com/keys' }, {});
  await assert.rejects(resolveThumbprints(empty.fetcher, 'https://oidc.example.com', now), /no certificate/);
});

test('the core thumbprint module does no I/O: it imports no network, file or process module', () => {
  const source = readFileSync(new URL('../../src/core/thumbprint.ts', import.meta.url), 'utf8');
  const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]);
  assert.deepEqual(imports.filter((name) => !name!.startsWith('./')), []);
});
