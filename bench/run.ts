// irsa benchmark: one command that starts the local stack and prints, measured side by side in one
// run, at loopback and at a realistic latency (docs/performance.md explains every row):
//   - fresh apply of N bindings (N = 10, 100) vs. the aws CLI + kubectl in a shell loop, and
//     vs. a raw write floor (bench/raw-write-floor.ts: only the 3 writes per binding);
//   - a converged re-plan of 100 vs. the per-role raw read floor (bench/raw-floor.ts);
//   - the same re-plan and a prune of 100 bindings in an account holding 1,000 unrelated roles,
//     vs. an account without them;
//   - a fresh apply of 100 while the AWS endpoint answers `Throttling` above a request rate;
//   - `irsa --help` start-up vs. `node -e 0`.
// Every AWS call (irsa's, the aws CLI's, the floors') goes through the fault proxy, every
// Kubernetes connection through a TLS-passthrough TCP proxy; at latency both add a fixed round
// trip plus jitter. The proxies also count the round trips on each run's critical path.
// Times are wall-clock (medians where repeated); nothing here is asserted (tests never assert time).
//
//   npm run bench                       both tables (loopback, then 100 ms AWS / 20 ms Kubernetes)
//   npm run bench -- --latency 100,20   only the latency table, at these round trips (ms)
//   npm run bench -- --loopback         only the loopback table
// IRSA_STACK=<stack.json> (printed by `npm run stack`) runs against that stack instead of starting one.
// Knobs (env): BENCH_SIZES=10,100  BENCH_REPEATS=5  BENCH_JITTER=20,5  BENCH_THROTTLE_RPS=20
//              BENCH_SKIP=loop,big,throttle,floor,replan,podid (sections to leave out while iterating)
//              BENCH_TRACE=<file> (irsa's calls, --verbose, with the ms since it started)

import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import pMap from 'p-map';
import { stringify } from 'yaml';
import { startFaultProxy, type FaultProxy } from '../test/harness/fault-proxy.ts';
import { createRoundTripTracker, type RoundTripTracker } from '../test/harness/round-trips.ts';
import { attachStack, readStackInfo, startStack, type Stack } from '../test/harness/stack.ts';
import { startTcpLatencyProxy, type TcpLatencyProxy } from '../test/harness/tcp-latency-proxy.ts';
import { podIdentityScenarios } from './pod-identity.ts';

const IRSA = new URL('../bin/irsa', import.meta.url).pathname;
const RAW_READ_FLOOR = new URL('./raw-floor.ts', import.meta.url).pathname;
const RAW_WRITE_FLOOR = new URL('./raw-write-floor.ts', import.meta.url).pathname;
const POLICY = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const CONCURRENCY = 16;
const BIG_ACCOUNT_ROLES = 1000;

let flags: { latency?: string; loopback?: boolean; help?: boolean };
try {
  flags = parseArgs({ options: { latency: { type: 'string' }, loopback: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false }).values;
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).message}. Run npm run bench -- --help.\n`);
  process.exit(2);
}
if (flags.help) {
  process.stdout.write(
    'usage: npm run bench [-- --latency <aws ms>,<kubernetes ms> | --loopback]\n' +
      '  (no option: both tables; IRSA_STACK=<stack.json> uses a running stack; docs/performance.md explains the rows)\n',
  );
  process.exit(0);
}
const parsePair = (text: string, what: string): [number, number] => {
  const parts = text.split(',').map(Number);
  if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n) || n < 0)) throw new Error(`${what}: "${text}" is not "<aws ms>,<kubernetes ms>", e.g. 100,20`);
  return parts as [number, number];
};
const sizes = (process.env['BENCH_SIZES'] ?? '10,100').split(',').map(Number);
const repeats = Number(process.env['BENCH_REPEATS'] ?? 5);
const jitter = parsePair(process.env['BENCH_JITTER'] ?? '20,5', 'BENCH_JITTER');
const throttleRps = Number(process.env['BENCH_THROTTLE_RPS'] ?? 20);
const skip = new Set((process.env['BENCH_SKIP'] ?? '').split(',').filter(Boolean));

interface Mode { name: string; awsMs: number; kubeMs: number }
const modes: Mode[] = [];
if (!flags.latency) modes.push({ name: 'loopback', awsMs: 0, kubeMs: 0 });
if (!flags.loopback) {
  const [awsMs, kubeMs] = flags.latency ? parsePair(flags.latency, '--latency') : [100, 20];
  modes.push({ name: `latency ${awsMs} ms AWS ± ${jitter[0]}, ${kubeMs} ms Kubernetes ± ${jitter[1]}`, awsMs, kubeMs });
}

const work = mkdtempSync(join(tmpdir(), 'irsa-bench-'));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** One network set-up: the proxies every client of a mode goes through. */
interface Net {
  mode: Mode;
  env: NodeJS.ProcessEnv;
  aws: FaultProxy;
  kube: TcpLatencyProxy;
  tracker: RoundTripTracker;
}

/** What one timed process did, as the proxies and irsa's own stats saw it. */
interface Run {
  ms: number;
  stdout: string;
  /** AWS requests that reached the proxy (every client), throttled ones included. */
  awsRequests: number;
  /** Round trips on the critical path (test/harness/round-trips.ts). */
  roundTrips: number;
  /** The requests on it, first first (AWS operations; Kubernetes connections). */
  criticalPath: string[];
  /** irsa only: its own call counts (IRSA_STATS_FILE). */
  calls?: Record<string, number>;
  retries?: number;
}

async function timed(net: Net, command: string, args: string[], okCodes: number[] = [0]): Promise<Run & { code: number }> {
  const statsFile = join(work, `stats-${Math.random().toString(36).slice(2)}.json`);
  const isIrsa = args[0] === IRSA;
  const awsBefore = net.aws.counts.forwarded + net.aws.counts.throttle;
  net.tracker.reset();
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // BENCH_TRACE=<file>: irsa runs with --verbose, each call it starts written there with the ms since spawn.
    const trace = isIrsa ? process.env['BENCH_TRACE'] : undefined;
    const child = spawn(command, trace ? [...args, '--verbose'] : args, { env: { ...net.env, ...(isIrsa ? { IRSA_STATS_FILE: statsFile } : {}) } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => {
      err += d;
      if (trace) appendFileSync(trace, String(d).split('\n').filter(Boolean).map((line) => `${(performance.now() - started).toFixed(0).padStart(6)} ${line}\n`).join(''));
    });
    child.on('close', (status) => resolve({ code: status, stdout: out, stderr: err }));
  });
  const ms = performance.now() - started;
  if (!okCodes.includes(code ?? -1)) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);
  const run: Run & { code: number } = { code: code ?? -1, ms, stdout, awsRequests: net.aws.counts.forwarded + net.aws.counts.throttle - awsBefore, roundTrips: net.tracker.depth(), criticalPath: net.tracker.criticalPath() };
  if (isIrsa) {
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as { calls: Record<string, number>; retries: number };
    run.calls = stats.calls;
    run.retries = stats.retries;
  }
  return run;
}

function callsPerBinding(calls: Record<string, number> | undefined, n: number): { aws: string; k8s: string } {
  if (!calls) return { aws: '—', k8s: '—' };
  let aws = 0, k8s = 0;
  for (const [name, count] of Object.entries(calls)) {
    if (name.startsWith('k8s ')) k8s += count;
    else if (!name.startsWith('tls ')) aws += count; // the thumbprint check's discovery GET and handshakes are not AWS calls
  }
  return { aws: (aws / n).toFixed(2), k8s: (k8s / n).toFixed(2) };
}

function configFor(stack: Stack, ns: string, n: number, prefix = ns): { file: string; bindings: Array<{ namespace: string; name: string; roleName: string; policyArns: string[] }> } {
  const bindings = Array.from({ length: n }, (_, i) => ({ namespace: ns, name: `svc-${i}`, roleName: `${prefix}-svc-${i}`, policyArns: [POLICY] }));
  const file = join(work, `${ns}-${n}.yaml`);
  writeFileSync(file, stringify({
    version: 1,
    cluster: { name: stack.clusterName, region: stack.region },
    bindings: bindings.map((b) => ({ namespace: b.namespace, name: b.name, roleName: b.roleName, managedPolicies: b.policyArns })),
  }));
  return { file, bindings };
}

/** The steps a person does by hand: one role, one attach, one SA, one annotation each. */
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

async function startNet(stack: Stack, mode: Mode): Promise<Net> {
  const tracker = createRoundTripTracker();
  const aws = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, delay: { ms: mode.awsMs, jitterMs: mode.awsMs > 0 ? jitter[0] : 0 }, tracker });
  const api = new URL(stack.apiserverUrl);
  const kube = await startTcpLatencyProxy({ target: { host: api.hostname, port: Number(api.port) }, latencyMs: mode.kubeMs, jitterMs: mode.kubeMs > 0 ? jitter[1] : 0, tracker });
  const kubeconfig = join(work, `kubeconfig-${kube.port}`);
  writeFileSync(kubeconfig, readFileSync(stack.kubeconfigPath, 'utf8').replaceAll(stack.apiserverUrl, `https://${kube.host}:${kube.port}`), { mode: 0o600 });
  const env = { ...process.env, ...stack.env, AWS_ENDPOINT_URL: aws.url, KUBECONFIG: kubeconfig, NO_COLOR: '1' };
  return { mode, env, aws, kube, tracker };
}

let namespaceCount = 0;
// Unique per run, so a reused stack (IRSA_STACK) never has them already.
const runId = Date.now().toString(36).slice(-4);
function freshNamespace(stack: Stack, label: string): string {
  const ns = `b${runId}${++namespaceCount}-${label}`;
  execFileSync('kubectl', ['create', 'namespace', ns], { env: { ...process.env, ...stack.env }, stdio: 'ignore' });
  return ns;
}

/** 1,000 roles irsa has nothing to do with, each with a trust policy, tags and an inline policy. */
async function seedUnrelatedRoles(stack: Stack, count: number): Promise<void> {
  const iam = new IAMClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const inline = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::team-bucket', 'arn:aws:s3:::team-bucket/*'] }] });
  try {
    await pMap(Array.from({ length: count }, (_, i) => i), async (i) => {
      const RoleName = `unrelated-app-${i}`;
      await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: trust, Description: 'not irsa', Tags: [{ Key: 'team', Value: `t${i % 17}` }, { Key: 'env', Value: 'prod' }] }));
      await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: 'app', PolicyDocument: inline }));
    }, { concurrency: 16 });
  } finally {
    iam.destroy();
  }
}

type Row = string[];
interface ModeResult {
  mode: Mode;
  rows: Row[];
  notes: string[];
  goals: { replanCallsPerBinding?: number; replanVsReadFloor?: number; applyVsWriteFloor?: number; loopRatio: Record<number, number> };
}

async function runMode(stack: Stack, mode: Mode): Promise<ModeResult> {
  const net = await startNet(stack, mode);
  const rows: Row[] = [];
  const notes: string[] = [];
  const goals: ModeResult['goals'] = { loopRatio: {} };
  const irsaRow = (measure: string, run: Run, n: number, baseline: string, baselineRun: Run | null, ratio: string): Row => {
    const per = callsPerBinding(run.calls, n);
    return [measure, seconds(run.ms), per.aws, per.k8s, String(run.roundTrips), baseline, baselineRun ? seconds(baselineRun.ms) : '—',
      baselineRun ? (baselineRun.awsRequests / n).toFixed(2) : '—', baselineRun ? String(baselineRun.roundTrips) : '—', ratio];
  };
  try {
    log(`[${mode.name}] fresh state, associate-oidc …`);
    await stack.resetAws();
    await timed(net, process.execPath, [IRSA, 'associate-oidc', '--cluster', stack.clusterName, '--approve']);

    // Fresh apply vs. the shell loop, and vs. the raw write floor at every N.
    let apply100: Run | undefined;
    const irsaNamespace: Record<number, string> = {};
    const largest = Math.max(...sizes);
    for (const n of sizes) {
      const ns = freshNamespace(stack, `irsa-${n}`);
      irsaNamespace[n] = ns;
      log(`[${mode.name}] fresh apply of ${n} bindings with irsa …`);
      const run = await timed(net, process.execPath, [IRSA, 'apply', '-f', configFor(stack, ns, n).file, '--approve', '--concurrency', String(CONCURRENCY)]);
      if (n === largest) apply100 = run;
      notes.push(`fresh apply, N=${n}, critical path (${run.roundTrips} round trips): ${squeeze(run.criticalPath)}`);
      if (skip.has('loop')) {
        rows.push(irsaRow(`fresh apply, N=${n}`, run, n, 'aws CLI + kubectl loop', null, 'skipped'));
      } else {
        const loopNs = freshNamespace(stack, `loop-${n}`);
        log(`[${mode.name}] the same ${n} bindings with the aws CLI + kubectl in a shell loop …`);
        const loop = await timed(net, 'bash', [shellLoopScript(stack, loopNs, n)]);
        goals.loopRatio[n] = loop.ms / run.ms;
        rows.push(irsaRow(`fresh apply, N=${n}`, run, n, 'aws CLI + kubectl loop', loop, `${(loop.ms / run.ms).toFixed(1)}× faster`));
      }
      if (!skip.has('floor')) {
        const floorNs = freshNamespace(stack, `wfloor-${n}`);
        const input = join(work, `write-floor-${floorNs}.json`);
        writeFileSync(input, JSON.stringify({ accountId: stack.accountId, issuerHostPath: stack.issuerUrl.replace(/^https:\/\//, ''), bindings: configFor(stack, floorNs, n).bindings }));
        log(`[${mode.name}] raw write floor for ${n} bindings …`);
        const floor = await timed(net, process.execPath, [RAW_WRITE_FLOOR, input, String(CONCURRENCY)]);
        if (n === largest) goals.applyVsWriteFloor = run.ms / floor.ms;
        rows.push(irsaRow(`fresh apply, N=${n}`, run, n, 'raw write floor', floor, `${(run.ms / floor.ms).toFixed(2)}× the floor`));
      }
    }
    const n = largest;
    if (skip.has('replan')) return { mode, rows, notes, goals };

    // Converged re-plan vs. the per-role raw read floor, interleaved.
    {
      const { file, bindings } = configFor(stack, irsaNamespace[n]!, n);
      const ns = irsaNamespace[n]!;
      const floorInput = join(work, `read-floor-${ns}.json`);
      writeFileSync(floorInput, JSON.stringify({ cluster: stack.clusterName, bindings }));
      const replans: Run[] = [];
      const floors: Run[] = [];
      log(`[${mode.name}] converged re-plan of ${n} bindings vs. the raw read floor, ${repeats} runs each …`);
      for (let i = 0; i < repeats; i++) {
        replans.push(await timed(net, process.execPath, [IRSA, 'plan', '-f', file, '--concurrency', String(CONCURRENCY), '--detailed-exitcode']));
        floors.push(await timed(net, process.execPath, [RAW_READ_FLOOR, floorInput, String(CONCURRENCY)]));
      }
      const replan = { ...replans.at(-1)!, ms: median(replans.map((r) => r.ms)) };
      const floor = { ...floors.at(-1)!, ms: median(floors.map((r) => r.ms)) };
      goals.replanVsReadFloor = replan.ms / floor.ms;
      goals.replanCallsPerBinding = Number(callsPerBinding(replan.calls, n).aws);
      rows.push(irsaRow(`converged re-plan, N=${n}`, replan, n, 'per-role raw read floor', floor, `${(replan.ms / floor.ms).toFixed(2)}× the floor`));
      notes.push(`converged re-plan, N=${n}, calls: ${JSON.stringify(replan.calls)}`);
    }

    if (!skip.has('podid')) await podIdentityScenarios({ stack, net, work, repeats, timed, freshNamespace, irsaRow, rows, notes, log });
    if (!skip.has('big')) await bigAccount(stack, net, rows, notes, irsaRow);
    if (!skip.has('throttle')) await throttling(stack, net, rows, notes, irsaRow, n === 100 ? apply100 : undefined);
  } finally {
    await net.aws.close();
    await net.kube.close();
  }
  return { mode, rows, notes, goals };
}

/** A critical path, repeats folded: "aws CreateRole ×3 → k8s connection 2". */
function squeeze(path: string[]): string {
  const parts: Array<{ label: string; count: number }> = [];
  for (const label of path) {
    const last = parts.at(-1);
    if (last?.label === label) last.count++;
    else parts.push({ label, count: 1 });
  }
  return parts.map((p) => (p.count > 1 ? `${p.label} ×${p.count}` : p.label)).join(' → ');
}

type IrsaRow = (measure: string, run: Run, n: number, baseline: string, baselineRun: Run | null, ratio: string) => Row;

/** Re-plan and prune of 100 bindings, without and then with 1,000 unrelated roles in the account. */
async function bigAccount(stack: Stack, net: Net, rows: Row[], notes: string[], irsaRow: IrsaRow): Promise<void> {
  const n = 100;
  const measured: Record<string, { replan: Run; prune: Run }> = {};
  for (const account of ['empty', 'big'] as const) {
    log(`[${net.mode.name}] ${account === 'big' ? `${BIG_ACCOUNT_ROLES} unrelated roles` : 'no unrelated roles'}: set-up …`);
    await stack.resetAws();
    await timed(net, process.execPath, [IRSA, 'associate-oidc', '--cluster', stack.clusterName, '--approve']);
    if (account === 'big') await seedUnrelatedRoles(stack, BIG_ACCOUNT_ROLES);
    const ns = freshNamespace(stack, `${account}-${n}`);
    // n + 1 bindings: the prune keeps one, so the file stays valid, and removes n.
    const all = configFor(stack, ns, n + 1);
    await timed(net, process.execPath, [IRSA, 'apply', '-f', all.file, '--approve', '--concurrency', String(CONCURRENCY)]);
    log(`[${net.mode.name}] ${account}: re-plan of ${n + 1} and prune of ${n} …`);
    const replans: Run[] = [];
    for (let i = 0; i < repeats; i++) replans.push(await timed(net, process.execPath, [IRSA, 'plan', '-f', all.file, '--concurrency', String(CONCURRENCY), '--detailed-exitcode']));
    const kept = join(work, `${ns}-kept.yaml`);
    writeFileSync(kept, readFileSync(configFor(stack, ns, 1).file, 'utf8'));
    const prune = await timed(net, process.execPath, [IRSA, 'apply', '-f', kept, '--prune', '--approve', '--concurrency', String(CONCURRENCY)]);
    measured[account] = { replan: { ...replans.at(-1)!, ms: median(replans.map((r) => r.ms)) }, prune };
  }
  const { empty, big } = measured as Record<'empty' | 'big', { replan: Run; prune: Run }>;
  rows.push(irsaRow(`re-plan of ${n + 1}, +${BIG_ACCOUNT_ROLES} unrelated roles`, big.replan, n + 1, 'same, no unrelated roles', empty.replan, `${(big.replan.ms / empty.replan.ms).toFixed(2)}× (goal ≤ 2×)`));
  rows.push(irsaRow(`prune of ${n}, +${BIG_ACCOUNT_ROLES} unrelated roles`, big.prune, n, 'same, no unrelated roles', empty.prune, `${(big.prune.ms / empty.prune.ms).toFixed(2)}× (goal ≤ 2×)`));
  notes.push(`re-plan with ${BIG_ACCOUNT_ROLES} unrelated roles, calls: ${JSON.stringify(big.replan.calls)}`);
}

/** A fresh apply of 100 while the AWS endpoint answers Throttling above a request rate. */
async function throttling(stack: Stack, net: Net, rows: Row[], notes: string[], irsaRow: IrsaRow, unthrottled: Run | undefined): Promise<void> {
  const n = 100;
  const ns = freshNamespace(stack, `throttled-${n}`);
  const { file } = configFor(stack, ns, n);
  log(`[${net.mode.name}] fresh apply of ${n} with Throttling above ${throttleRps} requests/s …`);
  const throttlesBefore = net.aws.counts.throttle;
  net.aws.setThrottleAboveRps(throttleRps);
  let run: Run;
  let window: { first: number; last: number } | null;
  try {
    run = await timed(net, process.execPath, [IRSA, 'apply', '-f', file, '--approve', '--concurrency', String(CONCURRENCY)]);
    window = net.aws.throttleWindow();
  } finally {
    net.aws.setThrottleAboveRps(undefined);
  }
  const throttled = net.aws.counts.throttle - throttlesBefore;
  // --detailed-exitcode: 0 when there is nothing left to change.
  const replan = await timed(net, process.execPath, [IRSA, 'plan', '-f', file, '--detailed-exitcode'], [0, 2]);
  const converged = replan.code === 0 ? 'converged' : 'NOT converged';
  const slowed = run.stdout.split('\n').find((line) => line.startsWith('AWS throttled'))?.trim() ?? '(irsa printed no throttling line)';
  rows.push(irsaRow(`fresh apply, N=${n}, Throttling above ${throttleRps}/s`, run, n, 'same, unthrottled', unthrottled ?? null,
    unthrottled ? `${(run.ms / unthrottled.ms).toFixed(2)}× slower, ${converged}` : converged));
  notes.push(`throttled apply: the proxy answered Throttling ${throttled} times${window ? ` over ${seconds(window.last - window.first)}` : ''}; irsa made ${run.retries} retries and said: "${slowed}"; re-plan afterwards: ${converged}`);
}

async function startupRow(): Promise<Row> {
  const helpTimes: number[] = [];
  const nodeTimes: number[] = [];
  const once = (args: string[]) => {
    const started = performance.now();
    execFileSync(process.execPath, args, { stdio: 'ignore' });
    return performance.now() - started;
  };
  for (let i = 0; i < 20; i++) {
    helpTimes.push(once([IRSA, '--help']));
    nodeTimes.push(once(['-e', '0']));
  }
  return ['irsa --help', `${median(helpTimes).toFixed(0)} ms`, `node -e 0: ${median(nodeTimes).toFixed(0)} ms`, `${(median(helpTimes) / median(nodeTimes)).toFixed(2)}× bare Node`, String(median(helpTimes) / median(nodeTimes))];
}

const table = (header: string[], body: string[][]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');

async function main() {
  // IRSA_STACK (from `npm run stack`) reuses a running stack, which the benchmark resets.
  const infoPath = process.env['IRSA_STACK'];
  if (infoPath) log(`using the running stack ${infoPath}`);
  else log('starting the local stack …');
  const stack = infoPath ? attachStack(readStackInfo(infoPath)) : await startStack({ onProgress: log });
  const results: ModeResult[] = [];
  let startup: Row;
  try {
    for (const mode of modes) results.push(await runMode(stack, mode));
    startup = await startupRow();
  } finally {
    await stack.stop();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`\nirsa benchmark (${new Date().toISOString()}, Node ${process.version}, concurrency ${CONCURRENCY}, local stack: moto + kube-apiserver)`);
  const header = ['measure', 'irsa', 'AWS calls/binding', 'k8s calls/binding', 'round trips', 'baseline', 'baseline time', 'baseline AWS calls/binding', 'baseline round trips', 'ratio'];
  for (const result of results) {
    console.log(`\n### ${result.mode.name}\n`);
    console.log(table(header, result.rows));
    console.log('');
    for (const note of result.notes) console.log(`- ${note}`);
  }
  console.log(`\n${table(['start-up', 'irsa', 'baseline', 'ratio'], [startup!.slice(0, 4)])}`);

  // The issue's goals, judged on the latency table (or the only table there is).
  const judged = results.at(-1)!;
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'not measured' : ok ? 'met' : 'MISSED');
  const g = judged.goals;
  const largest = Math.max(...sizes);
  console.log(`\nGoals (${judged.mode.name}):`);
  console.log(`- converged re-plan of ${largest}: ${g.replanCallsPerBinding ?? '?'} AWS calls/binding (goal ≤ 0.2): ${verdict(g.replanCallsPerBinding === undefined ? undefined : g.replanCallsPerBinding <= 0.2)}`);
  console.log(`- converged re-plan of ${largest}: ${g.replanVsReadFloor?.toFixed(2) ?? '?'}× the per-role read floor (goal ≤ 0.5×): ${verdict(g.replanVsReadFloor === undefined ? undefined : g.replanVsReadFloor <= 0.5)}`);
  console.log(`- fresh apply of ${largest}: ${g.applyVsWriteFloor?.toFixed(2) ?? '?'}× the raw write floor (goal ≤ 1.5×): ${verdict(g.applyVsWriteFloor === undefined ? undefined : g.applyVsWriteFloor <= 1.5)}`);
  for (const size of sizes) {
    const ratio = g.loopRatio[size];
    console.log(`- fresh apply of ${size}: ${ratio?.toFixed(1) ?? '?'}× faster than the aws CLI + kubectl loop (goal ≥ 50×): ${verdict(ratio === undefined ? undefined : ratio >= 50)}`);
  }
  const helpRatio = Number(startup![4]);
  console.log(`- irsa --help: ${helpRatio.toFixed(2)}× node -e 0 (goal ≤ 3×): ${verdict(helpRatio <= 3)}`);
}

await main();
