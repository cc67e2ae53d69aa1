import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imdsReachable, isWorkerNodePolicy, onlyItsRole, type NodegroupView, type OnlyItsRoleInput, type Read } from '../../src/core/only-its-role.ts';
import type { RoleState } from '../../src/core/state.ts';
import type { SecretSummary } from '../../src/core/audit.ts';
import { ACCOUNT, PROVIDER, role } from './fixtures/binding.ts';

const NODE_ROLE = `arn:aws:iam::${ACCOUNT}:role/node`;
const WORKER = ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy', 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy', 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly'];
const S3_POLICY = `arn:aws:iam::${ACCOUNT}:policy/app-s3`;
const s3Doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' }] };
const dynamoDoc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] };

const closed = { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' };
const open = { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' };
const nodegroup = (metadata: NodegroupView['metadata'], name = 'ng-1'): NodegroupView => ({ name, nodeRoleArn: NODE_ROLE, launchTemplate: { id: 'lt-1', name: 'ng-lt', version: '1' }, metadata });

const nodeRole = (overrides: Partial<RoleState> = {}): RoleState =>
  role({ arn: NODE_ROLE, name: 'node', tags: {}, attachedPolicyArns: WORKER, inlinePolicies: {}, trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }, ...overrides });
const ownRole = role({ attachedPolicyArns: [S3_POLICY] });
const docs = (entries: Array<[string, unknown]>) => new Map<string, Read<unknown>>(entries.map(([arn, doc]) => [arn, { value: doc }]));

function input(overrides: Partial<OnlyItsRoleInput> = {}, node: RoleState = nodeRole()): OnlyItsRoleInput {
  return {
    namespace: 'payments',
    name: 'api',
    providerArn: PROVIDER,
    account: ACCOUNT,
    targetArgs: '--cluster prod',
    ownRole,
    ownPolicyDocuments: docs([[S3_POLICY, s3Doc]]),
    nodegroups: { value: [nodegroup({ value: closed })] },
    nodeRoles: new Map([[NODE_ROLE, { role: { value: node }, policyDocuments: docs([[S3_POLICY, s3Doc], ...WORKER.map((a) => [a, { Statement: [] }] as [string, unknown])]) }]]),
    hostNetwork: { value: [] },
    accountRoles: { value: [ownRole, node] },
    secrets: { value: [] },
    ...overrides,
  };
}
const status = (report: ReturnType<typeof onlyItsRole>, id: string) => report.checks.find((c) => c.id === id)!;

test('a closed cluster: every path proven absent, "only its role" ✓', () => {
  const report = onlyItsRole(input());
  assert.deepEqual(report.checks.map((c) => [c.id, c.status]), [['imds', 'pass'], ['node-permissions', 'pass'], ['node-roles', 'pass'], ['secrets', 'pass'], ['other-roles', 'pass']]);
  assert.equal(report.verdict, 'only-its-role');
  assert.deepEqual(report.paths, []);
});

test('IMDS: decided from the launch template; hostNetwork pods pass a hop limit of 1', () => {
  assert.equal(imdsReachable(closed, false).reachable, false);
  assert.equal(imdsReachable(closed, true).reachable, true);
  assert.equal(imdsReachable(open, false).reachable, true);
  assert.equal(imdsReachable({ httpTokens: 'required', hopLimit: 2, httpEndpoint: null }, false).reachable, true);
  assert.equal(imdsReachable({ httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'disabled' }, true).reachable, false);
  assert.equal(imdsReachable({ httpTokens: null, hopLimit: 1, httpEndpoint: null }, false).reachable, 'unknown');

  const found = onlyItsRole(input({ nodegroups: { value: [nodegroup({ value: open })] } }));
  assert.equal(status(found, 'imds').status, 'fail');
  assert.match(status(found, 'imds').details!.join('\n'), /nodegroup ng-1 \(node role node\): pods reach the node role through IMDS \(HttpTokens optional.*fix: require IMDSv2 with hop limit 1: a new version of ng-lt/);
  assert.equal(found.verdict, 'extra-paths');

  const host = onlyItsRole(input({ hostNetwork: { value: ['deployment/payments/agent'] } }));
  assert.equal(status(host, 'imds').status, 'fail');
  assert.match(status(host, 'imds').details!.join('\n'), /hostNetwork pods of payments\/api \(deployment\/payments\/agent\)/);
});

test('IMDS: a denied or missing read is ! with the permission, and the node role paths are never ✓ then', () => {
  const denied = onlyItsRole(input({ nodegroups: { value: [nodegroup({ error: 'AccessDenied: ec2:DescribeLaunchTemplateVersions' })] } }));
  assert.equal(status(denied, 'imds').status, 'warn');
  assert.match(status(denied, 'imds').fix!, /grant ec2:DescribeLaunchTemplateVersions/);
  const noGroups = onlyItsRole(input({ nodegroups: { error: 'not an EKS cluster (--issuer-url)' } }));
  for (const id of ['imds', 'node-permissions', 'node-roles']) assert.equal(status(noGroups, id).status, 'warn', id);
  assert.equal(noGroups.verdict, 'cannot-decide');
  const noTemplate = onlyItsRole(input({ nodegroups: { value: [{ ...nodegroup(null), launchTemplate: null }] } }));
  assert.equal(status(noTemplate, 'imds').status, 'warn');
});

test('node permissions: policies beyond worker needs, overlapping the pod\'s own role, count while the node role is reachable', () => {
  const fat = nodeRole({ attachedPolicyArns: [...WORKER, S3_POLICY], inlinePolicies: { dynamo: dynamoDoc } });
  const reachable = onlyItsRole(input({ nodegroups: { value: [nodegroup({ value: open })] }, accountRoles: { value: [ownRole, fat] } }, fat));
  const perms = status(reachable, 'node-permissions');
  assert.equal(perms.status, 'fail');
  assert.match(perms.details!.join('\n'), /node role node: managed app-s3: .*overlaps payments\/api's own role \(\(the same policy\), s3:GetObject, s3:PutObject\)/);
  assert.match(perms.details!.join('\n'), /node role node: inline dynamo: beyond what worker nodes need \(allows dynamodb:\*\)/);
  assert.ok(!perms.details!.some((d) => /AmazonEKSWorkerNodePolicy|CNI|ContainerRegistry/.test(d)), 'worker-node policies are never listed');
  // IMDS closed: the same node role is not this pod's any more.
  const closedGroup = onlyItsRole(input({ accountRoles: { value: [ownRole, fat] } }, fat));
  assert.equal(status(closedGroup, 'node-permissions').status, 'pass');
  assert.ok(isWorkerNodePolicy('arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy'));
  assert.ok(!isWorkerNodePolicy(`arn:aws:iam::${ACCOUNT}:policy/AmazonEKS_CNI_Policy`), 'a customer policy with the same name is not AWS\'s');
});

test('node roles: a kube2iam role trusting the node role, and one the node role may assume through the account', () => {
  const old = role({ arn: `arn:aws:iam::${ACCOUNT}:role/k2i-app`, name: 'k2i-app', tags: {}, trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: NODE_ROLE }, Action: 'sts:AssumeRole' }] } });
  const viaAccount = role({ arn: `arn:aws:iam::${ACCOUNT}:role/k2i-other`, name: 'k2i-other', tags: {}, trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }] } });
  const unrelated = role({ arn: `arn:aws:iam::${ACCOUNT}:role/other`, name: 'other', tags: {}, trustPolicy: viaAccount.trustPolicy });
  const node = nodeRole({ inlinePolicies: { kube2iam: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${ACCOUNT}:role/k2i-*` }] } } });
  const report = onlyItsRole(input({ nodegroups: { value: [nodegroup({ value: open })] }, accountRoles: { value: [ownRole, node, old, viaAccount, unrelated] } }, node));
  const roles = status(report, 'node-roles');
  assert.equal(roles.status, 'fail');
  assert.deepEqual(report.paths.filter((p) => p.kind === 'node-roles').map((p) => p.target), ['role k2i-app', 'role k2i-other']);
  assert.match(roles.details!.join('\n'), /role k2i-app: its trust names node role node/);
  assert.match(roles.details!.join('\n'), /role k2i-other: its trust admits the account and node's policies allow sts:AssumeRole on it/);
  // Closed IMDS: the roles still trust the node role, but this pod cannot reach it.
  assert.equal(status(onlyItsRole(input({ accountRoles: { value: [ownRole, node, old, viaAccount] } }, node)), 'node-roles').status, 'pass');
});

test('Secrets: AWS keys the ServiceAccount may read, as the apiserver answers; a denied review is !', () => {
  const secret = (name: string, keys: string[]): SecretSummary => ({ namespace: 'payments', name, type: 'Opaque', keys, accessKeyIds: [] });
  const keys = secret('aws-keys', ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
  const found = onlyItsRole(input({ secrets: { value: [{ secret: keys, readable: { value: true } }, { secret: secret('tls', ['tls.crt']), readable: { value: true } }] } }));
  assert.equal(status(found, 'secrets').status, 'fail');
  assert.deepEqual(found.paths.map((p) => p.target), ['Secret payments/aws-keys']);
  const denied = onlyItsRole(input({ secrets: { value: [{ secret: keys, readable: { value: false } }] } }));
  assert.equal(status(denied, 'secrets').status, 'pass');
  assert.match(status(denied, 'secrets').observed, /1 Secret with AWS keys, none readable by payments\/api/);
  const noReview = onlyItsRole(input({ secrets: { value: [{ secret: keys, readable: { error: 'forbidden' } }] } }));
  assert.equal(status(noReview, 'secrets').status, 'warn');
  assert.match(status(noReview, 'secrets').fix!, /subjectaccessreviews/);
  assert.equal(status(onlyItsRole(input({ secrets: { error: 'forbidden' } })), 'secrets').status, 'warn');
});

test('other roles: a wildcard trust admits the ServiceAccount; a role for another one does not', () => {
  const wide = role({ arn: `arn:aws:iam::${ACCOUNT}:role/wide`, name: 'wide', tags: {}, trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { [`${PROVIDER.split('oidc-provider/')[1]}:sub`]: 'system:serviceaccount:payments:*' } } }] } });
  const other = role({ arn: `arn:aws:iam::${ACCOUNT}:role/other`, name: 'other', tags: {}, subjects: ['system:serviceaccount:payments:worker'] });
  const report = onlyItsRole(input({ accountRoles: { value: [ownRole, wide, other] } }));
  const check = status(report, 'other-roles');
  assert.equal(check.status, 'fail');
  assert.deepEqual(report.paths.map((p) => p.target), ['role wide']);
  assert.match(check.details![0]!, /statement 1 \(kept as written\) still admits system:serviceaccount:payments:api with any audience/);
  assert.equal(status(onlyItsRole(input({ accountRoles: { error: 'AccessDenied' } })), 'other-roles').status, 'warn');
});

test('node permissions and node roles: a denied read of the reachable node role or of the account\'s roles is ! with the permission, never ✓', () => {
  const openGroups = { nodegroups: { value: [nodegroup({ value: open })] } };
  const nodeDenied = onlyItsRole(input({ ...openGroups, nodeRoles: new Map([[NODE_ROLE, { role: { error: 'AccessDenied: iam:GetRole' }, policyDocuments: new Map() }]]), accountRoles: { value: [ownRole] } }));
  const perms = status(nodeDenied, 'node-permissions');
  assert.equal(perms.status, 'warn');
  assert.match(perms.fix!, /grant iam:GetRole, iam:ListAttachedRolePolicies, iam:ListRolePolicies, iam:GetRolePolicy/);
  const rolesDenied = onlyItsRole(input({ ...openGroups, accountRoles: { error: 'AccessDenied' } }));
  const roles = status(rolesDenied, 'node-roles');
  assert.equal(roles.status, 'warn');
  assert.match(roles.observed, /the account's roles not read \(AccessDenied\): grant iam:GetAccountAuthorizationDetails/);
  assert.notEqual(rolesDenied.verdict, 'only-its-role');
});
