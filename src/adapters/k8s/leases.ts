// LeaseGateway over @kubernetes/client-node: the coordination.k8s.io/v1 Leases the trust lock
// (engine/trust-lock.ts) takes. A replace carries the resourceVersion that was read, so the
// apiserver refuses it with 409 Conflict when another writer changed the Lease in between: the
// optimistic concurrency every Kubernetes object has, and the compare-and-swap IAM lacks.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
// https://kubernetes.io/docs/concepts/architecture/leases/

import { ApiException, CoordinationV1Api, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { LeaseConflictError, LeaseForbiddenError, type LeaseGateway, type LeaseRecord, type LeaseWrite } from '../../ports.ts';
import { loadKubeConfig, translateKubeError, type KubeGatewayOptions } from './kube.ts';

function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  return {
    holder: spec.holderIdentity ? spec.holderIdentity : null,
    durationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime ? new Date(spec.acquireTime) : null,
    renewTime: spec.renewTime ? new Date(spec.renewTime) : null,
    transitions: spec.leaseTransitions ?? 0,
    annotations: { ...(lease.metadata?.annotations ?? {}) },
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}

const microTime = (date: Date | null) => (date ? new V1MicroTime(date.getTime()) : undefined);

function bodyOf(namespace: string, name: string, lease: LeaseWrite, resourceVersion?: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, annotations: lease.annotations, labels: { 'app.kubernetes.io/managed-by': 'irsa' }, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      ...(lease.holder ? { holderIdentity: lease.holder } : {}),
      leaseDurationSeconds: lease.durationSeconds,
      ...(lease.acquireTime ? { acquireTime: microTime(lease.acquireTime) } : {}),
      ...(lease.renewTime ? { renewTime: microTime(lease.renewTime) } : {}),
      leaseTransitions: lease.transitions,
    },
  };
}

export function createLeaseGateway(namespace: string, options: KubeGatewayOptions = {}): LeaseGateway {
  const kc = loadKubeConfig(options);
  const api = kc.makeApiClient(CoordinationV1Api);
  const target = { server: kc.getCurrentCluster()?.server ?? '(unknown server)', context: kc.getCurrentContext() };
  const path = (name?: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases${name ? `/${name}` : ''}`;
  const translate = (error: unknown, verb: 'GET' | 'POST' | 'PATCH', name: string): Error => {
    if (error instanceof ApiException && error.code === 409) return new LeaseConflictError(`Lease ${namespace}/${name} was changed by another run`);
    if (error instanceof ApiException && error.code === 403) {
      const rbac = verb === 'GET' ? 'get' : verb === 'POST' ? 'create' : 'update';
      return new LeaseForbiddenError(`${rbac} on leases.coordination.k8s.io in namespace ${namespace} is forbidden for context "${target.context}"`);
    }
    return translateKubeError(error, verb, 'leases.coordination.k8s.io', path(name), target);
  };
  return {
    namespace,
    async get(name) {
      options.observer?.onCall('k8s', 'GET leases', path(name));
      try {
        return recordOf(await api.readNamespacedLease({ name, namespace }));
      } catch (error) {
        if (error instanceof ApiException && error.code === 404) return null;
        throw translate(error, 'GET', name);
      }
    },
    async create(name, lease) {
      options.observer?.onCall('k8s', 'POST leases', path());
      try {
        return recordOf(await api.createNamespacedLease({ namespace, body: bodyOf(namespace, name, lease) }));
      } catch (error) {
        throw translate(error, 'POST', name);
      }
    },
    async list() {
      options.observer?.onCall('k8s', 'LIST leases', path());
      try {
        const listed = await api.listNamespacedLease({ namespace, labelSelector: 'app.kubernetes.io/managed-by=irsa' });
        return new Map(listed.items.map((lease) => [lease.metadata?.name ?? '', recordOf(lease)]));
      } catch (error) {
        throw translate(error, 'GET', '(list)');
      }
    },
    async replace(name, resourceVersion, lease) {
      options.observer?.onCall('k8s', 'PUT leases', path(name));
      try {
        return recordOf(await api.replaceNamespacedLease({ name, namespace, body: bodyOf(namespace, name, lease, resourceVersion) }));
      } catch (error) {
        throw translate(error, 'PATCH', name);
      }
    },
  };
}
