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
