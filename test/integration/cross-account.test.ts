// Cross-account (the "Segmentation of Security" case): the cluster is read with one account's
// credentials (--cluster-profile), the role and its OIDC provider land in another (--profile).
// moto keeps accounts apart by credentials: an assumed role's keys belong to the role's account.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl } from './helpers/cli.ts';

const { stack, skip } = await useStack();
const IAM_ACCOUNT = '222222222222';

describe('cross-account: cluster in one account, role and provider in another', { skip }, () => {
  let profileEnv: Record<string, string>;
  before(async () => {
    await stack.resetAws();
    const assumed = await aws(stack, ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${IAM_ACCOUNT}:role/platform-admin`, '--role-session-name', 'irsa-test']);
    const dir = mkdtempSync(join(tmpdir(), 'irsa-profiles-'));
    writeFileSync(join(dir, 'credentials'), [
      '[cluster-account]', 'aws_access_key_id = testing', 'aws_secret_access_key = testing', '',
      '[iam-account]', `aws_access_key_id = ${assumed.Credentials.AccessKeyId}`, `aws_secret_access_key = ${assumed.Credentials.SecretAccessKey}`, `aws_session_token = ${assumed.Credentials.SessionToken}`, '',
    ].join('\n'));
    writeFileSync(join(dir, 'config'), `[profile cluster-account]\nregion = ${stack.region}\n[profile iam-account]\nregion = ${stack.region}\n`);
    // Profiles only: no credentials in the environment.
    profileEnv = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
  });

  it('plans each change in the account it lands in, and applies there', async () => {
    const ns = `xacct-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const args = ['create-sa-role', '--cluster', stack.clusterName, '--cluster-profile', 'cluster-account', '--profile', 'iam-account',
      '-n', ns, '--name', 'secrets-reader', '--role-name', 'secrets-reader', '--attach-policy-arn', 'arn:aws:iam::aws:policy/SecretsManagerReadWrite'];
    const planned = await irsa(stack, [...args, '-o', 'json'], profileEnv);
    assert.equal(planned.code, 0, planned.stderr);
    const plan = json<{ plan: { changes: Array<{ kind: string; account: string | null; id: string }>; notes: string[] } }>(planned).plan;
    for (const change of plan.changes.filter((c) => c.kind !== 'service-account')) assert.equal(change.account, IAM_ACCOUNT, change.id);
    assert.match(plan.notes.join('\n'), new RegExp(`cluster is in account ${stack.accountId}; the role and its OIDC provider go to account ${IAM_ACCOUNT}`));

    const text = await irsa(stack, args, profileEnv);
    assert.match(text.stdout, /The cluster is in account/);

    const applied = await irsa(stack, [...args, '--approve'], profileEnv);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const inIam = { env: { ...stack.env, ...profileEnv, AWS_PROFILE: 'iam-account' } };
    const role = (await aws(inIam, ['iam', 'get-role', '--role-name', 'secrets-reader'])).Role;
    assert.equal(role.Arn, `arn:aws:iam::${IAM_ACCOUNT}:role/secrets-reader`);
    const providers = await aws(inIam, ['iam', 'list-open-id-connect-providers']);
    assert.deepEqual(providers.OpenIDConnectProviderList.map((p: { Arn: string }) => p.Arn), [`arn:aws:iam::${IAM_ACCOUNT}:oidc-provider/${new URL(stack.issuerUrl).host}`]);
    // Nothing landed in the cluster's account.
    await assert.rejects(aws(stack, ['iam', 'get-role', '--role-name', 'secrets-reader']), /NoSuchEntity|cannot be found/);
    assert.deepEqual((await aws(stack, ['iam', 'list-open-id-connect-providers'])).OpenIDConnectProviderList, []);
    const sa = await kubectl(stack, ['get', 'sa', 'secrets-reader', '-n', ns, '-o', 'json']);
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn);
  });
});
