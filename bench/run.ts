// irsa benchmark: one command (`npm run bench`) that starts the local stack and prints, as ratios
// measured in one run:
//   1. irsa apply of N fresh bindings (N = 10, 100) vs. the aws CLI + kubectl in a shell loop;
//   2. a converged re-plan of N = 100 vs. the raw floor (bench/raw-floor.ts: only the reads);
//   3. AWS and Kubernetes API calls per binding, fresh apply and converged re-plan;
//   4. `irsa --help` start-up vs. `node -e 0`.
// Times are wall-clock medians; nothing here is asserted (tests never assert on time).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startStack, type Stack } from '../test/harness/stack.ts';

const IRSA = new URL('../bin/irsa', import.meta.url).pathname;
const RAW_FLOOR = new URL('./raw-floor.ts', import.meta.url).pathname;
const POLICY = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const CONCURRENCY = 16;
const sizes = (process.env['BENCH_SIZES'] ?? '10,100').split(',').map(Number);
const repeats = Number(process.env['BENCH_REPEATS'] ?? 5);
const work = mkdtempSync(join(tmpdir(), 'irsa-bench-'));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function timed(command: string, args: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const started = performance.now();
  const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return { ms, stdout: result.stdout };
}

function stats(file: string): { aws: number; k8s: number; writes: number; calls: Record<string, number> } {
  const { calls } = JSON.parse(readFileSync(file, 'utf8')) as { calls: Record<string, number> };
  let aws = 0, k8s = 0, writes = 0;
  for (const [name, count] of Object.entries(calls)) {
    if (name.startsWith('k8s ')) k8s += count;
    else if (!name.startsWith('tls ')) aws += count; // the thumbprint check's discovery GET and handshakes are not AWS calls
    const operation = name.split(' ').slice(1).join(' ');
    if (!/^(Get|List|Describe|GET|LIST)/.test(operation)) writes += count;
  }
  return { aws, k8s, writes, calls };
}

function configFor(stack: Stack, ns: string, n: number): { file: string; bindings: Array<{ namespace: string; name: string; roleName: string; policyArns: string[] }> } {
  const bindings = Array.from({ length: n }, (_, i) => ({ namespace: ns, name: `svc-${i}`, roleName: `${ns}-svc-${i}`, policyArns: [POLICY] }));
  const file = join(work, `${ns}.yaml`);
  writeFileSync(file, stringify({
    version: 1,
    cluster: { name: stack.clusterName, region: stack.region },
    bindings: bindings.map((b) => ({ namespace: b.namespace, name: b.name, roleName: b.roleName, managedPolicies: b.policyArns })),
  }));
  return { file, bindings };
}

/** The same steps a person does by hand (the seeds' walkthroughs): one role, one attach, one SA, one annotation each. */
function shellLoopScript(stack: Stack, ns: string, n: number): string {
  const host = new URL(stack.issuerUrl).host;
  const lines = ['set -euo pipefail'];
  for (let i = 0; i < n; i++) {
    const trust = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${stack.accountId}:oidc-provider/${host}` }, Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${ns}:svc-${i}`, [`${host}:aud`]: 'sts.amazonaws.com' } } }],
    });
    const trustFile = join(work, `${ns}-trust-${i}.json`);
    writeFileSync(trustFile, trust);
    lines.push(
      `aws iam create-role --role-name ${ns}-svc-${i} --assume-role-policy-document file://${trustFile} >/dev/null`,
      `aws iam attach-role-policy --role-name ${ns}-svc-${i} --policy-arn ${POLICY}`,
      `kubectl create serviceaccount svc-${i} -n ${ns} >/dev/null`,
      `kubectl annotate serviceaccount svc-${i} -n ${ns} eks.amazonaws.com/role-arn=arn:aws:iam::${stack.accountId}:role/${ns}-svc-${i} >/dev/null`,
    );
  }
  const script = join(work, `${ns}-loop.sh`);
  writeFileSync(script, lines.join('\n') + '\n');
  return script;
}

async function main() {
  log('starting the local stack …');
  const stack = await startStack({ onProgress: log });
  const env = { ...process.env, ...stack.env, NO_COLOR: '1' };
  const kubectl = (...args: string[]) => execFileSync('kubectl', args, { env, stdio: 'ignore' });
  const rows: string[][] = [];
  const callRows: string[][] = [];
  try {
    execFileSync(process.execPath, [IRSA, 'associate-oidc', '--cluster', stack.clusterName, '--approve'], { env, stdio: 'ignore' });

    // 1. Fresh apply vs. the shell loop.
    for (const n of sizes) {
      const irsaNs = `bench-irsa-${n}`;
      const loopNs = `bench-loop-${n}`;
      kubectl('create', 'namespace', irsaNs);
      kubectl('create', 'namespace', loopNs);
      const { file } = configFor(stack, irsaNs, n);
      const statsFile = join(work, `apply-${n}.json`);
      log(`fresh apply of ${n} bindings with irsa …`);
      const irsaRun = timed(process.execPath, [IRSA, 'apply', '-f', file, '--approve', '--concurrency', String(CONCURRENCY)], { ...env, IRSA_STATS_FILE: statsFile });
      const applyStats = stats(statsFile);
      log(`the same ${n} bindings with the aws CLI + kubectl in a shell loop …`);
      const loopRun = timed('bash', [shellLoopScript(stack, loopNs, n)], env);
      rows.push([`fresh apply, N=${n}`, `${(irsaRun.ms / 1000).toFixed(2)} s`, `aws CLI + kubectl loop: ${(loopRun.ms / 1000).toFixed(1)} s`, `${(loopRun.ms / irsaRun.ms).toFixed(1)}× faster`]);
      callRows.push([`fresh apply, N=${n}`, (applyStats.aws / n).toFixed(2), (applyStats.k8s / n).toFixed(2), (applyStats.writes / n).toFixed(2)]);
    }

    // 2. Converged re-plan vs. the raw floor, at the largest N.
    const n = Math.max(...sizes);
    const { file, bindings } = configFor(stack, `bench-irsa-${n}`, n);
    const floorInput = join(work, 'floor.json');
    writeFileSync(floorInput, JSON.stringify({ cluster: stack.clusterName, bindings }));
    const replanTimes: number[] = [];
    const floorTimes: number[] = [];
    let replanStats = stats(join(work, `apply-${n}.json`));
    log(`converged re-plan of ${n} bindings vs. the raw floor, ${repeats} runs each, interleaved …`);
    for (let i = 0; i < repeats; i++) {
      const statsFile = join(work, `replan-${i}.json`);
      replanTimes.push(timed(process.execPath, [IRSA, 'plan', '-f', file, '--concurrency', String(CONCURRENCY)], { ...env, IRSA_STATS_FILE: statsFile }).ms);
      replanStats = stats(statsFile);
      floorTimes.push(timed(process.execPath, [RAW_FLOOR, floorInput, String(CONCURRENCY)], env).ms);
    }
    rows.push([`converged re-plan, N=${n}`, `${(median(replanTimes) / 1000).toFixed(2)} s (${replanStats.writes} writes)`, `raw floor: ${(median(floorTimes) / 1000).toFixed(2)} s`, `${(median(replanTimes) / median(floorTimes)).toFixed(2)}× the floor`]);
    callRows.push([`converged re-plan, N=${n}`, (replanStats.aws / n).toFixed(2), (replanStats.k8s / n).toFixed(2), (replanStats.writes / n).toFixed(2)]);

    // 4. Start-up.
    const helpTimes: number[] = [];
    const nodeTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      helpTimes.push(timed(process.execPath, [IRSA, '--help'], env).ms);
      nodeTimes.push(timed(process.execPath, ['-e', '0'], env).ms);
    }
    rows.push(['irsa --help', `${median(helpTimes).toFixed(0)} ms`, `node -e 0: ${median(nodeTimes).toFixed(0)} ms`, `${(median(helpTimes) / median(nodeTimes)).toFixed(2)}× bare Node`]);

    const table = (header: string[], body: string[][]) =>
      [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
    console.log(`\nirsa benchmark (${new Date().toISOString()}, Node ${process.version}, concurrency ${CONCURRENCY}, local stack: moto + kube-apiserver ${'on loopback'})\n`);
    console.log(table(['measure', 'irsa', 'baseline', 'ratio'], rows));
    console.log('\nAPI calls per binding\n');
    console.log(table(['run', 'AWS calls', 'Kubernetes calls', 'writes'], callRows));
    console.log(`\nDetail of the converged re-plan: ${JSON.stringify(replanStats.calls)}`);
  } finally {
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
