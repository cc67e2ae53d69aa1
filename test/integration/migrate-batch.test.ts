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

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.ts';
import { setPodIdentityServiceAccounts, type StackInfo } from '../harness/stack.ts';
import { aws, irsa, IRSA_BIN, kubectl } from './helpers/cli.ts';
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

/** What a migration leaves, with the namespace name replaced: raw trust documents, associations, annotations. */
async function snapshot(ns: string) {
  const scrub = (value: unknown) => JSON.stringify(value).split(ns).join('NS');
  const trusts = await Promise.all(NAMES.map(async (_, i) => scrub((await aws(stack, ['iam', 'get-role', '--role-name', roleOf(ns, i)])).Role.AssumeRolePolicyDocument)));
  const listed = (await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns])).associations as Array<{ associationId: string }>;
  const associations = (await Promise.all(listed.map(async ({ associationId }) => {
    const a = (await aws(stack, ['eks', 'describe-pod-identity-association', '--cluster-name', stack.clusterName, '--association-id', associationId])).association;
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
  const leases = await leasesByName();
  for (let i = 0; i < COUNT; i++) {
    const role = roleOf(ns, i);
    const lease = leases.get(leaseNameForRole(role));
    assert.ok(lease, `${when}: role ${role} has its Lease ${leaseNameForRole(role)}`);
    assert.equal(lease.spec.holderIdentity, undefined, `${when}: the Lease of ${role} was released`);
    const trust = parse((await aws(stack, ['iam', 'get-role', '--role-name', role])).Role.AssumeRolePolicyDocument);
    assert.equal(lease.metadata.annotations?.[TRUST_DIGEST_ANNOTATION], trustDigest(trust), `${when}: the Lease of ${role} records the digest of the trust IAM holds`);
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

/** A write the migration makes: AWS operations other than Get/List/Describe, Kubernetes non-GET verbs except Leases and dry runs. */
function isMigrationWrite(line: string): boolean {
  const awsCall = /^ {2}aws (\w+) (\w+)/.exec(line);
  if (awsCall) return !/^(Get|List|Describe)/.test(awsCall[2]!) && awsCall[1] !== 'sts';
  const k8s = /^ {2}k8s (POST|PUT|PATCH|DELETE) (\S+)/.exec(line);
  return !!k8s && !k8s[2]!.includes('/leases') && !k8s[2]!.includes('dryRun');
}

/** Runs irsa --verbose; SIGKILLs it when it starts its `killAt`-th migration write (never when killAt is undefined). */
function runKilled(info: Pick<StackInfo, 'env'>, args: string[], killAt?: number): Promise<{ writes: string[]; killed: boolean; code: number | null; stderr: string; pid: number }> {
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

describe(`irsa migrate of ${COUNT} ServiceAccounts on ${COUNT} roles: the trust-lock batch`, { skip }, () => {
  before(async () => {
    assert.ok(COUNT >= TRUST_BATCH_MIN, 'enough roles for a batch');
    await stack.resetAws();
    // The agent add-on exists beforehand, so every run (reference or killed) makes the same writes.
    await aws(stack, ['eks', 'create-addon', '--cluster-name', stack.clusterName, '--addon-name', 'eks-pod-identity-agent']);
  });

  it('there and back: one write per trust change, one LIST of Leases, no GetRole per write; trusts byte-identical at the end; Leases released with the digest of what IAM holds', async (t) => {
    const ns = await seed('1');
    const start = await snapshot(ns);

    await expectPodIdentity(ns);
    const there = await irsa(stack, toPodIdentity(ns));
    assert.equal(there.code, 0, said(there));
    t.diagnostic(`--to pod-identity calls: ${JSON.stringify(there.calls)}`);
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
    const back = await irsa(stack, toIrsa(ns));
    assert.equal(back.code, 0, said(back));
    t.diagnostic(`--to irsa calls: ${JSON.stringify(back.calls)}`);
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
    let proxy: FaultProxy | undefined;
    try {
      // IAM writes delayed by 0–300 ms, so the two runs' calls interleave (as in concurrent-runs.test.ts).
      proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, writeDelayMs: { max: 300 }, seed: 2223 });
      const env = { AWS_ENDPOINT_URL: proxy.url };
      // Who starts first varies: together; create-sa-role first (it holds role 3's Lease when the batch
      // looks: no batch); the migration first (create-sa-role waits for the batch's kept Lease).
      const rounds: Array<{ migrateAfterMs: number; createAfterMs: number }> = [
        { migrateAfterMs: 0, createAfterMs: 0 },
        { migrateAfterMs: 1500, createAfterMs: 0 },
        { migrateAfterMs: 0, createAfterMs: 2500 },
      ];
      const namespaces: string[] = [];
      for (let round = 0; round < rounds.length; round++) namespaces.push(await seed(`c${round}`));
      await expectPodIdentity(...namespaces);
      const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      for (const [round, { migrateAfterMs, createAfterMs }] of rounds.entries()) {
        const ns = namespaces[round]!;
        const shared = roleOf(ns, 3);
        const sharedArn = (await aws(stack, ['iam', 'get-role', '--role-name', shared])).Role.Arn as string;
        const [migrated, created] = await Promise.all([
          later(migrateAfterMs).then(() => irsa(stack, toPodIdentity(ns), env)),
          later(createAfterMs).then(() => irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'newcomer', '--attach-role-arn', sharedArn, '--approve'], env)),
        ]);
        assert.equal(migrated.code, 0, `round ${round}, migrate: ${said(migrated)}`);
        assert.equal(created.code, 0, `round ${round}, create-sa-role: ${said(created)}`);
        const batch = (migrated.calls['k8s GET leases'] ?? 0) === 0;
        t.diagnostic(`round ${round}: migrate ${batch ? 'kept its batch' : 'fell back to a lock per role'}${/waiting for the trust lock/.test(migrated.stderr) ? ' and waited' : ''}; create-sa-role ${/waiting for the trust lock/.test(created.stderr) ? 'waited for the Lease' : 'did not wait'}; migrate UpdateAssumeRolePolicy ${migrated.calls['iam UpdateAssumeRolePolicy']}, GetRole ${migrated.calls['iam GetRole'] ?? 0}`);
        for (let i = 0; i < COUNT; i++) {
          const trust = (await aws(stack, ['iam', 'get-role', '--role-name', roleOf(ns, i)])).Role.AssumeRolePolicyDocument;
          const expected = { irsa: i === 3 ? [`system:serviceaccount:${ns}:newcomer`] : [], podIdentity: [`${ns}/${NAMES[i]}`] };
          assert.deepEqual(admitted(trust), expected, `round ${round}: role ${roleOf(ns, i)}`);
        }
        const newcomer = await kubectl(stack, ['get', 'sa', 'newcomer', '-n', ns, '-o', 'json']);
        assert.equal(newcomer.metadata.annotations?.[ROLE_ARN_ANNOTATION], sharedArn);
        const leases = await leasesByName();
        for (let i = 0; i < COUNT; i++) assert.equal(leases.get(leaseNameForRole(roleOf(ns, i)))?.spec.holderIdentity, undefined, `round ${round}: Lease of role ${i} released`);
      }
    } finally {
      await proxy?.close();
    }
  });
});
