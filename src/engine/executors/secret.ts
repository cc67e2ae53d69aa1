import { isNotFound } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

/** A Secret is only deleted (once no workload uses it); one already gone is what was asked for. */
export const executeSecret: Executor<'secret'> = async (change, { deps, need }) => {
  const [namespace, name] = change.id.split('/') as [string, string];
  if (change.action === 'delete') await tolerate(() => need(deps.workloads, 'Kubernetes workload').deleteSecret(namespace, name), isNotFound);
};
