// Bulk reads against the local stack: listRoleDetails (GetAccountAuthorizationDetails Filter=Role
// plus ListRoles) returns, for every role, exactly what the per-role getRole returns; a converged
// re-plan makes a fixed number of calls however many bindings it covers; and the plan is the same
// whichever way roles and ServiceAccounts are read.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreatePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { irsa, kubectl } from './helpers/cli.ts';
import { createCommandContext } from '../../src/commands/context.ts';
import { parseGlobals } from '../../src/commands/globals.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { readAndPlanDeclarative } from '../../src/engine/declarative.ts';
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

// ---- declarative reads: calls per binding, and the same plan either way -------------------------

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const SQS_READ = 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess';
const dir = mkdtempSync(join(tmpdir(), 'irsa-bulk-'));
let fileCount = 0;

interface Binding { namespace: string; name: string; [key: string]: unknown }

function writeConfig(bindings: Binding[]): string {
  const file = join(dir, `irsa-${++fileCount}.yaml`);
  writeFileSync(file, stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings }));
  return file;
}

/** n bindings in one namespace: pairs sharing a role, an inline policy, a role-only binding. */
function bindings(ns: string, n: number): Binding[] {
  return Array.from({ length: n }, (_, i) => {
    const binding: Binding = { namespace: ns, name: `svc-${i}`, managedPolicies: [S3_READ] };
    if (i < 4) binding['roleName'] = `${ns}-shared-${Math.floor(i / 2)}`;
    if (i === 5) binding['inlinePolicies'] = { orders: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::orders/*' }] } };
    if (i === 6) binding['roleOnly'] = true;
    return binding;
  });
}

/** Every call but the thumbprint check's TLS ones (not API calls). */
const apiCalls = (calls: Record<string, number>) => Object.fromEntries(Object.entries(calls).filter(([name]) => !name.startsWith('tls ')));
const perBinding = (calls: Record<string, number>, prefix: (name: string) => boolean, n: number) =>
  Object.entries(calls).filter(([name]) => prefix(name)).reduce((sum, [, count]) => sum + count, 0) / n;

describe('declarative plans read in bulk', { skip }, () => {
  before(() => stack.resetAws());

  for (const n of [20, 200]) {
    it(`a converged re-plan of ${n} bindings makes a fixed number of calls, whatever the count`, async () => {
      const ns = `bulk-${n}-${process.pid}`;
      await kubectl(stack, ['create', 'namespace', ns]);
      const file = writeConfig(bindings(ns, n));
      const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
      assert.equal(applied.code, 0, applied.stdout + applied.stderr);
      const replan = await irsa(stack, ['plan', '-f', file, '-o', 'json', '--detailed-exitcode']);
      assert.equal(replan.code, 0, replan.stdout + replan.stderr);
      assert.deepEqual(apiCalls(replan.calls), {
        'eks DescribeCluster': 1,
        'iam GetAccountAuthorizationDetails': 1,
        'iam GetOpenIDConnectProvider': 1,
        'iam GetPolicy': 1,
        'iam ListRoles': 1,
        'k8s GET namespaces': 1,
        // The cluster check: the API server's own issuer, once (commands/context.ts).
        'k8s GET openid-configuration': 1,
        'k8s LIST serviceaccounts': 1,
        'sts GetCallerIdentity': 1,
      });
      const aws = perBinding(replan.calls, (name) => /^(iam|sts|eks) /.test(name), n);
      const k8s = perBinding(replan.calls, (name) => name.startsWith('k8s '), n);
      assert.equal(aws, 6 / n);
      assert.equal(k8s, 3 / n);
      assert.ok(aws <= 0.3, `${aws} AWS calls per binding`);
    });
  }

  it('bulk and per-role reads, LIST and GET, give the same plan (converged, drifted, pruned)', async () => {
    const ns = `same-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const all = bindings(ns, 12);
    assert.equal((await irsa(stack, ['apply', '-f', writeConfig(all), '--approve'])).code, 0);
    // Drift and an orphan: one binding edited, two dropped from the file (irsa-owned, so prune candidates).
    const edited = all.slice(0, 10).map((b) => (b.name === 'svc-8' ? { ...b, managedPolicies: [SQS_READ] } : b));
    await kubectl(stack, ['annotate', 'sa', 'svc-9', '-n', ns, 'eks.amazonaws.com/role-arn=arn:aws:iam::123456789012:role/someone-else', '--overwrite']);
    const config = loadConfigFile(writeConfig(edited));
    // NODE_EXTRA_CA_CERTS (in stack.env) is read at start-up only: the CA goes in as --ca-bundle would.
    const ctx = createCommandContext(parseGlobals({ region: stack.region, kubeconfig: stack.kubeconfigPath }), { caBundle: stack.caCertPath });
    const saved = { ...process.env };
    Object.assign(process.env, stack.env);
    try {
      const iam = await ctx.iam();
      const deps = { region: stack.region, clusters: ctx.clusters, iam, kube: ctx.kube, resolveThumbprints: ctx.resolveThumbprints, concurrency: 8 };
      for (const prune of [false, true]) {
        const automatic = await readAndPlanDeclarative(config, deps, { prune });
        const bulk = await readAndPlanDeclarative(config, { ...deps, reads: { roles: 'bulk', serviceAccounts: 'list' } }, { prune });
        const single = await readAndPlanDeclarative(config, { ...deps, reads: { roles: 'per-role', serviceAccounts: 'get' } }, { prune });
        assert.deepEqual(bulk, single, `prune=${prune}`);
        assert.deepEqual(automatic, single, `prune=${prune}`);
        // Not trivially equal: the plan has updates, and with --prune deletions.
        const actions = new Set(single.plan.changes.map((c) => `${c.action} ${c.kind}`));
        assert.ok(actions.has('update service-account') && actions.has('create role-policy-attachment'), `prune=${prune}: ${[...actions]}`);
        assert.equal(actions.has('delete iam-role'), prune, `prune=${prune}: ${[...actions]}`);
      }
    } finally {
      for (const key of Object.keys(stack.env)) if (saved[key] === undefined) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
