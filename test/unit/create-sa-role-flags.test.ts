// Every create-sa-role flag, from the command line through the command table (commander) and
// parseBindingOptions to the BindingRequest the planner gets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandLine } from '../../src/cli.ts';
import { parseBindingOptions } from '../../src/commands/binding-options.ts';
import type { BindingRequest } from '../../src/core/binding.ts';

const base = ['create-sa-role', '--cluster', 'prod', '-n', 'payments', '--name', 'api'];
const parse = async (...extra: string[]): Promise<BindingRequest> => parseBindingOptions((await parseCommandLine([...base, ...extra])).options);
const rejects = async (extra: string[], pattern: RegExp) => {
  const { options } = await parseCommandLine([...base, ...extra]);
  assert.throws(() => parseBindingOptions(options), pattern, extra.join(' '));
};

test('defaults: generated role name, path /, default audience, nothing optional set', async () => {
  assert.deepEqual(await parse(), {
    cluster: 'prod',
    namespace: 'payments',
    name: 'api',
    roleName: 'irsa-prod-payments-api',
    rolePath: '/',
    attachRoleArn: null,
    audience: 'sts.amazonaws.com',
    subjectPattern: null,
    policyArns: [],
    inlinePolicies: {},
    tags: {},
    adopt: false,
    roleOnly: false,
    createNamespace: false,
    overrideExistingServiceAccounts: false,
    stsRegionalEndpoints: false,
    restartWorkloads: false,
  });
});

test('value flags land in their request fields', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-flags-'));
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
  writeFileSync(join(dir, 'p.json'), JSON.stringify(policy));
  const request = await parse(
    '--role-name', 'custom', '--path', '/team/', '--attach-policy-arn', 'arn:aws:iam::aws:policy/A', '--attach-policy-arn', 'arn:aws:iam::aws:policy/B',
    '--inline-policy', join(dir, 'p.json'), '--inline-policy-name', 'reads', '--permissions-boundary', 'arn:aws:iam::111122223333:policy/boundary',
    '--max-session-duration', '7200', '--description', 'orders api', '--tags', 'team=payments, env=prod', '--subject-pattern', 'system:serviceaccount:payments:*',
    '--audience', 'custom-aud', '--token-expiration', '3600', '--max-trust-policy-size', '4096',
  );
  assert.equal(request.roleName, 'custom');
  assert.equal(request.rolePath, '/team/');
  assert.deepEqual(request.policyArns, ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/B']);
  assert.deepEqual(request.inlinePolicies, { reads: policy });
  assert.equal(request.permissionsBoundary, 'arn:aws:iam::111122223333:policy/boundary');
  assert.equal(request.maxSessionDuration, 7200);
  assert.equal(request.description, 'orders api');
  assert.deepEqual(request.tags, { team: 'payments', env: 'prod' });
  assert.equal(request.subjectPattern, 'system:serviceaccount:payments:*');
  assert.equal(request.audience, 'custom-aud');
  assert.equal(request.tokenExpiration, 3600);
  assert.equal(request.trustPolicySizeLimit, 4096);
});

test('switches land in their request fields', async () => {
  const request = await parse('--sts-regional-endpoints', '--create-namespace', '--override-existing-serviceaccounts', '--restart-workloads', '--adopt');
  assert.deepEqual(
    [request.stsRegionalEndpoints, request.createNamespace, request.overrideExistingServiceAccounts, request.restartWorkloads, request.adopt, request.roleOnly],
    [true, true, true, true, true, false],
  );
  assert.equal((await parse('--role-only')).roleOnly, true);
  // --prune and --no-create-oidc are planning options, read by the command (not request fields).
  const { options } = await parseCommandLine([...base, '--prune', '--no-create-oidc']);
  assert.equal(options['prune'], true);
  assert.equal(options['createOidc'], false);
});

test('--attach-role-arn takes the role name and path from the ARN', async () => {
  const request = await parse('--attach-role-arn', 'arn:aws:iam::111122223333:role/platform/shared');
  assert.equal(request.attachRoleArn, 'arn:aws:iam::111122223333:role/platform/shared');
  assert.equal(request.roleName, 'shared');
  assert.equal(request.rolePath, '/platform/');
});

test('--attach-role-arn refuses every role setting irsa.yaml refuses with attachRoleArn (these were silently ignored)', async () => {
  const attach = ['--attach-role-arn', 'arn:aws:iam::111122223333:role/x'];
  for (const extra of [['--path', '/team/'], ['--max-session-duration', '7200'], ['--description', 'd'], ['--adopt'], ['--tags', 'a=b'], ['--permissions-boundary', 'arn:aws:iam::aws:policy/B']]) {
    await rejects([...attach, ...extra], new RegExp(`${extra[0]}: cannot be combined with --attach-role-arn`));
  }
  // Nothing given but the role: accepted, and the role's name and path come from its ARN.
  const { options } = await parseCommandLine(['create-sa-role', '--cluster', 'prod', '-n', 'payments', '--name', 'api', ...attach]);
  const request = parseBindingOptions(options);
  assert.deepEqual([request.roleName, request.rolePath, request.attachRoleArn], ['x', '/', attach[1]]);
});

test('--issuer-url without --cluster names the role after the issuer host', async () => {
  const { options } = await parseCommandLine(['create-sa-role', '--issuer-url', 'https://oidc.example.com/id/1', '-n', 'payments', '--name', 'api']);
  assert.equal(parseBindingOptions(options).roleName, 'irsa-oidc-example-com-payments-api');
});

test('bad values and combinations are refused naming the flag', async () => {
  await rejects(['--max-session-duration', '100'], /--max-session-duration: "100" is not allowed\. Give a whole number of seconds from 3600 to 43200/);
  await rejects(['--token-expiration', 'soon'], /--token-expiration: "soon" is not allowed/);
  await rejects(['--max-trust-policy-size', '9000'], /--max-trust-policy-size: "9000"/);
  await rejects(['--tags', 'novalue'], /--tags: "novalue" is not key=value/);
  await rejects(['--inline-policy-name', 'bad name'], /--inline-policy-name: "bad name" is not a valid IAM policy name/);
  await rejects(['--inline-policy', '/nonexistent/p.json'], /--inline-policy: cannot read "\/nonexistent\/p\.json" \(ENOENT\)/);
  await rejects(['--attach-policy-arn', 'S3ReadOnly'], /--attach-policy-arn: .*not an IAM policy ARN/);
  await rejects(['--path', 'team'], /--path: "team" is not an IAM path/);
  await rejects(['--role-name', 'a'.repeat(65)], /--role-name: .* is 65 characters long/);
  await rejects(['--description', 'x'.repeat(1001)], /--description: IAM allows at most 1000 characters/);
  await rejects(['--subject-pattern', 'system:serviceaccount:other:*'], /--subject-pattern: .*does not match this ServiceAccount's subject/);
  // The same rules as irsa.yaml (core/fields.ts), on the flag that cannot be combined.
  await rejects(['--attach-role-arn', 'arn:aws:iam::111122223333:role/x', '--role-name', 'y'], /--role-name: cannot be combined with --attach-role-arn: that binding only adds the ServiceAccount to the existing role's trust policy/);
  await rejects(['--role-only', '--create-namespace'], /--create-namespace: cannot be combined with --role-only: it skips Kubernetes entirely/);
  const { options } = await parseCommandLine(['create-sa-role', '-n', 'payments', '--name', 'api']);
  assert.throws(() => parseBindingOptions(options), /--cluster is required/);
  const several = await parseCommandLine(['create-sa-role', '--cluster', 'prod', '-n', 'Payments-', '--name', 'API']);
  assert.throws(() => parseBindingOptions(several.options), (error: unknown) => error instanceof Error && /--namespace: "Payments-"/.test(error.message) && /--name: "API"/.test(error.message));
});
