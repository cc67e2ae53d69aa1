import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkField, clusterLabel, validateBinding, validateBindings, type BindingInput } from '../../src/core/binding-input.ts';
import { defaultRoleName } from '../../src/core/names.ts';
import { configTerms, FLAG_TERMS } from '../../src/core/terms.ts';
import { parseBindingOptions, renderProblem } from '../../src/commands/binding-options.ts';
import { parseConfig } from '../../src/config/load.ts';
import { ValidationErrors } from '../../src/core/errors.ts';

const valid: BindingInput = { cluster: 'prod', namespace: 'payments', name: 'api' };
const problemsOf = (input: BindingInput) => validateBinding({ ...valid, ...input }, FLAG_TERMS).problems;

test('DNS-1123 label edges for namespaces: ending or starting with "-", uppercase, dots and 64 characters are refused', () => {
  for (const bad of ['payments-', '-payments', 'Payments', 'pay.ments', 'a'.repeat(64), 'pay_ments', '']) {
    assert.notEqual(checkField('namespace', bad, FLAG_TERMS), null, `namespace ${JSON.stringify(bad)} must be refused`);
  }
  for (const good of ['a', '0', 'a-b', 'a'.repeat(63), '1-2-3']) {
    assert.equal(checkField('namespace', good, FLAG_TERMS), null, `namespace ${JSON.stringify(good)} must be accepted`);
  }
});

test('DNS-1123 subdomain edges for ServiceAccount names: dots allowed inside, not at the ends; 253 characters at most', () => {
  for (const bad of ['api-', '-api', 'api.', '.api', 'a..b', 'API', 'a'.repeat(254), 'a_b']) {
    assert.notEqual(checkField('name', bad, FLAG_TERMS), null, `name ${JSON.stringify(bad)} must be refused`);
  }
  for (const good of ['api', 'api.v1', 'a-b.c-d', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`]) {
    assert.equal(checkField('name', good, FLAG_TERMS), null, `name of ${good.length} characters must be accepted`);
  }
});

test('problems carry a field path; flags and irsa.yaml name the same field in their own terms', () => {
  const [problem] = problemsOf({ namespace: 'payments-' });
  assert.deepEqual(problem!.path, { field: 'namespace' });
  assert.match(renderProblem(problem!), /^--namespace: "payments-" is not a valid Kubernetes namespace/);
  const inFile = validateBindings([valid, { ...valid, name: 'b', policyArns: ['arn:aws:iam::aws:policy/A', 'S3ReadOnly'] }], configTerms('irsa.yaml'));
  assert.deepEqual(inFile.problems[0]!.path, { field: 'policyArns', binding: 1, item: 1 });
  assert.equal(configTerms('irsa.yaml').name(inFile.problems[0]!.path), 'bindings[1].managedPolicies[1]');
  assert.equal(FLAG_TERMS.name(inFile.problems[0]!.path), '--attach-policy-arn');
});

test('the flag entry point and the irsa.yaml entry point reject the same bad value, each naming its own field', () => {
  assert.throws(() => parseBindingOptions({ cluster: 'prod', namespace: 'team-', name: 'api' }), /--namespace: "team-" is not a valid Kubernetes namespace/);
  assert.throws(
    () => parseConfig('cluster: { name: prod }\nbindings:\n  - { namespace: team-, name: api }\n', 'irsa.yaml', () => ''),
    (error: unknown) => error instanceof ValidationErrors && /^irsa\.yaml:3:18: bindings\[0\]\.namespace: "team-" is not a valid Kubernetes namespace/.test(error.problems[0]!),
  );
});

test('a subject pattern must match its own ServiceAccount (validator, before any read)', () => {
  const [problem] = problemsOf({ subjectPattern: 'system:serviceaccount:other:*' });
  assert.deepEqual(problem!.path, { field: 'subjectPattern' });
  assert.match(problem!.message, /does not match this ServiceAccount's subject system:serviceaccount:payments:api/);
  assert.deepEqual(problemsOf({ subjectPattern: 'system:serviceaccount:payments:*' }), []);
  assert.match(problemsOf({ subjectPattern: 'payments:*' })[0]!.message, /not a ServiceAccount subject pattern.*system:serviceaccount:payments:\*/);
});

test('numbers from flags and from irsa.yaml go through the same range check', () => {
  assert.match(problemsOf({ maxSessionDuration: '3599' })[0]!.message, /whole number of seconds from 3600 to 43200/);
  assert.match(problemsOf({ maxSessionDuration: 1.5 })[0]!.message, /whole number/);
  assert.equal(validateBinding({ ...valid, maxSessionDuration: '7200' }, FLAG_TERMS).request!.maxSessionDuration, 7200);
  assert.match(problemsOf({ trustPolicySizeLimit: 9000 })[0]!.message, /from 2048 to 8192/);
});

test('the default role name with --issuer-url is derived from the issuer host, for create and delete alike', () => {
  assert.equal(clusterLabel(undefined, 'https://oidc.example.com:8443/path'), 'oidc-example-com');
  assert.equal(clusterLabel('prod', 'https://x.example.com'), 'prod');
  const request = validateBinding({ issuerUrl: 'https://oidc.example.com', namespace: 'payments', name: 'api' }, FLAG_TERMS).request!;
  assert.equal(request.roleName, defaultRoleName(clusterLabel(undefined, 'https://oidc.example.com'), 'payments', 'api'));
  assert.equal(request.roleName, 'irsa-oidc-example-com-payments-api');
});

test('bindings that share a role must agree on inline policies too', () => {
  const policy = (action: string) => ({ text: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] }), source: 'policy' });
  const result = validateBindings(
    [
      { ...valid, roleName: 'shared', inlinePolicies: { p: policy('s3:GetObject') } },
      { ...valid, name: 'worker', roleName: 'shared', inlinePolicies: { p: policy('s3:PutObject') } },
    ],
    configTerms('irsa.yaml'),
  );
  assert.deepEqual(result.problems.map((p) => p.path), [{ field: 'inlinePolicies', binding: 1, item: 'p' }]);
  assert.match(result.problems[0]!.message, /defines inline policy "p" differently/);
  assert.deepEqual(result.requests, []);
});

test('boundaries found by mutation testing: limits are inclusive, patterns are anchored, the cluster name is checked', () => {
  assert.deepEqual(problemsOf({ description: 'x'.repeat(1000) }), []);
  assert.match(problemsOf({ description: 'x'.repeat(1001) })[0]!.message, /at most 1000 characters/);
  for (const ok of ['3600', '43200']) assert.deepEqual(problemsOf({ maxSessionDuration: ok }), [], ok);
  for (const bad of ['3599', '43201', true]) assert.equal(problemsOf({ maxSessionDuration: bad }).length, 1, String(bad));
  for (const bad of ['x-system:serviceaccount:payments:api', 'system:serviceaccount:payments:api:extra', 'system:serviceaccount:payments:']) {
    assert.match(problemsOf({ subjectPattern: bad })[0]?.message ?? '', /not a ServiceAccount subject pattern/, bad);
  }
  assert.deepEqual(problemsOf({ subjectPattern: 'system:serviceaccount:payments:a' }), [{ path: { field: 'subjectPattern' }, message: `"system:serviceaccount:payments:a" does not match this ServiceAccount's subject system:serviceaccount:payments:api, so the role would not trust it. Use a pattern such as system:serviceaccount:payments:*.` }]);
  assert.match(problemsOf({ cluster: 'bad name' })[0]!.message, /not a valid EKS cluster name/);
  assert.deepEqual(problemsOf({ cluster: 'bad name' })[0]!.path, { field: 'cluster' });
});
