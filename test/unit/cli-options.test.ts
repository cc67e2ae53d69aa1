// The option table as commander parses it: every --no-* flag, help text, usage errors, and the
// guards that keep irsa from writing over the user's files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, parseCommandLine } from '../../src/cli.ts';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/commands/registry.ts';
import { parseThumbprintOptions } from '../../src/engine/oidc.ts';
import { createOutput } from '../../src/ui/output.ts';
import { parseSavedPlan } from '../../src/core/saved-plan.ts';
import { assertWritableOut } from '../../src/commands/out-file.ts';
import { looksLikeSavedPlan } from '../../src/core/saved-plan.ts';
import { UserError } from '../../src/core/errors.ts';
import { nodeTooOld } from '../../bin/node-version.js';

const HEX_A = 'a'.repeat(40);
const target = ['--cluster', 'prod', '-n', 'ns', '--name', 'api'];

/** Every --no-* flag and the test below that covers it; a new one without a test fails here. */
const NO_FLAGS_TESTED = new Set(['--no-thumbprint', '--no-create-oidc', '--no-color']);

test('every --no-* flag in the command table has a test', () => {
  const flags = [...GLOBAL_OPTIONS, ...COMMANDS.flatMap((c) => c.options)].map((o) => o.flags.split(' ')[0]!).filter((f) => f.startsWith('--no-'));
  for (const flag of new Set(flags)) assert.ok(NO_FLAGS_TESTED.has(flag), `${flag} has no test in cli-options.test.ts`);
});

test('--no-thumbprint: associate-oidc and create-sa-role get "none", not a crash', async () => {
  for (const argv of [['associate-oidc', '--cluster', 'prod', '--no-thumbprint'], ['create-sa-role', ...target, '--no-thumbprint']]) {
    const { options } = await parseCommandLine(argv);
    assert.deepEqual(parseThumbprintOptions(options), { given: [], none: true }, argv.join(' '));
  }
  const given = await parseCommandLine(['associate-oidc', '--cluster', 'prod', '--thumbprint', HEX_A, '--thumbprint', HEX_A.toUpperCase()]);
  assert.deepEqual(parseThumbprintOptions(given.options), { given: [HEX_A], none: false });
  const neither = await parseCommandLine(['associate-oidc', '--cluster', 'prod']);
  assert.deepEqual(parseThumbprintOptions(neither.options), { given: [], none: false });
});

test('--no-create-oidc: createOidc is false only when given', async () => {
  assert.equal((await parseCommandLine(['create-sa-role', ...target, '--no-create-oidc'])).options['createOidc'], false);
  assert.equal((await parseCommandLine(['create-sa-role', ...target])).options['createOidc'], true);
});

test('--no-color: no colour even on a terminal; colour on a terminal without it; never with NO_COLOR', async () => {
  const tty = { write: () => true, isTTY: true };
  const streams = (env: Record<string, string>) => ({ stdout: tty, stderr: tty, env });
  const off = await parseCommandLine(['list', '--cluster', 'prod', '--no-color']);
  assert.equal(createOutput(off.options, streams({})).color, false);
  const on = await parseCommandLine(['list', '--cluster', 'prod']);
  assert.equal(createOutput(on.options, streams({})).color, true);
  assert.equal(createOutput(on.options, streams({ NO_COLOR: '1' })).color, false);
  assert.equal(createOutput(on.options, { stdout: { write: () => true }, stderr: tty, env: {} }).color, false, 'not a terminal');
});

async function runCapturing(argv: string[]): Promise<{ out: string; err: string; code: string | undefined }> {
  let out = '';
  let err = '';
  const program = buildProgram(async () => {}, { out: (s) => (out += s), err: (s) => (err += s) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { out, err, code: undefined };
  } catch (error) {
    return { out, err, code: (error as { code?: string }).code };
  }
}

test('subcommand --help shows the global options; defaults are shown as values, not strings', async () => {
  const help = await runCapturing(['plan', '--help']);
  assert.equal(help.code, 'commander.helpDisplayed');
  assert.match(help.out, /Global options:/i);
  assert.match(help.out, /--region <region>/);
  assert.match(help.out, /--concurrency <n>[^]*?\(default:\s+16\)/);
  assert.doesNotMatch(help.out, /"16"/);
});

test('repeatable options say so once', async () => {
  const help = await runCapturing(['create-sa-role', '--help']);
  assert.match(help.out, /--attach-policy-arn <arn>[\s\S]*?\(repeatable\)/);
  assert.doesNotMatch(help.out, /repeatable[^\n]*repeatable/);
});

test('an unknown option names the command that was run', async () => {
  const result = await runCapturing(['plan', '--bogus']);
  assert.equal(result.code, 'commander.unknownOption');
  assert.match(result.err, /run irsa plan --help/);
  assert.doesNotMatch(result.err, /irsa <command>/);
});

test('apply with an irsa.yaml instead of a saved plan suggests -f; no hint names the file as --out', () => {
  assert.throws(() => parseSavedPlan('cluster:\n  name: prod\nbindings: []\n', 'irsa.yaml'), (error: Error) => {
    assert.match(error.message, /irsa apply -f irsa\.yaml/);
    assert.doesNotMatch(error.message, /--out irsa\.yaml/);
    return true;
  });
  assert.throws(() => parseSavedPlan('{"a":1}', 'other.json'), (error: Error) => !error.message.includes('--out other.json'));
});

test('--out is never the input file, nor an existing file that is not a saved plan, unless --overwrite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-out-'));
  const config = join(dir, 'irsa.yaml');
  writeFileSync(config, 'cluster: { name: prod }\nbindings: []\n');
  const guard = (out: string, overwrite = false) =>
    assertWritableOut(out, { inputs: [config], overwrite, what: 'a saved plan', isOurs: looksLikeSavedPlan, suggestion: 'plan.json' });
  assert.throws(() => guard(config), (e: Error) => e instanceof UserError && /is the input file/.test(e.message));
  assert.throws(() => guard(join(dir, '.', 'irsa.yaml'), true), /is the input file/, 'even with --overwrite');
  const notes = join(dir, 'notes.txt');
  writeFileSync(notes, 'mine');
  assert.throws(() => guard(notes), /already exists and is not a saved plan/);
  guard(notes, true);
  const previous = join(dir, 'plan.json');
  writeFileSync(previous, JSON.stringify({ kind: 'irsa-saved-plan', version: 1 }));
  guard(previous);
  guard(join(dir, 'new.json'));
  assert.equal(readFileSync(notes, 'utf8'), 'mine');
});

test('the Node version check: older than package.json engines is refused', () => {
  assert.equal(nodeTooOld('20.20.2', '>=22.19'), true);
  assert.equal(nodeTooOld('v22.18.9', '>=22.19'), true);
  assert.equal(nodeTooOld('22.19.0', '>=22.19'), false);
  assert.equal(nodeTooOld('24.1.0', '>=22.19'), false);
  const engines = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).engines.node;
  assert.equal(nodeTooOld(process.versions.node, engines), false, 'the test runner itself is new enough');
});
