// What the local stack needs, and how integration test files get the one shared stack — or a
// loud skip when a piece is missing (a failure instead with IRSA_REQUIRE_STACK=1, as in CI).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { attachStack, readStackInfo, stackBinDir, startStack, webhookBinaryPath, type Stack } from './stack.ts';

const run = promisify(execFile);

export interface StackAvailability {
  /** True when startStack() can run. */
  ok: boolean;
  /** One line per missing piece: what, why it matters, how to get it. Empty when ok. */
  missing: string[];
  binDir: string;
  etcd: boolean;
  kubeApiserver: boolean;
  /** amazon-eks-pod-identity-webhook at the version build-binaries.sh pins. */
  webhook: boolean;
  webhookPath: string;
  moto: boolean;
  openssl: boolean;
  go: boolean;
  /** Optional extras: tests needing them check these themselves. */
  awsCli: boolean;
}

/** Environment variables the harness reads. */
export const STACK_ENV = {
  /** Path of a running stack's stack.json (set by the global setup, or by hand from `npm run stack`). */
  info: 'IRSA_STACK',
  /** Set by the global setup when the stack is unavailable: the reason to skip with. */
  skip: 'IRSA_STACK_SKIP',
  /** "1": a missing stack fails the run instead of skipping. */
  require: 'IRSA_REQUIRE_STACK',
} as const;

export function stackRequired(): boolean {
  return process.env[STACK_ENV.require] === '1';
}

async function succeeds(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

export async function stackAvailability(): Promise<StackAvailability> {
  const binDir = stackBinDir();
  const webhookPath = webhookBinaryPath();
  const executable = (name: string) => {
    try {
      fs.accessSync(path.resolve(binDir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const python = process.env.IRSA_PYTHON ?? 'python3';
  const [moto, openssl, go, awsCli] = await Promise.all([
    succeeds(python, ['-c', 'import moto.server, flask']),
    succeeds('openssl', ['version']),
    succeeds('go', ['version']),
    succeeds('aws', ['--version']),
  ]);
  const etcd = executable('etcd');
  const kubeApiserver = executable('kube-apiserver');
  const webhook = executable(webhookPath);
  const build = go
    ? 'run test/harness/build-binaries.sh (first build takes tens of minutes)'
    : 'install Go, then run test/harness/build-binaries.sh';
  const missing: string[] = [];
  if (!moto) missing.push(`moto: \`${python} -c 'import moto.server'\` fails (moto serves IAM/EKS/STS) — pip install 'moto[server]'`);
  if (!openssl) missing.push('openssl: not on PATH (it makes the per-run certificates) — apt-get install openssl');
  if (!etcd) missing.push(`etcd: not built at ${path.join(binDir, 'etcd')} (kube-apiserver stores its state there) — ${build}`);
  if (!kubeApiserver) missing.push(`kube-apiserver: not built at ${path.join(binDir, 'kube-apiserver')} (it issues the service-account tokens) — ${build}`);
  if (!webhook) missing.push(`amazon-eks-pod-identity-webhook: not built at ${webhookPath} (it mutates pods as on EKS; doctor is checked against it) — ${go ? 'run test/harness/build-binaries.sh webhook (about two minutes)' : build}`);
  return {
    ok: missing.length === 0,
    missing, binDir, etcd, kubeApiserver, webhook, webhookPath, moto, openssl, go, awsCli,
  };
}

/** The banner printed on stderr when integration tests are skipped or fail for want of the stack. */
export function unavailableMessage(missing: string[], required = stackRequired()): string {
  const bar = '#'.repeat(100);
  return [
    bar,
    required
      ? '# irsa integration tests FAILED: the local stack is required (IRSA_REQUIRE_STACK=1) but not available:'
      : '# irsa integration tests SKIPPED: the local stack is not available:',
    ...missing.map((m) => `#   - ${m}`),
    required ? '# Unset IRSA_REQUIRE_STACK to skip instead.' : '# Set IRSA_REQUIRE_STACK=1 to make this a failure (CI does).',
    bar,
  ].join('\n');
}

export interface StackUse {
  /** The running stack. When skip is set, any property access throws: use it inside tests and hooks only. */
  stack: Stack;
  /** false, or the reason to pass as `describe(name, { skip }, …)`. */
  skip: false | string;
}

let shared: Promise<StackUse> | undefined;

/**
 * The stack shared by this test run. Under the global setup it attaches to the stack the parent
 * started (IRSA_STACK); run alone (`node --test file`), it starts one for this process, stopped at
 * exit. When a piece is missing it returns a skip reason after a loud message on stderr, or throws
 * with IRSA_REQUIRE_STACK=1.
 *
 *   const { stack, skip } = await useStack();
 *   describe('thing', { skip }, () => { it('…', async () => { stack.awsEndpoint … }); });
 */
export function useStack(): Promise<StackUse> {
  shared ??= resolveStack();
  return shared;
}

/** Like useStack() but throws instead of skipping. */
export async function getStack(): Promise<Stack> {
  const use = await useStack();
  if (use.skip) throw new Error(`the local stack is not available: ${use.skip}`);
  return use.stack;
}

async function resolveStack(): Promise<StackUse> {
  const infoPath = process.env[STACK_ENV.info];
  if (infoPath) return { stack: attachStack(readStackInfo(infoPath)), skip: false };

  const skipped = process.env[STACK_ENV.skip]; // the global setup already printed the banner
  const missing = skipped ? skipped.split('\n') : await (async () => {
    const availability = await stackAvailability();
    return availability.missing;
  })();
  if (missing.length === 0) return { stack: await startStack(), skip: false };
  if (!skipped) {
    const message = unavailableMessage(missing);
    if (stackRequired()) throw new Error(message);
    process.stderr.write(`${message}\n`);
  }
  const what = missing.map((m) => m.split(':')[0]).join(', ');
  return { stack: unavailableStack(missing), skip: `local stack unavailable (${what} missing)` };
}

function unavailableStack(missing: string[]): Stack {
  return new Proxy({} as Stack, {
    get() {
      throw new Error(`the local stack is not available:\n${missing.join('\n')}`);
    },
  });
}
