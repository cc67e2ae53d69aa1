// The raw floor for a fresh apply: a minimal Node script that makes only the three writes each
// binding needs — CreateRole (with its trust policy and tags), AttachRolePolicy, and a
// ServiceAccount created with its annotation — with the SDKs directly, at the same concurrency.
// No reads, no planning, no output. Usage: node bench/raw-write-floor.ts <input.json> <concurrency>

import { readFileSync } from 'node:fs';
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pMap from 'p-map';

interface Input {
  accountId: string;
  /** Issuer without scheme, as in the provider ARN. */
  issuerHostPath: string;
  bindings: Array<{ namespace: string; name: string; roleName: string; policyArns: string[] }>;
}
const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Input;
const concurrency = Number(process.argv[3] ?? 16);

const iam = new IAMClient({});
const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const host = input.issuerHostPath;

await pMap(input.bindings, async (b) => {
  const trust = {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${input.accountId}:oidc-provider/${host}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${b.namespace}:${b.name}`, [`${host}:aud`]: 'sts.amazonaws.com' } },
    }],
  };
  await Promise.all([
    (async () => {
      const created = await iam.send(new CreateRoleCommand({ RoleName: b.roleName, AssumeRolePolicyDocument: JSON.stringify(trust), Tags: [{ Key: 'owner', Value: 'floor' }] }));
      for (const PolicyArn of b.policyArns) await iam.send(new AttachRolePolicyCommand({ RoleName: b.roleName, PolicyArn }));
      return created;
    })(),
    core.createNamespacedServiceAccount({
      namespace: b.namespace,
      body: { metadata: { name: b.name, annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${input.accountId}:role/${b.roleName}` } } },
    }),
  ]);
}, { concurrency });
iam.destroy();
