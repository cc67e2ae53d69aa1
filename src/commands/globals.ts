// Global options shared by every command, parsed once into a typed value.

import { assertRegion } from '../core/arn.ts';
import { UserError } from '../core/errors.ts';

export interface GlobalOptions {
  region: string | undefined;
  profile: string | undefined;
  /** How `profile` was given, for messages (default --profile; irsa.yaml: iam.profile, cluster.profile). */
  profileField?: string;
  kubeconfig: string | undefined;
  context: string | undefined;
  output: 'text' | 'json';
  verbose: boolean;
  /** --debug: the SDKs' own warnings and irsa's internal error details go to stderr. */
  debug?: boolean;
  color: boolean;
  /** --skip-cluster-check: do not prove that the kube context is the cluster (commands/context.ts). */
  skipClusterCheck?: boolean;
}

export function parseGlobals(options: Record<string, unknown>): GlobalOptions {
  const output = (options['output'] as string | undefined) ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new UserError(`--output: "${output}" is not a format irsa writes. Use --output text or --output json.`, '--output');
  }
  if (typeof options['region'] === 'string') assertRegion(options['region'], '--region');
  const colorAllowed = options['color'] !== false && !process.env['NO_COLOR'] && process.stdout.isTTY === true;
  return {
    region: options['region'] as string | undefined,
    profile: options['profile'] as string | undefined,
    kubeconfig: options['kubeconfig'] as string | undefined,
    context: options['context'] as string | undefined,
    output,
    verbose: options['verbose'] === true,
    debug: options['debug'] === true,
    color: colorAllowed,
    skipClusterCheck: options['skipClusterCheck'] === true,
  };
}

/** The command line the user ran, with --approve added: printed after a plan. */
export function applyCommandLine(argv: string[] = process.argv.slice(2)): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  const args = argv.filter((arg) => arg !== '--approve');
  return ['irsa', ...args.map(quote), '--approve'].join(' ');
}
