// Migrations that finish: retire static AWS keys and kube2iam/kiam annotations from the pod
// templates of the workloads that run as a binding's ServiceAccount. Pure: given the namespace's
// workloads (pod templates) and Secret key names, it plans typed changes; the executor applies
// exactly what a change's before → after says (applyTemplateChange), re-checking the fresh object.
//
// Opt-in per binding: removeStaticKeys (--remove-static-keys), deleteKeySecrets
// (--delete-key-secrets), migrateKube2iam (--migrate-kube2iam). Without them the plan only warns.
// Keys in ConfigMaps are handled as keys in Secrets: the references go from the template, and with
// deleteKeySecrets the ConfigMap goes once no workload references it (a ConfigMap is readable by
// anyone who may read ConfigMaps, so keys there are worse than in a Secret, never better).
// A changed pod template rolls the workload (a new ReplicaSet/revision), so its pods come back with
// the webhook's web identity environment and without the keys. Jobs and bare Pods cannot be
// changed in place (a Job's template is immutable, a Pod's env too): the plan says so.

import type { MigrationOptions, MigrationWorkloadKind } from './model/binding.ts';
import { changeIds, clusterKey, type ClusterRef } from './model/refs.ts';

export type { MigrationOptions, MigrationWorkloadKind } from './model/binding.ts';
import { changeKey, type Change } from './plan.ts';
import {
  credentialSourcesOfTemplate,
  describeCredentialSource,
  KUBE2IAM_ANNOTATION,
  podServiceAccount,
  volumeConfigMaps,
  volumeSecrets,
  type ContainerSpec,
  type CredentialSource,
  type PodTemplateLike,
  type SecretKeyNames,
} from './credential-sources.ts';

export const PATCHABLE_KINDS: readonly MigrationWorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'];

export interface PodTemplateWorkload {
  kind: MigrationWorkloadKind;
  namespace: string;
  name: string;
  /** The pod template (a CronJob's job template's, a bare Pod's own metadata and spec). */
  template: PodTemplateLike;
}

export const NO_MIGRATION: MigrationOptions = { removeStaticKeys: false, deleteKeySecrets: false, migrateKube2iam: false, workloads: [] };

export interface MigrationBinding {
  cluster: ClusterRef;
  namespace: string;
  serviceAccount: string;
  options: MigrationOptions;
  /** Change keys the workload changes wait for (the ServiceAccount's annotation, the role). */
  dependsOn: string[];
}

export interface MigrationNamespace {
  /** Every workload of the namespace (for the Secret's other users too). */
  workloads: PodTemplateWorkload[];
  /** Secret name → data key names. */
  secrets: SecretKeyNames;
  /** ConfigMap name → data key names (envFrom of a ConfigMap needs them); absent when not read. */
  configMaps?: SecretKeyNames;
}

export interface MigrationPlan {
  changes: Change[];
  warnings: string[];
  /** Workloads whose template changes (they roll: no separate restart is needed). */
  rolled: Array<{ kind: MigrationWorkloadKind; namespace: string; name: string }>;
}

const KIND_NAMES: Record<string, MigrationWorkloadKind> = {
  deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment',
  statefulset: 'StatefulSet', statefulsets: 'StatefulSet', sts: 'StatefulSet',
  daemonset: 'DaemonSet', daemonsets: 'DaemonSet', ds: 'DaemonSet',
  job: 'Job', jobs: 'Job',
  cronjob: 'CronJob', cronjobs: 'CronJob', cj: 'CronJob',
  pod: 'Pod', pods: 'Pod', po: 'Pod',
};

/** "deployment/api" (kubectl's spelling, short names too) → { kind: 'Deployment', name: 'api' }; null when not one. */
export function parseWorkloadRef(text: string): { kind: MigrationWorkloadKind; name: string } | null {
  const match = /^([A-Za-z]+)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text.trim());
  const kind = match ? KIND_NAMES[match[1]!.toLowerCase()] : undefined;
  return kind ? { kind, name: match![2]! } : null;
}

// ---- the typed view of a pod template that a change's before/after holds --------------------

export interface ContainerView {
  /** "AWS_ACCESS_KEY_ID from Secret aws-secrets", "AWS_SECRET_ACCESS_KEY (literal value)": names, never values. */
  env: string[];
  /** "Secret aws-secrets", "Secret aws-secrets (prefix AWS_)", "ConfigMap aws-config". */
  envFrom: string[];
  /** "<volume> at <mountPath>". */
  volumeMounts: string[];
}

/** What a workload change touches, before and after. Only the entries that matter are listed. */
export interface TemplateView {
  serviceAccountName: string;
  annotations: Record<string, string>;
  containers: Record<string, ContainerView>;
  initContainers: Record<string, ContainerView>;
  /** "<volume> (Secret <name>)", "<volume> (ConfigMap <name>)". */
  volumes: string[];
}

export const workloadId = (w: { kind: string; namespace: string; name: string }): string => `${w.kind}/${w.namespace}/${w.name}`;
export const workloadLabel = (w: { kind: string; namespace: string; name: string }): string => `${w.kind.toLowerCase()}/${w.namespace}/${w.name}`;

const envFromEntry = (secret: string, prefix: string, of: 'Secret' | 'ConfigMap' = 'Secret'): string => `${of} ${secret}${prefix ? ` (prefix ${prefix})` : ''}`;
/** The entry of an envFrom item as a view lists it, or null for an item without a name. */
const envFromItemEntry = (from: { prefix?: string; secretRef?: { name?: string }; configMapRef?: { name?: string } }): string | null =>
  from.secretRef?.name !== undefined ? envFromEntry(from.secretRef.name, from.prefix ?? '')
    : from.configMapRef?.name !== undefined ? envFromEntry(from.configMapRef.name, from.prefix ?? '', 'ConfigMap') : null;
const mountEntry = (volume: string, mountPath: string): string => `${volume} at ${mountPath}`;
const volumeEntry = (volume: string, secrets: string[], configMaps: string[]): string =>
  `${volume} (${[...(secrets.length > 0 ? [`Secret ${secrets.join(', ')}`] : []), ...(configMaps.length > 0 ? [`ConfigMap ${configMaps.join(', ')}`] : [])].join('; ')})`;

function envEntries(source: CredentialSource): string[] {
  switch (source.kind) {
    case 'env-literal':
      return source.env.map((name) => `${name} (literal value)`);
    case 'env-secret':
      return source.env.map((name) => `${name} from Secret ${source.secret}`);
    case 'env-configmap':
      return source.env.map((name) => `${name} from ConfigMap ${source.configMap}`);
    case 'credentials-file':
      return source.env.map((name) => `${name} (points at the credentials file)`);
    default:
      return [];
  }
}

const emptyContainer = (): ContainerView => ({ env: [], envFrom: [], volumeMounts: [] });

/** The entries of the template that static-key sources and the kube2iam annotation make up. */
function viewOf(template: PodTemplateLike, sources: CredentialSource[], withKube2iam: boolean): TemplateView {
  const view: TemplateView = { serviceAccountName: podServiceAccount(template.spec), annotations: {}, containers: {}, initContainers: {}, volumes: [] };
  const annotation = template.metadata?.annotations?.[KUBE2IAM_ANNOTATION];
  if (withKube2iam && annotation !== undefined) view.annotations[KUBE2IAM_ANNOTATION] = annotation;
  for (const source of sources) {
    const group = source.initContainer ? view.initContainers : view.containers;
    const container = (group[source.container] ??= emptyContainer());
    container.env.push(...envEntries(source).filter((entry) => !container.env.includes(entry)));
    if (source.kind === 'envfrom-secret' || source.kind === 'envfrom-configmap') {
      const entry = source.kind === 'envfrom-secret' ? envFromEntry(source.secret!, source.prefix) : envFromEntry(source.configMap!, source.prefix, 'ConfigMap');
      if (!container.envFrom.includes(entry)) container.envFrom.push(entry);
    }
    if (source.kind === 'credentials-file') {
      const entry = mountEntry(source.volume!, source.mountPath!);
      if (!container.volumeMounts.includes(entry)) container.volumeMounts.push(entry);
    }
  }
  // A credentials-file volume goes when no container keeps a mount of it.
  const fileVolumes = new Set(sources.filter((s) => s.kind === 'credentials-file').map((s) => s.volume!));
  for (const volume of template.spec?.volumes ?? []) {
    if (fileVolumes.has(volume.name)) view.volumes.push(volumeEntry(volume.name, volumeSecrets(volume), volumeConfigMaps(volume)));
  }
  return view;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The view after removing every listed entry (and setting the ServiceAccount, when asked). */
function cleared(before: TemplateView, serviceAccountName: string): TemplateView {
  const strip = (group: Record<string, ContainerView>) => Object.fromEntries(Object.keys(group).map((name) => [name, emptyContainer()]));
  return { serviceAccountName, annotations: {}, containers: strip(before.containers), initContainers: strip(before.initContainers), volumes: [] };
}

const volumesStillMounted = (template: PodTemplateLike, removedMounts: Set<string>): Set<string> => {
  const mounted = new Set<string>();
  for (const container of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) {
    for (const mount of container.volumeMounts ?? []) {
      if (!removedMounts.has(`${container.name}\0${mountEntry(mount.name, mount.mountPath)}`)) mounted.add(mount.name);
    }
  }
  return mounted;
};

/** Secrets a pod template references (env, envFrom, volumes). */
export function referencedSecrets(template: PodTemplateLike): Set<string> {
  const names = new Set<string>();
  for (const container of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) {
    for (const variable of container.env ?? []) if (variable.valueFrom?.secretKeyRef?.name) names.add(variable.valueFrom.secretKeyRef.name);
    for (const from of container.envFrom ?? []) if (from.secretRef?.name) names.add(from.secretRef.name);
  }
  for (const volume of template.spec?.volumes ?? []) for (const secret of volumeSecrets(volume)) names.add(secret);
  return names;
}

/** How a pod template reads one ConfigMap: whole (envFrom, a volume) and/or by key (configMapKeyRef). */
function configMapReads(template: PodTemplateLike, configMap: string): { whole: boolean; keys: string[] } {
  let whole = (template.spec?.volumes ?? []).some((volume) => volumeConfigMaps(volume).includes(configMap));
  const keys: string[] = [];
  for (const container of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) {
    for (const variable of container.env ?? []) if (variable.valueFrom?.configMapKeyRef?.name === configMap) keys.push(variable.valueFrom.configMapKeyRef.key);
    if ((container.envFrom ?? []).some((from) => from.configMapRef?.name === configMap)) whole = true;
  }
  return { whole, keys };
}

/** ConfigMaps a pod template references (env, envFrom, volumes). */
export function referencedConfigMaps(template: PodTemplateLike): Set<string> {
  const names = new Set<string>();
  for (const container of [...(template.spec?.initContainers ?? []), ...(template.spec?.containers ?? [])]) {
    for (const variable of container.env ?? []) if (variable.valueFrom?.configMapKeyRef?.name) names.add(variable.valueFrom.configMapKeyRef.name);
    for (const from of container.envFrom ?? []) if (from.configMapRef?.name) names.add(from.configMapRef.name);
  }
  for (const volume of template.spec?.volumes ?? []) for (const configMap of volumeConfigMaps(volume)) names.add(configMap);
  return names;
}

// ---- applying a planned change to a freshly read template (used by the executor) -------------

/** RFC 6902 operations, paths relative to the pod template. */
export type TemplatePatchOp =
  | { op: 'remove'; path: string }
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown };

export type TemplateEdit = { ops: TemplatePatchOp[]; template: PodTemplateLike } | { drift: string };

const pointer = (...parts: Array<string | number>): string => parts.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/**
 * The JSON Patch that removes what `before` lists and `after` does not (and sets the ServiceAccount)
 * on a template read just now, with `test` operations guarding every removed entry. When the
 * template no longer has what the plan saw, nothing is changed (drift).
 */
export function applyTemplateChange(fresh: PodTemplateLike, before: TemplateView, after: TemplateView): TemplateEdit {
  const spec = fresh.spec ?? {};
  if (podServiceAccount(spec) !== before.serviceAccountName) {
    return { drift: `its ServiceAccount is now ${podServiceAccount(spec)}, the plan saw ${before.serviceAccountName}` };
  }
  const ops: TemplatePatchOp[] = [];
  /** Array path → indices to remove (removed highest first so earlier indices stay valid). */
  const removals: Array<{ path: string[]; index: number; value: unknown }> = [];
  for (const [key, value] of Object.entries(before.annotations)) {
    if (fresh.metadata?.annotations?.[key] !== value) return { drift: `annotation ${key} changed since the plan` };
    if (!(key in after.annotations)) ops.push({ op: 'test', path: pointer('metadata', 'annotations', key), value }, { op: 'remove', path: pointer('metadata', 'annotations', key) });
  }
  const removedMounts = new Set<string>();
  for (const [groupName, group] of [['containers', before.containers], ['initContainers', before.initContainers]] as const) {
    const list: ContainerSpec[] = spec[groupName] ?? [];
    const afterGroup = groupName === 'containers' ? after.containers : after.initContainers;
    for (const [name, view] of Object.entries(group)) {
      const index = list.findIndex((c) => c.name === name);
      const container = list[index];
      if (!container) return { drift: `container ${name} is gone` };
      const keep = afterGroup[name] ?? emptyContainer();
      for (const entry of view.env.filter((e) => !keep.env.includes(e))) {
        const variable = entry.split(' ')[0]!;
        const at = (container.env ?? []).flatMap((v, i) => (v.name === variable ? [i] : []));
        if (at.length === 0) return { drift: `container ${name} no longer sets ${variable}` };
        for (const i of at) removals.push({ path: ['spec', groupName, String(index), 'env'], index: i, value: container.env![i] });
      }
      for (const entry of view.envFrom.filter((e) => !keep.envFrom.includes(e))) {
        const i = (container.envFrom ?? []).findIndex((f) => envFromItemEntry(f) === entry);
        if (i < 0) return { drift: `container ${name} no longer has envFrom ${entry}` };
        removals.push({ path: ['spec', groupName, String(index), 'envFrom'], index: i, value: container.envFrom![i] });
      }
      for (const entry of view.volumeMounts.filter((e) => !keep.volumeMounts.includes(e))) {
        const i = (container.volumeMounts ?? []).findIndex((m) => mountEntry(m.name, m.mountPath) === entry);
        if (i < 0) return { drift: `container ${name} no longer mounts ${entry}` };
        removals.push({ path: ['spec', groupName, String(index), 'volumeMounts'], index: i, value: container.volumeMounts![i] });
        removedMounts.add(`${name}\0${entry}`);
      }
    }
  }
  const stillMounted = volumesStillMounted(fresh, removedMounts);
  for (const entry of before.volumes.filter((v) => !after.volumes.includes(v))) {
    const name = entry.split(' ')[0]!;
    if (stillMounted.has(name)) continue; // another container still uses it: keep it
    const i = (spec.volumes ?? []).findIndex((v) => v.name === name);
    if (i >= 0) removals.push({ path: ['spec', 'volumes'], index: i, value: spec.volumes![i] });
  }
  // Highest index first within each array, so the earlier removals do not shift the later ones.
  removals.sort((a, b) => (a.path.join('/') === b.path.join('/') ? b.index - a.index : a.path.join('/').localeCompare(b.path.join('/'))));
  for (const removal of removals) {
    const path = pointer(...removal.path, removal.index);
    ops.push({ op: 'test', path, value: removal.value }, { op: 'remove', path });
  }
  if (after.serviceAccountName !== before.serviceAccountName) {
    ops.push({ op: 'add', path: '/spec/serviceAccountName', value: after.serviceAccountName });
    // The deprecated alias would otherwise keep naming the old one.
    if (spec.serviceAccount !== undefined) ops.push({ op: 'replace', path: '/spec/serviceAccount', value: after.serviceAccountName });
  }
  return { ops, template: applyPatch(fresh, ops) };
}

/** Applies remove/add/replace (and checks test) operations to a copy: what the API server will do. */
export function applyPatch<T>(document: T, ops: TemplatePatchOp[]): T {
  const copy = clone(document) as unknown;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent = copy as Record<string, unknown>;
    for (const part of parts) parent = (parent[part] ??= {}) as Record<string, unknown>;
    if (op.op === 'test') {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      parent[last] = op.value;
    }
  }
  return copy as T;
}

// ---- planning ------------------------------------------------------------------------------

const optionFlag = { removeStaticKeys: '--remove-static-keys / removeStaticKeys: true', migrateKube2iam: '--migrate-kube2iam / migrateKube2iam: true', deleteKeySecrets: '--delete-key-secrets / deleteKeySecrets: true' };

/** Plans every binding's migrations of one namespace (Secrets are shared, so all at once). */
export function planMigrations(bindings: MigrationBinding[], namespace: MigrationNamespace): MigrationPlan {
  const plan: MigrationPlan = { changes: [], warnings: [], rolled: [] };
  /** workload id → its template after the planned edits (for the Secret reference count). */
  const afterTemplates = new Map<string, PodTemplateLike>();
  /** A Secret or ConfigMap whose keys the planned edits stop loading: all its keys, the AWS ones, who loaded them. */
  type Retiring = { keys: string[]; awsKeys: Set<string>; dependsOn: Set<string>; users: Set<string>; cluster: ClusterRef };
  const secretsToRetire = new Map<string, Retiring>();
  const configMapsToRetire = new Map<string, Retiring>();
  const configMaps = namespace.configMaps ?? new Map<string, string[]>();

  for (const binding of bindings) {
    const listed = new Set(binding.options.workloads.map((w) => `${w.kind}/${w.name}`));
    for (const workload of namespace.workloads) {
      const found = credentialSourcesOfTemplate(workload.template, namespace.secrets, configMaps);
      const usesBinding = found.serviceAccount === binding.serviceAccount;
      const isListed = listed.has(`${workload.kind}/${workload.name}`);
      if (!usesBinding && !isListed) continue;
      const label = workloadLabel(workload);
      if (!usesBinding && found.serviceAccount !== 'default') {
        plan.warnings.push(`${label} is listed under workloads of ${binding.namespace}/${binding.serviceAccount} but runs as ServiceAccount ${found.serviceAccount}; irsa leaves it alone. Point it at ${binding.serviceAccount} yourself, or remove it from workloads.`);
        continue;
      }
      const blocking = found.sources.filter((s) => s.precedesWebIdentity);
      const suspicious = found.sources.filter((s) => !s.precedesWebIdentity);
      const changesServiceAccount = !usesBinding; // listed and on "default"
      const anyOption = binding.options.removeStaticKeys || binding.options.migrateKube2iam;
      for (const source of suspicious) {
        plan.warnings.push(`${label} ${describeCredentialSource(source)}: credential-like names the AWS SDKs do not read themselves; if the application passes them to its AWS client, it will not use the role. irsa leaves them alone.`);
      }
      for (const source of blocking) {
        plan.warnings.push(
          `${label} ${describeCredentialSource(source)}: the AWS SDKs use these keys before web identity, so the role will not be used while they remain.` +
            (binding.options.removeStaticKeys ? '' : ` Remove them, or plan with ${optionFlag.removeStaticKeys}.`),
        );
      }
      if (found.kube2iamRole !== null && !binding.options.migrateKube2iam) {
        plan.warnings.push(`${label} still carries the kube2iam/kiam annotation ${KUBE2IAM_ANNOTATION}: ${found.kube2iamRole}. Remove it, or plan with ${optionFlag.migrateKube2iam}.`);
      }
      if (changesServiceAccount && !anyOption) {
        plan.warnings.push(`${label} runs as ServiceAccount default, not ${binding.serviceAccount}: it will not get the role until its serviceAccountName is ${binding.serviceAccount} (irsa sets it with ${optionFlag.removeStaticKeys} or ${optionFlag.migrateKube2iam}).`);
      }

      const removeSources = binding.options.removeStaticKeys ? blocking : [];
      const removeAnnotation = binding.options.migrateKube2iam && found.kube2iamRole !== null;
      const setServiceAccount = changesServiceAccount && anyOption;
      if (removeSources.length === 0 && !removeAnnotation && !setServiceAccount) continue;
      if (!PATCHABLE_KINDS.includes(workload.kind)) {
        plan.warnings.push(
          `${label}: a ${workload.kind === 'Job' ? 'Job\'s pod template is immutable' : 'bare Pod cannot change its environment or ServiceAccount'}, so irsa cannot migrate it in place. ` +
            `Recreate it without the old credentials${setServiceAccount ? ` and with serviceAccountName: ${binding.serviceAccount}` : ''}.`,
        );
        continue;
      }
      // An envFrom Secret or ConfigMap that carries other keys too: dropping the envFrom would drop those.
      const keepWhole = removeSources.filter((s) =>
        (s.kind === 'envfrom-secret' && hasOtherKeys(namespace.secrets, s.secret!, s)) || (s.kind === 'envfrom-configmap' && hasOtherKeys(configMaps, s.configMap!, s)));
      for (const source of keepWhole) {
        const what = source.secret !== null ? `Secret ${source.secret}` : `ConfigMap ${source.configMap}`;
        plan.warnings.push(`${label} ${describeCredentialSource(source)}: ${what} holds other keys too, which the container would lose with the envFrom; irsa leaves it. Move the AWS keys out of that ${what.split(' ')[0]} (or the other keys into another), then plan again.`);
      }
      const removable = removeSources.filter((s) => !keepWhole.includes(s));
      const beforeView = viewOf(workload.template, removable, removeAnnotation);
      const afterView = cleared(beforeView, setServiceAccount ? binding.serviceAccount : beforeView.serviceAccountName);
      if (JSON.stringify(beforeView) === JSON.stringify(afterView)) continue;
      const edited = applyTemplateChange(workload.template, beforeView, afterView);
      if ('drift' in edited) continue; // cannot happen on the template the view came from
      afterTemplates.set(workloadId(workload), edited.template);
      // The workload travels in the value, so apply never reads it back out of the id.
      const object = { kind: workload.kind, namespace: workload.namespace, name: workload.name };
      const change: Change = {
        action: 'update',
        kind: 'workload-template',
        id: changeIds.workloadTemplate({ cluster: binding.cluster, ...object }),
        cluster: clusterKey(binding.cluster),
        before: { workload: object, ...beforeView },
        after: { workload: object, ...afterView },
        dependsOn: [...binding.dependsOn],
        reason: [
          removable.length > 0 ? 'removes the static AWS keys that come before web identity' : null,
          removeAnnotation ? 'removes the kube2iam/kiam annotation' : null,
          setServiceAccount ? `runs it as ${binding.serviceAccount}` : null,
        ].filter(Boolean).join('; ') + '; the template change rolls the workload',
      };
      plan.changes.push(change);
      plan.rolled.push({ kind: workload.kind, namespace: workload.namespace, name: workload.name });
      if (binding.options.deleteKeySecrets) {
        for (const source of removable) {
          const [retire, name, keys] = source.secret ? [secretsToRetire, source.secret, namespace.secrets] : source.configMap ? [configMapsToRetire, source.configMap, configMaps] : [null, '', configMaps];
          if (!retire) continue;
          const entry = retire.get(name) ?? { keys: [...(keysOf(keys, name) ?? [])], awsKeys: new Set<string>(), dependsOn: new Set<string>(), users: new Set<string>(), cluster: binding.cluster };
          entry.dependsOn.add(changeKey(change));
          entry.users.add(label);
          for (const key of source.keys) entry.awsKeys.add(key);
          retire.set(name, entry);
        }
      }
    }
  }

  // A Secret goes only when no workload of the namespace references it after the planned edits.
  for (const [secret, entry] of [...secretsToRetire].sort(([a], [b]) => a.localeCompare(b))) {
    const stillUsedBy = namespace.workloads
      .filter((w) => referencedSecrets(afterTemplates.get(workloadId(w)) ?? w.template).has(secret))
      .map(workloadLabel);
    if (stillUsedBy.length > 0) {
      plan.warnings.push(`Secret ${bindings[0]?.namespace}/${secret} is kept: ${stillUsedBy.join(', ')} still ${stillUsedBy.length === 1 ? 'uses' : 'use'} it.`);
      continue;
    }
    plan.changes.push({
      action: 'delete',
      kind: 'secret',
      id: changeIds.secret({ cluster: entry.cluster, namespace: bindings[0]!.namespace, name: secret }),
      cluster: clusterKey(entry.cluster),
      // Key names only: values are never read into a plan.
      before: { namespace: bindings[0]!.namespace, name: secret, keys: entry.keys },
      after: null,
      dependsOn: [...entry.dependsOn].sort(),
      reason: `no workload uses it once ${[...entry.users].sort().join(', ')} ${entry.users.size === 1 ? 'is' : 'are'} migrated`,
    });
  }
  // A ConfigMap likewise (deleteKeySecrets covers both: the option retires what held the keys). A
  // ConfigMap is plain configuration more often than a Secret is: while workloads still read only
  // its other keys, the AWS keys alone go (anyone who may read ConfigMaps reads them otherwise).
  for (const [configMap, entry] of [...configMapsToRetire].sort(([a], [b]) => a.localeCompare(b))) {
    const reads = namespace.workloads.map((w) => ({ label: workloadLabel(w), ...configMapReads(afterTemplates.get(workloadId(w)) ?? w.template, configMap) }));
    const stillUsedBy = reads.filter((r) => r.whole || r.keys.length > 0).map((r) => r.label);
    const readingAwsKeys = reads.filter((r) => r.whole || r.keys.some((key) => entry.awsKeys.has(key))).map((r) => r.label);
    const namespaceName = bindings[0]!.namespace;
    const remaining = entry.keys.filter((key) => !entry.awsKeys.has(key));
    if (stillUsedBy.length > 0 && (readingAwsKeys.length > 0 || remaining.length === entry.keys.length)) {
      plan.warnings.push(`ConfigMap ${namespaceName}/${configMap} is kept: ${stillUsedBy.join(', ')} still ${stillUsedBy.length === 1 ? 'uses' : 'use'} it.`);
      continue;
    }
    if (stillUsedBy.length > 0) {
      plan.changes.push({
        action: 'update',
        kind: 'config-map',
        id: changeIds.configMap({ cluster: entry.cluster, namespace: namespaceName, name: configMap }),
        cluster: clusterKey(entry.cluster),
        before: { namespace: namespaceName, name: configMap, keys: entry.keys },
        after: { namespace: namespaceName, name: configMap, keys: remaining },
        dependsOn: [...entry.dependsOn].sort(),
        reason: `removes the AWS keys ${[...entry.awsKeys].sort().join(', ')}: no workload reads them once ${[...entry.users].sort().join(', ')} ${entry.users.size === 1 ? 'is' : 'are'} migrated; ${stillUsedBy.join(', ')} still ${stillUsedBy.length === 1 ? 'reads' : 'read'} its other keys`,
      });
      continue;
    }
    plan.changes.push({
      action: 'delete',
      kind: 'config-map',
      id: changeIds.configMap({ cluster: entry.cluster, namespace: bindings[0]!.namespace, name: configMap }),
      cluster: clusterKey(entry.cluster),
      before: { namespace: bindings[0]!.namespace, name: configMap, keys: entry.keys },
      after: null,
      dependsOn: [...entry.dependsOn].sort(),
      reason: `no workload uses it once ${[...entry.users].sort().join(', ')} ${entry.users.size === 1 ? 'is' : 'are'} migrated`,
    });
  }
  return plan;
}

const keysOf = (secrets: SecretKeyNames, name: string): readonly string[] | undefined =>
  secrets instanceof Map ? secrets.get(name) : (secrets as Readonly<Record<string, readonly string[]>>)[name];

function hasOtherKeys(objects: SecretKeyNames, name: string, source: CredentialSource): boolean {
  const keys = keysOf(objects, name) ?? [];
  return keys.some((key) => !source.keys.includes(key));
}

/**
 * delete-sa-role: workloads still running as the ServiceAccount. Deleting it breaks their next pods
 * (refused without --force); removing only the annotation sends them back to the node's role.
 */
export function serviceAccountUsers(change: Change, serviceAccount: string, users: string[], force: boolean): { warnings: string[]; refuse: string | null } {
  if (users.length === 0) return { warnings: [], refuse: null };
  const list = users.join(', ');
  if (change.action === 'delete') {
    const warning = `ServiceAccount ${serviceAccount} is used by ${list}: once it is deleted, their new pods cannot be created.`;
    return {
      warnings: [warning],
      refuse: force ? null : `${warning} Nothing was changed. Point them at another ServiceAccount first, or pass --force to delete it anyway.`,
    };
  }
  return { warnings: [`${list} use${users.length === 1 ? 's' : ''} ServiceAccount ${serviceAccount}: without the role annotation their pods fall back to the node's role (instance metadata) at their next restart.`], refuse: null };
}
