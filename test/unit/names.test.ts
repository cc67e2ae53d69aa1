import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertNamespace,
  assertRoleName,
  assertRolePath,
  assertServiceAccountName,
  assertTags,
  defaultRoleName,
  parseTagList,
} from '../../src/core/names.ts';
import { assertPolicyArn, parseArn, parseRoleArn } from '../../src/core/arn.ts';
import { UserError } from '../../src/core/errors.ts';

test('defaultRoleName: short triples read plainly', () => {
  assert.equal(defaultRoleName('prod', 'payments', 'api'), 'irsa-prod-payments-api');
});

test('defaultRoleName: long triples fit 64 characters, stay valid, stable and distinct', () => {
  const a = defaultRoleName('a-very-long-cluster-name-for-production-eu-west-1', 'team-payments-and-billing-services', 'order-processing-worker-with-long-name');
  const b = defaultRoleName('a-very-long-cluster-name-for-production-eu-west-1', 'team-payments-and-billing-services', 'order-processing-worker-with-long-name-2');
  assert.ok(a.length <= 64, `${a} is ${a.length}`);
  assert.ok(b.length <= 64);
  assert.doesNotThrow(() => assertRoleName(a));
  assert.equal(a, defaultRoleName('a-very-long-cluster-name-for-production-eu-west-1', 'team-payments-and-billing-services', 'order-processing-worker-with-long-name'));
  assert.notEqual(a, b);
  assert.match(a, /^irsa-a-very-.*-[0-9a-f]{8}$/);
  // 253-character ServiceAccount names too.
  const longest = defaultRoleName('c'.repeat(100), 'n'.repeat(63), 's'.repeat(253));
  assert.ok(longest.length <= 64);
  assert.doesNotThrow(() => assertRoleName(longest));
});

test('validation errors name the field and the fix', () => {
  assert.throws(() => assertRoleName('x'.repeat(65)), (error: unknown) => error instanceof UserError && /--role-name.*65 characters.*omit --role-name/.test(error.message));
  assert.throws(() => assertRoleName('bad/name'), /characters IAM does not allow/);
  assert.throws(() => assertNamespace('Prod'), /--namespace: "Prod" is not a valid Kubernetes namespace/);
  assert.throws(() => assertNamespace('n'.repeat(64)), /DNS-1123 label/);
  assert.throws(() => assertServiceAccountName('app_1'), /--name: "app_1"/);
  assert.doesNotThrow(() => assertServiceAccountName('app.v1'));
  assert.throws(() => assertRolePath('team'), /--path/);
  assert.doesNotThrow(() => assertRolePath('/team/'));
  assert.throws(() => assertTags({ 'aws:x': 'y' }), /--tags: tag key "aws:x" is reserved by AWS/);
  // irsa's own tags are refused as input, never silently dropped (issue 25).
  assert.throws(() => assertTags({ 'irsa:managed-by': 'someone-else' }), /--tags: tag key "irsa:managed-by" is reserved: irsa sets the irsa:\* tags itself/);
  assert.throws(() => assertTags({ 'IRSA:cluster': 'x' }, 'bindings[0].tags'), /^UserError: bindings\[0\]\.tags: tag key "IRSA:cluster" is reserved/);
  assert.doesNotThrow(() => assertTags({ 'team:irsa': 'x' }));
});

test('parseTagList reads k=v,k2=v2 and rejects pairs without "="', () => {
  assert.deepEqual(parseTagList('team=payments, env=prod'), { team: 'payments', env: 'prod' });
  assert.throws(() => parseTagList('team'), /"team" is not key=value/);
});

test('ARNs: provider ARNs keep host:port; role and policy ARNs are checked', () => {
  assert.equal(parseArn('arn:aws:iam::123456789012:oidc-provider/127.0.0.1:6443')?.resource, 'oidc-provider/127.0.0.1:6443');
  assert.deepEqual(parseRoleArn('arn:aws:iam::123456789012:role/team/app', '--attach-role-arn'), {
    account: '123456789012',
    path: '/team/',
    name: 'app',
    partition: 'aws',
  });
  assert.throws(() => parseRoleArn('arn:aws:iam::123:role/app', '--attach-role-arn'), /--attach-role-arn: "arn:aws:iam::123:role\/app" is not an IAM role ARN/);
  assert.doesNotThrow(() => assertPolicyArn('arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', '--attach-policy-arn'));
  assert.doesNotThrow(() => assertPolicyArn('arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy', '--attach-policy-arn'));
  assert.throws(() => assertPolicyArn('AmazonS3ReadOnlyAccess', '--attach-policy-arn'), /is not an IAM policy ARN/);
});
