// Cross-account irsa.yaml in CI form: cluster.profile reads the cluster in one account,
// iam.profile writes the role and the provider in another; plan --out, then apply the saved plan.
// moto keeps accounts apart by credentials: an assumed role's keys belong to the role's account.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, kubectl } from './helpers/cli.ts';

const { stack, skip } = await useStack();
const IAM_ACCOUNT = '333333333333';
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';

describe('cross-account irsa.yaml: plan --out, apply the saved plan', { skip }, () => {
  let profileEnv: Record<string, string>;
  let dir: string;
  before(async () => {
    await stack.resetAws();
    const assumed = await aws(stack, ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${IAM_ACCOUNT}:role/ci-deployer`, '--role-session-name', 'irsa-ci']);
    dir = mkdtempSync(join(tmpdir(), 'irsa-xacct-yaml-'));
    writeFileSync(join(dir, 'credentials'), [
      '[cluster-account]', 'aws_access_key_id = testing', 'aws_secret_access_key = testing', '',
      '[role-account]', `aws_access_key_id = ${assumed.Credentials.AccessKeyId}`, `aws_secret_access_key = ${assumed.Credentials.SecretAccessKey}`, `aws_session_token = ${assumed.Credentials.SessionToken}`, '',
    ].join('\n'));
    writeFileSync(join(dir, 'config'), `[profile cluster-account]\nregion = ${stack.region}\n[profile role-account]\nregion = ${stack.region}\n`);
    // Profiles only, named in the file: no credentials in the environment.
    profileEnv = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
  });

  it('plans each change in the account it lands in, saves the plan, and applies it there', async () => {
    const ns = `xyaml-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const file = join(dir, 'irsa.yaml');
    writeFileSync(file, stringify({
      version: 1,
      cluster: { name: stack.clusterName, region: stack.region, profile: 'cluster-account' },
      iam: { profile: 'role-account' },
      bindings: [{ namespace: ns, name: 'reader', managedPolicies: [S3_READ] }],
    }));
    const planFile = join(dir, 'plan.json');
    const planned = await irsa(stack, ['plan', '-f', file, '--out', planFile], profileEnv);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    const roleArn = `arn:aws:iam::${IAM_ACCOUNT}:role/irsa-${stack.clusterName}-${ns}-reader`;
    assert.match(planned.stdout, new RegExp(`^\\+ iam-role ${roleArn} \\[account ${IAM_ACCOUNT}\\]$`, 'm'));
    assert.match(planned.stdout, new RegExp(`^\\+ oidc-provider arn:aws:iam::${IAM_ACCOUNT}:oidc-provider/\\S+ \\[account ${IAM_ACCOUNT}\\]$`, 'm'));
    assert.match(planned.stdout, new RegExp(`The cluster is in account ${stack.accountId}; the roles and the OIDC provider go to account ${IAM_ACCOUNT}`));

    const applied = await irsa(stack, ['apply', planFile, '--approve'], profileEnv);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.match(applied.stdout, new RegExp(`\\[account ${IAM_ACCOUNT}\\]`));
    const inRoleAccount = { env: { ...stack.env, ...profileEnv, AWS_PROFILE: 'role-account' } };
    const role = (await aws(inRoleAccount, ['iam', 'get-role', '--role-name', `irsa-${stack.clusterName}-${ns}-reader`])).Role;
    assert.equal(role.Arn, roleArn);
    const attached = await aws(inRoleAccount, ['iam', 'list-attached-role-policies', '--role-name', role.RoleName]);
    assert.deepEqual(attached.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn), [S3_READ]);
    // Nothing landed in the cluster's account.
    await assert.rejects(aws(stack, ['iam', 'get-role', '--role-name', role.RoleName]), /NoSuchEntity|cannot be found/);
    const sa = await kubectl(stack, ['get', 'sa', 'reader', '-n', ns, '-o', 'json']);
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], roleArn);

    const again = await irsa(stack, ['apply', planFile, '--approve'], profileEnv);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^Already applied/m);
  });

  it('with only --profile, "no EKS cluster" says to pass --cluster-profile', async () => {
    const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '--profile', 'role-account', '-n', 'x', '--name', 'y'], profileEnv);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /no EKS cluster named .*--cluster-profile/);
  });
});
