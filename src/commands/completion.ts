// irsa completion bash|zsh|fish: print a completion script made from the command table.

import { UserError } from '../core/errors.ts';
import { completionScript, SHELLS, type Shell } from '../ui/completion.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { COMMANDS, GLOBAL_OPTIONS } from './registry.ts';

export async function run(options: Record<string, unknown>, args: string[], output?: Output): Promise<number> {
  const shell = args[0];
  if (!SHELLS.includes(shell as Shell)) {
    throw new UserError(`completion: give the shell, one of ${SHELLS.join(', ')} (e.g. irsa completion bash > ~/.local/share/bash-completion/completions/irsa).`, 'shell');
  }
  (output ?? createOutput(options)).out(completionScript(shell as Shell, COMMANDS, GLOBAL_OPTIONS));
  return 0;
}
