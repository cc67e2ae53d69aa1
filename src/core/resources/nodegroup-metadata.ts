// The `nodegroup-metadata` kind: a managed nodegroup's instance metadata options, closed (irsa
// close-paths, issue 23). A pod reaches the node role through IMDS unless the node requires
// IMDSv2 (HttpTokens required) with HttpPutResponseHopLimit 1: the pod's network namespace adds a
// hop, so the token's answer never reaches it. Managed nodegroups take MetadataOptions from their
// launch template; the change is a new version of that template (based on the version in use, only
// MetadataOptions changed) and the nodegroup moved to it (UpdateNodegroupVersion), after which EKS
// replaces the nodes. https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html
// https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupVersion.html

import type { MetadataOptions } from '../only-its-role.ts';
import type { ChangeOf } from '../plan.ts';
import type { Recheck } from '../recheck.ts';
import type { KindSpec } from './kind.ts';

export interface NodegroupMetadataValue {
  cluster: string;
  nodegroup: string;
  nodeRoleArn: string;
  launchTemplate: { id: string | null; name: string | null };
  /** The launch template version the nodegroup runs; 'new' in `after`: the version apply creates. */
  version: number | 'new';
  metadata: MetadataOptions;
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** A managed nodegroup's IMDS options through its launch template; id = `<cluster>/nodegroup/<name>`. */
    'nodegroup-metadata': NodegroupMetadataValue;
  }
}

export type NodegroupMetadataChange = ChangeOf<'nodegroup-metadata'>;

export const nodegroupMetadataKind: KindSpec<'nodegroup-metadata'> = {
  kind: 'nodegroup-metadata',
  api: 'aws',
  // A fresh plan proposes nothing only when the nodegroup's template requires IMDSv2 with hop limit 1.
  absentFromFreshPlan: () => ({ verdict: 'done' }),
};

/** What closes IMDS to pods: IMDSv2 required, hop limit 1; the endpoint stays as it was (enabled by default). */
export function closedMetadata(current: MetadataOptions): MetadataOptions {
  return { httpTokens: 'required', hopLimit: 1, httpEndpoint: current.httpEndpoint ?? 'enabled' };
}

export const nodegroupChangeId = (cluster: string, nodegroup: string) => `${cluster}/nodegroup/${nodegroup}`;

type Update = Extract<NodegroupMetadataChange, { action: 'update' }>;

export function planNodegroupMetadata(input: Omit<NodegroupMetadataValue, 'version'> & { version: number }, reason: string): Update {
  const before: NodegroupMetadataValue = { ...input };
  return {
    kind: 'nodegroup-metadata', id: nodegroupChangeId(input.cluster, input.nodegroup), action: 'update', dependsOn: [], reason,
    before, after: { ...before, version: 'new', metadata: closedMetadata(input.metadata) },
  };
}

const closed = (m: MetadataOptions) => m.httpEndpoint === 'disabled' || (m.httpTokens === 'required' && m.hopLimit !== null && m.hopLimit <= 1);

/**
 * Just before the write, on the nodegroup as it is now: still on the planned version → write;
 * on another version that already closes IMDS → done; on another version that does not, or on
 * another launch template, or gone → stale (someone changed the nodes since the plan).
 */
export function recheckNodegroupMetadata(
  change: Update,
  fresh: { launchTemplate: { id: string | null; name: string | null }; version: number; metadata: MetadataOptions } | null,
): Recheck<Update> {
  const { nodegroup, launchTemplate, version } = change.before;
  if (!fresh) return { verdict: 'stale', reason: `nodegroup ${nodegroup} or its launch template is gone since the plan was made` };
  const sameTemplate = (launchTemplate.id !== null && fresh.launchTemplate.id === launchTemplate.id) || (launchTemplate.id === null && fresh.launchTemplate.name === launchTemplate.name);
  if (!sameTemplate) return { verdict: 'stale', reason: `nodegroup ${nodegroup} runs another launch template since the plan was made` };
  if (closed(fresh.metadata)) return { verdict: 'done', note: `nodegroup ${nodegroup} already requires IMDSv2 with hop limit 1 (launch template version ${fresh.version})` };
  if (fresh.version !== version) return { verdict: 'stale', reason: `nodegroup ${nodegroup} moved to launch template version ${fresh.version} since the plan (version ${version})` };
  return { verdict: 'write', change };
}
