// irsa migrate of 10 ServiceAccounts on 10 roles: the batch path of the trust lock (issue 22,
// engine/trust-batch.ts). At TRUST_BATCH_MIN (8) trust changes or more, migrate takes every role's
// Lease at once (all or none, no waiting) before its first role read, keeps them from step 1 to
// step 5 and writes each trust with one UpdateAssumeRolePolicy (no re-check, no read-back under the
// lock). The other integration files use fewer roles, so only this file reaches that path:
// 1. there and back: byte-identical trusts, and the call counts that show the batch ran;
// 2. killed while holding the batch's Leases (in step 1, and at step 5's first write): the re-run
//    meets 10 Leases still held, falls back to a lock per role, takes each over once it expires,
//    and ends exactly where an uninterrupted migration ends;
// 3. a create-sa-role on one of the batch's roles at the same time: both exit 0, nothing is lost.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { setPodIdentityServiceAccounts } from '../harness/stack.ts';
import { DescribePodIdentityAssociationCommand, EKSClient, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { aws, irsa, IRSA_BIN, kubectl } from './helpers/cli.ts';
import { runKilled } from './helpers/migrate-kill.ts';
import type { PolicyDocument } from '../../src/core/trust-policy.ts';
import { LEASE_NAMESPACE, leaseNameForRole, TRUST_DIGEST_ANNOTATION, trustDigest } from '../../src/engine/trust-lock.ts';
import { TRUST_BATCH_MIN } from '../../src/engine/trust-batch.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
/** 10 ServiceAccounts, one role each: above TRUST_BATCH_MIN, so both steps' trust writes are a batch. */
const COUNT = 10;
const NAMES = Array.from({ length: COUNT }, (_, i) => `svc-${i}`);
let sequence = 0;
/**
 * GetRole calls per role in a migration that runs as a batch: step 1's plan read, step 5's plan
 * read and the after-apply check (at 10 roles and --concurrency 16 the cost model of
 * engine/bulk-reads.ts reads one by one rather than in bulk). None per write: a change locked on
 * its own re-checks its role before writing (5 per role in all, as the re-runs of case 2 show).
 */
const READS_PER_ROLE = 3;

const said = (result: { code: number | null; stdout?: string; stderr: string }) => `exit ${result.code}\n${result.stdout ?? ''}\n${result.stderr}`;
const roleOf = (ns: string, i: number) => `${ns}-r${i}`;
const parse = (document: unknown) => (typeof document === 'string' ? JSON.parse(decodeURIComponent(document)) : document);

/** A fresh namespace with svc-0..svc-9, each on its own role, bound with IRSA. */
async function seed(label: string): Promise<string> {
  const ns = `mb${label}-${process.pid}-${++sequence}`;
  await kubectl(stack, ['create', 'namespace', ns]);
  const file = join(mkdtempSync(join(tmpdir(), 'irsa-batch-')), 'irsa.yaml');
  writeFileSync(file, ['version: 1', `cluster: { name: ${stack.clusterName} }`, 'bindings:',
    ...NAMES.map((name, i) => `  - { namespace: ${ns}, name: ${name}, roleName: ${roleOf(ns, i)}, managedPolicies: [${S3_READ}] }`), ''].join('\n'));
  const made = await irsa(stack, ['apply', '-f', file, '--approve']);
  assert.equal(made.code, 0, said(made));
  return ns;
}

const toPodIdentity = (ns: string) => ['migrate', '--cluster', stack.clusterName, '-n', ns, '--to', 'pod-identity', '--install-pod-identity-agent', '--approve', ...NAMES.flatMap((name) => ['--name', name])];
const toIrsa = (ns: string) => ['migrate', '--cluster', stack.clusterName, '-n', ns, '--to', 'irsa', '--approve', ...NAMES.flatMap((name) => ['--name', name])];
/** As EKS keeps the webhook in step with the associations: set before the run, so the proof passes on its first try. */
const expectPodIdentity = (...namespaces: string[]) => setPodIdentityServiceAccounts(stack, namespaces.flatMap((ns) => NAMES.map((serviceAccount) => ({ namespace: ns, serviceAccount }))));
const expectIrsa = () => setPodIdentityServiceAccounts(stack, []);

/** The trust policy of every role of a namespace, as IAM holds it: one `aws iam list-roles` (an independent client), by role name. */
async function trustsOf(ns: string): Promise<Map<string, unknown>> {
  const roles = (await aws(stack, ['iam', 'list-roles'])).Roles as Array<{ RoleName: string; AssumeRolePolicyDocument: unknown }>;
  const trusts = new Map(roles.filter((role) => role.RoleName.startsWith(`${ns}-r`)).map((role) => [role.RoleName, parse(role.AssumeRolePolicyDocument)]));
  assert.equal(trusts.size, COUNT, `the ${COUNT} roles of ${ns}`);
  return trusts;
}

let eksClient: EKSClient | undefined;
/** The EKS API through the SDK (ten describes without ten aws CLI processes). */
const eks = () => (eksClient ??= new EKSClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials: { accessKeyId: stack.env['AWS_ACCESS_KEY_ID']!, secretAccessKey: stack.env['AWS_SECRET_ACCESS_KEY']! }, maxAttempts: 3 }));

/** What a migration leaves, with the namespace name replaced: raw trust documents, associations, annotations. */
async function snapshot(ns: string) {
  const scrub = (value: unknown) => JSON.stringify(value).split(ns).join('NS');
  const byName = await trustsOf(ns);
  const trusts = NAMES.map((_, i) => scrub(byName.get(roleOf(ns, i))));
  const listed = (await eks().send(new ListPodIdentityAssociationsCommand({ clusterName: stack.clusterName, namespace: ns }))).associations ?? [];
  const associations = (await Promise.all(listed.map(async ({ associationId }) => {
    const a = (await eks().send(new DescribePodIdentityAssociationCommand({ clusterName: stack.clusterName, associationId }))).association!;
    return scrub({ serviceAccount: a.serviceAccount, roleArn: a.roleArn, targetRoleArn: a.targetRoleArn ?? null, disableSessionTags: a.disableSessionTags ?? false, tags: a.tags ?? {} });
  }))).sort();
  const sas = (await kubectl(stack, ['get', 'sa', '-n', ns, '-o', 'json'])).items as Array<{ metadata: { name: string; annotations?: Record<string, string> } }>;
  const annotations = NAMES.map((name) => scrub(sas.find((sa) => sa.metadata.name === name)?.metadata.annotations ?? {}));
  return { trusts, associations, annotations };
}

interface LeaseItem { metadata: { name: string; annotations?: Record<string, string> }; spec: { holderIdentity?: string; leaseTransitions?: number } }
async function leasesByName(): Promise<Map<string, LeaseItem>> {
  const listed = await kubectl(stack, ['get', 'lease', '-n', LEASE_NAMESPACE, '-l', 'app.kubernetes.io/managed-by=irsa', '-o', 'json']);
  return new Map((listed.items as LeaseItem[]).map((item) => [item.metadata.name, item]));
}

/** Every role's Lease is released and records the digest of the trust IAM holds now. */
async function assertLeasesReleased(ns: string, when: string): Promise<void> {
  const [leases, trusts] = await Promise.all([leasesByName(), trustsOf(ns)]);
  for (let i = 0; i < COUNT; i++) {
    const role = roleOf(ns, i);
    const lease = leases.get(leaseNameForRole(role));
    assert.ok(lease, `${when}: role ${role} has its Lease ${leaseNameForRole(role)}`);
    assert.equal(lease.spec.holderIdentity, undefined, `${when}: the Lease of ${role} was released`);
    assert.equal(lease.metadata.annotations?.[TRUST_DIGEST_ANNOTATION], trustDigest(trusts.get(role) as PolicyDocument), `${when}: the Lease of ${role} records the digest of the trust IAM holds`);
  }
}

/** The IRSA subjects and the EKS Pod Identity ServiceAccounts (namespace/name) a trust admits. */
function admitted(document: unknown): { irsa: string[]; podIdentity: string[] } {
  const statements = parse(document).Statement as Array<{ Principal?: { Service?: string | string[] }; Condition?: Record<string, Record<string, string | string[]>> }>;
  const values = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  const irsaSubjects: string[] = [];
  const podIdentity: string[] = [];
  for (const statement of statements) {
    const blocks = Object.values(statement.Condition ?? {});
    const key = (suffix: string) => blocks.flatMap((block) => Object.entries(block).filter(([k]) => k.endsWith(suffix)).flatMap(([, v]) => values(v)));
    if (values(statement.Principal?.Service).includes('pods.eks.amazonaws.com')) {
      for (const ns of key('kubernetes-namespace')) for (const sa of key('kubernetes-service-account')) podIdentity.push(`${ns}/${sa}`);
    } else {
      irsaSubjects.push(...key(':sub'));
    }
  }
  return { irsa: irsaSubjects.sort(), podIdentity: podIdentity.sort() };
}


interface Run { code: number | null; stdout: string; stderr: string; calls: Record<string, number> }

/**
 * Starts irsa (as helpers/cli.ts irsa() does, with IRSA_STATS_FILE); `onLine` sees each stderr line
 * as it comes (with `verbose`, one per API call, written before the request leaves).
 */
function launch(args: string[], extraEnv: Record<string, string>, onLine?: (line: string) => void, options: { verbose?: boolean } = {}): { done: Promise<Run> } {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-launch-'));
  const statsFile = join(dir, 'stats.json');
  const child = spawn(process.execPath, [IRSA_BIN, ...args, ...(options.verbose ? ['--verbose'] : [])], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...stack.env, IRSA_STATS_FILE: statsFile, NO_COLOR: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) onLine?.(line);
  });
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code) => {
      let calls: Record<string, number> = {};
      try {
        calls = JSON.parse(readFileSync(statsFile, 'utf8')).calls;
      } catch {
        calls = {};
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, calls });
    });
  });
  return { done };
}

/**
 * A loopback proxy to moto that holds back the first IAM request `hold` picks (by its Action and
 * how many of that Action came before, counting from 1) until release(): a run stopped at a
 * chosen write, holding its Leases, while the test starts the other run.
 */
async function startGate(hold: (action: string, n: number) => boolean): Promise<{ url: string; held: Promise<void>; release: () => void; close: () => Promise<void> }> {
  const upstream = new URL(stack.awsEndpoint);
  let reached!: () => void;
  const held = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const counts = new Map<string, number>();
  let holding = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = /(?:^|&)Action=(\w+)/.exec(body.toString())?.[1] ?? '';
      const n = (counts.get(action) ?? 0) + 1;
      counts.set(action, n);
      const forward = () => {
        const upstreamRequest = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        });
        upstreamRequest.on('error', () => res.destroy());
        upstreamRequest.end(body);
      };
      if (!holding && action && hold(action, n)) {
        holding = true;
        reached();
        void released.then(forward);
      } else {
        forward();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    release,
    close: async () => {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe(`irsa migrate of ${COUNT} ServiceAccounts on ${COUNT} roles: the trust-lock batch`, { skip }, () => {
  before(async () => {
    assert.ok(COUNT >= TRUST_BATCH_MIN, 'enough roles for a batch');
    await stack.resetAws();
    // The agent add-on exists beforehand, so every run (reference or killed) makes the same writes.
    await aws(stack, ['eks', 'create-addon', '--cluster-name', stack.clusterName, '--addon-name', 'eks-pod-identity-agent']);
  });
  after(() => eksClient?.destroy());

  it('there and back: one write per trust change, one LIST of Leases, no GetRole per write; trusts byte-identical at the end; Leases released with the digest of what IAM holds', async (t) => {
    const ns = await seed('1');
    const start = await snapshot(ns);

    await expectPodIdentity(ns);
    let started = Date.now();
    const there = await irsa(stack, toPodIdentity(ns));
    assert.equal(there.code, 0, said(there));
    t.diagnostic(`--to pod-identity in ${((Date.now() - started) / 1000).toFixed(1)} s, calls: ${JSON.stringify(there.calls)}`);
    assert.equal(there.calls['iam UpdateAssumeRolePolicy'], 2 * COUNT, 'one write per role in step 1 and one in step 5');
    assert.equal(there.calls['iam GetRole'], READS_PER_ROLE * COUNT, 'GetRole only for the reads (step 1\'s plan, step 5\'s plan, the after-apply check): no re-check or read-back per write under the batch\'s locks');
    assert.equal(there.calls['k8s LIST leases'], 1, 'the batch\'s Leases are taken with one LIST');
    assert.equal(there.calls['k8s GET leases'] ?? 0, 0, 'no Lease read one by one');
    assert.equal(there.calls['k8s POST leases'], COUNT, 'each Lease created once (none existed)');
    assert.equal(there.calls['k8s PUT leases'], COUNT, 'each Lease released once, at the end (kept from step 1 to step 5)');
    assert.doesNotMatch(there.stderr, /waiting for the trust lock/);
    const moved = await snapshot(ns);
    assert.equal(moved.associations.length, COUNT);
    assert.ok(moved.annotations.every((a) => !a.includes(ROLE_ARN_ANNOTATION)), `annotations gone: ${moved.annotations}`);
    for (let i = 0; i < COUNT; i++) {
      assert.deepEqual(admitted(JSON.parse(moved.trusts[i]!.split('NS').join(ns))), { irsa: [], podIdentity: [`${ns}/${NAMES[i]}`] }, `role ${i} after --to pod-identity`);
    }
    await assertLeasesReleased(ns, '--to pod-identity');

    await expectIrsa();
    started = Date.now();
    const back = await irsa(stack, toIrsa(ns));
    assert.equal(back.code, 0, said(back));
    t.diagnostic(`--to irsa in ${((Date.now() - started) / 1000).toFixed(1)} s, calls: ${JSON.stringify(back.calls)}`);
    assert.equal(back.calls['iam UpdateAssumeRolePolicy'], 2 * COUNT);
    assert.equal(back.calls['iam GetRole'], READS_PER_ROLE * COUNT, 'no re-check or read-back per write');
    assert.equal(back.calls['k8s LIST leases'], 1);
    assert.equal(back.calls['k8s GET leases'] ?? 0, 0);
    assert.equal(back.calls['k8s POST leases'] ?? 0, 0, 'the Leases exist: taken by a replace, not created');
    assert.equal(back.calls['k8s PUT leases'], 2 * COUNT, 'each Lease taken once and released once');
    const end = await snapshot(ns);
    assert.deepEqual(end.trusts, start.trusts, 'trust policies byte-identical to the start');
    assert.deepEqual(end.associations, [], 'associations gone');
    assert.deepEqual(end.annotations, start.annotations, 'annotations back');
    await assertLeasesReleased(ns, '--to irsa');
  });

  it('killed while holding the batch\'s Leases (step 1\'s 3rd write; step 5\'s first write): the re-run takes each Lease over and ends where an uninterrupted migration ends', async (t) => {
    const referenceNs = await seed('r');
    const killedNs = [await seed('ka'), await seed('kb')];
    await expectPodIdentity(referenceNs, ...killedNs);
    const uninterrupted = await runKilled(stack, toPodIdentity(referenceNs));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
    const reference = await snapshot(referenceNs);
    const { writes } = uninterrupted;
    t.diagnostic(`${writes.length} writes: ${writes.map((w) => w.replace(/ \/\S*$/, '')).join(', ')}`);
    // Step 5 starts once steps 1–3 are applied: its first write follows the last association.
    const lastAssociation = writes.findLastIndex((w) => /CreatePodIdentityAssociation/.test(w));
    assert.ok(lastAssociation >= COUNT - 1, 'steps 1–3 create an association per ServiceAccount');
    const step5 = lastAssociation + 2;
    assert.ok(/UpdateAssumeRolePolicy/.test(writes[2]!), `the 3rd write is a trust write of step 1: ${writes[2]}`);
    assert.ok(/UpdateAssumeRolePolicy|serviceaccounts/.test(writes[step5 - 1]!), `write ${step5} is step 5's: ${writes[step5 - 1]}`);

    for (const [index, [where, k]] of ([['step 1', 3], ['step 5', step5]] as const).entries()) {
      const ns = killedNs[index]!;
      const killed = await runKilled(stack, toPodIdentity(ns), k);
      assert.ok(killed.killed, `${where}: killed at write ${k} (${killed.writes.at(-1)})\n${killed.stderr}`);
      const leases = await leasesByName();
      const held = NAMES.map((_, i) => leases.get(leaseNameForRole(roleOf(ns, i)))?.spec.holderIdentity ?? '');
      assert.ok(held.every((holder) => holder.includes(`/pid-${killed.pid}/`)), `${where}: the killed run held all ${COUNT} Leases: ${held.join(', ')}`);

      const started = Date.now();
      const rerun = await irsa(stack, toPodIdentity(ns));
      const seconds = (Date.now() - started) / 1000;
      assert.equal(rerun.code, 0, `${where} (killed at ${killed.writes.at(-1)}): the re-run converges\n${said(rerun)}`);
      const text = rerun.stdout + rerun.stderr;
      const waited = text.match(/waiting for the trust lock of role/g)?.length ?? 0;
      const tookOver = text.match(/took over the trust lock of role/g)?.length ?? 0;
      assert.match(rerun.stderr, new RegExp(`waiting for the trust lock of role ${ns}-r\\d: Lease kube-system/irsa-trust-\\S+ is held by irsa@[^ ]*/pid-${killed.pid}/`), 'the re-run met the dead run\'s Leases');
      assert.ok(tookOver >= 1, `${where}: the re-run took the dead run's Leases over\n${text}`);
      assert.ok((rerun.calls['k8s GET leases'] ?? 0) > 0, `${where}: the batch took none of the held Leases; each change locked on its own`);
      t.diagnostic(`${where} (killed at write ${k}: ${killed.writes.at(-1)}): re-run exit 0 in ${seconds.toFixed(1)} s; waited for ${waited} Leases, took over ${tookOver}; calls ${JSON.stringify(rerun.calls)}`);
      assert.deepEqual(await snapshot(ns), reference, `${where}: ends where the uninterrupted migration ends`);
      await assertLeasesReleased(ns, `${where} re-run`);
    }
  });

  it('a create-sa-role on one of the batch\'s roles during the migration: both exit 0, and that role trusts both the new ServiceAccount (IRSA) and the migrated one (EKS Pod Identity)', async (t) => {
    // Three orders, each in a fresh namespace:
    // - together, with IAM writes delayed by 0–300 ms (concurrent-runs.test.ts's fault proxy): either order;
    // - the migration first: create-sa-role starts while the migration holds its batch (its step 5's
    //   first trust write held back), and must wait for the kept Lease until the migration ends;
    // - create-sa-role first: the migration starts while create-sa-role holds role 3's Lease (its
    //   trust write held back), so the batch keeps nothing; the migration reads role 3, then
    //   create-sa-role writes it; the migration's change of role 3 waits for the Lease and finds a
    //   trust it did not plan from (an IRSA subject more): re-derived, not stale.
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, writeDelayMs: { max: 300 }, seed: 2223 });
    try {
      const namespaces = [await seed('ct'), await seed('cm'), await seed('cc')];
      await expectPodIdentity(...namespaces);
      const arnOf = async (ns: string) => `arn:aws:iam::${stack.accountId}:role/${roleOf(ns, 3)}`;
      const createSaRole = (ns: string, arn: string) => ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'newcomer', '--attach-role-arn', arn, '--approve'];
      const waitedFor = (ns: string, result: Run) => new RegExp(`waiting for the trust lock of role ${roleOf(ns, 3)}:`).test(result.stderr);
      const check = async (ns: string, label: string, migrated: Run, created: Run) => {
        assert.equal(migrated.code, 0, `${label}, migrate: ${said(migrated)}`);
        assert.equal(created.code, 0, `${label}, create-sa-role: ${said(created)}`);
        const trusts = await trustsOf(ns);
        for (let i = 0; i < COUNT; i++) {
          const trust = trusts.get(roleOf(ns, i));
          const expected = { irsa: i === 3 ? [`system:serviceaccount:${ns}:newcomer`] : [], podIdentity: [`${ns}/${NAMES[i]}`] };
          assert.deepEqual(admitted(trust), expected, `${label}: role ${roleOf(ns, i)} (nothing lost)`);
        }
        const newcomer = await kubectl(stack, ['get', 'sa', 'newcomer', '-n', ns, '-o', 'json']);
        assert.equal(newcomer.metadata.annotations?.[ROLE_ARN_ANNOTATION], await arnOf(ns));
        const leases = await leasesByName();
        for (let i = 0; i < COUNT; i++) assert.equal(leases.get(leaseNameForRole(roleOf(ns, i)))?.spec.holderIdentity, undefined, `${label}: the Lease of role ${i} was released`);
        const batch = (migrated.calls['k8s GET leases'] ?? 0) === 0;
        t.diagnostic(`${label}: migrate ${batch ? 'kept its batch' : 'fell back to a lock per role'}${waitedFor(ns, migrated) ? ' and waited for role 3' : ''}; create-sa-role ${waitedFor(ns, created) ? 'waited for the Lease' : 'did not wait'}; migrate UpdateAssumeRolePolicy ${migrated.calls['iam UpdateAssumeRolePolicy']}, GetRole ${migrated.calls['iam GetRole'] ?? 0}`);
        return batch;
      };

      // Together, IAM writes delayed at random.
      {
        const ns = namespaces[0]!;
        const arn = await arnOf(ns);
        const [migrated, created] = await Promise.all([launch(toPodIdentity(ns), { AWS_ENDPOINT_URL: proxy.url }).done, launch(createSaRole(ns, arn), { AWS_ENDPOINT_URL: proxy.url }).done]);
        await check(ns, 'together', migrated, created);
      }

      // The migration first: held at its step 5's first trust write (the 11th) until create-sa-role waits.
      {
        const ns = namespaces[1]!;
        const arn = await arnOf(ns);
        const gate = await startGate((action, n) => action === 'UpdateAssumeRolePolicy' && n === COUNT + 1);
        try {
          const migrating = launch(toPodIdentity(ns), { AWS_ENDPOINT_URL: gate.url });
          await Promise.race([gate.held, migrating.done]);
          const creating = launch(createSaRole(ns, arn), { AWS_ENDPOINT_URL: proxy.url }, (line) => {
            if (line.startsWith('waiting for the trust lock')) gate.release();
          });
          creating.done.then(gate.release, gate.release);
          const [migrated, created] = await Promise.all([migrating.done, creating.done]);
          const batch = await check(ns, 'migration first', migrated, created);
          assert.ok(batch, 'the migration kept its batch (no Lease read one by one)');
          assert.ok(waitedFor(ns, created), `create-sa-role waited for the Lease the batch kept: ${said(created)}`);
        } finally {
          await gate.close();
        }
      }

      // create-sa-role first: held at its trust write (its Lease taken) until the migration has read every role.
      {
        const ns = namespaces[2]!;
        const arn = await arnOf(ns);
        const gate = await startGate((action) => action === 'UpdateAssumeRolePolicy');
        try {
          const creating = launch(createSaRole(ns, arn), { AWS_ENDPOINT_URL: gate.url });
          await Promise.race([gate.held, creating.done]);
          let read = 0;
          const migrating = launch(toPodIdentity(ns), { AWS_ENDPOINT_URL: proxy.url }, (line) => {
            // The plan's read of each role: GetRole, then its policies (engine/bulk-reads.ts per-role reads); in bulk, one call.
            if (/^ {2}aws iam (ListAttachedRolePolicies|GetAccountAuthorizationDetails)/.test(line) && ++read >= (line.includes('GetAccountAuthorizationDetails') ? 1 : COUNT)) gate.release();
          }, { verbose: true });
          migrating.done.then(gate.release, gate.release);
          const [migrated, created] = await Promise.all([migrating.done, creating.done]);
          const batch = await check(ns, 'create-sa-role first', migrated, created);
          assert.ok(!batch, 'role 3\'s Lease was held when the migration looked: no batch, a lock per role');
          assert.match(migrated.stderr, new RegExp(`the trust policy of ${roleOf(ns, 3)} changed after the plan was made; this change's subjects were merged into the current policy`));
        } finally {
          await gate.close();
        }
      }
    } finally {
      await proxy.close();
    }
  });
});
