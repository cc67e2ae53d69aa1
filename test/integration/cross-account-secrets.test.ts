// Cross-account secrets against moto with three accounts, each through its own profile in a
// generated AWS config: the pod's role in account 1 (the cluster's), a secret in account 2, the
// customer managed KMS key that encrypts it in account 3. One `irsa apply -f` writes the role's
// identity policy, a statement in the secret's resource policy and one in the key policy, each in
// its own account; a re-plan is empty; other principals' statements are kept byte-for-byte (read
// back with the aws CLI); removing the access restores the original policies.
// moto keeps accounts apart by credentials: an assumed role's keys act in the role's account.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, kubectl } from './helpers/cli.ts';

const { stack, skip } = await useStack();
const DATA = '222222222222';
const SECURITY = '333333333333';

describe('cross-account secrets: role in account 1, secret in 2, KMS key in 3', { skip }, () => {
  let env: Record<string, string>;
  let dir: string;
  let secretArn: string;
  let keyArn: string;
  let originalSecretPolicy: string;
  let originalKeyPolicy: string;
  const inAccount = (profile: string) => ({ env: { ...stack.env, ...env, AWS_PROFILE: profile } });
  const ns = `xsec-${process.pid}`;
  const roleName = `irsa-${stack.clusterName}-${ns}-api`;

  before(async () => {
    await stack.resetAws();
    const credentials = async (account: string, role: string) =>
      (await aws(stack, ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${account}:role/${role}`, '--role-session-name', 'irsa-test'])).Credentials;
    const data = await credentials(DATA, 'data-admin');
    const security = await credentials(SECURITY, 'security-admin');
    dir = mkdtempSync(join(tmpdir(), 'irsa-xsecrets-'));
    const profile = (name: string, c: { AccessKeyId: string; SecretAccessKey: string; SessionToken?: string }) =>
      [`[${name}]`, `aws_access_key_id = ${c.AccessKeyId}`, `aws_secret_access_key = ${c.SecretAccessKey}`, ...(c.SessionToken ? [`aws_session_token = ${c.SessionToken}`] : []), ''];
    writeFileSync(join(dir, 'credentials'), [
      ...profile('pod-account', { AccessKeyId: 'testing', SecretAccessKey: 'testing' }),
      ...profile('data-account', data),
      ...profile('security-account', security),
    ].join('\n'));
    writeFileSync(join(dir, 'config'), ['pod-account', 'data-account', 'security-account'].map((p) => `[profile ${p}]\nregion = ${stack.region}\n`).join(''));
    // Profiles only: no credentials in the environment.
    env = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };

    // Account 3: a customer managed key whose policy has its administrators' statement.
    keyArn = (await aws(inAccount('security-account'), ['kms', 'create-key', '--description', 'db secrets'])).KeyMetadata.Arn;
    assert.match(keyArn, new RegExp(`:${SECURITY}:key/`));
    originalKeyPolicy = JSON.stringify({
      Version: '2012-10-17',
      Id: 'security-team',
      Statement: [
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SECURITY}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'BackupDecrypt', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${SECURITY}:role/backup` }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' },
      ],
    });
    await aws(inAccount('security-account'), ['kms', 'put-key-policy', '--key-id', keyArn, '--policy-name', 'default', '--policy', originalKeyPolicy]);
    // Account 2: the secret, encrypted with that key, and a resource policy with another principal's statement.
    secretArn = (await aws(inAccount('data-account'), ['secretsmanager', 'create-secret', '--name', 'db-password', '--secret-string', 'hunter2', '--kms-key-id', keyArn])).ARN;
    assert.match(secretArn, new RegExp(`:${DATA}:secret:db-password-`));
    originalSecretPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'AuditorRead', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${DATA}:role/auditor` }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
    });
    await aws(inAccount('data-account'), ['secretsmanager', 'put-resource-policy', '--secret-id', secretArn, '--resource-policy', originalSecretPolicy]);
    await kubectl(stack, ['create', 'namespace', ns]);
  });

  const writeConfig = (access: boolean) => {
    const file = join(dir, 'irsa.yaml');
    writeFileSync(file, stringify({
      version: 1,
      cluster: { name: stack.clusterName, region: stack.region, profile: 'pod-account' },
      accounts: { [DATA]: { profile: 'data-account' }, [SECURITY]: { profile: 'security-account' } },
      bindings: [{ namespace: ns, name: 'api', ...(access ? { access: [{ resource: secretArn.replace(/-[A-Za-z0-9]{6}$/, ''), level: 'read' }] } : {}) }],
    }));
    return file;
  };
  const secretPolicy = async () => (await aws(inAccount('data-account'), ['secretsmanager', 'get-resource-policy', '--secret-id', secretArn])).ResourcePolicy as string | undefined;
  const keyPolicy = async () => (await aws(inAccount('security-account'), ['kms', 'get-key-policy', '--key-id', keyArn, '--policy-name', 'default'])).Policy as string;

  it('one apply -f writes the four documents, each in its own account; the re-plan is empty', async () => {
    const file = writeConfig(true);
    const planned = await irsa(stack, ['plan', '-f', file], env);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    assert.match(planned.stdout, new RegExp(`^~ secret-policy ${secretArn}#Irsa[0-9a-f]{16} \\[account ${DATA}\\]$`, 'm'));
    assert.match(planned.stdout, new RegExp(`^~ key-policy ${keyArn}#Irsa[0-9a-f]{16} \\[account ${SECURITY}\\]$`, 'm'));
    assert.match(planned.stdout, new RegExp(`^\\+ inline-policy arn:aws:iam::${stack.accountId}:role/${roleName}#inline/irsa-access \\[account ${stack.accountId}\\]$`, 'm'));
    assert.doesNotMatch(planned.stdout, /The cluster is in account/);

    const applied = await irsa(stack, ['apply', '-f', file, '--approve'], env);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const roleArn = `arn:aws:iam::${stack.accountId}:role/${roleName}`;

    // Account 1: the role's identity policy — exact actions and resources, kms:Decrypt only via Secrets Manager.
    const identity = (await aws(inAccount('pod-account'), ['iam', 'get-role-policy', '--role-name', roleName, '--policy-name', 'irsa-access'])).PolicyDocument;
    const statements = (typeof identity === 'string' ? JSON.parse(decodeURIComponent(identity)) : identity).Statement;
    assert.deepEqual(statements.map((s: { Action: unknown; Resource: unknown; Condition?: unknown }) => [s.Action, s.Resource, s.Condition ?? null]), [
      [['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], secretArn, null],
      ['kms:Decrypt', keyArn, { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } }],
    ]);
    // Account 2: the auditor's statement byte-for-byte, then irsa's for the role.
    const secretDoc = JSON.parse((await secretPolicy())!);
    assert.equal(JSON.stringify(secretDoc.Statement[0]), JSON.stringify(JSON.parse(originalSecretPolicy).Statement[0]));
    assert.deepEqual(secretDoc.Statement[1].Principal, { AWS: roleArn });
    assert.equal(secretDoc.Statement.length, 2);
    // Account 3: the key's statements byte-for-byte (and its Id), then irsa's, limited to Secrets Manager and this secret.
    const keyDoc = JSON.parse(await keyPolicy());
    const originalKey = JSON.parse(originalKeyPolicy);
    assert.equal(keyDoc.Id, 'security-team');
    assert.deepEqual(keyDoc.Statement.slice(0, 2).map((s: unknown) => JSON.stringify(s)), originalKey.Statement.map((s: unknown) => JSON.stringify(s)));
    assert.deepEqual(keyDoc.Statement[2].Condition, { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com`, 'kms:EncryptionContext:SecretARN': secretArn } });
    // Nothing of this landed in account 1's Secrets Manager or KMS.
    assert.deepEqual((await aws(inAccount('pod-account'), ['secretsmanager', 'list-secrets'])).SecretList, []);

    const again = await irsa(stack, ['plan', '-f', file, '--detailed-exitcode'], env);
    assert.equal(again.code, 0, `the re-plan is not empty:\n${again.stdout}${again.stderr}`);
  });

  it('doctor: ✓ for GetSecretValue, and names the refusing document in each of five broken variants', async () => {
    const roleArn = `arn:aws:iam::${stack.accountId}:role/${roleName}`;
    const doctor = async () => {
      const result = await irsa(stack, ['doctor', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--profile', 'pod-account', '--cluster-profile', 'pod-account',
        '--account-profile', `${DATA}=data-account`, '--account-profile', `${SECURITY}=security-account`,
        '--can', 'secretsmanager:GetSecretValue', secretArn, '-o', 'json'], env);
      const checks = JSON.parse(result.stdout).checks as Array<{ id: string; status: string; observed: string; details?: string[] }>;
      const secret = checks.find((c) => c.id === `access:secretsmanager:GetSecretValue:${secretArn}`);
      const key = checks.find((c) => c.id === `access:kms:Decrypt:${secretArn}`);
      assert.ok(secret && key, result.stdout + result.stderr);
      return { secret, key };
    };
    const good = await doctor();
    assert.equal(good.secret.status, 'pass', good.secret.observed);
    assert.equal(good.key.status, 'pass', good.key.observed);
    assert.match(good.secret.observed, new RegExp(`resource policy of ${secretArn} statement 2 \\(Irsa[0-9a-f]{16}\\) \\[account ${DATA}\\]`));

    const pod = inAccount('pod-account');
    const identity = JSON.stringify((await aws(pod, ['iam', 'get-role-policy', '--role-name', roleName, '--policy-name', 'irsa-access'])).PolicyDocument);
    const secretGood = (await secretPolicy())!;
    const keyGood = await keyPolicy();
    const putSecret = (text: string) => aws(inAccount('data-account'), ['secretsmanager', 'put-resource-policy', '--secret-id', secretArn, '--resource-policy', text]);
    const putKey = (text: string) => aws(inAccount('security-account'), ['kms', 'put-key-policy', '--key-id', keyArn, '--policy-name', 'default', '--policy', text]);
    const putIdentity = (text: string) => aws(pod, ['iam', 'put-role-policy', '--role-name', roleName, '--policy-name', 'irsa-access', '--policy-document', text]);

    // 1. No identity statement: the role's identity policies in account 1 refuse.
    await aws(pod, ['iam', 'delete-role-policy', '--role-name', roleName, '--policy-name', 'irsa-access']);
    let d = await doctor();
    assert.equal(d.secret.status, 'fail');
    assert.match(d.secret.observed, new RegExp(`^refused by identity policies of ${roleArn} \\[account ${stack.accountId}\\]`));
    await putIdentity(identity);

    // 2. No statement in the secret's resource policy: account 2 refuses.
    await putSecret(originalSecretPolicy);
    d = await doctor();
    assert.equal(d.secret.status, 'fail');
    assert.match(d.secret.observed, new RegExp(`^refused by resource policy of ${secretArn} \\[account ${DATA}\\]`));
    assert.equal(d.key.status, 'pass');
    await putSecret(secretGood);

    // 3. The key policy without the role: account 3 refuses kms:Decrypt.
    await putKey(originalKeyPolicy);
    d = await doctor();
    assert.equal(d.secret.status, 'pass');
    assert.equal(d.key.status, 'fail');
    assert.match(d.key.observed, new RegExp(`^refused by key policy of ${keyArn} \\[account ${SECURITY}\\]`));
    await putKey(keyGood);

    // 4. kms:ViaService for the wrong region in the role's policy: the identity side refuses kms:Decrypt.
    await putIdentity(identity.replace(`secretsmanager.${stack.region}.amazonaws.com`, 'secretsmanager.eu-west-3.amazonaws.com'));
    d = await doctor();
    assert.equal(d.key.status, 'fail');
    assert.match(d.key.observed, new RegExp(`^refused by identity policies of ${roleArn} \\[account ${stack.accountId}\\]`));
    await putIdentity(identity);

    // 5. The role recreated after the policies were written: IAM then shows the old role's unique id
    // in place of its ARN (moto keeps the ARN, so the test writes what IAM would show).
    await putSecret(secretGood.replace(`"${roleArn}"`, '"AROAOLDROLE0000000001"'));
    d = await doctor();
    assert.equal(d.secret.status, 'fail');
    assert.match(d.secret.observed, new RegExp(`^refused by resource policy of ${secretArn} \\[account ${DATA}\\]`));
    assert.match((d.secret.details ?? []).join('\n'), /now names AROAOLDROLE0000000001: the role was deleted and recreated/);
    await putSecret(secretGood);
    assert.equal((await doctor()).secret.status, 'pass');
  });

  it('removing the access removes exactly what irsa added: both policies are the originals again', async () => {
    assert.notEqual(await secretPolicy(), originalSecretPolicy, 'the first step left irsa\'s statement in place');
    const file = writeConfig(false);
    const applied = await irsa(stack, ['apply', '-f', file, '--approve'], env);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal(await secretPolicy(), originalSecretPolicy);
    assert.equal(await keyPolicy(), originalKeyPolicy);
    await assert.rejects(aws(inAccount('pod-account'), ['iam', 'get-role-policy', '--role-name', roleName, '--policy-name', 'irsa-access']), /NoSuchEntity|cannot be found/);
    const again = await irsa(stack, ['plan', '-f', file, '--detailed-exitcode'], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  it('deleting the binding (--prune deletes its role) removes irsa\'s statements too', async () => {
    const file = writeConfig(true);
    assert.equal((await irsa(stack, ['apply', '-f', file, '--approve'], env)).code, 0);
    assert.notEqual(await keyPolicy(), originalKeyPolicy);
    writeFileSync(file, stringify({
      version: 1,
      cluster: { name: stack.clusterName, region: stack.region, profile: 'pod-account' },
      accounts: { [DATA]: { profile: 'data-account' }, [SECURITY]: { profile: 'security-account' } },
      bindings: [],
    }));
    const pruned = await irsa(stack, ['apply', '-f', file, '--prune', '--approve'], env);
    assert.equal(pruned.code, 0, pruned.stdout + pruned.stderr);
    await assert.rejects(aws(inAccount('pod-account'), ['iam', 'get-role', '--role-name', roleName]), /NoSuchEntity|cannot be found/);
    assert.equal(await secretPolicy(), originalSecretPolicy);
    assert.equal(await keyPolicy(), originalKeyPolicy);
  });

  it('an account without a profile is a blocker naming accounts.<id>.profile; nothing is written', async () => {
    const file = join(dir, 'no-profile.yaml');
    writeFileSync(file, stringify({
      version: 1,
      cluster: { name: stack.clusterName, region: stack.region, profile: 'pod-account' },
      bindings: [{ namespace: ns, name: 'api', access: [{ resource: secretArn, level: 'read' }] }],
    }));
    const result = await irsa(stack, ['apply', '-f', file, '--approve'], env);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout + result.stderr, new RegExp(`accounts\\."${DATA}"\\.profile`));
    assert.equal(await secretPolicy(), originalSecretPolicy);
  });
});
