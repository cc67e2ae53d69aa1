// The shape of a command and its options as data (commands/registry.ts declares them, cli.ts builds
// commander from them, ui/completion.ts writes shell completions from them). Types only, outside the
// layers, so ui need not import commands/.

import type { Output } from './ui/output.ts';

export interface OptionSpec {
  flags: string;
  description: string;
  /** Collects repeated flags into a list. */
  repeatable?: boolean;
  defaultValue?: string | number | boolean | string[];
  choices?: string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  description?: string;
  arguments?: string;
  options: OptionSpec[];
  load: () => Promise<{ run: CommandRun }>;
}

export type CommandRun = (options: Record<string, unknown>, args: string[], output: Output) => Promise<number>;

