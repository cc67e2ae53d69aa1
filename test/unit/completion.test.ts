// Completion scripts are generated from the command table: every command and flag is in each,
// and the bash one really completes (run in bash with the variables bash sets).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/commands/registry.ts';
import { completionScript, SHELLS } from '../../src/ui/completion.ts';

test('every command and every long flag is in each shell\'s script', () => {
  for (const shell of SHELLS) {
    const script = completionScript(shell, COMMANDS, GLOBAL_OPTIONS);
    for (const command of COMMANDS) assert.ok(script.includes(command.name), `${shell}: ${command.name}`);
    for (const option of [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)]) {
      const long = option.flags.split(/[ ,]+/).find((w) => w.startsWith('--'))!;
      const spelled = shell === 'fish' ? `-l ${long.slice(2)}` : long;
      assert.ok(script.includes(spelled), `${shell}: ${long}`);
    }
  }
});

test('bash: completes commands, a command\'s flags, choices and files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-completion-'));
  const script = join(dir, 'irsa.bash');
  writeFileSync(script, completionScript('bash', COMMANDS, GLOBAL_OPTIONS));
  writeFileSync(join(dir, 'irsa.yaml'), '');
  const complete = (...words: string[]) =>
    execFileSync('bash', ['-c', `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _irsa; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', script, ...words], { cwd: dir, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  assert.deepEqual(complete('irsa', 'pl'), ['plan']);
  assert.ok(complete('irsa', 'plan', '--con').includes('--concurrency'));
  assert.ok(complete('irsa', 'plan', '--re').includes('--region'), 'global options after the command');
  assert.ok(!complete('irsa', 'plan', '--').includes('--role-name'), 'another command\'s flags are not offered');
  assert.deepEqual(complete('irsa', 'list', '-o', ''), ['text', 'json', 'yaml']);
  assert.deepEqual(complete('irsa', 'plan', '-f', 'irsa.y'), ['irsa.yaml']);
  assert.deepEqual(complete('irsa', '--region', 'eu-west-1', 'doc'), ['doctor']);
});

test('zsh and fish scripts are well-formed where those shells are installed', (t) => {
  for (const shell of ['zsh', 'fish'] as const) {
    let installed = true;
    try {
      execFileSync(shell, ['--version'], { stdio: 'ignore' });
    } catch {
      installed = false;
    }
    const script = completionScript(shell, COMMANDS, GLOBAL_OPTIONS);
    if (shell === 'zsh') assert.match(script, /^#compdef irsa$/m);
    else assert.match(script, /^complete -c irsa -f$/m);
    if (!installed) {
      t.diagnostic(`${shell} is not installed: checked the script's text only`);
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), 'irsa-completion-'));
    writeFileSync(join(dir, `irsa.${shell}`), script);
    execFileSync(shell, ['-n', join(dir, `irsa.${shell}`)]);
  }
});
