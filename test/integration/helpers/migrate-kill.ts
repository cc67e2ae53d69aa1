// irsa migrate run under a kill switch, for the interrupted-migration tests
// (pod-identity-migrate-kill.test.ts, migrate-batch.test.ts): the writes it starts are read from
// --verbose, and the process is SIGKILLed as it starts its k-th.

import { spawn } from 'node:child_process';
import type { StackInfo } from '../../harness/stack.ts';
import { IRSA_BIN } from './cli.ts';

/** A write the migration makes: AWS operations other than Get/List/Describe, Kubernetes non-GET verbs except Leases and dry runs. */
export function isMigrationWrite(line: string): boolean {
  const awsCall = /^ {2}aws (\w+) (\w+)/.exec(line);
  if (awsCall) return !/^(Get|List|Describe)/.test(awsCall[2]!) && awsCall[1] !== 'sts';
  const k8s = /^ {2}k8s (POST|PUT|PATCH|DELETE) (\S+)/.exec(line);
  return !!k8s && !k8s[2]!.includes('/leases') && !k8s[2]!.includes('dryRun');
}

/** Runs irsa --verbose; SIGKILLs it when it starts its `killAt`-th migration write (never when killAt is undefined). Returns the writes it started. */
export function runKilled(info: Pick<StackInfo, 'env'>, args: string[], killAt?: number): Promise<{ writes: string[]; killed: boolean; code: number | null; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [IRSA_BIN, ...args, '--verbose'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...info.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const writes: string[] = [];
    let killed = false;
    let buffered = '';
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (killed || !isMigrationWrite(line)) continue;
        writes.push(line.trim());
        if (writes.length === killAt) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('close', (code) => resolve({ writes, killed, code, stderr, pid: child.pid! }));
  });
}
