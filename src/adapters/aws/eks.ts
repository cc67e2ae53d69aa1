// ClusterReader over @aws-sdk/client-eks: the cluster's OIDC issuer and owning account.

import { DescribeClusterCommand, paginateListClusters, type EKSClient } from '@aws-sdk/client-eks';
import type { ClusterInfo } from '../../core/state.ts';
import type { ClusterReader } from '../../ports.ts';
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
