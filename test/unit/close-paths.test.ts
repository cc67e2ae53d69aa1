import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annotationNamesRole, planClosePaths, type ClosePathsInput, type NodegroupClosingView, type PodRunner } from '../../src/core/close-paths.ts';
import type { Read } from '../../src/core/only-its-role.ts';
import { parseOnly } from '../../src/commands/close-paths.ts';
import { recheckNodeRoleTrust, withoutAwsPrincipal, type NodeRoleTrustChange } from '../../src/core/resources/node-role-trust.ts';
import { recheckNodegroupMetadata, type NodegroupMetadataChange } from '../../src/core/resources/nodegroup-metadata.ts';
import type { RoleState, ServiceAccountState } from '../../src/core/state.ts';
import type { PolicyDocument } from '../../src/core/trust-policy.ts';
import { ACCOUNT, role } from './fixtures/binding.ts';

const NODE = `arn:aws:iam::${ACCOUNT}:role/node`;
const WORKER = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly', 'AmazonSSMManagedInstanceCore'].map((n) => `arn:aws:iam::aws:policy/${n}`);
const S3 = `arn:aws:iam::${ACCOUNT}:policy/app-s3`;
const s3Doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' }] };
const dynamoDoc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: '*' }] };
const grant = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${ACCOUNT}:role/k2i-*` }] };
const ec2Trust: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
const nodeTrust = (extra: unknown[] = []) => ({ Version: '2012-10-17', Statement: [{ Sid: 'kube2iam', Effect: 'Allow', Principal: { AWS: NODE }, Action: 'sts:AssumeRole' }, ...extra] }) as PolicyDocument;

const node = (overrides: Partial<RoleState> = {}): RoleState =>
  role({ arn: NODE, name: 'node', tags: {}, trustPolicy: ec2Trust, attachedPolicyArns: [...WORKER, S3], inlinePolicies: { dynamo: dynamoDoc }, ...overrides });
const appRole = (name: string, managed: string[], inline: Record<string, unknown> = {}) =>
  role({ arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, name, tags: {}, attachedPolicyArns: managed, inlinePolicies: inline });
const sa = (namespace: string, name: string, roleArn?: string): ServiceAccountState => ({ namespace, name, annotations: roleArn ? { 'eks.amazonaws.com/role-arn': roleArn } : {}, labels: {} });
const runner = (ref: string, serviceAccount: string, more: Partial<PodRunner> = {}): PodRunner => ({ ref, namespace: ref.split('/')[1]!, serviceAccount, kube2iamRole: null, hostNetwork: false, ownedByListed: false, ...more });
const group = (metadata: NodegroupClosingView['metadata'] = { value: { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled', version: 3 } }): NodegroupClosingView =>
  ({ name: 'ng-1', nodeRoleArn: NODE, launchTemplate: { id: 'lt-1', name: 'ng-lt', version: '3' }, metadata });

const a = appRole('shop-a', [S3]);
const b = appRole('shop-b', [], { 'irsa-inline': dynamoDoc });

function input(overrides: Partial<ClosePathsInput> = {}, nodeRole: RoleState = node(), roles: RoleState[] = [a, b]): ClosePathsInput {
  return {
    cluster: 'prod', region: 'eu-west-1', account: ACCOUNT,
    only: ['kube2iam', 'node-permissions', 'imds'],
    nodegroups: { value: [group()] },
    nodeRoles: new Map([[NODE, { role: { value: nodeRole }, policyDocuments: new Map<string, Read<unknown>>([[S3, { value: s3Doc }], ...WORKER.map((w) => [w, { value: { Statement: [] } }] as [string, Read<unknown>])]) }]]),
    accountRoles: { value: [nodeRole, ...roles] },
    serviceAccounts: { value: [sa('shop', 'a', a.arn), sa('shop', 'b', b.arn)] },
    runners: { value: [runner('deployment/shop/a', 'a'), runner('deployment/shop/b', 'b')] },
    irsaPolicyDocuments: new Map([[S3, { value: s3Doc }]]),
    ...overrides,
  };
}
const rows = (r: ReturnType<typeof planClosePaths>) => r.plan.changes.map((c) => `${c.action} ${c.kind} ${c.id}`);

test('two apps moved to their own roles: the node role loses S3 and DynamoDB, never a worker-node policy; IMDS closed by a new launch template version', () => {
  const result = planClosePaths(input());
  assert.deepEqual(rows(result), [
    `delete role-policy-attachment ${NODE}#${S3}`,
    `delete inline-policy ${NODE}#inline/dynamo`,
    'update nodegroup-metadata prod/nodegroup/ng-1',
  ]);
  assert.deepEqual(result.plan.blockers, []);
  assert.deepEqual(result.undecided, []);
  const imds = result.plan.changes[2]!;
  assert.ok(imds.kind === 'nodegroup-metadata' && imds.action === 'update');
  assert.deepEqual(imds.before.metadata, { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' });
  assert.deepEqual(imds.after.metadata, { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' });
  assert.equal(imds.before.version, 3);
});

test('a node agent\'s policy (SSM) is never removed, even when an IRSA role carries it too', () => {
  const ssm = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';
  const withSsm = appRole('shop-a', [S3, ssm]);
  const result = planClosePaths(input({ serviceAccounts: { value: [sa('shop', 'a', withSsm.arn), sa('shop', 'b', b.arn)] } }, node(), [withSsm, b]));
  assert.ok(!rows(result).some((r) => r.includes('AmazonSSMManagedInstanceCore')));
  assert.match(result.plan.notes.join('\n'), /node role node keeps AmazonSSMManagedInstanceCore: an agent on the node uses it/);
});

test('a policy a workload WITHOUT its own role may still use is a blocker naming that workload; nothing else blocks', () => {
  const result = planClosePaths(input({
    serviceAccounts: { value: [sa('shop', 'a', a.arn), sa('shop', 'b', b.arn), sa('batch', 'default')] },
    runners: { value: [runner('deployment/shop/a', 'a'), runner('deployment/shop/b', 'b'), runner('cronjob/batch/report', 'default')] },
  }));
  assert.equal(result.plan.blockers.length, 2);
  for (const blocker of result.plan.blockers) {
    assert.equal(blocker.code, 'node-policy-still-needed');
    assert.match(blocker.message, /cronjob\/batch\/report \(ServiceAccount default\)/);
    assert.match(blocker.fix, /irsa create-sa-role --cluster prod --region eu-west-1 -n batch --name default --workload cronjob\/report/);
  }
  assert.deepEqual(result.plan.blockers.map((b) => b.resource), [`role-policy-attachment:${NODE}#${S3}`, `inline-policy:${NODE}#inline/dynamo`]);
  // Its ServiceAccount bound through EKS Pod Identity: a role of its own, no blocker.
  const podIdentity = planClosePaths(input({
    serviceAccounts: { value: [sa('shop', 'a', a.arn), sa('shop', 'b', b.arn), sa('batch', 'default')] },
    runners: { value: [runner('deployment/shop/a', 'a'), runner('deployment/shop/b', 'b'), runner('cronjob/batch/report', 'default')] },
    podIdentityServiceAccounts: { value: ['batch/default'] },
  }));
  assert.deepEqual(podIdentity.plan.blockers, []);
  // Not read: counted as without a role (more blockers, never a removal they may need).
  const unread = planClosePaths(input({
    serviceAccounts: { value: [sa('shop', 'a', a.arn), sa('shop', 'b', b.arn), sa('batch', 'default')] },
    runners: { value: [runner('deployment/shop/a', 'a'), runner('deployment/shop/b', 'b'), runner('cronjob/batch/report', 'default')] },
    podIdentityServiceAccounts: { error: 'AccessDeniedException' },
  }));
  assert.equal(unread.plan.blockers.length, 2);
  // IMDS: the workload without a role loses the node role's credentials: said, not hidden.
  assert.match(result.plan.warnings.join('\n'), /pods without a role of their own lose the node role's credentials once IMDS is closed to them: cronjob\/batch\/report/);
});

test('a policy no IRSA role carries stays (a note); a read denied is `!` with the permission, never a removal', () => {
  const onlyA = planClosePaths(input({ serviceAccounts: { value: [sa('shop', 'a', a.arn), sa('shop', 'b')] }, runners: { value: [runner('deployment/shop/a', 'a')] } }));
  assert.deepEqual(rows(onlyA).filter((r) => r.includes('inline')), []);
  assert.match(onlyA.plan.notes.join('\n'), /node role node keeps inline dynamo: no IRSA role of prod carries its statements/);

  const denied = planClosePaths(input({ runners: { error: 'pods is forbidden' }, accountRoles: { error: 'AccessDenied' } }));
  assert.deepEqual(rows(denied), ['update nodegroup-metadata prod/nodegroup/ng-1']);
  assert.match(denied.undecided.join('\n'), /! kube2iam: the cluster's workloads and pods were not read \(pods is forbidden\): grant list on pods/);
  assert.match(denied.undecided.join('\n'), /! node-permissions: the account's roles were not read \(AccessDenied\): grant iam:GetAccountAuthorizationDetails/);

  const noNodegroups = planClosePaths(input({ nodegroups: { error: 'AccessDeniedException' } }));
  assert.deepEqual(rows(noNodegroups), []);
  assert.match(noNodegroups.undecided[0]!, /^! the nodegroups were not read \(AccessDeniedException\): grant eks:ListNodegroups/);
});

test('kube2iam: a role no pod names loses the node role from its trust (other statements as written) and the grant goes; a role still named keeps both', () => {
  const irsaStatement = { Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/x' }, Action: 'sts:AssumeRoleWithWebIdentity' };
  const denyStatement = { Effect: 'Deny', Principal: { AWS: NODE }, Action: 'sts:AssumeRole', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
  const oldA = role({ arn: `arn:aws:iam::${ACCOUNT}:role/k2i-a`, name: 'k2i-a', tags: {}, trustPolicy: nodeTrust([irsaStatement, denyStatement]) });
  const oldB = role({ arn: `arn:aws:iam::${ACCOUNT}:role/k2i-b`, name: 'k2i-b', tags: {}, trustPolicy: nodeTrust() });
  const nodeRole = node({ attachedPolicyArns: WORKER, inlinePolicies: { kube2iam: grant } });
  const base = { only: ['kube2iam' as const] };

  const inUse = planClosePaths(input({ ...base, runners: { value: [runner('pod/media/up-7f', 'default', { kube2iamRole: 'k2i-b' })] } }, nodeRole, [oldA, oldB]));
  assert.deepEqual(rows(inUse), [`update node-role-trust ${oldA.arn}`]);
  assert.match(inUse.plan.notes.join('\n'), /role k2i-b keeps its trust in node role node: still used through kube2iam by pod\/media\/up-7f/);
  assert.match(inUse.plan.notes.join('\n'), /proof: k2i-a: no workload, pod template or running pod of cluster prod carries iam.amazonaws.com\/role for it/);
  const trust = inUse.plan.changes[0]!;
  assert.ok(trust.kind === 'node-role-trust' && trust.action === 'update');
  // Only the principal leaves: the IRSA statement and the Deny stay byte for byte.
  assert.deepEqual(trust.after.trustPolicy.Statement, [irsaStatement, denyStatement]);

  const allMoved = planClosePaths(input({ ...base, runners: { value: [runner('deployment/media/up', 'up')] } }, nodeRole, [oldA, oldB]));
  // oldB names only the node role: IAM refuses an empty trust, so it is a note, and the grant still covers it.
  assert.deepEqual(rows(allMoved), [`update node-role-trust ${oldA.arn}`]);
  assert.match(allMoved.plan.notes.join('\n'), /role k2i-b trusts only node role node: removing it would leave no statement/);

  const oldB2 = role({ ...oldB, trustPolicy: nodeTrust([irsaStatement]) });
  const both = planClosePaths(input({ ...base, runners: { value: [] } }, nodeRole, [oldA, oldB2]));
  assert.deepEqual(rows(both), [`update node-role-trust ${oldA.arn}`, `update node-role-trust ${oldB2.arn}`, `delete inline-policy ${NODE}#inline/kube2iam`]);

  // Idempotent: once applied, a second plan proposes nothing.
  const after = [oldA, oldB2].map((r) => ({ ...r, trustPolicy: withoutAwsPrincipal(r.trustPolicy, NODE).document }));
  const again = planClosePaths(input({ ...base, runners: { value: [] } }, node({ attachedPolicyArns: WORKER, inlinePolicies: {} }), after));
  assert.deepEqual(rows(again), []);
});

test('--only: a comma-separated list of the three paths; anything else names the flag and the fix', () => {
  assert.deepEqual(parseOnly(undefined), ['kube2iam', 'node-permissions', 'imds']);
  assert.deepEqual(parseOnly('imds, kube2iam'), ['kube2iam', 'imds']);
  assert.throws(() => parseOnly('imds,nodes'), (error: Error & { field?: string }) => error.field === '--only' && /"nodes" is not a path irsa closes\. Use a comma-separated list of kube2iam, node-permissions, imds/.test(error.message));
  assert.throws(() => parseOnly(','), /--only: no path given/);
});

test('kube2iam annotations name a role by name, path/name or ARN', () => {
  const r = { arn: `arn:aws:iam::${ACCOUNT}:role/apps/k2i-a`, name: 'k2i-a', path: '/apps/' };
  assert.ok(annotationNamesRole('k2i-a', r));
  assert.ok(annotationNamesRole('apps/k2i-a', r));
  assert.ok(annotationNamesRole(r.arn, r));
  assert.ok(!annotationNamesRole('k2i-ab', r));
  assert.ok(!annotationNamesRole(`arn:aws:iam::${ACCOUNT}:role/k2i-b`, r));
});

test('IMDS: closed nodegroups propose nothing; EKS\'s own template or no nodegroups give the exact change as a note and `!`; hostNetwork workloads are named', () => {
  const closed = planClosePaths(input({ only: ['imds'], nodegroups: { value: [group({ value: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled', version: 2 } })] } }));
  assert.deepEqual(rows(closed), []);
  assert.deepEqual(closed.undecided, []);

  const eksOwned = planClosePaths(input({ only: ['imds'], nodegroups: { value: [{ ...group(), launchTemplate: null, metadata: null }] } }));
  assert.deepEqual(rows(eksOwned), []);
  assert.match(eksOwned.plan.notes.join('\n'), /aws ec2 modify-instance-metadata-options --region eu-west-1 --instance-id <id> --http-tokens required --http-put-response-hop-limit 1/);
  assert.match(eksOwned.undecided[0]!, /^! imds: nodegroup ng-1 has no launch template of yours/);

  const denied = planClosePaths(input({ only: ['imds'], nodegroups: { value: [group({ error: 'UnauthorizedOperation' })] } }));
  assert.match(denied.undecided[0]!, /grant ec2:DescribeLaunchTemplateVersions/);

  const host = planClosePaths(input({ only: ['imds'], runners: { value: [runner('daemonset/kube-system/agent', 'agent', { hostNetwork: true })] } }));
  assert.match(host.plan.warnings.join('\n'), /hostNetwork workloads reach IMDS whatever the hop limit, so they keep the node role's credentials: daemonset\/kube-system\/agent/);
});

test('re-checks: the node trust re-derived on an edited trust; a nodegroup moved meanwhile is stale or done', () => {
  const old = role({ arn: `arn:aws:iam::${ACCOUNT}:role/k2i-a`, name: 'k2i-a', tags: {}, trustPolicy: nodeTrust([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]) });
  const change = planClosePaths(input({ only: ['kube2iam'], runners: { value: [] } }, node({ attachedPolicyArns: WORKER, inlinePolicies: {} }), [old])).plan.changes[0] as Extract<NodeRoleTrustChange, { action: 'update' }>;
  assert.equal(recheckNodeRoleTrust(change, old.trustPolicy).verdict, 'write');
  assert.equal(recheckNodeRoleTrust(change, change.after.trustPolicy).verdict, 'done');
  const edited = nodeTrust([{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
  const rederived = recheckNodeRoleTrust(change, edited);
  assert.equal(rederived.verdict, 'rederived');
  assert.ok(rederived.verdict === 'rederived');
  assert.deepEqual(rederived.change.after.trustPolicy.Statement, [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }]);
  assert.equal(recheckNodeRoleTrust(change, null).verdict, 'stale');

  const imds = planClosePaths(input({ only: ['imds'] })).plan.changes[0] as Extract<NodegroupMetadataChange, { action: 'update' }>;
  const lt = { id: 'lt-1', name: 'ng-lt' };
  assert.equal(recheckNodegroupMetadata(imds, { launchTemplate: lt, version: 3, metadata: imds.before.metadata }).verdict, 'write');
  assert.equal(recheckNodegroupMetadata(imds, { launchTemplate: lt, version: 4, metadata: imds.before.metadata }).verdict, 'stale');
  assert.equal(recheckNodegroupMetadata(imds, { launchTemplate: lt, version: 4, metadata: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' } }).verdict, 'done');
  assert.equal(recheckNodegroupMetadata(imds, { launchTemplate: { id: 'lt-2', name: 'x' }, version: 3, metadata: imds.before.metadata }).verdict, 'stale');
  assert.equal(recheckNodegroupMetadata(imds, null).verdict, 'stale');
});

test('nodegroup-metadata apply: a new version from the one in use, the nodegroup moved; InProgress is said, not claimed; a nodegroup not closed after the update fails the run', async () => {
  const { createExecutor } = await import('../../src/engine/execute.ts');
  const change = planClosePaths(input({ only: ['imds'] })).plan.changes[0]!;
  const lt = { id: 'lt-1', name: 'ng-lt' };
  const open = { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' };
  const gateway = (status: string, after: { version: number; metadata: typeof open } ) => {
    const calls: string[] = [];
    let current = { launchTemplate: lt, version: 3, metadata: open };
    return {
      calls,
      nodegroups: {
        nodegroupMetadata: async () => current,
        createMetadataVersion: async (_t: unknown, source: number, options: unknown) => (calls.push(`create from ${source} ${JSON.stringify(options)}`), 4),
        updateNodegroupLaunchTemplate: async (_c: string, _n: string, _t: unknown, version: number) => {
          calls.push(`update to ${version}`);
          if (status === 'Successful') current = { launchTemplate: lt, ...after };
          return { id: 'u-1', status };
        },
      },
    };
  };
  const closedNow = gateway('Successful', { version: 4, metadata: { httpTokens: 'required', hopLimit: 1, httpEndpoint: 'enabled' } });
  assert.deepEqual(await createExecutor({ nodegroups: closedNow.nodegroups })(change), { notes: [] });
  assert.deepEqual(closedNow.calls, ['create from 3 {"httpTokens":"required","hopLimit":1,"httpEndpoint":"enabled"}', 'update to 4']);

  const rolling = gateway('InProgress', { version: 4, metadata: open });
  const outcome = await createExecutor({ nodegroups: rolling.nodegroups })(change);
  assert.match(outcome.notes.join('\n'), /launch template version 4 created; EKS is replacing ng-1's nodes \(update u-1\): aws eks describe-update/);

  const notClosed = gateway('Successful', { version: 4, metadata: open });
  await assert.rejects(createExecutor({ nodegroups: notClosed.nodegroups })(change), /nodegroup ng-1 does not run launch template version 4 with IMDSv2 required and hop limit 1 after the update/);
});

test('audit\'s summary: per node role reachability, excess and kube2iam leftovers; an unread node role is never "only worker-node policies"', async () => {
  const { summarizeOldPaths } = await import('../../src/core/close-paths.ts');
  const { renderAuditText } = await import('../../src/ui/audit.ts');
  const fat = input();
  const summary = summarizeOldPaths(fat, planClosePaths(fat));
  assert.deepEqual(summary.nodeRoles.map((r) => [r.name, r.nodegroups.map((g) => g.reachable), r.excess]), [['node', ['yes'], ['managed AmazonSSMManagedInstanceCore', 'managed app-s3', 'inline dynamo']]]);
  assert.deepEqual(summary.closings, ['node-permissions', 'imds']);
  const unread = input({ nodeRoles: new Map([[NODE, { role: { error: 'AccessDenied' }, policyDocuments: new Map() }]]) });
  const unreadSummary = summarizeOldPaths(unread, planClosePaths(unread));
  assert.equal(unreadSummary.nodeRoles[0]!.excess, null);
  const text = renderAuditText({ cluster: { name: 'prod' }, findings: [], bindings: [] }, unreadSummary);
  assert.match(text, /! not read: grant iam:GetRole/);
  assert.doesNotMatch(text, /✓ holds only worker-node policies/);
});

test('the node-role-trust write runs under the role\'s trust lock, like every trust write, and leaves the read-back document to the next holder', async () => {
  const { createExecutor } = await import('../../src/engine/execute.ts');
  const old = role({ arn: `arn:aws:iam::${ACCOUNT}:role/k2i-a`, name: 'k2i-a', tags: {}, trustPolicy: nodeTrust([{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }]) });
  const change = planClosePaths(input({ only: ['kube2iam'], runners: { value: [] } }, node({ attachedPolicyArns: WORKER, inlinePolicies: {} }), [old])).plan.changes[0]!;
  const events: string[] = [];
  let trust = old.trustPolicy;
  const iam = {
    getRoleSettings: async () => (events.push('getRole'), { ...old, trustPolicy: trust }),
    updateTrustPolicy: async (_name: string, document: PolicyDocument) => void (events.push('write'), (trust = document)),
  };
  let left: PolicyDocument | null = null;
  const trustLocks = {
    acquire: async (roleName: string) => {
      events.push(`lock ${roleName}`);
      return { lock: { lease: 'kube-system/x', previousDigest: null, notes: [], held: () => true, release: async (written: PolicyDocument | null) => void (events.push('release'), (left = written)) } };
    },
  };
  // Only the calls this executor makes are given (a structural subset of the ports).
  await createExecutor(Object.assign({ iam, trustLocks }) as Parameters<typeof createExecutor>[0])(change);
  assert.deepEqual(events, ['lock k2i-a', 'getRole', 'write', 'getRole', 'release']);
  assert.deepEqual(left, trust);
  assert.equal(withoutAwsPrincipal(trust, change.action === 'update' ? (change.after as { nodeRoleArn: string }).nodeRoleArn : '').changed, false);
});
