// Issue 25's rules in pure code: reserved tags, audiences, wide subject patterns, conflicting
// flags, capped error lists with correct plurals, and the saved plan's digest and target checks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateBinding, type BindingInput } from '../../src/core/binding-input.ts';
import { FLAG_TERMS, configTerms } from '../../src/core/terms.ts';
import { assertFlagsGoTogether, givenFlags } from '../../src/commands/conflicts.ts';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/commands/registry.ts';
import { ValidationErrors, UserError } from '../../src/core/errors.ts';
import { errorToJson, formatError } from '../../src/ui/errors.ts';
import { assertDigest, assertSameAccount, assertSameCluster, canonicalJson, savedPlanDigest, type SavedPlan } from '../../src/core/saved-plan.ts';
import { addWidenings } from '../../src/core/wide-subjects.ts';
import { emptyPlan } from '../../src/core/plan.ts';
import type { BindingRequest } from '../../src/core/binding.ts';
import { renderPlanText } from '../../src/ui/render.ts';

const valid: BindingInput = { cluster: 'prod', namespace: 'payments', name: 'api' };
const problems = (input: BindingInput, terms = FLAG_TERMS) => validateBinding({ ...valid, ...input }, terms).problems.map((p) => `${terms.name(p.path)}: ${p.message}`);

test('audiences: empty, with spaces or over 255 characters are refused naming --audience; ordinary ones pass', () => {
  assert.match(problems({ audience: '' }).join('\n'), /^--audience: is empty/);
  assert.match(problems({ audience: 'a b' }).join('\n'), /^--audience: "a b" is not an audience/);
  assert.match(problems({ audience: 'x'.repeat(256) }).join('\n'), /--audience: .* 1–255 characters/);
  assert.deepEqual(problems({ audience: 'sts.amazonaws.com' }), []);
  assert.deepEqual(problems({ audience: 'https://vault.example.com' }), []);
});

test('a subject pattern over several namespaces needs --allow-wide-subjects / allowWideSubjects; one namespace does not', () => {
  for (const pattern of ['system:serviceaccount:*:*', 'system:serviceaccount:pay*:api', 'system:serviceaccount:?ayments:*']) {
    const flags = problems({ subjectPattern: pattern });
    assert.equal(flags.length, 1, pattern);
    assert.match(flags[0]!, /^--subject-pattern: .* admits ServiceAccounts of several namespaces .* pass --allow-wide-subjects as well\.$/);
    assert.deepEqual(problems({ subjectPattern: pattern, allowWideSubjects: true }), [], pattern);
  }
  const file = validateBinding({ ...valid, subjectPattern: 'system:serviceaccount:*:*' }, configTerms('irsa.yaml'), 0).problems;
  assert.match(file[0]!.message, /set bindings\[0\]\.allowWideSubjects: true in irsa\.yaml/);
  assert.deepEqual(problems({ subjectPattern: 'system:serviceaccount:payments:*' }), []);
});

test('an allowed wide pattern is a widening in the plan, in red, with the ServiceAccounts it admits today', () => {
  const plan = emptyPlan();
  const request = { roleName: 'wide', subjectPattern: 'system:serviceaccount:*:api', roleOnly: false } as BindingRequest;
  const sas = [
    { namespace: 'a', name: 'api', annotations: {}, labels: {} },
    { namespace: 'b', name: 'api', annotations: {}, labels: {} },
    { namespace: 'b', name: 'web', annotations: {}, labels: {} },
  ];
  addWidenings(plan, [request, { ...request, roleName: 'narrow', subjectPattern: 'system:serviceaccount:a:*' }], sas);
  assert.equal(plan.widenings?.length, 1);
  assert.match(plan.widenings![0]!, /role wide trusts system:serviceaccount:\*:api .* it admits 2 ServiceAccounts in 2 namespaces today/);
  const text = renderPlanText(plan, { color: true });
  assert.match(text, /\x1b\[31mWidening: role wide/);
  const unknown = emptyPlan();
  addWidenings(unknown, [request], null);
  assert.match(unknown.widenings![0]!, /unknown \(the cluster was not read\)/);
});

test('flags that cannot go together are refused as typed, naming both', () => {
  const spec = (name: string) => [...COMMANDS.find((c) => c.name === name)!.options, ...GLOBAL_OPTIONS];
  const refused = (command: string, argv: string[]) => {
    try {
      assertFlagsGoTogether(command, argv, spec(command));
      return '';
    } catch (error) {
      assert.ok(error instanceof UserError, String(error));
      return error.message;
    }
  };
  assert.match(refused('create-sa-role', ['--thumbprint', 'ab', '--no-thumbprint']), /^--no-thumbprint cannot be combined with --thumbprint/);
  assert.match(refused('associate-oidc', ['--no-thumbprint', '--thumbprint=ab']), /^--no-thumbprint cannot be combined with --thumbprint/);
  assert.match(refused('create-sa-role', ['--attach-role-arn', 'arn:aws:iam::1:role/x', '--path', '/a/']), /--attach-role-arn cannot be combined with --path/);
  assert.match(refused('create-sa-role', ['--role-only', '--token-expiration', '900']), /--role-only cannot be combined with --token-expiration/);
  assert.match(refused('create-sa-role', ['--inline-policy-name', 'x']), /--inline-policy-name needs --inline-policy/);
  assert.match(refused('create-sa-role', ['--allow-wide-subjects']), /--allow-wide-subjects needs --subject-pattern/);
  assert.match(refused('plan', ['-f', 'x', '--overwrite']), /--overwrite needs --out/);
  assert.match(refused('audit', ['--iam', '-n', 'x']), /--iam cannot be combined with --namespace/);
  assert.match(refused('apply', ['x.json', '--expect-digest', 'sha256:00', '-f', 'y']), /--expect-digest cannot be combined with --file/);
  assert.equal(refused('create-sa-role', ['--cluster', 'c', '-n', 'x', '--name', 'y', '--thumbprint', 'ab']), '');
  // The defaults commander fills in (--path /) are not "given".
  assert.deepEqual([...givenFlags(['-n', 'x', '-o', 'json'], spec('create-sa-role'))], ['--namespace', '--output']);
});

test('error lists: correct plurals, capped at 20 on screen with "and N more"; JSON carries all', () => {
  assert.match(formatError(new ValidationErrors(['one'])).message, /^Error: 1 problem found:\n  - one$/);
  const many = new ValidationErrors(Array.from({ length: 5001 }, (_, i) => `p${i}`));
  const text = formatError(many).message;
  assert.equal(text.split('\n').length, 1 + 20 + 1);
  assert.match(text, /^Error: 5001 problems found:/);
  assert.match(text, /… and 4981 more \(--output json lists every one\)$/);
  assert.equal(errorToJson(many).error.problems.length, 5001);
  // An unexpected error asks for a report; its stack trace only with --debug.
  const bug = formatError(new TypeError('x is undefined'));
  assert.match(bug.message, /unexpected error \(TypeError: x is undefined\)/);
  assert.doesNotMatch(bug.message, /\n\s+at /);
  assert.match(formatError(new TypeError('x'), { debug: true }).message, /\n\s+at /);
});

test('saved plan digest: canonical (key order and whitespace do not count), every field counts', () => {
  const a = JSON.stringify({ kind: 'irsa-saved-plan', b: [1, { y: 2, x: 1 }], a: 'x' }, null, 2);
  const b = JSON.stringify({ a: 'x', b: [1, { x: 1, y: 2 }], kind: 'irsa-saved-plan' });
  assert.equal(savedPlanDigest(a), savedPlanDigest(b));
  assert.match(savedPlanDigest(a), /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(savedPlanDigest(a), savedPlanDigest(b.replace('"x"', '"z"')));
  assert.equal(canonicalJson({ b: 1, a: [undefined, null] }), '{"a":[null,null],"b":1}');
  assert.equal(assertDigest(a, 'p.json', savedPlanDigest(b)), savedPlanDigest(a));
  assert.equal(assertDigest(a, 'p.json', savedPlanDigest(b).slice('sha256:'.length).toUpperCase()), savedPlanDigest(a));
  assert.throws(() => assertDigest(a, 'p.json', `sha256:${'0'.repeat(64)}`), /--expect-digest: p\.json has digest sha256:[0-9a-f]{64}, not the reviewed sha256:0{64}: the file was changed after review/);
  assert.throws(() => assertDigest(a, 'p.json', 'abc'), /--expect-digest: "abc" is not a digest/);
});

test('saved plan target: another account or another cluster is refused with a message that says exactly that', () => {
  const saved = { config: { cluster: { name: 'prod' } }, target: { account: '123456789012', region: 'eu-west-1', issuerUrl: 'https://oidc.example/id/A' } } as unknown as SavedPlan;
  assert.doesNotThrow(() => assertSameAccount(saved, 'plan.json', '123456789012', '--profile x'));
  assert.throws(() => assertSameAccount(saved, 'plan.json', '222222222222', '--profile other'), /^UserError: plan\.json was made in account 123456789012, but the credentials in use \(--profile other\) are for account 222222222222; nothing was applied/);
  assert.throws(() => assertSameCluster(saved, 'plan.json', { issuerUrl: 'https://oidc.example/id/B', region: 'eu-west-1' }), /made for cluster "prod" with OIDC issuer https:\/\/oidc\.example\/id\/A, but cluster "prod" now has issuer https:\/\/oidc\.example\/id\/B: another cluster/);
  assert.throws(() => assertSameCluster(saved, 'plan.json', { issuerUrl: 'https://oidc.example/id/A', region: 'us-east-1' }), /in region eu-west-1, but this run is in region us-east-1/);
  assert.doesNotThrow(() => assertSameCluster(saved, 'plan.json', { issuerUrl: 'https://oidc.example/id/A/', region: 'eu-west-1' }));
});
