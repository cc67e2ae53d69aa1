// Bulk role reads against moto: listRoleDetails (GetAccountAuthorizationDetails Filter=Role plus
// ListRoles) must return, for every role, exactly what the per-role getRole returns.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreatePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { useStack } from '../harness/availability.ts';
import { createAwsContext, type AwsContext } from '../../src/adapters/aws/clients.ts';
import { createCallObserver, type CountingObserver } from '../../src/adapters/verbose.ts';
import type { PolicyDocument } from '../../src/core/trust-policy.ts';
import type { IamGateway } from '../../src/ports.ts';

const { stack, skip } = await useStack();

describe('listRoleDetails against moto', { skip }, () => {
  let observer: CountingObserver;
  let aws: AwsContext;
  let iam: IamGateway;
  let boundaryArn: string;
  let customerPolicyArn: string;

  before(async () => {
    await stack.resetAws();
    for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED']) {
      process.env[key] = stack.env[key];
    }
    observer = createCallObserver();
    aws = createAwsContext({ observer });
    iam = await aws.iam();
    const raw = new IAMClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    try {
      const document = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] });
      boundaryArn = (await raw.send(new CreatePolicyCommand({ PolicyName: 'bulk-boundary', PolicyDocument: document('s3:*') }))).Policy!.Arn!;
      customerPolicyArn = (await raw.send(new CreatePolicyCommand({ PolicyName: 'bulk-customer', Path: '/team/', PolicyDocument: document('sqs:*') }))).Policy!.Arn!;
    } finally {
      raw.destroy();
    }

    const provider = `arn:aws:iam::${stack.accountId}:oidc-provider/oidc.example.com/id/BULK`;
    const trust = (ns: string, name: string): PolicyDocument => ({
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { 'oidc.example.com/id/BULK:sub': `system:serviceaccount:${ns}:${name}`, 'oidc.example.com/id/BULK:aud': 'sts.amazonaws.com' } },
      }],
    });
    // Everything getRole reads, in every combination the planner meets.
    await iam.createRole({
      name: 'bulk-full', path: '/irsa/team/', trustPolicy: trust('apps', 'web'), description: 'all of it: tags, boundary, inline, managed',
      maxSessionDuration: 7200, permissionsBoundary: boundaryArn, tags: { 'irsa.io/managed-by': 'irsa', team: 'a b+c/%' },
    });
    await iam.attachPolicy('bulk-full', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess');
    await iam.attachPolicy('bulk-full', customerPolicyArn);
    // A literal % and + in a document: URL decoding must not mangle them.
    await iam.putInlinePolicy('bulk-full', 'reads', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket-a/100% +x/*' }] });
    await iam.putInlinePolicy('bulk-full', 'queues', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: '*' }] });
    await iam.createRole({ name: 'bulk-bare', path: '/', trustPolicy: trust('apps', 'bare'), description: '', maxSessionDuration: 3600, permissionsBoundary: null, tags: {} });
    await iam.createRole({ name: 'bulk-inline', path: '/irsa/', trustPolicy: trust('ops', 'inline'), description: 'inline only', maxSessionDuration: 43200, permissionsBoundary: null, tags: {} });
    await iam.putInlinePolicy('bulk-inline', 'only', { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });
    await iam.createRole({ name: 'bulk-boundary', path: '/other/', trustPolicy: trust('ops', 'bounded'), description: 'boundary and tags', maxSessionDuration: 3600, permissionsBoundary: boundaryArn, tags: { owner: 'ops' } });
    await iam.attachPolicy('bulk-boundary', customerPolicyArn);
  });
  after(() => aws?.destroy());

  it('returns for each role exactly what getRole returns', async () => {
    const listed = await iam.listRoleDetails();
    const names = ['bulk-bare', 'bulk-boundary', 'bulk-full', 'bulk-inline'];
    assert.deepEqual(listed.map((r) => r.name).sort(), names);
    for (const name of names) {
      const single = await iam.getRole(name);
      assert.ok(single, name);
      assert.deepEqual(listed.find((r) => r.name === name), single, name);
    }
    // Not trivially equal: the seeded details are really there.
    const full = listed.find((r) => r.name === 'bulk-full')!;
    assert.equal(full.permissionsBoundary, boundaryArn);
    assert.equal(full.maxSessionDuration, 7200);
    assert.equal(full.description, 'all of it: tags, boundary, inline, managed');
    assert.deepEqual(full.tags, { 'irsa.io/managed-by': 'irsa', team: 'a b+c/%' });
    assert.deepEqual([...full.attachedPolicyArns].sort(), ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', customerPolicyArn].sort());
    assert.deepEqual(Object.keys(full.inlinePolicies).sort(), ['queues', 'reads']);
    assert.equal((full.inlinePolicies['reads'] as { Statement: Array<{ Resource: string }> }).Statement[0]!.Resource, 'arn:aws:s3:::bucket-a/100% +x/*');
    assert.deepEqual(full.trustPolicy, (await iam.getRole('bulk-full'))!.trustPolicy);
  });

  it('filters by path prefix like ListRoles does', async () => {
    assert.deepEqual((await iam.listRoleDetails('/irsa/')).map((r) => r.name).sort(), ['bulk-full', 'bulk-inline']);
    assert.deepEqual((await iam.listRoleDetails('/irsa/team/')).map((r) => r.name), ['bulk-full']);
    assert.deepEqual(await iam.listRoleDetails('/nothing/'), []);
  });

  it('costs one GetAccountAuthorizationDetails and one ListRoles call for a page of roles', async () => {
    const before = observer.counts();
    await iam.listRoleDetails();
    const after = observer.counts();
    const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
    assert.equal(delta('iam GetAccountAuthorizationDetails'), 1);
    assert.equal(delta('iam ListRoles'), 1);
    assert.equal(delta('iam GetRole'), 0);
    assert.equal(delta('iam ListAttachedRolePolicies'), 0);
  });
});
