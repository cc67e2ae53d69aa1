// Everyday mistakes against the real stack: --no-thumbprint, a made-up region, a misspelt managed
// policy, `apply irsa.yaml` without -f, and --out pointed at the input. Each: a clear message,
// the right exit code, and nothing written that should not be.

import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, kubectl, writeCalls } from './helpers/cli.ts';

const { stack, skip } = await useStack();
const dir = mkdtempSync(join(tmpdir(), 'irsa-ux-'));

describe('CLI mistakes and --no-* flags', { skip }, () => {
  before(() => stack.resetAws());

  it('--no-thumbprint: associate-oidc creates the provider without thumbprints; create-sa-role plans without a crash', async () => {
    const planned = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', 'default', '--name', 'nothumb', '--no-thumbprint']);
    assert.equal(planned.code, 0, planned.stdout + planned.stderr);
    assert.match(planned.stdout, /^\+ oidc-provider /m);
    assert.doesNotMatch(planned.stdout + planned.stderr, /bug|TypeError/);
    const applied = await irsa(stack, ['associate-oidc', '--cluster', stack.clusterName, '--no-thumbprint', '--approve']);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const [provider] = (await aws(stack, ['iam', 'list-open-id-connect-providers'])).OpenIDConnectProviderList;
    const described = await aws(stack, ['iam', 'get-open-id-connect-provider', '--open-id-connect-provider-arn', provider.Arn]);
    assert.deepEqual(described.ThumbprintList ?? [], []);
  });

  it('--no-create-oidc: a missing provider is an error with the command to run, and nothing is written', async () => {
    await stack.resetAws();
    const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', 'default', '--name', 'x', '--no-create-oidc', '--approve']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--no-create-oidc was given\. Create it first with:\n\s+irsa associate-oidc --cluster /);
    assert.deepEqual(writeCalls(result.calls), {});
  });

  it('a region that does not exist is refused before any call', async () => {
    const result = await irsa(stack, ['list', '--cluster', stack.clusterName, '--region', 'mars-1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: --region: "mars-1" is not an AWS region name/);
    assert.deepEqual(result.calls, {});
  });

  it('a misspelt AWS managed policy gets the real name suggested, and nothing is written', async () => {
    const ns = `ux-${process.pid}`;
    await kubectl(stack, ['create', 'namespace', ns]);
    const result = await irsa(stack, ['create-sa-role', '--cluster', stack.clusterName, '-n', ns, '--name', 'api', '--attach-policy-arn', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess', '--approve']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /AmazonS3ReadOnlyAcess does not exist in account \d+ \(iam:GetPolicy\)\. Did you mean arn:aws:iam::aws:policy\/AmazonS3ReadOnlyAccess\?/);
    assert.deepEqual(writeCalls(result.calls), {});
  });

  it('apply irsa.yaml (without -f) says to use -f; plan --out onto the input or a foreign file is refused and the file is unchanged', async () => {
    const file = join(dir, 'irsa.yaml');
    const source = stringify({ version: 1, cluster: { name: stack.clusterName, region: stack.region }, bindings: [{ namespace: 'default', name: 'ux', roleOnly: true }] });
    writeFileSync(file, source);
    const applied = await irsa(stack, ['apply', file, '--approve']);
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, new RegExp(`is an irsa\\.yaml, not a saved plan\\. Apply it with: irsa apply -f ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const onInput = await irsa(stack, ['plan', '-f', file, '--out', file]);
    assert.equal(onInput.code, 1);
    assert.match(onInput.stderr, /--out: .* is the input file/);
    assert.equal(readFileSync(file, 'utf8'), source);
    const notes = join(dir, 'notes.md');
    writeFileSync(notes, '# mine\n');
    const foreign = await irsa(stack, ['plan', '-f', file, '--out', notes]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, /already exists and is not a saved plan/);
    assert.equal(readFileSync(notes, 'utf8'), '# mine\n');
    const overwritten = await irsa(stack, ['plan', '-f', file, '--out', notes, '--overwrite']);
    assert.equal(overwritten.code, 0, overwritten.stderr);
    assert.match(readFileSync(notes, 'utf8'), /"kind": "irsa-saved-plan"/);
  });
});
