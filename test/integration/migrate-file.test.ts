// irsa migrate -f irsa.yaml end to end: each binding moves to the mechanism the file declares
// (mechanism: pod-identity, or irsa, the default), against moto (IAM, EKS) with the stack's EKS Pod
// Identity emulation, the real apiserver and the real pod identity webhook. Checked with the aws
// CLI and kubectl, never with irsa's own readers.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, kubectl, trustSubjects, writeCalls } from './helpers/cli.ts';
import { addPodIdentityServiceAccount, removePodIdentityServiceAccount } from '../harness/stack.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const ROLE_ARN = 'eks.amazonaws.com/role-arn';
let sequence = 0;
const uniqueNamespace = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

/** A role's trust policy as IAM stores it, serialized in its own key order (equal strings = same document, byte for byte). */
const rawTrust = async (role: string) => JSON.stringify((await aws(stack, ['iam', 'get-role', '--role-name', role])).Role.AssumeRolePolicyDocument);
const trustOf = async (role: string) => JSON.parse(await rawTrust(role)) as { Statement: Array<{ Principal: Record<string, string>; Condition?: Record<string, Record<string, unknown>> }> };
const roleArnAnnotation = async (ns: string, sa: string): Promise<string | undefined> =>
  (await kubectl(stack, ['get', 'sa', sa, '-n', ns, '-o', 'json'])).metadata.annotations?.[ROLE_ARN];

const podsEksServiceAccounts = async (role: string) => (await trustOf(role)).Statement
  .filter((st) => st.Principal['Service'] === 'pods.eks.amazonaws.com')
  .flatMap((st) => [st.Condition!['StringEquals']!['aws:RequestTag/kubernetes-service-account']].flat() as string[]).sort();

/** The namespace's associations, described (the list carries no role): "sa → role ARN", sorted. */
async function associationsOf(ns: string): Promise<string[]> {
  const listed = (await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns])).associations as Array<{ associationId: string }>;
  const described = await Promise.all(listed.map(async (a) =>
    (await aws(stack, ['eks', 'describe-pod-identity-association', '--cluster-name', stack.clusterName, '--association-id', a.associationId])).association as { serviceAccount: string; roleArn: string }));
  return described.map((a) => `${a.serviceAccount} → ${a.roleArn}`).sort();
}

interface FileBinding { name: string; role: string; mechanism?: 'pod-identity'; extra?: string }

function writeConfig(file: string, ns: string, bindings: FileBinding[], cluster = `{ name: ${stack.clusterName} }`): void {
  writeFileSync(file, [
    'version: 1',
    `cluster: ${cluster}`,
    'bindings:',
    ...bindings.map((b) => `  - { namespace: ${ns}, name: ${b.name}, roleName: ${b.role}, managedPolicies: [${S3_READ}]${b.mechanism ? `, mechanism: ${b.mechanism}, installPodIdentityAgent: true` : ''}${b.extra ?? ''} }`),
    '',
  ].join('\n'));
}

describe('irsa migrate -f irsa.yaml', { skip }, () => {
  let clusterArn: string;
  before(async () => {
    await stack.resetAws();
    clusterArn = (await aws(stack, ['eks', 'describe-cluster', '--name', stack.clusterName])).cluster.arn;
  });

  it('the file says two of three IRSA bindings are pod-identity: only those two move (plan writes nothing, re-runs change nothing); flipped back, every trust policy ends byte-identical to the start', async () => {
    const ns = uniqueNamespace('mf');
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(mkdtempSync(join(tmpdir(), 'irsa-mf-')), 'irsa.yaml');
    // a and b share a role, c has its own: after the move the shared role has no IRSA subject left.
    const shared = `${ns}-shared`;
    const solo = `${ns}-solo`;
    const arnOf = (role: string) => `arn:aws:iam::${stack.accountId}:role/${role}`;
    const irsaOnly: FileBinding[] = [{ name: 'a', role: shared }, { name: 'b', role: shared }, { name: 'c', role: solo }];
    writeConfig(file, ns, irsaOnly);
    const made = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const start = { shared: await rawTrust(shared), solo: await rawTrust(solo) };
    assert.deepEqual(await trustSubjects(stack, shared), [`system:serviceaccount:${ns}:a`, `system:serviceaccount:${ns}:b`]);

    // Nothing declares pod-identity yet: nothing to migrate, nothing read beyond the bindings, nothing written.
    const idle = await irsa(stack, ['migrate', '-f', file, '--approve', '--detailed-exitcode']);
    assert.equal(idle.code, 0, idle.stdout + idle.stderr);
    assert.match(idle.stdout, /nothing to migrate/);
    assert.deepEqual(writeCalls(idle.calls), {});

    writeConfig(file, ns, [{ name: 'a', role: shared, mechanism: 'pod-identity' }, { name: 'b', role: shared, mechanism: 'pod-identity' }, { name: 'c', role: solo }]);

    // Without --approve: the plan of steps 1–3 for a and b only, what step 5 would remove; exit 2 (changes planned), no write.
    const planned = await irsa(stack, ['migrate', '-f', file, '--detailed-exitcode']);
    assert.equal(planned.code, 2, planned.stdout + planned.stderr);
    assert.match(planned.stdout, /EKS Pod Identity beside IRSA for a, b\n/);
    assert.match(planned.stdout, /step 5: update iam-role .*; update service-account/);
    assert.deepEqual(writeCalls(planned.calls), {});
    assert.deepEqual(await associationsOf(ns), []);
    assert.equal(await rawTrust(shared), start.shared);

    // --to irsa: the two move the other way, so nothing goes.
    const otherWay = await irsa(stack, ['migrate', '-f', file, '--to', 'irsa', '--approve']);
    assert.equal(otherWay.code, 0, otherWay.stdout + otherWay.stderr);
    assert.match(otherWay.stdout, /nothing to migrate/);
    assert.deepEqual(writeCalls(otherWay.calls), {});

    // As EKS does within seconds of the associations: the webhook knows a and b (set ahead, so one run proves).
    await addPodIdentityServiceAccount(stack, ns, 'a');
    await addPodIdentityServiceAccount(stack, ns, 'b');
    try {
      const moved = await irsa(stack, ['migrate', '-f', file, '--approve']);
      assert.equal(moved.code, 0, moved.stdout + moved.stderr);
      assert.match(moved.stdout, new RegExp(`✓ step 4 ${ns}/a: `));
      assert.match(moved.stdout, new RegExp(`✓ step 4 ${ns}/b: `));
      assert.doesNotMatch(moved.stdout, new RegExp(`step 4 ${ns}/c`));
      assert.deepEqual(await associationsOf(ns), [`a → ${arnOf(shared)}`, `b → ${arnOf(shared)}`]);
      // The file's installPodIdentityAgent: the add-on the associations need was added.
      assert.equal((await aws(stack, ['eks', 'describe-addon', '--cluster-name', stack.clusterName, '--addon-name', 'eks-pod-identity-agent'])).addon.addonName, 'eks-pod-identity-agent');
      assert.equal(await roleArnAnnotation(ns, 'a'), undefined);
      assert.equal(await roleArnAnnotation(ns, 'b'), undefined);
      assert.equal(await roleArnAnnotation(ns, 'c'), arnOf(solo));
      // The shared role: no IRSA statement left (not one with an empty subject list), the pods.eks statement for a and b on this cluster.
      const after = await trustOf(shared);
      assert.deepEqual(after.Statement.filter((st) => 'Federated' in st.Principal), []);
      const podsEks = after.Statement.filter((st) => st.Principal['Service'] === 'pods.eks.amazonaws.com');
      assert.deepEqual(podsEks.flatMap((st) => st.Condition!['StringEquals']!['aws:RequestTag/kubernetes-service-account'] as string[]).sort(), ['a', 'b']);
      assert.deepEqual(podsEks.map((st) => st.Condition!['ArnEquals']!['aws:SourceArn']), [clusterArn]);
      assert.equal(await rawTrust(solo), start.solo, 'c\'s role is untouched');

      // Converged: a re-run has nothing to migrate and writes nothing; the file plans no change.
      const again = await irsa(stack, ['migrate', '-f', file, '--approve', '--detailed-exitcode']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /nothing to migrate/);
      assert.deepEqual(writeCalls(again.calls), {});
      const replan = await irsa(stack, ['plan', '-f', file, '--detailed-exitcode']);
      assert.equal(replan.code, 0, 'the file and the cluster agree: ' + replan.stdout + replan.stderr);
    } finally {
      // As EKS does once the associations are gone (the way back below deletes them).
      await removePodIdentityServiceAccount(stack, ns, 'a');
      await removePodIdentityServiceAccount(stack, ns, 'b');
    }

    // The file flipped back (mechanism removed: irsa, the default): both come home.
    writeConfig(file, ns, irsaOnly);
    // -o json: one document for the whole run (stdout parses whole), its steps in order.
    const home = await irsa(stack, ['migrate', '-f', file, '--approve', '-o', 'json']);
    assert.equal(home.code, 0, home.stdout + home.stderr);
    const report = JSON.parse(home.stdout) as { migrations: Array<{ to: string; serviceAccounts: string[]; steps: Array<{ step: string; applied?: boolean; proofs?: Array<{ serviceAccount: string; ok: boolean }> }> }> };
    assert.deepEqual(report.migrations.map((mig) => [mig.to, mig.serviceAccounts]), [['irsa', [`${ns}/a`, `${ns}/b`]]]);
    assert.deepEqual(report.migrations[0]!.steps.map((step) => step.step), ['1-3', '4', '5']);
    assert.equal(report.migrations[0]!.steps[0]!.applied, true);
    assert.deepEqual(report.migrations[0]!.steps[1]!.proofs!.map((proof) => [proof.serviceAccount, proof.ok]), [[`${ns}/a`, true], [`${ns}/b`, true]]);
    assert.deepEqual(await associationsOf(ns), []);
    for (const sa of ['a', 'b']) assert.equal(await roleArnAnnotation(ns, sa), arnOf(shared));
    assert.equal(await roleArnAnnotation(ns, 'c'), arnOf(solo));
    assert.deepEqual({ shared: await rawTrust(shared), solo: await rawTrust(solo) }, start, 'IRSA → Pod Identity → IRSA from the file ends with the trust policies it started with, byte for byte');

    const settled = await irsa(stack, ['migrate', '-f', file, '--approve', '--detailed-exitcode', '-o', 'json']);
    assert.equal(settled.code, 0, settled.stdout + settled.stderr);
    const quiet = JSON.parse(settled.stdout) as { migrations: unknown[]; messages: string[] };
    assert.deepEqual(quiet.migrations, []);
    assert.match(quiet.messages.join(' '), /nothing to migrate/);
    assert.deepEqual(writeCalls(settled.calls), {});
    const replan = await irsa(stack, ['plan', '-f', file, '--detailed-exitcode']);
    assert.equal(replan.code, 0, 'the irsa.yaml that made them plans no change: ' + replan.stdout + replan.stderr);
  });

  it('refused with exit 1 and nothing written: a binding naming another role than its ServiceAccount uses (even beside one that could move), -f with --cluster or -n, a file with cluster.issuerUrl', async () => {
    const ns = uniqueNamespace('mfr');
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(mkdtempSync(join(tmpdir(), 'irsa-mfr-')), 'irsa.yaml');
    const [roleX, roleY] = [`${ns}-x`, `${ns}-y`];
    writeConfig(file, ns, [{ name: 'x', role: roleX }, { name: 'y', role: roleY }]);
    const made = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const snapshot = async () => ({
      trusts: [await rawTrust(roleX), await rawTrust(roleY)],
      associations: await associationsOf(ns),
      annotations: [await roleArnAnnotation(ns, 'x'), await roleArnAnnotation(ns, 'y')],
    });
    const start = await snapshot();

    // bindings[0] could move; bindings[1] names x's role while y's annotation names its own: all refused.
    writeConfig(file, ns, [{ name: 'x', role: roleX, mechanism: 'pod-identity' }, { name: 'y', role: roleX, mechanism: 'pod-identity' }]);
    const wrongRole = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.equal(wrongRole.code, 1, wrongRole.stdout + wrongRole.stderr);
    assert.match(wrongRole.stderr, /bindings\[1\]/);
    assert.match(wrongRole.stderr, new RegExp(`${ns}/y uses role arn:aws:iam::${stack.accountId}:role/${roleY}\\b`));
    assert.match(wrongRole.stderr, /attachRoleArn \(or roleName\)/);
    assert.doesNotMatch(wrongRole.stderr, /bindings\[0\]/);
    assert.deepEqual(writeCalls(wrongRole.calls), {});
    assert.deepEqual(await snapshot(), start);

    // -f takes the cluster and the ServiceAccounts from the file.
    for (const [flag, value] of [['--cluster', stack.clusterName], ['-n', ns], ['--name', 'x']] as const) {
      const mixed = await irsa(stack, ['migrate', '-f', file, flag, value, '--approve']);
      assert.equal(mixed.code, 1, mixed.stdout + mixed.stderr);
      assert.match(mixed.stderr, new RegExp(`--${flag === '-n' ? 'namespace' : flag.slice(2)}: with -f the cluster and the ServiceAccounts come from the file`));
      assert.deepEqual(writeCalls(mixed.calls), {});
    }

    // EKS Pod Identity exists only on EKS: a file for a cluster given by its issuer is refused.
    writeConfig(file, ns, [{ name: 'x', role: roleX, mechanism: 'pod-identity' }], `{ name: ${stack.clusterName}, issuerUrl: ${stack.issuerUrl} }`);
    const byIssuer = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.equal(byIssuer.code, 1, byIssuer.stdout + byIssuer.stderr);
    assert.match(byIssuer.stderr, /cluster\.issuerUrl: EKS Pod Identity exists only on EKS clusters/);
    assert.deepEqual(writeCalls(byIssuer.calls), {});
    assert.deepEqual(await snapshot(), start);
  });

  it('both directions in one run on a shared role: back to IRSA and to EKS Pod Identity, no OIDC provider removal proposed while the run brings a ServiceAccount back (only once none trusts it); ends byte-identical', async () => {
    // Alone in the account: a role of an earlier case trusting the OIDC provider would hide the proposal.
    await stack.resetAws();
    const ns = uniqueNamespace('mfx');
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(mkdtempSync(join(tmpdir(), 'irsa-mfx-')), 'irsa.yaml');
    const role = `${ns}-r`;
    const roleArn = `arn:aws:iam::${stack.accountId}:role/${role}`;
    const SESSION = `, disableSessionTags: true, sessionPolicy: { Version: '2012-10-17', Statement: [{ Effect: Allow, Action: 's3:GetObject', Resource: '*' }] }`;
    writeConfig(file, ns, [{ name: 'p', role }, { name: 'q', role }]);
    const made = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const start = await rawTrust(role);
    const PROPOSAL = /No role of the account trusts the OIDC provider of cluster .*\n.*aws iam delete-open-id-connect-provider/;

    try {
      // q first (p still trusts the provider through IRSA).
      writeConfig(file, ns, [{ name: 'p', role }, { name: 'q', role, mechanism: 'pod-identity' }]);
      await addPodIdentityServiceAccount(stack, ns, 'q');
      const first = await irsa(stack, ['migrate', '-f', file, '--approve']);
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.doesNotMatch(first.stdout, PROPOSAL);

      // Swapped in one file: q back to IRSA, p to EKS Pod Identity (with settings a migration does not carry: said, not done).
      writeConfig(file, ns, [{ name: 'p', role, mechanism: 'pod-identity', extra: SESSION }, { name: 'q', role }]);
      await removePodIdentityServiceAccount(stack, ns, 'q');
      await addPodIdentityServiceAccount(stack, ns, 'p');
      const swapped = await irsa(stack, ['migrate', '-f', file, '--approve']);
      assert.equal(swapped.code, 0, swapped.stdout + swapped.stderr);
      // q trusts the provider again by the end of this run: removing it would break q.
      assert.doesNotMatch(swapped.stdout, PROPOSAL);
      // Back to IRSA runs first, so the check for the provider's last trust sees it.
      assert.match(swapped.stdout, new RegExp(`Back to IRSA[\\s\\S]*✓ step 4 ${ns}/q: [\\s\\S]*To EKS Pod Identity[\\s\\S]*✓ step 4 ${ns}/p: `));
      assert.match(swapped.stdout, /bindings\[0\]: .*\/p moves with EKS Pod Identity's defaults; its disableSessionTags, sessionPolicy from .* are set by irsa apply -f/);
      assert.deepEqual(await associationsOf(ns), [`p → ${roleArn}`]);
      assert.equal(await roleArnAnnotation(ns, 'p'), undefined);
      assert.equal(await roleArnAnnotation(ns, 'q'), roleArn);
      assert.deepEqual(await trustSubjects(stack, role), [`system:serviceaccount:${ns}:q`]);
      assert.deepEqual(await podsEksServiceAccounts(role), ['p']);
      const again = await irsa(stack, ['migrate', '-f', file, '--approve']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /nothing to migrate/);
      assert.deepEqual(writeCalls(again.calls), {});

      // Both on EKS Pod Identity: now no role trusts the provider, and the run says so (shown, never done).
      writeConfig(file, ns, [{ name: 'p', role, mechanism: 'pod-identity' }, { name: 'q', role, mechanism: 'pod-identity' }]);
      await addPodIdentityServiceAccount(stack, ns, 'q');
      const both = await irsa(stack, ['migrate', '-f', file, '--approve']);
      assert.equal(both.code, 0, both.stdout + both.stderr);
      assert.match(both.stdout, PROPOSAL);
      assert.deepEqual(await trustSubjects(stack, role), []);
      assert.equal((await aws(stack, ['iam', 'list-open-id-connect-providers'])).OpenIDConnectProviderList.length, 1, 'irsa never deletes the provider');
    } finally {
      await removePodIdentityServiceAccount(stack, ns, 'p');
      await removePodIdentityServiceAccount(stack, ns, 'q');
    }

    writeConfig(file, ns, [{ name: 'p', role }, { name: 'q', role }]);
    const home = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.equal(home.code, 0, home.stdout + home.stderr);
    assert.deepEqual(await associationsOf(ns), []);
    assert.equal(await rawTrust(role), start, 'the trust policy it started with, byte for byte');
  });

  it('a migration left half-done is finished by migrate -f: an association beside an IRSA subject without the annotation; after a failed proof of the way back, the annotation beside a pods.eks statement without an association', async () => {
    const ns = uniqueNamespace('mfi');
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(mkdtempSync(join(tmpdir(), 'irsa-mfi-')), 'irsa.yaml');
    const role = `${ns}-a`;
    const roleArn = `arn:aws:iam::${stack.accountId}:role/${role}`;
    writeConfig(file, ns, [{ name: 'a', role }]);
    const made = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const start = await rawTrust(role);

    // The webhook does not know a yet: the proof fails, the association stays beside IRSA.
    writeConfig(file, ns, [{ name: 'a', role, mechanism: 'pod-identity' }]);
    const unproven = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.equal(unproven.code, 1, unproven.stdout + unproven.stderr);
    assert.deepEqual(await associationsOf(ns), [`a → ${roleArn}`]);
    // The annotation gone, the IRSA subject still trusted (a hand edit, or a run stopped between the two).
    await kubectl(stack, ['annotate', 'sa', 'a', '-n', ns, `${ROLE_ARN}-`]);
    assert.deepEqual(await trustSubjects(stack, role), [`system:serviceaccount:${ns}:a`]);
    await addPodIdentityServiceAccount(stack, ns, 'a');
    try {
      const finished = await irsa(stack, ['migrate', '-f', file, '--approve']);
      assert.equal(finished.code, 0, finished.stdout + finished.stderr);
      assert.deepEqual(await trustSubjects(stack, role), [], 'the IRSA subject left');
      assert.deepEqual(await podsEksServiceAccounts(role), ['a']);

      // Back, while the webhook still gives a Pod Identity: the association is deleted and the annotation is back, the pods.eks statement stays.
      writeConfig(file, ns, [{ name: 'a', role }]);
      const stuck = await irsa(stack, ['migrate', '-f', file, '--approve']);
      assert.equal(stuck.code, 1, stuck.stdout + stuck.stderr);
      assert.deepEqual(await associationsOf(ns), []);
      assert.equal(await roleArnAnnotation(ns, 'a'), roleArn);
      assert.deepEqual(await podsEksServiceAccounts(role), ['a']);
    } finally {
      await removePodIdentityServiceAccount(stack, ns, 'a');
    }
    // No association any more, yet not done: the same command finishes it.
    const home = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.equal(home.code, 0, home.stdout + home.stderr);
    assert.match(home.stdout, new RegExp(`✓ step 4 ${ns}/a: `));
    assert.equal(await rawTrust(role), start, 'the trust policy it started with, byte for byte');
    const settled = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.match(settled.stdout, /nothing to migrate/);
    assert.deepEqual(writeCalls(settled.calls), {});
  });

  it('session tags off: the way back removes the role\'s cluster-wide pods.eks statement only with the last association of the cluster that needs it', async () => {
    const ns = uniqueNamespace('mfw');
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(mkdtempSync(join(tmpdir(), 'irsa-mfw-')), 'irsa.yaml');
    const shared = `${ns}-shared`;
    const tagsOff = ', disableSessionTags: true';
    writeConfig(file, ns, [{ name: 't1', role: shared, mechanism: 'pod-identity', extra: tagsOff }, { name: 't2', role: shared, mechanism: 'pod-identity', extra: tagsOff }]);
    const made = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const clusterWide = async () => (await trustOf(shared)).Statement.filter((st) => st.Principal['Service'] === 'pods.eks.amazonaws.com' && !('aws:RequestTag/kubernetes-namespace' in (st.Condition!['StringEquals'] ?? {}))).length;
    assert.equal(await clusterWide(), 1, 'session tags off: one cluster-wide statement for both associations');

    // t1 back to IRSA: t2's association (tags off) still needs the cluster-wide statement.
    writeConfig(file, ns, [{ name: 't1', role: shared }, { name: 't2', role: shared, mechanism: 'pod-identity', extra: tagsOff }]);
    const first = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(await associationsOf(ns), [`t2 → arn:aws:iam::${stack.accountId}:role/${shared}`]);
    assert.equal(await roleArnAnnotation(ns, 't1'), `arn:aws:iam::${stack.accountId}:role/${shared}`);
    assert.equal(await clusterWide(), 1, 't2 would lose its role if the cluster-wide statement went');

    // t2 back too: now nothing needs it, and it goes; only the IRSA statement is left.
    writeConfig(file, ns, [{ name: 't1', role: shared }, { name: 't2', role: shared }]);
    const second = await irsa(stack, ['migrate', '-f', file, '--approve']);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.deepEqual(await associationsOf(ns), []);
    assert.equal(await clusterWide(), 0, 'the cluster-wide statement was left behind');
    assert.deepEqual(await podsEksServiceAccounts(shared), []);
    assert.deepEqual(await trustSubjects(stack, shared), [`system:serviceaccount:${ns}:t1`, `system:serviceaccount:${ns}:t2`]);
  });
});
