// The irsa entry point: builds commander from the command table, loads command code lazily,
// makes the one output object every presenter writes through, and is the one place where errors
// become messages and exit codes.

import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './commands/registry.ts';
import { packageVersion } from './commands/version.ts';
import { createOutput, type Output } from './ui/output.ts';

const collect = (value: string, previous: string[] | undefined | false) => [...(Array.isArray(previous) ? previous : []), value];

function toOption(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.repeatable ? `${spec.description} (repeatable)` : spec.description);
  if (spec.choices) option.choices(spec.choices);
  if (spec.repeatable) option.argParser(collect);
  if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
  return option;
}

/**
 * Bare `irsa` (global options at most) in a terminal starts the wizard; elsewhere it prints help
 * as before. Only the command table is consulted here, so --help and --version load no SDK.
 */
export function withDefaultCommand(argv: string[], interactive: boolean): string[] {
  if (!interactive) return argv;
  const takesValue = new Set(GLOBAL_OPTIONS.filter((o) => o.flags.includes('<')).flatMap((o) => o.flags.split(/[ ,]+/).filter((f) => f.startsWith('-'))));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) return argv; // a command (or a stray word commander reports)
    if (['-h', '--help', '--version'].includes(arg)) return argv;
    if (takesValue.has(arg)) i++;
  }
  return [...argv, 'wizard'];
}

type OnCommand = (spec: CommandSpec, options: Record<string, unknown>, args: string[]) => Promise<void>;

/** The commander program for the command table; `onCommand` runs when a command was parsed. */
export function buildProgram(onCommand: OnCommand, write?: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command('irsa')
    .description('Set up AWS IAM Roles for Service Accounts (IRSA): plan first, apply with --approve.')
    .version(packageVersion(), '--version', 'print the irsa version')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run irsa --help for usage)')
    .exitOverride();
  if (write) program.configureOutput({ writeOut: write.out, writeErr: write.err });
  for (const spec of GLOBAL_OPTIONS) program.addOption(toOption(spec).helpGroup('Global options:'));

  for (const spec of COMMANDS) {
    const command = program.command(spec.name).summary(spec.summary).description(spec.description ?? spec.summary);
    // Usage errors name the command that was run, e.g. "run irsa plan --help".
    command.showHelpAfterError(`(run irsa ${spec.name} --help for usage)`);
    if (spec.arguments) command.arguments(spec.arguments);
    for (const option of spec.options) command.addOption(toOption(option));
    command.action(async (...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      await onCommand(spec, self.optsWithGlobals(), self.args);
    });
  }
  return program;
}

/** What commander makes of a command line, without running anything (tests of the option table). */
export async function parseCommandLine(argv: string[]): Promise<{ command: string; options: Record<string, unknown>; args: string[] }> {
  let parsed: { command: string; options: Record<string, unknown>; args: string[] } | undefined;
  const program = buildProgram(
    async (spec, options, args) => {
      parsed = { command: spec.name, options, args };
    },
    { out: () => {}, err: () => {} },
  );
  await program.parseAsync(argv, { from: 'user' });
  if (!parsed) throw new Error(`no command in ${argv.join(' ')}`);
  return parsed;
}

export async function main(argv: string[]): Promise<number> {
  argv = withDefaultCommand(argv, process.stdin.isTTY === true && process.stdout.isTTY === true);
  recordNoCallsAtExit();
  let exitCode = 0;
  let output: Output | undefined;
  // --debug before the command is parsed too (an error while parsing still honours it).
  let debug = argv.includes('--debug');
  const program = buildProgram(async (spec, options, args) => {
    output = createOutput(options);
    debug = options['debug'] === true;
    // Flags that cannot go together are refused as typed, before the command reads anything.
    const { assertFlagsGoTogether } = await import('./commands/conflicts.ts');
    assertFlagsGoTogether(spec.name, argv.slice(argv.indexOf(spec.name) + 1), [...spec.options, ...GLOBAL_OPTIONS]);
    const { run } = await spec.load();
    exitCode = await run(options, args, output);
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, output, debug);
  }
}

/**
 * Tests and the benchmark read the calls a run made from IRSA_STATS_FILE (commands/context.ts writes
 * it at exit). A run that failed before making any client made no call: say so, so that a missing
 * file means a broken counter, not "nothing was written".
 */
function recordNoCallsAtExit(): void {
  const statsFile = process.env['IRSA_STATS_FILE'];
  // Registered before any command context, so the context's own exit handler (with the counts) runs after it.
  if (statsFile) process.once('exit', () => writeFileSync(statsFile, JSON.stringify({ calls: {}, retries: 0 })));
}

async function reportError(error: unknown, output: Output | undefined, debug: boolean): Promise<number> {
  const commanderCode = (error as { code?: string }).code;
  if (commanderCode?.startsWith('commander.')) {
    // commander already printed help, the version, or the usage error.
    const code = (error as { exitCode?: number }).exitCode ?? 1;
    return commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version' ? 0 : code;
  }
  const { errorToJson, formatError } = await import('./ui/errors.ts');
  const { message, exitCode } = formatError(error, { debug });
  // --output json: the error as JSON on stdout (every problem), and the capped text on stderr.
  if (output?.format === 'json') output.json(errorToJson(error));
  (output?.err ?? ((text: string) => process.stderr.write(text)))(message + '\n');
  return exitCode;
}
