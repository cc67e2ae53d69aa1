import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  audit,
  findAccessKeyIds,
  isCredentialKeyName,
  kube2iamRoleName,
  maskAccessKeyId,
  summarizeConfigMap,
  summarizeSecret,
  type AuditInput,
  type RoleRead,
  type SecretSummary,
  type WorkloadTemplate,
} from '../../src/core/audit.ts';
import { parseConfig } from '../../src/config/load.ts';
import { proposedIrsaYaml, renderAuditText } from '../../src/ui/audit.ts';
import type { RoleState, ServiceAccountState } from '../../src/core/state.ts';

const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const b64 = (text: string) => Buffer.from(text).toString('base64');

// ---- fixture builders -----------------------------------------------------------------------

function workload(name: string, overrides: Partial<WorkloadTemplate> = {}): WorkloadTemplate {
  return {
    kind: 'Deployment',
    namespace: 'shop',
    name,
    annotations: {},
    podAnnotations: {},
    serviceAccount: 'default',
    containers: [{ name: 'main', env: [], envFromSecrets: [] }],
    secretVolumes: [],
    ...overrides,
  };
}

const container = (env: WorkloadTemplate['containers'][number]['env'], envFromSecrets: string[] = []) => [{ name: 'main', env, envFromSecrets }];

const staticKeySecret = (): SecretSummary =>
  summarizeSecret({ namespace: 'shop', name: 'aws-creds', type: 'Opaque' }, { AWS_ACCESS_KEY_ID: b64(KEY_ID), AWS_SECRET_ACCESS_KEY: b64(SECRET_KEY), region: b64('eu-west-1') });

const sa = (name: string, annotations: Record<string, string> = {}): ServiceAccountState => ({ namespace: 'shop', name, annotations, labels: {} });

function kube2iamRole(overrides: Partial<RoleState> = {}): RoleState {
  return {
    arn: 'arn:aws:iam::111122223333:role/legacy-orders',
    name: 'legacy-orders',
    path: '/',
    description: '',
    maxSessionDuration: 3600,
    permissionsBoundary: null,
    trustPolicy: { Version: '2012-10-17', Statement: [] },
    tags: {},
    attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
    inlinePolicies: { orders: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::orders/*' }] } },
    ...overrides,
  };
}

/** The acceptance namespace: a static-key Deployment, a kube2iam Deployment and a clean IRSA one. */
function seeded(overrides: Partial<AuditInput> = {}): AuditInput {
  return {
    cluster: { name: 'prod', region: 'eu-west-1' },
    secrets: [staticKeySecret(), summarizeSecret({ namespace: 'shop', name: 'db', type: 'Opaque' }, { password: b64('hunter2') })],
    workloads: [
      workload('billing', { containers: container([{ name: 'AWS_ACCESS_KEY_ID', secretKeyRef: { name: 'aws-creds', key: 'AWS_ACCESS_KEY_ID' } }, { name: 'AWS_SECRET_ACCESS_KEY', secretKeyRef: { name: 'aws-creds', key: 'AWS_SECRET_ACCESS_KEY' } }, { name: 'DB', secretKeyRef: { name: 'db', key: 'password' } }]) }),
      workload('orders', { podAnnotations: { 'iam.amazonaws.com/role': 'legacy-orders' }, serviceAccount: 'orders' }),
      workload('catalog', { serviceAccount: 'catalog' }),
    ],
    serviceAccounts: [sa('default'), sa('orders'), sa('catalog', { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/catalog' })],
    roles: new Map<string, RoleRead>([['legacy-orders', { role: kube2iamRole() }]]),
    ...overrides,
  };
}

// ---- secrets and masking ----------------------------------------------------------------------

test('access key IDs are masked to prefix and last four; the secret key never appears', () => {
  assert.equal(maskAccessKeyId(KEY_ID), 'AKIA************MPLE');
  assert.deepEqual(findAccessKeyIds(`[default]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET_KEY}\n`), ['AKIA************MPLE']);
  assert.deepEqual(findAccessKeyIds('ASIA1234567890ABCDEF and XAKIA1234567890ABCDEFG'), ['ASIA************CDEF']);
  const summary = summarizeSecret({ namespace: 'n', name: 's', type: 'Opaque' }, { credentials: b64(`aws_access_key_id=${KEY_ID}`) }, { id: KEY_ID });
  assert.deepEqual(summary, { namespace: 'n', name: 's', type: 'Opaque', keys: ['credentials', 'id'], accessKeyIds: [{ key: 'credentials', masked: 'AKIA************MPLE' }, { key: 'id', masked: 'AKIA************MPLE' }] });
  assert.ok(!JSON.stringify(summary).includes(KEY_ID));
});

test('credential key names: AWS env names in any spelling; not unrelated keys', () => {
  for (const name of ['AWS_ACCESS_KEY_ID', 'aws_secret_access_key', 'awsAccessKeyId', 'S3_AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'accessKeyId', 'secret-access-key']) assert.ok(isCredentialKeyName(name), name);
  for (const name of ['password', 'AWS_REGION', 'accesskey', 'token', 'AWS_ROLE_ARN']) assert.ok(!isCredentialKeyName(name), name);
});

test('kube2iam role names: name, path/name and ARN', () => {
  assert.equal(kube2iamRoleName('legacy-orders'), 'legacy-orders');
  assert.equal(kube2iamRoleName('team/legacy-orders'), 'legacy-orders');
  assert.equal(kube2iamRoleName('arn:aws:iam::111122223333:role/team/legacy-orders'), 'legacy-orders');
  assert.equal(kube2iamRoleName('arn:aws:iam::bad'), null);
});

// ---- findings -------------------------------------------------------------------------------

test('the seeded namespace: exactly the static-key and the kube2iam Deployments are found; the IRSA one is clean', () => {
  const report = audit(seeded());
  assert.deepEqual(report.findings, [
    {
      kind: 'credential-secret',
      namespace: 'shop',
      secret: 'aws-creds',
      keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
      accessKeyIds: ['AKIA************MPLE'],
      usedBy: [{ kind: 'Deployment', namespace: 'shop', name: 'billing', via: ['env AWS_ACCESS_KEY_ID', 'env AWS_SECRET_ACCESS_KEY'] }],
    },
    { kind: 'kube2iam', workload: { kind: 'Deployment', namespace: 'shop', name: 'orders' }, role: 'legacy-orders', roleArn: 'arn:aws:iam::111122223333:role/legacy-orders', policies: '2 managed, 1 inline' },
  ]);
  assert.ok(!JSON.stringify(report).includes(KEY_ID));
  assert.ok(!JSON.stringify(report).includes(SECRET_KEY));
});

test('envFrom, secret volumes and literal keys in the pod template are found too; an unused credential Secret is listed', () => {
  const report = audit(seeded({
    workloads: [
      workload('from-env', { containers: container([], ['aws-creds']) }),
      workload('mounted', { secretVolumes: ['aws-creds'], kind: 'CronJob' }),
      workload('literal', { containers: container([{ name: 'AWS_ACCESS_KEY_ID', value: KEY_ID }, { name: 'AWS_SECRET_ACCESS_KEY', value: SECRET_KEY }]) }),
    ],
    secrets: [staticKeySecret(), summarizeSecret({ namespace: 'shop', name: 'spare', type: 'Opaque' }, { aws_access_key_id: b64('x') })],
  }));
  const secret = report.findings.find((f) => f.kind === 'credential-secret' && f.secret === 'aws-creds');
  assert.deepEqual(secret && 'usedBy' in secret ? secret.usedBy.map((u) => `${u.kind}/${u.name}:${u.via.join('+')}`) : [], ['CronJob/mounted:volume', 'Deployment/from-env:envFrom']);
  const spare = report.findings.find((f) => f.kind === 'credential-secret' && f.secret === 'spare');
  assert.deepEqual(spare && 'usedBy' in spare ? spare.usedBy : null, []);
  const literal = report.findings.find((f) => f.kind === 'credential-env');
  assert.deepEqual(literal, { kind: 'credential-env', workload: { kind: 'Deployment', namespace: 'shop', name: 'literal' }, container: 'main', variables: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], accessKeyIds: ['AKIA************MPLE'] });
  assert.ok(!renderAuditText(report).includes(KEY_ID));
  assert.ok(!proposedIrsaYaml(report).includes(KEY_ID));
});

test('a credential-named variable marks the Secret it reads even when the Secret looks harmless', () => {
  const report = audit(seeded({
    secrets: [summarizeSecret({ namespace: 'shop', name: 'misc', type: 'Opaque' }, { id: b64('testing') })],
    workloads: [workload('app', { containers: container([{ name: 'AWS_ACCESS_KEY_ID', secretKeyRef: { name: 'misc', key: 'id' } }]) })],
  }));
  assert.equal(report.findings[0]?.kind, 'credential-secret');
  assert.deepEqual(report.bindings.map((b) => `${b.namespace}/${b.name}`), ['shop/app']);
});

test('workloads using no annotated ServiceAccount (and no other AWS identity) are listed as node-role fallbacks', () => {
  const report = audit(seeded({ secrets: [], workloads: [workload('plain'), workload('ghost', { serviceAccount: 'missing' }), workload('catalog', { serviceAccount: 'catalog' })] }));
  assert.deepEqual(report.findings, [
    { kind: 'no-irsa', workload: { kind: 'Deployment', namespace: 'shop', name: 'ghost' }, serviceAccount: 'missing', reason: 'ServiceAccount missing does not exist' },
    { kind: 'no-irsa', workload: { kind: 'Deployment', namespace: 'shop', name: 'plain' }, serviceAccount: 'default', reason: 'ServiceAccount default has no eks.amazonaws.com/role-arn annotation' },
  ]);
  assert.deepEqual(report.bindings, [], 'no binding is proposed for workloads that may not call AWS at all');
});

// ---- the proposed irsa.yaml ---------------------------------------------------------------------

test('proposed irsa.yaml: one binding per workload, a dedicated SA instead of default, kube2iam policies reused; parseConfig accepts it', () => {
  const report = audit(seeded());
  assert.deepEqual(report.bindings.map((b) => ({ ns: b.namespace, name: b.name, new: b.newServiceAccount, managed: b.managedPolicies, inline: Object.keys(b.inlinePolicies) })), [
    { ns: 'shop', name: 'billing', new: true, managed: [], inline: [] },
    { ns: 'shop', name: 'orders', new: false, managed: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess'], inline: ['orders'] },
  ]);
  const config = parseConfig(proposedIrsaYaml(report), 'irsa.yaml', () => '');
  assert.equal(config.cluster.name, 'prod');
  assert.deepEqual(config.bindings.map((b) => [b.namespace, b.name, b.policyArns, Object.keys(b.inlinePolicies)]), [
    ['shop', 'billing', [], []],
    ['shop', 'orders', ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess'], ['orders']],
  ]);
  // Review notes are comments, not data.
  const yaml = proposedIrsaYaml(report);
  assert.match(yaml, /# deployment\/shop\/billing loads AWS keys from Secret aws-creds \(AKIA\*{12}MPLE\) via env AWS_ACCESS_KEY_ID, env AWS_SECRET_ACCESS_KEY/);
  assert.match(yaml, /# deployment\/shop\/billing uses ServiceAccount default: with removeStaticKeys or migrateKube2iam irsa sets its serviceAccountName to billing/);
  // The workload to move onto the new ServiceAccount is data; the migration options are commented out, saying what each does.
  assert.deepEqual(config.bindings[0]!.migration?.workloads, [{ kind: 'Deployment', name: 'billing' }]);
  assert.equal(config.bindings[0]!.migration?.removeStaticKeys, false);
  assert.match(yaml, /\n {4}# removeStaticKeys: true {3}# removes the AWS keys \(Secret aws-creds\) from deployment\/shop\/billing's pod template, which rolls it\n {4}# deleteKeySecrets: true {3}# then deletes Secret shop\/aws-creds when no other workload uses it\n/);
  assert.match(yaml, /\n {4}# migrateKube2iam: true {3}# removes iam\.amazonaws\.com\/role from deployment\/shop\/orders's pod template, which rolls it\n/);
  const uncommented = parseConfig(yaml.replace(/# (removeStaticKeys|deleteKeySecrets|migrateKube2iam): true/g, '$1: true'), 'irsa.yaml', () => '');
  assert.deepEqual(uncommented.bindings.map((b) => b.migration && [b.migration.removeStaticKeys, b.migration.deleteKeySecrets, b.migration.migrateKube2iam]), [[true, true, false], [false, false, true]]);
  assert.match(yaml, /# TODO: no policies could be read/);
  assert.deepEqual(Object.keys(parse(yaml)), ['version', 'cluster', 'bindings']);
});

test('a flagged workload whose ServiceAccount is already bound keeps that role and its policies (never a detach)', () => {
  const arn = 'arn:aws:iam::123456789012:role/irsa-prod-shop-orders';
  const report = audit(seeded({
    workloads: [workload('orders', { serviceAccount: 'orders', containers: container([{ name: 'AWS_ACCESS_KEY_ID', value: KEY_ID }]) })],
    secrets: [],
    serviceAccounts: [{ namespace: 'shop', name: 'orders', annotations: { 'eks.amazonaws.com/role-arn': arn }, labels: {} }],
    roles: new Map(),
    boundRoles: new Map<string, RoleRead>([[arn, { role: { ...kube2iamRole(), name: 'irsa-prod-shop-orders', arn } }]]),
  }));
  const config = parseConfig(proposedIrsaYaml(report), 'irsa.yaml', () => '');
  assert.deepEqual(config.bindings.map((b) => [b.name, b.roleName, b.policyArns]), [['orders', 'irsa-prod-shop-orders', [...kube2iamRole().attachedPolicyArns].sort()]]);
  assert.match(proposedIrsaYaml(report), /already bound to arn:aws:iam::123456789012:role\/irsa-prod-shop-orders/);
});

test('proposed irsa.yaml: two workloads on one ServiceAccount share a binding; an unreadable role is noted; an empty proposal still parses', () => {
  const report = audit(seeded({
    workloads: [
      workload('a', { serviceAccount: 'orders', podAnnotations: { 'iam.amazonaws.com/role': 'legacy-orders' } }),
      workload('b', { serviceAccount: 'orders', podAnnotations: { 'iam.amazonaws.com/role': 'gone' } }),
    ],
    roles: new Map<string, RoleRead>([['legacy-orders', { role: kube2iamRole() }], ['gone', { error: 'AccessDenied' }]]),
  }));
  assert.equal(report.bindings.length, 1);
  assert.deepEqual(report.bindings[0]!.workloads.map((w) => w.name), ['a', 'b']);
  assert.match(proposedIrsaYaml(report), /uses kube2iam\/kiam role gone \(iam\.amazonaws\.com\/role\); its policies: could not be read: AccessDenied/);
  parseConfig(proposedIrsaYaml(report), 'irsa.yaml', () => '');
  const empty = audit(seeded({ workloads: [], secrets: [] }));
  assert.deepEqual(parseConfig(proposedIrsaYaml(empty), 'irsa.yaml', () => '').bindings, []);
});

test('renderAuditText groups findings and prints the proposal', () => {
  const text = renderAuditText(audit(seeded()));
  assert.match(text, /^Static AWS access keys\n✗ Secret shop\/aws-creds holds AWS keys in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY \(access key AKIA\*{12}MPLE\)\n    loaded by deployment\/shop\/billing via env AWS_ACCESS_KEY_ID, env AWS_SECRET_ACCESS_KEY\n/);
  assert.match(text, /\nkube2iam \/ kiam\n✗ deployment\/shop\/orders uses role legacy-orders/);
  assert.match(text, /\nProposed irsa\.yaml \(2 bindings; /);
});

// ---- keys in ConfigMaps (issue 20) ------------------------------------------------------------

test('keys in ConfigMaps are findings: envFrom (with a prefix), configMapKeyRef and volumes; a proposal with both migration options', () => {
  const report = audit(seeded({
    secrets: [],
    configMaps: [
      { namespace: 'shop', name: 'aws-config', keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] },
      { namespace: 'shop', name: 'prefixed', keys: ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY', 'REGION'] },
      { namespace: 'shop', name: 'settings', keys: ['id', 'LOG_LEVEL'] },
      { namespace: 'shop', name: 'plain', keys: ['LOG_LEVEL'] },
      { namespace: 'shop', name: 'spare', keys: ['aws_secret_access_key'] },
    ],
    workloads: [
      workload('from-env', { containers: [{ name: 'main', env: [], envFromSecrets: [], envFrom: [{ configMap: 'aws-config', prefix: '' }, { configMap: 'plain', prefix: '' }] }] }),
      workload('prefixed', { containers: [{ name: 'main', env: [], envFromSecrets: [], envFrom: [{ configMap: 'prefixed', prefix: 'AWS_' }] }], configMapVolumes: ['aws-config'] }),
      workload('by-key', { containers: container([{ name: 'AWS_ACCESS_KEY_ID', configMapKeyRef: { name: 'settings', key: 'id' } }, { name: 'LOG', configMapKeyRef: { name: 'plain', key: 'LOG_LEVEL' } }]) }),
    ],
  }));
  const found = report.findings.filter((f) => f.kind === 'credential-configmap');
  assert.deepEqual(found, [
    { kind: 'credential-configmap', namespace: 'shop', configMap: 'aws-config', keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], accessKeyIds: [], usedBy: [{ kind: 'Deployment', namespace: 'shop', name: 'from-env', via: ['envFrom'] }, { kind: 'Deployment', namespace: 'shop', name: 'prefixed', via: ['volume'] }] },
    { kind: 'credential-configmap', namespace: 'shop', configMap: 'prefixed', keys: ['ACCESS_KEY_ID', 'SECRET_ACCESS_KEY'], accessKeyIds: [], usedBy: [{ kind: 'Deployment', namespace: 'shop', name: 'prefixed', via: ['envFrom (prefix AWS_)'] }] },
    { kind: 'credential-configmap', namespace: 'shop', configMap: 'settings', keys: ['id'], accessKeyIds: [], usedBy: [{ kind: 'Deployment', namespace: 'shop', name: 'by-key', via: ['env AWS_ACCESS_KEY_ID'] }] },
    { kind: 'credential-configmap', namespace: 'shop', configMap: 'spare', keys: ['aws_secret_access_key'], accessKeyIds: [], usedBy: [] },
  ]);
  assert.match(renderAuditText(report), /✗ ConfigMap shop\/aws-config holds AWS keys in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY \(readable by anyone who may read ConfigMaps\)\n {4}loaded by deployment\/shop\/from-env via envFrom\n/);
  assert.match(renderAuditText(report), /✗ ConfigMap shop\/spare holds AWS keys in aws_secret_access_key .*\n {4}loaded by no Deployment/);
  // Each user gets a binding; the options say what they remove and delete.
  assert.deepEqual(report.bindings.map((b) => b.name).sort(), ['by-key', 'from-env', 'prefixed']);
  const yaml = proposedIrsaYaml(report);
  assert.match(yaml, /# removeStaticKeys: true {3}# removes the AWS keys \(ConfigMap aws-config\) from deployment\/shop\/from-env's pod template, which rolls it\n {4}# deleteKeySecrets: true {3}# then deletes ConfigMap shop\/aws-config when no other workload uses it\n/);
  assert.match(yaml, /# deployment\/shop\/by-key loads AWS keys from ConfigMap settings \(readable by anyone who may read ConfigMaps\) via env AWS_ACCESS_KEY_ID/);
});

test('without ConfigMaps read, envFrom of a ConfigMap finds nothing, but a credential-named configMapKeyRef still does', () => {
  const report = audit(seeded({
    secrets: [],
    workloads: [
      workload('from-env', { containers: [{ name: 'main', env: [], envFromSecrets: [], envFrom: [{ configMap: 'aws-config', prefix: '' }] }] }),
      workload('by-key', { containers: container([{ name: 'AWS_SECRET_ACCESS_KEY', configMapKeyRef: { name: 'settings', key: 'secret' } }]) }),
    ],
  }));
  assert.deepEqual(report.findings.filter((f) => f.kind === 'credential-configmap').map((f) => 'configMap' in f && f.configMap), ['settings']);
});

test('ConfigMap values: an access key ID is found (masked) whatever the key is called; a workload reading only other keys is not flagged', () => {
  const summary = summarizeConfigMap({ namespace: 'shop', name: 'aws-file' }, { credentials: `[default]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET_KEY}\n`, LOG_LEVEL: 'info' });
  assert.deepEqual(summary, { namespace: 'shop', name: 'aws-file', keys: ['LOG_LEVEL', 'credentials'], accessKeyIds: [{ key: 'credentials', masked: 'AKIA************MPLE' }] });
  assert.ok(!JSON.stringify(summary).includes(KEY_ID) && !JSON.stringify(summary).includes(SECRET_KEY));
  const report = audit(seeded({
    secrets: [],
    configMaps: [summary],
    workloads: [
      workload('mounted', { configMapVolumes: ['aws-file'] }),
      workload('logs', { containers: container([{ name: 'LOG_LEVEL', configMapKeyRef: { name: 'aws-file', key: 'LOG_LEVEL' } }]) }),
    ],
  }));
  assert.deepEqual(report.findings.filter((f) => f.kind === 'credential-configmap'), [
    { kind: 'credential-configmap', namespace: 'shop', configMap: 'aws-file', keys: ['credentials'], accessKeyIds: ['AKIA************MPLE'], usedBy: [{ kind: 'Deployment', namespace: 'shop', name: 'mounted', via: ['volume'] }] },
  ]);
  assert.deepEqual(report.bindings.map((b) => b.name), ['mounted']);
  assert.match(renderAuditText(report), /✗ ConfigMap shop\/aws-file holds AWS keys in credentials \(access key AKIA\*{12}MPLE\) \(readable by anyone who may read ConfigMaps\)/);
});
