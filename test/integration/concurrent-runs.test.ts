// Concurrent runs on one shared role never lose a subject, and never exit 0 without their change
// (issue 21). Each round starts several irsa processes together against the local stack, with
// the fault proxy delaying every IAM write by a random 0–300 ms so that their reads and writes
// interleave in every order; after each round the trust policy is read with the aws CLI (an
// independent client) and compared with what each run's exit code says happened.
// - With a cluster: the runs serialise on a coordination.k8s.io Lease per role (engine/trust-lock.ts)
//   in the real apiserver, so every run succeeds and the trust is exact.
// - Without one (role-only --issuer-url bindings, and irsa.yaml files of two issuers sharing a
//   role): the fallback, write then read back and merge again (bounded); a run that exits 0 has its
//   change in place, a run that fails says which subject and leaves its subject as it was.
// - A run killed while holding the Lease is taken over once the Lease expires.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.ts';
import { irsa, IRSA_BIN, kubectl, trustSubjects as trustSubjectsOf, type IrsaResult } from './helpers/cli.ts';

const { stack, skip } = await useStack();

const ROUNDS = 10;

const trustSubjects = (roleName: string) => trustSubjectsOf(stack, roleName);

const subject = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;
const said = (result: IrsaResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;

interface Op {
  kind: 'add' | 'remove';
  sa: string;
  result: IrsaResult;
}

/**
 * The subjects after a round, from what each run's exit code says happened: a run that exited 0
 * has its change in place; one that failed left its subject as it was.
 */
function expectedAfter(previous: Set<string>, ops: Op[], namespace: string): string[] {
  const next = new Set(previous);
  for (const op of ops) {
    if (op.result.code !== 0) continue;
    if (op.kind === 'add') next.add(subject(namespace, op.sa));
    else next.delete(subject(namespace, op.sa));
  }
  return [...next].sort();
}

describe('concurrent runs on one shared role', { skip }, () => {
  let proxy: FaultProxy;
  let env: Record<string, string>;
  before(async () => {
    await stack.resetAws();
    proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, writeDelayMs: { max: 300 }, seed: 2121 });
    env = { AWS_ENDPOINT_URL: proxy.url };
  });
  after(async () => {
    await proxy?.close();
  });

  it(`with a cluster: ${ROUNDS} rounds of 3 create-sa-role and 1 delete-sa-role started together all succeed, serialised by the role's Lease, and the trust is exact`, async () => {
    const ns = `lock-${process.pid}`;
    const roleName = `${ns}-shared`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const create = (name: string) => irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', name, '--role-name', roleName, '--approve'], env);
    const remove = (name: string) => irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', name, '--approve'], env);
    for (const name of ['keep', 'first']) {
      const setup = await create(name);
      assert.equal(setup.code, 0, said(setup));
    }
    let current = new Set([subject(ns, 'keep'), subject(ns, 'first')]);
    let previous = ['first'];
    let waited = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const adds = ['a', 'b', 'c'].map((letter) => `r${round}-${letter}`);
      const gone = previous[round % previous.length]!;
      const ops: Op[] = await Promise.all([
        ...adds.map(async (sa) => ({ kind: 'add' as const, sa, result: await create(sa) })),
        (async () => ({ kind: 'remove' as const, sa: gone, result: await remove(gone) }))(),
      ]);
      for (const op of ops) {
        assert.equal(op.result.code, 0, `round ${round}, ${op.kind} ${op.sa}: ${said(op.result)}`);
        if (/waiting for the trust lock of role/.test(op.result.stderr)) waited++;
        assert.doesNotMatch(op.result.stdout + op.result.stderr, /No trust lock|no trust lock/, 'a run with a cluster ran without the lock');
      }
      const expected = expectedAfter(current, ops, ns);
      assert.deepEqual(await trustSubjects(roleName), expected, `round ${round}`);
      current = new Set(expected);
      previous = adds;
    }
    // The runs really met: at least some of them waited for another's lock.
    assert.ok(waited > 0, 'no run ever waited for the lock: the rounds did not overlap');
    console.log(`with a cluster: ${waited} of ${ROUNDS * 4} runs waited for another run's Lease`);
    const lease = await kubectl(stack, ['get', 'lease', '-n', 'kube-system', '-l', 'app.kubernetes.io/managed-by=irsa', '-o', 'json']);
    const ours = (lease.items as Array<{ spec: { holderIdentity?: string }; metadata: { annotations?: Record<string, string> } }>).filter((item) => item.metadata.annotations?.['irsa/trust-policy-sha256']);
    assert.ok(ours.length >= 1, 'the role\'s Lease exists, with the digest of the trust the last holder left');
    assert.ok(ours.every((item) => !item.spec.holderIdentity), 'every run released its Lease');
  });

  it(`without a cluster (role-only --issuer-url): ${ROUNDS} rounds of 4 runs; every exit code matches what is in the trust`, async () => {
    const ns = `nolock-${process.pid}`;
    const roleName = `${ns}-shared`;
    const common = ['--issuer-url', stack.issuerUrl, '-n', ns, '--role-only'];
    const create = (name: string) => irsa(stack, ['create-sa-role', ...common, '--name', name, '--role-name', roleName, '--approve'], env);
    const remove = (name: string) => irsa(stack, ['delete-sa-role', ...common, '--name', name, '--role-name', roleName, '--approve'], env);
    for (const name of ['keep', 'first']) {
      const setup = await create(name);
      assert.equal(setup.code, 0, said(setup));
    }
    let current = new Set([subject(ns, 'keep'), subject(ns, 'first')]);
    let previous = ['first'];
    let remerged = 0;
    let failed = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const adds = ['a', 'b', 'c'].map((letter) => `r${round}-${letter}`);
      // Only what is in place can be removed (a failed add of the round before is not).
      const present = previous.filter((sa) => current.has(subject(ns, sa)));
      const gone = present[round % Math.max(present.length, 1)] ?? 'keep-not';
      const ops: Op[] = await Promise.all([
        ...adds.map(async (sa) => ({ kind: 'add' as const, sa, result: await create(sa) })),
        (async () => ({ kind: 'remove' as const, sa: gone, result: await remove(gone) }))(),
      ]);
      for (const op of ops) {
        const text = op.result.stdout + op.result.stderr;
        if (op.result.code !== 0) {
          failed++;
          // A failure names the role and the subject it could not put in place.
          assert.match(text, new RegExp(`trust policy of role ${roleName} does not hold this change.*${op.sa}`, 's'), `round ${round}, ${op.kind} ${op.sa}: ${said(op.result)}`);
        } else if (/this change's subjects were merged into the newer policy/.test(text)) {
          remerged++;
        }
        if (op.result.code === 0 && op.kind === 'remove' && /nothing to change|does not trust/.test(text)) continue;
        assert.match(text, /No trust lock/, `round ${round}: the plan says there is no lock`);
      }
      const expected = expectedAfter(current, ops, ns);
      assert.deepEqual(await trustSubjects(roleName), expected, `round ${round}: ${ops.map((op) => `${op.kind} ${op.sa} → ${op.result.code}`).join(', ')}`);
      current = new Set(expected);
      previous = adds;
    }
    console.log(`without a cluster: ${remerged} runs merged into a newer policy after an overwrite, ${failed} of ${ROUNDS * 4} failed naming the subject`);
  });

  it('two irsa apply -f runs whose files (two issuers) share a role: both files\' subjects end in the trust, 5 rounds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-files-'));
    const roleName = `files-${process.pid}`;
    // The same issuer by two names (the serving certificate has both): two "clusters", one role.
    const issuers = { a: stack.issuerUrl, b: stack.issuerUrl.replace('127.0.0.1', 'localhost') };
    const file = (which: 'a' | 'b', round: number) => {
      const path = join(dir, `${which}.yaml`);
      writeFileSync(
        path,
        [
          'cluster:',
          `  name: self-${which}`,
          `  issuerUrl: ${issuers[which]}`,
          ...(which === 'b' ? ['oidcProvider:', '  manage: false'] : []),
          'bindings:',
          `  - namespace: ns-${which}`,
          `    name: sa-${round}`,
          `    roleName: ${roleName}`,
          '    roleOnly: true',
          '',
        ].join('\n'),
      );
      return path;
    };
    try {
      for (let round = 1; round <= 5; round++) {
        const [a, b] = await Promise.all([
          irsa(stack, ['apply', '-f', file('a', round), '--approve'], env),
          irsa(stack, ['apply', '-f', file('b', round), '--approve'], env),
        ]);
        const subjects = await trustSubjects(roleName);
        // Each file is exact for its own issuer: this round's ServiceAccount, the last round's gone.
        for (const [which, result] of [['a', a], ['b', b]] as const) {
          if (result.code === 0) {
            assert.ok(subjects.includes(subject(`ns-${which}`, `sa-${round}`)), `round ${round}, file ${which} exited 0 but its subject is missing: ${said(result)}`);
            assert.ok(!subjects.includes(subject(`ns-${which}`, `sa-${round - 1}`)), `round ${round}, file ${which} exited 0 but its old subject is still trusted`);
          } else {
            assert.match(result.stdout + result.stderr, new RegExp(`trust policy of role ${roleName} does not hold this change`), said(result));
          }
        }
        assert.ok(a.code === 0 && b.code === 0, `round ${round}: a ${said(a)}\nb ${said(b)}`);
        assert.deepEqual(subjects, [subject('ns-a', `sa-${round}`), subject('ns-b', `sa-${round}`)]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('where RBAC forbids Leases, the run falls back to read-back, says so with the grant to make, and still applies', async () => {
    const ns = `norbac-${process.pid}`;
    const roleName = `${ns}-shared`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const first = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'keep', '--role-name', roleName, '--approve']);
    assert.equal(first.code, 0, said(first));
    // An identity that may do everything irsa needs except coordination.k8s.io (the admin's
    // kubeconfig impersonating it: `as:` in the kubeconfig, as kubectl --as does).
    const user = `irsa-no-leases-${process.pid}`;
    await kubectl(stack, ['create', 'clusterrole', user, '--verb=*', '--resource=*.', '--resource=*.apps', '--resource=*.batch', '--resource=*.authentication.k8s.io', '--resource=*.authorization.k8s.io']);
    await kubectl(stack, ['create', 'clusterrolebinding', user, `--clusterrole=${user}`, `--user=${user}`]);
    const dir = mkdtempSync(join(tmpdir(), 'irsa-kubeconfig-'));
    try {
      const kubeconfig = join(dir, 'config');
      const config = await kubectl(stack, ['config', 'view', '--raw', '--flatten', '-o', 'json']);
      for (const entry of config.users as Array<{ user: Record<string, unknown> }>) entry.user['as'] = user;
      writeFileSync(kubeconfig, JSON.stringify(config));
      const run = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'next', '--role-name', roleName, '--approve'], { KUBECONFIG: kubeconfig });
      assert.equal(run.code, 0, said(run));
      assert.match(run.stdout + run.stderr, new RegExp(`no trust lock for role ${roleName} \\(.*forbidden.*grant get, create and update on leases\\.coordination\\.k8s\\.io in kube-system`));
      assert.deepEqual(await trustSubjects(roleName), [subject(ns, 'keep'), subject(ns, 'next')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a run killed while holding the Lease blocks the next run only until the Lease expires; the next run takes it over and succeeds', async () => {
    const ns = `killed-${process.pid}`;
    const roleName = `${ns}-shared`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const first = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'keep', '--role-name', roleName, '--approve']);
    assert.equal(first.code, 0, said(first));
    // A proxy that swallows the first trust write: the run is inside its lock when we kill it.
    const upstream = new URL(stack.awsEndpoint);
    let reached!: () => void;
    const held = new Promise<void>((resolve) => (reached = resolve));
    let swallowed = false;
    const gate = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (!swallowed && body.toString().includes('Action=UpdateAssumeRolePolicy')) {
          swallowed = true;
          reached();
          return; // never answered, never forwarded: the process dies waiting
        }
        const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.headers);
          reply.pipe(res);
        });
        forward.on('error', () => res.destroy());
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
    try {
      const victim = spawn(process.execPath, [IRSA_BIN, 'create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'victim', '--role-name', roleName, '--approve'], {
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...stack.env, NO_COLOR: '1', AWS_ENDPOINT_URL: gateUrl },
        stdio: 'ignore',
      });
      const exited = new Promise<void>((resolve) => victim.on('exit', () => resolve()));
      await held;
      victim.kill('SIGKILL');
      await exited;
      const leases = await kubectl(stack, ['get', 'lease', '-n', 'kube-system', '-l', 'app.kubernetes.io/managed-by=irsa', '-o', 'json']);
      const orphan = (leases.items as Array<{ spec: { holderIdentity?: string; leaseTransitions?: number }; metadata: { name: string } }>).find((item) => item.spec.holderIdentity?.includes(`/pid-${victim.pid}/`));
      assert.ok(orphan, 'the killed run held the role\'s Lease');
      const next = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'next', '--role-name', roleName, '--approve', '--lock-timeout', '120']);
      assert.equal(next.code, 0, said(next));
      assert.match(next.stderr, new RegExp(`waiting for the trust lock of role ${roleName}: Lease kube-system/${orphan.metadata.name} is held by irsa@[^ ]*/pid-${victim.pid}/`));
      assert.match(next.stdout + next.stderr, /took over the trust lock of role .* which had not renewed it for 15 s/);
      assert.deepEqual(await trustSubjects(roleName), [subject(ns, 'keep'), subject(ns, 'next')]);
      const after = await kubectl(stack, ['get', 'lease', '-n', 'kube-system', orphan.metadata.name, '-o', 'json']);
      assert.equal(after.spec.holderIdentity, undefined, 'the next run released the Lease');
      assert.equal(after.spec.leaseTransitions, (orphan.spec.leaseTransitions ?? 0) + 1);
    } finally {
      gate.closeAllConnections();
      await new Promise<void>((resolve) => gate.close(() => resolve()));
    }
  });
});
