// create-sa-role, delete-sa-role and list against moto and the real apiserver, checked with the
// aws CLI and kubectl.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl, writeCalls } from './helpers/cli.ts';
import { evaluateTrustPolicy } from '../../src/core/trust-policy.ts';
import { decodeJwtClaims } from '../../src/core/jwt.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const SQS_READ = 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess';
let sequence = 0;
const uniqueNamespace = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

async function createNamespace(name: string) {
  await kubectl(stack, ['create', 'namespace', name]);
}

describe('irsa create-sa-role / delete-sa-role / list', { skip }, () => {
  let inlinePolicyFile: string;
  let hostPath: string;
  let providerArn: string;
  before(async () => {
    await stack.resetAws();
    hostPath = new URL(stack.issuerUrl).host;
    providerArn = `arn:aws:iam::${stack.accountId}:oidc-provider/${hostPath}`;
    const dir = mkdtempSync(join(tmpdir(), 'irsa-policy-'));
    inlinePolicyFile = join(dir, 'inline.json');
    writeFileSync(inlinePolicyFile, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::orders/*' }] }));
  });

  it('creates provider, role with exact trust policy, two attachments, inline policy and the annotated SA; a re-run is all no-ops', async () => {
    const ns = uniqueNamespace('app');
    await createNamespace(ns);
    const args = ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`,
      '--attach-policy-arn', S3_READ, '--attach-policy-arn', SQS_READ, '--inline-policy', inlinePolicyFile];
    const applied = await irsa(stack, [...args, '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);

    const role = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-api`])).Role;
    const trust = typeof role.AssumeRolePolicyDocument === 'string' ? JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument)) : role.AssumeRolePolicyDocument;
    assert.deepEqual(trust, {
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${hostPath}:sub`]: `system:serviceaccount:${ns}:api`, [`${hostPath}:aud`]: 'sts.amazonaws.com' } },
      }],
    });
    const attached = await aws(stack, ['iam', 'list-attached-role-policies', '--role-name', `${ns}-api`]);
    assert.deepEqual(attached.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn).sort(), [S3_READ, SQS_READ]);
    const inline = await aws(stack, ['iam', 'get-role-policy', '--role-name', `${ns}-api`, '--policy-name', 'irsa-inline']);
    const inlineDoc = typeof inline.PolicyDocument === 'string' ? JSON.parse(decodeURIComponent(inline.PolicyDocument)) : inline.PolicyDocument;
    assert.equal(inlineDoc.Statement[0].Action, 's3:PutObject');
    const sa = await kubectl(stack, ['get', 'sa', 'api', '-n', ns, '-o', 'json']);
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn);

    const again = await irsa(stack, [...args, '-o', 'json', '--approve', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stderr);
    const plan = json<{ plan: { changes: Array<{ action: string }> } }>(again).plan;
    assert.ok(plan.changes.every((c) => c.action === 'no-op'));
    assert.deepEqual(writeCalls(again.calls), {});
  });

  it('the trust condition admits a real token of the SA and not of another SA in the namespace', async () => {
    const ns = uniqueNamespace('tok');
    await createNamespace(ns);
    const applied = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'app', '--role-name', `${ns}-app`, '--attach-policy-arn', S3_READ, '--approve']);
    assert.equal(applied.code, 0, applied.stderr);
    await kubectl(stack, ['create', 'sa', 'other', '-n', ns]);
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-app`])).Role;
    const trust = typeof role.AssumeRolePolicyDocument === 'string' ? JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument)) : role.AssumeRolePolicyDocument;
    const token = (name: string) => kubectl<string>(stack, ['create', 'token', name, '-n', ns, '--audience', 'sts.amazonaws.com']);
    const own = evaluateTrustPolicy(trust, providerArn, decodeJwtClaims((await token('app')).trim()));
    assert.equal(own.allowed, true, own.reasons.join('\n'));
    const other = evaluateTrustPolicy(trust, providerArn, decodeJwtClaims((await token('other')).trim()));
    assert.equal(other.allowed, false);
    assert.match(other.reasons.join('\n'), new RegExp(`token has sub system:serviceaccount:${ns}:other`));
  });

  it('a policy ARN that does not exist fails before any write', async () => {
    const ns = uniqueNamespace('typo');
    await createNamespace(ns);
    const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`,
      '--attach-policy-arn', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess', '--approve']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /AmazonS3ReadOnlyAcess does not exist in account \d+ \(iam:GetPolicy\)\. Did you mean arn:aws:iam::aws:policy\/AmazonS3ReadOnlyAccess\?/);
    assert.deepEqual(writeCalls(result.calls), {});
    const roles = await aws(stack, ['iam', 'list-roles']);
    assert.ok(!roles.Roles.some((r: { RoleName: string }) => r.RoleName === `${ns}-api`));
  });

  it('delete-sa-role --role-only --issuer-url finds the role create-sa-role --issuer-url named by default', async () => {
    const ns = uniqueNamespace('byissuer');
    const common = ['--issuer-url', stack.issuerUrl, '-n', ns, '--name', 'api', '--role-only'];
    const created = await irsa(stack, ['create-sa-role', ...common, '--attach-policy-arn', S3_READ, '--approve']);
    assert.equal(created.code, 0, created.stdout + created.stderr);
    const roleName = `irsa-${new URL(stack.issuerUrl).hostname.replace(/[^\w-]/g, '-')}-${ns}-api`;
    const listRoles = async () => (await aws(stack, ['iam', 'list-roles'])).Roles.map((r: { RoleName: string }) => r.RoleName);
    assert.ok((await listRoles()).includes(roleName), `create-sa-role made ${roleName}`);
    const deleted = await irsa(stack, ['delete-sa-role', ...common, '--approve']);
    assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
    assert.doesNotMatch(deleted.stdout, /does not exist; nothing to change/);
    assert.ok(!(await listRoles()).includes(roleName), `delete-sa-role removed ${roleName}`);
  });

  it('an SA bound to another role is refused without --override-existing-serviceaccounts, re-annotated with it', async () => {
    const ns = uniqueNamespace('bound');
    await createNamespace(ns);
    await kubectl(stack, ['create', 'sa', 'api', '-n', ns]);
    const otherArn = `arn:aws:iam::${stack.accountId}:role/somebody-else`;
    await kubectl(stack, ['annotate', 'sa', 'api', '-n', ns, `eks.amazonaws.com/role-arn=${otherArn}`]);
    const args = ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ, '--approve'];
    const refused = await irsa(stack, args);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /already bound to .*somebody-else.*--override-existing-serviceaccounts/);
    assert.deepEqual(writeCalls(refused.calls), {});
    assert.equal((await kubectl(stack, ['get', 'sa', 'api', '-n', ns, '-o', 'json'])).metadata.annotations['eks.amazonaws.com/role-arn'], otherArn);
    const overridden = await irsa(stack, [...args, '--override-existing-serviceaccounts']);
    assert.equal(overridden.code, 0, overridden.stderr);
    assert.equal(
      (await kubectl(stack, ['get', 'sa', 'api', '-n', ns, '-o', 'json'])).metadata.annotations['eks.amazonaws.com/role-arn'],
      `arn:aws:iam::${stack.accountId}:role/${ns}-api`,
    );
  });

  it('--restart-workloads bumps the pod template of Deployments using the SA, and only those', async () => {
    const ns = uniqueNamespace('restart');
    await createNamespace(ns);
    await kubectl(stack, ['create', 'sa', 'api', '-n', ns]);
    const deployment = (name: string, serviceAccountName: string) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
      spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { serviceAccountName, containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const dir = mkdtempSync(join(tmpdir(), 'irsa-deploy-'));
    writeFileSync(join(dir, 'd.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment('uses-sa', 'api'), deployment('other', 'default')] }));
    await kubectl(stack, ['apply', '-f', join(dir, 'd.json')]);
    const advice = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ]);
    assert.match(advice.stdout, new RegExp(`kubectl rollout restart deployment/uses-sa -n ${ns}`));
    assert.doesNotMatch(advice.stdout, /deployment\/other/);
    const applied = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-api`, '--attach-policy-arn', S3_READ, '--restart-workloads', '--approve']);
    assert.equal(applied.code, 0, applied.stderr);
    const restartedAt = async (name: string) =>
      (await kubectl(stack, ['get', 'deployment', name, '-n', ns, '-o', 'json'])).spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'];
    assert.ok(!Number.isNaN(Date.parse(await restartedAt('uses-sa'))));
    assert.equal(await restartedAt('other'), undefined);
  });

  it('delete-sa-role removes only what irsa owns and refuses a hand-made role without --force', async () => {
    const ns = uniqueNamespace('del');
    await createNamespace(ns);
    await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--role-name', `${ns}-shared`, '--attach-policy-arn', S3_READ, '--approve']);
    await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'worker', '--role-name', `${ns}-shared`, '--approve']);
    // Two subjects: deleting one keeps the role and the other subject.
    const first = await irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--approve']);
    assert.equal(first.code, 0, first.stderr);
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-shared`])).Role;
    assert.doesNotMatch(JSON.stringify(role.AssumeRolePolicyDocument), new RegExp(`${ns}:api`));
    assert.match(decodeURIComponent(JSON.stringify(role.AssumeRolePolicyDocument)), new RegExp(`${ns}:worker`));
    await assert.rejects(kubectl(stack, ['get', 'sa', 'api', '-n', ns, '-o', 'json']), /NotFound/); // irsa created it
    // Last subject: attachments, then the role go.
    const last = await irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'worker', '--approve']);
    assert.equal(last.code, 0, last.stderr);
    await assert.rejects(aws(stack, ['iam', 'get-role', '--role-name', `${ns}-shared`]), /NoSuchEntity|cannot be found/);

    // A hand-made role bound to a hand-made SA.
    await aws(stack, ['iam', 'create-role', '--role-name', `${ns}-hand`, '--assume-role-policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${hostPath}:sub`]: `system:serviceaccount:${ns}:hand` } } }],
    })]);
    await kubectl(stack, ['create', 'sa', 'hand', '-n', ns]);
    await kubectl(stack, ['annotate', 'sa', 'hand', '-n', ns, `eks.amazonaws.com/role-arn=arn:aws:iam::${stack.accountId}:role/${ns}-hand`]);
    const refused = await irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'hand', '--approve']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not created by irsa.*--force/);
    assert.deepEqual(writeCalls(refused.calls), {});
    const forced = await irsa(stack, ['delete-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'hand', '--force', '--approve']);
    assert.equal(forced.code, 0, forced.stderr);
    const sa = await kubectl(stack, ['get', 'sa', 'hand', '-n', ns, '-o', 'json']); // not irsa's: kept, annotation removed
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined);
  });

  it('list shows irsa-made and hand-made bindings with their health', async () => {
    const ns = uniqueNamespace('list');
    await createNamespace(ns);
    await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'good', '--role-name', `${ns}-good`, '--attach-policy-arn', S3_READ, '--approve']);
    await aws(stack, ['iam', 'create-role', '--role-name', `${ns}-hand`, '--assume-role-policy-document', JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${hostPath}:sub`]: `system:serviceaccount:default:hand` } } }],
    })]);
    await kubectl(stack, ['create', 'sa', 'hand', '-n', ns]);
    await kubectl(stack, ['annotate', 'sa', 'hand', '-n', ns, `eks.amazonaws.com/role-arn=arn:aws:iam::${stack.accountId}:role/${ns}-hand`]);
    await kubectl(stack, ['create', 'sa', 'ghost', '-n', ns]);
    await kubectl(stack, ['annotate', 'sa', 'ghost', '-n', ns, `eks.amazonaws.com/role-arn=arn:aws:iam::${stack.accountId}:role/${ns}-missing`]);
    const result = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns, '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const rows = json<{ bindings: Array<Record<string, unknown>> }>(result).bindings;
    const byName = Object.fromEntries(rows.map((row) => [row['serviceAccount'], row]));
    assert.deepEqual(Object.keys(byName).sort(), ['ghost', 'good', 'hand']);
    assert.deepEqual([byName['good']!['roleExists'], byName['good']!['trustAdmits'], byName['good']!['providerExists'], byName['good']!['owner']], [true, true, true, 'irsa']);
    assert.deepEqual([byName['hand']!['roleExists'], byName['hand']!['trustAdmits'], byName['hand']!['owner']], [true, false, 'other']);
    assert.match(String(byName['hand']!['problem']), new RegExp(`token has sub system:serviceaccount:${ns}:hand`));
    assert.deepEqual([byName['ghost']!['roleExists'], byName['ghost']!['owner']], [false, 'unknown']);
    const table = await irsa(stack, ['list', '--cluster', stack.clusterName, '-n', ns]);
    assert.match(table.stdout, /NAMESPACE\s+SERVICEACCOUNT\s+MECHANISM\s+ROLE\s+ROLE EXISTS\s+TRUST OK\s+PROVIDER\s+OWNER/);
  });

  it('long namespace and SA names yield a valid role name of at most 64 characters, stable across runs', async () => {
    const ns = `${uniqueNamespace('n')}-${'x'.repeat(40)}`.slice(0, 63).replace(/-$/, 'x');
    await createNamespace(ns);
    const name = `service-account-${'y'.repeat(80)}`;
    const plan = async () => json<{ plan: { changes: Array<{ kind: string; id: string; after: { name?: string } }> } }>(
      await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', name, '--attach-policy-arn', S3_READ, '-o', 'json']),
    ).plan;
    const roleName = (await plan()).changes.find((c) => c.kind === 'iam-role')!.after.name!;
    assert.ok(roleName.length <= 64, roleName);
    assert.match(roleName, /^[\w+=,.@-]+$/);
    assert.equal((await plan()).changes.find((c) => c.kind === 'iam-role')!.after.name, roleName);
    const applied = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', name, '--attach-policy-arn', S3_READ, '--approve']);
    assert.equal(applied.code, 0, applied.stderr);
    await aws(stack, ['iam', 'get-role', '--role-name', roleName]);
  });
});
