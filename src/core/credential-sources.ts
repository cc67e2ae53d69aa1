// Where a pod (or a workload's pod template) gets static AWS credentials from. Pure: give it the
// pod spec and the data key names of the namespace's Secrets (never their values); it lists every
// reference that hands a container long-lived keys, and the kube2iam/kiam annotation.
//
// Why it matters: every AWS SDK's default credential chain tries environment keys and the shared
// credentials file *before* web identity (AWS SDKs and Tools Reference Guide, "Standardized
// credential providers"; e.g. @aws-sdk/credential-provider-node: fromEnv → fromIni → fromTokenFile),
// so while one of these remains the pod never uses its IRSA role. kube2iam/kiam intercept instance
// metadata, which comes after web identity: that annotation is only a leftover, not a blocker.
//
// Used by doctor (judge a pod's containers), audit, and the migration planner (core/migration.ts).

/** kube2iam and kiam read this pod annotation (a role name or ARN). */
export const KUBE2IAM_ANNOTATION = 'iam.amazonaws.com/role';

/**
 * Variables the SDKs' environment provider reads. AWS_ACCESS_KEY / AWS_SECRET_KEY are the AWS SDK
 * for Java v1's alternates (SDKGlobalConfiguration.ALTERNATE_*_ENV_VAR); AWS_SECURITY_TOKEN is
 * botocore's legacy name for the session token.
 */
export const SDK_CREDENTIAL_VARIABLES: readonly string[] = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'AWS_SECURITY_TOKEN',
];

/** Variables that point the SDKs at a shared credentials/config file and a profile in it. */
export const CREDENTIALS_FILE_VARIABLES: readonly string[] = ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_PROFILE'];

// Structural subsets of the Kubernetes core/v1 types (V1PodSpec, V1Container …): the adapter's
// objects fit them as they are, and the core imports no SDK.
export interface EnvVarSpec {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name?: string; key: string };
    configMapKeyRef?: { name?: string; key: string };
  };
}
export interface EnvFromSpec {
  prefix?: string;
  secretRef?: { name?: string };
  configMapRef?: { name?: string };
}
export interface VolumeMountSpec {
  name: string;
  mountPath: string;
  subPath?: string;
}
export interface ContainerSpec {
  name: string;
  env?: EnvVarSpec[];
  envFrom?: EnvFromSpec[];
  volumeMounts?: VolumeMountSpec[];
}
export interface VolumeSpec {
  name: string;
  secret?: { secretName?: string };
  configMap?: { name?: string };
  projected?: { sources?: Array<{ secret?: { name?: string }; configMap?: { name?: string } }> };
}
export interface PodSpecLike {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: VolumeSpec[];
  serviceAccountName?: string;
  serviceAccount?: string;
}
export interface PodTemplateLike {
  metadata?: { annotations?: Record<string, string> };
  spec?: PodSpecLike;
}

export type CredentialSourceKind = 'env-literal' | 'env-secret' | 'env-configmap' | 'envfrom-secret' | 'envfrom-configmap' | 'credentials-file';

export interface CredentialSource {
  container: string;
  initContainer: boolean;
  kind: CredentialSourceKind;
  /** The Secret the credentials come from (env-secret, envfrom-secret, a Secret-backed credentials file). */
  secret: string | null;
  /** The ConfigMap (env-configmap, envfrom-configmap, a ConfigMap-backed credentials file): readable by anyone who may read ConfigMaps. */
  configMap: string | null;
  /** Variable names the container gets from this source (after an envFrom prefix). */
  env: string[];
  /** Data keys of the Secret or ConfigMap involved (names only). */
  keys: string[];
  /** envFrom only: the prefix ("" when none). */
  prefix: string;
  /** credentials-file only: where the file is mounted. */
  mountPath: string | null;
  /** credentials-file only: the volume that holds it. */
  volume: string | null;
  /**
   * True when the SDKs' default chain reads this before web identity (the SDK variable names, a
   * shared credentials file). False for credential-looking names the SDKs do not read themselves
   * (S3_AWS_ACCESS_KEY_ID): the application may pass them to a client explicitly — irsa cannot tell.
   * Also false when the container's SDK variables do not make a key pair (a session token alone):
   * the environment provider needs an access key ID and a secret key, or it yields nothing.
   */
  precedesWebIdentity: boolean;
}

/** `namespace`-local Secret name → its data key names; a Secret absent here is unknown or missing. */
export type SecretKeyNames = ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>;

const keysOf = (secrets: SecretKeyNames, name: string): readonly string[] | undefined =>
  secrets instanceof Map ? secrets.get(name) : (secrets as Readonly<Record<string, readonly string[]>>)[name];

const isSdkVariable = (name: string): boolean => SDK_CREDENTIAL_VARIABLES.includes(name);

/** Credential-looking names beyond the SDK's own (AWS_ACCESS_KEY_ID, awsSecretAccessKey, S3_AWS_ACCESS_KEY_ID…). */
export function looksLikeCredentialName(name: string): boolean {
  const normalized = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return (
    normalized === 'accesskeyid' ||
    normalized === 'secretaccesskey' ||
    ['awsaccesskeyid', 'awssecretaccesskey', 'awssessiontoken', 'awsaccesskey', 'awssecretkey'].some((known) => normalized.endsWith(known))
  );
}

const ACCESS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/;

/** The pod's ServiceAccount ("default" when none is named; serviceAccount is the deprecated alias). */
export const podServiceAccount = (spec: PodSpecLike | undefined): string => spec?.serviceAccountName || spec?.serviceAccount || 'default';

/** The kube2iam/kiam role a pod template asks for, or null. */
export const kube2iamRole = (metadata: { annotations?: Record<string, string> } | undefined): string | null =>
  metadata?.annotations?.[KUBE2IAM_ANNOTATION] || null;

/** Secret names a volume reads (a secret volume or projected secret sources). */
export const volumeSecrets = (volume: VolumeSpec): string[] => [
  ...(volume.secret?.secretName ? [volume.secret.secretName] : []),
  ...(volume.projected?.sources ?? []).flatMap((source) => (source.secret?.name ? [source.secret.name] : [])),
];

/** ConfigMap names a volume reads (a configMap volume or projected configMap sources). */
export const volumeConfigMaps = (volume: VolumeSpec): string[] => [
  ...(volume.configMap?.name ? [volume.configMap.name] : []),
  ...(volume.projected?.sources ?? []).flatMap((source) => (source.configMap?.name ? [source.configMap.name] : [])),
];

const underPath = (path: string, dir: string): boolean => {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
};

function source(container: ContainerSpec, initContainer: boolean, fields: Partial<CredentialSource> & Pick<CredentialSource, 'kind' | 'env' | 'precedesWebIdentity'>): CredentialSource {
  return { container: container.name, initContainer, secret: null, configMap: null, keys: [], prefix: '', mountPath: null, volume: null, ...fields };
}

/**
 * The SDKs' environment provider needs both halves of a key pair (a session token is optional):
 * @aws-sdk/credential-provider-env fromEnv, botocore EnvProvider, Java v1
 * EnvironmentVariableCredentialsProvider (with its AWS_ACCESS_KEY / AWS_SECRET_KEY alternates).
 */
const KEY_ID_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_ACCESS_KEY'];
const SECRET_KEY_VARIABLES = ['AWS_SECRET_ACCESS_KEY', 'AWS_SECRET_KEY'];

function containerSources(container: ContainerSpec, initContainer: boolean, volumes: VolumeSpec[], secrets: SecretKeyNames, configMaps: SecretKeyNames): CredentialSource[] {
  const found = containerSourcesUnpaired(container, initContainer, volumes, secrets, configMaps);
  // Variables from every source together (env and envFrom of one container are one environment).
  const sdkNames = new Set(found.filter((s) => s.precedesWebIdentity && s.kind !== 'credentials-file').flatMap((s) => s.env));
  const pair = KEY_ID_VARIABLES.some((n) => sdkNames.has(n)) && SECRET_KEY_VARIABLES.some((n) => sdkNames.has(n));
  if (pair) return found;
  return found.map((s) => (s.kind !== 'credentials-file' && s.precedesWebIdentity ? { ...s, precedesWebIdentity: false } : s));
}

function containerSourcesUnpaired(container: ContainerSpec, initContainer: boolean, volumes: VolumeSpec[], secrets: SecretKeyNames, configMaps: SecretKeyNames): CredentialSource[] {
  const found: CredentialSource[] = [];
  const env = container.env ?? [];

  // env: literal values, secretKeyRef and configMapKeyRef under a credential name (or a literal
  // value that is an access key ID). Grouped per Secret so "Secret X gives A and B" reads as one.
  const literal = env.filter((v) => v.value !== undefined && !v.valueFrom && (isSdkVariable(v.name) || looksLikeCredentialName(v.name) || ACCESS_KEY_ID.test(v.value)));
  for (const chain of [true, false]) {
    const names = literal.filter((v) => isSdkVariable(v.name) === chain).map((v) => v.name);
    if (names.length > 0) found.push(source(container, initContainer, { kind: 'env-literal', env: names, precedesWebIdentity: chain }));
  }
  const fromRefs = (kind: 'env-secret' | 'env-configmap', refOf: (v: EnvVarSpec) => { name?: string; key: string } | undefined) => {
    const groups = new Map<string, EnvVarSpec[]>();
    for (const variable of env) {
      const ref = refOf(variable);
      if (!ref || !(isSdkVariable(variable.name) || looksLikeCredentialName(variable.name))) continue;
      const key = `${isSdkVariable(variable.name)}\0${ref.name ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), variable]);
    }
    for (const [key, variables] of groups) {
      const [chain, name] = key.split('\0') as [string, string];
      found.push(source(container, initContainer, {
        kind,
        ...(kind === 'env-secret' ? { secret: name } : { configMap: name }),
        env: variables.map((v) => v.name),
        keys: [...new Set(variables.map((v) => refOf(v)!.key))],
        precedesWebIdentity: chain === 'true',
      }));
    }
  };
  fromRefs('env-secret', (v) => v.valueFrom?.secretKeyRef);
  fromRefs('env-configmap', (v) => v.valueFrom?.configMapKeyRef);

  // envFrom a Secret or a ConfigMap: the container gets every key (prefixed); only credential keys count.
  for (const from of container.envFrom ?? []) {
    const secretName = from.secretRef?.name;
    const configMapName = from.configMapRef?.name;
    const name = secretName ?? configMapName;
    if (!name) continue;
    const prefix = from.prefix ?? '';
    const keys = (secretName ? keysOf(secrets, name) : keysOf(configMaps, name)) ?? [];
    for (const chain of [true, false]) {
      const matching = keys.filter((key) => (chain ? isSdkVariable(prefix + key) : !isSdkVariable(prefix + key) && looksLikeCredentialName(prefix + key)));
      if (matching.length > 0) {
        found.push(source(container, initContainer, {
          ...(secretName ? { kind: 'envfrom-secret', secret: name } : { kind: 'envfrom-configmap', configMap: name }),
          prefix, keys: [...matching], env: matching.map((key) => prefix + key), precedesWebIdentity: chain,
        }));
      }
    }
  }

  // A shared credentials file mounted from a Secret or a ConfigMap: at the path
  // AWS_SHARED_CREDENTIALS_FILE or AWS_CONFIG_FILE names, or at the SDKs' default location
  // (~/.aws/credentials: any mount at a .aws directory or file, since the image's home directory is
  // not known here). The SDKs read the file whatever object it came from.
  const fileVariables = env.filter((v) => CREDENTIALS_FILE_VARIABLES.includes(v.name));
  const filePaths = fileVariables.filter((v) => v.name !== 'AWS_PROFILE' && v.value).map((v) => v.value!);
  for (const mount of container.volumeMounts ?? []) {
    const volume = volumes.find((v) => v.name === mount.name);
    const secretNames = volume ? volumeSecrets(volume) : [];
    const configMapNames = volume ? volumeConfigMaps(volume) : [];
    if (secretNames.length === 0 && configMapNames.length === 0) continue;
    const atDefault = /(^|\/)\.aws(\/(credentials|config)?)?\/?$/.test(mount.mountPath);
    const named = filePaths.some((path) => underPath(path, mount.mountPath));
    if (!atDefault && !named) continue;
    const file = { kind: 'credentials-file' as const, env: fileVariables.map((v) => v.name), mountPath: mount.mountPath, volume: mount.name, precedesWebIdentity: true };
    for (const secret of secretNames) found.push(source(container, initContainer, { ...file, secret, keys: [...(keysOf(secrets, secret) ?? [])] }));
    for (const configMap of configMapNames) found.push(source(container, initContainer, { ...file, configMap, keys: [...(keysOf(configMaps, configMap) ?? [])] }));
  }
  return found;
}

/**
 * Every static credential reference of the pod's init and regular containers. `configMaps`: the
 * namespace's ConfigMap name → data key names (envFrom of a ConfigMap needs them).
 */
export function credentialSourcesOfPodSpec(spec: PodSpecLike | undefined, secrets: SecretKeyNames, configMaps: SecretKeyNames = new Map()): CredentialSource[] {
  const volumes = spec?.volumes ?? [];
  return [
    ...(spec?.initContainers ?? []).flatMap((container) => containerSources(container, true, volumes, secrets, configMaps)),
    ...(spec?.containers ?? []).flatMap((container) => containerSources(container, false, volumes, secrets, configMaps)),
  ];
}

export interface TemplateCredentials {
  sources: CredentialSource[];
  /** The kube2iam/kiam role annotation's value, or null. */
  kube2iamRole: string | null;
  serviceAccount: string;
}

/** A pod template (or a pod: same metadata/spec shape). */
export function credentialSourcesOfTemplate(template: PodTemplateLike | undefined, secrets: SecretKeyNames, configMaps: SecretKeyNames = new Map()): TemplateCredentials {
  return {
    sources: credentialSourcesOfPodSpec(template?.spec, secrets, configMaps),
    kube2iamRole: kube2iamRole(template?.metadata),
    serviceAccount: podServiceAccount(template?.spec),
  };
}

/** "container app: envFrom Secret aws-secrets (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)". Names only. */
export function describeCredentialSource(source: CredentialSource): string {
  const where = `${source.initContainer ? 'init container' : 'container'} ${source.container}`;
  const vars = source.env.length > 0 ? ` (${source.env.join(', ')})` : '';
  switch (source.kind) {
    case 'env-literal':
      return `${where}: literal env${vars}`;
    case 'env-secret':
      return `${where}: env from Secret ${source.secret}${vars}`;
    case 'env-configmap':
      return `${where}: env from ConfigMap ${source.configMap}${vars}`;
    case 'envfrom-secret':
      return `${where}: envFrom Secret ${source.secret}${source.prefix ? ` with prefix ${source.prefix}` : ''}${vars}`;
    case 'envfrom-configmap':
      return `${where}: envFrom ConfigMap ${source.configMap}${source.prefix ? ` with prefix ${source.prefix}` : ''}${vars}`;
    case 'credentials-file':
      return `${where}: credentials file from ${source.secret !== null ? `Secret ${source.secret}` : `ConfigMap ${source.configMap}`} mounted at ${source.mountPath}${vars}`;
  }
}
