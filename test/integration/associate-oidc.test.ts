// irsa associate-oidc against moto (IAM/EKS) and the real apiserver's discovery endpoint over TLS.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, writeCalls } from './helpers/cli.ts';

const { stack, skip } = await useStack();

/** SHA-1 of the last certificate the server presents, computed by openssl (independent of irsa). */
function opensslThumbprint(hostPort: string): string {
  const chain = execFileSync('openssl', ['s_client', '-connect', hostPort, '-showcerts'], { input: '', stdio: ['pipe', 'pipe', 'ignore'] }).toString();
  const pems = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  assert.ok(pems.length > 0, 'openssl saw no certificate');
  const fingerprint = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha1'], { input: pems.at(-1)! }).toString();
  return fingerprint.split('=')[1]!.trim().replace(/:/g, '').toLowerCase();
}

describe('irsa associate-oidc', { skip }, () => {
  let hostPort: string;
  let providerArn: string;
  before(async () => {
    await stack.resetAws();
    hostPort = new URL(stack.issuerUrl).host;
    providerArn = `arn:aws:iam::${stack.accountId}:oidc-provider/${hostPort}`;
  });

  it('plans one create, changes nothing without --approve, and the JSON plan matches the documented schema', async () => {
    const result = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '-o', 'json', '--detailed-exitcode']);
    assert.equal(result.code, 2, result.stderr);
    const output = json<{ plan: { changes: Array<{ action: string; kind: string; id: string }>; summary: Record<string, number> } }>(result);
    const schema = JSON.parse(readFileSync(new URL('../../docs/plan.schema.json', import.meta.url), 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: false });
    assert.ok(ajv.validate(schema, output), ajv.errorsText());
    assert.deepEqual(output.plan.changes.map((c) => `${c.action} ${c.kind} ${c.id}`), [`create oidc-provider ${providerArn}`]);
    assert.deepEqual(writeCalls(result.calls), {});
    const providers = await aws(stack, ['iam', 'list-open-id-connect-providers']);
    assert.deepEqual(providers.OpenIDConnectProviderList, []);
  });

  it('with --approve creates the provider with the URL, client ID and the thumbprint openssl computes', async () => {
    const result = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--approve']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Apply complete: 1 changes applied/);
    const provider = await aws(stack, ['iam', 'get-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]);
    assert.equal(provider.Url.replace(/^https:\/\//, ''), hostPort);
    assert.deepEqual(provider.ClientIDList, ['sts.amazonaws.com']);
    assert.deepEqual(provider.ThumbprintList, [opensslThumbprint(hostPort)]);
  });

  it('running again plans nothing, writes nothing, and exits 0 even with --detailed-exitcode', async () => {
    const result = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--approve', '--detailed-exitcode']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /No changes/);
    assert.deepEqual(writeCalls(result.calls), {});
  });

  it('repairs a drifted thumbprint with one update', async () => {
    await aws(stack, ['iam', 'update-open-id-connect-provider-thumbprint', '--open-id-connect-provider-arn', providerArn, '--thumbprint-list', 'a'.repeat(40)]);
    const planned = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '-o', 'json']);
    assert.deepEqual(json<{ plan: { summary: Record<string, number> } }>(planned).plan.summary, { create: 0, update: 1, delete: 0, 'no-op': 0 });
    const applied = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--approve']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.deepEqual(writeCalls(applied.calls), { 'iam UpdateOpenIDConnectProviderThumbprint': 1 });
    const provider = await aws(stack, ['iam', 'get-open-id-connect-provider', '--open-id-connect-provider-arn', providerArn]);
    assert.deepEqual(provider.ThumbprintList, [opensslThumbprint(hostPort)]);
  });

  it('--issuer-url works for self-managed clusters and refuses http', async () => {
    const planned = await irsa(stack, ['associate-oidc', '--issuer-url', stack.issuerUrl]);
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stdout, /No changes/);
    const refused = await irsa(stack, ['associate-oidc', '--issuer-url', stack.issuerUrl.replace('https:', 'http:')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--issuer-url/);
    assert.deepEqual(writeCalls(refused.calls), {});
  });

  it('an unknown cluster is a clear error naming the region searched, with no write', async () => {
    const result = await irsa(stack, ['associate-oidc', '--cluster', 'nope']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`no EKS cluster named "nope" in region ${stack.region}`));
    assert.deepEqual(writeCalls(result.calls), {});
  });

  it('--verbose lists every call and never prints credentials', async () => {
    const secrets = { AWS_ACCESS_KEY_ID: 'AKIAVERBOSETEST12345', AWS_SECRET_ACCESS_KEY: 'verbose-secret-value-never-printed', AWS_SESSION_TOKEN: 'verbose-session-token-never-printed' };
    const result = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--verbose', '--approve'], secrets);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /aws eks DescribeCluster/);
    assert.match(result.stderr, /aws iam GetOpenIDConnectProvider/);
    assert.match(result.stderr, /tls GET certificate-chain/);
    for (const value of Object.values(secrets)) {
      assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value), 'a credential was printed');
    }
  });

  it('no credentials: a clear error saying how to provide them, and no write', async () => {
    const result = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--approve'], {
      AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: No AWS credentials found for eks:DescribeCluster.*--profile.*aws sso login/m);
    assert.deepEqual(writeCalls(result.calls), {});
  });

  it('--thumbprint is validated before any call', async () => {
    const result = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--thumbprint', 'xyz']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--thumbprint/);
    assert.deepEqual(result.calls, {});
  });
});
