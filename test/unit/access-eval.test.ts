// The access evaluator on the cross-account secret layout (pod role in account 1, secret in 2, its
// KMS key in 3): each broken variant names the document (and account) that refuses. The semantics
// themselves are checked against iam-simulate in access-differential.test.ts; these pin the naming,
// grants, and the cases where irsa must say "cannot decide".

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAccess, type AccessDocuments, type AccessRequest, type NamedPolicy } from '../../src/core/access-eval.ts';

const POD = '111111111111';
const DATA = '222222222222';
const SEC = '333333333333';
const ROLE = `arn:aws:iam::${POD}:role/app`;
const ROLE_ID = 'AROANEWROLEID00001';
const SECRET = `arn:aws:secretsmanager:eu-west-1:${DATA}:secret:db-AbCdEf`;
const KEY = `arn:aws:kms:eu-west-1:${SEC}:key/0b5e9a7c-1111-2222-3333-444455556666`;
const VIA = 'secretsmanager.eu-west-1.amazonaws.com';

const doc = (...Statement: Record<string, unknown>[]) => ({ Version: '2012-10-17', Statement });
const identity = (...statements: Record<string, unknown>[]): NamedPolicy => ({ kind: 'identity', name: 'inline policy irsa-access on role app', account: POD, document: doc(...statements) });
const readSecret = { Sid: 'IrsaSecretRead', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET };
const decryptVia = (region = 'eu-west-1') => ({ Sid: 'IrsaKeyDecrypt', Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } } });
const secretPolicy = (...statements: Record<string, unknown>[]): NamedPolicy => ({ kind: 'resource', name: 'resource policy of secret db', account: DATA, document: doc(...statements) });
const keyPolicy = (...statements: Record<string, unknown>[]): NamedPolicy => ({ kind: 'key-policy', name: 'key policy of key 0b5e9a7c', account: SEC, document: doc(...statements) });
const keyAdmin = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SEC}:root` }, Action: 'kms:*', Resource: '*' };
const admit = (principal: string, action: string) => ({ Sid: 'IrsaAdmitApp', Effect: 'Allow', Principal: { AWS: principal }, Action: action, Resource: '*' });

const secretRequest: AccessRequest = {
  role: { arn: ROLE, account: POD, id: ROLE_ID },
  action: 'secretsmanager:GetSecretValue',
  resource: { arn: SECRET, account: DATA },
  context: { values: { 'aws:PrincipalArn': [ROLE], 'aws:PrincipalAccount': [POD] }, absent: [] },
};
const decryptRequest: AccessRequest = {
  role: { arn: ROLE, account: POD, id: ROLE_ID },
  action: 'kms:Decrypt',
  resource: { arn: KEY, account: SEC },
  context: {
    values: { 'aws:PrincipalArn': [ROLE], 'aws:PrincipalAccount': [POD], 'kms:ViaService': [VIA], 'kms:CallerAccount': [POD], [`kms:EncryptionContext:SecretARN`]: [SECRET] },
    absent: [],
  },
};
const secretDocs = (over: Partial<AccessDocuments> = {}): AccessDocuments => ({
  identityPolicies: [identity(readSecret, decryptVia())],
  permissionsBoundary: null,
  resourcePolicy: secretPolicy(admit(ROLE, 'secretsmanager:GetSecretValue')),
  resourceIsKmsKey: false,
  organizationPolicies: 'none',
  ...over,
});
const keyDocs = (over: Partial<AccessDocuments> = {}): AccessDocuments => ({
  identityPolicies: [identity(readSecret, decryptVia())],
  permissionsBoundary: null,
  resourcePolicy: keyPolicy(keyAdmin, admit(ROLE, 'kms:Decrypt')),
  resourceIsKmsKey: true,
  grants: [],
  organizationPolicies: 'none',
  ...over,
});

test('the seed layout: GetSecretValue and kms:Decrypt via Secrets Manager are allowed, naming the statements that carry them', () => {
  const secret = evaluateAccess(secretRequest, secretDocs());
  assert.equal(secret.verdict, 'allow');
  assert.deepEqual(secret.allowedBy.map((r) => [r.kind, r.account, r.sid]), [['identity', POD, 'IrsaSecretRead'], ['resource', DATA, 'IrsaAdmitApp']]);
  const key = evaluateAccess(decryptRequest, keyDocs());
  assert.equal(key.verdict, 'allow');
  assert.deepEqual(key.allowedBy.map((r) => [r.kind, r.account, r.sid]), [['identity', POD, 'IrsaKeyDecrypt'], ['key-policy', SEC, 'IrsaAdmitApp']]);
});

test('no identity statement: the role\'s identity policies in the pod account refuse', () => {
  const d = evaluateAccess(secretRequest, secretDocs({ identityPolicies: [identity(decryptVia())] }));
  assert.equal(d.verdict, 'deny');
  assert.equal(d.refusedBy?.kind, 'identity');
  assert.equal(d.refusedBy?.account, POD);
});

test('no resource-policy statement: the secret\'s policy in the data account refuses (cross-account needs both sides)', () => {
  const d = evaluateAccess(secretRequest, secretDocs({ resourcePolicy: secretPolicy(admit(`arn:aws:iam::${POD}:role/other`, 'secretsmanager:GetSecretValue')) }));
  assert.equal(d.verdict, 'deny');
  assert.deepEqual([d.refusedBy?.kind, d.refusedBy?.account, d.refusedBy?.document], ['resource', DATA, 'resource policy of secret db']);
  const none = evaluateAccess(secretRequest, secretDocs({ resourcePolicy: null }));
  assert.match(none.refusedBy?.why ?? '', /has no resource policy/);
});

test('key policy missing the role: the key policy in the security account refuses, although IAM allows', () => {
  const d = evaluateAccess(decryptRequest, keyDocs({ resourcePolicy: keyPolicy(keyAdmin) }));
  assert.equal(d.verdict, 'deny');
  assert.deepEqual([d.refusedBy?.kind, d.refusedBy?.account], ['key-policy', SEC]);
});

test('kms:ViaService for the wrong region: the identity statement does not apply and the identity policies refuse', () => {
  const d = evaluateAccess(decryptRequest, keyDocs({ identityPolicies: [identity(readSecret, decryptVia('us-east-1'))] }));
  assert.equal(d.verdict, 'deny');
  assert.equal(d.refusedBy?.kind, 'identity');
  assert.ok(d.reasons.some((r) => r.includes('kms:ViaService') && r.includes('us-east-1')), d.reasons.join('\n'));
});

test('a role recreated after the policies were written: the stale unique id admits nothing, the resource policy refuses', () => {
  const d = evaluateAccess(secretRequest, secretDocs({ resourcePolicy: secretPolicy(admit('AROAOLDROLEID00001', 'secretsmanager:GetSecretValue')) }));
  assert.equal(d.verdict, 'deny');
  assert.equal(d.refusedBy?.kind, 'resource');
  // Without the role's id irsa cannot tell whether the id is this role's.
  const noId = evaluateAccess({ ...secretRequest, role: { arn: ROLE, account: POD } }, secretDocs({ resourcePolicy: secretPolicy(admit('AROAOLDROLEID00001', 'secretsmanager:GetSecretValue')) }));
  assert.equal(noId.verdict, 'cannot-decide');
});

test('an explicit Deny wins and is named by its statement', () => {
  const deny = { Sid: 'DenyOutsideVpc', Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': DATA } } };
  const d = evaluateAccess(secretRequest, secretDocs({ resourcePolicy: secretPolicy(admit(ROLE, 'secretsmanager:GetSecretValue'), deny) }));
  assert.equal(d.verdict, 'deny');
  assert.deepEqual([d.refusedBy?.kind, d.refusedBy?.statement?.sid, d.refusedBy?.statement?.index], ['resource', 'DenyOutsideVpc', 1]);
});

test('cannot decide: SCPs it cannot read, keys it does not know, a policy it could not read — but a sure deny stays a deny', () => {
  assert.equal(evaluateAccess(secretRequest, secretDocs({ organizationPolicies: 'unreadable' })).verdict, 'cannot-decide');
  assert.equal(evaluateAccess(secretRequest, secretDocs({ organizationPolicies: 'unreadable', identityPolicies: [] })).verdict, 'deny');
  const vpc = evaluateAccess(secretRequest, secretDocs({ identityPolicies: [identity({ ...readSecret, Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-1' } } })] }));
  assert.equal(vpc.verdict, 'cannot-decide');
  assert.ok(vpc.undecided.some((u) => u.includes('aws:SourceVpc')));
  assert.equal(evaluateAccess(secretRequest, secretDocs({ resourcePolicy: 'unreadable' })).verdict, 'cannot-decide');
  // An unknown key in a Deny that otherwise applies: undecided, never allow.
  const maybeDenied = evaluateAccess(secretRequest, secretDocs({ identityPolicies: [identity(readSecret, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:ViaAWSService': 'false' } } })] }));
  assert.equal(maybeDenied.verdict, 'cannot-decide');
});

test('KMS grants: a grant for the role with Decrypt allows when IAM does; alone it is undecided; a constraint on another secret does not admit', () => {
  const grant = { grantId: 'g1', granteePrincipal: ROLE, operations: ['Decrypt'], constraints: { encryptionContextSubset: { SecretARN: SECRET } } };
  assert.equal(evaluateAccess(decryptRequest, keyDocs({ resourcePolicy: keyPolicy(keyAdmin), grants: [grant] })).verdict, 'allow');
  assert.equal(evaluateAccess(decryptRequest, keyDocs({ resourcePolicy: keyPolicy(keyAdmin), grants: [grant], identityPolicies: [] })).verdict, 'cannot-decide');
  const other = { ...grant, constraints: { encryptionContextSubset: { SecretARN: `${SECRET}x` } } };
  const d = evaluateAccess(decryptRequest, keyDocs({ resourcePolicy: keyPolicy(keyAdmin), grants: [other] }));
  assert.equal(d.verdict, 'deny');
  assert.equal(d.refusedBy?.kind, 'key-policy');
  assert.equal(evaluateAccess(decryptRequest, keyDocs({ resourcePolicy: keyPolicy(keyAdmin), grants: 'unreadable' })).verdict, 'cannot-decide');
});

test('same account: the key policy\'s account statement delegates to IAM; without it IAM alone does not reach the key', () => {
  const sameKey = KEY.replace(SEC, POD);
  const request = { ...decryptRequest, resource: { arn: sameKey, account: POD } };
  const iam = identity({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: sameKey });
  const delegating = { ...keyPolicy({ ...keyAdmin, Principal: { AWS: `arn:aws:iam::${POD}:root` } }), account: POD };
  assert.equal(evaluateAccess(request, keyDocs({ identityPolicies: [iam], resourcePolicy: delegating })).verdict, 'allow');
  const d = evaluateAccess(request, keyDocs({ identityPolicies: [iam], resourcePolicy: { ...keyPolicy(admit(`arn:aws:iam::${POD}:role/admin`, 'kms:*')), account: POD } }));
  assert.deepEqual([d.verdict, d.refusedBy?.kind], ['deny', 'key-policy']);
});

test('a permissions boundary that does not allow the action refuses, and is named', () => {
  const boundary: NamedPolicy = { kind: 'boundary', name: 'permissions boundary pb-s3-only', account: POD, document: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }) };
  const d = evaluateAccess(secretRequest, secretDocs({ permissionsBoundary: boundary }));
  assert.deepEqual([d.verdict, d.refusedBy?.kind, d.refusedBy?.document], ['deny', 'boundary', 'permissions boundary pb-s3-only']);
});
