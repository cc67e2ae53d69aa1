// Proves the local stack is the real thing, through public clients only: moto's EKS cluster points
// at the apiserver's issuer, discovery is served over verified TLS, tokens are real, and the aws CLI
// sees what the SDK wrote.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stackRequired, useStack } from '../harness/availability.ts';

const run = promisify(execFile);
const { stack, skip } = await useStack();
const suffix = randomBytes(4).toString('hex');

const awsCliPresent = spawnSync('aws', ['--version']).status === 0;
const awsCliSkip = !awsCliPresent && !stackRequired() && 'the aws CLI is not on PATH (pip install awscli)';

function getJson(url: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // Verification stays on: the harness CA must be enough to trust the issuer.
    https.get(url, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body}`));
        else resolve(JSON.parse(body));
      });
    }).on('error', reject);
  });
}

function jwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  const part = token.split('.')[index];
  assert.ok(part, 'token is not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function aws(...args: string[]): Promise<unknown> {
  return run('aws', [...args, '--endpoint-url', stack.awsEndpoint, '--output', 'json'], { env: { ...process.env, ...stack.env } })
    .then(({ stdout }) => JSON.parse(stdout));
}

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

describe('local stack', { skip }, () => {
  it('DescribeCluster reports the apiserver as issuer, endpoint and CA', async () => {
    const eks = new EKSClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials });
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: stack.clusterName }));
    eks.destroy();
    assert.equal(cluster?.identity?.oidc?.issuer, stack.issuerUrl);
    assert.equal(cluster?.endpoint, stack.apiserverUrl);
    assert.equal(Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString(), stack.caCertPem);
  });

  it('serves OIDC discovery anonymously over TLS trusted through the harness CA', async () => {
    const config = await getJson(`${stack.issuerUrl}/.well-known/openid-configuration`, stack.caCertPem) as Record<string, unknown>;
    assert.equal(config.issuer, stack.issuerUrl);
    assert.equal(config.jwks_uri, `${stack.issuerUrl}/openid/v1/jwks`);
    const jwks = await getJson(String(config.jwks_uri), stack.caCertPem) as { keys: { kty: string; alg: string }[] };
    assert.deepEqual(jwks.keys.map((k) => [k.kty, k.alg]), [['RSA', 'RS256']]);
  });

  it('mints service-account tokens for sts.amazonaws.com', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(stack.kubeconfigPath);
    assert.equal(kc.getCurrentContext(), 'irsa-local');
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = `harness-${suffix}`;
    const name = 'app';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name, namespace, body: { spec: { audiences: ['sts.amazonaws.com'] } },
    });
    const token = tokenRequest.status?.token ?? '';
    assert.equal(jwtPart(token, 0).alg, 'RS256');
    const claims = jwtPart(token, 1);
    assert.equal(claims.iss, stack.issuerUrl);
    assert.equal(claims.sub, `system:serviceaccount:${namespace}:${name}`);
    assert.ok(([] as unknown[]).concat(claims.aud).includes('sts.amazonaws.com'), `aud: ${JSON.stringify(claims.aud)}`);
  });

  it('the aws CLI sees a role created through the SDK', { skip: awsCliSkip }, async () => {
    const iam = new IAMClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials });
    const roleName = `harness-${suffix}`;
    await iam.send(new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
    }));
    iam.destroy();
    const listed = await aws('iam', 'list-roles') as { Roles: { RoleName: string }[] };
    assert.ok(listed.Roles.some((r) => r.RoleName === roleName), `${roleName} not in ${JSON.stringify(listed.Roles.map((r) => r.RoleName))}`);
  });

  it('has AWS managed policies loaded', { skip: awsCliSkip }, async () => {
    const arn = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
    const got = await aws('iam', 'get-policy', '--policy-arn', arn) as { Policy: { Arn: string } };
    assert.equal(got.Policy.Arn, arn);
  });

  it('resetAws() clears IAM and brings the EKS cluster back', async () => {
    const iam = new IAMClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials });
    const roleName = `harness-reset-${suffix}`;
    await iam.send(new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }));
    await stack.resetAws();
    await assert.rejects(iam.send(new GetRoleCommand({ RoleName: roleName })), { name: 'NoSuchEntityException' });
    iam.destroy();
    const eks = new EKSClient({ region: stack.region, endpoint: stack.awsEndpoint, credentials });
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: stack.clusterName }));
    eks.destroy();
    assert.equal(cluster?.identity?.oidc?.issuer, stack.issuerUrl);
  });
});
