import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildTrustPolicy,
  evaluateTrustPolicy,
  parseTrustPolicy,
  policySize,
  samePolicy,
  serviceAccountSubject,
  stringLike,
  type FederatedTrust,
  type PolicyDocument,
} from '../../src/core/trust-policy.ts';

const provider = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC';
const issuer = 'oidc.eks.us-east-1.amazonaws.com/id/ABC';
const trust = (subjects: string[], patterns: string[] = [], overrides: Partial<FederatedTrust> = {}): FederatedTrust => ({
  providerArn: provider,
  issuerHostPath: issuer,
  audience: 'sts.amazonaws.com',
  subjects,
  subjectPatterns: patterns,
  ...overrides,
});
const claims = (sub: string, aud = ['sts.amazonaws.com']) => ({ iss: `https://${issuer}`, sub, aud });

test('buildTrustPolicy: the documented IRSA shape for one ServiceAccount', () => {
  const document = buildTrustPolicy([trust([serviceAccountSubject('prod', 'app')])]);
  assert.deepEqual(document, {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: provider },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${issuer}:sub`]: 'system:serviceaccount:prod:app',
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      },
    ],
  });
});

test('buildTrustPolicy: subjects of one provider are grouped, de-duplicated and sorted; providers get a statement each', () => {
  const other = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/XYZ';
  const document = buildTrustPolicy([
    trust(['system:serviceaccount:b:two', 'system:serviceaccount:a:one']),
    trust(['system:serviceaccount:a:one']),
    trust(['system:serviceaccount:a:one'], [], { providerArn: other, issuerHostPath: 'oidc.eks.us-west-2.amazonaws.com/id/XYZ' }),
  ]);
  assert.equal(document.Statement.length, 2);
  const first = document.Statement.find((s) => (s.Principal as { Federated: string }).Federated === provider)!;
  assert.deepEqual(first.Condition!['StringEquals']![`${issuer}:sub`], ['system:serviceaccount:a:one', 'system:serviceaccount:b:two']);
});

test('buildTrustPolicy: patterns use StringLike and keep aud exact', () => {
  const document = buildTrustPolicy([trust([], ['system:serviceaccount:ns:*'])]);
  const condition = document.Statement[0]!.Condition!;
  assert.deepEqual(condition['StringLike'], { [`${issuer}:sub`]: 'system:serviceaccount:ns:*' });
  assert.deepEqual(condition['StringEquals'], { [`${issuer}:aud`]: 'sts.amazonaws.com' });
});

test('parseTrustPolicy round-trips what buildTrustPolicy makes and keeps foreign statements', () => {
  const foreign = { Effect: 'Allow' as const, Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' };
  const built = buildTrustPolicy([trust(['system:serviceaccount:a:one'], ['system:serviceaccount:b:*'])], [foreign]);
  const parsed = parseTrustPolicy(built);
  assert.deepEqual(parsed.otherStatements, [foreign]);
  assert.deepEqual(buildTrustPolicy(parsed.trusts, parsed.otherStatements), built);
});

test('samePolicy ignores key order and single-element lists', () => {
  assert.ok(samePolicy({ a: ['x'], b: { c: 1, d: 2 } }, { b: { d: 2, c: 1 }, a: 'x' }));
  assert.ok(!samePolicy({ a: ['x', 'y'] }, { a: 'x' }));
});

test('policySize counts JSON without whitespace', () => {
  const document: PolicyDocument = { Version: '2012-10-17', Statement: [] };
  assert.equal(policySize(document), '{"Version":"2012-10-17","Statement":[]}'.length);
});

test('stringLike: * and ? wildcards, literal dots, case-sensitive', () => {
  assert.ok(stringLike('system:serviceaccount:ns:*', 'system:serviceaccount:ns:app'));
  assert.ok(stringLike('system:serviceaccount:ns:ap?', 'system:serviceaccount:ns:app'));
  assert.ok(!stringLike('system:serviceaccount:ns:*', 'system:serviceaccount:other:app'));
  assert.ok(!stringLike('a.b', 'axb'));
  assert.ok(!stringLike('App', 'app'));
});

test('evaluateTrustPolicy: StringEquals admits exactly the subject', () => {
  const document = buildTrustPolicy([trust(['system:serviceaccount:prod:app'])]);
  assert.equal(evaluateTrustPolicy(document, provider, claims('system:serviceaccount:prod:app')).allowed, true);
  const denied = evaluateTrustPolicy(document, provider, claims('system:serviceaccount:default:app'));
  assert.equal(denied.allowed, false);
  assert.match(denied.reasons.join('\n'), /expects sub system:serviceaccount:prod:app, token has sub system:serviceaccount:default:app/);
});

test('evaluateTrustPolicy: a wildcard under StringEquals never matches; under StringLike it does', () => {
  const wrong: PolicyDocument = buildTrustPolicy([trust(['system:serviceaccount:ns:*'])]);
  assert.equal(evaluateTrustPolicy(wrong, provider, claims('system:serviceaccount:ns:app')).allowed, false);
  const right = buildTrustPolicy([trust([], ['system:serviceaccount:ns:*'])]);
  assert.equal(evaluateTrustPolicy(right, provider, claims('system:serviceaccount:ns:app')).allowed, true);
});

test('evaluateTrustPolicy: wrong audience and wrong provider are named', () => {
  const document = buildTrustPolicy([trust(['system:serviceaccount:prod:app'])]);
  const badAud = evaluateTrustPolicy(document, provider, claims('system:serviceaccount:prod:app', ['other']));
  assert.equal(badAud.allowed, false);
  assert.match(badAud.reasons[0]!, /expects aud sts.amazonaws.com, token has aud other/);
  const badProvider = evaluateTrustPolicy(document, 'arn:aws:iam::111122223333:oidc-provider/elsewhere', claims('system:serviceaccount:prod:app'));
  assert.equal(badProvider.allowed, false);
  assert.match(badProvider.reasons[0]!, /not the provider/);
});

test('evaluateTrustPolicy: multiple statements, any allows; explicit deny wins', () => {
  const document = buildTrustPolicy([
    trust(['system:serviceaccount:a:one']),
    trust(['system:serviceaccount:b:two'], [], { audience: 'custom' }),
  ]);
  const result = evaluateTrustPolicy(document, provider, claims('system:serviceaccount:b:two', ['custom']));
  assert.equal(result.allowed, true);
  const matched = document.Statement[result.matchedStatement!]!;
  assert.equal(matched.Condition!['StringEquals']![`${issuer}:aud`], 'custom');
  const withDeny: PolicyDocument = {
    ...document,
    Statement: [
      ...document.Statement,
      { Effect: 'Deny', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity' },
    ],
  };
  assert.equal(evaluateTrustPolicy(withDeny, provider, claims('system:serviceaccount:a:one')).allowed, false);
});

test('evaluateTrustPolicy: a statement without an aud condition still admits by sub; condition keys compare case-insensitively', () => {
  const document: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: provider },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${issuer.toUpperCase()}:SUB`]: 'system:serviceaccount:prod:app' } },
      },
    ],
  };
  assert.equal(evaluateTrustPolicy(document, provider, claims('system:serviceaccount:prod:app', ['anything'])).allowed, true);
});

test('evaluateTrustPolicy: a condition key for another issuer fails with a message naming it', () => {
  const document = buildTrustPolicy([trust(['system:serviceaccount:prod:app'], [], { issuerHostPath: 'other.example.com' })]);
  const result = evaluateTrustPolicy(document, provider, claims('system:serviceaccount:prod:app'));
  assert.equal(result.allowed, false);
  assert.match(result.reasons[0]!, /other\.example\.com:sub does not match the token's issuer/);
});
