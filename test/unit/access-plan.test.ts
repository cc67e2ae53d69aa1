// Planning access requests: the four documents of the cross-account secret layout (role in account
// 1, secret in 2, key in 3), merging into policies that hold other principals' statements (kept
// byte-for-byte, in place), never admitting more than the role, and removal restoring the original.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planAccess, type AccessObserved, type AccessRoleInput } from '../../src/core/access-plan.ts';
import { accessIdentityPolicy, irsaSid, parseAccessFlag, parseAccountProfile, withIrsaStatement } from '../../src/core/access-request.ts';
import { evaluateAccess, type AccessDocuments } from '../../src/core/access-eval.ts';
import type { PolicyDocument } from '../../src/core/trust-policy.ts';

const POD = '111111111111';
const DATA = '222222222222';
const SEC = '333333333333';
const ROLE = `arn:aws:iam::${POD}:role/app`;
const SECRET = `arn:aws:secretsmanager:eu-west-1:${DATA}:secret:db-AbCdEf`;
const KEY = `arn:aws:kms:eu-west-1:${SEC}:key/0b5e9a7c-1111-2222-3333-444455556666`;
const admin = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SEC}:root` }, Action: 'kms:*', Resource: '*' };
const otherReader = { Sid: 'AuditReads', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${DATA}:role/auditor` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' };
const denyOutsideOrg = { Sid: 'DenyOutsideOrg', Effect: 'Deny', Principal: '*', Action: 'secretsmanager:*', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': 'o-abc' } } };

const role = (over: Partial<AccessRoleInput> = {}): AccessRoleInput => ({
  roleArn: ROLE,
  accesses: [parseAccessFlag(`secretsmanager:read=${SECRET}`)],
  current: null,
  roleChangeKey: `iam-role:${ROLE}`,
  field: 'bindings[0].access',
  binding: 0,
  ...over,
});
const observed = (secretPolicy: PolicyDocument | null, keyPolicy: PolicyDocument | null = { Version: '2012-10-17', Statement: [admin] as never }): AccessObserved => ({
  secrets: new Map([[SECRET, { arn: SECRET, kmsKeyId: KEY, policy: secretPolicy }]]),
  keys: new Map([[KEY, { arn: KEY, manager: 'CUSTOMER', policy: keyPolicy }]]),
  unreachable: new Map(),
});

test('flags: --access and --account-profile parse, and a bad value names the flag and the fix', () => {
  assert.deepEqual(parseAccessFlag(`read=${SECRET}`), { service: 'secretsmanager', level: 'read', arn: SECRET });
  assert.throws(() => parseAccessFlag(`write=${SECRET}`), /--access: access level "write" is not known; secretsmanager supports read/);
  assert.throws(() => parseAccessFlag('secretsmanager:read=arn:aws:s3:::bucket'), /--access: .* is not a Secrets Manager secret ARN/);
  assert.deepEqual(parseAccountProfile(`${DATA}=data`), [DATA, 'data']);
  assert.throws(() => parseAccountProfile('data'), /--account-profile: "data" is not <12-digit account>=<profile>/);
});

test('from nothing: identity policy, secret policy and key policy, each in its own account, after the role', () => {
  const plan = planAccess([role()], observed(null));
  assert.deepEqual(plan.blockers, []);
  const identity = plan.identityPolicies.get(ROLE)!;
  assert.deepEqual(identity, accessIdentityPolicy([{ secretArn: SECRET, account: DATA, region: 'eu-west-1', actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], key: { arn: KEY, account: SEC } }]));
  assert.deepEqual(identity.Statement.map((s) => [s.Action, s.Resource, s.Condition ?? null]), [
    [['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], SECRET, null],
    ['kms:Decrypt', KEY, { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } }],
  ]);
  assert.deepEqual(plan.changes.map((c) => [c.kind, c.action, c.account, c.dependsOn]), [
    ['secret-policy', 'create', DATA, [`iam-role:${ROLE}`]],
    ['key-policy', 'update', SEC, [`iam-role:${ROLE}`]],
  ]);
  // The documents together admit GetSecretValue and kms:Decrypt via Secrets Manager, and nothing for another role.
  const secretAfter = (plan.changes[0]!.after as { document: PolicyDocument }).document;
  const keyAfter = (plan.changes[1]!.after as { document: PolicyDocument }).document;
  const request = (roleArn: string, action: string, arn: string, account: string) => ({
    role: { arn: roleArn, account: POD },
    action,
    resource: { arn, account },
    context: { values: { 'aws:PrincipalArn': [roleArn], 'kms:ViaService': ['secretsmanager.eu-west-1.amazonaws.com'], 'kms:EncryptionContext:SecretARN': [SECRET] }, absent: [] },
  });
  const docs = (resourcePolicy: PolicyDocument, kms: boolean): AccessDocuments => ({
    identityPolicies: [{ kind: 'identity', name: 'irsa-access', account: POD, document: identity }],
    permissionsBoundary: null,
    resourcePolicy: { kind: kms ? 'key-policy' : 'resource', name: 'policy', account: kms ? SEC : DATA, document: resourcePolicy },
    resourceIsKmsKey: kms,
    grants: [],
    organizationPolicies: 'none',
  });
  assert.equal(evaluateAccess(request(ROLE, 'secretsmanager:GetSecretValue', SECRET, DATA), docs(secretAfter, false)).verdict, 'allow');
  assert.equal(evaluateAccess(request(ROLE, 'kms:Decrypt', KEY, SEC), docs(keyAfter, true)).verdict, 'allow');
  const other = `arn:aws:iam::${POD}:role/other`;
  assert.equal(evaluateAccess(request(other, 'secretsmanager:GetSecretValue', SECRET, DATA), docs(secretAfter, false)).verdict, 'deny');
  assert.equal(evaluateAccess(request(ROLE, 'secretsmanager:PutSecretValue', SECRET, DATA), docs(secretAfter, false)).verdict, 'deny');
});

test('merging keeps other principals\' statements byte-for-byte and in place; removal restores the original exactly', () => {
  const secretPolicy = { Version: '2012-10-17', Id: 'data-team', Statement: [otherReader, denyOutsideOrg] } as unknown as PolicyDocument;
  const keyPolicy = { Version: '2012-10-17', Id: 'key-consolepolicy-3', Statement: [admin] } as unknown as PolicyDocument;
  const plan = planAccess([role()], observed(secretPolicy, keyPolicy));
  const secretAfter = (plan.changes[0]!.after as { document: PolicyDocument }).document;
  assert.deepEqual(secretAfter.Statement.slice(0, 2).map((s) => JSON.stringify(s)), [JSON.stringify(otherReader), JSON.stringify(denyOutsideOrg)]);
  assert.equal((secretAfter as unknown as { Id: string }).Id, 'data-team');
  // Removing the access (the role's irsa-access names the secret and key): back to the original.
  const current = plan.identityPolicies.get(ROLE);
  const keyAfter = (plan.changes[1]!.after as { document: PolicyDocument }).document;
  const removal = planAccess([role({ accesses: [], current, roleChangeKey: null })], observed(secretAfter, keyAfter));
  assert.equal(removal.identityPolicies.get(ROLE), null);
  assert.deepEqual(removal.changes.map((c) => [c.kind, c.action]), [['secret-policy', 'update'], ['key-policy', 'update']]);
  assert.equal(JSON.stringify((removal.changes[0]!.after as { document: PolicyDocument }).document), JSON.stringify(secretPolicy));
  assert.equal(JSON.stringify((removal.changes[1]!.after as { document: PolicyDocument }).document), JSON.stringify(keyPolicy));
  // A secret that had no policy before irsa gets none after.
  const fresh = planAccess([role()], observed(null));
  const back = planAccess([role({ accesses: [], current: fresh.identityPolicies.get(ROLE), roleChangeKey: null })], observed((fresh.changes[0]!.after as { document: PolicyDocument }).document));
  assert.deepEqual([back.changes[0]!.kind, back.changes[0]!.action, back.changes[0]!.after], ['secret-policy', 'delete', null]);
});

test('re-plan after apply is empty; a recreated role (principal shown as AROA…) is written again', () => {
  const first = planAccess([role()], observed(null));
  const after = (i: number) => (first.changes[i]!.after as { document: PolicyDocument }).document;
  const again = planAccess([role({ current: first.identityPolicies.get(ROLE), roleChangeKey: null })], observed(after(0), after(1)));
  assert.deepEqual(again.changes.map((c) => c.action), ['no-op', 'no-op']);
  // IAM shows the deleted role's unique id in place of its ARN: irsa's Sid still finds the statement.
  const stale = JSON.parse(JSON.stringify(after(0)).replace(ROLE, 'AROAOLDROLEID00001')) as PolicyDocument;
  const fixed = planAccess([role({ current: first.identityPolicies.get(ROLE), roleChangeKey: null })], observed(stale, after(1)));
  assert.deepEqual(fixed.changes.map((c) => c.action), ['update', 'no-op']);
  assert.equal(JSON.stringify((fixed.changes[0]!.after as { document: PolicyDocument }).document), JSON.stringify(after(0)));
});

test('blockers: the AWS managed key across accounts, a missing secret, an account without a profile', () => {
  const managed = planAccess([role()], { ...observed(null), secrets: new Map([[SECRET, { arn: SECRET, kmsKeyId: null, policy: null }]]) });
  assert.deepEqual(managed.blockers.map((b) => b.code), ['secret-uses-aws-managed-key']);
  assert.match(managed.blockers[0]!.message, /^bindings\[0\]\.access: secret .* AWS managed key/);
  assert.equal(managed.changes.length, 0);
  const missing = planAccess([role()], { ...observed(null), secrets: new Map([[SECRET, null]]) });
  assert.deepEqual(missing.blockers.map((b) => b.code), ['secret-not-found']);
  const noProfile = planAccess([role()], { secrets: new Map(), keys: new Map(), unreachable: new Map([[DATA, 'set accounts."222222222222".profile']]) });
  assert.deepEqual(noProfile.blockers.map((b) => [b.code, b.fix]), [['account-profile-missing', 'set accounts."222222222222".profile']]);
});

test('two roles on one secret: one change each, the second after the first, each touching only its own statement', () => {
  const other = `arn:aws:iam::${POD}:role/worker`;
  const plan = planAccess([role(), role({ roleArn: other, roleChangeKey: null })], observed(null));
  const secretChanges = plan.changes.filter((c) => c.kind === 'secret-policy');
  assert.equal(secretChanges.length, 2);
  assert.ok(secretChanges[1]!.dependsOn.includes(`secret-policy:${secretChanges[0]!.id}`));
  const final = (secretChanges[1]!.after as { document: PolicyDocument }).document;
  assert.deepEqual(final.Statement.map((s) => s.Sid), [irsaSid(ROLE), irsaSid(other)]);
});

test('property: setting and removing irsa\'s statement never changes any other statement', () => {
  const statement = fc.record({ Sid: fc.constantFrom('A', 'B', 'Enable IAM User Permissions', irsaSid('arn:aws:iam::1:role/x')), Effect: fc.constantFrom('Allow', 'Deny'), Action: fc.constantFrom('kms:*', 's3:GetObject'), Resource: fc.constant('*'), Principal: fc.constantFrom('*', { AWS: 'arn:aws:iam::9:root' }) });
  fc.assert(
    fc.property(fc.array(statement, { maxLength: 5 }), fc.constantFrom(ROLE, `arn:aws:iam::${POD}:role/y`), (statements, roleArn) => {
      const doc = statements.length ? ({ Version: '2012-10-17', Statement: statements } as unknown as PolicyDocument) : null;
      const sid = irsaSid(roleArn);
      const added = withIrsaStatement(doc, sid, { Sid: sid, Effect: 'Allow', Principal: { AWS: roleArn }, Action: 'kms:Decrypt', Resource: '*' });
      const others = (d: PolicyDocument | null) => (d?.Statement ?? []).filter((s) => s.Sid !== sid).map((s) => JSON.stringify(s));
      assert.deepEqual(others(added), others(doc));
      const removed = withIrsaStatement(added, sid, null);
      assert.deepEqual(others(removed), others(doc));
      assert.ok(!(removed?.Statement ?? []).some((s) => s.Sid === sid));
    }),
    { numRuns: 300 },
  );
});
