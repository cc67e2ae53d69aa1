// Shell completion scripts for bash, zsh and fish, generated from the command table (so a new
// command or flag completes without anyone editing a script). Strings only.

import type { CommandSpec, OptionSpec } from '../command-spec.ts';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Flag {
  long: string;
  short: string | null;
  takesValue: boolean;
  repeatable: boolean;
  files: boolean;
  choices: string[];
  description: string;
}

function flagsOf(spec: OptionSpec): Flag {
  const words = spec.flags.split(/[ ,]+/);
  const long = words.find((w) => w.startsWith('--'))!;
  const short = words.find((w) => /^-[a-zA-Z]$/.test(w)) ?? null;
  const value = words.find((w) => w.startsWith('<'));
  return {
    long,
    short,
    takesValue: value !== undefined,
    repeatable: spec.repeatable === true,
    files: value !== undefined && /<(path|file)>/.test(value),
    choices: spec.choices ?? [],
    description: spec.description.split(/[;(]/)[0]!.trim(),
  };
}

export function completionScript(shell: Shell, commands: CommandSpec[], globals: OptionSpec[]): string {
  if (shell === 'bash') return bash(commands, globals);
  if (shell === 'zsh') return zsh(commands, globals);
  return fish(commands, globals);
}

function bash(commands: CommandSpec[], globals: OptionSpec[]): string {
  const globalFlags = globals.map(flagsOf);
  const all = [...globalFlags, ...commands.flatMap((c) => c.options.map(flagsOf))];
  const words = (flags: Flag[]) => flags.flatMap((f) => [f.long, ...(f.short ? [f.short] : [])]).join(' ');
  const fileFlags = [...new Set(all.filter((f) => f.files).flatMap((f) => [f.long, ...(f.short ? [f.short] : [])]))];
  const valueFlags = [...new Set(all.filter((f) => f.takesValue && !f.files && f.choices.length === 0).flatMap((f) => [f.long, ...(f.short ? [f.short] : [])]))];
  const choiceCases = all
    .filter((f) => f.choices.length > 0)
    .filter((f, i, list) => list.findIndex((g) => g.long === f.long) === i)
    .map((f) => `    ${[f.long, ...(f.short ? [f.short] : [])].join('|')}) COMPREPLY=($(compgen -W "${f.choices.join(' ')}" -- "$cur")); return ;;`);
  const commandCases = commands.map((c) => {
    const extra = c.name === 'completion' ? ' bash zsh fish' : '';
    return `    ${c.name}) opts="${words(c.options.map(flagsOf))}${extra}" ;;`;
  });
  return `# bash completion for irsa (generated from its command table: irsa completion bash)
_irsa() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local commands="${commands.map((c) => c.name).join(' ')}"
  local globals="${words(globalFlags)} --help --version"
  case "$prev" in
${choiceCases.join('\n')}
    ${fileFlags.join('|')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    ${valueFlags.join('|')}) COMPREPLY=(); return ;;
  esac
  local command="" word
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case " $commands " in *" $word "*) command="$word"; break ;; esac
  done
  if [ -z "$command" ]; then
    COMPREPLY=($(compgen -W "$commands $globals" -- "$cur")); return
  fi
  local opts=""
  case "$command" in
${commandCases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$opts $globals --help" -- "$cur"))
}
complete -o default -F _irsa irsa
`;
}

const zshEscape = (text: string) => text.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`).replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:');

function zshSpecs(flags: Flag[]): string[] {
  return flags.map((f) => {
    const names = f.short ? `{${f.short},${f.long}}` : f.long;
    const action = !f.takesValue ? '' : f.files ? ':file:_files' : f.choices.length > 0 ? `:value:(${f.choices.join(' ')})` : ':value: ';
    // '(-o --output)'{-o,--output}'[…]': either spelling, offered once.
    if (f.short) return `'(${f.short} ${f.long})'${names}'[${zshEscape(f.description)}]${action}'`;
    return `'${f.repeatable ? '*' : ''}${f.long}[${zshEscape(f.description)}]${action}'`;
  });
}

function zsh(commands: CommandSpec[], globals: OptionSpec[]): string {
  const globalSpecs = zshSpecs(globals.map(flagsOf));
  const commandList = commands.map((c) => `    '${c.name}:${zshEscape(c.summary)}'`);
  const cases = commands.map((c) => {
    const specs = [...zshSpecs(c.options.map(flagsOf)), ...globalSpecs];
    if (c.name === 'completion') specs.push(`'1:shell:(bash zsh fish)'`);
    return `    ${c.name})\n      _arguments -s \\\n        ${specs.join(' \\\n        ')}\n      ;;`;
  });
  return `#compdef irsa
# zsh completion for irsa (generated from its command table: irsa completion zsh)
_irsa() {
  local -a commands
  commands=(
${commandList.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'irsa command' commands
    return
  fi
  case $words[2] in
${cases.join('\n')}
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _irsa "$@"; else compdef _irsa irsa; fi
`;
}

const fishEscape = (text: string) => text.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

function fishLine(condition: string, f: Flag): string {
  const parts = [`complete -c irsa`];
  if (condition) parts.push(`-n '${condition}'`);
  parts.push(`-l ${f.long.slice(2)}`);
  if (f.short) parts.push(`-s ${f.short.slice(1)}`);
  if (f.takesValue) parts.push(f.files ? '-r -F' : '-r -f');
  if (f.choices.length > 0) parts.push(`-a '${f.choices.join(' ')}'`);
  parts.push(`-d '${fishEscape(f.description)}'`);
  return parts.join(' ');
}

function fish(commands: CommandSpec[], globals: OptionSpec[]): string {
  const names = commands.map((c) => c.name).join(' ');
  const lines = [
    '# fish completion for irsa (generated from its command table: irsa completion fish)',
    'complete -c irsa -f',
    ...commands.map((c) => `complete -c irsa -n 'not __fish_seen_subcommand_from ${names}' -a ${c.name} -d '${fishEscape(c.summary)}'`),
    ...globals.map((o) => fishLine('', flagsOf(o))),
    ...commands.flatMap((c) => c.options.map((o) => fishLine(`__fish_seen_subcommand_from ${c.name}`, flagsOf(o)))),
    `complete -c irsa -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`,
  ];
  return lines.join('\n') + '\n';
}
