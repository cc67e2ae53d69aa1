// The nodes' side of "only its role?" over @aws-sdk/client-ec2, client-eks and client-iam: managed
// nodegroups (node role, launch template), launch template MetadataOptions, and the documents of
// managed policies (what the node role and the pod's own role allow). Read-only.

import { DescribeLaunchTemplateVersionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeNodegroupCommand, paginateListNodegroups, type EKSClient } from '@aws-sdk/client-eks';
import { GetPolicyCommand, GetPolicyVersionCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { MetadataOptions } from '../../core/only-its-role.ts';
import type { LaunchTemplateRef, NodeAccessReader, NodegroupNodes } from '../../ports.ts';
import { sendCommand } from './clients.ts';
import { parsePolicyDocument } from './iam.ts';

export function createNodeAccessReader(clients: { ec2: EC2Client; eks: EKSClient; iam: IAMClient }): NodeAccessReader {
  return {
    async listNodegroups(cluster): Promise<NodegroupNodes[]> {
      const names: string[] = [];
      for await (const page of paginateListNodegroups({ client: clients.eks, pageSize: 100 }, { clusterName: cluster })) names.push(...(page.nodegroups ?? []));
      return Promise.all(
        names.sort().map(async (name): Promise<NodegroupNodes> => {
          const out = await sendCommand('eks', clients.eks, new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: name }));
          const group = out.nodegroup;
          const lt = group?.launchTemplate;
          return {
            name,
            nodeRoleArn: group?.nodeRole ?? '',
            launchTemplate: lt && (lt.id || lt.name) ? { id: lt.id ?? null, name: lt.name ?? null, version: lt.version ?? null } : null,
          };
        }),
      );
    },

    async launchTemplateMetadata(ref: LaunchTemplateRef): Promise<MetadataOptions & { version: number }> {
      // The version a nodegroup names (a number, $Latest or $Default); $Default when it names none.
      const out = await sendCommand('ec2', clients.ec2, new DescribeLaunchTemplateVersionsCommand({
        ...(ref.id ? { LaunchTemplateId: ref.id } : { LaunchTemplateName: ref.name ?? '' }),
        Versions: [ref.version ?? '$Default'],
      }));
      const version = out.LaunchTemplateVersions?.[0];
      if (!version) throw new Error(`launch template ${ref.id ?? ref.name} has no version ${ref.version ?? '$Default'}`);
      const options = version.LaunchTemplateData?.MetadataOptions;
      return {
        version: version.VersionNumber ?? 0,
        httpTokens: options?.HttpTokens ?? null,
        hopLimit: options?.HttpPutResponseHopLimit ?? null,
        httpEndpoint: options?.HttpEndpoint ?? null,
      };
    },

    async policyDocument(arn) {
      const policy = await sendCommand('iam', clients.iam, new GetPolicyCommand({ PolicyArn: arn }));
      const versionId = policy.Policy?.DefaultVersionId;
      if (!versionId) throw new Error(`policy ${arn} has no default version`);
      const version = await sendCommand('iam', clients.iam, new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }));
      return parsePolicyDocument(version.PolicyVersion?.Document ?? '{}', `policy ${arn}`);
    },
  };
}
