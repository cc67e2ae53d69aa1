// --verify after create-sa-role and apply: a token minted with the TokenRequest API, then
// sts:AssumeRoleWithWebIdentity against moto, through the fault proxy to play IAM's propagation delay.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { aws, irsa, kubectl } from './helpers/cli.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
let sequence = 0;
const dir = mkdtempSync(join(tmpdir(), 'irsa-verify-'));

async function namespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${process.pid}-${++sequence}`;
  await kubectl(stack, ['create', 'namespace', ns]);
  return ns;
}

const createSaRole = (ns: string, role: string, ...extra: string[]) =>
  ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'app', '--role-name', role, '--attach-policy-arn', S3_READ, '--approve', ...extra];

const JWT = /eyJ[\w-]+\.eyJ/;

describe('--verify', { skip }, () => {
  before(async () => {
    await stack.resetAws();
  });

  it('create-sa-role --approve --verify reports the assumed-role ARN, never the token', async () => {
    const ns = await namespace('verify');
    const result = await irsa(stack, createSaRole(ns, `${ns}-app`, '--verify'));
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`^✓ verified ${ns}/app: assumed arn:aws:sts::${stack.accountId}:assumed-role/${ns}-app/irsa-verify-\\d+$`, 'm'));
    assert.equal(result.calls['k8s POST serviceaccounts/token'], 1);
    assert.equal(result.calls['sts AssumeRoleWithWebIdentity'], 1);
    assert.doesNotMatch(result.stdout + result.stderr, JWT);
    assert.doesNotMatch(result.stdout + result.stderr, /SecretAccessKey|SessionToken/);
  });

  it('while IAM propagates (STS answers AccessDenied to the first calls) it retries and succeeds', async () => {
    const ns = await namespace('propagate');
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, denyWebIdentity: 3 });
    try {
      const result = await irsa(stack, createSaRole(ns, `${ns}-app`, '--verify'), { AWS_ENDPOINT_URL_STS: proxy.url });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.equal(proxy.deniedWebIdentity(), 3);
      assert.equal(result.calls['sts AssumeRoleWithWebIdentity'], 4);
      assert.match(result.stdout, new RegExp(`^✓ verified ${ns}/app: assumed arn:aws:sts::${stack.accountId}:assumed-role/${ns}-app/irsa-verify-\\d+ \\(after 4 attempts while IAM propagated\\)$`, 'm'));
    } finally {
      await proxy.close();
    }
  });

  it('past --verify-timeout it exits 1 naming the binding (the binding itself was applied)', async () => {
    const ns = await namespace('timeout');
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, denyWebIdentity: Infinity });
    try {
      const result = await irsa(stack, createSaRole(ns, `${ns}-app`, '--verify', '--verify-timeout', '2'), { AWS_ENDPOINT_URL_STS: proxy.url });
      assert.equal(result.code, 1, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`^✗ verification failed for ${ns}/app \\(arn:aws:iam::${stack.accountId}:role/${ns}-app\\) after \\d+ attempts: .*Not authorized to perform sts:AssumeRoleWithWebIdentity`, 'm'));
      assert.ok(proxy.deniedWebIdentity() >= 2);
      assert.doesNotMatch(result.stdout + result.stderr, JWT);
      const role = await aws(stack, ['iam', 'get-role', '--role-name', `${ns}-app`]);
      assert.equal(role.Role.RoleName, `${ns}-app`);
    } finally {
      await proxy.close();
    }
  });

  it('apply -f irsa.yaml --approve --verify verifies every binding', async () => {
    const ns = await namespace('applyv');
    const file = join(dir, 'irsa.yaml');
    writeFileSync(file, stringify({
      version: 1,
      cluster: { name: stack.clusterName, region: stack.region },
      bindings: ['a', 'b'].map((name) => ({ namespace: ns, name, roleName: `${ns}-${name}`, managedPolicies: [S3_READ] })),
    }));
    const result = await irsa(stack, ['apply', '-f', file, '--approve', '--verify']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    for (const name of ['a', 'b']) {
      assert.match(result.stdout, new RegExp(`^✓ verified ${ns}/${name}: assumed arn:aws:sts::${stack.accountId}:assumed-role/${ns}-${name}/irsa-verify-\\d+$`, 'm'));
    }
  });

  it('a bad --verify-timeout is refused before anything is written', async () => {
    const ns = await namespace('badtimeout');
    const result = await irsa(stack, createSaRole(ns, `${ns}-app`, '--verify', '--verify-timeout', 'soon'));
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /--verify-timeout: "soon" is not allowed\. Give whole seconds from 1 to 3600/);
    const roles = await aws(stack, ['iam', 'list-roles']);
    assert.ok(!roles.Roles.some((r: { RoleName: string }) => r.RoleName === `${ns}-app`));
  });
});
