// The raw floor for `irsa migrate --to pod-identity`: a minimal Node script that makes only the
// writes each ServiceAccount's migration needs — UpdateAssumeRolePolicy (the pods.eks statement
// beside the IRSA one), CreatePodIdentityAssociation, then UpdateAssumeRolePolicy (the IRSA
// statement gone) and a PATCH of the ServiceAccount (the role-arn annotation gone) — with the SDKs
// directly, at irsa migrate's concurrency. No reads, no proof, no lock, no output.
// Usage: node bench/raw-migration-floor.ts <input.json> <concurrency>

import { readFileSync } from 'node:fs';
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pMap from 'p-map';

interface Input {
  accountId: string;
  clusterName: string;
  clusterArn: string;
  /** Issuer without scheme, as in the provider ARN. */
  issuerHostPath: string;
  bindings: Array<{ namespace: string; name: string; roleName: string }>;
}
const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Input;
const concurrency = Number(process.argv[3] ?? 8);

const iam = new IAMClient({});
const eks = new EKSClient({});
const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);
const host = input.issuerHostPath;

await pMap(input.bindings, async (b) => {
  const irsaStatement = {
    Effect: 'Allow',
    Principal: { Federated: `arn:aws:iam::${input.accountId}:oidc-provider/${host}` },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${b.namespace}:${b.name}`, [`${host}:aud`]: 'sts.amazonaws.com' } },
  };
  const podsEks = {
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: { 'aws:SourceAccount': input.accountId, 'aws:RequestTag/kubernetes-namespace': b.namespace, 'aws:RequestTag/kubernetes-service-account': b.name },
      ArnEquals: { 'aws:SourceArn': input.clusterArn },
    },
  };
  const trust = (...Statement: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement });
  await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: b.roleName, PolicyDocument: trust(irsaStatement, podsEks) }));
  await eks.send(new CreatePodIdentityAssociationCommand({
    clusterName: input.clusterName, namespace: b.namespace, serviceAccount: b.name,
    roleArn: `arn:aws:iam::${input.accountId}:role/${b.roleName}`, tags: { 'irsa:managed-by': 'floor' },
  }));
  await Promise.all([
    iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: b.roleName, PolicyDocument: trust(podsEks) })),
    // JSON patch (the client's default content type): the annotation removed.
    core.patchNamespacedServiceAccount({ namespace: b.namespace, name: b.name, body: [{ op: 'remove', path: '/metadata/annotations/eks.amazonaws.com~1role-arn' }] }),
  ]);
}, { concurrency });
iam.destroy();
eks.destroy();
