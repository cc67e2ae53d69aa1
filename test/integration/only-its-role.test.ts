// doctor's "only its role?" against the local stack: moto (EKS nodegroups with EC2 launch templates,
// IAM) and the real apiserver (RBAC answers the SubjectAccessReviews). Each extra path is seeded,
// found, then taken away and its absence proven; a denied read is `!`, never ✓.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl, writeCalls } from './helpers/cli.ts';
import { EXAMPLE_KEY_ID, EXAMPLE_SECRET_KEY, kubectlApply } from './helpers/kube-objects.ts';
import type { OnlyItsRoleReport } from '../../src/core/only-its-role.ts';

const { stack, skip } = await useStack();

const WORKER = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'].map((n) => `arn:aws:iam::aws:policy/${n}`);
let sequence = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;
const dir = mkdtempSync(join(tmpdir(), 'irsa-only-'));
const apply = (object: unknown) => kubectlApply(stack, object);

async function namespace(prefix: string): Promise<string> {
  const ns = unique(prefix);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  return ns;
}

const OPEN = { HttpTokens: 'optional', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' };
const CLOSED = { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' };

async function launchTemplate(options: Record<string, unknown>): Promise<string> {
  const out = await aws(stack, ['ec2', 'create-launch-template', '--launch-template-name', unique('lt'), '--launch-template-data', JSON.stringify({ MetadataOptions: options })]);
  return out.LaunchTemplate.LaunchTemplateId;
}

/** The cluster's only nodegroup, re-created on a launch template with these options. */
let currentGroup: string | null = null;
async function nodegroup(nodeRoleArn: string, templateId: string | null): Promise<string> {
  if (currentGroup) await aws(stack, ['eks', 'delete-nodegroup', '--cluster-name', stack.clusterName, '--nodegroup-name', currentGroup]);
  const name = unique('ng');
  await aws(stack, ['eks', 'create-nodegroup', '--cluster-name', stack.clusterName, '--nodegroup-name', name, '--node-role', nodeRoleArn, '--subnets', 'subnet-1',
    ...(templateId ? ['--launch-template', `id=${templateId},version=1`] : [])]);
  currentGroup = name;
  return name;
}

async function role(name: string, trust: unknown, managed: string[] = [], inline: Record<string, unknown> = {}): Promise<string> {
  const created = await aws(stack, ['iam', 'create-role', '--role-name', name, '--assume-role-policy-document', JSON.stringify(trust)]);
  for (const arn of managed) await aws(stack, ['iam', 'attach-role-policy', '--role-name', name, '--policy-arn', arn]);
  for (const [policyName, document] of Object.entries(inline)) await aws(stack, ['iam', 'put-role-policy', '--role-name', name, '--policy-name', policyName, '--policy-document', JSON.stringify(document)]);
  return created.Role.Arn;
}
const ec2Trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
const s3Doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' }] };
const dynamoDoc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: '*' }] };

async function bind(ns: string, name: string, policyArn: string): Promise<string> {
  const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', name, '--role-name', `${ns}-${name}`, '--attach-policy-arn', policyArn, '--approve']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  return `arn:aws:iam::${stack.accountId}:role/${ns}-${name}`;
}

async function doctor(ns: string, name: string, env: Record<string, string> = {}) {
  const result = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', name, '-o', 'json'], env);
  const report = json<{ ok: boolean; onlyItsRole: OnlyItsRoleReport }>(result).onlyItsRole;
  const check = (id: string) => report.checks.find((c) => c.id === id)!;
  return { result, report, check, statuses: Object.fromEntries(report.checks.map((c) => [c.id, c.status])) };
}

describe('irsa doctor: only its role?', { skip }, () => {
  let s3Policy: string;
  let nodeRoleArn: string;
  let openLt: string;
  let closedLt: string;
  before(async () => {
    await stack.resetAws();
    s3Policy = (await aws(stack, ['iam', 'create-policy', '--policy-name', 'app-s3', '--policy-document', JSON.stringify(s3Doc)])).Policy.Arn;
    // The shared-node-role starting point: S3 (for app a) and DynamoDB (for app b) on the node role.
    nodeRoleArn = await role('node', ec2Trust, [...WORKER, s3Policy], { dynamo: dynamoDoc });
    openLt = await launchTemplate(OPEN);
    closedLt = await launchTemplate(CLOSED);
  });
  after(async () => {
    if (currentGroup) await aws(stack, ['eks', 'delete-nodegroup', '--cluster-name', stack.clusterName, '--nodegroup-name', currentGroup]).catch(() => {});
  });

  it('IMDS open and a fat node role: ✗ naming the nodegroup and the node role\'s policies that overlap the pod\'s own; closed: ✓ "only its role"', async () => {
    const ns = await namespace('two-apps');
    await bind(ns, 'a', s3Policy);
    const group = await nodegroup(nodeRoleArn, openLt);
    const open = await doctor(ns, 'a');
    assert.equal(open.result.code, 1);
    assert.equal(open.report.verdict, 'extra-paths');
    assert.equal(open.check('imds').status, 'fail');
    assert.match(open.check('imds').details!.join('\n'), new RegExp(`nodegroup ${group} \\(node role node\\): pods reach the node role through IMDS \\(HttpTokens optional`));
    assert.equal(open.check('node-permissions').status, 'fail');
    const perms = open.check('node-permissions').details!.join('\n');
    assert.match(perms, /node role node: managed app-s3: .*overlaps .*'s own role \(\(the same policy\), s3:GetObject, s3:PutObject\)/);
    assert.match(perms, /node role node: inline dynamo: beyond what worker nodes need \(allows dynamodb:GetItem, dynamodb:PutItem\)/);
    assert.doesNotMatch(perms, /AmazonEKSWorkerNodePolicy|AmazonEKS_CNI_Policy|AmazonEC2ContainerRegistryReadOnly/);
    for (const id of ['node-roles', 'secrets', 'other-roles']) assert.equal(open.check(id).status, 'pass', `${id}: ${JSON.stringify(open.check(id))}`);
    // JSON carries every path, each with its fix.
    assert.deepEqual(open.report.paths.map((p) => p.kind), ['imds', 'node-permissions', 'node-permissions']);
    assert.ok(open.report.paths.every((p) => p.fix.length > 0));
    // doctor reads only: no write beyond the TokenRequest and the dry run (SubjectAccessReviews are questions).
    const questions = ['k8s POST serviceaccounts/token', 'k8s POST pods (dry run)', 'k8s POST subjectaccessreviews'];
    assert.deepEqual(Object.keys(writeCalls(open.result.calls)).filter((c) => !questions.includes(c)), []);

    await nodegroup(nodeRoleArn, closedLt);
    const closed = await doctor(ns, 'a');
    assert.equal(closed.report.verdict, 'only-its-role', JSON.stringify(closed.report.checks, null, 1));
    assert.match(closed.check('imds').observed, /1 nodegroup: IMDSv2 required with hop limit 1, no hostNetwork pods/);
    assert.equal(closed.check('node-permissions').observed, 'no node role is reachable from this pod');

    const text = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', 'a']);
    assert.match(text.stdout, /^✓ 7\. Node role not reachable through instance metadata \(IMDS\)/m);
    assert.match(text.stdout, /^✓ 7\. No other role admits this ServiceAccount {2}\d+ roles scanned/m);
  });

  it('hostNetwork pods reach IMDS through a hop limit of 1: ✗ naming the workload', async () => {
    const ns = await namespace('hostnet');
    await bind(ns, 'agent', s3Policy);
    await nodegroup(nodeRoleArn, closedLt);
    await apply({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'agent', namespace: ns },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { serviceAccountName: 'agent', hostNetwork: true, containers: [{ name: 'app', image: 'busybox' }] } } },
    });
    const { check } = await doctor(ns, 'agent');
    assert.equal(check('imds').status, 'fail');
    assert.match(check('imds').details!.join('\n'), new RegExp(`hostNetwork pods of ${ns}/agent \\(deployment/${ns}/agent\\) reach IMDS on any node`));
    assert.equal(check('node-permissions').status, 'fail', 'the node role is this pod\'s again');
  });

  it('a kube2iam role trusting the node role: ✗ while IMDS is open; absent once nothing trusts it', async () => {
    const ns = await namespace('k2i');
    await bind(ns, 'app', s3Policy);
    const lean = await role(unique('lean-node'), ec2Trust, WORKER, { kube2iam: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${stack.accountId}:role/k2i-*` }] } });
    await nodegroup(lean, openLt);
    const oldRole = unique('k2i-old');
    await role(oldRole, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: lean }, Action: 'sts:AssumeRole' }] }, [s3Policy]);
    const found = await doctor(ns, 'app');
    assert.equal(found.check('node-roles').status, 'fail');
    assert.match(found.check('node-roles').details!.join('\n'), new RegExp(`role ${oldRole}: its trust names node role ${lean.split('/').pop()}`));
    // The lean node role's own grant is a policy beyond worker needs too.
    assert.match(found.check('node-permissions').details!.join('\n'), /inline kube2iam/);
    await aws(stack, ['iam', 'detach-role-policy', '--role-name', oldRole, '--policy-arn', s3Policy]);
    await aws(stack, ['iam', 'delete-role', '--role-name', oldRole]);
    const gone = await doctor(ns, 'app');
    assert.equal(gone.check('node-roles').status, 'pass');
    assert.equal(gone.check('node-roles').observed, 'no role trusts the reachable node roles');
  });

  it('a Secret with AWS keys: ✓ while RBAC denies the ServiceAccount (the apiserver says so), ✗ once a RoleBinding lets it get the Secret', async () => {
    const ns = await namespace('keys');
    await bind(ns, 'app', s3Policy);
    await nodegroup(nodeRoleArn, closedLt);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-creds', namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: EXAMPLE_KEY_ID, AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET_KEY } });
    const denied = await doctor(ns, 'app');
    assert.equal(denied.check('secrets').status, 'pass');
    assert.match(denied.check('secrets').observed, new RegExp(`Secrets? with AWS keys, none readable by ${ns}/app`));
    assert.ok(denied.result.calls['k8s POST subjectaccessreviews']! >= 2, 'asked the apiserver (list, then get by name)');

    await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read-creds', namespace: ns }, rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['aws-creds'], verbs: ['get'] }] });
    await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'read-creds', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-creds' }, subjects: [{ kind: 'ServiceAccount', name: 'app', namespace: ns }] });
    const readable = await doctor(ns, 'app');
    assert.equal(readable.check('secrets').status, 'fail');
    assert.deepEqual(readable.report.paths.filter((p) => p.kind === 'secrets').map((p) => p.target), [`Secret ${ns}/aws-creds`]);
    assert.match(readable.check('secrets').details!.join('\n'), /holds AWS keys \(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, .*AKIA\*{12}MPLE\)/);
    assert.doesNotMatch(readable.result.stdout, new RegExp(EXAMPLE_KEY_ID));
  });

  it('another role whose trust admits the ServiceAccount by pattern: ✗ naming it; removed: ✓', async () => {
    const ns = await namespace('other');
    await bind(ns, 'app', s3Policy);
    await nodegroup(nodeRoleArn, closedLt);
    const hostPath = new URL(stack.issuerUrl).host;
    const wide = unique('wide');
    await role(wide, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${stack.accountId}:oidc-provider/${hostPath}` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { [`${hostPath}:sub`]: `system:serviceaccount:${ns}:*` } } }] });
    const found = await doctor(ns, 'app');
    assert.equal(found.check('other-roles').status, 'fail');
    assert.deepEqual(found.report.paths.filter((p) => p.kind === 'other-roles').map((p) => p.target), [`role ${wide}`]);
    assert.match(found.check('other-roles').details![0]!, /statement 1 \(kept as written\) still admits system:serviceaccount:.*:app with any audience/);
    await aws(stack, ['iam', 'delete-role', '--role-name', wide]);
    assert.equal((await doctor(ns, 'app')).check('other-roles').status, 'pass');
  });

  it('denied reads are ! with the permission to grant, never ✓: no SubjectAccessReview right; an unreadable launch template', async () => {
    const ns = await namespace('denied');
    await bind(ns, 'app', s3Policy);
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'aws-creds', namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: EXAMPLE_KEY_ID, AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET_KEY } });
    // A nodegroup naming a launch template that does not exist (deleted after it was made).
    const gone = await launchTemplate(CLOSED);
    await nodegroup(nodeRoleArn, gone);
    await aws(stack, ['ec2', 'delete-launch-template', '--launch-template-id', gone]);
    // Everything doctor reads, but no create on subjectaccessreviews.
    await kubectl(stack, ['create', 'sa', 'doctor', '-n', ns]);
    const rules = [
      { apiGroups: [''], resources: ['serviceaccounts', 'pods', 'namespaces', 'secrets'], verbs: ['get', 'list'] },
      { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      { apiGroups: ['apps', 'batch'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'cronjobs', 'jobs'], verbs: ['list'] },
      { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['list'] },
    ];
    await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${ns}-doctor` }, rules });
    await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${ns}-doctor` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ns}-doctor` }, subjects: [{ kind: 'ServiceAccount', name: 'doctor', namespace: ns }] });
    const token = (await kubectl<string>(stack, ['create', 'token', 'doctor', '-n', ns])).trim();
    const kubeconfig = join(dir, `${ns}.kubeconfig`);
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'limited',
      clusters: [{ name: 'local', cluster: { server: stack.apiserverUrl, 'certificate-authority-data': Buffer.from(stack.caCertPem).toString('base64') } }],
      users: [{ name: 'doctor', user: { token } }],
      contexts: [{ name: 'limited', context: { cluster: 'local', user: 'doctor' } }],
    }));
    const { report, check } = await doctor(ns, 'app', { KUBECONFIG: kubeconfig });
    assert.equal(check('secrets').status, 'warn');
    assert.match(check('secrets').fix!, /grant create on subjectaccessreviews\.authorization\.k8s\.io/);
    assert.equal(check('imds').status, 'warn');
    assert.match(check('imds').details!.join('\n'), /its launch template could not be read .*fix: grant ec2:DescribeLaunchTemplateVersions/);
    // The node role holds S3 and DynamoDB: whether this pod reaches them is undecided, so never ✓.
    assert.equal(check('node-permissions').status, 'warn');
    assert.match(check('node-permissions').details!.join('\n'), /\(if the node role is reachable: irsa cannot decide IMDS\)/);
    // No role trusts the node role: that absence holds whatever IMDS does.
    assert.equal(check('node-roles').status, 'pass');
    assert.notEqual(report.verdict, 'only-its-role');
  });
});
