// Saved plans can be retried: an apply of a saved plan stopped half-way (the fault proxy denies
// every IAM write after the first few) converges when the same saved plan is run again, the run
// after that says "already applied" — and a hand change in between is refused, naming the role.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { startFaultProxy } from '../harness/fault-proxy.ts';
import { aws, irsa, kubectl, writeCalls } from './helpers/cli.ts';

const { stack, skip } = await useStack();
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const dir = mkdtempSync(join(tmpdir(), 'irsa-retry-'));

async function roleExists(name: string): Promise<boolean> {
  try {
    await aws(stack, ['iam', 'get-role', '--role-name', name]);
    return true;
  } catch {
    return false;
  }
}

describe('saved plan retries', { skip }, () => {
  before(() => stack.resetAws());

  /** A 6-binding irsa.yaml, its saved plan, and an apply of that plan stopped half-way. */
  async function halfApplied(label: string) {
    const ns = `${label}-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const names = Array.from({ length: 6 }, (_, i) => `svc-${i}`);
    const file = join(dir, `${label}.yaml`);
    writeFileSync(file, stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings: names.map((name) => ({ namespace: ns, name, managedPolicies: [S3_READ] })) }));
    const planFile = join(dir, `${label}.plan.json`);
    const planned = await irsa(stack, ['plan', '-f', file, '--out', planFile]);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    const proxy = await startFaultProxy({ target: stack.awsEndpoint, rate: 0, denyWritesAfter: 5 });
    let partial;
    try {
      partial = await irsa(stack, ['apply', planFile, '--approve', '--concurrency', '2'], { AWS_ENDPOINT_URL: proxy.url });
    } finally {
      await proxy.close();
    }
    assert.equal(partial.code, 1, partial.stdout + partial.stderr);
    assert.match(partial.stdout, /Apply stopped: \d+ applied/);
    assert.ok(proxy.counts.denied > 0, 'the proxy denied a write');
    const roles = names.map((name) => `irsa-${stack.clusterName}-${ns}-${name}`);
    const exists = await Promise.all(roles.map(roleExists));
    assert.ok(exists.some(Boolean) && !exists.every(Boolean), `half-way: some roles exist, not all (${exists.join(',')})`);
    return { ns, planFile, roles, created: roles.filter((_, i) => exists[i]) };
  }

  it('re-running the saved plan applies what is left (exit 0); once more: "already applied" (exit 0)', async () => {
    const { ns, planFile, roles } = await halfApplied('retry');
    const rerun = await irsa(stack, ['apply', planFile, '--approve']);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /changes of .* are already in place \(an earlier apply of this plan\)/);
    assert.match(rerun.stdout, /Apply complete/);
    for (const [i, name] of roles.entries()) {
      const role = (await aws(stack, ['iam', 'get-role', '--role-name', name])).Role;
      const attached = await aws(stack, ['iam', 'list-attached-role-policies', '--role-name', name]);
      assert.deepEqual(attached.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn), [S3_READ], name);
      const sa = await kubectl(stack, ['get', 'sa', `svc-${i}`, '-n', ns, '-o', 'json']);
      assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn);
    }

    const again = await irsa(stack, ['apply', planFile, '--approve', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /^Already applied: all \d+ changes of .* are in place; nothing to do\.$/m);
    assert.deepEqual(writeCalls(again.calls), {});
  });

  it('a hand change to one role after the partial apply: the saved plan is refused, naming that role, and nothing is written', async () => {
    const { planFile, created } = await halfApplied('drift');
    const edited = created[0]!;
    await aws(stack, ['iam', 'update-role', '--role-name', edited, '--description', 'changed by hand']);
    const refused = await irsa(stack, ['apply', planFile, '--approve']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`iam-role arn:aws:iam::${stack.accountId}:role/${edited}: changed since the plan was made`));
    assert.deepEqual(writeCalls(refused.calls), {});
  });
});
