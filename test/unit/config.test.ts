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

test('an unknown field names the field, its location and the field it probably meant', () => {
  const problems = errorsOf('cluster: { name: prod }\nbindings:\n  - namespace: a\n    name: b\n    managedPolicy: [x]\n');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^irsa\.yaml:5:5: bindings\[0\]\.managedPolicy: unknown field "managedPolicy" \(did you mean "managedPolicies"\?\)$/);
  const far = errorsOf('cluster: { name: prod }\nbindings:\n  - namespace: a\n    name: b\n    zzz: 1\n');
  assert.match(far[0]!, /unknown field "zzz" \(allowed: namespace, name, /);
});

test('every problem at once — shape and meaning — in the order of the file', () => {
  const source = [
    'cluster: { name: prod, regoin: eu-west-1 }', // 1: unknown key
    'bindings:',
    '  - namespace: Bad_NS', // 3: semantic
    '    name: a',
    '    restart: "yes"', // 5: shape
    '  - namespace: ok',
    '    name: b',
    '    managedPolicies: [not-an-arn]', // 8: semantic
    '    roleNmae: x', // 9: unknown key
  ].join('\n');
  const problems = errorsOf(source);
  assert.deepEqual(problems.map((p) => p.split(':').slice(1, 3).join(':')), ['1:24', '3:16', '5:14', '8:23', '9:5'], problems.join('\n'));
  assert.match(problems[0]!, /cluster\.regoin: unknown field "regoin" \(did you mean "region"\?\)/);
  assert.match(problems[4]!, /did you mean "roleName"/);
});

test('wrong types everywhere are reported, never a crash', () => {
  const source = 'cluster: { name: prod }\nnamespaces: { create: payments }\noidcProvider: { thumbprints: 7 }\nbindings:\n  - namespace: a\n    name: b\n    managedPolicies: arn:aws:iam::aws:policy/X\n    tags: [a]\n    path: 3\n    permissionsBoundary: 4\n    attachRoleArn: 5\n    roleName: 6\n    inlinePolicies: 7\n    subjectPattern: 8\n';
  const problems = errorsOf(source);
  assert.equal(problems.length, 10, problems.join('\n'));
  for (const problem of problems) assert.match(problem, /^irsa\.yaml:\d+:\d+: /);
});

test('a region that is not an AWS region name is located', () => {
  assert.match(errorsOf('cluster: { name: prod, region: mars-1 }\nbindings: []\n')[0]!, /^irsa\.yaml:1:32: cluster\.region: is not an AWS region name/);
});

test('namespaces to create are declared once and apply to every binding of the namespace', () => {
  const config = parseConfig('cluster: { name: prod }\nnamespaces: { create: [payments] }\nbindings:\n  - { namespace: payments, name: a }\n  - { namespace: payments, name: b }\n  - { namespace: orders, name: c, createNamespace: true }\n  - { namespace: orders, name: d }\n  - { namespace: other, name: e }\n', 'irsa.yaml', noFiles);
  assert.deepEqual(config.bindings.map((b) => `${b.name}:${b.createNamespace}`), ['a:true', 'b:true', 'c:true', 'd:true', 'e:false']);
});

test('flag parity: attachRoleArn, iam.profile, iam.maxTrustPolicySize, thumbprints none, caBundle, token expiration, regional endpoints, subject pattern', () => {
  const config = parseConfig(
    [
      'cluster: { name: prod, region: eu-west-1, profile: cluster-account }',
      'iam: { profile: role-account, maxTrustPolicySize: 4096 }',
      'oidcProvider: { thumbprints: none, caBundle: certs/ca.pem }',
      'bindings:',
      '  - namespace: payments',
      '    name: api',
      '    attachRoleArn: arn:aws:iam::222222222222:role/team/existing',
      '  - namespace: payments',
      '    name: worker',
      '    tokenExpiration: 3600',
      '    stsRegionalEndpoints: true',
      '    subjectPattern: "system:serviceaccount:payments:*"',
    ].join('\n'),
    '/repo/irsa.yaml',
    noFiles,
  );
  assert.equal(config.iamProfile, 'role-account');
  assert.equal(config.cluster.profile, 'cluster-account');
  assert.equal(config.noThumbprint, true);
  assert.equal(config.caBundle, '/repo/certs/ca.pem');
  const [api, worker] = config.bindings;
  assert.equal(api!.attachRoleArn, 'arn:aws:iam::222222222222:role/team/existing');
  assert.equal(api!.roleName, 'existing');
  assert.equal(api!.rolePath, '/team/');
  assert.equal(api!.trustPolicySizeLimit, 4096);
  assert.equal(worker!.tokenExpiration, 3600);
  assert.equal(worker!.stsRegionalEndpoints, true);
  assert.equal(worker!.subjectPattern, 'system:serviceaccount:payments:*');
  const combined = errorsOf('cluster: { name: prod }\nbindings:\n  - namespace: a\n    name: b\n    attachRoleArn: arn:aws:iam::222222222222:role/x\n    managedPolicies: []\n');
  assert.match(combined[0]!, /^irsa\.yaml:6:5: bindings\[0\]\.managedPolicies: cannot be combined with attachRoleArn/);
});

test('every create-sa-role flag has an irsa.yaml key (or is not a binding option), and every key named exists in the schema', async () => {
  const { COMMANDS } = await import('../../src/commands/registry.ts');
  const { CONFIG_SCHEMA, FLAG_KEYS } = await import('../../src/config/schema.ts');
  const flags = COMMANDS.find((c) => c.name === 'create-sa-role')!.options.map((o) => o.flags.split(/[ ,]+/).find((w) => w.startsWith('--'))!);
  for (const flag of flags) assert.ok(flag in FLAG_KEYS, `${flag} has no irsa.yaml key in FLAG_KEYS`);
  const schemaHas = (path: string): boolean => {
    const parts = path.replace(/: .*$/, '').split('.');
    let node: any = parts.length === 1 ? CONFIG_SCHEMA.properties.bindings.items : CONFIG_SCHEMA;
    for (const part of parts) node = node?.properties?.[part];
    return node !== undefined;
  };
  for (const [flag, key] of Object.entries(FLAG_KEYS)) if (key) assert.ok(schemaHas(key), `${flag} → ${key} is not in the schema`);
});

test('planner messages written for flags are turned into irsa.yaml keys for plan/apply -f', async () => {
  const { inFileTerms } = await import('../../src/config/schema.ts');
  assert.equal(
    inFileTerms('--role-name: role "x" already exists and irsa did not create it (no irsa:managed-by tag). Pass --adopt to let irsa manage it, use --attach-role-arn arn:aws:iam::1:role/x to only add this ServiceAccount to its trust policy, or choose another --role-name.'),
    'roleName: role "x" already exists and irsa did not create it (no irsa:managed-by tag). set adopt: true in the file to let irsa manage it, set attachRoleArn in the file to only add this ServiceAccount to its trust policy, or choose another roleName.',
  );
  assert.match(inFileTerms('or pass --max-trust-policy-size if your quota is higher'), /set iam\.maxTrustPolicySize in the file/);
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
