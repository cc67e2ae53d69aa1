// What the pod identity webhook does to a pod, and which AWS credentials each container of a pod
// will really use. Pure: the Kubernetes adapter turns pods into PodSpecState; doctor and list judge
// them here. Behaviour of the webhook (amazon-eks-pod-identity-webhook, observed on v0.6.17):
// - it mutates containers and initContainers: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, region,
//   the projected token volume `aws-iam-token` (audience and expirationSeconds from annotations)
//   and its mount at /var/run/secrets/eks.amazonaws.com/serviceaccount;
// - opt-outs: the pod label eks.amazonaws.com/skip-pod-identity-webhook (EKS registers the webhook
//   with an objectSelector `DoesNotExist` on it), the pod annotation eks.amazonaws.com/skip-containers
//   (those containers get no env and no mount; the pod still gets the volume), and a container
//   that sets its own AWS_ROLE_ARN (it gets neither AWS_ROLE_ARN nor the token file, only the mount
//   and region);
// - for EKS Pod Identity it injects AWS_CONTAINER_CREDENTIALS_FULL_URI,
//   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, volume eks-pod-identity-token and the label
//   eks.amazonaws.com/pod-identity=enabled, and no AWS_ROLE_ARN.
// Source: https://github.com/aws/amazon-eks-pod-identity-webhook (README, "Usage") and
// /work/shared/IRSA-FACTS.md for what was observed.

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

/** The pod annotation wins over the ServiceAccount's (webhook README); default 86400, minimum 600. */
export function expectationFor(roleArn: string, saAnnotations: Record<string, string>, podAnnotations: Record<string, string>): IrsaExpectation {
  const raw = podAnnotations[TOKEN_EXPIRATION_ANNOTATION] ?? saAnnotations[TOKEN_EXPIRATION_ANNOTATION];
  const parsed = raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : DEFAULT_TOKEN_EXPIRATION;
  return {
    roleArn,
    audience: saAnnotations[AUDIENCE_ANNOTATION] || DEFAULT_AUDIENCE,
    expirationSeconds: Math.max(parsed, MIN_TOKEN_EXPIRATION),
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
}

const env = (container: ContainerSummary, name: string) => container.env.find((variable) => variable.name === name);

/** The container in the shape core/credential-sources.ts reads (a structural subset of V1PodSpec). */
function asPodSpecLike(pod: Pick<PodSpecState, 'volumes'>, container: ContainerState): PodSpecLike {
  const spec: ContainerSpec = {
    name: container.name,
    env: container.env.map((v) => ({ name: v.name, ...(v.value !== undefined ? { value: v.value } : {}), ...(v.secretKeyRef ? { valueFrom: { secretKeyRef: v.secretKeyRef } } : {}) })),
    envFrom: (container.envFrom ?? container.envFromSecrets.map((secret) => ({ secret, prefix: '' }))).map((f) => ({ secretRef: { name: f.secret }, prefix: f.prefix })),
    volumeMounts: container.volumeMounts,
  };
  const volumes = pod.volumes.map((v) => ({ name: v.name, projected: { sources: (v.secrets ?? []).map((name) => ({ secret: { name } })) } }));
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
export function credentialSource(pod: Pick<PodSpecState, 'volumes' | 'annotations'>, container: ContainerState, secretKeys: ReadonlyMap<string, string[]> | null): CredentialSource {
  const sources = credentialSourcesOfPodSpec(asPodSpecLike(pod, container), secretKeys ?? new Map()).filter((s) => s.precedesWebIdentity);
  const fromEnv = sources.filter((s) => s.kind !== 'credentials-file');
  const describe = (list: typeof sources) => list.map(describeCredentialSource).map((text) => text.replace(/^(init )?container [^:]+: /, '')).join('; ');
  const secretsOf = (list: typeof sources) => [...new Set(list.flatMap((s) => (s.secret ? [s.secret] : [])))];
  if (fromEnv.length > 0) return { kind: 'environment', text: `static keys: ${describe(fromEnv)}`, secrets: secretsOf(fromEnv) };
  const files = sources.filter((s) => s.kind === 'credentials-file');
  if (files.length > 0) return { kind: 'shared-files', text: `static keys: ${describe(files)}`, secrets: secretsOf(files) };
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
}

export const skippedContainers = (annotations: Record<string, string>): string[] =>
  (annotations[SKIP_CONTAINERS_ANNOTATION] ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export const isPodIdentityPod = (pod: PodSpecState): boolean =>
  pod.labels[POD_IDENTITY_LABEL] === 'enabled' ||
  pod.volumes.some((v) => v.name === POD_IDENTITY_VOLUME) ||
  pod.containers.some((c) => !!env(c, 'AWS_CONTAINER_CREDENTIALS_FULL_URI') && !!env(c, 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'));

/** The projected token volume that holds `file` through one of the container's mounts. */
function tokenVolumeOf(pod: PodSpecState, container: ContainerState, file: string): PodVolumeState | null {
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
    const credentials = credentialSource(pod, container, options.secretKeys ?? null);
    const base = { container: container.name, init: container.init, credentials };
    const uses = `; it will use ${credentials.text}`;
    const roleArn = env(container, 'AWS_ROLE_ARN');
    const tokenFile = env(container, 'AWS_WEB_IDENTITY_TOKEN_FILE');
    // Static keys (env or a credentials file from a Secret) come before web identity in the chain:
    // the role is never used while they are there.
    if (credentials.secrets.length > 0 || credentials.kind === 'environment') {
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
