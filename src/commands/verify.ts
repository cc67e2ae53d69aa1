// --verify and --verify-timeout for create-sa-role and apply: after a successful --approve, prove
// each binding with a minted token and sts:AssumeRoleWithWebIdentity (engine/verify.ts).

import { UserError } from '../core/errors.ts';
import { parseVerifyTimeout, renderVerify, verifyBindings, type VerifyTarget } from '../engine/verify.ts';
import type { CommandContext } from './context.ts';
import type { Output } from '../ui/output.ts';

export interface VerifyRequest {
  timeoutMs: number;
}

/** Checked before anything is read or written; null when --verify was not given. */
export function parseVerifyOptions(options: Record<string, unknown>): VerifyRequest | null {
  const timeoutMs = parseVerifyTimeout(options['verifyTimeout']);
  if (timeoutMs === null) {
    throw new UserError(`--verify-timeout: "${String(options['verifyTimeout'])}" is not allowed. Give whole seconds from 1 to 3600 (default 60).`, '--verify-timeout');
  }
  if (options['verify'] !== true) {
    if (options['verifyTimeout'] !== undefined) throw new UserError('--verify-timeout needs --verify.', '--verify-timeout');
    return null;
  }
  return { timeoutMs };
}

/**
 * Runs after apply. Text output goes to stdout after the apply report; with -o json the lines go to
 * stderr so stdout stays one JSON document. Returns the exit code: 1 when any binding failed.
 */
export async function runVerify(request: VerifyRequest, targets: VerifyTarget[], ctx: CommandContext, output: Output): Promise<number> {
  const toStdout = output.format === 'text';
  const c = toStdout ? output.paint : output.paintErr;
  const write = (line: string) => (toStdout ? output.out(line + '\n') : output.err(line + '\n'));
  if (targets.length === 0) {
    write('Nothing to verify: no binding annotates a ServiceAccount (--role-only).');
    return 0;
  }
  write(`\nVerifying ${targets.length} binding${targets.length === 1 ? '' : 's'} with a minted token and sts:AssumeRoleWithWebIdentity (up to ${request.timeoutMs / 1000} s while IAM propagates)…`);
  const [kube, sts] = await Promise.all([ctx.kube(), ctx.sts()]);
  const results = await verifyBindings(targets, {
    kube,
    sts,
    timeoutMs: request.timeoutMs,
    onRetry: (binding, attempt, reason) => {
      if (output.verbose) output.err(output.paintErr.dim(`  … ${binding}: attempt ${attempt} refused (${reason}); retrying\n`));
    },
  });
  for (const [index, line] of renderVerify(results).entries()) write(results[index]!.ok ? c.green(line) : c.red(line));
  return results.every((r) => r.ok) ? 0 : 1;
}
