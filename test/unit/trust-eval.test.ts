// One test per IAM rule the trust evaluator implements (absent keys, each operator family,
// set operators, principals, actions, Deny over Allow) and per "cannot decide" case.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateTrust, type TokenClaims } from '../../src/core/trust-eval.ts';
import type { PolicyDocument, PolicyStatement } from '../../src/core/trust-policy.ts';

const HP = 'oidc.eks.us-east-1.amazonaws.com/id/ABC';
const OTHER = 'oidc.eks.eu-west-1.amazonaws.com/id/XYZ';
const PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${HP}`;
const SUB = 'system:serviceaccount:prod:app';
const token = (overrides: Partial<TokenClaims> = {}): TokenClaims => ({ iss: `https://${HP}`, sub: SUB, aud: ['sts.amazonaws.com'], ...overrides });
const allow = (extra: Partial<PolicyStatement> = {}): PolicyStatement => ({ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', ...extra });
const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });
const verdict = (condition: Record<string, Record<string, string | string[]>>, claims = token()) => evaluateTrust(doc(allow({ Condition: condition })), PROVIDER, claims).verdict;
const denyVerdict = (condition: Record<string, Record<string, string | string[]>>, claims = token()) =>
  evaluateTrust(doc(allow(), { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: condition }), PROVIDER, claims).verdict;

test('absent key: a positive operator is false, a negated one true (every family)', () => {
  const absent = `${OTHER}:sub`; // another provider's key is never in this request
  for (const op of ['StringEquals', 'StringEqualsIgnoreCase', 'StringLike', 'ArnEquals', 'ArnLike', 'NumericEquals', 'DateEquals', 'Bool', 'BinaryEquals', 'IpAddress']) {
    assert.equal(verdict({ [op]: { [absent]: 'x' } }), 'deny', op);
  }
  for (const op of ['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'ArnNotEquals', 'ArnNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress']) {
    assert.equal(verdict({ [op]: { [absent]: 'x' } }), 'allow', op);
  }
});

test('absent key: the issue\'s example — a Deny StringNotLike on cluster A\'s sub denies every token of cluster B', () => {
  const document = doc(
    allow({ Principal: { Federated: [PROVIDER, `arn:aws:iam::111122223333:oidc-provider/${OTHER}`] } }),
    { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringNotLike: { [`${HP}:sub`]: 'system:serviceaccount:prod:*' } } },
  );
  assert.equal(evaluateTrust(document, `arn:aws:iam::111122223333:oidc-provider/${OTHER}`, token({ iss: `https://${OTHER}` })).verdict, 'deny');
  assert.equal(evaluateTrust(document, PROVIDER, token()).verdict, 'allow');
});

test('absent key: ...IfExists is true; present, it is the operator', () => {
  assert.equal(verdict({ StringEqualsIfExists: { [`${OTHER}:sub`]: 'x' } }), 'allow');
  assert.equal(verdict({ StringEqualsIfExists: { [`${HP}:sub`]: 'x' } }), 'deny');
  assert.equal(verdict({ StringEqualsIfExists: { [`${HP}:sub`]: SUB } }), 'allow');
  assert.equal(verdict({ StringEqualsIfExists: { [`${HP}:aud`]: 'x' } }, token({ aud: [] })), 'allow');
});

test('absent key: ForAllValues is true, ForAnyValue false (either polarity)', () => {
  assert.equal(verdict({ 'ForAllValues:StringEquals': { [`${OTHER}:aud`]: 'x' } }), 'allow');
  assert.equal(verdict({ 'ForAllValues:StringNotEquals': { [`${OTHER}:aud`]: 'x' } }), 'allow');
  assert.equal(verdict({ 'ForAnyValue:StringEquals': { [`${OTHER}:aud`]: 'x' } }), 'deny');
  assert.equal(verdict({ 'ForAnyValue:StringNotEquals': { [`${OTHER}:aud`]: 'x' } }), 'deny');
  assert.equal(verdict({ 'ForAllValues:StringEquals': { [`${HP}:aud`]: 'x' } }, token({ aud: [] })), 'allow');
});

test('present key: ForAnyValue / ForAllValues over the request values', () => {
  assert.equal(verdict({ 'ForAnyValue:StringEquals': { [`${HP}:aud`]: ['x', 'sts.amazonaws.com'] } }), 'allow');
  assert.equal(verdict({ 'ForAllValues:StringLike': { [`${HP}:sub`]: 'system:serviceaccount:prod:*' } }), 'allow');
  assert.equal(verdict({ 'ForAllValues:StringLike': { [`${HP}:sub`]: 'system:serviceaccount:dev:*' } }), 'deny');
});

test('Null: "true" holds when the key is absent, "false" when present', () => {
  assert.equal(verdict({ Null: { [`${OTHER}:sub`]: 'true' } }), 'allow');
  assert.equal(verdict({ Null: { [`${HP}:sub`]: 'true' } }), 'deny');
  assert.equal(verdict({ Null: { [`${HP}:sub`]: 'false' } }), 'allow');
  assert.equal(verdict({ Null: { [`${HP}:aud`]: 'false' } }, token({ aud: [] })), 'deny');
});

test('string operators: equals, not-equals, ignore-case, like, not-like; values OR, negated values NOR', () => {
  const k = `${HP}:sub`;
  assert.equal(verdict({ StringEquals: { [k]: ['x', SUB] } }), 'allow');
  assert.equal(verdict({ StringEquals: { [k]: SUB.toUpperCase() } }), 'deny', 'values are case-sensitive');
  assert.equal(verdict({ StringEqualsIgnoreCase: { [k]: SUB.toUpperCase() } }), 'allow');
  assert.equal(verdict({ StringNotEquals: { [k]: ['x', 'y'] } }), 'allow');
  assert.equal(verdict({ StringNotEquals: { [k]: ['x', SUB] } }), 'deny', 'NOR: one listed value matches');
  assert.equal(verdict({ StringNotEqualsIgnoreCase: { [k]: SUB.toUpperCase() } }), 'deny');
  assert.equal(verdict({ StringLike: { [k]: 'system:serviceaccount:prod:?pp' } }), 'allow');
  assert.equal(verdict({ StringEquals: { [k]: 'system:serviceaccount:prod:*' } }), 'deny', 'a * under StringEquals is literal');
  assert.equal(verdict({ StringNotLike: { [k]: 'system:serviceaccount:dev:*' } }), 'allow');
  assert.equal(verdict({ StringNotLike: { [k]: 'system:serviceaccount:*' } }), 'deny');
});

test('several keys AND, several operators AND; key names case-insensitive', () => {
  assert.equal(verdict({ StringEquals: { [`${HP}:SUB`]: SUB, [`${HP.toUpperCase()}:aud`]: 'sts.amazonaws.com' } }), 'allow');
  assert.equal(verdict({ StringEquals: { [`${HP}:sub`]: SUB, [`${HP}:aud`]: 'other' } }), 'deny');
  assert.equal(verdict({ StringEquals: { [`${HP}:sub`]: SUB }, StringLike: { [`${HP}:sub`]: 'system:serviceaccount:dev:*' } }), 'deny');
});

test('principals: Federated list, "*", NotPrincipal; Service and AWS ARNs do not name a web-identity caller', () => {
  assert.equal(evaluateTrust(doc(allow({ Principal: { Federated: ['x', PROVIDER] } })), PROVIDER, token()).verdict, 'allow');
  assert.equal(evaluateTrust(doc(allow({ Principal: '*' })), PROVIDER, token()).verdict, 'allow');
  assert.equal(evaluateTrust(doc(allow({ Principal: { Service: 'pods.eks.amazonaws.com' } })), PROVIDER, token()).verdict, 'deny');
  assert.equal(evaluateTrust(doc(allow({ Principal: { AWS: 'arn:aws:iam::111122223333:root' } })), PROVIDER, token()).verdict, 'deny');
  const notPrincipal = { Effect: 'Deny', NotPrincipal: { Federated: PROVIDER }, Action: '*' } as PolicyStatement;
  assert.equal(evaluateTrust(doc(allow(), notPrincipal), PROVIDER, token()).verdict, 'allow');
  const notOther = { Effect: 'Deny', NotPrincipal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/other' }, Action: '*' } as PolicyStatement;
  assert.equal(evaluateTrust(doc(allow(), notOther), PROVIDER, token()).verdict, 'deny');
});

test('actions: wildcards, case-insensitive, NotAction', () => {
  for (const action of ['sts:*', '*', 'STS:AssumeRoleWithWebIdentity', 'sts:AssumeRoleWith*', 'sts:AssumeRoleWith?ebIdentity']) {
    assert.equal(evaluateTrust(doc(allow({ Action: action })), PROVIDER, token()).verdict, 'allow', action);
  }
  assert.equal(evaluateTrust(doc(allow({ Action: 'sts:AssumeRole' })), PROVIDER, token()).verdict, 'deny');
  const notAction = (value: string) => ({ Effect: 'Allow', Principal: { Federated: PROVIDER }, NotAction: value }) as PolicyStatement;
  assert.equal(evaluateTrust(doc(notAction('sts:AssumeRole')), PROVIDER, token()).verdict, 'allow');
  assert.equal(evaluateTrust(doc(notAction('sts:AssumeRoleWith*')), PROVIDER, token()).verdict, 'deny');
});

test('explicit Deny wins over Allow; no statement that applies is a deny', () => {
  assert.equal(denyVerdict({ StringEquals: { [`${HP}:sub`]: SUB } }), 'deny');
  assert.equal(denyVerdict({ StringEquals: { [`${HP}:sub`]: 'other' } }), 'allow');
  assert.equal(evaluateTrust(doc(), PROVIDER, token()).verdict, 'deny');
});

test('cannot decide: unknown request values, {"AWS": "*"}, multi-valued aud, policy variables, unknown operators', () => {
  const cannot = (document: PolicyDocument, claims = token()) => {
    const result = evaluateTrust(document, PROVIDER, claims);
    assert.equal(result.verdict, 'cannot-decide', JSON.stringify(document));
    assert.equal(result.allowed, false);
    assert.ok(result.undecided.length > 0);
  };
  cannot(doc(allow({ Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-0good' } } })));
  cannot(doc(allow({ Principal: { AWS: '*' } })));
  cannot(doc(allow({ Condition: { StringEquals: { [`${HP}:aud`]: 'sts.amazonaws.com' } } })), token({ aud: ['sts.amazonaws.com', 'vault'] }));
  cannot(doc(allow({ Condition: { StringLike: { [`${HP}:sub`]: 'system:serviceaccount:${aws:username}:*' } } })));
  cannot(doc(allow({ Condition: { StringFancy: { [`${HP}:sub`]: SUB } } })));
  cannot(doc(allow({ Condition: { NumericEquals: { [`${HP}:sub`]: '1' } } })));
  // An undecidable Deny next to a certain Allow is still undecided (the Deny might apply)...
  cannot(doc(allow(), { Effect: 'Deny', Principal: '*', Action: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }));
  // ...but a statement that certainly does not apply decides nothing, whatever else it says.
  assert.equal(evaluateTrust(doc(allow({ Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceVpc': 'v' } } })), PROVIDER, token()).verdict, 'deny');
  // A multi-valued aud is fine when no condition reads aud.
  assert.equal(evaluateTrust(doc(allow({ Condition: { StringEquals: { [`${HP}:sub`]: SUB } } })), PROVIDER, token({ aud: ['a', 'b'] })).verdict, 'allow');
});
