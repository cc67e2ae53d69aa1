// The cluster check: AWS names cluster A (the stack), the kubeconfig's current context is a second,
// independent apiserver B. Every command that would touch Kubernetes refuses before any write and
// names the context of A; with --context A the same command works. Checked with the aws CLI and kubectl.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { kubeconfigWithContexts, readKubeconfigEntries, startExtraApiserver, type ExtraApiserver } from '../harness/stack.ts';
import { aws, irsa, kubectl, writeCalls } from './helpers/cli.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const OTHER = 'other-cluster';

describe('cluster check (two apiservers)', { skip }, () => {
  let other: ExtraApiserver;
  let dir: string;
  let kubeconfig: string;
  let env: Record<string, string>;
  const ns = `cc-${process.pid}`;
  const inA = (args: string[]) => kubectl(stack, ['--kubeconfig', kubeconfig, '--context', stack.kubeContext, ...args]);
  const inB = (args: string[]) => kubectl(stack, ['--kubeconfig', kubeconfig, '--context', OTHER, ...args]);
  const noWrites = async (roleName: string) => {
    const roles = await aws(stack, ['iam', 'list-roles']);
    assert.ok(!roles.Roles.some((r: { RoleName: string }) => r.RoleName === roleName), 'no role was created');
    assert.deepEqual((await aws(stack, ['iam', 'list-open-id-connect-providers'])).OpenIDConnectProviderList, []);
    for (const get of [inA, inB]) {
      const sas = await get(['get', 'serviceaccounts', '-n', ns, '-o', 'json']);
      assert.deepEqual(sas.items.map((sa: { metadata: { name: string } }) => sa.metadata.name), ['api'], 'only the pre-made ServiceAccount');
      assert.equal(sas.items[0].metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined);
    }
  };

  before(async () => {
    await stack.resetAws();
    other = await startExtraApiserver({ name: OTHER });
    dir = mkdtempSync(join(tmpdir(), 'irsa-two-clusters-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigWithContexts([await readKubeconfigEntries(stack.kubeconfigPath), other.kubeconfig], OTHER), { mode: 0o600 });
    env = { KUBECONFIG: kubeconfig };
    // The same namespace and ServiceAccount in both clusters: a write to the wrong one would succeed.
    for (const get of [inA, inB]) {
      await get(['create', 'namespace', ns]);
      await get(['create', 'serviceaccount', 'api', '-n', ns]);
    }
  });
  after(async () => {
    await other?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('create-sa-role --approve with the current context on the other cluster: exit 1, the message names both and the context of A, nothing written', async () => {
    const args = ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ, '--approve'];
    const result = await irsa(stack, args, env);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`context "${OTHER}" \\(${other.apiserverUrl.replace(/[.]/g, '\\.')}\\) is not EKS cluster "${stack.clusterName}"`));
    assert.ok(result.stderr.includes(other.issuerUrl) && result.stderr.includes(stack.issuerUrl), result.stderr);
    assert.match(result.stderr, new RegExp(`--context ${stack.kubeContext}`));
    assert.deepEqual(writeCalls(result.calls), {});
    await noWrites(`${ns}-api`);

    // --issuer-url is checked the same way.
    const byIssuer = await irsa(stack, ['create-sa-role', '--issuer-url', stack.issuerUrl, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ, '--approve'], env);
    assert.equal(byIssuer.code, 1, byIssuer.stderr);
    assert.match(byIssuer.stderr, new RegExp(`is not the cluster of issuer ${stack.issuerUrl.replace(/[.]/g, '\\.')}`));
    await noWrites(`${ns}-api`);

    // So are plan/apply -f, doctor and audit.
    const file = join(dir, 'irsa.yaml');
    writeFileSync(file, `version: 1\ncluster:\n  name: ${stack.clusterName}\nbindings:\n  - namespace: ${ns}\n    name: api\n    roleName: ${ns}-api\n    managedPolicies: [${S3_READ}]\n`);
    for (const command of [['apply', '-f', file, '--approve'], ['plan', '-f', file], ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', 'api'], ['audit', '--cluster', stack.clusterName]]) {
      const run = await irsa(stack, command, env);
      assert.equal(run.code, 1, `${command.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, new RegExp(`--context ${stack.kubeContext}`), command.join(' '));
      assert.deepEqual(writeCalls(run.calls), {});
    }
    await noWrites(`${ns}-api`);
  });

  it('with --context of A the same command succeeds, says which proof it used, and only A is annotated', async () => {
    const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ, '--approve', '--context', stack.kubeContext, '--verbose'], env);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`cluster check: context "${stack.kubeContext}" is EKS cluster "${stack.clusterName}": .*\\(proof: discovery\\)`));
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-api`])).Role;
    assert.equal((await inA(['get', 'sa', 'api', '-n', ns, '-o', 'json'])).metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn);
    assert.equal((await inB(['get', 'sa', 'api', '-n', ns, '-o', 'json'])).metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined);
  });

  it('list never calls a binding of the other cluster healthy', async () => {
    // B's ServiceAccount annotated by hand with A's role, as the bug in the issue did.
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-api`])).Role;
    await inB(['annotate', 'sa', 'api', '-n', ns, `eks.amazonaws.com/role-arn=${role.Arn}`]);
    const wrong = await irsa(stack, ['list', '--cluster', stack.clusterName, '-o', 'json'], env);
    assert.equal(wrong.code, 1, wrong.stdout);
    assert.equal(wrong.stdout, '');
    assert.match(wrong.stderr, new RegExp(`--context ${stack.kubeContext}`));
    const right = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns, '-o', 'json', '--context', stack.kubeContext], env);
    assert.equal(right.code, 0, right.stderr);
    assert.deepEqual(JSON.parse(right.stdout).bindings.map((b: { namespace: string; trustAdmits: boolean }) => [b.namespace, b.trustAdmits]), [[ns, true]]);
  });

  it('--skip-cluster-check skips it (reads only here)', async () => {
    const skipped = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns, '-o', 'json', '--skip-cluster-check'], env);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.equal(skipped.calls['k8s GET openid-configuration'], undefined);
  });
});
