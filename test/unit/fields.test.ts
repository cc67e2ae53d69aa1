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
