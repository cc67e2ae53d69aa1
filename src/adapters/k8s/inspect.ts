// KubeInspector over @kubernetes/client-node: the reads `doctor` and `audit` need beyond
// KubeGateway (Secrets, MutatingWebhookConfigurations, workloads' pod templates). Secret values
// are decoded only inside summarizeSecret and never leave this file except as masked key IDs.

import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type V1Container,
  type V1LabelSelector,
  type V1ObjectMeta,
  type V1Pod,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import type { DryRunInput, LabelSelector } from '../../core/admission.ts';
import { summarizeConfigMap, summarizeSecret, type AuditWorkloadKind, type ContainerSummary, type WorkloadTemplate } from '../../core/audit.ts';
import type { MutatingWebhookState } from '../../core/doctor.ts';
import type { KubeInspector } from '../../ports.ts';
import { allPages, loadKubeConfig, translateKubeError, type KubeGatewayOptions } from './kube.ts';
import { envFromOf, minimalPod, podFromTemplate, podStateOf } from './pods.ts';

const PAGE_SIZE = 500;
/** Dry-run pod creates in flight at once (doctor, one per distinct pod template). */
const DRY_RUN_CONCURRENCY = 4;

function containerSummary(container: V1Container): ContainerSummary {
  return {
    name: container.name,
    env: (container.env ?? []).map((variable) => ({
      name: variable.name,
      ...(variable.value !== undefined ? { value: variable.value } : {}),
      ...(variable.valueFrom?.secretKeyRef ? { secretKeyRef: { name: variable.valueFrom.secretKeyRef.name ?? '', key: variable.valueFrom.secretKeyRef.key } } : {}),
      ...(variable.valueFrom?.configMapKeyRef ? { configMapKeyRef: { name: variable.valueFrom.configMapKeyRef.name ?? '', key: variable.valueFrom.configMapKeyRef.key } } : {}),
    })),
    envFromSecrets: (container.envFrom ?? []).flatMap((source) => (source.secretRef?.name ? [source.secretRef.name] : [])),
    envFrom: envFromOf(container),
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
    configMapVolumes: [...new Set((spec?.volumes ?? []).flatMap((volume) => [
      ...(volume.configMap?.name ? [volume.configMap.name] : []),
      ...(volume.projected?.sources ?? []).flatMap((source) => (source.configMap?.name ? [source.configMap.name] : [])),
    ]))],
  };
}

const selectorOf = (selector: V1LabelSelector | undefined): LabelSelector | null =>
  selector
    ? {
        ...(selector.matchLabels ? { matchLabels: { ...selector.matchLabels } } : {}),
        ...(selector.matchExpressions ? { matchExpressions: selector.matchExpressions.map((e) => ({ key: e.key, operator: e.operator, ...(e.values ? { values: [...e.values] } : {}) })) } : {}),
      }
    : null;

/** The apiserver's Status message of a failed call (its body is a JSON string or object). */
function apiMessage(error: ApiException<unknown>): string {
  let body: unknown = error.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return body as string;
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : `HTTP ${error.code}`;
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

  // Memoised per namespace: doctor reads the templates for the dry run and for the running pods.
  const templateReads = new Map<string, Promise<Array<{ kind: AuditWorkloadKind; name: string; meta: V1ObjectMeta | undefined; template: V1PodTemplateSpec }>>>();
  function rawTemplates(namespace: string | undefined) {
    const key = namespace ?? '';
    let read = templateReads.get(key);
    if (!read) {
      read = readTemplates(namespace);
      templateReads.set(key, read);
    }
    return read;
  }
  async function readTemplates(namespace: string | undefined) {
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
    const entry = (kind: AuditWorkloadKind, meta: V1ObjectMeta | undefined, template: V1PodTemplateSpec | undefined) => ({ kind, name: meta?.name ?? '', meta, template: template ?? {} });
    return [
      ...deployments.map((w) => entry('Deployment', w.metadata, w.spec?.template)),
      ...statefulSets.map((w) => entry('StatefulSet', w.metadata, w.spec?.template)),
      ...daemonSets.map((w) => entry('DaemonSet', w.metadata, w.spec?.template)),
      ...cronJobs.map((w) => entry('CronJob', w.metadata, w.spec?.jobTemplate?.spec?.template)),
    ];
  }

  async function dryRun(namespace: string, run: { source: string; body: V1Pod; fromWorkload: boolean }): Promise<DryRunInput> {
    const { source, body, fromWorkload } = run;
    const submitted = podStateOf(body);
    const path = `/api/v1/namespaces/${namespace}/pods?dryRun=All`;
    options.observer?.onCall('k8s', 'POST pods (dry run)', path);
    try {
      const admitted = await core.createNamespacedPod({ namespace, body, dryRun: 'All' });
      return { source, fromWorkload, submitted, outcome: { admitted: podStateOf(admitted) } };
    } catch (error) {
      if (error instanceof ApiException) {
        const message = apiMessage(error);
        // RBAC's refusal names the verb and resource; a webhook's denial (also 403) does not.
        if (error.code === 403 && /cannot create resource "pods"/.test(message)) return { source, fromWorkload, submitted, outcome: { forbidden: message } };
        return { source, fromWorkload, submitted, outcome: { rejected: message } };
      }
      return { source, fromWorkload, submitted, outcome: { error: translateKubeError(error, 'POST', 'pods', path, target).message } };
    }
  }

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
          rules: (webhook.rules ?? []).map((rule) => ({
            operations: rule.operations ?? [],
            apiGroups: rule.apiGroups ?? [],
            resources: rule.resources ?? [],
            apiVersions: rule.apiVersions ?? [],
            scope: rule.scope ?? '*',
          })),
          failurePolicy: webhook.failurePolicy ?? 'Fail',
          namespaceSelector: selectorOf(webhook.namespaceSelector),
          objectSelector: selectorOf(webhook.objectSelector),
          sideEffects: webhook.sideEffects,
        })),
      );
    },

    async namespaceLabels(namespace) {
      const path = `/api/v1/namespaces/${namespace}`;
      options.observer?.onCall('k8s', 'GET namespaces', path);
      try {
        return { ...((await core.readNamespace({ name: namespace })).metadata?.labels ?? {}) };
      } catch (error) {
        throw translateKubeError(error, 'GET', 'namespaces', path, target);
      }
    },

    async dryRunPods(namespace, serviceAccount) {
      // Every workload's own template: its labels meet the webhook's objectSelector and its
      // containers are the ones to judge. Identical templates are dry-run once; sorted for a stable order.
      const templates = await rawTemplates(namespace);
      const mine = templates.filter((t) => (t.template.spec?.serviceAccountName || t.template.spec?.serviceAccount || 'default') === serviceAccount)
        .sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
      const distinct = new Map<string, { sources: string[]; body: V1Pod }>();
      for (const workload of mine) {
        const body = podFromTemplate(namespace, workload.name, workload.template);
        const key = JSON.stringify({ ...body, metadata: { ...body.metadata, generateName: '' } });
        const entry = distinct.get(key) ?? { sources: [], body };
        entry.sources.push(`${workload.kind} ${workload.name}`);
        distinct.set(key, entry);
      }
      const runs = distinct.size > 0
        ? [...distinct.values()].map((d) => ({ source: `the pod template of ${d.sources.join(', ')}`, body: d.body, fromWorkload: true }))
        : [{ source: 'a minimal pod', body: minimalPod(namespace, serviceAccount), fromWorkload: false }];
      // A few at a time: a namespace with hundreds of workloads must not flood the apiserver.
      const results: DryRunInput[] = new Array(runs.length);
      let next = 0;
      const worker = async () => {
        while (next < runs.length) {
          const index = next++;
          results[index] = await dryRun(namespace, runs[index]!);
        }
      };
      await Promise.all(Array.from({ length: Math.min(DRY_RUN_CONCURRENCY, runs.length) }, worker));
      return results;
    },

    async listConfigMapKeys(namespace) {
      const configMaps = await list('configmaps', scoped(namespace, '/api/v1', 'configmaps'), (_continue) =>
        namespace ? core.listNamespacedConfigMap({ namespace, limit: 100, _continue }) : core.listConfigMapForAllNamespaces({ limit: 100, _continue }),
      );
      // Values stay here: summarizeConfigMap keeps key names and masked access key IDs only.
      return configMaps.map((c) => summarizeConfigMap({ namespace: c.metadata?.namespace ?? namespace ?? '', name: c.metadata?.name ?? '' }, c.data ?? {}, c.binaryData ?? {}));
    },

    async listWorkloadTemplates(namespace) {
      return (await rawTemplates(namespace)).map((w) => templateOf(w.kind, w.meta, w.template));
    },
  };
}
