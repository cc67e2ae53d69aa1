// engine/migration.ts's reads: ConfigMaps are read apart from workloads and Secrets, so a cluster
// that forbids listing ConfigMaps still migrates what it can and says what it could not check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addMigrations } from '../../src/engine/migration.ts';
import type { BindingRequest } from '../../src/core/model/binding.ts';
import type { Plan } from '../../src/core/plan.ts';
import type { PodTemplateWorkload } from '../../src/core/migration.ts';
import type { WorkloadGateway } from '../../src/ports.ts';

const binding: BindingRequest = {
  cluster: 'prod', namespace: 'shop', name: 'api', roleName: 'r', rolePath: '/', attachRoleArn: null, audience: 'sts.amazonaws.com', subjectPattern: null,
  policyArns: [], inlinePolicies: {}, tags: {}, adopt: false, roleOnly: false, createNamespace: false, overrideExistingServiceAccounts: false,
  stsRegionalEndpoints: false, restartWorkloads: false,
  migration: { removeStaticKeys: true, deleteKeySecrets: true, migrateKube2iam: false, workloads: [] },
};
const emptyPlan = (): Plan => ({ changes: [], blockers: [], warnings: [], notes: [] });

function gateway(workloads: PodTemplateWorkload[], configMaps: Map<string, string[]> | Error): WorkloadGateway {
  return {
    listPodTemplates: async () => workloads,
    listSecretKeyNames: async () => new Map(),
    listConfigMapKeyNames: async () => { if (configMaps instanceof Error) throw configMaps; return configMaps; },
    updatePodTemplate: async () => { throw new Error('no writes in planning'); },
    deleteSecret: async () => { throw new Error('no writes in planning'); },
    deleteConfigMap: async () => { throw new Error('no writes in planning'); },
    removeConfigMapKeys: async () => { throw new Error('no writes in planning'); },
  };
}
const envFromConfigMap: PodTemplateWorkload = { kind: 'Deployment', namespace: 'shop', name: 'web', template: { spec: { serviceAccountName: 'api', containers: [{ name: 'app', envFrom: [{ configMapRef: { name: 'keys' } }] }] } } };

test('ConfigMap key names are read for the migration: an envFrom ConfigMap with the key pair is removed and deleted', async () => {
  const plan = emptyPlan();
  await addMigrations(plan, [binding], gateway([envFromConfigMap], new Map([['keys', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']]])));
  assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.kind} ${c.id}`), ['update workload-template prod/Deployment/shop/web', 'delete config-map prod/shop/keys']);
});

test('ConfigMaps that cannot be listed: a warning naming the namespace and the permission; the rest is still planned', async () => {
  const plan = emptyPlan();
  const literal: PodTemplateWorkload = { kind: 'Deployment', namespace: 'shop', name: 'cli', template: { spec: { serviceAccountName: 'api', containers: [{ name: 'app', env: [{ name: 'AWS_ACCESS_KEY_ID', value: 'AKIAIOSFODNN7EXAMPLE' }, { name: 'AWS_SECRET_ACCESS_KEY', value: 'x' }] }] } } };
  await addMigrations(plan, [binding], gateway([envFromConfigMap, literal], new Error('configmaps is forbidden: User "x" cannot list resource "configmaps"\nmore')));
  assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.kind} ${c.id}`), ['update workload-template prod/Deployment/shop/cli']);
  assert.ok(plan.warnings.includes('Could not list the ConfigMaps of namespace shop (configmaps is forbidden: User "x" cannot list resource "configmaps"): AWS keys loaded through envFrom of a ConfigMap are not checked. Grant list on configmaps in shop.'), plan.warnings.join('\n'));
});
