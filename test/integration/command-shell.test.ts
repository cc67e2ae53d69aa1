// The command shell around apply: every saved-plan guard, and failed/partial applies (exit code,
// text and JSON report). "Nothing was written" is checked with the aws CLI and kubectl; irsa's own
// call counter is checked too, and a missing counter file fails (helpers/cli.ts).

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, json, kubectl, writeCalls } from './helpers/cli.ts';

const { stack, skip } = await useStack();

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';

/** A proxy in front of moto that answers AccessDenied to every request whose body names `action`. */
async function denyAction(target: string, action: string) {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (body.toString().includes(`Action=${action}`)) {
        res.writeHead(403, { 'content-type': 'text/xml' });
        res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: iam:${action}</Message></Error><RequestId>deny</RequestId></ErrorResponse>`);
        return;
      }
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the command shell: saved-plan guards and failed applies', { skip }, () => {
  const ns = `shell-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'irsa-shell-'));
  const roleName = `${ns}-api`;
  const configFile = join(dir, 'irsa.yaml');
  const planFile = join(dir, 'plan.json');
  const roleNames = async () => (await aws(stack, ['iam', 'list-roles'])).Roles.map((r: { RoleName: string }) => r.RoleName) as string[];
  const assertNothingWritten = async (label: string, result: { calls: Record<string, number> }) => {
    assert.ok(!(await roleNames()).includes(roleName), `${label}: no role was created (aws iam list-roles)`);
    const sas = await kubectl(stack, ['get', 'sa', '-n', ns, '-o', 'json']);
    assert.ok(!sas.items.some((sa: { metadata: { name: string } }) => sa.metadata.name === 'api'), `${label}: no ServiceAccount was created (kubectl)`);
    assert.deepEqual(writeCalls(result.calls), {}, `${label}: irsa's counter shows no write`);
  };

  before(async () => {
    await stack.resetAws();
    await kubectl(stack, ['create', 'namespace', ns]);
    writeFileSync(configFile, stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings: [{ namespace: ns, name: 'api', roleName, managedPolicies: [S3_READ] }] }));
    const planned = await irsa(stack, ['plan', '-f', configFile, '--out', planFile]);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
  });

  it('a saved plan made without --prune is not applied with --prune', async () => {
    const result = await irsa(stack, ['apply', planFile, '--prune', '--approve']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--prune: the saved plan was made without --prune; apply it as saved, or plan again/);
    await assertNothingWritten('--prune mismatch', result);
  });

  it('-f with a plan file, an unreadable plan file, and a file that is not a saved plan are refused', async () => {
    const both = await irsa(stack, ['apply', '-f', configFile, planFile, '--approve']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /Give either -f irsa\.yaml or a saved plan file, not both/);
    await assertNothingWritten('-f and a plan file', both);

    const missing = await irsa(stack, ['apply', join(dir, 'no-such-plan.json'), '--approve']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read plan file ".*no-such-plan\.json" \(ENOENT\)/);
    await assertNothingWritten('unreadable plan file', missing);

    for (const [name, text, pattern] of [
      ['garbage.json', 'not json', /not a saved plan \(invalid JSON/],
      ['other.json', JSON.stringify({ kind: 'something-else', version: 1, changes: [] }), /not an irsa saved plan/],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, text);
      const result = await irsa(stack, ['apply', file, '--approve']);
      assert.equal(result.code, 1, name);
      assert.match(result.stderr, pattern);
      await assertNothingWritten(name, result);
    }
  });

  it('--concurrency outside 1–64 is refused before anything is read or written', async () => {
    for (const value of ['0', '65', 'many']) {
      const result = await irsa(stack, ['apply', planFile, '--concurrency', value, '--approve']);
      assert.equal(result.code, 1, value);
      assert.match(result.stderr, new RegExp(`--concurrency: "${value}" is not allowed\\. Give a whole number from 1 to 64`));
      await assertNothingWritten(`--concurrency ${value}`, result);
    }
  });

  it('the saved plan applies when nothing changed (the guards above are what stopped it)', async () => {
    const result = await irsa(stack, ['apply', planFile, '--approve']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.ok((await roleNames()).includes(roleName));
  });

  it('a partial apply exits 1 and says what was applied and what failed, in text and in JSON', async () => {
    const proxy = await denyAction(stack.awsEndpoint, 'AttachRolePolicy');
    try {
      const text = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'partial', '--role-name', `${ns}-partial`, '--attach-policy-arn', S3_READ, '--approve'], { AWS_ENDPOINT_URL: proxy.url });
      assert.equal(text.code, 1, text.stdout + text.stderr);
      assert.match(text.stdout, /Apply stopped: \d+ applied, 1 failed/);
      assert.match(text.stdout, /failed: +role-policy-attachment .*AmazonS3ReadOnlyAccess: .*not authorized/);
      assert.match(text.stdout, /Run the same command again to converge/);
      assert.ok((await roleNames()).includes(`${ns}-partial`), 'the role itself was created (aws iam list-roles)');
      const attached = await aws(stack, ['iam', 'list-attached-role-policies', '--role-name', `${ns}-partial`]);
      assert.deepEqual(attached.AttachedPolicies, []);

      const jsonRun = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'partial', '--role-name', `${ns}-partial`, '--attach-policy-arn', S3_READ, '--approve', '-o', 'json', '--detailed-exitcode'], { AWS_ENDPOINT_URL: proxy.url });
      assert.equal(jsonRun.code, 1);
      const report = json<{ applied: boolean; apply: { ok: boolean; failed: number; results: Array<{ kind: string; status: string; error: string | null }> } }>(jsonRun);
      assert.equal(report.applied, true);
      assert.equal(report.apply.ok, false);
      assert.equal(report.apply.failed, 1);
      const failed = report.apply.results.find((r) => r.status === 'failed')!;
      assert.equal(failed.kind, 'role-policy-attachment');
      assert.match(failed.error!, /not authorized/);
    } finally {
      await proxy.close();
    }
    // Without the fault, the same command converges.
    const again = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'partial', '--role-name', `${ns}-partial`, '--attach-policy-arn', S3_READ, '--approve']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });
});
