import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  judgeContext,
  matchingContexts,
  mismatchMessage,
  normalizeEndpoint,
  unknownMessage,
  type ContextObservation,
  type ExpectedCluster,
} from '../../src/core/cluster-identity.ts';

const A: ExpectedCluster = { label: 'EKS cluster "a"', issuerUrl: 'https://oidc.eks.eu-west-1.amazonaws.com/id/AAAA', endpoint: 'https://AAAA.gr7.eu-west-1.eks.amazonaws.com' };
const observed = (fields: Partial<ContextObservation>): ContextObservation => ({ context: 'b', server: 'https://BBBB.gr7.eu-west-1.eks.amazonaws.com', discovery: { error: '403 Forbidden' }, ...fields });

test('discovery with the same issuer (trailing slash ignored) is a match by discovery', () => {
  const judged = judgeContext(A, observed({ discovery: { value: 'https://oidc.eks.eu-west-1.amazonaws.com/id/AAAA/' } }));
  assert.equal(judged.verdict, 'match');
  assert.equal(judged.verdict === 'match' && judged.proof, 'discovery');
});

test('discovery with another issuer is a mismatch, even when the server is the endpoint', () => {
  const judged = judgeContext(A, observed({ server: A.endpoint!, discovery: { value: 'https://oidc.eks.eu-west-1.amazonaws.com/id/BBBB' } }));
  assert.equal(judged.verdict, 'mismatch');
  assert.equal(judged.verdict === 'mismatch' && judged.observedIssuer, 'https://oidc.eks.eu-west-1.amazonaws.com/id/BBBB');
});

test('discovery forbidden: the token issuer decides', () => {
  assert.equal(judgeContext(A, observed({ token: { value: A.issuerUrl } })).verdict, 'match');
  const judged = judgeContext(A, observed({ token: { value: 'https://other' } }));
  assert.equal(judged.verdict === 'mismatch' && judged.proof, 'token');
});

test('no issuer proof: the endpoint proves a match (host case and default port ignored), a difference proves nothing', () => {
  const match = judgeContext(A, observed({ server: 'https://aaaa.gr7.eu-west-1.eks.amazonaws.com:443/', token: { error: 'forbidden' } }));
  assert.equal(match.verdict === 'match' && match.proof, 'endpoint');
  const unknown = judgeContext(A, observed({ token: { error: 'serviceaccounts "api" not found' } }));
  assert.equal(unknown.verdict, 'unknown');
  assert.deepEqual(unknown.verdict === 'unknown' && unknown.reasons.length, 3);
  // --issuer-url: no endpoint to compare
  const selfManaged = judgeContext({ ...A, endpoint: null, label: 'the cluster of issuer x' }, observed({}));
  assert.equal(selfManaged.verdict, 'unknown');
  const message = unknownMessage(A, observed({}), unknown as Extract<typeof unknown, { verdict: 'unknown' }>);
  assert.match(message, /--skip-cluster-check/);
  assert.match(message, /system:service-account-issuer-discovery/);
});

test('normalizeEndpoint', () => {
  assert.equal(normalizeEndpoint('https://Example.com'), 'https://example.com:443');
  assert.equal(normalizeEndpoint('https://127.0.0.1:6443/'), 'https://127.0.0.1:6443');
});

test('matching contexts by issuer or by the EKS endpoint; the message names the one to use', () => {
  const candidates = [
    { context: 'a', server: 'https://127.0.0.1:1', issuer: A.issuerUrl + '/' },
    { context: 'a-proxy', server: 'https://aaaa.gr7.eu-west-1.eks.amazonaws.com', issuer: null },
    { context: 'c', server: 'https://127.0.0.1:2', issuer: 'https://other' },
  ];
  assert.deepEqual(matchingContexts(A, candidates), ['a', 'a-proxy']);
  const obs = observed({ discovery: { value: 'https://oidc.eks.eu-west-1.amazonaws.com/id/BBBB' } });
  const judged = judgeContext(A, obs) as Extract<ReturnType<typeof judgeContext>, { verdict: 'mismatch' }>;
  const one = mismatchMessage(A, obs, judged, ['a'], 'b-cluster');
  assert.match(one, /context "b" \(https:\/\/BBBB[^)]*\) is not EKS cluster "a"/);
  assert.match(one, /\/id\/BBBB; EKS cluster "a" has https:\/\/oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/AAAA \(that is EKS cluster "b-cluster"\)/);
  assert.match(one, /--context a\.$/);
  assert.match(mismatchMessage(A, obs, judged, ['a', 'a-proxy'], null), /a, a-proxy/);
  assert.match(mismatchMessage(A, obs, judged, [], null), /No context of the kubeconfig/);
});
