import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load.ts';
import { ValidationErrors, UserError } from '../../src/core/errors.ts';

const noFiles = (path: string): string => {
  throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
};
const errorsOf = (source: string, read = noFiles): string[] => {
  try {
    parseConfig(source, 'irsa.yaml', read);
  } catch (error) {
    if (error instanceof ValidationErrors) return error.problems;
    if (error instanceof UserError) return [error.message];
    throw error;
  }
  assert.fail('expected validation errors');
};

const valid = `
version: 1
cluster:
  name: prod
  region: eu-west-1
bindings:
  - namespace: payments
    name: api
    managedPolicies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess]
    inlinePolicies:
      orders:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Action: "s3:PutObject", Resource: "arn:aws:s3:::orders/*" }]
      queue: { file: queue.json }
    tags: { team: payments }
    restart: true
  - namespace: payments
    name: worker
    roleName: payments-shared
  - namespace: batch
    name: job
    roleName: payments-shared
    roleOnly: true
`;

test('a valid file becomes binding requests with defaults filled in and policy files read', () => {
  const config = parseConfig(valid, 'irsa.yaml', (path) => {
    assert.equal(path, 'queue.json');
    return '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}';
  });
  assert.equal(config.cluster.name, 'prod');
  assert.equal(config.manageOidcProvider, true);
  assert.equal(config.bindings.length, 3);
  const [api, worker, job] = config.bindings;
  assert.equal(api!.roleName, 'irsa-prod-payments-api');
  assert.deepEqual(Object.keys(api!.inlinePolicies), ['orders', 'queue']);
  assert.equal(api!.restartWorkloads, true);
  assert.equal(worker!.roleName, 'payments-shared');
  assert.equal(job!.roleOnly, true);
});

test('bad YAML is reported with file, line and column', () => {
  const problems = errorsOf('cluster:\n  name: prod\n bindings: [\n');
  assert.match(problems[0]!, /^irsa\.yaml:\d+:\d+: /);
});

test('an unknown field names the field, its location and what is allowed', () => {
  const problems = errorsOf('cluster: { name: prod }\nbindings:\n  - namespace: a\n    name: b\n    managedPolicy: [x]\n');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^irsa\.yaml:5:5: bindings\[0\]\.managedPolicy: unknown field "managedPolicy" \(allowed: .*managedPolicies/);
});

test('a wrong type names the field and the expected type', () => {
  const problems = errorsOf('cluster: { name: prod }\nbindings:\n  - namespace: a\n    name: b\n    restart: "yes"\n');
  assert.match(problems[0]!, /^irsa\.yaml:5:14: bindings\[0\]\.restart: must be boolean/);
});

test('a duplicate binding is located at its second occurrence', () => {
  const problems = errorsOf('cluster: { name: prod }\nbindings:\n  - { namespace: a, name: b }\n  - { namespace: a, name: b }\n');
  assert.match(problems[0]!, /^irsa\.yaml:4:27: bindings\[1\]\.name: duplicate binding: a\/b is already bound by bindings\[0\]/);
});

test('invalid names and ARNs are reported, all at once', () => {
  const problems = errorsOf(
    'cluster: { name: prod }\nbindings:\n  - namespace: Payments\n    name: api_1\n    roleName: "bad/name"\n    managedPolicies: [S3ReadOnly]\n',
  );
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems[0]!, /irsa\.yaml:3:16: bindings\[0\]\.namespace: "Payments" is not a valid Kubernetes namespace/);
  assert.match(problems[1]!, /irsa\.yaml:4:11: bindings\[0\]\.name: "api_1" is not a valid ServiceAccount name/);
  assert.match(problems[2]!, /irsa\.yaml:5:15: bindings\[0\]\.roleName: .*characters IAM does not allow/);
  assert.match(problems[3]!, /irsa\.yaml:6:23: bindings\[0\]\.managedPolicies\[0\]: "S3ReadOnly" is not an IAM policy ARN/);
});

test('a missing required field and a missing policy file are named', () => {
  assert.match(errorsOf('cluster: { name: prod }\nbindings:\n  - namespace: a\n')[0]!, /bindings\[0\]: missing required field "name"/);
  assert.match(
    errorsOf('cluster: { name: prod }\nbindings:\n  - namespace: a\n    name: b\n    inlinePolicies: { p: { file: nope.json } }\n')[0]!,
    /bindings\[0\]\.inlinePolicies\.p: cannot read policy file "nope\.json" \(ENOENT\)/,
  );
});

test('bindings that share a role must agree on its settings', () => {
  const problems = errorsOf(
    'cluster: { name: prod }\nbindings:\n  - { namespace: a, name: b, roleName: shared, maxSessionDuration: 3600 }\n  - { namespace: a, name: c, roleName: shared, maxSessionDuration: 7200 }\n',
  );
  assert.match(problems[0]!, /bindings\[1\]\.maxSessionDuration: role "shared" is shared with bindings\[0\]/);
});
