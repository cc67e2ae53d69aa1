import { isAlreadyExists } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

/** A namespace is only created, and one that exists is what was asked for. */
export const executeNamespace: Executor<'namespace'> = async (change, { deps, need }) => {
  const kube = need(deps.kube, 'Kubernetes');
  if (change.action === 'create') await tolerate(() => kube.createNamespace(change.after.name), isAlreadyExists);
};
