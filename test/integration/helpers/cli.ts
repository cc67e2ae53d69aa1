// Runs the built irsa binary (bin/irsa → dist/) against the local stack, as users run it.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackInfo } from '../../harness/stack.ts';

export const IRSA_BIN = new URL('../../../bin/irsa', import.meta.url).pathname;

export interface IrsaResult {
  code: number;
  stdout: string;
  stderr: string;
  /** API calls the process made, by "<service> <operation>". */
  calls: Record<string, number>;
  retries: number;
}

export async function irsa(stack: Pick<StackInfo, 'env'>, args: string[], extraEnv: Record<string, string> = {}): Promise<IrsaResult> {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-run-'));
  const statsFile = join(dir, 'stats.json');
  try {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [IRSA_BIN, ...args],
        { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...stack.env, IRSA_STATS_FILE: statsFile, NO_COLOR: '1', ...extraEnv }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    let stats: { calls: Record<string, number>; retries: number } | null = null;
    try {
      stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    } catch {
      // Handled below: irsa writes the file on every exit, so a missing one is a broken counter.
    }
    const counted = stats;
    const missing = () => {
      throw new Error(`irsa wrote no IRSA_STATS_FILE (exit ${result.code}): the call counter is broken, so "no write" cannot be claimed.\n${result.stderr}`);
    };
    return Object.defineProperties({ ...result } as IrsaResult, {
      calls: { get: () => counted?.calls ?? missing(), enumerable: true },
      retries: { get: () => counted?.retries ?? missing(), enumerable: true },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const READ_PREFIXES = ['Get', 'List', 'Describe', 'GET', 'LIST'];

/** Calls that change something (AWS operations other than Get/List/Describe, Kubernetes non-GET verbs). */
export function writeCalls(calls: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(calls).filter(([name]) => {
      const operation = name.split(' ').slice(1).join(' ');
      return !READ_PREFIXES.some((prefix) => operation.startsWith(prefix));
    }),
  );
}

export function json<T = unknown>(result: IrsaResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`irsa did not print JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** The aws CLI (an independent client) against the stack; returns parsed JSON output. */
export async function aws<T = any>(stack: Pick<StackInfo, 'env'>, args: string[]): Promise<T> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('aws', [...args, '--output', 'json'], { env: { ...process.env, ...stack.env } }, (error, out, err) =>
      error ? reject(new Error(`aws ${args.join(' ')} failed: ${err}`)) : resolve(out),
    );
  });
  return (stdout.trim() ? JSON.parse(stdout) : {}) as T;
}

/** kubectl (an independent client) against the stack; returns parsed JSON for `-o json` calls. */
export async function kubectl<T = any>(stack: Pick<StackInfo, 'env'>, args: string[]): Promise<T> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('kubectl', args, { env: { ...process.env, ...stack.env } }, (error, out, err) =>
      error ? reject(new Error(`kubectl ${args.join(' ')} failed: ${err}`)) : resolve(out),
    );
  });
  return (args.includes('json') ? JSON.parse(stdout) : stdout) as T;
}

/** The `:sub` values of a role's trust policy, sorted, read with the aws CLI (an independent client). */
export async function trustSubjects(stack: Pick<StackInfo, 'env'>, roleName: string): Promise<string[]> {
  const role = (await aws(stack, ['iam', 'get-role', '--role-name', roleName])).Role;
  const document = typeof role.AssumeRolePolicyDocument === 'string' ? JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument)) : role.AssumeRolePolicyDocument;
  return (document.Statement as Array<{ Condition?: Record<string, Record<string, string | string[]>> }>)
    .flatMap((statement) => Object.values(statement.Condition ?? {}).flatMap((block) => Object.entries(block)))
    .filter(([key]) => key.endsWith(':sub'))
    .flatMap(([, value]) => (Array.isArray(value) ? value : [value]))
    .sort();
}
