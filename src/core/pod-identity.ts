// What the pod identity webhook does to a pod, and which AWS credentials each container of a pod
// will really use. Pure: the Kubernetes adapter turns pods into PodSpecState; doctor and list judge
// them here. Behaviour of the webhook (amazon-eks-pod-identity-webhook v0.6.17: its
// pkg/handler/handler.go and pkg/cache/cache.go, checked against the real binary by
// test/integration/webhook-corpus.test.ts):
// - it mutates containers and initContainers: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, region,
//   the projected token volume `aws-iam-token` (audience and expirationSeconds from annotations)
//   and its mount at /var/run/secrets/eks.amazonaws.com/serviceaccount;
// - opt-outs: the pod label eks.amazonaws.com/skip-pod-identity-webhook (EKS registers the webhook
//   with an objectSelector `DoesNotExist` on it), the pod annotation eks.amazonaws.com/skip-containers
//   (read as one CSV record with Go's encoding/csv, names NOT trimmed; those containers get no env
//   and no mount; the pod still gets the volume), and a container that sets its own AWS_ROLE_ARN or
//   AWS_WEB_IDENTITY_TOKEN_FILE (it gets neither variable, only the mount and region);
// - a container with its own AWS_REGION or AWS_DEFAULT_REGION gets no region; a mount or volume
//   already named aws-iam-token is not added again;
// - token expiration: the pod annotation if Go's ParseInt accepts it (else the ServiceAccount's),
//   the ServiceAccount's if it parses (else 86400); below 600 becomes 600;
// - sts-regional-endpoints is Go's ParseBool (true, True, 1, t …); an empty audience annotation
//   gives a token for the apiserver's default audience;
// - a pod with nodeSelector kubernetes.io/os (or beta.kubernetes.io/os) = windows gets the token
//   path C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token (the mount path stays);
// - EKS Pod Identity (the ServiceAccount is in its container credentials config) wins over the
//   role-arn annotation: AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
//   volume eks-pod-identity-token, label eks.amazonaws.com/pod-identity=enabled, no AWS_ROLE_ARN; a
//   token lifetime of 86400 (the default) becomes a random 79,200–86,400 s.

import { KUBE2IAM_ANNOTATION } from './audit.ts';
import type { ContainerState, ContainerSummary, PodSpecState, PodVolumeState } from './model/observed.ts';
import { credentialSourcesOfPodSpec, describeCredentialSource, type ContainerSpec, type PodSpecLike } from './credential-sources.ts';
import { AUDIENCE_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION } from './resources/service-account.ts';
import { DEFAULT_AUDIENCE } from './trust-policy.ts';

export const TOKEN_VOLUME = 'aws-iam-token';
export const TOKEN_DIRECTORY = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
export const TOKEN_FILE = `${TOKEN_DIRECTORY}/token`;
export const SKIP_WEBHOOK_LABEL = 'eks.amazonaws.com/skip-pod-identity-webhook';
export const SKIP_CONTAINERS_ANNOTATION = 'eks.amazonaws.com/skip-containers';
export const POD_IDENTITY_LABEL = 'eks.amazonaws.com/pod-identity';
export const POD_IDENTITY_VOLUME = 'eks-pod-identity-token';
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
/** The webhook's default token lifetime, and the minimum it accepts (both in seconds). */
export const DEFAULT_TOKEN_EXPIRATION = 86400;
export const MIN_TOKEN_EXPIRATION = 600;

export type { ContainerState, PodSpecState, PodVolumeState } from './model/observed.ts';

/** What the webhook should inject for an IRSA-annotated ServiceAccount. */
export interface IrsaExpectation {
  roleArn: string;
  audience: string;
  expirationSeconds: number;
}

/** The shortest default lifetime the webhook gives a Pod Identity token (pkg.DefaultMinTokenExpiration). */
export const POD_IDENTITY_MIN_DEFAULT_EXPIRATION = 79200;
export const STS_REGIONAL_ENDPOINTS_ANNOTATION = 'eks.amazonaws.com/sts-regional-endpoints';
export const WINDOWS_TOKEN_FILE = 'C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token';

/** Go's strconv.ParseInt(s, 10, 64): an optional sign and ASCII digits, nothing else, within int64. */
export function parseGoInt(text: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(text)) return null;
  const value = BigInt(text);
  if (value > 9223372036854775807n || value < -9223372036854775808n) return null;
  return Number(value);
}

/** Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; anything else is an error. */
export function parseGoBool(text: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return null;
}

/**
 * The first record of `text` as Go's encoding/csv Reader (comma ',', no TrimLeadingSpace, no
 * LazyQuotes) reads it, or null when Read fails (nothing at all, a bare or unterminated quote).
 * The webhook reads eks.amazonaws.com/skip-containers this way: `app, sidecar` names "app" and
 * " sidecar", and a parse error skips no container.
 */
export function goCsvFirstRecord(text: string): string[] | null {
  let i = 0;
  const n = text.length;
  // Empty lines are skipped (a line of only \r\n or \n).
  while (i < n && (text[i] === '\n' || (text[i] === '\r' && text[i + 1] === '\n'))) i += text[i] === '\r' ? 2 : 1;
  if (i >= n) return null; // io.EOF
  const fields: string[] = [];
  for (;;) {
    if (text[i] === '"') {
      // Quoted field: "" is a quote; it ends at a quote followed by a comma or the end of the line.
      let field = '';
      i++;
      for (;;) {
        if (i >= n) return null; // extraneous or missing " in quoted-field
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          if (i >= n || text[i] === ',' || text[i] === '\n' || (text[i] === '\r' && (i + 1 >= n || text[i + 1] === '\n'))) break;
          return null; // extraneous " in field
        }
        if (c === '\r' && text[i + 1] === '\n') { field += '\n'; i += 2; continue; }
        field += c;
        i++;
      }
      fields.push(field);
    } else {
      let end = i;
      while (end < n && text[end] !== ',' && text[end] !== '\n') end++;
      let field = text.slice(i, end);
      if (end < n && text[end] === '\n' && field.endsWith('\r')) field = field.slice(0, -1);
      else if (end >= n && field.endsWith('\r')) field = field.slice(0, -1);
      if (field.includes('"')) return null; // bare " in non-quoted field
      fields.push(field);
      i = end;
    }
    if (i < n && text[i] === ',') { i++; if (i >= n) { fields.push(''); break; } continue; }
    break; // end of line or of input
  }
  return fields;
}

/** Containers the webhook skips: the pod annotation eks.amazonaws.com/skip-containers as Go's CSV reads it. */
export const skippedContainers = (annotations: Record<string, string>): string[] => {
  const raw = annotations[SKIP_CONTAINERS_ANNOTATION];
  return raw === undefined ? [] : goCsvFirstRecord(raw) ?? [];
};

/** The webhook's ValidateMinTokenExpiration: below 600 (negative included) becomes 600. */
const atLeastMinimum = (seconds: number): number => Math.max(seconds, MIN_TOKEN_EXPIRATION);

/** The ServiceAccount's lifetime as the webhook's cache reads it: a parsable annotation, else 86400. */
export function serviceAccountTokenExpiration(saAnnotations: Record<string, string>): number {
  const raw = saAnnotations[TOKEN_EXPIRATION_ANNOTATION];
  const parsed = raw === undefined ? null : parseGoInt(raw);
  return parsed === null ? DEFAULT_TOKEN_EXPIRATION : atLeastMinimum(parsed);
}

/** The pod annotation when Go parses it (then at least 600), else the ServiceAccount's (handler.parsePodAnnotations). */
export function podTokenExpiration(saAnnotations: Record<string, string>, podAnnotations: Record<string, string>): number {
  const fromSa = serviceAccountTokenExpiration(saAnnotations);
  const raw = podAnnotations[TOKEN_EXPIRATION_ANNOTATION];
  const parsed = raw === undefined ? null : parseGoInt(raw);
  return parsed === null ? fromSa : atLeastMinimum(parsed);
}

/**
 * A Pod Identity token's lifetime range: as for IRSA, except that exactly 86400 (the default, or
 * asked for) becomes a random value in 79,200–86,400 (handler.addJitterToDefaultToken).
 */
export function podIdentityTokenExpiration(saAnnotations: Record<string, string>, podAnnotations: Record<string, string>): { min: number; max: number } {
  const seconds = podTokenExpiration(saAnnotations, podAnnotations);
  return seconds === DEFAULT_TOKEN_EXPIRATION ? { min: POD_IDENTITY_MIN_DEFAULT_EXPIRATION, max: DEFAULT_TOKEN_EXPIRATION } : { min: seconds, max: seconds };
}

/**
 * The audience the webhook puts on the projected token: the annotation's value when present, even
 * empty ("" = the apiserver's default audience, its --api-audiences, usually its issuer), else
 * sts.amazonaws.com.
 */
export const webhookAudience = (saAnnotations: Record<string, string>): string => saAnnotations[AUDIENCE_ANNOTATION] ?? DEFAULT_AUDIENCE;

/** Does the webhook add AWS_STS_REGIONAL_ENDPOINTS=regional (Go bool annotation; its flag default false)? */
export const usesRegionalSts = (saAnnotations: Record<string, string>): boolean => {
  const raw = saAnnotations[STS_REGIONAL_ENDPOINTS_ANNOTATION];
  return raw === undefined ? false : parseGoBool(raw) ?? false;
};

/** A pod the webhook treats as a Windows pod (nodeSelector kubernetes.io/os or beta.kubernetes.io/os = windows). */
export const isWindowsPod = (pod: Pick<PodSpecState, 'nodeSelector'>): boolean =>
  pod.nodeSelector?.['kubernetes.io/os'] === 'windows' || pod.nodeSelector?.['beta.kubernetes.io/os'] === 'windows';

/** The pod annotation wins over the ServiceAccount's when it parses; default 86400, minimum 600. */
export function expectationFor(roleArn: string, saAnnotations: Record<string, string>, podAnnotations: Record<string, string>): IrsaExpectation {
  return {
    roleArn,
    audience: webhookAudience(saAnnotations),
    expirationSeconds: podTokenExpiration(saAnnotations, podAnnotations),
  };
}

// ---- credentials ------------------------------------------------------------------------------

export type CredentialSourceKind = 'environment' | 'shared-files' | 'web-identity' | 'container' | 'instance';

export interface CredentialSource {
  kind: CredentialSourceKind;
  /** For people: which credentials, e.g. "web identity: role arn:…" or "static keys from Secret aws-creds". */
  text: string;
  /** Secrets that hold static keys this container loads. */
  secrets: string[];
  /** ConfigMaps that hold static keys this container loads. */
  configMaps?: string[];
}

const env = (container: ContainerSummary, name: string) => container.env.find((variable) => variable.name === name);

/** The container in the shape core/credential-sources.ts reads (a structural subset of V1PodSpec). */
function asPodSpecLike(pod: Pick<PodSpecState, 'volumes'>, container: ContainerState): PodSpecLike {
  const spec: ContainerSpec = {
    name: container.name,
    env: container.env.map((v) => ({
      name: v.name,
      ...(v.value !== undefined ? { value: v.value } : {}),
      ...(v.secretKeyRef ? { valueFrom: { secretKeyRef: v.secretKeyRef } } : v.configMapKeyRef ? { valueFrom: { configMapKeyRef: v.configMapKeyRef } } : {}),
    })),
    envFrom: (container.envFrom ?? container.envFromSecrets.map((secret): { secret?: string; configMap?: string; prefix: string } => ({ secret, prefix: '' }))).map((f) =>
      f.secret !== undefined ? { secretRef: { name: f.secret }, prefix: f.prefix } : { configMapRef: { name: f.configMap ?? '' }, prefix: f.prefix }),
    volumeMounts: container.volumeMounts,
  };
  const volumes = pod.volumes.map((v) => ({ name: v.name, projected: { sources: [...(v.secrets ?? []).map((name) => ({ secret: { name } })), ...(v.configMaps ?? []).map((name) => ({ configMap: { name } }))] } }));
  return container.init ? { initContainers: [spec], volumes } : { containers: [spec], volumes };
}

/**
 * The source the AWS SDKs' default chain picks, in its order: environment keys → shared
 * config/credentials files (AWS_PROFILE) → web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)
 * → container credentials (ECS, EKS Pod Identity) → instance metadata (the node's role).
 * (AWS SDKs and Tools Reference Guide, "Understand the credential provider chain"; JS v3
 * defaultProvider: fromEnv, fromSSO/fromIni, fromTokenFile, remoteProvider.) Static keys and
 * credentials files come from core/credential-sources.ts; `secretKeys` maps Secret name → data key
 * names (null: Secrets unreadable, so envFrom cannot be resolved).
 */
export function credentialSource(
  pod: Pick<PodSpecState, 'volumes' | 'annotations'>,
  container: ContainerState,
  secretKeys: ReadonlyMap<string, string[]> | null,
  configMapKeys: ReadonlyMap<string, string[]> | null = null,
): CredentialSource {
  const sources = credentialSourcesOfPodSpec(asPodSpecLike(pod, container), secretKeys ?? new Map(), configMapKeys ?? new Map()).filter((s) => s.precedesWebIdentity);
  const fromEnv = sources.filter((s) => s.kind !== 'credentials-file');
  const describe = (list: typeof sources) => list.map(describeCredentialSource).map((text) => text.replace(/^(init )?container [^:]+: /, '')).join('; ');
  const secretsOf = (list: typeof sources) => [...new Set(list.flatMap((s) => (s.secret ? [s.secret] : [])))];
  const configMapsOf = (list: typeof sources) => [...new Set(list.flatMap((s) => (s.configMap ? [s.configMap] : [])))];
  if (fromEnv.length > 0) return { kind: 'environment', text: `static keys: ${describe(fromEnv)}`, secrets: secretsOf(fromEnv), configMaps: configMapsOf(fromEnv) };
  const files = sources.filter((s) => s.kind === 'credentials-file');
  if (files.length > 0) return { kind: 'shared-files', text: `static keys: ${describe(files)}`, secrets: secretsOf(files), configMaps: configMapsOf(files) };
  const profile = env(container, 'AWS_PROFILE') ?? env(container, 'AWS_SHARED_CREDENTIALS_FILE') ?? env(container, 'AWS_CONFIG_FILE');
  if (profile) return { kind: 'shared-files', text: `shared config/credentials files (${profile.name}${profile.value ? `=${profile.value}` : ''}), if they hold credentials`, secrets: [] };
  const roleArn = env(container, 'AWS_ROLE_ARN');
  if (roleArn && env(container, 'AWS_WEB_IDENTITY_TOKEN_FILE')) {
    return { kind: 'web-identity', text: `web identity: ${roleArn.value ?? 'AWS_ROLE_ARN from a reference'}`, secrets: [] };
  }
  if (env(container, 'AWS_CONTAINER_CREDENTIALS_FULL_URI') || env(container, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI')) {
    return { kind: 'container', text: 'container credentials (EKS Pod Identity association)', secrets: [] };
  }
  const kube2iam = pod.annotations[KUBE2IAM_ANNOTATION];
  return {
    kind: 'instance',
    text: kube2iam ? `instance metadata: kube2iam/kiam role ${kube2iam} if that agent runs, else the node's role` : "instance metadata: the node's role",
    secrets: [],
  };
}

// ---- judging one pod --------------------------------------------------------------------------

export type ContainerVerdictKind =
  | 'mutated' // IRSA as expected
  | 'pod-opt-out'
  | 'container-opt-out'
  | 'own-role-arn'
  | 'pod-identity'
  | 'static-keys'
  | 'missing' // no IRSA environment at all
  | 'mismatch'; // IRSA environment, but not the one the annotations ask for

export interface ContainerVerdict {
  container: string;
  init: boolean;
  status: 'pass' | 'fail' | 'warn';
  kind: ContainerVerdictKind;
  detail: string;
  credentials: CredentialSource;
}

export interface JudgeOptions {
  /** Variables each container sets itself (from the submitted pod or the workload's template); unknown when absent. */
  ownEnv?: ReadonlyMap<string, ReadonlySet<string>>;
  secretKeys?: ReadonlyMap<string, string[]> | null;
  /** ConfigMap name → data key names (envFrom of a ConfigMap); null/absent when not read. */
  configMapKeys?: ReadonlyMap<string, string[]> | null;
}

export const isPodIdentityPod = (pod: PodSpecState): boolean =>
  pod.labels[POD_IDENTITY_LABEL] === 'enabled' ||
  pod.volumes.some((v) => v.name === POD_IDENTITY_VOLUME) ||
  pod.containers.some((c) => !!env(c, 'AWS_CONTAINER_CREDENTIALS_FULL_URI') && !!env(c, 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'));

/** The projected token volume that holds `file` through one of the container's mounts. */
function tokenVolumeOf(pod: PodSpecState, container: ContainerState, rawFile: string): PodVolumeState | null {
  // A Windows container sees the mount /var/run/x at C:\var\run\x (the webhook writes that form).
  const windowsPath = /^[A-Za-z]:\\/.exec(rawFile);
  if (windowsPath && !isWindowsPod(pod)) return null;
  const file = windowsPath ? rawFile.slice(2).replaceAll('\\', '/') : rawFile;
  for (const mount of container.volumeMounts) {
    const dir = mount.mountPath.replace(/\/$/, '');
    if (!file.startsWith(`${dir}/`)) continue;
    const volume = pod.volumes.find((v) => v.name === mount.name);
    if (volume?.token && volume.token.path === file.slice(dir.length + 1)) return volume;
  }
  return null;
}

/** Per container (init containers included): did the webhook set it up as `expected`, or why not. */
export function judgePod(pod: PodSpecState, expected: IrsaExpectation, options: JudgeOptions = {}): ContainerVerdict[] {
  const podOptOut = SKIP_WEBHOOK_LABEL in pod.labels;
  const skipped = skippedContainers(pod.annotations);
  const podIdentity = isPodIdentityPod(pod);
  return pod.containers.map((container): ContainerVerdict => {
    const credentials = credentialSource(pod, container, options.secretKeys ?? null, options.configMapKeys ?? null);
    const base = { container: container.name, init: container.init, credentials };
    const uses = `; it will use ${credentials.text}`;
    const roleArn = env(container, 'AWS_ROLE_ARN');
    const tokenFile = env(container, 'AWS_WEB_IDENTITY_TOKEN_FILE');
    // Static keys (env, or a credentials file from a Secret or a ConfigMap) come before web identity
    // in the chain: the role is never used while they are there.
    if (credentials.secrets.length > 0 || (credentials.configMaps ?? []).length > 0 || credentials.kind === 'environment') {
      if (roleArn || !podOptOut) {
        return {
          ...base,
          status: 'fail',
          kind: 'static-keys',
          detail: `${credentials.text} — they win over IRSA (the SDKs read them before web identity)${roleArn ? '; the container also has AWS_ROLE_ARN' : ''}`,
        };
      }
    }
    if (podOptOut) {
      return { ...base, status: 'warn', kind: 'pod-opt-out', detail: `the pod is labelled ${SKIP_WEBHOOK_LABEL}: deliberately left alone by the webhook${uses}` };
    }
    if (skipped.includes(container.name)) {
      return { ...base, status: 'warn', kind: 'container-opt-out', detail: `named in the pod annotation ${SKIP_CONTAINERS_ANNOTATION}: deliberately left without AWS_ROLE_ARN and the token mount${uses}` };
    }
    if (!roleArn && podIdentity && env(container, 'AWS_CONTAINER_CREDENTIALS_FULL_URI')) {
      return { ...base, status: 'warn', kind: 'pod-identity', detail: `set up for EKS Pod Identity (${POD_IDENTITY_LABEL}=enabled): it uses the Pod Identity association's role, not ${expected.roleArn}` };
    }
    if (!roleArn && tokenFile) {
      // The webhook adds AWS_ROLE_ARN and the token file together, and neither when the container
      // sets one of them itself: a token file without the role ARN is the container's own.
      return {
        ...base,
        status: 'warn',
        kind: 'own-role-arn',
        detail: `sets its own AWS_WEB_IDENTITY_TOKEN_FILE without AWS_ROLE_ARN: the webhook then adds neither, so the SDK skips web identity${uses}`,
      };
    }
    if (!roleArn) {
      return { ...base, status: 'fail', kind: 'missing', detail: `no AWS_ROLE_ARN or AWS_WEB_IDENTITY_TOKEN_FILE${uses}` };
    }
    const ownSet = options.ownEnv?.get(container.name);
    const own = ownSet ? ownSet.has('AWS_ROLE_ARN') : !tokenFile;
    if (own && !(ownSet?.has('AWS_WEB_IDENTITY_TOKEN_FILE') ?? false) && !tokenFile) {
      return {
        ...base,
        status: 'warn',
        kind: 'own-role-arn',
        detail: `sets its own AWS_ROLE_ARN=${roleArn.value ?? '(reference)'}: the webhook then adds neither AWS_ROLE_ARN nor the token file (only the mount and region), so the SDK skips web identity${uses}`,
      };
    }
    if (!tokenFile) {
      return { ...base, status: 'fail', kind: 'mismatch', detail: `AWS_ROLE_ARN without AWS_WEB_IDENTITY_TOKEN_FILE${uses}` };
    }
    const problems: string[] = [];
    const minor: string[] = [];
    if (roleArn.value !== expected.roleArn) problems.push(`AWS_ROLE_ARN is ${roleArn.value ?? '(a reference)'}, the annotation says ${expected.roleArn}`);
    const volume = tokenFile.value ? tokenVolumeOf(pod, container, tokenFile.value) : null;
    if (!volume) {
      problems.push(`AWS_WEB_IDENTITY_TOKEN_FILE ${tokenFile.value ?? '(a reference)'} is not on a mounted projected ServiceAccount token volume`);
    } else {
      if ((volume.token!.audience ?? '') !== expected.audience) problems.push(`token volume ${volume.name} has audience ${volume.token!.audience ?? '(the apiserver default)'}, the ServiceAccount expects ${expected.audience}`);
      if (volume.token!.expirationSeconds !== expected.expirationSeconds) minor.push(`token expirationSeconds ${volume.token!.expirationSeconds ?? 'default'}, the annotations ask for ${expected.expirationSeconds}`);
    }
    const summary = `AWS_ROLE_ARN=${roleArn.value}, token ${tokenFile.value}${volume ? ` (audience ${volume.token!.audience}, ${volume.token!.expirationSeconds ?? 'default'} s)` : ''}`;
    if (problems.length > 0) {
      if (ownSet?.has('AWS_ROLE_ARN')) {
        return { ...base, status: 'warn', kind: 'own-role-arn', detail: `sets its own AWS_ROLE_ARN and token file: ${problems.join('; ')}` };
      }
      return { ...base, status: 'fail', kind: 'mismatch', detail: problems.join('; ') };
    }
    if (minor.length > 0) return { ...base, status: 'warn', kind: 'mutated', detail: `${summary}; ${minor.join('; ')}` };
    return { ...base, status: 'pass', kind: 'mutated', detail: summary };
  });
}

/** For `irsa list --pods`: pods of the ServiceAccount, and how many still need a restart to get its role. */
export function restartCount(roleArn: string, saAnnotations: Record<string, string>, pods: Array<{ spec?: PodSpecState }>): { pods: number; needRestart: number } {
  const judged = pods.filter((pod) => pod.spec);
  return {
    pods: judged.length,
    needRestart: judged.filter((pod) => needsRestart(pod.spec!, expectationFor(roleArn, saAnnotations, pod.spec!.annotations))).length,
  };
}

/** Does the pod still need a restart to get the annotation's role? (cheap form for `irsa list`). */
export function needsRestart(pod: PodSpecState, expected: IrsaExpectation): boolean {
  return judgePod(pod, expected).some((v) => v.kind === 'missing' || v.kind === 'mismatch');
}

export const describeContainer = (v: Pick<ContainerVerdict, 'container' | 'init'>): string => `${v.init ? 'init container' : 'container'} ${v.container}`;
