// irsa migrate killed at every write, both directions (issue 22: "a migration killed at any step
// converges on re-run"). For each k, the migration process is SIGKILLed the moment it starts its
// k-th write (AWS or Kubernetes: the --verbose line of a call is written, synchronously to the pipe,
// before the request leaves), so every state between two writes — and a write that may or may not
// have landed — is met. Then the same command runs again without faults: it must exit 0 and end
// exactly where an uninterrupted migration ends (trust policies byte-identical, associations,
// annotations), the namespace name aside.
//
// The webhook's container-credentials config is set to the migrated ServiceAccounts before the run
// (to none for the way back), so the dry-run proof of an uninterrupted run passes on its first try
// and the kill points of step 5 are reached too. Trust-lock Lease writes and the dry runs are not
// counted as the migration's writes (a kill while a Lease is held is met all the same: the re-run
// takes the Lease over once it expires).

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { setPodIdentityServiceAccounts } from '../harness/stack.ts';
import { aws, irsa, kubectl } from './helpers/cli.ts';
import { runKilled } from './helpers/migrate-kill.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const NAMES = ['a', 'b', 'c'];
let sequence = 0;


/** What a migration leaves, with the namespace name replaced: raw trust documents, associations, annotations. */
async function snapshot(ns: string) {
  const scrub = (value: unknown) => JSON.stringify(value).split(ns).join('NS');
  const trusts = await Promise.all([0, 1].map(async (i) => scrub((await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-r${i}`])).Role.AssumeRolePolicyDocument)));
  const listed = (await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns])).associations as Array<{ associationId: string }>;
  const associations = (await Promise.all(listed.map(async ({ associationId }) => {
    const a = (await aws(stack, ['eks', 'describe-pod-identity-association', '--cluster-name', stack.clusterName, '--association-id', associationId])).association;
    return scrub({ serviceAccount: a.serviceAccount, roleArn: a.roleArn, targetRoleArn: a.targetRoleArn ?? null, disableSessionTags: a.disableSessionTags ?? false, tags: a.tags ?? {} });
  }))).sort();
  const annotations = await Promise.all(NAMES.map(async (name) => scrub((await kubectl(stack, ['get', 'sa', name, '-n', ns, '-o', 'json'])).metadata.annotations ?? {})));
  return { trusts, associations, annotations };
}

/** A fresh namespace with a, b on role r0 and c on role r1, bound with IRSA. */
async function seed(label: string): Promise<string> {
  const ns = `${label}-${process.pid}-${++sequence}`;
  await kubectl(stack, ['create', 'namespace', ns]);
  const file = join(mkdtempSync(join(tmpdir(), 'irsa-kill-')), 'irsa.yaml');
  writeFileSync(file, ['version: 1', `cluster: { name: ${stack.clusterName} }`, 'bindings:',
    ...NAMES.map((name, i) => `  - { namespace: ${ns}, name: ${name}, roleName: ${ns}-r${i < 2 ? 0 : 1}, managedPolicies: [${S3_READ}] }`), ''].join('\n'));
  const made = await irsa(stack, ['apply', '-f', file, '--approve']);
  assert.equal(made.code, 0, made.stdout + made.stderr);
  return ns;
}

const toPodIdentity = (ns: string) => ['migrate', '--cluster', stack.clusterName, '-n', ns, '--to', 'pod-identity', '--install-pod-identity-agent', '--approve'];
const toIrsa = (ns: string) => ['migrate', '--cluster', stack.clusterName, '-n', ns, '--to', 'irsa', '--approve', ...NAMES.flatMap((name) => ['--name', name])];
/** As EKS keeps the webhook in step with the associations: set before the run, so the proof passes on the first try. */
const expectPodIdentity = (ns: string) => setPodIdentityServiceAccounts(stack, NAMES.map((serviceAccount) => ({ namespace: ns, serviceAccount })));
const expectIrsa = () => setPodIdentityServiceAccounts(stack, []);

describe('irsa migrate killed at any write converges on re-run', { skip }, () => {
  before(async () => {
    await stack.resetAws();
    // The agent add-on exists beforehand, so every run (reference or killed) makes the same writes.
    await aws(stack, ['eks', 'create-addon', '--cluster-name', stack.clusterName, '--addon-name', 'eks-pod-identity-agent']);
  });

  for (const direction of ['pod-identity', 'irsa'] as const) {
    it(`--to ${direction}: killed at its k-th write for every k, the re-run exits 0 and ends where an uninterrupted migration ends`, async (t) => {
      // Start: IRSA (and, for the way back, migrated to Pod Identity first, uninterrupted).
      const start = async (label: string) => {
        const ns = await seed(label);
        if (direction === 'irsa') {
          await expectPodIdentity(ns);
          const there = await irsa(stack, toPodIdentity(ns));
          assert.equal(there.code, 0, there.stdout + there.stderr);
        }
        await (direction === 'pod-identity' ? expectPodIdentity(ns) : expectIrsa());
        return ns;
      };
      const command = direction === 'pod-identity' ? toPodIdentity : toIrsa;

      const referenceNs = await start(`ref${direction === 'irsa' ? 'b' : 'f'}`);
      const startState = await snapshot(referenceNs);
      const uninterrupted = await runKilled(stack, command(referenceNs));
      assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
      const reference = await snapshot(referenceNs);
      if (direction === 'irsa') assert.deepEqual(reference.trusts, (await snapshot(await seed('irsa0'))).trusts, 'back to IRSA: trusts byte-identical to before the first migration');
      else assert.notDeepEqual(reference, startState);
      const total = uninterrupted.writes.length;
      t.diagnostic(`--to ${direction}: ${total} writes: ${uninterrupted.writes.map((w) => w.replace(/ \/\S*$/, '')).join(', ')}`);
      assert.ok(total >= 8, `a migration of 3 ServiceAccounts on 2 roles writes at least 8 times: ${uninterrupted.writes.join('; ')}`);

      for (let k = 1; k <= total; k++) {
        const ns = await start(`k${direction === 'irsa' ? 'b' : 'f'}${k}`);
        const killed = await runKilled(stack, command(ns), k);
        assert.ok(killed.killed, `k=${k}: the run was killed at write ${k} (${killed.writes.at(-1)}); it made ${killed.writes.length} writes, exit ${killed.code}\n${killed.stderr}`);
        const rerun = await irsa(stack, command(ns));
        assert.equal(rerun.code, 0, `k=${k} (killed at ${killed.writes.at(-1)}): the re-run must converge\n${rerun.stdout}${rerun.stderr}`);
        assert.deepEqual(await snapshot(ns), reference, `k=${k} (killed at ${killed.writes.at(-1)}): ends where the uninterrupted migration ends`);
        const settled = await irsa(stack, command(ns));
        assert.equal(settled.code, 0, `k=${k}: once more\n${settled.stdout}${settled.stderr}`);
        const writes = Object.keys(settled.calls).filter((call) => /^(iam|eks) (?!Get|List|Describe)/.test(call) || /^k8s (PATCH|PUT|POST|DELETE) (?!leases|pods \(dry run\))/.test(call));
        assert.deepEqual(writes, [], `k=${k}: a converged migration writes nothing`);
      }
    });
  }

  it('--to pod-identity: once no role trusts the OIDC provider any more, its removal is proposed (shown, never done)', async () => {
    await stack.resetAws();
    await aws(stack, ['eks', 'create-addon', '--cluster-name', stack.clusterName, '--addon-name', 'eks-pod-identity-agent']);
    const ns = await seed('prov');
    await expectPodIdentity(ns);
    const partly = await irsa(stack, ['migrate', '--cluster', stack.clusterName, '-n', ns, '--name', 'a', '--name', 'b', '--to', 'pod-identity', '--approve']);
    assert.equal(partly.code, 0, partly.stdout + partly.stderr);
    assert.doesNotMatch(partly.stdout, /delete-open-id-connect-provider/, 'c still uses IRSA: no proposal');
    const all = await irsa(stack, toPodIdentity(ns));
    assert.equal(all.code, 0, all.stdout + all.stderr);
    const providers = (await aws(stack, ['iam', 'list-open-id-connect-providers'])).OpenIDConnectProviderList as Array<{ Arn: string }>;
    assert.equal(providers.length, 1, 'the provider is still there: the removal is only proposed');
    assert.match(all.stdout, new RegExp(`No role of the account trusts the OIDC provider of cluster ${stack.clusterName} any more`));
    assert.ok(all.stdout.includes(`aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${providers[0]!.Arn}`), all.stdout);
    assert.ok(!('iam DeleteOpenIDConnectProvider' in all.calls));
  });
});
