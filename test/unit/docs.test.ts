import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/commands/registry.ts';
import { docPath, expectedDoc } from '../../scripts/docs.ts';

test('every command has a page in docs/commands whose option table matches the command table', () => {
  for (const command of COMMANDS) {
    const current = readFileSync(docPath(command.name), 'utf8');
    assert.equal(current, expectedDoc(current, command.options), `docs/commands/${command.name}.md is stale: run node scripts/docs.ts`);
    for (const option of command.options) assert.ok(current.includes(option.flags), `${command.name}: ${option.flags} is not documented`);
  }
  const globals = readFileSync(docPath('global-options'), 'utf8');
  for (const option of GLOBAL_OPTIONS) assert.ok(globals.includes(option.flags), `global ${option.flags} is not documented`);
});

test('option tables say "repeatable" once per option', () => {
  for (const command of COMMANDS) {
    const current = readFileSync(docPath(command.name), 'utf8');
    assert.doesNotMatch(current, /repeatable[^\n|]*repeatable/, `docs/commands/${command.name}.md`);
    assert.doesNotMatch(current, /default: `"/, `docs/commands/${command.name}.md: a default shown as a quoted string`);
  }
});

test('docs/config.md lists every irsa.yaml field and docs/irsa.schema.json is the schema irsa validates with', async () => {
  const { expectedConfigDoc, expectedSchemaFile } = await import('../../scripts/docs.ts');
  const config = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(config, expectedConfigDoc(config), 'docs/config.md is stale: run node scripts/docs.ts');
  assert.equal(readFileSync(new URL('../../docs/irsa.schema.json', import.meta.url), 'utf8'), expectedSchemaFile(), 'docs/irsa.schema.json is stale');
  for (const field of ['iam.profile', 'bindings[].attachRoleArn', 'namespaces.create', 'iam.maxTrustPolicySize']) assert.ok(config.includes(`\`${field}\``), field);
});
