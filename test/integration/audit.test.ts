// irsa audit against the real apiserver and moto: a namespace seeded with a static-key Secret used
// by a Deployment, a kube2iam-annotated Deployment and a clean IRSA Deployment. Audit must find
// exactly the first two, never print the key, and propose an irsa.yaml that `irsa plan -f` plans.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl, writeCalls } from './helpers/cli.ts';
import { deployment, EXAMPLE_KEY_ID as KEY_ID, EXAMPLE_SECRET_KEY as SECRET_KEY, kubectlApply } from './helpers/kube-objects.ts';
import type { AuditReport } from '../../src/core/audit.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const SQS_READ = 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess';
const dir = mkdtempSync(join(tmpdir(), 'irsa-audit-'));
const apply = (object: unknown) => kubectlApply(stack, object);

describe('irsa audit', { skip }, () => {
  const ns = `audit-${process.pid}`;
  const kube2iamRole = `legacy-orders-${process.pid}`;
  before(async () => {
    await stack.resetAws();
    await kubectl(stack, ['create', 'namespace', ns]);
    // The old ways: a static key in a Secret loaded through env, and a kube2iam role.
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-creds', namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_KEY } });
    await apply(deployment(ns, 'billing', {
      env: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].map((name) => ({ name, valueFrom: { secretKeyRef: { name: 'aws-creds', key: name } } })),
    }));
    const nodeTrust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${stack.accountId}:role/nodes` }, Action: 'sts:AssumeRole' }] };
    await aws(stack, ['iam', 'create-role', '--role-name', kube2iamRole, '--assume-role-policy-document', JSON.stringify(nodeTrust)]);
    for (const policy of [S3_READ, SQS_READ]) await aws(stack, ['iam', 'attach-role-policy', '--role-name', kube2iamRole, '--policy-arn', policy]);
    await kubectl(stack, ['create', 'sa', 'orders', '-n', ns]);
    await apply(deployment(ns, 'orders', { serviceAccountName: 'orders', annotations: { 'iam.amazonaws.com/role': kube2iamRole } }));
    // The new way: a ServiceAccount bound by irsa.
    const bound = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'catalog', '--attach-policy-arn', S3_READ, '--approve']);
    assert.equal(bound.code, 0, bound.stdout + bound.stderr);
    await apply(deployment(ns, 'catalog', { serviceAccountName: 'catalog' }));
  });

  it('finds exactly the static-key and the kube2iam Deployments, masks the key, writes nothing', async () => {
    const result = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!result.stdout.includes(KEY_ID) && !result.stderr.includes(KEY_ID), 'the access key ID is printed unmasked');
    assert.ok(!result.stdout.includes(SECRET_KEY) && !result.stdout.includes('wJalrXUtnFEMI'), 'the secret key is printed');
    const report = json<AuditReport>(result);
    assert.deepEqual(report.findings, [
      {
        kind: 'credential-secret',
        namespace: ns,
        secret: 'aws-creds',
        keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
        accessKeyIds: ['AKIA************MPLE'],
        usedBy: [{ kind: 'Deployment', namespace: ns, name: 'billing', via: ['env AWS_ACCESS_KEY_ID', 'env AWS_SECRET_ACCESS_KEY'] }],
      },
      {
        kind: 'kube2iam',
        workload: { kind: 'Deployment', namespace: ns, name: 'orders' },
        role: kube2iamRole,
        roleArn: `arn:aws:iam::${stack.accountId}:role/${kube2iamRole}`,
        policies: '2 managed, 0 inline',
      },
    ]);
    assert.deepEqual(report.bindings.map((b) => [b.name, b.newServiceAccount, b.managedPolicies]), [
      ['billing', true, []],
      ['orders', false, [S3_READ, SQS_READ]],
    ]);
    assert.deepEqual(writeCalls(result.calls), {});
  });

  it('the text report masks the key and prints the proposal', async () => {
    const result = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`✗ Secret ${ns}/aws-creds holds AWS keys in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY \\(access key AKIA\\*{12}MPLE\\)`));
    assert.match(result.stdout, new RegExp(`✗ deployment/${ns}/orders uses role ${kube2iamRole}`));
    assert.doesNotMatch(result.stdout, /catalog/);
    assert.ok(!result.stdout.includes(KEY_ID));
  });

  it('the proposed irsa.yaml (--out) plans cleanly with irsa plan -f', async () => {
    const file = join(dir, 'irsa.yaml');
    const audited = await irsa(stack, ['audit', '--cluster', stack.clusterName, '-n', ns, '--out', file]);
    assert.equal(audited.code, 0, audited.stderr);
    const yaml = readFileSync(file, 'utf8');
    assert.ok(!yaml.includes(KEY_ID));
    const planned = await irsa(stack, ['plan', '-f', file, '-o', 'json']);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    const changes = json<{ plan: { changes: Array<{ kind: string; id: string; action: string }> } }>(planned).plan.changes;
    const created = changes.filter((c) => c.action === 'create').map((c) => `${c.kind} ${c.id}`);
    assert.ok(created.includes(`service-account ${stack.clusterName}/${ns}/billing`), created.join('\n'));
    assert.ok(changes.some((c) => c.kind === 'service-account' && c.id === `${stack.clusterName}/${ns}/orders` && c.action === 'update'), JSON.stringify(changes));
    assert.deepEqual(writeCalls(planned.calls), {});
  });
});
