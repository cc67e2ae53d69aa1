// WorkloadGateway over @kubernetes/client-node: the pod templates of a namespace's workloads, and
// the writes of a migration (core/migration.ts). Secret values are never read into a result: only
// data key names leave this file.

import { ApiException, AppsV1Api, BatchV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type V1ObjectMeta, type V1PodTemplateSpec } from '@kubernetes/client-node';
import { RemoteError } from '../../core/errors.ts';
import type { PodTemplateLike } from '../../core/credential-sources.ts';
import { applyTemplateChange, type MigrationWorkloadKind, type PodTemplateWorkload, type TemplatePatchOp, type TemplateView } from '../../core/migration.ts';
import type { WorkloadGateway } from '../../ports.ts';
import { allPages, loadKubeConfig, translateKubeError, type KubeGatewayOptions } from './kube.ts';

const PAGE_SIZE = 500;
const JSON_PATCH = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

const RESOURCE: Record<MigrationWorkloadKind, { group: string; plural: string }> = {
  Deployment: { group: '/apis/apps/v1', plural: 'deployments' },
  StatefulSet: { group: '/apis/apps/v1', plural: 'statefulsets' },
  DaemonSet: { group: '/apis/apps/v1', plural: 'daemonsets' },
  Job: { group: '/apis/batch/v1', plural: 'jobs' },
  CronJob: { group: '/apis/batch/v1', plural: 'cronjobs' },
  Pod: { group: '/api/v1', plural: 'pods' },
};

type Listed = { metadata?: V1ObjectMeta };
type Page<T> = (token: string | undefined) => Promise<{ items: T[]; metadata?: { _continue?: string } }>;

export function createWorkloadGateway(options: KubeGatewayOptions = {}): WorkloadGateway {
  const kc = loadKubeConfig(options);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const target = { server: kc.getCurrentCluster()?.server ?? '(unknown server)', context: kc.getCurrentContext() };

  async function call<T>(verb: 'GET' | 'LIST' | 'PATCH' | 'DELETE', resource: string, path: string, run: () => Promise<T>): Promise<T> {
    options.observer?.onCall('k8s', `${verb} ${resource}`, path);
    try {
      return await run();
    } catch (error) {
      throw translateKubeError(error, verb, resource, path, target);
    }
  }
  const path = (kind: MigrationWorkloadKind, namespace: string, name?: string) =>
    `${RESOURCE[kind].group}/namespaces/${namespace}/${RESOURCE[kind].plural}${name ? `/${name}` : ''}`;

  const list = <T extends Listed>(kind: MigrationWorkloadKind, namespace: string, page: Page<T>) =>
    call('LIST', RESOURCE[kind].plural, path(kind, namespace), () => allPages(page));

  /** Where the pod template sits in each kind's object (JSON Pointer), and how to reach it. */
  const templatePath = (kind: MigrationWorkloadKind) => (kind === 'CronJob' ? '/spec/jobTemplate/spec/template' : kind === 'Pod' ? '' : '/spec/template');

  async function read(kind: MigrationWorkloadKind, namespace: string, name: string): Promise<{ resourceVersion: string; template: PodTemplateLike }> {
    const get = {
      Deployment: () => apps.readNamespacedDeployment({ namespace, name }).then((o) => ({ meta: o.metadata, template: o.spec?.template })),
      StatefulSet: () => apps.readNamespacedStatefulSet({ namespace, name }).then((o) => ({ meta: o.metadata, template: o.spec?.template })),
      DaemonSet: () => apps.readNamespacedDaemonSet({ namespace, name }).then((o) => ({ meta: o.metadata, template: o.spec?.template })),
      Job: () => batch.readNamespacedJob({ namespace, name }).then((o) => ({ meta: o.metadata, template: o.spec?.template })),
      CronJob: () => batch.readNamespacedCronJob({ namespace, name }).then((o) => ({ meta: o.metadata, template: o.spec?.jobTemplate?.spec?.template })),
      Pod: () => core.readNamespacedPod({ namespace, name }).then((o) => ({ meta: o.metadata, template: { metadata: o.metadata, spec: o.spec } as V1PodTemplateSpec })),
    }[kind];
    const object = await call('GET', RESOURCE[kind].plural, path(kind, namespace, name), get);
    return { resourceVersion: object.meta?.resourceVersion ?? '', template: (object.template ?? {}) as PodTemplateLike };
  }

  async function patch(kind: MigrationWorkloadKind, namespace: string, name: string, body: unknown[]): Promise<void> {
    const send: Record<MigrationWorkloadKind, () => Promise<unknown>> = {
      Deployment: () => apps.patchNamespacedDeployment({ namespace, name, body }, JSON_PATCH),
      StatefulSet: () => apps.patchNamespacedStatefulSet({ namespace, name, body }, JSON_PATCH),
      DaemonSet: () => apps.patchNamespacedDaemonSet({ namespace, name, body }, JSON_PATCH),
      Job: () => batch.patchNamespacedJob({ namespace, name, body }, JSON_PATCH),
      CronJob: () => batch.patchNamespacedCronJob({ namespace, name, body }, JSON_PATCH),
      Pod: () => core.patchNamespacedPod({ namespace, name, body }, JSON_PATCH),
    };
    await call('PATCH', RESOURCE[kind].plural, path(kind, namespace, name), send[kind]);
  }

  return {
    async listPodTemplates(namespace) {
      const page = { namespace, limit: PAGE_SIZE };
      const [deployments, statefulSets, daemonSets, jobs, cronJobs, pods] = await Promise.all([
        list('Deployment', namespace, (_continue) => apps.listNamespacedDeployment({ ...page, _continue })),
        list('StatefulSet', namespace, (_continue) => apps.listNamespacedStatefulSet({ ...page, _continue })),
        list('DaemonSet', namespace, (_continue) => apps.listNamespacedDaemonSet({ ...page, _continue })),
        list('Job', namespace, (_continue) => batch.listNamespacedJob({ ...page, _continue })),
        list('CronJob', namespace, (_continue) => batch.listNamespacedCronJob({ ...page, _continue })),
        list('Pod', namespace, (_continue) => core.listNamespacedPod({ ...page, _continue })),
      ]);
      const of = (kind: MigrationWorkloadKind, meta: V1ObjectMeta | undefined, template: V1PodTemplateSpec | undefined): PodTemplateWorkload => ({
        kind,
        namespace,
        name: meta?.name ?? '',
        template: (template ?? {}) as PodTemplateLike,
      });
      return [
        ...deployments.map((o) => of('Deployment', o.metadata, o.spec?.template)),
        ...statefulSets.map((o) => of('StatefulSet', o.metadata, o.spec?.template)),
        ...daemonSets.map((o) => of('DaemonSet', o.metadata, o.spec?.template)),
        // Jobs a CronJob made follow its template; only the others are workloads of their own.
        ...jobs.filter((o) => !o.metadata?.ownerReferences?.some((r) => r.kind === 'CronJob')).map((o) => of('Job', o.metadata, o.spec?.template)),
        ...cronJobs.map((o) => of('CronJob', o.metadata, o.spec?.jobTemplate?.spec?.template)),
        // Bare pods: no controller recreates them.
        ...pods.filter((o) => !o.metadata?.ownerReferences?.length).map((o) => of('Pod', o.metadata, { metadata: o.metadata, spec: o.spec } as V1PodTemplateSpec)),
      ];
    },

    async listSecretKeyNames(namespace) {
      const secrets = await call('LIST', 'secrets', `/api/v1/namespaces/${namespace}/secrets`, () =>
        allPages((_continue) => core.listNamespacedSecret({ namespace, limit: 100, _continue })),
      );
      // Key names only: the values are dropped here.
      return new Map(secrets.map((s) => [s.metadata?.name ?? '', [...new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})])].sort()]));
    },

    async updatePodTemplate(workload, before: TemplateView, after: TemplateView) {
      const { kind, namespace, name } = workload;
      const fresh = await read(kind, namespace, name);
      const edit = applyTemplateChange(fresh.template, before, after);
      if ('drift' in edit) {
        throw new RemoteError(`${kind} ${namespace}/${name} changed since the plan (${edit.drift}); nothing was changed. Run irsa again to plan against it.`);
      }
      if (edit.ops.length === 0) return;
      const prefix = templatePath(kind);
      // The resourceVersion test makes the write conditional on the object read a moment ago.
      const body: TemplatePatchOp[] = [
        { op: 'test', path: '/metadata/resourceVersion', value: fresh.resourceVersion },
        ...edit.ops.map((op) => ({ ...op, path: prefix + op.path })),
      ];
      await patch(kind, namespace, name, body);
    },

    async deleteSecret(namespace, name) {
      try {
        await call('DELETE', 'secrets', `/api/v1/namespaces/${namespace}/secrets/${name}`, () => core.deleteNamespacedSecret({ namespace, name }));
      } catch (error) {
        // Already gone: an interrupted apply converges.
        if ((error as { cause?: unknown }).cause instanceof ApiException && ((error as { cause: ApiException<unknown> }).cause.code === 404)) return;
        throw error;
      }
    },

    async listConfigMapKeyNames(namespace) {
      const configMaps = await call('LIST', 'configmaps', `/api/v1/namespaces/${namespace}/configmaps`, () =>
        allPages((_continue) => core.listNamespacedConfigMap({ namespace, limit: 100, _continue })),
      );
      // Key names only (data and binaryData): the values are dropped here.
      return new Map(configMaps.map((c) => [c.metadata?.name ?? '', [...new Set([...Object.keys(c.data ?? {}), ...Object.keys(c.binaryData ?? {})])].sort()]));
    },

    async removeConfigMapKeys(namespace, name, before, after) {
      const where = `/api/v1/namespaces/${namespace}/configmaps/${name}`;
      const fresh = await call('GET', 'configmaps', where, () => core.readNamespacedConfigMap({ namespace, name }));
      const data = Object.keys(fresh.data ?? {});
      const binary = Object.keys(fresh.binaryData ?? {});
      const keys = [...new Set([...data, ...binary])].sort();
      const same = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
      if (same(keys, after)) return; // done already: an interrupted apply converges
      if (!same(keys, before)) {
        throw new RemoteError(`ConfigMap ${namespace}/${name} changed since the plan (keys ${keys.join(', ')}, the plan saw ${before.join(', ')}); nothing was changed. Run irsa again to plan against it.`);
      }
      const pointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
      const body = [
        { op: 'test', path: '/metadata/resourceVersion', value: fresh.metadata?.resourceVersion ?? '' },
        ...before.filter((key) => !after.includes(key)).map((key) => ({ op: 'remove', path: `/${data.includes(key) ? 'data' : 'binaryData'}/${pointer(key)}` })),
      ];
      await call('PATCH', 'configmaps', where, () => core.patchNamespacedConfigMap({ namespace, name, body }, JSON_PATCH));
    },

    async deleteConfigMap(namespace, name) {
      try {
        await call('DELETE', 'configmaps', `/api/v1/namespaces/${namespace}/configmaps/${name}`, () => core.deleteNamespacedConfigMap({ namespace, name }));
      } catch (error) {
        if ((error as { cause?: unknown }).cause instanceof ApiException && ((error as { cause: ApiException<unknown> }).cause.code === 404)) return;
        throw error;
      }
    },
  };
}
