// ClusterReader over @aws-sdk/client-eks: the cluster's OIDC issuer and owning account.

import { DescribeClusterCommand, ListClustersCommand } from '@aws-sdk/client-eks';
import type { ClusterInfo } from '../../core/state.ts';
import type { ClusterReader } from '../../ports.ts';
import { awsErrorName, sendCommand, type CommandSender } from './clients.ts';

export function createClusterReader(client: CommandSender, region: string): ClusterReader {
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
      let nextToken: string | undefined;
      do {
        const out = await sendCommand('eks', client, new ListClustersCommand({ nextToken, maxResults: 100 }));
        names.push(...(out.clusters ?? []));
        nextToken = out.nextToken;
      } while (nextToken);
      return names;
    },
  };
}
