// irsa audit: find what still gets AWS credentials the old ways — static access keys in Secrets,
// ConfigMaps or pod templates, kube2iam/kiam annotations — and workloads with no IRSA ServiceAccount, then
// propose the irsa.yaml that replaces them. Pure. Secret values never get here: the adapter passes
// each Secret's data through summarizeSecret, which keeps key names and masked key IDs only.

import { parseRoleArn } from './arn.ts';
import { UserError } from './errors.ts';
import { ROLE_ARN_ANNOTATION } from './resources/service-account.ts';
import type { RoleState, ServiceAccountState, WorkloadRef } from './state.ts';

import { KUBE2IAM_ANNOTATION, looksLikeCredentialName } from './credential-sources.ts';

export { KUBE2IAM_ANNOTATION };

export type AuditWorkloadKind = WorkloadRef['kind'] | 'CronJob';

export interface AuditWorkloadRef {
  kind: AuditWorkloadKind;
  namespace: string;
  name: string;
}

export type { ContainerSummary, EnvVarSummary } from './model/observed.ts';
import type { ContainerSummary } from './model/observed.ts';

/** A workload and its pod template, reduced to what audit looks at. */
export interface WorkloadTemplate extends AuditWorkloadRef {
  /** Annotations on the workload object itself. */
  annotations: Record<string, string>;
  /** Annotations of the pod template (where kube2iam/kiam look). */
  podAnnotations: Record<string, string>;
  /** "default" when the template names none. */
  serviceAccount: string;
  /** Init and regular containers. */
  containers: ContainerSummary[];
  /** Secrets mounted as volumes (secret or projected sources). */
  secretVolumes: string[];
  /** ConfigMaps mounted as volumes (configMap or projected sources). */
  configMapVolumes?: string[];
}

/** A Secret without its values: key names and, masked, any access key IDs found in the values. */
export interface SecretSummary {
  namespace: string;
  name: string;
  type: string;
  keys: string[];
  accessKeyIds: Array<{ key: string; masked: string }>;
}

const ACCESS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g;

/** AKIAIOSFODNN7EXAMPLE → AKIA************MPLE: the prefix says long-term or temporary, the end identifies it. */
export const maskAccessKeyId = (id: string): string => `${id.slice(0, 4)}${'*'.repeat(id.length - 8)}${id.slice(-4)}`;

/** Access key IDs in a text (an env value, a credentials file), masked. */
export const findAccessKeyIds = (text: string): string[] => [...new Set([...text.matchAll(ACCESS_KEY_ID)].map((m) => maskAccessKeyId(m[0])))];

/** Data key or variable names that hold AWS credentials (AWS_ACCESS_KEY_ID, awsSecretAccessKey, S3_AWS_ACCESS_KEY_ID…). */
export const isCredentialKeyName = looksLikeCredentialName;

/** Called by the adapter with the Secret's base64 data; only names and masked IDs leave. */
export function summarizeSecret(meta: { namespace: string; name: string; type: string }, data: Record<string, string>, stringData: Record<string, string> = {}): SecretSummary {
  const accessKeyIds: Array<{ key: string; masked: string }> = [];
  const keys = [...new Set([...Object.keys(data), ...Object.keys(stringData)])].sort();
  for (const key of keys) {
    const raw = key in data ? Buffer.from(data[key]!, 'base64').toString('latin1') : stringData[key]!;
    for (const masked of findAccessKeyIds(raw)) accessKeyIds.push({ key, masked });
  }
  return { ...meta, keys, accessKeyIds };
}

/** A ConfigMap without its values: key names and, masked, any access key IDs found in the values. */
export interface ConfigMapSummary {
  namespace: string;
  name: string;
  keys: string[];
  /** Absent when the values were not scanned. */
  accessKeyIds?: Array<{ key: string; masked: string }>;
}

/** Called by the adapter with the ConfigMap's data (and base64 binaryData); only names and masked IDs leave. */
export function summarizeConfigMap(meta: { namespace: string; name: string }, data: Record<string, string>, binaryData: Record<string, string> = {}): ConfigMapSummary {
  const keys = [...new Set([...Object.keys(data), ...Object.keys(binaryData)])].sort();
  const accessKeyIds: Array<{ key: string; masked: string }> = [];
  for (const key of keys) {
    const raw = key in data ? data[key]! : Buffer.from(binaryData[key]!, 'base64').toString('latin1');
    for (const masked of findAccessKeyIds(raw)) accessKeyIds.push({ key, masked });
  }
  return { ...meta, keys, accessKeyIds };
}

const secretHoldsCredentials = (secret: SecretSummary): boolean => secret.accessKeyIds.length > 0 || secret.keys.some(isCredentialKeyName);

export type AuditFinding =
  | {
      kind: 'credential-secret';
      namespace: string;
      secret: string;
      /** The data keys that hold credentials (names only). */
      keys: string[];
      accessKeyIds: string[];
      usedBy: Array<AuditWorkloadRef & { via: string[] }>;
    }
  | {
      /** Keys in a ConfigMap: readable by anyone who may read ConfigMaps, so worse than a Secret. */
      kind: 'credential-configmap';
      namespace: string;
      configMap: string;
      /** The data keys that hold credentials (names only). */
      keys: string[];
      /** Access key IDs found in the values, masked. */
      accessKeyIds: string[];
      usedBy: Array<AuditWorkloadRef & { via: string[] }>;
    }
  | { kind: 'credential-env'; workload: AuditWorkloadRef; container: string; variables: string[]; accessKeyIds: string[] }
  | { kind: 'kube2iam'; workload: AuditWorkloadRef; role: string; roleArn: string | null; policies: string | null }
  | { kind: 'no-irsa'; workload: AuditWorkloadRef; serviceAccount: string; reason: string };

/** The role a kube2iam/kiam annotation names: an ARN, a name, or path/name (relative to the base ARN). */
export function kube2iamRoleName(value: string): string | null {
  if (value.startsWith('arn:')) {
    try {
      return parseRoleArn(value, KUBE2IAM_ANNOTATION).name;
    } catch (error) {
      if (error instanceof UserError) return null;
      throw error;
    }
  }
  const name = value.split('/').filter(Boolean).pop() ?? '';
  return /^[\w+=,.@-]{1,64}$/.test(name) ? name : null;
}

/** The role's account when the annotation is an ARN; null for a name (kube2iam's own account). */
export const kube2iamRoleAccount = (value: string): string | null => (value.startsWith('arn:') ? (value.split(':')[4] ?? null) : null);

export type RoleRead = { role: RoleState | null } | { error: string };

export interface AuditInput {
  cluster: { name: string; region?: string; issuerUrl?: string };
  workloads: WorkloadTemplate[];
  secrets: SecretSummary[];
  /** ConfigMaps with their key names (absent: not read, so ConfigMap keys go unfound). */
  configMaps?: ConfigMapSummary[];
  serviceAccounts: ServiceAccountState[];
  /** kube2iam annotation value → what IAM said about that role. */
  roles: Map<string, RoleRead>;
  /** Role ARN annotated on a flagged workload's ServiceAccount → what IAM said about it. */
  boundRoles?: Map<string, RoleRead>;
}

export interface ProposedBinding {
  namespace: string;
  /** The ServiceAccount to bind. */
  name: string;
  /** True when the workloads use "default" (or a missing SA): a dedicated one is proposed. */
  newServiceAccount: boolean;
  workloads: AuditWorkloadRef[];
  managedPolicies: string[];
  inlinePolicies: Record<string, unknown>;
  /** Comments for people reviewing the file. */
  notes: string[];
  /** The existing role of an already bound ServiceAccount (kept, so nothing is detached). */
  roleName?: string;
  /** Migration options written commented out, with what each would do. */
  migrationOptions: MigrationOption[];
}

export interface MigrationOption {
  key: 'removeStaticKeys' | 'deleteKeySecrets' | 'migrateKube2iam';
  does: string[];
}

export interface AuditReport {
  /** The cluster the proposal is for (written into the proposed irsa.yaml by ui/audit.ts). */
  cluster: AuditInput['cluster'];
  findings: AuditFinding[];
  bindings: ProposedBinding[];
}

const ref = (w: AuditWorkloadRef): AuditWorkloadRef => ({ kind: w.kind, namespace: w.namespace, name: w.name });
export const workloadLabel = (w: AuditWorkloadRef): string => `${w.kind.toLowerCase()}/${w.namespace}/${w.name}`;
const byLabel = (a: AuditWorkloadRef, b: AuditWorkloadRef) => workloadLabel(a).localeCompare(workloadLabel(b));

export function audit(input: AuditInput): AuditReport {
  const secrets = new Map(input.secrets.map((s) => [`${s.namespace}/${s.name}`, s]));
  const serviceAccounts = new Map(input.serviceAccounts.map((sa) => [`${sa.namespace}/${sa.name}`, sa]));
  const findings: AuditFinding[] = [];
  /** Workloads that use AWS the old way → why (for the proposal). */
  const flagged = new Map<string, Flagged>();
  const flag = (workload: WorkloadTemplate, note: string, kind: { kube2iam?: string; secret?: string; configMap?: string; env?: boolean } = {}) => {
    const key = workloadLabel(workload);
    const entry = flagged.get(key) ?? { workload, notes: [], kube2iam: null, keySecrets: [], keyConfigMaps: [], keyEnv: false };
    entry.notes.push(note);
    entry.kube2iam ??= kind.kube2iam ?? null;
    if (kind.secret && !entry.keySecrets.includes(kind.secret)) entry.keySecrets.push(kind.secret);
    if (kind.configMap && !entry.keyConfigMaps.includes(kind.configMap)) entry.keyConfigMaps.push(kind.configMap);
    if (kind.env) entry.keyEnv = true;
    flagged.set(key, entry);
  };

  // Secrets with credentials, and who loads them (env, envFrom, volumes).
  const secretUse = new Map<string, Map<string, { workload: WorkloadTemplate; via: Set<string> }>>();
  const useSecret = (workload: WorkloadTemplate, secret: string, via: string) => {
    const key = `${workload.namespace}/${secret}`;
    const users = secretUse.get(key) ?? new Map();
    const user = users.get(workloadLabel(workload)) ?? { workload, via: new Set<string>() };
    user.via.add(via);
    users.set(workloadLabel(workload), user);
    secretUse.set(key, users);
  };
  const credentialSecrets = new Set(input.secrets.filter(secretHoldsCredentials).map((s) => `${s.namespace}/${s.name}`));
  for (const workload of input.workloads) {
    for (const container of workload.containers) {
      for (const variable of container.env) {
        if (variable.secretKeyRef) {
          const key = `${workload.namespace}/${variable.secretKeyRef.name}`;
          // A credential-named variable marks the Secret even when its own key names do not.
          if (isCredentialKeyName(variable.name)) credentialSecrets.add(key);
          useSecret(workload, variable.secretKeyRef.name, `env ${variable.name}`);
        }
      }
      for (const secret of container.envFromSecrets) useSecret(workload, secret, 'envFrom');
    }
    for (const secret of workload.secretVolumes) useSecret(workload, secret, 'volume');
  }
  for (const key of [...credentialSecrets].sort()) {
    const [namespace, name] = key.split('/') as [string, string];
    const summary = secrets.get(key);
    const users = [...(secretUse.get(key)?.values() ?? [])].sort((a, b) => byLabel(a.workload, b.workload));
    findings.push({
      kind: 'credential-secret',
      namespace,
      secret: name,
      keys: summary ? summary.keys.filter((k) => isCredentialKeyName(k) || summary.accessKeyIds.some((id) => id.key === k)) : [],
      accessKeyIds: summary ? [...new Set(summary.accessKeyIds.map((id) => id.masked))] : [],
      usedBy: users.map((user) => ({ ...ref(user.workload), via: [...user.via].sort() })),
    });
    for (const user of users) {
      const ids = summary?.accessKeyIds.map((id) => id.masked) ?? [];
      flag(user.workload, `loads AWS keys from Secret ${name}${ids.length > 0 ? ` (${[...new Set(ids)].join(', ')})` : ''} via ${[...user.via].sort().join(', ')}; copy the permissions of the IAM user that owns them`, { secret: name });
    }
  }

  // ConfigMaps with credentials, and who loads them (env, envFrom with its prefix, volumes): the
  // same as Secrets, since the SDKs read the variables whatever object they came from.
  const configMaps = new Map((input.configMaps ?? []).map((c) => [`${c.namespace}/${c.name}`, c]));
  /** ConfigMap → what each workload loads from it: a via and its data keys (null: every key). */
  const configMapUse = new Map<string, Array<{ workload: WorkloadTemplate; via: string; keys: string[] | null }>>();
  const credentialConfigMaps = new Map<string, Set<string>>();
  const markKeys = (key: string, keys: string[]) => {
    if (keys.length === 0) return;
    credentialConfigMaps.set(key, new Set([...(credentialConfigMaps.get(key) ?? []), ...keys]));
  };
  // A credential-named key, or a value holding an access key ID (a credentials file's content).
  for (const summary of configMaps.values()) markKeys(`${summary.namespace}/${summary.name}`, [...summary.keys.filter(isCredentialKeyName), ...(summary.accessKeyIds ?? []).map((id) => id.key)]);
  const useConfigMap = (workload: WorkloadTemplate, configMap: string, via: string, keys: string[] | null) => {
    const key = `${workload.namespace}/${configMap}`;
    configMapUse.set(key, [...(configMapUse.get(key) ?? []), { workload, via, keys }]);
  };
  for (const workload of input.workloads) {
    for (const container of workload.containers) {
      for (const variable of container.env) {
        if (!variable.configMapKeyRef) continue;
        const key = `${workload.namespace}/${variable.configMapKeyRef.name}`;
        // A credential-named variable marks the ConfigMap key even when the key's own name does not.
        if (isCredentialKeyName(variable.name)) markKeys(key, [variable.configMapKeyRef.key]);
        useConfigMap(workload, variable.configMapKeyRef.name, `env ${variable.name}`, [variable.configMapKeyRef.key]);
      }
      for (const from of container.envFrom ?? []) {
        if (from.configMap === undefined) continue;
        const key = `${workload.namespace}/${from.configMap}`;
        // With a prefix the container sees prefix + key (ACCESS_KEY_ID with prefix AWS_).
        if (from.prefix) markKeys(key, (configMaps.get(key)?.keys ?? []).filter((k) => isCredentialKeyName(from.prefix + k)));
        useConfigMap(workload, from.configMap, from.prefix ? `envFrom (prefix ${from.prefix})` : 'envFrom', null);
      }
    }
    for (const configMap of workload.configMapVolumes ?? []) useConfigMap(workload, configMap, 'volume', null);
  }
  for (const [key, keys] of [...credentialConfigMaps].sort(([a], [b]) => a.localeCompare(b))) {
    const [namespace, name] = key.split('/') as [string, string];
    // A workload that reads only other keys of the ConfigMap (LOG_LEVEL) does not load the AWS keys.
    const byWorkload = new Map<string, { workload: WorkloadTemplate; via: Set<string> }>();
    for (const use of configMapUse.get(key) ?? []) {
      if (use.keys !== null && !use.keys.some((k) => keys.has(k))) continue;
      const user = byWorkload.get(workloadLabel(use.workload)) ?? { workload: use.workload, via: new Set<string>() };
      user.via.add(use.via);
      byWorkload.set(workloadLabel(use.workload), user);
    }
    const users = [...byWorkload.values()].sort((a, b) => byLabel(a.workload, b.workload));
    const ids = [...new Set((configMaps.get(key)?.accessKeyIds ?? []).map((id) => id.masked))];
    findings.push({ kind: 'credential-configmap', namespace, configMap: name, keys: [...keys].sort(), accessKeyIds: ids, usedBy: users.map((user) => ({ ...ref(user.workload), via: [...user.via].sort() })) });
    for (const user of users) {
      flag(user.workload, `loads AWS keys from ConfigMap ${name}${ids.length > 0 ? ` (${ids.join(', ')})` : ''} (readable by anyone who may read ConfigMaps) via ${[...user.via].sort().join(', ')}; copy the permissions of the IAM user that owns them, and rotate them`, { configMap: name });
    }
  }

  // Literal keys in the pod template, and kube2iam/kiam annotations.
  for (const workload of [...input.workloads].sort(byLabel)) {
    for (const container of workload.containers) {
      const literal = container.env.filter((v) => v.value !== undefined && (isCredentialKeyName(v.name) || findAccessKeyIds(v.value).length > 0));
      if (literal.length > 0) {
        const ids = [...new Set(literal.flatMap((v) => findAccessKeyIds(v.value!)))];
        findings.push({ kind: 'credential-env', workload: ref(workload), container: container.name, variables: literal.map((v) => v.name), accessKeyIds: ids });
        flag(workload, `container ${container.name} has AWS keys written into its environment (${literal.map((v) => v.name).join(', ')}); copy the permissions of the IAM user that owns them`, { env: true });
      }
    }
    const kube2iam = workload.podAnnotations[KUBE2IAM_ANNOTATION] ?? workload.annotations[KUBE2IAM_ANNOTATION];
    if (kube2iam) {
      const read = input.roles.get(kube2iam);
      const role = read && 'role' in read ? read.role : null;
      const policies = !read
        ? 'not read'
        : 'error' in read
          ? `could not be read: ${read.error}`
          : role
            ? `${role.attachedPolicyArns.length} managed, ${Object.keys(role.inlinePolicies).length} inline`
            : 'the role does not exist';
      findings.push({ kind: 'kube2iam', workload: ref(workload), role: kube2iam, roleArn: role?.arn ?? null, policies });
      flag(workload, `uses kube2iam/kiam role ${kube2iam} (${KUBE2IAM_ANNOTATION}); its policies: ${policies}`, { kube2iam });
    }
  }

  // Everything else without an IRSA ServiceAccount: it gets the node's role if it calls AWS.
  for (const workload of [...input.workloads].sort(byLabel)) {
    if (flagged.has(workloadLabel(workload))) continue;
    const sa = serviceAccounts.get(`${workload.namespace}/${workload.serviceAccount}`);
    if (sa?.annotations[ROLE_ARN_ANNOTATION]) continue;
    findings.push({
      kind: 'no-irsa',
      workload: ref(workload),
      serviceAccount: workload.serviceAccount,
      reason: sa ? `ServiceAccount ${workload.serviceAccount} has no ${ROLE_ARN_ANNOTATION} annotation` : `ServiceAccount ${workload.serviceAccount} does not exist`,
    });
  }

  const bindings = proposeBindings([...flagged.values()], serviceAccounts, input.roles, input.boundRoles ?? new Map());
  return { cluster: input.cluster, findings, bindings };
}

interface Flagged {
  workload: WorkloadTemplate;
  notes: string[];
  kube2iam: string | null;
  /** Secrets it loads AWS keys from. */
  keySecrets: string[];
  /** ConfigMaps it loads AWS keys from. */
  keyConfigMaps: string[];
  /** Keys written into its environment. */
  keyEnv: boolean;
}

function proposeBindings(
  flagged: Flagged[],
  serviceAccounts: Map<string, ServiceAccountState>,
  roles: Map<string, RoleRead>,
  boundRoles: Map<string, RoleRead>,
): ProposedBinding[] {
  const bindings = new Map<string, ProposedBinding>();
  const copyPolicies = (binding: ProposedBinding, role: RoleState) => {
    binding.managedPolicies = [...new Set([...binding.managedPolicies, ...role.attachedPolicyArns])].sort();
    Object.assign(binding.inlinePolicies, role.inlinePolicies);
    if (role.permissionsBoundary) binding.notes.push(`role ${role.name} has permissions boundary ${role.permissionsBoundary}; add permissionsBoundary if it should carry over`);
  };
  for (const { workload, notes, kube2iam, keySecrets, keyConfigMaps, keyEnv } of flagged.sort((a, b) => byLabel(a.workload, b.workload))) {
    // Binding "default" would hand the role to every pod of the namespace: propose a dedicated SA.
    const sa = serviceAccounts.get(`${workload.namespace}/${workload.serviceAccount}`);
    const shared = workload.serviceAccount === 'default' || !sa;
    const name = shared ? workload.name : workload.serviceAccount;
    const key = `${workload.namespace}/${name}`;
    const binding = bindings.get(key) ?? { namespace: workload.namespace, name, newServiceAccount: shared, workloads: [], managedPolicies: [], inlinePolicies: {}, notes: [], migrationOptions: [] };
    binding.workloads.push(ref(workload));
    binding.notes.push(...notes.map((note) => `${workloadLabel(workload)} ${note}`));
    const read = kube2iam ? roles.get(kube2iam) : undefined;
    if (read && 'role' in read && read.role) copyPolicies(binding, read.role);
    // Already bound (a migration begun, keys still in place): keep that role and its policies, so
    // applying the proposal never detaches what the role has.
    const boundArn = sa?.annotations[ROLE_ARN_ANNOTATION];
    if (!shared && boundArn) {
      const boundRead = boundRoles.get(boundArn);
      const boundName = roleNameFromArn(boundArn);
      if (boundName) binding.roleName = boundName;
      if (boundRead && 'role' in boundRead && boundRead.role) copyPolicies(binding, boundRead.role);
      binding.notes.push(`ServiceAccount ${name} is already bound to ${boundArn}; the binding keeps that role and its policies`);
    }
    const label = workloadLabel(workload);
    const option = (key: MigrationOption['key'], does: string) => {
      const existing = binding.migrationOptions.find((o) => o.key === key);
      if (existing) existing.does.push(does);
      else binding.migrationOptions.push({ key, does: [does] });
    };
    const keyObjects = [...keySecrets.map((s) => `Secret ${s}`), ...keyConfigMaps.map((c) => `ConfigMap ${c}`)];
    if (keyObjects.length > 0 || keyEnv) option('removeStaticKeys', `removes the AWS keys (${[...keyObjects, ...(keyEnv ? ['literal env'] : [])].join(', ')}) from ${label}'s pod template, which rolls it`);
    if (keyObjects.length > 0) option('deleteKeySecrets', `then deletes ${keyObjects.map((o) => `${o.split(' ')[0]} ${workload.namespace}/${o.split(' ')[1]}`).join(', ')} when no other workload uses it`);
    if (kube2iam) option('migrateKube2iam', `removes ${KUBE2IAM_ANNOTATION} from ${label}'s pod template, which rolls it`);
    if (shared) binding.notes.push(`${label} uses ServiceAccount ${workload.serviceAccount}: with removeStaticKeys or migrateKube2iam irsa sets its serviceAccountName to ${name} (listed under workloads)`);
    bindings.set(key, binding);
  }
  for (const binding of bindings.values()) {
    if (binding.migrationOptions.length === 0) binding.notes.push('remove the old credentials once the pods run with the new role');
    if (binding.managedPolicies.length === 0 && Object.keys(binding.inlinePolicies).length === 0) {
      binding.notes.push('TODO: no policies could be read; add managedPolicies or inlinePolicies before applying (without them the role has no permissions)');
    }
  }
  return [...bindings.values()];
}

const roleNameFromArn = (arn: string): string | null => {
  try {
    return parseRoleArn(arn, ROLE_ARN_ANNOTATION).name;
  } catch (error) {
    if (error instanceof UserError) return null;
    throw error;
  }
};
