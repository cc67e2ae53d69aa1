// Pods and pod templates reduced to PodSpecState (core/pod-identity.ts), and the pod doctor
// submits as a server-side dry run. Env values are kept only for the variables the judgement
// reads; a Secret reference keeps the Secret's name and key, never a value.

import type { V1Container, V1ObjectMeta, V1Pod, V1PodSpec, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ContainerState, PodSpecState, PodVolumeState } from '../../core/pod-identity.ts';

/** Values kept as read; any other variable keeps only its name (a value might be a secret). */
const KEEP_VALUES = new Set([
  'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'AWS_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE',
]);

/** envFrom Secrets and ConfigMaps (static keys reach a container through either). */
type EnvFromEntry = { secret?: string; configMap?: string; prefix: string };
export const envFromOf = (container: V1Container): EnvFromEntry[] =>
  (container.envFrom ?? []).flatMap((source): EnvFromEntry[] =>
    source.secretRef?.name ? [{ secret: source.secretRef.name, prefix: source.prefix ?? '' }]
      : source.configMapRef?.name ? [{ configMap: source.configMapRef.name, prefix: source.prefix ?? '' }]
        : []);

function containerState(container: V1Container, init: boolean): ContainerState {
  return {
    name: container.name,
    init,
    env: (container.env ?? []).map((variable) => ({
      name: variable.name,
      // Other literal values stay out; one that is shaped like an access key ID is kept masked so
      // the static-keys detection still sees it.
      ...(variable.value !== undefined ? { value: KEEP_VALUES.has(variable.name) ? variable.value : /^(AKIA|ASIA)[A-Z0-9]{16}$/.test(variable.value) ? variable.value.slice(0, 4) + 'X'.repeat(12) + variable.value.slice(-4) : '(literal)' } : {}),
      ...(variable.valueFrom?.secretKeyRef ? { secretKeyRef: { name: variable.valueFrom.secretKeyRef.name ?? '', key: variable.valueFrom.secretKeyRef.key } } : {}),
      ...(variable.valueFrom?.configMapKeyRef ? { configMapKeyRef: { name: variable.valueFrom.configMapKeyRef.name ?? '', key: variable.valueFrom.configMapKeyRef.key } } : {}),
    })),
    envFromSecrets: (container.envFrom ?? []).flatMap((source) => (source.secretRef?.name ? [source.secretRef.name] : [])),
    envFrom: envFromOf(container),
    volumeMounts: (container.volumeMounts ?? []).map((mount) => ({ name: mount.name, mountPath: mount.mountPath })),
  };
}

export function podSpecState(meta: V1ObjectMeta | undefined, spec: V1PodSpec | undefined): PodSpecState {
  const volumes: PodVolumeState[] = (spec?.volumes ?? []).map((volume) => {
    const token = volume.projected?.sources?.find((source) => source.serviceAccountToken)?.serviceAccountToken;
    return {
      name: volume.name,
      token: token ? { audience: token.audience ?? null, expirationSeconds: token.expirationSeconds ?? null, path: token.path } : null,
      secrets: [
        ...(volume.secret?.secretName ? [volume.secret.secretName] : []),
        ...(volume.projected?.sources ?? []).flatMap((source) => (source.secret?.name ? [source.secret.name] : [])),
      ],
      configMaps: [
        ...(volume.configMap?.name ? [volume.configMap.name] : []),
        ...(volume.projected?.sources ?? []).flatMap((source) => (source.configMap?.name ? [source.configMap.name] : [])),
      ],
    };
  });
  return {
    name: meta?.name ?? meta?.generateName ?? '',
    labels: { ...(meta?.labels ?? {}) },
    annotations: { ...(meta?.annotations ?? {}) },
    ...(spec?.nodeSelector ? { nodeSelector: { ...spec.nodeSelector } } : {}),
    containers: [
      ...(spec?.initContainers ?? []).map((c) => containerState(c, true)),
      ...(spec?.containers ?? []).map((c) => containerState(c, false)),
    ],
    volumes,
  };
}

export const podStateOf = (pod: V1Pod): PodSpecState => podSpecState(pod.metadata, pod.spec);

/**
 * The pod a workload's template would create, for a dry run. A StatefulSet's claim templates (and
 * any other volume the controller adds) become emptyDirs so validation does not reject the mounts.
 */
export function podFromTemplate(namespace: string, workloadName: string, template: V1PodTemplateSpec): V1Pod {
  const spec: V1PodSpec = structuredClone(template.spec ?? { containers: [] });
  const declared = new Set((spec.volumes ?? []).map((v) => v.name));
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const mount of container.volumeMounts ?? []) {
      if (!declared.has(mount.name)) {
        (spec.volumes ??= []).push({ name: mount.name, emptyDir: {} });
        declared.add(mount.name);
      }
    }
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${workloadName.slice(0, 40)}-irsa-doctor-`,
      namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations: { ...(template.metadata?.annotations ?? {}) },
    },
    spec,
  };
}

/** A pod that passes the "restricted" Pod Security level, so only the webhook can change it. */
export function minimalPod(namespace: string, serviceAccount: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'irsa-doctor-', namespace },
    spec: {
      serviceAccountName: serviceAccount,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'app',
        image: 'registry.k8s.io/pause:3.10',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      }],
    },
  };
}
