// The nodes' side of "only its role?" over @aws-sdk/client-ec2, client-eks and client-iam: managed
// nodegroups (node role, launch template), launch template MetadataOptions, and the documents of
// managed policies (what the node role and the pod's own role allow). Read-only.

import { CreateLaunchTemplateVersionCommand, DescribeLaunchTemplateVersionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeNodegroupCommand, paginateListNodegroups, UpdateNodegroupVersionCommand, type EKSClient } from '@aws-sdk/client-eks';
import { GetPolicyCommand, GetPolicyVersionCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { MetadataOptions } from '../../core/only-its-role.ts';
import type { LaunchTemplateRef, NodeAccessReader, NodegroupGateway, NodegroupNodes } from '../../ports.ts';
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

/** The writes of `irsa close-paths`: a launch template version with IMDS closed, and the nodegroup moved to it. */
export function createNodegroupGateway(clients: { ec2: EC2Client; eks: EKSClient }): NodegroupGateway {
  const templateParams = (t: { id: string | null; name: string | null }) => (t.id ? { LaunchTemplateId: t.id } : { LaunchTemplateName: t.name ?? '' });
  const version = async (t: { id: string | null; name: string | null }, v: string) => {
    const out = await sendCommand('ec2', clients.ec2, new DescribeLaunchTemplateVersionsCommand({ ...templateParams(t), Versions: [v] }));
    return out.LaunchTemplateVersions?.[0] ?? null;
  };
  return {
    async nodegroupMetadata(cluster, nodegroup) {
      let group;
      try {
        group = (await sendCommand('eks', clients.eks, new DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }))).nodegroup;
      } catch (error) {
        if ((error as { name?: string }).name === 'ResourceNotFoundException') return null;
        throw error;
      }
      const lt = group?.launchTemplate;
      if (!lt || !(lt.id || lt.name)) return null;
      const template = { id: lt.id ?? null, name: lt.name ?? null };
      const found = await version(template, lt.version ?? '$Default');
      if (!found) return null;
      const options = found.LaunchTemplateData?.MetadataOptions;
      return {
        launchTemplate: template,
        version: found.VersionNumber ?? 0,
        metadata: { httpTokens: options?.HttpTokens ?? null, hopLimit: options?.HttpPutResponseHopLimit ?? null, httpEndpoint: options?.HttpEndpoint ?? null },
      };
    },

    async createMetadataVersion(template, sourceVersion, options) {
      // MetadataOptions given in LaunchTemplateData replaces the inherited one whole: carry its other fields over.
      const source = await version(template, String(sourceVersion));
      const inherited = source?.LaunchTemplateData?.MetadataOptions ?? {};
      const out = await sendCommand('ec2', clients.ec2, new CreateLaunchTemplateVersionCommand({
        ...templateParams(template),
        SourceVersion: String(sourceVersion),
        VersionDescription: 'irsa close-paths: IMDSv2 required, hop limit 1',
        LaunchTemplateData: {
          MetadataOptions: {
            ...(inherited.HttpProtocolIpv6 ? { HttpProtocolIpv6: inherited.HttpProtocolIpv6 } : {}),
            ...(inherited.InstanceMetadataTags ? { InstanceMetadataTags: inherited.InstanceMetadataTags } : {}),
            HttpTokens: options.httpTokens === 'required' ? 'required' : 'optional',
            ...(options.hopLimit !== null ? { HttpPutResponseHopLimit: options.hopLimit } : {}),
            ...(options.httpEndpoint === 'disabled' || options.httpEndpoint === 'enabled' ? { HttpEndpoint: options.httpEndpoint } : {}),
          },
        },
      }));
      const number = out.LaunchTemplateVersion?.VersionNumber;
      if (number === undefined) throw new Error(`CreateLaunchTemplateVersion on ${template.id ?? template.name} returned no version number`);
      return number;
    },

    async updateNodegroupLaunchTemplate(cluster, nodegroup, template, v) {
      const out = await sendCommand('eks', clients.eks, new UpdateNodegroupVersionCommand({
        clusterName: cluster,
        nodegroupName: nodegroup,
        launchTemplate: { ...(template.id ? { id: template.id } : { name: template.name ?? '' }), version: String(v) },
      }));
      if (out.update?.status === 'Failed' || out.update?.status === 'Cancelled') {
        throw new Error(`UpdateNodegroupVersion of ${nodegroup}: ${out.update.status}${out.update.errors?.length ? ` (${out.update.errors.map((e) => e.errorMessage).join('; ')})` : ''}`);
      }
      return { id: out.update?.id ?? '', status: out.update?.status ?? 'unknown' };
    },
  };
}
