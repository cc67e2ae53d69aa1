import { recheckOidcProvider } from '../../core/recheck.ts';
import { isAlreadyExists, isNotFound } from '../retry.ts';
import { difference, tolerate, type Executor } from './types.ts';

export const executeOidcProvider: Executor<'oidc-provider'> = async (change, { deps, need, decide, retry }) => {
  const iam = need(deps.iam, 'IAM');
  if (change.action === 'create') {
    const { after } = change;
    await tolerate(() => iam.createOidcProvider({ url: after.url, clientIds: after.clientIds, thumbprints: after.thumbprints, tags: after.tags }), isAlreadyExists);
  } else if (change.action === 'update') {
    const current = decide(recheckOidcProvider(change, await iam.getOidcProvider(change.id)));
    if (!current) return;
    const { before, after } = current;
    if (JSON.stringify([...before.thumbprints].sort()) !== JSON.stringify([...after.thumbprints].sort())) {
      await retry(() => iam.updateOidcProviderThumbprints(change.id, after.thumbprints));
    }
    for (const clientId of difference(after.clientIds, before.clientIds)) {
      await retry(() => iam.addOidcProviderClientId(change.id, clientId));
    }
  } else if (change.action === 'delete') {
    await tolerate(() => iam.deleteOidcProvider(change.id), isNotFound);
  }
};
