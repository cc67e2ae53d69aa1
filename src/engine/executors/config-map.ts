import { isNotFound } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

/** A ConfigMap is only deleted (once no workload uses it); one already gone is what was asked for. */
export const executeConfigMap: Executor<'config-map'> = async (change, { deps, need }) => {
  if (change.action !== 'delete') return;
  const { namespace, name } = change.before;
  await tolerate(() => need(deps.workloads, 'Kubernetes workload').deleteConfigMap(namespace, name), isNotFound);
};
