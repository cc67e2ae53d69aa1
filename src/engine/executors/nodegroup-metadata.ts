// Executes nodegroup-metadata changes: a new launch template version from the one the nodegroup
// runs, with IMDSv2 required and hop limit 1, then the nodegroup moved to it. Re-checked on the
// nodegroup as it is just before (core/resources/nodegroup-metadata.ts), and read back after: a
// nodegroup not on a version that closes IMDS is an error, never exit 0.

import { recheckNodegroupMetadata } from '../../core/resources/nodegroup-metadata.ts';
import { StaleChangeError, type Executor } from './types.ts';

export const executeNodegroupMetadata: Executor<'nodegroup-metadata'> = async (change, { deps, need, decide, retry, notes }) => {
  if (change.action !== 'update') return;
  const nodegroups = need(deps.nodegroups, 'EKS nodegroups');
  const { cluster, nodegroup, launchTemplate } = change.before;
  const current = decide(recheckNodegroupMetadata(change, await nodegroups.nodegroupMetadata(cluster, nodegroup)));
  if (!current) return;
  const source = current.before.version;
  if (source === 'new') throw new StaleChangeError(`nodegroup ${nodegroup}: the plan names no launch template version to start from; run irsa close-paths again`);
  const version = await retry(() => nodegroups.createMetadataVersion(launchTemplate, source, current.after.metadata));
  const update = await retry(() => nodegroups.updateNodegroupLaunchTemplate(cluster, nodegroup, launchTemplate, version));
  // EKS answers InProgress while it replaces the nodes: the nodegroup names the new version once
  // that is done. Said, not claimed as done: doctor shows ✓ only once it reads the new version.
  if (update.status === 'InProgress') {
    notes.push(`launch template version ${version} created; EKS is replacing ${nodegroup}'s nodes (update ${update.id}): aws eks describe-update --name ${cluster} --nodegroup-name ${nodegroup} --update-id ${update.id}`);
    return;
  }
  const after = await nodegroups.nodegroupMetadata(cluster, nodegroup);
  const m = after?.metadata;
  if (!after || !m || !(m.httpEndpoint === 'disabled' || (m.httpTokens === 'required' && m.hopLimit === 1))) {
    throw new StaleChangeError(`nodegroup ${nodegroup} does not run launch template version ${version} with IMDSv2 required and hop limit 1 after the update (it runs version ${after?.version ?? 'unknown'}). Check the nodegroup's update in the EKS console and run irsa close-paths again.`);
  }
};
