// The raw floor for a converged re-plan: a minimal Node script that makes only the read calls a
// plan of the same bindings needs, with the SDKs directly, at the same concurrency. No planning,
// no rendering. Usage: node bench/raw-floor.ts <bindings.json> <concurrency>

import { readFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { EKSClient, DescribeClusterCommand } from '@aws-sdk/client-eks';
import {
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pMap from 'p-map';

interface Input { cluster: string; bindings: Array<{ namespace: string; name: string; roleName: string; policyArns: string[] }> }
const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Input;
const concurrency = Number(process.argv[3] ?? 16);

const eks = new EKSClient({});
const iam = new IAMClient({});
const sts = new STSClient({});
const kc = new KubeConfig();
kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);

const cluster = await eks.send(new DescribeClusterCommand({ name: input.cluster }));
const issuer = cluster.cluster!.identity!.oidc!.issuer!;
const { Account } = await sts.send(new GetCallerIdentityCommand({}));
const hostPath = issuer.replace(/^https:\/\//, '');
const roles = [...new Set(input.bindings.map((b) => b.roleName))];
const policies = [...new Set(input.bindings.flatMap((b) => b.policyArns))];
const namespaces = [...new Set(input.bindings.map((b) => b.namespace))];

const discovery = () =>
  new Promise<void>((resolve, reject) => {
    https.get(`${issuer}/.well-known/openid-configuration`, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
const chain = () =>
  new Promise<void>((resolve, reject) => {
    const url = new URL(issuer);
    const socket = tls.connect({ host: url.hostname, port: Number(url.port || 443) }, () => { socket.getPeerCertificate(true); socket.end(); resolve(); });
    socket.on('error', reject);
  });

await Promise.all([
  discovery().then(chain),
  iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: `arn:aws:iam::${Account}:oidc-provider/${hostPath}` })),
  iam.send(new ListRolesCommand({})),
  pMap(roles, (RoleName) => Promise.all([
    iam.send(new GetRoleCommand({ RoleName })),
    iam.send(new ListAttachedRolePoliciesCommand({ RoleName })),
    iam.send(new ListRolePoliciesCommand({ RoleName })),
  ]), { concurrency }),
  pMap(policies, (PolicyArn) => iam.send(new GetPolicyCommand({ PolicyArn })), { concurrency }),
  pMap(namespaces, (name) => core.readNamespace({ name }), { concurrency }),
  pMap(input.bindings, (b) => core.readNamespacedServiceAccount({ namespace: b.namespace, name: b.name }), { concurrency }),
]);
