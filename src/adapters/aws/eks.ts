// ClusterReader over @aws-sdk/client-eks: the cluster's OIDC issuer and owning account; and the
// PodIdentityGateway: EKS Pod Identity associations, add-ons, Fargate profiles and nodegroups.

import {
  CreateAddonCommand,
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeFargateProfileCommand,
  DescribeNodegroupCommand,
  DescribePodIdentityAssociationCommand,
  paginateListClusters,
  paginateListFargateProfiles,
  paginateListNodegroups,
  paginateListPodIdentityAssociations,
  UpdatePodIdentityAssociationCommand,
  type Addon,
  type EKSClient,
  type PodIdentityAssociation,
} from '@aws-sdk/client-eks';
import type { EksAddonState } from '../../core/resources/eks-addon.ts';
import type { PodIdentityAssociationState } from '../../core/resources/pod-identity-association.ts';
import type { ClusterInfo } from '../../core/state.ts';
import type { ClusterReader, FargateProfileState, NodegroupState, PodIdentityAssociationSummary, PodIdentityGateway } from '../../ports.ts';
import { awsErrorName, sendCommand } from './clients.ts';

export function createClusterReader(client: EKSClient, region: string): ClusterReader {
  return {
    async describeCluster(name): Promise<ClusterInfo | null> {
      let out;
      try {
        out = await sendCommand('eks', client, new DescribeClusterCommand({ name }));
      } catch (error) {
        if (awsErrorName(error) === 'ResourceNotFoundException') return null;
        throw error;
      }
      const cluster = out.cluster;
      if (!cluster) return null;
      const arn = cluster.arn ?? '';
      // arn:<partition>:eks:<region>:<account>:cluster/<name>
      const parts = arn.split(':');
      return {
        name: cluster.name ?? name,
        region: parts[3] || region,
        arn,
        accountId: parts[4] ?? '',
        issuerUrl: cluster.identity?.oidc?.issuer ?? null,
        endpoint: cluster.endpoint ?? null,
      };
    },

    async listClusters() {
      const names: string[] = [];
      for await (const page of paginateListClusters({ client, pageSize: 100 }, {})) names.push(...(page.clusters ?? []));
      return names;
    },
  };
}

// ---- EKS Pod Identity, add-ons, Fargate profiles and nodegroups (PodIdentityGateway) ----

const notFound = (error: unknown): boolean => awsErrorName(error) === 'ResourceNotFoundException';

function associationState(cluster: string, a: PodIdentityAssociation | undefined): PodIdentityAssociationState {
  if (!a?.associationId) throw new Error(`EKS returned an association without an id for cluster ${cluster}`);
  return {
    cluster: a.clusterName ?? cluster,
    namespace: a.namespace ?? '',
    serviceAccount: a.serviceAccount ?? '',
    associationId: a.associationId,
    associationArn: a.associationArn ?? '',
    roleArn: a.roleArn ?? '',
    // EKS omits absent fields; "" is treated as absent too.
    targetRoleArn: a.targetRoleArn || null,
    disableSessionTags: a.disableSessionTags ?? false,
    policy: a.policy || null,
    externalId: a.externalId || null,
    ownerArn: a.ownerArn || null,
    tags: a.tags ?? {},
  };
}

function addonState(cluster: string, addon: Addon | undefined, name: string): EksAddonState {
  return { cluster: addon?.clusterName ?? cluster, name: addon?.addonName ?? name, status: addon?.status ?? 'UNKNOWN', version: addon?.addonVersion ?? null };
}

export function createPodIdentityGateway(client: EKSClient): PodIdentityGateway {
  return {
    async listAssociations(cluster, filter = {}) {
      const out: PodIdentityAssociationSummary[] = [];
      const input = { clusterName: cluster, ...(filter.namespace ? { namespace: filter.namespace } : {}), ...(filter.serviceAccount ? { serviceAccount: filter.serviceAccount } : {}) };
      for await (const page of paginateListPodIdentityAssociations({ client, pageSize: 100 }, input)) {
        for (const a of page.associations ?? []) {
          if (!a.associationId) continue;
          out.push({
            cluster: a.clusterName ?? cluster,
            namespace: a.namespace ?? '',
            serviceAccount: a.serviceAccount ?? '',
            associationId: a.associationId,
            associationArn: a.associationArn ?? '',
            ownerArn: a.ownerArn || null,
          });
        }
      }
      return out;
    },

    async describeAssociation(cluster, associationId) {
      try {
        const out = await sendCommand('eks', client, new DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId }));
        return associationState(cluster, out.association);
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },

    async createAssociation(input) {
      if (!input.roleArn) throw new Error('refusing to create an association with an empty roleArn');
      const out = await sendCommand('eks', client, new CreatePodIdentityAssociationCommand({
        clusterName: input.cluster,
        namespace: input.namespace,
        serviceAccount: input.serviceAccount,
        roleArn: input.roleArn,
        ...(input.targetRoleArn ? { targetRoleArn: input.targetRoleArn } : {}),
        // Sent only when true: the API's default is false, and older endpoints reject unknown fields.
        ...(input.disableSessionTags ? { disableSessionTags: true } : {}),
        ...(input.policy ? { policy: input.policy } : {}),
        ...(Object.keys(input.tags).length > 0 ? { tags: input.tags } : {}),
      }));
      return associationState(input.cluster, out.association);
    },

    async updateAssociation(cluster, associationId, input) {
      // eksctl#8718 sent an empty roleArn on update; this adapter refuses to.
      if (!input.roleArn) throw new Error('refusing to send an empty roleArn');
      const out = await sendCommand('eks', client, new UpdatePodIdentityAssociationCommand({
        clusterName: cluster,
        associationId,
        roleArn: input.roleArn,
        disableSessionTags: input.disableSessionTags,
        ...(input.targetRoleArn !== undefined ? { targetRoleArn: input.targetRoleArn } : {}),
        ...(input.policy !== undefined ? { policy: input.policy } : {}),
      }));
      return associationState(cluster, out.association);
    },

    async deleteAssociation(cluster, associationId) {
      try {
        await sendCommand('eks', client, new DeletePodIdentityAssociationCommand({ clusterName: cluster, associationId }));
        return true;
      } catch (error) {
        if (notFound(error)) return false;
        throw error;
      }
    },

    async describeAddon(cluster, name) {
      try {
        const out = await sendCommand('eks', client, new DescribeAddonCommand({ clusterName: cluster, addonName: name }));
        return addonState(cluster, out.addon, name);
      } catch (error) {
        if (notFound(error)) return null;
        throw error;
      }
    },

    async createAddon(cluster, name, tags) {
      const out = await sendCommand('eks', client, new CreateAddonCommand({ clusterName: cluster, addonName: name, ...(Object.keys(tags).length > 0 ? { tags } : {}) }));
      return addonState(cluster, out.addon, name);
    },

    async listFargateProfiles(cluster) {
      const names: string[] = [];
      for await (const page of paginateListFargateProfiles({ client, pageSize: 100 }, { clusterName: cluster })) names.push(...(page.fargateProfileNames ?? []));
      const profiles: FargateProfileState[] = [];
      for (const name of names) {
        const out = await sendCommand('eks', client, new DescribeFargateProfileCommand({ clusterName: cluster, fargateProfileName: name }));
        const profile = out.fargateProfile;
        profiles.push({
          name,
          status: profile?.status ?? 'UNKNOWN',
          selectors: (profile?.selectors ?? []).map((selector) => ({ namespace: selector.namespace ?? '', labels: selector.labels ?? {} })),
        });
      }
      return profiles;
    },

    async listNodegroups(cluster) {
      const names: string[] = [];
      for await (const page of paginateListNodegroups({ client, pageSize: 100 }, { clusterName: cluster })) names.push(...(page.nodegroups ?? []));
      const groups: NodegroupState[] = [];
      for (const name of names) {
        const out = await sendCommand('eks', client, new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: name }));
        groups.push({ name, amiType: out.nodegroup?.amiType ?? null, status: out.nodegroup?.status ?? 'UNKNOWN' });
      }
      return groups;
    },
  };
}
