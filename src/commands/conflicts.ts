// Flags that cannot go together, and flags that mean nothing without another — declared once as
// data and checked on the command line as typed, before any file is read or any call is made.
// The typed argv is what counts: commander folds --thumbprint/--no-thumbprint into one property
// (the last one wins, silently) and fills defaults (--path /), so parsed options cannot tell.

import { UserError, ValidationErrors } from '../core/errors.ts';
import type { OptionSpec } from './registry.ts';
import { EXCLUSION_RULES, FIELDS, REQUIRES_RULES } from '../core/fields.ts';

export interface FlagRule {
  commands: string[];
  flag: string;
  /** conflicts: none of `others` may be given with `flag`; requires: `flag` needs one of `others`. */
  kind: 'conflicts' | 'requires';
  others: string[];
  why: string;
}

const BINDING_COMMANDS = ['create-sa-role'];
const ISSUER_COMMANDS = ['associate-oidc', 'create-sa-role', 'list', 'delete-sa-role', 'doctor', 'audit'];

export const FLAG_RULES: FlagRule[] = [
  { commands: ['associate-oidc', 'create-sa-role'], flag: '--no-thumbprint', kind: 'conflicts', others: ['--thumbprint'], why: '--no-thumbprint sends no thumbprint, --thumbprint sends the given ones; give one of them' },
  { commands: ISSUER_COMMANDS, flag: '--issuer-url', kind: 'conflicts', others: ['--cluster'], why: 'use --cluster for an EKS cluster, or --issuer-url for a self-managed one' },
  // Binding fields that cannot go together: core/fields.ts's rules, the ones irsa.yaml and the wizard get.
  ...EXCLUSION_RULES.map((rule): FlagRule => ({
    commands: BINDING_COMMANDS,
    flag: FIELDS[rule.when].flag!,
    kind: 'conflicts',
    others: [...rule.excludes.map((field) => FIELDS[field].flag!), ...(rule.flags ?? [])],
    why: rule.why,
  })),
  { commands: BINDING_COMMANDS, flag: '--inline-policy-name', kind: 'requires', others: ['--inline-policy'], why: 'it names the policy --inline-policy <file> puts on the role' },
  // Binding fields that need another: core/fields.ts's rules too.
  ...REQUIRES_RULES.map((rule): FlagRule => ({ commands: BINDING_COMMANDS, flag: FIELDS[rule.field].flag!, kind: 'requires', others: [FIELDS[rule.needs].flag!], why: rule.why })),
  { commands: ['create-sa-role', 'apply', 'wizard'], flag: '--verify-timeout', kind: 'requires', others: ['--verify'], why: 'it bounds how long --verify retries' },
  { commands: ['plan', 'audit'], flag: '--overwrite', kind: 'requires', others: ['--out'], why: 'it lets --out replace an existing file' },
  { commands: ['audit'], flag: '--iam', kind: 'conflicts', others: ['--namespace', '--out', '--overwrite', '--cluster', '--issuer-url'], why: 'audit --iam lints IAM roles of the whole account; the cluster audit takes those options' },
  { commands: ['audit'], flag: '--path', kind: 'requires', others: ['--iam'], why: 'it limits audit --iam to roles under an IAM path' },
  { commands: ['audit'], flag: '--ca-bundle', kind: 'requires', others: ['--iam'], why: 'it is for asking issuers whether they still answer (audit --iam)' },
  { commands: ['apply'], flag: '--expect-digest', kind: 'conflicts', others: ['--file'], why: 'the digest is of a saved plan (irsa apply plan.json); -f plans the file afresh' },
];

/** The long flags given on the command line (short forms and --flag=value resolved). */
export function givenFlags(argv: string[], options: OptionSpec[]): Set<string> {
  const short = new Map<string, string>();
  for (const option of options) {
    const names = option.flags.split(/[ ,|]+/).filter((part) => part.startsWith('-'));
    const long = names.find((name) => name.startsWith('--'));
    for (const name of names) if (!name.startsWith('--') && long) short.set(name, long);
  }
  const given = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const name = arg.split('=')[0]!;
    given.add(short.get(name) ?? name);
  }
  return given;
}

/** Throws a UserError naming every conflicting pair (both flags and why) before anything runs. */
export function assertFlagsGoTogether(command: string, argv: string[], options: OptionSpec[]): void {
  const given = givenFlags(argv, options);
  const problems: string[] = [];
  for (const rule of FLAG_RULES) {
    if (!rule.commands.includes(command) || !given.has(rule.flag)) continue;
    if (rule.kind === 'conflicts') {
      const clashing = rule.others.filter((other) => given.has(other));
      if (clashing.length > 0) problems.push(`${rule.flag} cannot be combined with ${clashing.join(', ')}: ${rule.why}. Leave out one of them.`);
    } else if (!rule.others.some((other) => given.has(other))) {
      problems.push(`${rule.flag} needs ${rule.others.join(' or ')}: ${rule.why}. Add ${rule.others[0]}, or leave out ${rule.flag}.`);
    }
  }
  if (problems.length === 1) throw new UserError(problems[0]!, problems[0]!.split(' ')[0]);
  if (problems.length > 1) throw new ValidationErrors(problems);
}
