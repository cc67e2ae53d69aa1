import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyPatch,
  applyTemplateChange,
  NO_MIGRATION,
  planMigrations,
  referencedConfigMaps,
  referencedSecrets,
  type MigrationBinding,
  type MigrationOptions,
  type PodTemplateWorkload,
  type TemplateView,
} from '../../src/core/migration.ts';
import type { PodTemplateLike } from '../../src/core/credential-sources.ts';

// ---- fixture builders -----------------------------------------------------------------------

const secrets = new Map<string, string[]>([
  ['aws-secrets', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
  ['mixed', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD']],
]);

function workload(name: string, template: PodTemplateLike, kind: PodTemplateWorkload['kind'] = 'Deployment'): PodTemplateWorkload {
  return { kind, namespace: 'shop', name, template };
}

const envFromTemplate = (serviceAccountName: string | undefined, secret = 'aws-secrets'): PodTemplateLike => ({
  metadata: { labels: { app: 'x' } } as PodTemplateLike['metadata'],
  spec: {
    ...(serviceAccountName ? { serviceAccountName } : {}),
    containers: [{ name: 'app', env: [{ name: 'PORT', value: '80' }], envFrom: [{ configMapRef: { name: 'cfg' } }, { secretRef: { name: secret } }] }],
  },
});

const kube2iamTemplate = (): PodTemplateLike => ({
  metadata: { annotations: { 'iam.amazonaws.com/role': 'legacy-uploader', other: 'kept' } },
  spec: { containers: [{ name: 'app' }] },
});

const binding = (options: Partial<MigrationOptions> = {}, serviceAccount = 'test'): MigrationBinding => ({
  cluster: { name: 'prod' },
  namespace: 'shop',
  serviceAccount,
  options: { ...NO_MIGRATION, ...options },
  dependsOn: ['service-account:shop/test'],
});

// ---- tests ----------------------------------------------------------------------------------

test('without options: warnings name workload, container and source; no change', () => {
  const plan = planMigrations([binding()], { workloads: [workload('test', envFromTemplate('test'))], secrets });
  assert.deepEqual(plan.changes, []);
  assert.equal(plan.warnings.length, 1);
  assert.match(plan.warnings[0]!, /^deployment\/shop\/test container app: envFrom Secret aws-secrets \(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\): the AWS SDKs use these keys before web identity, so the role will not be used while they remain\. Remove them, or plan with --remove-static-keys/);
});

test('removeStaticKeys: a typed workload-template change removes exactly the envFrom of that Secret', () => {
  const plan = planMigrations([binding({ removeStaticKeys: true })], { workloads: [workload('test', envFromTemplate('test'))], secrets });
  assert.equal(plan.changes.length, 1);
  const change = plan.changes[0]!;
  assert.equal(change.kind, 'workload-template');
  assert.equal(change.action, 'update');
  assert.equal(change.id, 'prod/Deployment/shop/test');
  assert.equal(change.cluster, 'prod');
  assert.deepEqual(change.dependsOn, ['service-account:shop/test']);
  const workloadRef = { workload: { kind: 'Deployment', namespace: 'shop', name: 'test' } };
  assert.deepEqual(change.before, { ...workloadRef, serviceAccountName: 'test', annotations: {}, containers: { app: { env: [], envFrom: ['Secret aws-secrets'], volumeMounts: [] } }, initContainers: {}, volumes: [] });
  assert.deepEqual(change.after, { ...workloadRef, serviceAccountName: 'test', annotations: {}, containers: { app: { env: [], envFrom: [], volumeMounts: [] } }, initContainers: {}, volumes: [] });
  assert.match(change.reason!, /rolls the workload/);
  assert.deepEqual(plan.rolled, [{ kind: 'Deployment', namespace: 'shop', name: 'test' }]);
  // The executor's edit on the same template keeps everything else.
  const edit = applyTemplateChange(envFromTemplate('test'), change.before as TemplateView, change.after as TemplateView);
  assert.ok('ops' in edit);
  assert.deepEqual(edit.ops, [
    { op: 'test', path: '/spec/containers/0/envFrom/1', value: { secretRef: { name: 'aws-secrets' } } },
    { op: 'remove', path: '/spec/containers/0/envFrom/1' },
  ]);
  assert.deepEqual(edit.template.spec!.containers![0]!.envFrom, [{ configMapRef: { name: 'cfg' } }]);
  assert.deepEqual(edit.template.spec!.containers![0]!.env, [{ name: 'PORT', value: '80' }]);
});

test('deleteKeySecrets: the Secret goes after the workload change, only when no other workload uses it', () => {
  const alone = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', envFromTemplate('test'))], secrets });
  const secretChange = alone.changes.find((c) => c.kind === 'secret')!;
  assert.deepEqual({ ...secretChange, reason: undefined }, {
    action: 'delete', kind: 'secret', id: 'prod/shop/aws-secrets', cluster: 'prod', before: { namespace: 'shop', name: 'aws-secrets', keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] }, after: null,
    dependsOn: ['workload-template:prod/Deployment/shop/test'], reason: undefined,
  });
  const shared = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], {
    workloads: [workload('test', envFromTemplate('test')), workload('other', envFromTemplate('other'), 'StatefulSet')],
    secrets,
  });
  assert.deepEqual(shared.changes.map((c) => c.kind), ['workload-template']);
  assert.ok(shared.warnings.some((w) => w === 'Secret shop/aws-secrets is kept: statefulset/shop/other still uses it.'), shared.warnings.join('\n'));
});

test('env secretKeyRef and literal keys are removed by name; init containers too; values never in the plan', () => {
  const template: PodTemplateLike = {
    spec: {
      serviceAccountName: 'test',
      initContainers: [{ name: 'fetch', env: [{ name: 'AWS_ACCESS_KEY_ID', value: 'AKIAIOSFODNN7EXAMPLE' }, { name: 'AWS_SECRET_ACCESS_KEY', value: 'verysecretvalue' }] }],
      containers: [{ name: 'app', env: [{ name: 'A', value: '1' }, { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'creds', key: 'id' } } }, { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'secret' } } }] }],
    },
  };
  const plan = planMigrations([binding({ removeStaticKeys: true })], { workloads: [workload('test', template)], secrets });
  const change = plan.changes[0]!;
  assert.deepEqual((change.before as TemplateView).initContainers, { fetch: { env: ['AWS_ACCESS_KEY_ID (literal value)', 'AWS_SECRET_ACCESS_KEY (literal value)'], envFrom: [], volumeMounts: [] } });
  assert.deepEqual((change.before as TemplateView).containers.app!.env, ['AWS_ACCESS_KEY_ID from Secret creds', 'AWS_SECRET_ACCESS_KEY from Secret creds']);
  assert.doesNotMatch(JSON.stringify(plan), /AKIAIOSFODNN7EXAMPLE|verysecretvalue/);
  const edit = applyTemplateChange(template, change.before as TemplateView, change.after as TemplateView);
  assert.ok('template' in edit);
  assert.deepEqual(edit.template.spec!.containers![0]!.env, [{ name: 'A', value: '1' }]);
  assert.deepEqual(edit.template.spec!.initContainers![0]!.env, []);
});

test('kube2iam: without the option a warning; with it the annotation goes and a listed workload on default gets the ServiceAccount', () => {
  const ns = { workloads: [workload('uploader', kube2iamTemplate())], secrets };
  const listed = [{ kind: 'Deployment' as const, name: 'uploader' }];
  const warned = planMigrations([binding({ workloads: listed }, 'uploader')], ns);
  assert.deepEqual(warned.changes, []);
  assert.ok(warned.warnings.some((w) => /kube2iam\/kiam annotation iam\.amazonaws\.com\/role: legacy-uploader.*--migrate-kube2iam/.test(w)));
  assert.ok(warned.warnings.some((w) => /runs as ServiceAccount default, not uploader/.test(w)));

  const plan = planMigrations([binding({ migrateKube2iam: true, workloads: listed }, 'uploader')], ns);
  const change = plan.changes[0]!;
  const uploader = { workload: { kind: 'Deployment', namespace: 'shop', name: 'uploader' } };
  assert.deepEqual(change.before, { ...uploader, serviceAccountName: 'default', annotations: { 'iam.amazonaws.com/role': 'legacy-uploader' }, containers: {}, initContainers: {}, volumes: [] });
  assert.deepEqual(change.after, { ...uploader, serviceAccountName: 'uploader', annotations: {}, containers: {}, initContainers: {}, volumes: [] });
  const edit = applyTemplateChange(kube2iamTemplate(), change.before as TemplateView, change.after as TemplateView);
  assert.ok('template' in edit);
  assert.deepEqual(edit.template.metadata!.annotations, { other: 'kept' });
  assert.equal(edit.template.spec!.serviceAccountName, 'uploader');
  // A workload not listed and not using the ServiceAccount is left alone.
  assert.deepEqual(planMigrations([binding({ migrateKube2iam: true }, 'uploader')], ns).changes, []);
});

test('a listed workload that runs as another ServiceAccount is left alone, with a warning', () => {
  const plan = planMigrations([binding({ migrateKube2iam: true, workloads: [{ kind: 'Deployment', name: 'x' }] }, 'uploader')], {
    workloads: [workload('x', { ...kube2iamTemplate(), spec: { serviceAccountName: 'other', containers: [] } })],
    secrets,
  });
  assert.deepEqual(plan.changes, []);
  assert.match(plan.warnings.join('\n'), /runs as ServiceAccount other; irsa leaves it alone/);
});

test('Jobs and bare Pods cannot be patched: the plan says so', () => {
  for (const kind of ['Job', 'Pod'] as const) {
    const plan = planMigrations([binding({ removeStaticKeys: true })], { workloads: [workload('once', envFromTemplate('test'), kind)], secrets });
    assert.deepEqual(plan.changes, []);
    assert.match(plan.warnings.join('\n'), kind === 'Job' ? /Job's pod template is immutable/ : /bare Pod cannot change/);
  }
  // A CronJob's template can change.
  assert.equal(planMigrations([binding({ removeStaticKeys: true })], { workloads: [workload('nightly', envFromTemplate('test'), 'CronJob')], secrets }).changes.length, 1);
});

test('an envFrom Secret with other keys too is not removed (the container would lose them)', () => {
  const plan = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', envFromTemplate('test', 'mixed'))], secrets });
  assert.deepEqual(plan.changes, []);
  assert.match(plan.warnings.join('\n'), /Secret mixed holds other keys too/);
});

test('a mounted credentials file: env, mount and the unused volume go', () => {
  const template: PodTemplateLike = {
    spec: {
      serviceAccountName: 'test',
      containers: [{ name: 'app', env: [{ name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/etc/aws/credentials' }, { name: 'AWS_PROFILE', value: 'p' }], volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'aws', mountPath: '/etc/aws' }] }],
      volumes: [{ name: 'tmp' } as never, { name: 'aws', secret: { secretName: 'aws-credentials' } }],
    },
  };
  const plan = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', template)], secrets: new Map([['aws-credentials', ['credentials']]]) });
  const change = plan.changes.find((c) => c.kind === 'workload-template')!;
  assert.deepEqual((change.before as TemplateView).volumes, ['aws (Secret aws-credentials)']);
  const edit = applyTemplateChange(template, change.before as TemplateView, change.after as TemplateView);
  assert.ok('template' in edit);
  assert.deepEqual(edit.template.spec!.containers![0]!.env, []);
  assert.deepEqual(edit.template.spec!.containers![0]!.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
  assert.deepEqual(edit.template.spec!.volumes, [{ name: 'tmp' }]);
  assert.ok(plan.changes.some((c) => c.kind === 'secret' && c.id === 'prod/shop/aws-credentials'));
});

test('drift: the executor refuses when the template no longer has what the plan saw', () => {
  const plan = planMigrations([binding({ removeStaticKeys: true })], { workloads: [workload('test', envFromTemplate('test'))], secrets });
  const change = plan.changes[0]!;
  const changed = envFromTemplate('test');
  changed.spec!.containers![0]!.envFrom = [];
  assert.deepEqual(applyTemplateChange(changed, change.before as TemplateView, change.after as TemplateView), { drift: 'container app no longer has envFrom Secret aws-secrets' });
  assert.match((applyTemplateChange(envFromTemplate('other'), change.before as TemplateView, change.after as TemplateView) as { drift: string }).drift, /ServiceAccount is now other/);
  // Converged: nothing left to do, no change planned.
  assert.deepEqual(planMigrations([binding({ removeStaticKeys: true })], { workloads: [workload('test', applyPatch(envFromTemplate('test'), [{ op: 'remove', path: '/spec/containers/0/envFrom/1' }]))], secrets }).changes, []);
});

test('referencedSecrets sees env, envFrom and volumes', () => {
  assert.deepEqual([...referencedSecrets({
    spec: {
      containers: [{ name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's1', key: 'k' } } }], envFrom: [{ secretRef: { name: 's2' } }] }],
      volumes: [{ name: 'v', secret: { secretName: 's3' } }, { name: 'p', projected: { sources: [{ secret: { name: 's4' } }] } }],
    },
  })].sort(), ['s1', 's2', 's3', 's4']);
});

test('delete-sa-role: a used ServiceAccount is not deleted without --force; removing the annotation says the pods fall back to the node role', async () => {
  const { serviceAccountUsers } = await import('../../src/core/migration.ts');
  const sa = { namespace: 'shop', name: 'api', annotations: {}, labels: {} };
  const del = { action: 'delete' as const, kind: 'service-account' as const, id: 'shop/api', before: sa, after: null, dependsOn: [] };
  const refused = serviceAccountUsers(del, 'shop/api', ['deployment/shop/api', 'cronjob/shop/nightly'], false);
  assert.match(refused.refuse!, /ServiceAccount shop\/api is used by deployment\/shop\/api, cronjob\/shop\/nightly: .* pass --force/);
  assert.equal(serviceAccountUsers(del, 'shop/api', ['deployment/shop/api'], true).refuse, null);
  assert.deepEqual(serviceAccountUsers(del, 'shop/api', [], false), { warnings: [], refuse: null });
  const update = serviceAccountUsers({ ...del, action: 'update', after: sa }, 'shop/api', ['deployment/shop/api'], false);
  assert.equal(update.refuse, null);
  assert.match(update.warnings[0]!, /deployment\/shop\/api uses ServiceAccount shop\/api: without the role annotation their pods fall back to the node's role .* at their next restart/);
});

test('a binding with no permission policy plans with a warning', async () => {
  const { warnRolesWithoutPermissions } = await import('../../src/engine/migration.ts');
  const { request: fixture } = await import('./fixtures/binding.ts');
  const { emptyPlan } = await import('../../src/core/plan.ts');
  const role = { name: 'r', path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, tags: {}, trustPolicy: { Version: '2012-10-17', Statement: [] } };
  const plan = { ...emptyPlan(), changes: [{ action: 'create' as const, kind: 'iam-role' as const, id: 'arn:aws:iam::1:role/r', before: null, after: role, dependsOn: [] }] };
  const request = fixture({ namespace: 'shop', name: 'api', roleName: 'r', policyArns: [] });
  warnRolesWithoutPermissions(plan, [request], false);
  assert.deepEqual(plan.warnings, ['The role r (for shop/api) will have no permissions: no managed or inline policy is given. Add --attach-policy-arn / --inline-policy (managedPolicies / inlinePolicies in irsa.yaml).']);
  const existing = { ...plan, changes: [], warnings: [] as string[] };
  warnRolesWithoutPermissions(existing, [request], false);
  assert.deepEqual(existing.warnings, [], 'an existing role keeps its policies without --prune');
  warnRolesWithoutPermissions(existing, [{ ...request, policyArns: ['arn:aws:iam::aws:policy/X'] }], true);
  assert.deepEqual(existing.warnings, []);
});

// ---- keys in ConfigMaps (issue 20) ------------------------------------------------------------

const configMaps = new Map<string, string[]>([
  ['aws-config', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']],
  ['app-config', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'LOG_LEVEL']],
  ['ids', ['id', 'secret']],
]);
const configMapTemplate = (serviceAccountName: string, configMap = 'aws-config'): PodTemplateLike => ({
  spec: {
    serviceAccountName,
    containers: [{
      name: 'app',
      env: [{ name: 'PORT', value: '80' }, { name: 'AWS_ACCESS_KEY_ID', valueFrom: { configMapKeyRef: { name: 'ids', key: 'id' } } }, { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { configMapKeyRef: { name: 'ids', key: 'secret' } } }],
      envFrom: [{ secretRef: { name: 'unrelated' } }, { configMapRef: { name: configMap } }],
    }],
  },
});

test('ConfigMaps: without options a warning names the ConfigMap; with removeStaticKeys the envFrom and configMapKeyRef references go', () => {
  const warned = planMigrations([binding()], { workloads: [workload('test', configMapTemplate('test'))], secrets, configMaps });
  assert.deepEqual(warned.changes, []);
  assert.ok(warned.warnings.some((w) => w.startsWith('deployment/shop/test container app: env from ConfigMap ids (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): the AWS SDKs use these keys before web identity')), warned.warnings.join('\n'));
  assert.ok(warned.warnings.some((w) => w.startsWith('deployment/shop/test container app: envFrom ConfigMap aws-config (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): the AWS SDKs use these keys before web identity')), warned.warnings.join('\n'));

  const plan = planMigrations([binding({ removeStaticKeys: true })], { workloads: [workload('test', configMapTemplate('test'))], secrets, configMaps });
  assert.deepEqual(plan.changes.map((c) => c.kind), ['workload-template']);
  const change = plan.changes[0]!;
  assert.deepEqual((change.before as TemplateView).containers, { app: { env: ['AWS_ACCESS_KEY_ID from ConfigMap ids', 'AWS_SECRET_ACCESS_KEY from ConfigMap ids'], envFrom: ['ConfigMap aws-config'], volumeMounts: [] } });
  const edit = applyTemplateChange(configMapTemplate('test'), change.before as TemplateView, change.after as TemplateView);
  assert.ok('template' in edit);
  assert.deepEqual(edit.template.spec!.containers![0]!.env, [{ name: 'PORT', value: '80' }]);
  assert.deepEqual(edit.template.spec!.containers![0]!.envFrom, [{ secretRef: { name: 'unrelated' } }]);
  // Converged: a second plan on the edited template changes nothing.
  assert.deepEqual(planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', edit.template)], secrets, configMaps }).changes, []);
});

test('ConfigMaps: deleteKeySecrets deletes them after the workload change, only when no workload references them (env, envFrom or volume)', () => {
  const plan = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', configMapTemplate('test'))], secrets, configMaps });
  const deletes = plan.changes.filter((c) => c.kind === 'config-map');
  assert.deepEqual(deletes.map((c) => ({ ...c, reason: undefined })), [
    { action: 'delete', kind: 'config-map', id: 'prod/shop/aws-config', cluster: 'prod', before: { namespace: 'shop', name: 'aws-config', keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] }, after: null, dependsOn: ['workload-template:prod/Deployment/shop/test'], reason: undefined },
    { action: 'delete', kind: 'config-map', id: 'prod/shop/ids', cluster: 'prod', before: { namespace: 'shop', name: 'ids', keys: ['id', 'secret'] }, after: null, dependsOn: ['workload-template:prod/Deployment/shop/test'], reason: undefined },
  ]);
  assert.ok(!plan.changes.some((c) => c.kind === 'secret'), 'the unrelated Secret is not touched');
  // Another workload mounts aws-config as a volume: it stays, with a warning; ids still goes.
  const mounted: PodTemplateLike = { spec: { serviceAccountName: 'other', containers: [{ name: 'x' }], volumes: [{ name: 'cfg', projected: { sources: [{ configMap: { name: 'aws-config' } }] } }] } };
  const shared = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', configMapTemplate('test')), workload('other', mounted)], secrets, configMaps });
  assert.deepEqual(shared.changes.filter((c) => c.kind === 'config-map').map((c) => c.id), ['prod/shop/ids']);
  assert.ok(shared.warnings.includes('ConfigMap shop/aws-config is kept: deployment/shop/other still uses it.'), shared.warnings.join('\n'));
});

test('ConfigMaps: while a workload still reads only its other keys, just the AWS keys go (an update); while one reads an AWS key, it is kept', () => {
  const withLog = new Map([...configMaps, ['ids', ['id', 'secret', 'LOG_LEVEL']]]);
  const reader = (key: string): PodTemplateLike => ({ spec: { serviceAccountName: 'other', containers: [{ name: 'x', env: [{ name: 'V', valueFrom: { configMapKeyRef: { name: 'ids', key } } }] }] } });
  const plan = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', configMapTemplate('test')), workload('logs', reader('LOG_LEVEL'))], secrets, configMaps: withLog });
  const ids = plan.changes.find((c) => c.kind === 'config-map' && c.id === 'prod/shop/ids')!;
  assert.equal(ids.action, 'update');
  assert.deepEqual([ids.before, ids.after], [{ namespace: 'shop', name: 'ids', keys: ['id', 'secret', 'LOG_LEVEL'] }, { namespace: 'shop', name: 'ids', keys: ['LOG_LEVEL'] }]);
  assert.deepEqual(ids.dependsOn, ['workload-template:prod/Deployment/shop/test']);
  assert.match(ids.reason!, /^removes the AWS keys id, secret: no workload reads them once deployment\/shop\/test is migrated; deployment\/shop\/logs still reads its other keys$/);
  const kept = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', configMapTemplate('test')), workload('other', reader('id'))], secrets, configMaps: withLog });
  assert.ok(!kept.changes.some((c) => c.id === 'prod/shop/ids'));
  assert.ok(kept.warnings.includes('ConfigMap shop/ids is kept: deployment/shop/other still uses it.'), kept.warnings.join('\n'));
});

test('ConfigMaps: an envFrom ConfigMap with other keys too is not removed (the container would lose them)', () => {
  const template: PodTemplateLike = { spec: { serviceAccountName: 'test', containers: [{ name: 'app', envFrom: [{ configMapRef: { name: 'app-config' } }] }] } };
  const plan = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', template)], secrets, configMaps });
  assert.deepEqual(plan.changes, []);
  assert.match(plan.warnings.join('\n'), /ConfigMap app-config holds other keys too, which the container would lose with the envFrom; irsa leaves it\. Move the AWS keys out of that ConfigMap/);
});

test('referencedConfigMaps sees env, envFrom and volumes', () => {
  assert.deepEqual([...referencedConfigMaps({
    spec: {
      containers: [{ name: 'a', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c1', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'c2' } }, { secretRef: { name: 's' } }] }],
      volumes: [{ name: 'v', configMap: { name: 'c3' } }, { name: 'p', projected: { sources: [{ configMap: { name: 'c4' } }, { secret: { name: 's2' } }] } }],
    },
  })].sort(), ['c1', 'c2', 'c3', 'c4']);
});

test('ConfigMaps: a credentials file from a ConfigMap volume: mount and volume go, then the ConfigMap', () => {
  const template: PodTemplateLike = {
    spec: { serviceAccountName: 'test', containers: [{ name: 'app', volumeMounts: [{ name: 'aws', mountPath: '/root/.aws' }] }], volumes: [{ name: 'aws', configMap: { name: 'aws-file' } }] },
  };
  const plan = planMigrations([binding({ removeStaticKeys: true, deleteKeySecrets: true })], { workloads: [workload('test', template)], secrets, configMaps: new Map([['aws-file', ['credentials']]]) });
  const change = plan.changes.find((c) => c.kind === 'workload-template')!;
  assert.deepEqual((change.before as TemplateView).volumes, ['aws (ConfigMap aws-file)']);
  const edit = applyTemplateChange(template, change.before as TemplateView, change.after as TemplateView);
  assert.ok('template' in edit);
  assert.deepEqual([edit.template.spec!.containers![0]!.volumeMounts, edit.template.spec!.volumes], [[], []]);
  assert.deepEqual(plan.changes.filter((c) => c.kind === 'config-map').map((c) => `${c.action} ${c.id}`), ['delete prod/shop/aws-file']);
});
