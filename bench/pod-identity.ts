// EKS Pod Identity scenarios of the benchmark (issue 22), run by bench/run.ts in each mode:
//   - `irsa migrate --to pod-identity` of 100 ServiceAccounts (one role each) vs. its raw write
//     floor (bench/raw-migration-floor.ts: the same writes, made raw with the SDKs);
//   - a converged re-plan of 100 Pod Identity bindings: AWS calls per binding.
// The webhook's container-credentials config names the ServiceAccounts before the migration (as
// EKS keeps it in step with the associations), so the dry-run proof passes on the first try.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { setPodIdentityServiceAccounts, type Stack } from '../test/harness/stack.ts';

const RAW_MIGRATION_FLOOR = new URL('./raw-migration-floor.ts', import.meta.url).pathname;
const IRSA = new URL('../bin/irsa', import.meta.url).pathname;
const N = 100;
/** irsa migrate runs at --concurrency 16 (its default, as apply's); the floor gets the same. */
const MIGRATE_CONCURRENCY = 16;

interface TimedRun { ms: number; calls?: Record<string, number> }

export interface PodIdentityBench<Net, Run extends TimedRun, Row> {
  stack: Stack;
  net: Net & { mode: { name: string } };
  work: string;
  repeats: number;
  timed(net: Net, command: string, args: string[], okCodes?: number[]): Promise<Run>;
  freshNamespace(stack: Stack, label: string): string;
  irsaRow(measure: string, run: Run, n: number, baseline: string, baselineRun: Run | null, ratio: string): Row;
  rows: Row[];
  notes: string[];
  log(message: string): void;
}

const awsCalls = (calls: Record<string, number> | undefined) =>
  Object.entries(calls ?? {}).filter(([name]) => !name.startsWith('k8s ') && !name.startsWith('tls ')).reduce((sum, [, count]) => sum + count, 0);

export async function podIdentityScenarios<Net, Run extends TimedRun, Row>(b: PodIdentityBench<Net, Run, Row>): Promise<void> {
  const { stack, net, timed } = b;
  const bindings = (ns: string, mechanism?: 'pod-identity') => Array.from({ length: N }, (_, i) => ({
    namespace: ns, name: `svc-${i}`, roleName: `${ns}-svc-${i}`,
    ...(mechanism ? { mechanism, installPodIdentityAgent: true } : { managedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] }),
  }));
  const yamlFor = (ns: string, list: Array<Record<string, unknown>>) => {
    const file = join(b.work, `${ns}.yaml`);
    writeFileSync(file, stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings: list }));
    return file;
  };
  const setUpIrsa = async (label: string) => {
    const ns = b.freshNamespace(stack, label);
    await timed(net, process.execPath, [IRSA, 'apply', '-f', yamlFor(ns, bindings(ns)), '--approve', '--concurrency', '16']);
    return ns;
  };
  // The agent add-on (once per cluster) and the webhook's config, before anything is timed.
  const agent = execFileSync('aws', ['eks', 'list-addons', '--cluster-name', stack.clusterName, '--output', 'json'], { env: { ...process.env, ...stack.env } }).toString();
  if (!agent.includes('eks-pod-identity-agent')) execFileSync('aws', ['eks', 'create-addon', '--cluster-name', stack.clusterName, '--addon-name', 'eks-pod-identity-agent'], { env: { ...process.env, ...stack.env }, stdio: 'ignore' });

  b.log(`[${net.mode.name}] irsa migrate --to pod-identity of ${N} ServiceAccounts vs. its raw write floor …`);
  const migNs = await setUpIrsa(`pimig-${N}`);
  const floorNs = await setUpIrsa(`pifloor-${N}`);
  await setPodIdentityServiceAccounts(stack, [migNs, floorNs].flatMap((namespace) => Array.from({ length: N }, (_, i) => ({ namespace, serviceAccount: `svc-${i}` }))));
  const migrated = await timed(net, process.execPath, [IRSA, 'migrate', '--cluster', stack.clusterName, '-n', migNs, '--to', 'pod-identity', '--approve', '--concurrency', String(MIGRATE_CONCURRENCY)]);
  const clusterArn = JSON.parse(execFileSync('aws', ['eks', 'describe-cluster', '--name', stack.clusterName, '--output', 'json'], { env: { ...process.env, ...stack.env } }).toString()).cluster.arn as string;
  const input = join(b.work, `migration-floor-${floorNs}.json`);
  writeFileSync(input, JSON.stringify({ accountId: stack.accountId, clusterName: stack.clusterName, clusterArn, issuerHostPath: stack.issuerUrl.replace(/^https:\/\//, ''), bindings: bindings(floorNs) }));
  const floor = await timed(net, process.execPath, [RAW_MIGRATION_FLOOR, input, String(MIGRATE_CONCURRENCY)]);
  b.rows.push(b.irsaRow(`migrate ${N} to Pod Identity`, migrated, N, 'raw write floor', floor, `${(migrated.ms / floor.ms).toFixed(2)}× the floor (goal ≤ 1.5×)`));
  b.notes.push(`migrate ${N} to Pod Identity, calls: ${JSON.stringify(migrated.calls)}`);

  b.log(`[${net.mode.name}] converged re-plan of ${N} Pod Identity bindings, ${b.repeats} runs …`);
  const piNs = b.freshNamespace(stack, `pi-${N}`);
  const file = yamlFor(piNs, bindings(piNs, 'pod-identity'));
  await timed(net, process.execPath, [IRSA, 'apply', '-f', file, '--approve', '--concurrency', '16']);
  const replans: Run[] = [];
  for (let i = 0; i < b.repeats; i++) replans.push(await timed(net, process.execPath, [IRSA, 'plan', '-f', file, '--concurrency', '16', '--detailed-exitcode']));
  const replan = { ...replans.at(-1)!, ms: [...replans.map((r) => r.ms)].sort((x, y) => x - y)[Math.floor(replans.length / 2)]! };
  const perBinding = awsCalls(replan.calls) / N;
  b.rows.push(b.irsaRow(`converged re-plan of ${N} Pod Identity bindings`, replan, N, '—', null, `${perBinding.toFixed(2)} AWS calls/binding (goal ≤ 0.2; API floor ≥ 1.01: one Describe per association)`));
  b.notes.push(`converged re-plan of ${N} Pod Identity bindings, calls: ${JSON.stringify(replan.calls)}`);
}
