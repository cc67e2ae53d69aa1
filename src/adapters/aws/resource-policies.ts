// ResourcePolicyGateway over @aws-sdk/client-secrets-manager, @aws-sdk/client-kms and
// @aws-sdk/client-organizations, in one account (the credentials of that account's profile).

import {
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DescribeKeyCommand, GetKeyPolicyCommand, ListGrantsCommand, PutKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { DescribeOrganizationCommand, type OrganizationsClient } from '@aws-sdk/client-organizations';
import type { KmsGrant } from '../../core/access-eval.ts';
import { parsePolicyText } from '../../core/access-request.ts';
import type { ResourcePolicyGateway } from '../../ports.ts';
import { awsErrorName, sendCommand, type CommandSender } from './clients.ts';

const notFound = (error: unknown) => /^(ResourceNotFoundException|NotFoundException|NotFound)$/.test(awsErrorName(error));

async function orNull<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (notFound(error)) return null;
    throw error;
  }
}

export function createResourcePolicyGateway(
  clients: { secrets: () => Promise<SecretsManagerClient>; kms: () => Promise<KMSClient>; organizations: () => Promise<OrganizationsClient> },
  accountId: () => Promise<string>,
): ResourcePolicyGateway {
  const sm = async () => (await clients.secrets()) satisfies CommandSender;
  const kms = async () => (await clients.kms()) satisfies CommandSender;
  return {
    accountId,
    describeSecret: async (secretId) =>
      orNull(async () => {
        const out = await sendCommand('secretsmanager', await sm(), new DescribeSecretCommand({ SecretId: secretId }));
        return { arn: out.ARN ?? secretId, kmsKeyId: out.KmsKeyId ?? null };
      }),
    getSecretPolicy: async (secretArn) => {
      const out = await sendCommand('secretsmanager', await sm(), new GetResourcePolicyCommand({ SecretId: secretArn }));
      return parsePolicyText(out.ResourcePolicy ?? null);
    },
    putSecretPolicy: async (secretArn, document) => {
      await sendCommand('secretsmanager', await sm(), new PutResourcePolicyCommand({ SecretId: secretArn, ResourcePolicy: JSON.stringify(document) }));
    },
    deleteSecretPolicy: async (secretArn) => {
      await sendCommand('secretsmanager', await sm(), new DeleteResourcePolicyCommand({ SecretId: secretArn }));
    },
    describeKey: async (keyId) =>
      orNull(async () => {
        const out = await sendCommand('kms', await kms(), new DescribeKeyCommand({ KeyId: keyId }));
        const meta = out.KeyMetadata;
        return { arn: meta?.Arn ?? keyId, manager: meta?.KeyManager === 'AWS' ? ('AWS' as const) : ('CUSTOMER' as const) };
      }),
    getKeyPolicy: async (keyArn) => {
      const out = await sendCommand('kms', await kms(), new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }));
      return parsePolicyText(out.Policy ?? null);
    },
    putKeyPolicy: async (keyArn, document) => {
      await sendCommand('kms', await kms(), new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: JSON.stringify(document) }));
    },
    listGrants: async (keyArn) => {
      const grants: KmsGrant[] = [];
      let marker: string | undefined;
      do {
        const out = await sendCommand('kms', await kms(), new ListGrantsCommand({ KeyId: keyArn, ...(marker ? { Marker: marker } : {}) }));
        for (const g of out.Grants ?? []) {
          const subset = g.Constraints?.EncryptionContextSubset;
          const equals = g.Constraints?.EncryptionContextEquals;
          grants.push({
            grantId: g.GrantId ?? '',
            granteePrincipal: g.GranteePrincipal ?? '',
            operations: (g.Operations ?? []).map(String),
            ...(subset || equals ? { constraints: { ...(subset ? { encryptionContextSubset: subset } : {}), ...(equals ? { encryptionContextEquals: equals } : {}) } } : {}),
          });
        }
        marker = out.Truncated ? out.NextMarker : undefined;
      } while (marker);
      return grants;
    },
    organization: async () => {
      try {
        await sendCommand('organizations', await clients.organizations(), new DescribeOrganizationCommand({}));
        return 'member';
      } catch (error) {
        // "This account is not a member of an organization": no SCPs or RCPs apply.
        if (awsErrorName(error) === 'AWSOrganizationsNotInUseException') return 'none';
        return 'unknown';
      }
    },
  };
}
