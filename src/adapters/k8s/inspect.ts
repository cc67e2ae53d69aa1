// KubeInspector over @kubernetes/client-node: the reads `doctor` and `audit` need beyond
// KubeGateway (Secrets, MutatingWebhookConfigurations, workloads' pod templates). Secret values
// are decoded only inside summarizeSecret and never leave this file except as masked key IDs.

import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type V1Container,
  type V1ObjectMeta,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { summarizeSecret, type AuditWorkloadKind, type ContainerSummary, type WorkloadTemplate } from '../../core/audit.ts';
import type { MutatingWebhookState } from '../../core/doctor.ts';
import type { KubeInspector } from '../../ports.ts';
import { allPages, loadKubeConfig, translateKubeError, type KubeGatewayOptions } from './kube.ts';

const PAGE_SIZE = 500;

function containerSummary(container: V1Container): ContainerSummary {
  return {
    name: container.name,
    env: (container.env ?? []).map((variable) => ({
      name: variable.name,
      ...(variable.value !== undefined ? { value: variable.value } : {}),
      ...(variable.valueFrom?.secretKeyRef ? { secretKeyRef: { name: variable.valueFrom.secretKeyRef.name ?? '', key: variable.valueFrom.secretKeyRef.key } } : {}),
    })),
    envFromSecrets: (container.envFrom ?? []).flatMap((source) => (source.secretRef?.name ? [source.secretRef.name] : [])),
  };
}

function templateOf(kind: AuditWorkloadKind, meta: V1ObjectMeta | undefined, template: V1PodTemplateSpec | undefined): WorkloadTemplate {
  const spec = template?.spec;
  const secretVolumes = (spec?.volumes ?? []).flatMap((volume) => [
    ...(volume.secret?.secretName ? [volume.secret.secretName] : []),
    ...(volume.projected?.sources ?? []).flatMap((source) => (source.secret?.name ? [source.secret.name] : [])),
  ]);
  return {
    kind,
    namespace: meta?.namespace ?? '',
    name: meta?.name ?? '',
    annotations: { ...(meta?.annotations ?? {}) },
    podAnnotations: { ...(template?.metadata?.annotations ?? {}) },
    // serviceAccount is the deprecated alias; an empty name means "default".
    serviceAccount: spec?.serviceAccountName || spec?.serviceAccount || 'default',
    containers: [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map(containerSummary),
    secretVolumes: [...new Set(secretVolumes)],
  };
}

export function createKubeInspector(options: KubeGatewayOptions = {}): KubeInspector {
  const kc = loadKubeConfig(options);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const target = { server: kc.getCurrentCluster()?.server ?? '(unknown server)', context: kc.getCurrentContext() };

  async function list<T>(resource: string, path: string, page: (token: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>): Promise<T[]> {
    options.observer?.onCall('k8s', `LIST ${resource}`, path);
    try {
      return await allPages(page);
    } catch (error) {
      throw translateKubeError(error, 'LIST', resource, path, target);
    }
  }
  const scoped = (namespace: string | undefined, group: string, resource: string) =>
    `${group}${namespace ? `/namespaces/${namespace}` : ''}/${resource}`;

  return {
    async listSecrets(namespace) {
      // Smaller pages: Secrets can be large (Helm keeps whole releases in them).
      const limit = 100;
      const secrets = await list('secrets', scoped(namespace, '/api/v1', 'secrets'), (_continue) =>
        namespace
          ? core.listNamespacedSecret({ namespace, limit, _continue })
          : core.listSecretForAllNamespaces({ limit, _continue }),
      );
      return secrets.map((secret) =>
        summarizeSecret(
          { namespace: secret.metadata?.namespace ?? namespace ?? '', name: secret.metadata?.name ?? '', type: secret.type ?? 'Opaque' },
          secret.data ?? {},
          secret.stringData ?? {},
        ),
      );
    },

    async listMutatingWebhooks() {
      const configurations = await list('mutatingwebhookconfigurations', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', (_continue) =>
        admission.listMutatingWebhookConfiguration({ limit: PAGE_SIZE, _continue }),
      );
      return configurations.flatMap((configuration) =>
        (configuration.webhooks ?? []).map((webhook): MutatingWebhookState => ({
          configuration: configuration.metadata?.name ?? '',
          webhook: webhook.name,
          service: webhook.clientConfig.service
            ? { namespace: webhook.clientConfig.service.namespace, name: webhook.clientConfig.service.name, path: webhook.clientConfig.service.path ?? null }
            : null,
          url: webhook.clientConfig.url ?? null,
          rules: (webhook.rules ?? []).map((rule) => ({ operations: rule.operations ?? [], apiGroups: rule.apiGroups ?? [], resources: rule.resources ?? [] })),
          failurePolicy: webhook.failurePolicy ?? 'Fail',
        })),
      );
    },

    async listWorkloadTemplates(namespace) {
      const page = { limit: PAGE_SIZE };
      const [deployments, statefulSets, daemonSets, cronJobs] = await Promise.all([
        list('deployments', scoped(namespace, '/apis/apps/v1', 'deployments'), (_continue) =>
          namespace ? apps.listNamespacedDeployment({ namespace, ...page, _continue }) : apps.listDeploymentForAllNamespaces({ ...page, _continue }),
        ),
        list('statefulsets', scoped(namespace, '/apis/apps/v1', 'statefulsets'), (_continue) =>
          namespace ? apps.listNamespacedStatefulSet({ namespace, ...page, _continue }) : apps.listStatefulSetForAllNamespaces({ ...page, _continue }),
        ),
        list('daemonsets', scoped(namespace, '/apis/apps/v1', 'daemonsets'), (_continue) =>
          namespace ? apps.listNamespacedDaemonSet({ namespace, ...page, _continue }) : apps.listDaemonSetForAllNamespaces({ ...page, _continue }),
        ),
        list('cronjobs', scoped(namespace, '/apis/batch/v1', 'cronjobs'), (_continue) =>
          namespace ? batch.listNamespacedCronJob({ namespace, ...page, _continue }) : batch.listCronJobForAllNamespaces({ ...page, _continue }),
        ),
      ]);
      return [
        ...deployments.map((w) => templateOf('Deployment', w.metadata, w.spec?.template)),
        ...statefulSets.map((w) => templateOf('StatefulSet', w.metadata, w.spec?.template)),
        ...daemonSets.map((w) => templateOf('DaemonSet', w.metadata, w.spec?.template)),
        ...cronJobs.map((w) => templateOf('CronJob', w.metadata, w.spec?.jobTemplate?.spec?.template)),
      ];
    },
  };
}
