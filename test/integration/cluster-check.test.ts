// The cluster check: AWS names cluster A (the stack), the kubeconfig's current context is a second,
// independent apiserver B. Every command that would touch Kubernetes refuses before any write and
// names the context of A; with --context A the same command works. Checked with the aws CLI and kubectl.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    // With -o json the error is a JSON document on stdout (issue 25), never a list of bindings.
    assert.equal(JSON.parse(wrong.stdout).error.field, '--context');
    assert.equal(JSON.parse(wrong.stdout).bindings, undefined);
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

  it('RBAC forbids discovery: the TokenRequest proof is used (verbose says so); without any proof a write is refused', async () => {
    // A user of cluster A without the issuer-discovery grant (it is not system:masters, and the
    // stack binds discovery only to unauthenticated callers), allowed what create-sa-role needs.
    const pki = join(stack.dir, 'pki');
    const key = join(dir, 'limited.key');
    const csr = join(dir, 'limited.csr');
    const crt = join(dir, 'limited.crt');
    execFileSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=limited'], { stdio: 'ignore' });
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-set_serial', '0x2' + Date.now().toString(16), '-days', '1', '-out', crt], { stdio: 'ignore' });
    const rules = (withToken: boolean) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `limited-${withToken}-${process.pid}` },
      rules: [
        { apiGroups: [''], resources: ['namespaces', 'serviceaccounts', 'secrets', 'pods'], verbs: ['get', 'list', 'create', 'patch'] },
        { apiGroups: ['apps', 'batch'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'cronjobs'], verbs: ['get', 'list', 'patch'] },
        ...(withToken ? [{ apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] }] : []),
      ],
    });
    const bindTo = (user: string, role: string) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${user}-${process.pid}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    });
    const manifest = join(dir, 'rbac.json');
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [rules(true), bindTo('limited', `limited-true-${process.pid}`)] }));
    await inA(['apply', '-f', manifest]);
    const entries = await readKubeconfigEntries(stack.kubeconfigPath);
    const limitedConfig = join(dir, 'limited-kubeconfig');
    writeFileSync(limitedConfig, kubeconfigWithContexts([{
      clusters: entries.clusters,
      users: [{ name: 'limited', user: { 'client-certificate-data': readFileSync(crt).toString('base64'), 'client-key-data': readFileSync(key).toString('base64') } }],
      contexts: [{ name: 'limited', context: { cluster: entries.clusters[0]!.name, user: 'limited' } }],
    }], 'limited'), { mode: 0o600 });
    await kubectl(stack, ['create', 'sa', 'tok', '-n', ns]);

    const args = ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'tok', '--role-name', `${ns}-tok`, '--attach-policy-arn', S3_READ, '--approve', '--verbose'];
    const viaToken = await irsa(stack, args, { KUBECONFIG: limitedConfig });
    assert.equal(viaToken.code, 0, viaToken.stdout + viaToken.stderr);
    assert.equal(viaToken.calls['k8s GET openid-configuration'], 1);
    assert.match(viaToken.stderr, /cluster check: context "limited" is EKS cluster ".*": the API server's token issuer \(TokenRequest\) is .* \(proof: token\)/);
    assert.ok(!/eyJ[\w-]+\.[\w-]+\./.test(viaToken.stdout + viaToken.stderr), 'a token was printed');

    // Without the token grant, and with the kubeconfig server as the EKS endpoint (moto reports the
    // apiserver's URL), the endpoint proves it.
    await inA(['delete', 'clusterrolebinding', `limited-${process.pid}`]);
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [rules(false), bindTo('limited', `limited-false-${process.pid}`)] }));
    await inA(['apply', '-f', manifest]);
    const viaEndpoint = await irsa(stack, args, { KUBECONFIG: limitedConfig });
    assert.equal(viaEndpoint.code, 0, viaEndpoint.stdout + viaEndpoint.stderr);
    assert.match(viaEndpoint.stderr, /\(proof: endpoint\)/);

    // --issuer-url has no endpoint: nothing can be proven, so a write is refused and says why.
    const unproven = await irsa(stack, ['create-sa-role', '--issuer-url', stack.issuerUrl, '-n', ns, '--name', 'tok', '--role-name', `${ns}-tok2`, '--attach-policy-arn', S3_READ, '--approve'], { KUBECONFIG: limitedConfig });
    assert.equal(unproven.code, 1, unproven.stdout + unproven.stderr);
    assert.match(unproven.stderr, /could not prove that the kubeconfig context "limited" .* is the cluster of issuer/);
    assert.match(unproven.stderr, /--skip-cluster-check/);
    // The forbidden TokenRequest attempt stores nothing; nothing else was sent that writes.
    const { ['k8s POST serviceaccounts/token']: tokenAttempts, ...writes } = writeCalls(unproven.calls);
    assert.equal(tokenAttempts, 1);
    assert.deepEqual(writes, {});
  });
});
