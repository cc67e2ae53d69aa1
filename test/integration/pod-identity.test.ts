// EKS Pod Identity bindings end to end: irsa create-sa-role / plan / apply with
// --mechanism pod-identity against moto (IAM, EKS) with the stack's EKS Pod Identity emulation
// (test/harness/eks_pod_identity.py), the real apiserver, and the real pod identity webhook.
// Checked with the aws CLI and kubectl, never with irsa's own readers.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl, writeCalls } from './helpers/cli.ts';
import { kubectlApply } from './helpers/kube-objects.ts';
import { setPodIdentityServiceAccounts } from '../harness/stack.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
let sequence = 0;
const uniqueNamespace = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;
const trustOf = (role: { AssumeRolePolicyDocument: unknown }) =>
  typeof role.AssumeRolePolicyDocument === 'string' ? JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument)) : role.AssumeRolePolicyDocument;

type PlanJson = { plan: { changes: Array<{ kind: string; action: string; id: string; account?: string; after?: Record<string, unknown> }>; blockers: Array<{ code: string; message: string; fix: string; field?: string }>; warnings: string[] } };

describe('EKS Pod Identity bindings', { skip }, () => {
  let clusterArn: string;
  before(async () => {
    await stack.resetAws();
    clusterArn = (await aws(stack, ['eks', 'describe-cluster', '--name', stack.clusterName])).cluster.arn;
  });

  it('create-sa-role --mechanism pod-identity from nothing: agent blocker, then role with a conditioned pods.eks trust, association, ServiceAccount without role-arn; re-plan is empty', async () => {
    const ns = uniqueNamespace('pi');
    await kubectl(stack, ['create', 'namespace', ns]);
    const args = ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ, '--mechanism', 'pod-identity'];

    // No agent add-on: a blocker naming the flag, with CreateAddon in the plan; nothing written.
    const blocked = await irsa(stack, [...args, '--approve', '-o', 'json']);
    assert.equal(blocked.code, 1, blocked.stderr);
    const blockedPlan = json<PlanJson>(blocked).plan;
    assert.deepEqual(blockedPlan.blockers.map((b) => b.code), ['pod-identity-agent-missing']);
    assert.match(blockedPlan.blockers[0]!.fix, /--install-pod-identity-agent/);
    assert.equal(blockedPlan.changes.find((c) => c.kind === 'eks-addon')?.action, 'create');
    assert.ok(!blockedPlan.changes.some((c) => c.kind === 'oidc-provider'), 'no OIDC provider for Pod Identity');
    assert.deepEqual(writeCalls(blocked.calls), {});

    const applied = await irsa(stack, [...args, '--install-pod-identity-agent', '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.ok(!('iam CreateOpenIDConnectProvider' in applied.calls), 'no OIDC provider created');

    const role = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-api`])).Role;
    assert.deepEqual(trustOf(role), {
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringEquals: { 'aws:SourceAccount': stack.accountId, 'aws:RequestTag/kubernetes-namespace': ns, 'aws:RequestTag/kubernetes-service-account': 'api' },
          ArnEquals: { 'aws:SourceArn': clusterArn },
        },
      }],
    });
    const listed = await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns]);
    assert.equal(listed.associations.length, 1);
    const association = (await aws(stack, ['eks', 'describe-pod-identity-association', '--cluster-name', stack.clusterName, '--association-id', listed.associations[0].associationId])).association;
    assert.equal(association.roleArn, role.Arn);
    assert.equal(association.serviceAccount, 'api');
    assert.equal(association.tags['irsa:managed-by'], 'irsa');
    const addon = (await aws(stack, ['eks', 'describe-addon', '--cluster-name', stack.clusterName, '--addon-name', 'eks-pod-identity-agent'])).addon;
    assert.equal(addon.addonName, 'eks-pod-identity-agent');
    const sa = await kubectl(stack, ['get', 'sa', 'api', '-n', ns, '-o', 'json']);
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined);

    const again = await irsa(stack, [...args, '-o', 'json', '--approve', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stderr);
    const plan = json<PlanJson>(again).plan;
    assert.deepEqual(plan.changes.filter((c) => c.action !== 'no-op'), []);
    assert.deepEqual(writeCalls(again.calls), {});
  });

  it('the same from irsa.yaml (mechanism: pod-identity): plan, apply, re-plan empty; no OIDC provider', async () => {
    const ns = uniqueNamespace('piy');
    await kubectl(stack, ['create', 'namespace', ns]);
    const dir = mkdtempSync(join(tmpdir(), 'irsa-pi-yaml-'));
    const file = join(dir, 'irsa.yaml');
    writeFileSync(file, [
      'version: 1',
      `cluster: { name: ${stack.clusterName} }`,
      'bindings:',
      `  - namespace: ${ns}`,
      '    name: worker',
      `    roleName: ${ns}-worker`,
      '    mechanism: pod-identity',
      '    installPodIdentityAgent: true',
      `    managedPolicies: [${S3_READ}]`,
      `  - namespace: ${ns}`,
      '    name: reporter',
      `    roleName: ${ns}-reporter`,
      '    mechanism: pod-identity',
      '    disableSessionTags: true',
      '    sessionPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "*" }] }',
      '',
    ].join('\n'));
    const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.ok(!('iam CreateOpenIDConnectProvider' in applied.calls), 'no OIDC provider created');
    const listed = await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns]);
    assert.deepEqual(listed.associations.map((a: { serviceAccount: string }) => a.serviceAccount).sort(), ['reporter', 'worker']);
    const reporterId = listed.associations.find((a: { serviceAccount: string }) => a.serviceAccount === 'reporter').associationId;
    const reporter = (await aws(stack, ['eks', 'describe-pod-identity-association', '--cluster-name', stack.clusterName, '--association-id', reporterId])).association;
    assert.equal(reporter.disableSessionTags, true);
    assert.deepEqual(JSON.parse(reporter.policy), { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    // Session tags off: the reporter role's trust can only name the cluster.
    const reporterRole = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-reporter`])).Role;
    assert.deepEqual(trustOf(reporterRole).Statement[0].Condition, { StringEquals: { 'aws:SourceAccount': stack.accountId }, ArnEquals: { 'aws:SourceArn': clusterArn } });

    const again = await irsa(stack, ['plan', '-f', file, '-o', 'json', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(json<PlanJson>(again).plan.changes.filter((c) => c.action !== 'no-op'), []);
    assert.deepEqual(writeCalls(again.calls), {});
  });

  it('an IRSA ServiceAccount moved to Pod Identity: the role trusts both, the real webhook injects container credentials (config written from the associations, as EKS does) and no AWS_ROLE_ARN; list shows both rows', async () => {
    const ns = uniqueNamespace('mv');
    await kubectl(stack, ['create', 'namespace', ns]);
    const base = ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'app', '--role-name', `${ns}-app`, '--attach-policy-arn', S3_READ];
    const irsaApplied = await irsa(stack, [...base, '--approve']);
    assert.equal(irsaApplied.code, 0, irsaApplied.stderr);
    const moved = await irsa(stack, [...base, '--mechanism', 'pod-identity', '--install-pod-identity-agent', '--approve']);
    assert.equal(moved.code, 0, moved.stdout + moved.stderr);
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-app`])).Role;
    const principals = trustOf(role).Statement.map((s: { Principal: Record<string, string> }) => Object.keys(s.Principal)[0]);
    assert.deepEqual(principals, ['Federated', 'Service'], 'ensure mode keeps the IRSA statement beside the pods.eks one');

    // What EKS keeps in step with the associations: the webhook's container credentials config.
    const associations = (await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName])).associations as Array<{ namespace: string; serviceAccount: string }>;
    await setPodIdentityServiceAccounts(stack, associations.map((a) => ({ namespace: a.namespace, serviceAccount: a.serviceAccount })));
    await kubectlApply(stack, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'busybox' }] } });
    const pod = await kubectl(stack, ['get', 'pod', 'p', '-n', ns, '-o', 'json']);
    const env = Object.fromEntries((pod.spec.containers[0].env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));
    assert.match(env['AWS_CONTAINER_CREDENTIALS_FULL_URI'] ?? '', /^http:\/\/169\.254\.170\.23\/v1\/credentials$/);
    assert.ok(env['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'], JSON.stringify(env));
    assert.equal(env['AWS_ROLE_ARN'], undefined, 'Pod Identity takes precedence over the role-arn annotation');
    assert.ok(pod.spec.volumes.some((v: { name: string }) => v.name === 'eks-pod-identity-token'));

    // doctor judges it as a Pod Identity binding: association, trust, agent, the dry run through the real webhook, the unused annotation.
    const doctor = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', 'app', '-o', 'json']);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    const report = json<{ mechanism: string; checks: Array<{ id: string; status: string; observed: string }> }>(doctor);
    assert.equal(report.mechanism, 'pod-identity');
    const statuses = Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
    assert.deepEqual([statuses['pod-identity-association'], statuses['pod-identity-trust'], statuses['pod-identity-admission'], statuses['pod-identity-precedence']], ['pass', 'pass', 'pass', 'warn'], JSON.stringify(report.checks, null, 1));
    assert.notEqual(statuses['pod-identity-agent'], 'fail');
    assert.equal(writeCalls(doctor.calls)['k8s POST pods (dry run)'] ?? doctor.calls['k8s POST pods (dry run)'], 1);

    const listed = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns, '-o', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = json<{ bindings: Array<{ serviceAccount: string; mechanism: string; roleArn: string; trustAdmits: boolean; problem: string | null }> }>(listed).bindings;
    assert.deepEqual(rows.map((r) => [r.serviceAccount, r.mechanism, r.roleArn, r.trustAdmits]), [['app', 'irsa', role.Arn, true], ['app', 'pod-identity', role.Arn, true]]);
    assert.match(rows[0]!.problem ?? '', /unused: .*EKS Pod Identity association/);
    assert.equal(rows[1]!.problem, null);
    const table = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns]);
    assert.match(table.stdout, /^NAMESPACE +SERVICEACCOUNT +MECHANISM +ROLE/m);
    assert.match(table.stdout, new RegExp(`^${ns} +app +pod-identity +${role.Arn.replace(/[/]/g, '\\/')} +yes +yes +- +irsa`, 'm'));
  });

  it('cross-account: the target role in a second account gets the trust for the association role, written with that account\'s profile; session tags off adds the association\'s external id; re-plan empty', async () => {
    const TARGET_ACCOUNT = '222222222222';
    const assumed = await aws(stack, ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${TARGET_ACCOUNT}:role/platform-admin`, '--role-session-name', 'irsa-test']);
    const dir = mkdtempSync(join(tmpdir(), 'irsa-pi-profiles-'));
    writeFileSync(join(dir, 'credentials'), [
      '[cluster-account]', 'aws_access_key_id = testing', 'aws_secret_access_key = testing', '',
      '[target-account]', `aws_access_key_id = ${assumed.Credentials.AccessKeyId}`, `aws_secret_access_key = ${assumed.Credentials.SecretAccessKey}`, `aws_session_token = ${assumed.Credentials.SessionToken}`, '',
    ].join('\n'));
    writeFileSync(join(dir, 'config'), `[profile cluster-account]\nregion = ${stack.region}\n[profile target-account]\nregion = ${stack.region}\n`);
    const profileEnv = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
    const inTarget = { env: { ...stack.env, ...profileEnv, AWS_PROFILE: 'target-account' } };
    const ns = uniqueNamespace('xa');
    await kubectl(stack, ['create', 'namespace', ns]);
    // The data account's own role, with a statement of its own that irsa must keep.
    const ownStatement = { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' };
    await aws(inTarget, ['iam', 'create-role', '--role-name', `${ns}-data`, '--assume-role-policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [ownStatement] })]);
    const targetArn = `arn:aws:iam::${TARGET_ACCOUNT}:role/${ns}-data`;
    const sourceArn = `arn:aws:iam::${stack.accountId}:role/${ns}-api`;
    const args = ['create-sa-role', '--profile', 'cluster-account', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`,
      '--mechanism', 'pod-identity', '--install-pod-identity-agent', '--target-role-arn', targetArn, '--disable-session-tags'];

    const noProfile = await irsa(stack, [...args, '-o', 'json'], profileEnv);
    assert.deepEqual(json<PlanJson>(noProfile).plan.blockers.map((b) => b.code), ['account-profile-missing']);
    assert.match(json<PlanJson>(noProfile).plan.blockers[0]!.fix, /--account-profile 222222222222=<profile>/);

    const withProfile = [...args, '--account-profile', `${TARGET_ACCOUNT}=target-account`];
    const planned = json<PlanJson>(await irsa(stack, [...withProfile, '-o', 'json'], profileEnv)).plan;
    assert.deepEqual(planned.blockers, []);
    const trustChange = planned.changes.find((c) => c.kind === 'target-role-trust')!;
    assert.equal(trustChange.action, 'update');
    assert.equal(trustChange.account, TARGET_ACCOUNT);

    const applied = await irsa(stack, [...withProfile, '--approve'], profileEnv);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const listed = await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns]);
    const association = (await aws(stack, ['eks', 'describe-pod-identity-association', '--cluster-name', stack.clusterName, '--association-id', listed.associations[0].associationId])).association;
    assert.deepEqual([association.roleArn, association.targetRoleArn, association.disableSessionTags], [sourceArn, targetArn, true]);
    assert.ok(association.externalId);
    const target = (await aws(inTarget, ['iam', 'get-role', '--role-name', `${ns}-data`])).Role;
    assert.deepEqual(trustOf(target).Statement, [
      ownStatement,
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${stack.accountId}:root` },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: { ArnEquals: { 'aws:PrincipalARN': sourceArn }, StringEquals: { 'sts:ExternalId': association.externalId } },
      },
    ]);
    // Nothing of the association's side landed in the data account.
    const dataRoles = (await aws(inTarget, ['iam', 'list-roles'])).Roles.map((r: { RoleName: string }) => r.RoleName);
    assert.ok(!dataRoles.includes(`${ns}-api`));

    const again = await irsa(stack, [...withProfile, '-o', 'json', '--detailed-exitcode'], profileEnv);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(json<PlanJson>(again).plan.changes.filter((c) => c.action !== 'no-op'), []);
  });

  it('delete-sa-role --mechanism pod-identity: under the role\'s Lease, the association irsa made and its pods.eks statement go; the ServiceAccount irsa created goes with the role, one it did not create stays; a re-run changes nothing', async () => {
    const ns = uniqueNamespace('del');
    await kubectl(stack, ['create', 'namespace', ns]);
    // "own" exists before irsa binds it; "api" is created by create-sa-role (irsa's label). Both share one role.
    await kubectl(stack, ['create', 'serviceaccount', 'own', '-n', ns]);
    for (const sa of ['api', 'own']) {
      const created = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', sa, '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ, '--mechanism', 'pod-identity', '--install-pod-identity-agent', '--approve']);
      assert.equal(created.code, 0, created.stdout + created.stderr);
    }
    // The role's trust Lease (engine/trust-lock.ts), read with kubectl: "irsa-trust-<role name>-<hash>".
    const roleLease = async () => {
      const leases = await kubectl(stack, ['get', 'lease', '-n', 'kube-system', '-l', 'app.kubernetes.io/managed-by=irsa', '-o', 'json']);
      return (leases.items as Array<{ metadata: { name: string; resourceVersion: string }; spec: { holderIdentity?: string } }>).find((item) => item.metadata.name.startsWith(`irsa-trust-${ns}-api-`));
    };
    const deleteArgs = (sa: string) => ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', sa, '--mechanism', 'pod-identity'];

    // "own": the shared role keeps "api"'s statement; the trust update takes the role's Lease.
    const leaseBefore = await roleLease();
    const ownPlan = json<PlanJson>(await irsa(stack, [...deleteArgs('own'), '-o', 'json'])).plan;
    assert.deepEqual(ownPlan.changes.filter((c) => c.action !== 'no-op').map((c) => `${c.action} ${c.kind}`), ['delete pod-identity-association', 'update iam-role']);
    const ownDeleted = await irsa(stack, [...deleteArgs('own'), '--approve']);
    assert.equal(ownDeleted.code, 0, ownDeleted.stdout + ownDeleted.stderr);
    const leaseAfter = await roleLease();
    assert.ok(leaseAfter, 'the trust write took the role\'s Lease');
    assert.notEqual(leaseAfter.metadata.resourceVersion, leaseBefore?.metadata.resourceVersion, 'the Lease was taken and released by this run');
    assert.equal(leaseAfter.spec.holderIdentity, undefined, 'the run released the Lease');
    await kubectl(stack, ['get', 'sa', 'own', '-n', ns, '-o', 'json']);
    const remaining = trustOf((await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-api`])).Role);
    assert.deepEqual(remaining.Statement.map((st: { Condition: { StringEquals: Record<string, unknown> } }) => st.Condition.StringEquals['aws:RequestTag/kubernetes-service-account']), ['api']);

    // "api": the association, the role (nothing else trusts it) and the ServiceAccount irsa created.
    const planned = json<PlanJson>(await irsa(stack, [...deleteArgs('api'), '-o', 'json'])).plan;
    assert.deepEqual(planned.changes.map((c) => `${c.action} ${c.kind}`), ['delete pod-identity-association', 'delete role-policy-attachment', 'delete iam-role', 'delete service-account']);
    const deleted = await irsa(stack, [...deleteArgs('api'), '--approve']);
    assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
    assert.deepEqual((await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns])).associations, []);
    const roles = (await aws(stack, ['iam', 'list-roles'])).Roles.map((r: { RoleName: string }) => r.RoleName);
    assert.ok(!roles.includes(`${ns}-api`));
    const serviceAccounts = (await kubectl(stack, ['get', 'sa', '-n', ns, '-o', 'json'])).items.map((sa: { metadata: { name: string } }) => sa.metadata.name);
    assert.ok(!serviceAccounts.includes('api'), 'the ServiceAccount irsa created is deleted');
    assert.ok(serviceAccounts.includes('own'), 'the ServiceAccount irsa did not create stays');
    for (const sa of ['api', 'own']) {
      const again = await irsa(stack, [...deleteArgs(sa), '--approve', '--detailed-exitcode']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.deepEqual(writeCalls(again.calls), {});
    }
  });

  it('irsa migrate --to pod-identity and back: a failed proof removes nothing; once the webhook knows, exactly the migrated subjects and annotations go; back to IRSA ends with the starting trust; re-runs change nothing', async () => {
    const ns = uniqueNamespace('mig');
    await kubectl(stack, ['create', 'namespace', ns]);
    const shared = `${ns}-shared`;
    for (const sa of ['a', 'b', 'c']) {
      const made = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', sa, '--role-name', shared, '--attach-policy-arn', S3_READ, '--approve']);
      assert.equal(made.code, 0, made.stderr);
    }
    const trustBefore = trustOf((await aws(stack, ['iam', 'get-role', '--role-name', shared])).Role);
    const args = ['migrate', '--cluster', stack.clusterName, '-n', ns, '--name', 'a', '--name', 'b', '--to', 'pod-identity', '--install-pod-identity-agent'];

    const planned = await irsa(stack, args);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    assert.match(planned.stdout, /step 5: update iam-role .*; update service-account/);
    assert.deepEqual(writeCalls(planned.calls), {});

    // The webhook has not been told about the associations yet: the proof fails, nothing of IRSA goes.
    await setPodIdentityServiceAccounts(stack, []);
    const unproven = await irsa(stack, [...args, '--approve']);
    assert.equal(unproven.code, 1, unproven.stdout + unproven.stderr);
    assert.match(unproven.stdout, /✗ step 4 .*\/a: .*no AWS_CONTAINER_CREDENTIALS_FULL_URI/);
    assert.match(unproven.stderr, /nothing of IRSA was removed/);
    const listed = await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns]);
    assert.deepEqual(listed.associations.map((x: { serviceAccount: string }) => x.serviceAccount).sort(), ['a', 'b']);
    const midTrust = trustOf((await aws(stack, ['iam', 'get-role', '--role-name', shared])).Role);
    assert.deepEqual(midTrust.Statement[0], trustBefore.Statement[0], 'the IRSA statement is untouched');
    assert.equal((await kubectl(stack, ['get', 'sa', 'a', '-n', ns, '-o', 'json'])).metadata.annotations['eks.amazonaws.com/role-arn'], `arn:aws:iam::${stack.accountId}:role/${shared}`);

    // As EKS does: the webhook learns the associations. The same command converges.
    const associations = (await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName])).associations as Array<{ namespace: string; serviceAccount: string }>;
    await setPodIdentityServiceAccounts(stack, associations.map((x) => ({ namespace: x.namespace, serviceAccount: x.serviceAccount })));
    const proven = await irsa(stack, [...args, '--approve']);
    assert.equal(proven.code, 0, proven.stdout + proven.stderr);
    assert.match(proven.stdout, /✓ step 4 .*\/a: /);
    const after = trustOf((await aws(stack, ['iam', 'get-role', '--role-name', shared])).Role);
    const irsaStatement = after.Statement.find((st: { Principal: Record<string, string> }) => 'Federated' in st.Principal);
    assert.deepEqual(Object.values(irsaStatement.Condition.StringEquals).filter((v) => String(v).startsWith('system:')), [`system:serviceaccount:${ns}:c`]);
    const podsEks = after.Statement.filter((st: { Principal: Record<string, string> }) => 'Service' in st.Principal);
    assert.deepEqual(podsEks.map((st: { Condition: { StringEquals: Record<string, unknown> } }) => st.Condition.StringEquals['aws:RequestTag/kubernetes-service-account']), [['a', 'b']]);
    for (const sa of ['a', 'b']) assert.equal((await kubectl(stack, ['get', 'sa', sa, '-n', ns, '-o', 'json'])).metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined);
    assert.ok((await kubectl(stack, ['get', 'sa', 'c', '-n', ns, '-o', 'json'])).metadata.annotations['eks.amazonaws.com/role-arn']);

    const again = await irsa(stack, [...args, '--approve']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(Object.keys(writeCalls(again.calls)).filter((call) => !call.includes('dry run')), []);

    // And back: IRSA beside Pod Identity, the associations deleted, the proof, then the pods.eks statements go.
    const back = ['migrate', '--cluster', stack.clusterName, '-n', ns, '--name', 'a', '--name', 'b', '--to', 'irsa'];
    const stillPodIdentity = await irsa(stack, [...back, '--approve']);
    assert.equal(stillPodIdentity.code, 1, stillPodIdentity.stdout + stillPodIdentity.stderr);
    assert.match(stillPodIdentity.stdout, /✗ step 4 .*\/a: /);
    assert.deepEqual((await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns])).associations, []);
    assert.equal(trustOf((await aws(stack, ['iam', 'get-role', '--role-name', shared])).Role).Statement.filter((st: { Principal: Record<string, string> }) => 'Service' in st.Principal).length, 1, 'the pods.eks statement stays until the proof');
    // As EKS does once the associations are gone.
    await setPodIdentityServiceAccounts(stack, []);
    const home = await irsa(stack, [...back, '--approve']);
    assert.equal(home.code, 0, home.stdout + home.stderr);
    assert.deepEqual(trustOf((await aws(stack, ['iam', 'get-role', '--role-name', shared])).Role), trustBefore, 'IRSA → Pod Identity → IRSA ends where it started');
    for (const sa of ['a', 'b']) assert.equal((await kubectl(stack, ['get', 'sa', sa, '-n', ns, '-o', 'json'])).metadata.annotations['eks.amazonaws.com/role-arn'], `arn:aws:iam::${stack.accountId}:role/${shared}`);
    const settled = await irsa(stack, [...back, '--approve']);
    assert.equal(settled.code, 0, settled.stdout + settled.stderr);
    assert.deepEqual(Object.keys(writeCalls(settled.calls)).filter((call) => !call.includes('dry run')), []);
  });

  it('20 ServiceAccounts on 4 roles: irsa migrate IRSA → Pod Identity → IRSA leaves every trust policy byte-identical; each direction converges after a failed proof', async () => {
    const ns = uniqueNamespace('m20');
    await kubectl(stack, ['create', 'namespace', ns]);
    const dir = mkdtempSync(join(tmpdir(), 'irsa-m20-'));
    const file = join(dir, 'irsa.yaml');
    const names = Array.from({ length: 20 }, (_, i) => `sa-${String(i).padStart(2, '0')}`);
    const roles = [0, 1, 2, 3].map((i) => `${ns}-r${i}`);
    writeFileSync(file, [
      'version: 1',
      `cluster: { name: ${stack.clusterName} }`,
      'bindings:',
      ...names.flatMap((name, i) => [`  - { namespace: ${ns}, name: ${name}, roleName: ${roles[i % 4]}, managedPolicies: [${S3_READ}] }`]),
      '',
    ].join('\n'));
    const made = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    const rawTrusts = async () => Promise.all(roles.map(async (role) => (await aws(stack, ['iam', 'get-role', '--role-name', role])).Role.AssumeRolePolicyDocument as unknown));
    const before = await rawTrusts();

    const to = ['migrate', '--cluster', stack.clusterName, '-n', ns, '--to', 'pod-identity', '--install-pod-identity-agent', '--approve'];
    await setPodIdentityServiceAccounts(stack, []);
    const unproven = await irsa(stack, to);
    assert.equal(unproven.code, 1, 'no proof yet: the webhook does not know the associations');
    assert.match(unproven.stdout, /✗ step 4 /, unproven.stdout + unproven.stderr);
    const associations = (await aws(stack, ['eks', 'list-pod-identity-associations', '--cluster-name', stack.clusterName, '--namespace', ns])).associations as Array<{ namespace: string; serviceAccount: string }>;
    assert.equal(associations.length, 20);
    await setPodIdentityServiceAccounts(stack, associations.map((x) => ({ namespace: x.namespace, serviceAccount: x.serviceAccount })));
    const moved = await irsa(stack, to);
    assert.equal(moved.code, 0, moved.stdout + moved.stderr);
    for (const trust of await rawTrusts()) assert.doesNotMatch(JSON.stringify(trust), /oidc-provider/, 'no IRSA statement left once every subject moved');

    const back = ['migrate', '--cluster', stack.clusterName, '-n', ns, '--to', 'irsa', '--approve'];
    assert.equal((await irsa(stack, back)).code, 1, 'no proof yet: the webhook still treats them as Pod Identity');
    await setPodIdentityServiceAccounts(stack, []);
    // The associations are gone, so "every one of the namespace" is named explicitly now.
    const home = await irsa(stack, [...back, ...names.flatMap((name) => ['--name', name])]);
    assert.equal(home.code, 0, home.stdout + home.stderr);
    assert.deepEqual(await rawTrusts(), before, 'trusts byte-identical to before');
    const replan = await irsa(stack, ['plan', '-f', file, '-o', 'json', '--detailed-exitcode']);
    assert.equal(replan.code, 0, 'the irsa.yaml that made them plans no change: ' + replan.stdout);
  });

  it('a converged re-plan of 20 Pod Identity bindings: its AWS calls, counted (EKS: one list, one describe per association, 3 per cluster)', async (t) => {
    const ns = uniqueNamespace('cnt');
    await kubectl(stack, ['create', 'namespace', ns]);
    const dir = mkdtempSync(join(tmpdir(), 'irsa-cnt-'));
    const file = join(dir, 'irsa.yaml');
    const names = Array.from({ length: 20 }, (_, i) => `sa-${i}`);
    writeFileSync(file, ['version: 1', `cluster: { name: ${stack.clusterName} }`, 'bindings:',
      ...names.map((name, i) => `  - { namespace: ${ns}, name: ${name}, roleName: ${ns}-r${i % 4}, mechanism: pod-identity, installPodIdentityAgent: true }`), ''].join('\n'));
    const applied = await irsa(stack, ['apply', '-f', file, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const replan = await irsa(stack, ['plan', '-f', file, '-o', 'json', '--detailed-exitcode']);
    assert.equal(replan.code, 0, replan.stdout + replan.stderr);
    const aws = Object.entries(replan.calls).filter(([name]) => !name.startsWith('k8s ') && !name.startsWith('tls '));
    const eks = Object.fromEntries(aws.filter(([name]) => name.startsWith('eks ')));
    // The list of associations carries no role: one Describe per association is the floor of the EKS API.
    assert.deepEqual(eks, { 'eks DescribeCluster': 1, 'eks ListPodIdentityAssociations': 1, 'eks DescribePodIdentityAssociation': 20, 'eks DescribeAddon': 1, 'eks ListFargateProfiles': 1, 'eks ListNodegroups': 1 });
    const total = aws.reduce((sum, [, count]) => sum + count, 0);
    t.diagnostic(`converged re-plan of 20 Pod Identity bindings: ${total} AWS calls (${(total / 20).toFixed(2)} per binding): ${JSON.stringify(Object.fromEntries(aws))}`);
    assert.ok(total / 20 <= 1.6, `${total} AWS calls for 20 bindings: ${JSON.stringify(Object.fromEntries(aws))}`);
  });

  it('a namespace a Fargate profile selects is blocked, naming the profile and suggesting IRSA; nothing written', async () => {
    const ns = uniqueNamespace('fg');
    await kubectl(stack, ['create', 'namespace', ns]);
    await aws(stack, ['eks', 'create-fargate-profile', '--cluster-name', stack.clusterName, '--fargate-profile-name', `batch-${ns}`,
      '--pod-execution-role-arn', `arn:aws:iam::${stack.accountId}:role/fargate`, '--selectors', JSON.stringify([{ namespace: ns }])]);
    const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'job', '--mechanism', 'pod-identity', '--install-pod-identity-agent', '--approve', '-o', 'json']);
    assert.equal(result.code, 1, result.stderr);
    const blockers = json<PlanJson>(result).plan.blockers;
    assert.deepEqual(blockers.map((b) => b.code), ['pod-identity-unavailable']);
    assert.match(blockers[0]!.message, new RegExp(`Fargate profile batch-${ns} runs every pod of namespace ${ns} on Fargate`));
    assert.match(blockers[0]!.fix, /use IRSA for this binding \(--mechanism irsa\)/);
    assert.deepEqual(writeCalls(result.calls), {});
    // The same ServiceAccount with IRSA is fine.
    const irsaPlan = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'job', '-o', 'json']);
    assert.deepEqual(json<PlanJson>(irsaPlan).plan.blockers, []);
  });

  it('an IRSA-only plan makes no EKS Pod Identity call', async () => {
    const ns = uniqueNamespace('only');
    await kubectl(stack, ['create', 'namespace', ns]);
    const planned = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '-o', 'json']);
    assert.equal(planned.code, 0, planned.stderr);
    const eksCalls = Object.keys(planned.calls).filter((name) => name.startsWith('eks ') && name !== 'eks DescribeCluster');
    assert.deepEqual(eksCalls, []);
  });

  it('bad input: Pod Identity fields without --mechanism pod-identity, IRSA fields with it, a session policy without --disable-session-tags; exit 1, no call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-pi-'));
    const policy = join(dir, 'session.json');
    writeFileSync(policy, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }));
    const wrong = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', 'x', '--name', 'y', '--target-role-arn', 'arn:aws:iam::222222222222:role/t']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /--target-role-arn: applies to EKS Pod Identity only; add --mechanism pod-identity/);
    const mixed = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', 'x', '--name', 'y', '--mechanism', 'pod-identity', '--subject-pattern', 'system:serviceaccount:x:*', '--session-policy', policy]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /--subject-pattern: is IRSA's/);
    assert.match(mixed.stderr, /--disable-session-tags: is needed by --session-policy/);
    assert.deepEqual(mixed.calls, {});
  });
});
