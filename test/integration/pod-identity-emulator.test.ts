// The stack's EKS Pod Identity and add-on emulation (test/harness/eks_pod_identity.py, inside
// moto) checked through the real SDK client only, against the API Reference's behaviour; then
// irsa's PodIdentityGateway (src/adapters/aws/eks.ts) against it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CreateClusterCommand,
  CreateFargateProfileCommand,
  CreateNodegroupCommand,
  CreatePodIdentityAssociationCommand,
  DeleteClusterCommand,
  DeletePodIdentityAssociationCommand,
  DescribeAddonCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
  CreateAddonCommand,
  DeleteAddonCommand,
  type CreatePodIdentityAssociationCommandInput,
} from '@aws-sdk/client-eks';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { useStack } from '../harness/availability.ts';
import { createAwsContext, type AwsContext } from '../../src/adapters/aws/clients.ts';
import type { PodIdentityGateway } from '../../src/ports.ts';
import { planAssociation, planAssociationRemoval } from '../../src/core/resources/pod-identity-association.ts';
import { planPodIdentityAgent } from '../../src/core/resources/eks-addon.ts';
import { createExecutor, StaleChangeError } from '../../src/engine/executors/index.ts';
import { findAssociation } from '../../src/engine/executors/pod-identity-association.ts';

const { stack, skip } = await useStack();
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const OTHER_ACCOUNT = '210987654321';

/** The error's name and HTTP status, as the SDK reports them. */
async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  return assert.fail('expected the call to fail');
}

describe('EKS Pod Identity emulation, through the SDK', { skip }, () => {
  let eks: EKSClient;
  const cluster = `pi-${randomBytes(3).toString('hex')}`;
  const role = (name: string, account = stack.accountId) => `arn:aws:iam::${account}:role/${name}`;
  const create = (input: Partial<CreatePodIdentityAssociationCommandInput>) =>
    eks.send(new CreatePodIdentityAssociationCommand({ clusterName: cluster, namespace: 'ns', serviceAccount: 'sa', roleArn: role('app'), ...input }));

  before(async () => {
    eks = new EKSClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials, maxAttempts: 1 });
    await eks.send(new CreateClusterCommand({ name: cluster, roleArn: role('cluster'), resourcesVpcConfig: { subnetIds: [] } }));
  });
  after(() => eks?.destroy());

  it('creates an association with an id of "a-" and 17 lowercase alphanumerics, and describes it', async () => {
    const { association } = await create({ tags: { team: 'payments' } });
    assert.match(association?.associationId ?? '', /^a-[0-9a-z]{17}$/);
    assert.equal(association?.associationArn, `arn:aws:eks:${stack.region}:${stack.accountId}:podidentityassociation/${cluster}/${association?.associationId}`);
    assert.equal(association?.disableSessionTags, false);
    const described = await eks.send(new DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId: association!.associationId }));
    assert.deepEqual(described.association?.tags, { team: 'payments' });
    assert.equal(described.association?.roleArn, role('app'));
  });

  it('refuses a second association for the same ServiceAccount: ResourceInUseException (409), no upsert', async () => {
    const error = await failure(create({ roleArn: role('other') }));
    assert.deepEqual([error.name, error.status], ['ResourceInUseException', 409]);
    const listed = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, namespace: 'ns', serviceAccount: 'sa' }));
    assert.equal(listed.associations?.length, 1);
  });

  it('an unknown cluster or association is ResourceNotFoundException (404)', async () => {
    const unknownCluster = await failure(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: `${cluster}-nope` })));
    assert.deepEqual([unknownCluster.name, unknownCluster.status], ['ResourceNotFoundException', 404]);
    const unknownId = await failure(eks.send(new DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId: 'a-00000000000000000' })));
    assert.deepEqual([unknownId.name, unknownId.status], ['ResourceNotFoundException', 404]);
    const deleteUnknown = await failure(eks.send(new DeletePodIdentityAssociationCommand({ clusterName: cluster, associationId: 'a-00000000000000000' })));
    assert.equal(deleteUnknown.name, 'ResourceNotFoundException');
  });

  it('a role in another account needs targetRoleArn: InvalidParameterException (400); with it, an external id', async () => {
    const error = await failure(create({ serviceAccount: 'cross', roleArn: role('app', OTHER_ACCOUNT) }));
    assert.deepEqual([error.name, error.status], ['InvalidParameterException', 400]);
    const { association } = await create({ serviceAccount: 'cross', targetRoleArn: role('target', OTHER_ACCOUNT) });
    assert.equal(association?.targetRoleArn, role('target', OTHER_ACCOUNT));
    assert.ok(association?.externalId, 'EKS issues an external id for a target role');
  });

  it('a session policy over 2,048 characters, or with session tags on, is InvalidParameterException', async () => {
    const policy = (length: number) => {
      const skeleton = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '' }] });
      return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'r'.repeat(length - skeleton.length) }] });
    };
    const tooLong = await failure(create({ serviceAccount: 'p1', disableSessionTags: true, policy: policy(2049) }));
    assert.equal(tooLong.name, 'InvalidParameterException');
    const withTags = await failure(create({ serviceAccount: 'p1', policy: policy(100) }));
    assert.equal(withTags.name, 'InvalidParameterException');
    const { association } = await create({ serviceAccount: 'p1', disableSessionTags: true, policy: policy(2048) });
    assert.equal(association?.policy?.length, 2048);
  });

  it('updates role, target role and session tags but not with an empty roleArn; an update that changes nothing is refused', async () => {
    const { association } = await create({ serviceAccount: 'upd' });
    const associationId = association!.associationId!;
    const empty = await failure(eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: cluster, associationId, roleArn: '' })));
    assert.equal(empty.name, 'InvalidParameterException');
    const nothing = await failure(eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: cluster, associationId })));
    assert.equal(nothing.name, 'InvalidParameterException');
    const updated = await eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: cluster, associationId, roleArn: role('v2'), targetRoleArn: role('t', OTHER_ACCOUNT) }));
    assert.equal(updated.association?.roleArn, role('v2'));
    assert.equal(updated.association?.namespace, 'ns');
    const removed = await eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: cluster, associationId, targetRoleArn: '' }));
    assert.equal(removed.association?.targetRoleArn, undefined);
    assert.equal(removed.association?.externalId, undefined);
  });

  it('lists with paging (maxResults 1–100, opaque nextToken) and exact namespace / serviceAccount filters', async () => {
    for (const bad of [0, 101]) {
      const error = await failure(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, maxResults: bad })));
      assert.equal(error.name, 'InvalidParameterException', `maxResults ${bad}`);
    }
    await create({ namespace: 'ns-b', serviceAccount: 'sa' });
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, maxResults: 2, nextToken }));
      assert.ok((page.associations?.length ?? 0) <= 2);
      seen.push(...(page.associations ?? []).map((a) => `${a.namespace}/${a.serviceAccount}`));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(pages >= 3, `${seen.length} associations in pages of 2`);
    const bySa = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, serviceAccount: 'sa' }));
    assert.deepEqual(bySa.associations?.map((a) => a.namespace).sort(), ['ns', 'ns-b']);
    // Exact, not a prefix or substring (eksctl#8484 updated the wrong association).
    const prefix = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, namespace: 'n' }));
    assert.deepEqual(prefix.associations, []);
  });

  it('the agent add-on: absent until created; its associations carry ownerArn and cannot be changed directly', async () => {
    const absent = await failure(eks.send(new DescribeAddonCommand({ clusterName: cluster, addonName: 'eks-pod-identity-agent' })));
    assert.equal(absent.name, 'ResourceNotFoundException');
    const created = await eks.send(new CreateAddonCommand({ clusterName: cluster, addonName: 'eks-pod-identity-agent' }));
    assert.equal(created.addon?.status, 'CREATING');
    const described = await eks.send(new DescribeAddonCommand({ clusterName: cluster, addonName: 'eks-pod-identity-agent' }));
    assert.equal(described.addon?.status, 'ACTIVE');
    const again = await failure(eks.send(new CreateAddonCommand({ clusterName: cluster, addonName: 'eks-pod-identity-agent' })));
    assert.equal(again.name, 'ResourceInUseException');

    await eks.send(new CreateAddonCommand({ clusterName: cluster, addonName: 'aws-ebs-csi-driver', podIdentityAssociations: [{ serviceAccount: 'ebs-csi-controller-sa', roleArn: role('ebs') }] }));
    const owned = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, namespace: 'kube-system' }));
    assert.match(owned.associations?.[0]?.ownerArn ?? '', /:addon\/.*\/aws-ebs-csi-driver\//);
    const change = await failure(eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: cluster, associationId: owned.associations![0]!.associationId, roleArn: role('mine') })));
    assert.equal(change.name, 'InvalidRequestException');
    await eks.send(new DeleteAddonCommand({ clusterName: cluster, addonName: 'aws-ebs-csi-driver' }));
    const gone = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, namespace: 'kube-system' }));
    assert.deepEqual(gone.associations, []);
  });

  it('keeps associations per account: a second account sees its own cluster only', async () => {
    const sts = new STSClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials });
    const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: role('admin', OTHER_ACCOUNT), RoleSessionName: 'irsa-test' }));
    sts.destroy();
    const other = new EKSClient({
      region: stack.region,
      endpoint: stack.awsEndpoint,
      maxAttempts: 1,
      credentials: { accessKeyId: assumed.Credentials!.AccessKeyId!, secretAccessKey: assumed.Credentials!.SecretAccessKey!, sessionToken: assumed.Credentials!.SessionToken! },
    });
    try {
      const unknown = await failure(other.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster })));
      assert.equal(unknown.name, 'ResourceNotFoundException');
    } finally {
      other.destroy();
    }
  });

  it('associations go with their cluster', async () => {
    const name = `${cluster}-gone`;
    await eks.send(new CreateClusterCommand({ name, roleArn: role('cluster'), resourcesVpcConfig: { subnetIds: [] } }));
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: name, namespace: 'ns', serviceAccount: 'sa', roleArn: role('app') }));
    await eks.send(new DeleteClusterCommand({ name }));
    await eks.send(new CreateClusterCommand({ name, roleArn: role('cluster'), resourcesVpcConfig: { subnetIds: [] } }));
    const listed = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: name }));
    assert.deepEqual(listed.associations, []);
  });
});

describe('PodIdentityGateway (src/adapters/aws/eks.ts) against the emulation', { skip }, () => {
  let aws: AwsContext;
  let gateway: PodIdentityGateway;
  let eks: EKSClient;
  const cluster = `pg-${randomBytes(3).toString('hex')}`;
  const role = (name: string, account = stack.accountId) => `arn:aws:iam::${account}:role/${name}`;

  before(async () => {
    aws = createAwsContext({ endpoint: stack.awsEndpoint, region: stack.region, maxAttempts: 1 });
    for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) process.env[key] = stack.env[key];
    gateway = await aws.podIdentity();
    eks = new EKSClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials });
    await eks.send(new CreateClusterCommand({ name: cluster, roleArn: role('cluster'), resourcesVpcConfig: { subnetIds: [] } }));
  });
  after(() => {
    aws?.destroy();
    eks?.destroy();
  });

  it('create, list (all pages), describe, update (whole value), delete (twice: the second is "already gone")', async () => {
    const created = await gateway.createAssociation({ cluster, namespace: 'ns', serviceAccount: 'sa', roleArn: role('app'), targetRoleArn: null, disableSessionTags: false, policy: null, tags: { 'irsa:managed-by': 'irsa' } });
    assert.deepEqual({ ...created, associationId: '', associationArn: '' }, {
      cluster, namespace: 'ns', serviceAccount: 'sa', associationId: '', associationArn: '', roleArn: role('app'), targetRoleArn: null,
      disableSessionTags: false, policy: null, externalId: null, ownerArn: null, tags: { 'irsa:managed-by': 'irsa' },
    });
    for (let i = 0; i < 104; i++) {
      await gateway.createAssociation({ cluster, namespace: 'bulk', serviceAccount: `sa-${i}`, roleArn: role('app'), targetRoleArn: null, disableSessionTags: false, policy: null, tags: {} });
    }
    assert.equal((await gateway.listAssociations(cluster)).length, 105, 'every page is read');
    assert.deepEqual((await gateway.listAssociations(cluster, { namespace: 'ns' })).map((a) => a.associationId), [created.associationId]);

    const updated = await gateway.updateAssociation(cluster, created.associationId, { roleArn: role('app'), targetRoleArn: role('t', OTHER_ACCOUNT), disableSessionTags: true, policy: '{"Version":"2012-10-17","Statement":[]}' });
    assert.equal(updated.targetRoleArn, role('t', OTHER_ACCOUNT));
    assert.ok(updated.externalId);
    const back = await gateway.updateAssociation(cluster, created.associationId, { roleArn: role('app'), targetRoleArn: '', disableSessionTags: false, policy: '' });
    assert.deepEqual([back.targetRoleArn, back.policy, back.disableSessionTags, back.externalId], [null, null, false, null]);
    await assert.rejects(gateway.updateAssociation(cluster, created.associationId, { roleArn: '', disableSessionTags: false }), /empty roleArn/);

    assert.equal(await gateway.deleteAssociation(cluster, created.associationId), true);
    assert.equal(await gateway.deleteAssociation(cluster, created.associationId), false);
    assert.equal(await gateway.describeAssociation(cluster, created.associationId), null);
  });

  it('add-on, Fargate profiles and nodegroups', async () => {
    assert.equal(await gateway.describeAddon(cluster, 'eks-pod-identity-agent'), null);
    await gateway.createAddon(cluster, 'eks-pod-identity-agent', { 'irsa:managed-by': 'irsa' });
    assert.equal((await gateway.describeAddon(cluster, 'eks-pod-identity-agent'))?.status, 'ACTIVE');

    await eks.send(new CreateFargateProfileCommand({
      clusterName: cluster, fargateProfileName: 'batch', podExecutionRoleArn: role('fargate'), subnets: ['subnet-1'],
      selectors: [{ namespace: 'batch', labels: { tier: 'jobs' } }],
    }));
    assert.deepEqual((await gateway.listFargateProfiles(cluster)).map((p) => [p.name, p.selectors]), [['batch', [{ namespace: 'batch', labels: { tier: 'jobs' } }]]]);

    await eks.send(new CreateNodegroupCommand({ clusterName: cluster, nodegroupName: 'win', nodeRole: role('node'), subnets: ['subnet-1'], amiType: 'WINDOWS_CORE_2022_x86_64' }));
    assert.deepEqual((await gateway.listNodegroups(cluster)).map((n) => [n.name, n.amiType]), [['win', 'WINDOWS_CORE_2022_x86_64']]);
  });
});

describe('apply: pod-identity-association and eks-addon executors against the emulation', { skip }, () => {
  let aws: AwsContext;
  let gateway: PodIdentityGateway;
  let eks: EKSClient;
  const cluster = `px-${randomBytes(3).toString('hex')}`;
  const role = (name: string) => `arn:aws:iam::${stack.accountId}:role/${name}`;
  const options = { override: false, overrideField: '--override-existing-serviceaccounts', dependsOn: [] };
  const desired = (serviceAccount: string, roleArn = role('app')) => ({ cluster, namespace: 'ns', serviceAccount, roleArn, targetRoleArn: null, disableSessionTags: false, policy: null });

  before(async () => {
    aws = createAwsContext({ endpoint: stack.awsEndpoint, region: stack.region, maxAttempts: 1 });
    gateway = await aws.podIdentity();
    eks = new EKSClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials });
    await eks.send(new CreateClusterCommand({ name: cluster, roleArn: role('cluster'), resourcesVpcConfig: { subnetIds: [] } }));
  });
  after(() => {
    aws?.destroy();
    eks?.destroy();
  });

  it('create, re-run of the same create (converges, one association), update, delete twice', async () => {
    const execute = createExecutor({ podIdentity: gateway });
    const create = planAssociation(desired('api'), null, options).change!;
    assert.deepEqual(await execute(create), { notes: [] });
    // An interrupted apply run again: the create meets ResourceInUseException and is re-planned.
    const again = await execute(create);
    assert.match(again.notes.join(), /already as planned/);
    const created = await findAssociation(gateway, { cluster, namespace: 'ns', serviceAccount: 'api' });
    assert.equal(created?.tags['irsa:managed-by'], 'irsa');
    assert.equal((await gateway.listAssociations(cluster, { serviceAccount: 'api' })).length, 1);

    const update = planAssociation(desired('api', role('v2')), created, options).change!;
    assert.equal(update.action, 'update');
    await execute(update);
    assert.equal((await findAssociation(gateway, { cluster, namespace: 'ns', serviceAccount: 'api' }))?.roleArn, role('v2'));

    const removal = planAssociationRemoval(await findAssociation(gateway, { cluster, namespace: 'ns', serviceAccount: 'api' })).change!;
    assert.equal(removal.action, 'delete');
    await execute(removal);
    assert.equal(await findAssociation(gateway, { cluster, namespace: 'ns', serviceAccount: 'api' }), null);
    assert.match((await execute(removal)).notes.join(), /already gone/);
  });

  it('someone else associates the ServiceAccount between plan and apply: stale, nothing re-pointed', async () => {
    const execute = createExecutor({ podIdentity: gateway });
    const create = planAssociation(desired('worker'), null, options).change!;
    await eks.send(new CreatePodIdentityAssociationCommand({ clusterName: cluster, namespace: 'ns', serviceAccount: 'worker', roleArn: role('theirs') }));
    await assert.rejects(execute(create), StaleChangeError);
    assert.equal((await findAssociation(gateway, { cluster, namespace: 'ns', serviceAccount: 'worker' }))?.roleArn, role('theirs'));
  });

  it('the agent add-on: created once, a second create is tolerated', async () => {
    const execute = createExecutor({ podIdentity: gateway });
    const plan = planPodIdentityAgent(cluster, null, { install: true, installField: '--install-pod-identity-agent' });
    await execute(plan.change);
    await execute(plan.change);
    assert.equal((await gateway.describeAddon(cluster, 'eks-pod-identity-agent'))?.status, 'ACTIVE');
  });
});
