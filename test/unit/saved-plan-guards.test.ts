// The guards `irsa apply <saved plan>` runs before it reads anything: each refuses with a UserError
// naming the field. (test/integration/command-shell.test.ts checks the same with aws CLI/kubectl.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runApplyCommand } from '../../src/commands/declarative.ts';
import { UserError } from '../../src/core/errors.ts';
import { emptyPlan } from '../../src/core/plan.ts';
import { toSavedPlan } from '../../src/core/saved-plan.ts';

const dir = mkdtempSync(join(tmpdir(), 'irsa-guards-'));
const savedFile = (prune: boolean) => {
  const file = join(dir, `plan-${prune}.json`);
  const config = { file: 'irsa.yaml', cluster: { name: 'prod', region: 'eu-west-1' }, manageOidcProvider: true, thumbprints: [], bindings: [] };
  writeFileSync(file, JSON.stringify(toSavedPlan(emptyPlan(), { config, prune, irsaVersion: '0', now: new Date(0) })));
  return file;
};
const refused = (pattern: RegExp) => (error: unknown) => error instanceof UserError && pattern.test(error.message);

test('a saved plan made without --prune is refused with --prune, and one made with it without it', async () => {
  await assert.rejects(runApplyCommand({ prune: true, approve: true }, [savedFile(false)]), refused(/^--prune: the saved plan was made without --prune/));
  await assert.rejects(runApplyCommand({ prune: false, approve: true }, [savedFile(true)]), refused(/^--prune: the saved plan was made with --prune/));
});

test('-f together with a plan file, no input at all, an unreadable or foreign plan file are refused', async () => {
  await assert.rejects(runApplyCommand({ file: 'irsa.yaml', approve: true }, [savedFile(false)]), refused(/either -f irsa\.yaml or a saved plan file, not both/));
  await assert.rejects(runApplyCommand({ approve: true }, []), refused(/Give -f irsa\.yaml, or the plan file/));
  await assert.rejects(runApplyCommand({ approve: true }, [join(dir, 'missing.json')]), refused(/cannot read plan file .*ENOENT/));
  const foreign = join(dir, 'foreign.json');
  writeFileSync(foreign, '{"kind":"other"}');
  await assert.rejects(runApplyCommand({ approve: true }, [foreign]), refused(/not an irsa saved plan/));
});
