// The two migration stories end to end, as a user runs them: irsa audit --out irsa.yaml, edit the
// file (one policy, the migration options uncommented), irsa apply -f --approve. Checked with
// kubectl and the aws CLI; then a second audit + plan must leave the migrated workloads alone.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl } from './helpers/cli.ts';
import { deployment as deploymentObject, EXAMPLE_KEY_ID as KEY_ID, EXAMPLE_SECRET_KEY as SECRET_KEY, kubectlApply } from './helpers/kube-objects.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const SQS_READ = 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess';
const dir = mkdtempSync(join(tmpdir(), 'irsa-migration-'));
const apply = (object: unknown) => kubectlApply(stack, object);
/** Every Deployment here has a plain env var the migration must keep. */
const PORT_ENV = [{ name: 'PORT', value: '8080' }];
const deployment = (ns: string, name: string, pod: { serviceAccountName?: string; annotations?: Record<string, string>; envFrom?: unknown[] }) =>
  deploymentObject(ns, name, { ...pod, env: PORT_ENV });

type PlanOut = { plan: { changes: Array<{ kind: string; id: string; action: string; before: unknown; after: unknown }>; warnings: string[] } };

/** The proposed file with one policy added to the binding and the given options uncommented. */
function edited(yaml: string, binding: string, options: string[], policy?: string): string {
  let text = yaml;
  for (const option of options) text = text.replace(`# ${option}: true`, `${option}: true`);
  if (policy) text = text.replace(new RegExp(`(\\n  - namespace: [^\\n]+\\n    name: ${binding}\\n)`), `$1    managedPolicies: [${policy}]\n`);
  return text;
}

describe('migrations: static keys and kube2iam retired by apply -f', { skip }, () => {
  before(async () => {
    await stack.resetAws();
  });

  it('the access-key story: envFrom removed, ServiceAccount annotated, Secret deleted; a second audit + plan leaves the Deployment alone', async () => {
    const ns = `keys-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-secrets', namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY } });
    await kubectl(stack, ['create', 'sa', 'test', '-n', ns]);
    await apply(deployment(ns, 'test', { serviceAccountName: 'test', envFrom: [{ secretRef: { name: 'aws-secrets' } }] }));
    const generation = (await kubectl(stack, ['get', 'deployment', 'test', '-n', ns, '-o', 'json'])).metadata.generation;

    const file = join(dir, `${ns}.yaml`);
    const audited = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '--out', file]);
    assert.equal(audited.code, 0, audited.stderr);
    const proposal = readFileSync(file, 'utf8');
    assert.match(proposal, /# removeStaticKeys: true {3}# removes the AWS keys \(Secret aws-secrets\) from deployment\/.*\/test's pod template, which rolls it/);
    assert.match(proposal, /# deleteKeySecrets: true/);

    // Without the options the plan warns, naming workload, container and source, and changes no workload.
    writeFileSync(file, edited(proposal, 'test', [], S3_READ));
    const warned = json<PlanOut>(await irsa(stack, ['plan', '-f', file, '-o', 'json']));
    assert.ok(!warned.plan.changes.some((c) => c.kind === 'workload-template'));
    assert.ok(warned.plan.warnings.some((w) => w.startsWith(`deployment/${ns}/test container app: envFrom Secret aws-secrets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): the AWS SDKs use these keys before web identity`)), warned.plan.warnings.join('\n'));

    writeFileSync(file, edited(proposal, 'test', ['removeStaticKeys', 'deleteKeySecrets'], S3_READ));
    const planned = await irsa(stack, ['plan', '-f', file]);
    assert.equal(planned.code, 0, planned.stderr);
    // The diff people review: the envFrom entry goes, the Secret goes, values never shown.
    assert.match(planned.stdout, new RegExp(`~ workload-template Deployment/${ns}/test\\n.*\\n {4}~ containers\\.app\\.envFrom:\\n {8}- "Secret aws-secrets"`));
    assert.match(planned.stdout, new RegExp(`- secret ${ns}/aws-secrets`));
    assert.ok(!planned.stdout.includes(KEY_ID) && !planned.stdout.includes('wJalrXUtnFEMI'));

    const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const after = await kubectl(stack, ['get', 'deployment', 'test', '-n', ns, '-o', 'json']);
    assert.equal(after.spec.template.spec.containers[0].envFrom, undefined);
    assert.deepEqual(after.spec.template.spec.containers[0].env, [{ name: 'PORT', value: '8080' }]);
    assert.ok(after.metadata.generation > generation, 'the template change rolls the Deployment');
    const sa = await kubectl(stack, ['get', 'sa', 'test', '-n', ns, '-o', 'json']);
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', sa.metadata.annotations['eks.amazonaws.com/role-arn'].split('/').pop()])).Role;
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn);
    const secrets = await kubectl(stack, ['get', 'secrets', '-n', ns, '-o', 'json']);
    assert.deepEqual(secrets.items.map((s: { metadata: { name: string } }) => s.metadata.name), []);

    // Idempotent: a second audit proposes nothing for the migrated Deployment, and its plan changes nothing.
    const again = join(dir, `${ns}-again.yaml`);
    const reaudited = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '--out', again]);
    assert.equal(reaudited.code, 0, reaudited.stderr);
    assert.doesNotMatch(readFileSync(again, 'utf8'), /name: test/);
    const replanned = json<PlanOut>(await irsa(stack, ['plan', '-f', again, '-o', 'json']));
    assert.deepEqual(replanned.plan.changes.filter((c) => c.action !== 'no-op'), []);
    // And the first file, applied again, is all no-ops (nothing detached, nothing re-rolled).
    const reapplied = json<PlanOut>(await irsa(stack, ['plan', '-f', file, '-o', 'json']));
    assert.deepEqual(reapplied.plan.changes.filter((c) => c.action !== 'no-op'), []);
  });

  it('keys in ConfigMaps (envFrom, envFrom with a prefix in an init container, configMapKeyRef): audit finds them, apply removes them (a ConfigMap still read for other keys keeps only those), a second audit + plan proposes nothing', async () => {
    const ns = `cm-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    await kubectl(stack, ['create', 'sa', 'app', '-n', ns]);
    // The shapes of doctor's corpus (webhook-corpus.test.ts): the key pair whole, with prefix AWS_, and by key.
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keys', namespace: ns }, data: { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY } });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'prefixed', namespace: ns }, data: { ACCESS_KEY_ID: KEY_ID, SECRET_ACCESS_KEY: SECRET_KEY } });
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ids', namespace: ns }, data: { id: KEY_ID, secret: SECRET_KEY, LOG_LEVEL: 'info' } });
    await apply(deployment(ns, 'web', { serviceAccountName: 'app', envFrom: [{ configMapRef: { name: 'keys' } }] }));
    const byKey = (name: string, key: string) => ({ name, valueFrom: { configMapKeyRef: { name: 'ids', key } } });
    await apply(deploymentObject(ns, 'worker', { serviceAccountName: 'app', env: [...PORT_ENV, byKey('AWS_ACCESS_KEY_ID', 'id'), byKey('AWS_SECRET_ACCESS_KEY', 'secret'), byKey('LOG_LEVEL', 'LOG_LEVEL')] }));
    const setup = deployment(ns, 'setup', { serviceAccountName: 'app' });
    (setup.spec.template.spec as Record<string, unknown>)['initContainers'] = [{ name: 'fetch', image: 'busybox', envFrom: [{ configMapRef: { name: 'prefixed' }, prefix: 'AWS_' }] }];
    await apply(setup);

    const file = join(dir, `${ns}.yaml`);
    const audited = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '--out', file, '-o', 'json']);
    assert.equal(audited.code, 0, audited.stderr);
    type Finding = { kind: string; configMap?: string; keys?: string[]; usedBy?: Array<{ name: string; via: string[] }> };
    const findings = (JSON.parse(audited.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind === 'credential-configmap');
    assert.deepEqual(findings.map((f) => [f.configMap, f.keys, f.usedBy!.map((u) => `${u.name}: ${u.via.join(', ')}`)]), [
      ['ids', ['id', 'secret'], ['worker: env AWS_ACCESS_KEY_ID, env AWS_SECRET_ACCESS_KEY']],
      ['keys', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], ['web: envFrom']],
      ['prefixed', ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'], ['setup: envFrom (prefix AWS_)']],
    ]);
    assert.ok(!audited.stdout.includes(KEY_ID) && !audited.stdout.includes('wJalrXUtnFEMI'), 'a key value is printed');
    const proposal = readFileSync(file, 'utf8');
    assert.match(proposal, /# removeStaticKeys: true {3}# .*removes the AWS keys \(ConfigMap keys\) from deployment\/.*\/web's pod template, which rolls it/);
    assert.match(proposal, new RegExp(`# deleteKeySecrets: true {3}# .*then deletes ConfigMap ${ns}/ids when no other workload uses it`));

    writeFileSync(file, edited(proposal, 'app', ['removeStaticKeys', 'deleteKeySecrets'], S3_READ));
    const planned = await irsa(stack, ['plan', '-f', file]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, new RegExp(`~ workload-template Deployment/${ns}/web\\n.*\\n {4}~ containers\\.app\\.envFrom:\\n {8}- "ConfigMap keys"`));
    assert.match(planned.stdout, new RegExp(`- config-map ${ns}/keys`));
    assert.match(planned.stdout, new RegExp(`- config-map ${ns}/prefixed`));
    // ids stays (worker still reads LOG_LEVEL from it); only its AWS keys go.
    assert.match(planned.stdout, new RegExp(`~ config-map ${ns}/ids`));
    assert.ok(!planned.stdout.includes(KEY_ID) && !planned.stdout.includes('wJalrXUtnFEMI'), 'a key value is printed');

    const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const template = async (name: string) => (await kubectl(stack, ['get', 'deployment', name, '-n', ns, '-o', 'json'])).spec.template.spec;
    assert.equal((await template('web')).containers[0].envFrom, undefined);
    assert.deepEqual((await template('worker')).containers[0].env, [...PORT_ENV, byKey('LOG_LEVEL', 'LOG_LEVEL')]);
    assert.equal((await template('setup')).initContainers[0].envFrom, undefined);
    const left = await kubectl(stack, ['get', 'configmaps', '-n', ns, '-o', 'json']);
    assert.deepEqual(left.items.filter((c: { metadata: { name: string } }) => c.metadata.name !== 'kube-root-ca.crt').map((c: { metadata: { name: string }; data: Record<string, string> }) => [c.metadata.name, c.data]), [['ids', { LOG_LEVEL: 'info' }]]);

    // A second audit finds no keys and proposes nothing for app; its plan and the first file's change nothing.
    const again = join(dir, `${ns}-again.yaml`);
    const reaudited = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '--out', again, '-o', 'json']);
    assert.equal(reaudited.code, 0, reaudited.stderr);
    assert.deepEqual((JSON.parse(reaudited.stdout) as { findings: Finding[] }).findings.filter((f) => f.kind.startsWith('credential-')), []);
    assert.doesNotMatch(readFileSync(again, 'utf8'), /name: app/);
    const replanned = json<PlanOut>(await irsa(stack, ['plan', '-f', again, '-o', 'json']));
    assert.deepEqual(replanned.plan.changes.filter((c) => c.action !== 'no-op'), []);
    const reapplied = json<PlanOut>(await irsa(stack, ['plan', '-f', file, '-o', 'json']));
    assert.deepEqual(reapplied.plan.changes.filter((c) => c.action !== 'no-op'), []);
  });

  it('the Secret stays when a second workload still uses it', async () => {
    const ns = `shared-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-secrets', namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY } });
    await kubectl(stack, ['create', 'sa', 'test', '-n', ns]);
    await kubectl(stack, ['create', 'sa', 'batch', '-n', ns]);
    await apply(deployment(ns, 'test', { serviceAccountName: 'test', envFrom: [{ secretRef: { name: 'aws-secrets' } }] }));
    await apply(deployment(ns, 'batch', { serviceAccountName: 'batch', envFrom: [{ secretRef: { name: 'aws-secrets' } }] }));
    const file = join(dir, `${ns}.yaml`);
    writeFileSync(file, `version: 1\ncluster:\n  name: ${stack.clusterName}\nbindings:\n  - namespace: ${ns}\n    name: test\n    managedPolicies: [${S3_READ}]\n    removeStaticKeys: true\n    deleteKeySecrets: true\n`);
    const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.match(applied.stdout, new RegExp(`Secret ${ns}/aws-secrets is kept: deployment/${ns}/batch still uses it`));
    assert.equal((await kubectl(stack, ['get', 'deployment', 'test', '-n', ns, '-o', 'json'])).spec.template.spec.containers[0].envFrom, undefined);
    assert.deepEqual((await kubectl(stack, ['get', 'deployment', 'batch', '-n', ns, '-o', 'json'])).spec.template.spec.containers[0].envFrom, [{ secretRef: { name: 'aws-secrets' } }]);
    await kubectl(stack, ['get', 'secret', 'aws-secrets', '-n', ns, '-o', 'json']);
  });

  it('the kube2iam story: annotation removed, serviceAccountName set, the role has the kube2iam role\'s policies', async () => {
    const ns = `k2i-${process.pid}`;
    const legacy = `legacy-uploader-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const nodeTrust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${stack.accountId}:role/nodes` }, Action: 'sts:AssumeRole' }] };
    await aws(stack, ['iam', 'create-role', '--role-name', legacy, '--assume-role-policy-document', JSON.stringify(nodeTrust)]);
    for (const policy of [S3_READ, SQS_READ]) await aws(stack, ['iam', 'attach-role-policy', '--role-name', legacy, '--policy-arn', policy]);
    await apply(deployment(ns, 'uploader', { annotations: { 'iam.amazonaws.com/role': legacy, 'prometheus.io/scrape': 'true' } }));

    const file = join(dir, `${ns}.yaml`);
    const audited = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '--out', file]);
    assert.equal(audited.code, 0, audited.stderr);
    const proposal = readFileSync(file, 'utf8');
    assert.match(proposal, /workloads:\n\s+- deployment\/uploader/);
    writeFileSync(file, edited(proposal, 'uploader', ['migrateKube2iam']));
    const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);

    const after = await kubectl(stack, ['get', 'deployment', 'uploader', '-n', ns, '-o', 'json']);
    assert.deepEqual(after.spec.template.metadata.annotations, { 'prometheus.io/scrape': 'true' });
    assert.equal(after.spec.template.spec.serviceAccountName, 'uploader');
    const sa = await kubectl(stack, ['get', 'sa', 'uploader', '-n', ns, '-o', 'json']);
    const roleName = sa.metadata.annotations['eks.amazonaws.com/role-arn'].split('/').pop();
    const attached = await aws(stack, ['iam', 'list-attached-role-policies', '--role-name', roleName]);
    assert.deepEqual(attached.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn).sort(), [S3_READ, SQS_READ]);

    const again = join(dir, `${ns}-again.yaml`);
    assert.equal((await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '--out', again])).code, 0);
    assert.doesNotMatch(readFileSync(again, 'utf8'), /uploader/);
    const reapplied = json<PlanOut>(await irsa(stack, ['plan', '-f', file, '-o', 'json']));
    assert.deepEqual(reapplied.plan.changes.filter((c) => c.action !== 'no-op'), []);
  });

  it('delete-sa-role refuses to delete a ServiceAccount a workload uses (unless --force); removing only the annotation warns about the node role', async () => {
    const ns = `del-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    // irsa creates (and so would delete) "made"; "handmade" exists already, so only its annotation goes.
    for (const name of ['made', 'handmade']) {
      if (name === 'handmade') await kubectl(stack, ['create', 'sa', name, '-n', ns]);
      const created = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', name, '--attach-policy-arn', S3_READ, '--approve']);
      assert.equal(created.code, 0, created.stderr);
      await apply(deployment(ns, name, { serviceAccountName: name }));
    }
    const refused = await irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'made', '--approve']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`ServiceAccount ${ns}/made is used by deployment/${ns}/made: .*pass --force`));
    await kubectl(stack, ['get', 'sa', 'made', '-n', ns, '-o', 'json']);
    const forced = await irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'made', '--approve', '--force']);
    assert.equal(forced.code, 0, forced.stdout + forced.stderr);
    const left = await kubectl(stack, ['get', 'sa', '-n', ns, '-o', 'json']);
    assert.deepEqual(left.items.map((sa: { metadata: { name: string } }) => sa.metadata.name), ['handmade']);

    const unbound = await irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'handmade', '--approve']);
    assert.equal(unbound.code, 0, unbound.stdout + unbound.stderr);
    assert.match(unbound.stdout, new RegExp(`deployment/${ns}/handmade uses ServiceAccount ${ns}/handmade: without the role annotation their pods fall back to the node's role \\(instance metadata\\) at their next restart`));
  });

  it('a binding with no permission policy plans with a warning', async () => {
    const ns = `noperm-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const planned = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api']);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /Warning: The role irsa-[^ ]+ \(for [^)]+\/api\) will have no permissions/);
  });

  it('create-sa-role flags: a CronJob with literal keys and a kube2iam Deployment on default, migrated in one command', async () => {
    const ns = `cli-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    await kubectl(stack, ['create', 'sa', 'jobs', '-n', ns]);
    await apply({
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: ns },
      spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { serviceAccountName: 'jobs', restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox', env: [{ name: 'AWS_ACCESS_KEY_ID', value: KEY_ID }, { name: 'AWS_SECRET_ACCESS_KEY', value: SECRET_KEY }, { name: 'MODE', value: 'full' }] }] } } } } },
    });
    await apply(deployment(ns, 'legacy', { annotations: { 'iam.amazonaws.com/role': 'legacy-role' } }));
    const args = ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'jobs', '--attach-policy-arn', S3_READ, '--remove-static-keys', '--migrate-kube2iam', '--workload', 'deployment/legacy'];
    const planned = await irsa(stack, args);
    assert.equal(planned.code, 0, planned.stderr);
    assert.ok(!planned.stdout.includes(KEY_ID) && !planned.stdout.includes('wJalrXUtnFEMI'), 'a key value is printed');
    assert.match(planned.stdout, new RegExp(`~ workload-template CronJob/${ns}/nightly`));
    assert.match(planned.stdout, /- "AWS_ACCESS_KEY_ID \(literal value\)"/);
    const applied = await irsa(stack, [...args, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const cron = await kubectl(stack, ['get', 'cronjob', 'nightly', '-n', ns, '-o', 'json']);
    assert.deepEqual(cron.spec.jobTemplate.spec.template.spec.containers[0].env, [{ name: 'MODE', value: 'full' }]);
    const legacy = await kubectl(stack, ['get', 'deployment', 'legacy', '-n', ns, '-o', 'json']);
    assert.equal(legacy.spec.template.spec.serviceAccountName, 'jobs');
    assert.equal(legacy.spec.template.metadata.annotations?.['iam.amazonaws.com/role'], undefined);
    const again = json<PlanOut>(await irsa(stack, [...args, '-o', 'json']));
    assert.deepEqual(again.plan.changes.filter((c) => c.action !== 'no-op'), []);
  });
});
