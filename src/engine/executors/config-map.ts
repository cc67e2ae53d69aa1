import { isNotFound } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

/**
 * A ConfigMap that held AWS keys: deleted once no workload uses it (one already gone is what was
 * asked for), or, while workloads still read its other keys, only the AWS keys removed (the
 * gateway re-reads it and refuses when its keys changed since the plan).
 */
export const executeConfigMap: Executor<'config-map'> = async (change, { deps, need }) => {
  const gateway = need(deps.workloads, 'Kubernetes workload');
  if (change.action === 'delete') {
    const { namespace, name } = change.before;
    await tolerate(() => gateway.deleteConfigMap(namespace, name), isNotFound);
  } else if (change.action === 'update') {
    await gateway.removeConfigMapKeys(change.before.namespace, change.before.name, change.before.keys, change.after.keys);
  }
};
