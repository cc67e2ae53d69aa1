// irsa audit --iam: account-wide lint of IRSA trust policies (core/trust-lint.ts).
// Read-only; exit 1 when a critical finding exists (for CI), else 0.

import { UserError } from '../core/errors.ts';
import { renderTrustLintText } from '../ui/trust-lint.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { auditTrust } from '../engine/trust-audit.ts';
import { createCommandContext } from './context.ts';
import type { GlobalOptions } from './globals.ts';

/** Seconds to wait for an issuer's discovery document before calling it gone. */
const ISSUER_TIMEOUT_MS = 5_000;

export async function runIamAudit(options: Record<string, unknown>, globals: GlobalOptions, output: Output = createOutput(options)): Promise<number> {
  const path = options['path'] as string | undefined;
  if (path !== undefined && !/^\/([\x21-\x7e]*\/)?$/.test(path)) {
    throw new UserError(`--path: "${path}" is not an IAM path prefix. Give / or a path that starts and ends with /, such as /irsa/.`, '--path');
  }
  for (const flag of ['cluster', 'issuerUrl', 'namespace', 'out'] as const) {
    if (options[flag] !== undefined) {
      const name = flag === 'issuerUrl' ? '--issuer-url' : `--${flag}`;
      throw new UserError(`${name}: irsa audit --iam lints every role of the account (or under --path) and takes no ${name}. Run irsa audit without --iam for the cluster audit.`, name);
    }
  }
  const ctx = createCommandContext(globals, { caBundle: options['caBundle'] as string | undefined });
  const [iam, fetcher] = await Promise.all([ctx.iam(), ctx.tls({ timeoutMs: ISSUER_TIMEOUT_MS })]);
  const report = await auditTrust(iam, fetcher, { ...(path ? { pathPrefix: path } : {}) });
  if (globals.output === 'json') output.json(report);
  else output.out(renderTrustLintText(report));
  return report.counts.critical > 0 ? 1 : 0;
}
