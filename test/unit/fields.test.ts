// The field table (core/fields.ts): every entry point names a field from it, and its cross-field
// rules hold for flags, irsa.yaml and the wizard alike.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateBinding } from '../../src/core/binding-input.ts';
import { EXCLUSION_RULES, FIELDS, WIZARD_TERMS, type BindingField } from '../../src/core/fields.ts';
import { configKey, configTerms, FLAG_TERMS } from '../../src/core/terms.ts';
import { bindingRequestFromAnswers, type WizardAnswers } from '../../src/core/wizard-answers.ts';

test('flag, irsa.yaml key and wizard question all come from the one row', () => {
  assert.equal(FLAG_TERMS.name({ field: 'rolePath' }), FIELDS.rolePath.flag);
  assert.equal(configKey({ field: 'rolePath', binding: 2 }), `bindings[2].${FIELDS.rolePath.yaml}`);
  assert.equal(configKey({ field: 'cluster', binding: 2 }), 'cluster.name');
  assert.equal(configKey({ field: 'prune' }), '--prune');
  assert.equal(WIZARD_TERMS.name({ field: 'roleName' }), FIELDS.roleName.question);
  for (const [field, spec] of Object.entries(FIELDS) as Array<[string, { flag: string | null; yaml: string | null }]>) assert.ok(spec.flag ?? spec.yaml, `${field} is reachable from some entry point`);
});

test('one exclusion rule, three entry points: each names the field in its own terms', () => {
  const input = { cluster: 'prod', namespace: 'payments', name: 'api', attachRoleArn: 'arn:aws:iam::111122223333:role/x', rolePath: '/team/', maxSessionDuration: 7200 };
  const byFlags = validateBinding(input, FLAG_TERMS).problems.map((p) => `${FLAG_TERMS.name(p.path)}: ${p.message}`);
  assert.deepEqual(byFlags.map((line) => line.split(':')[0]), ['--path', '--max-session-duration']);
  assert.match(byFlags[0]!, /cannot be combined with --attach-role-arn/);
  const yaml = configTerms('irsa.yaml');
  const byYaml = validateBinding(input, yaml, 0).problems.map((p) => `${yaml.name(p.path)}: ${p.message}`);
  assert.deepEqual(byYaml.map((line) => line.split(':')[0]), ['bindings[0].path', 'bindings[0].maxSessionDuration']);
  assert.match(byYaml[0]!, /cannot be combined with attachRoleArn/);
  // Every field a rule names is a row of the table (a typo would not compile, this keeps the data honest).
  for (const rule of EXCLUSION_RULES) for (const field of [rule.when, ...rule.excludes]) assert.ok(field in FIELDS, field as BindingField);
});

test('the wizard goes through validateBinding: a bad answer is refused naming the question', () => {
  const answers: WizardAnswers = {
    region: 'eu-west-1', cluster: 'prod', namespace: 'payments', createNamespace: false, serviceAccount: 'api', policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    inlinePolicy: null, roleName: 'a'.repeat(65), permissionsBoundary: null, adopt: false, overrideExistingServiceAccount: false, restartWorkloads: false,
  };
  assert.throws(() => bindingRequestFromAnswers(answers), /^UserError: the role name: .*65 characters/);
  assert.equal(bindingRequestFromAnswers({ ...answers, roleName: 'ok' }).roleName, 'ok');
});

test('a field the table handles alone lives in at most 3 src files: its row, its BindingRequest type, its user', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { VALUE_FIELDS } = await import('../../src/core/fields.ts');
  const root = new URL('../../src/', import.meta.url).pathname;
  const files = (readdirSync(root, { recursive: true }) as string[]).filter((file) => file.endsWith('.ts')).map((file) => [file, readFileSync(join(root, file), 'utf8')] as const);
  // Fields older than the table are used in more places (the role's description by IAM reads and re-checks, ...): these two show the claim.
  for (const field of ['stsRegionalEndpoints', 'tokenExpiration'] as const) {
    assert.ok((VALUE_FIELDS as string[]).includes(field), field);
    const naming = files.filter(([, text]) => new RegExp(`\\b${field}\\b`).test(text)).map(([file]) => file).sort();
    assert.deepEqual(naming, ['core/fields.ts', 'core/mechanisms/irsa.ts', 'core/model/binding.ts'], field);
  }
});

test('a field the table handles alone comes from the flag and the irsa.yaml key alike, checked the same way', async () => {
  const { parseBindingOptions } = await import('../../src/commands/binding-options.ts');
  const { parseConfig } = await import('../../src/config/load.ts');
  const fromFlags = parseBindingOptions({ cluster: 'prod', namespace: 'payments', name: 'api', stsRegionalEndpoints: true, tokenExpiration: '900', audience: 'sts.amazonaws.com' });
  const fromYaml = parseConfig('cluster:\n  name: prod\nbindings:\n  - namespace: payments\n    name: api\n    stsRegionalEndpoints: true\n    tokenExpiration: 900\n', 'irsa.yaml', () => '').bindings[0]!;
  for (const request of [fromFlags, fromYaml]) {
    assert.equal(request.stsRegionalEndpoints, true);
    assert.equal(request.tokenExpiration, 900);
  }
  assert.throws(() => parseBindingOptions({ cluster: 'prod', namespace: 'payments', name: 'api', tokenExpiration: '12' }), /^UserError: --token-expiration: "12" is not allowed/);
});

test('roleOnly refuses what only Kubernetes would use, from irsa.yaml as from the flags (was accepted by the file)', async () => {
  const { parseConfig } = await import('../../src/config/load.ts');
  const file = 'cluster:\n  name: prod\nbindings:\n  - namespace: payments\n    name: api\n    roleOnly: true\n    stsRegionalEndpoints: true\n    removeStaticKeys: true\n';
  assert.throws(() => parseConfig(file, 'irsa.yaml', () => ''), (error: Error & { problems?: string[] }) => {
    const text = (error.problems ?? [error.message]).join('\n');
    assert.match(text, /irsa\.yaml:7:5: bindings\[0\]\.stsRegionalEndpoints: cannot be combined with roleOnly: it skips Kubernetes entirely/);
    assert.match(text, /bindings\[0\]\.removeStaticKeys: cannot be combined with roleOnly/);
    return true;
  });
});

test('a field that needs another is refused alike from the flags and irsa.yaml (allowWideSubjects alone was accepted by the file)', async () => {
  const { parseConfig } = await import('../../src/config/load.ts');
  const { parseBindingOptions } = await import('../../src/commands/binding-options.ts');
  const file = (extra: string) => `cluster:\n  name: prod\nbindings:\n  - namespace: payments\n    name: api\n${extra}`;
  const problems = (text: string) => {
    try {
      parseConfig(text, 'irsa.yaml', () => '');
      return [];
    } catch (error) {
      return (error as { problems?: string[] }).problems ?? [(error as Error).message];
    }
  };
  assert.match(problems(file('    allowWideSubjects: true\n')).join('\n'), /irsa\.yaml:6:\d+: bindings\[0\]\.allowWideSubjects: needs bindings\[0\]\.subjectPattern: .*Give bindings\[0\]\.subjectPattern as well, or leave out bindings\[0\]\.allowWideSubjects\./);
  assert.match(problems(file('    deleteKeySecrets: true\n')).join('\n'), /bindings\[0\]\.deleteKeySecrets: needs bindings\[0\]\.removeStaticKeys: .*Set bindings\[0\]\.removeStaticKeys: true in irsa\.yaml/);
  assert.throws(() => parseBindingOptions({ cluster: 'prod', namespace: 'payments', name: 'api', deleteKeySecrets: true }), /--delete-key-secrets: needs --remove-static-keys: .*Pass --remove-static-keys/);
});
