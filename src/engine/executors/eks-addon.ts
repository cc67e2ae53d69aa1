import { isAlreadyExists } from '../retry.ts';
import { tolerate, type Executor } from './types.ts';

/** An add-on is only created (the Pod Identity Agent); one that exists is what was asked for. */
export const executeEksAddon: Executor<'eks-addon'> = async (change, { deps, need }) => {
  const gateway = need(deps.podIdentity, 'EKS Pod Identity');
  if (change.action === 'create') {
    await tolerate(() => gateway.createAddon(change.after.cluster, change.after.name, { 'irsa:managed-by': 'irsa' }), isAlreadyExists);
  }
};
