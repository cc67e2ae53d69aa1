// Issue 25's acceptance: bad input across every command and irsa.yaml, table-driven, against the
// real stack. Each case asserts: exit ≠ 0, no stack trace (and no "This is a bug"), the message
// names the flag or irsa.yaml key, and nothing changed — a digest of IAM in two accounts (moto
// keeps accounts apart by credentials) and of the cluster (namespaces, ServiceAccounts and their
// annotations) is the same after the run as before it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAccountAuthorizationDetailsCommand, IAMClient, ListOpenIDConnectProvidersCommand } from '@aws-sdk/client-iam';
import { stringify } from 'yaml';
import { useStack } from '../harness/availability.ts';
import { aws, irsa, kubectl } from './helpers/cli.ts';

const { stack, skip } = await useStack();
const OTHER_ACCOUNT = '222222222222';
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';

interface Case {
  name: string;
  args: (ctx: Ctx) => string[];
  /** The flag or irsa.yaml key the message must name, and what it must say. */
  expect: RegExp;
  /** What the message must not say (e.g. another flag, RBAC advice for an unreachable apiserver). */
  not?: RegExp;
  env?: (ctx: Ctx) => Record<string, string>;
}

interface Ctx {
  dir: string;
  ns: string;
  cluster: string;
  file: (name: string, text: string) => string;
  profiles: Record<string, string>;
}

const TRACE = /\n\s+at \S.*(\(|:\d+:\d+)|This is a bug|ReferenceError|TypeError|ERR_[A-Z_]+|Multiple credential sources/;

describe('bad input: exit ≠ 0, no trace, the flag or key named, nothing changed (issue 25)', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-bad-'));
  const ns = `bad-${process.pid}`;
  const terminating = `term-${process.pid}`;
  let otherEnv: Record<string, string> = {};
  let clients: IAMClient[] = [];
  const ctx: Ctx = {
    dir,
    ns,
    cluster: stack?.clusterName ?? '',
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    profiles: {},
  };
  const config = (binding: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    stringify({ version: 1, cluster: { name: ctx.cluster, region: stack.region }, ...extra, bindings: [{ namespace: ns, name: 'api', ...binding }] });
  let planFile = '';
  // A port nothing listens on (fetch refuses "bad ports" such as 1 before connecting).
  let closedPort = 0;
  let planDigest = '';
  // The state before a case is the state after the one before it: one digest per case (taken after
  // it) instead of two. Any change a case makes still fails that case, and the next case compares
  // against the new state, so one failure is not blamed on every case after it.
  let lastDigest = '';

  async function iamDigest(client: IAMClient): Promise<string> {
    const details = await client.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'] }));
    const providers = await client.send(new ListOpenIDConnectProvidersCommand({}));
    const roles = (details.RoleDetailList ?? []).map((r) => [r.RoleName, r.AssumeRolePolicyDocument, r.AttachedManagedPolicies, r.RolePolicyList, r.Tags]);
    return JSON.stringify([roles, (providers.OpenIDConnectProviderList ?? []).map((p) => p.Arn).sort()]);
  }
  async function digest(): Promise<string> {
    const cluster = await kubectl<{ items: Array<{ kind: string; metadata: { namespace?: string; name: string; annotations?: Record<string, string> }; status?: { phase?: string } }> }>(
      stack, ['get', 'namespaces,serviceaccounts', '-A', '-o', 'json'],
    );
    const k8s = cluster.items.map((item) => [item.kind, item.metadata.namespace ?? '', item.metadata.name, item.metadata.annotations ?? {}, item.status?.phase ?? '']);
    const iam = await Promise.all(clients.map(iamDigest));
    return createHash('sha256').update(JSON.stringify([k8s, iam])).digest('hex');
  }

  before(async () => {
    closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    await stack.resetAws();
    await kubectl(stack, ['create', 'namespace', ns]);
    await kubectl(stack, ['create', 'serviceaccount', 'api', '-n', ns]);
    // No kube-controller-manager: a deleted namespace stays Terminating.
    await kubectl(stack, ['create', 'namespace', terminating]);
    await kubectl(stack, ['delete', 'namespace', terminating, '--wait=false']);
    const assumed = await aws(stack, ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${OTHER_ACCOUNT}:role/admin`, '--role-session-name', 'irsa-bad']);
    const creds = assumed.Credentials;
    writeFileSync(join(dir, 'credentials'), ['[main]', 'aws_access_key_id = testing', 'aws_secret_access_key = testing', '', '[other]', `aws_access_key_id = ${creds.AccessKeyId}`, `aws_secret_access_key = ${creds.SecretAccessKey}`, `aws_session_token = ${creds.SessionToken}`, ''].join('\n'));
    writeFileSync(join(dir, 'config'), `[profile main]\nregion = ${stack.region}\n[profile other]\nregion = ${stack.region}\n`);
    ctx.profiles = { AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'), AWS_CONFIG_FILE: join(dir, 'config') };
    otherEnv = { ...ctx.profiles, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'other' };
    const endpoint = stack.env['AWS_ENDPOINT_URL']!;
    clients = [
      new IAMClient({ endpoint, region: stack.region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }),
      new IAMClient({ endpoint, region: stack.region, credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken } }),
    ];
    // A saved plan to tamper with (planning writes nothing).
    const yamlFile = ctx.file('saved.yaml', config({ roleOnly: true, roleName: `bad-saved-${process.pid}`, managedPolicies: [S3_READ] }));
    planFile = join(dir, 'plan.json');
    const planned = await irsa(stack, ['plan', '-f', yamlFile, '--out', planFile]);
    assert.equal(planned.code, 0, planned.stderr);
    planDigest = /digest (sha256:[0-9a-f]{64})/.exec(planned.stdout)?.[1] ?? '';
    assert.match(planDigest, /^sha256:/, planned.stdout);
    assert.match(planned.stdout, new RegExp(`irsa apply ${planFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --approve --expect-digest ${planDigest}`));
    lastDigest = await digest();
  });
  after(() => {
    for (const client of clients) client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (c: Ctx, ...extra: string[]) => ['create-sa-role', '--cluster', c.cluster, '-n', c.ns, '--name', 'api', ...extra, '--approve'];
  const yaml = (name: string, binding: Record<string, unknown>, extra: Record<string, unknown> = {}) => (c: Ctx) => ['apply', '-f', c.file(name, config(binding, extra)), '--approve'];
  const policyFile = (c: Ctx) => c.file('policy.json', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }));
  const tampered = (c: Ctx, changesOnly: boolean) => {
    const saved = JSON.parse(readFileSync(planFile, 'utf8'));
    if (changesOnly) saved.changes = JSON.parse(JSON.stringify(saved.changes).replaceAll('AmazonS3ReadOnlyAccess', 'AdministratorAccess'));
    const text = changesOnly ? JSON.stringify(saved, null, 2) : JSON.stringify(saved, null, 2).replaceAll('AmazonS3ReadOnlyAccess', 'AdministratorAccess');
    return c.file(changesOnly ? 'tampered-changes.json' : 'tampered-both.json', text);
  };

  const cases: Case[] = [
    // create-sa-role: fields
    { name: 'reserved irsa: tag', args: (c) => create(c, '--tags', 'irsa:managed-by=someone-else'), expect: /--tags: tag key "irsa:managed-by" is reserved/ },
    { name: 'reserved aws: tag', args: (c) => create(c, '--tags', 'aws:owner=me'), expect: /--tags: tag key "aws:owner" is reserved by AWS/ },
    { name: 'tag without =', args: (c) => create(c, '--tags', 'team'), expect: /--tags: "team" is not key=value/ },
    { name: 'tag value too long', args: (c) => create(c, '--tags', `team=${'x'.repeat(257)}`), expect: /--tags: the value of tag "team"/ },
    { name: 'wide subject pattern', args: (c) => create(c, '--subject-pattern', 'system:serviceaccount:*:*'), expect: /--subject-pattern: .*several namespaces.*--allow-wide-subjects/ },
    { name: 'namespace-prefix wildcard', args: (c) => create(c, '--subject-pattern', 'system:serviceaccount:bad-*:api'), expect: /--subject-pattern: .*several namespaces/ },
    { name: 'pattern not matching its own ServiceAccount', args: (c) => create(c, '--subject-pattern', 'system:serviceaccount:other:*'), expect: /--subject-pattern: .*does not match this ServiceAccount/ },
    { name: 'pattern of another shape', args: (c) => create(c, '--subject-pattern', 'everyone'), expect: /--subject-pattern: "everyone" is not a ServiceAccount subject pattern/ },
    { name: '--allow-wide-subjects alone', args: (c) => create(c, '--allow-wide-subjects'), expect: /--allow-wide-subjects needs --subject-pattern/ },
    { name: 'empty audience', args: (c) => create(c, '--audience', ''), expect: /--audience: is empty/ },
    { name: 'audience with a space', args: (c) => create(c, '--audience', 'sts amazonaws'), expect: /--audience: "sts amazonaws" is not an audience/ },
    { name: '--thumbprint with --no-thumbprint', args: (c) => create(c, '--thumbprint', 'a'.repeat(40), '--no-thumbprint'), expect: /--no-thumbprint cannot be combined with --thumbprint/ },
    { name: '--no-thumbprint then --thumbprint', args: (c) => create(c, '--no-thumbprint', '--thumbprint', 'a'.repeat(40)), expect: /--no-thumbprint cannot be combined with --thumbprint/ },
    { name: 'thumbprint not hex', args: (c) => create(c, '--thumbprint', 'zz'), expect: /--thumbprint/ },
    { name: 'six thumbprints', args: (c) => create(c, ...Array.from({ length: 6 }, (_, i) => ['--thumbprint', String(i).repeat(40)]).flat()), expect: /--thumbprint: 6 given/ },
    { name: 'inline policy: invalid JSON', args: (c) => create(c, '--inline-policy', c.file('broken.json', '{"Version": ')), expect: /--inline-policy\b(?!-name)/, not: /--inline-policy-name/ },
    { name: 'inline policy: missing file', args: (c) => create(c, '--inline-policy', join(c.dir, 'missing.json')), expect: /--inline-policy: cannot read/ },
    { name: 'inline policy: not a policy', args: (c) => create(c, '--inline-policy', c.file('notpolicy.json', '{"a":1}')), expect: /--inline-policy\b(?!-name)/, not: /--inline-policy-name/ },
    { name: 'inline policy name invalid', args: (c) => create(c, '--inline-policy', policyFile(c), '--inline-policy-name', 'bad name!'), expect: /--inline-policy-name/ },
    { name: '--inline-policy-name alone', args: (c) => create(c, '--inline-policy-name', 'x'), expect: /--inline-policy-name needs --inline-policy/ },
    { name: '--attach-role-arn with --role-name', args: (c) => create(c, '--attach-role-arn', 'arn:aws:iam::123456789012:role/x', '--role-name', 'y'), expect: /--attach-role-arn cannot be combined with --role-name/ },
    { name: '--attach-role-arn with --path', args: (c) => create(c, '--attach-role-arn', 'arn:aws:iam::123456789012:role/x', '--path', '/a/'), expect: /--attach-role-arn cannot be combined with --path/ },
    { name: '--attach-role-arn not an ARN', args: (c) => create(c, '--attach-role-arn', 'role/x'), expect: /--attach-role-arn/ },
    { name: '--role-only with --create-namespace', args: (c) => create(c, '--role-only', '--create-namespace'), expect: /--role-only cannot be combined with --create-namespace/ },
    { name: '--role-only with --token-expiration', args: (c) => create(c, '--role-only', '--token-expiration', '900'), expect: /--role-only cannot be combined with --token-expiration/ },
    { name: '--role-only with --verify', args: (c) => create(c, '--role-only', '--verify'), expect: /--role-only cannot be combined with --verify/ },
    { name: '--verify-timeout without --verify', args: (c) => create(c, '--verify-timeout', '5'), expect: /--verify-timeout needs --verify/ },
    { name: '--lock-timeout not whole seconds', args: (c) => create(c, '--lock-timeout', '2m'), expect: /--lock-timeout: "2m" is not a number of seconds from 1 to 3600/ },
    { name: '--delete-key-secrets alone', args: (c) => create(c, '--delete-key-secrets'), expect: /--delete-key-secrets needs --remove-static-keys/ },
    { name: '--workload malformed', args: (c) => create(c, '--workload', 'api'), expect: /--workload: "api" is not a workload/ },
    { name: 'token expiration too short', args: (c) => create(c, '--token-expiration', '5'), expect: /--token-expiration: "5" is not allowed/ },
    { name: 'max session duration too short', args: (c) => create(c, '--max-session-duration', '100'), expect: /--max-session-duration/ },
    { name: 'trust policy size below 2048', args: (c) => create(c, '--max-trust-policy-size', '10'), expect: /--max-trust-policy-size/ },
    { name: 'role name with a space', args: (c) => create(c, '--role-name', 'my role'), expect: /--role-name/ },
    { name: 'role name of 65 characters', args: (c) => create(c, '--role-name', 'r'.repeat(65)), expect: /--role-name/ },
    { name: 'path without slashes', args: (c) => create(c, '--path', 'team'), expect: /--path/ },
    { name: 'policy ARN malformed', args: (c) => create(c, '--attach-policy-arn', 'AmazonS3ReadOnlyAccess'), expect: /--attach-policy-arn/ },
    { name: 'boundary ARN malformed', args: (c) => create(c, '--permissions-boundary', 'boundary'), expect: /--permissions-boundary/ },
    { name: 'description too long', args: (c) => create(c, '--description', 'd'.repeat(1001)), expect: /--description/ },
    { name: 'namespace not DNS-1123', args: (c) => ['create-sa-role', '--cluster', c.cluster, '-n', 'Bad_NS', '--name', 'api', '--approve'], expect: /--namespace/ },
    { name: 'name not DNS-1123', args: (c) => ['create-sa-role', '--cluster', c.cluster, '-n', c.ns, '--name', 'API', '--approve'], expect: /--name/ },
    { name: 'name missing', args: (c) => ['create-sa-role', '--cluster', c.cluster, '-n', c.ns, '--approve'], expect: /--name is required/ },
    { name: 'cluster missing', args: (c) => ['create-sa-role', '-n', c.ns, '--name', 'api', '--approve'], expect: /--cluster is required/ },
    { name: '--cluster with --issuer-url', args: (c) => create(c, '--issuer-url', 'https://oidc.example.com'), expect: /--issuer-url cannot be combined with --cluster/ },
    { name: 'issuer over http', args: (c) => ['create-sa-role', '--issuer-url', 'http://oidc.example.com', '-n', c.ns, '--name', 'api', '--approve'], expect: /--issuer-url/ },
    { name: 'region that does not exist', args: (c) => create(c, '--region', 'mars-1'), expect: /--region: "mars-1" is not an AWS region/ },
    { name: 'profile that does not exist (and static keys set: no SDK noise)', args: (c) => create(c, '--profile', 'nope'), env: (c) => c.profiles, expect: /--profile: profile nope is not in your AWS config/ },
    { name: 'AWS_PROFILE that does not exist', args: (c) => create(c), env: (c) => ({ ...c.profiles, AWS_PROFILE: 'nope' }), expect: /AWS_PROFILE: profile nope is not in your AWS config/ },
    { name: 'output format yaml', args: (c) => create(c, '-o', 'yaml'), expect: /--output/ },
    { name: 'kubeconfig that does not exist', args: (c) => create(c, '--kubeconfig', join(c.dir, 'nokube')), expect: /--kubeconfig/ },
    { name: 'CA bundle that does not exist', args: (c) => create(c, '--ca-bundle', join(c.dir, 'no.pem')), expect: /--ca-bundle: cannot read/ },
    {
      name: 'apiserver unreachable: said so, no RBAC advice',
      args: (c) => create(c, '--kubeconfig', c.file('down.kubeconfig', readFileSync(stack.kubeconfigPath, 'utf8').replace(/server: \S+/, `server: https://127.0.0.1:${closedPort}`))),
      expect: /The Kubernetes API server is unreachable at https:\/\/127\.0\.0\.1:\d+ .*connection refused/,
      not: /Grant|skip-cluster-check|RBAC|ClusterRole/,
    },
    { name: 'namespace Terminating', args: (c) => ['create-sa-role', '--cluster', c.cluster, '-n', terminating, '--name', 'api', '--approve'], expect: new RegExp(`namespace "${terminating}" is Terminating`), not: /Grant/ },
    // other commands
    { name: 'delete-sa-role without --name', args: (c) => ['delete-sa-role', '--cluster', c.cluster, '-n', c.ns, '--approve'], expect: /--name/ },
    { name: 'delete-sa-role bad namespace', args: (c) => ['delete-sa-role', '--cluster', c.cluster, '-n', 'Bad', '--name', 'api', '--approve'], expect: /--namespace/ },
    { name: 'associate-oidc with both thumbprint flags', args: (c) => ['associate-oidc', '--cluster', c.cluster, '--no-thumbprint', '--thumbprint', 'b'.repeat(40), '--approve'], expect: /--no-thumbprint cannot be combined with --thumbprint/ },
    { name: 'associate-oidc without a cluster', args: () => ['associate-oidc', '--approve'], expect: /--cluster is required/ },
    { name: 'audit --iam with -n', args: (c) => ['audit', '--iam', '-n', c.ns], expect: /--iam cannot be combined with --namespace/ },
    { name: 'audit --path without --iam', args: () => ['audit', '--path', '/irsa/'], expect: /--path needs --iam/ },
    { name: 'list with an http issuer', args: () => ['list', '--issuer-url', 'http://x.example'], expect: /--issuer-url/ },
    { name: 'doctor without --name', args: (c) => ['doctor', '--cluster', c.cluster, '-n', c.ns], expect: /--name/ },
    // plan / apply -f: irsa.yaml
    { name: 'plan without -f', args: () => ['plan'], expect: /-f, --file is required/ },
    { name: 'plan -f of a missing file', args: (c) => ['plan', '-f', join(c.dir, 'none.yaml')], expect: /-f: cannot read/ },
    { name: 'duplicate key', args: (c) => ['apply', '-f', c.file('dup.yaml', `cluster:\n  name: ${c.cluster}\nbindings:\n  - namespace: ${c.ns}\n    name: api\n    name: web\n`), '--approve'], expect: /dup\.yaml:6:5: bindings\[0\]\.name: duplicate key "name", first given on line 5/ },
    {
      name: 'alias bomb',
      args: (c) => ['apply', '-f', c.file('bomb.yaml', `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ncluster: {name: ${c.cluster}}\nbindings: []\n`), '--approve'],
      expect: /bomb\.yaml:2:\d+: YAML aliases expand too far/,
    },
    { name: 'wrong type', args: yaml('type.yaml', { maxSessionDuration: 'long' }), expect: /type\.yaml:\d+:\d+: bindings\[0\]\.maxSessionDuration: must be integer/ },
    { name: 'unknown key', args: yaml('unknown.yaml', { rolName: 'x' }), expect: /bindings\[0\]\.rolName/ },
    { name: 'irsa.yaml reserved tag', args: yaml('tags.yaml', { tags: { 'irsa:cluster': 'x' } }), expect: /tags\.yaml:\d+:\d+: bindings\[0\]\.tags: tag key "irsa:cluster" is reserved/ },
    { name: 'irsa.yaml wide subject', args: yaml('wide.yaml', { subjectPattern: 'system:serviceaccount:*:api' }), expect: /bindings\[0\]\.subjectPattern: .*allowWideSubjects: true/ },
    { name: 'irsa.yaml empty audience', args: yaml('aud.yaml', { audience: '' }), expect: /bindings\[0\]\.audience/ },
    { name: 'irsa.yaml audience with a tab', args: yaml('aud2.yaml', { audience: 'a\tb' }), expect: /bindings\[0\]\.audience: .* is not an audience/ },
    { name: 'irsa.yaml attachRoleArn with managedPolicies', args: yaml('attach.yaml', { attachRoleArn: 'arn:aws:iam::123456789012:role/x', managedPolicies: [S3_READ] }), expect: /bindings\[0\]\.managedPolicies: cannot be combined with attachRoleArn/ },
    { name: 'irsa.yaml iam.profile that does not exist', args: yaml('profile.yaml', {}, { iam: { profile: 'nope' } }), env: (c) => c.profiles, expect: /iam\.profile \(.*profile\.yaml\): profile nope is not in your AWS config/ },
    { name: 'irsa.yaml two documents', args: (c) => ['plan', '-f', c.file('two.yaml', `cluster: {name: ${c.cluster}}\n---\nbindings: []\n`)], expect: /two\.yaml:\d+:\d+: .*multiple documents/ },
    { name: 'plan --out into a missing directory', args: (c) => ['plan', '-f', c.file('ok.yaml', config({ roleOnly: true })), '--out', join(c.dir, 'nodir', 'sub', 'plan.json')], expect: /--out: the directory of .* does not exist; nothing was written/ },
    { name: 'plan --out onto a directory', args: (c) => ['plan', '-f', c.file('ok2.yaml', config({ roleOnly: true })), '--out', c.dir], expect: /--out: .* is a directory/ },
    { name: 'plan --overwrite without --out', args: (c) => ['plan', '-f', c.file('ok3.yaml', config({ roleOnly: true })), '--overwrite'], expect: /--overwrite needs --out/ },
    { name: 'plan --concurrency 0', args: (c) => ['plan', '-f', c.file('ok4.yaml', config({ roleOnly: true })), '--concurrency', '0'], expect: /--concurrency: "0" is not allowed/ },
    { name: 'apply without a file', args: () => ['apply', '--approve'], expect: /Give -f irsa\.yaml, or the plan file/ },
    // migrate
    { name: 'migrate --concurrency 0', args: (c) => ['migrate', '--cluster', c.cluster, '-n', c.ns, '--to', 'pod-identity', '--concurrency', '0', '--approve'], expect: /--concurrency: "0" is not allowed/ },
    { name: 'migrate without --to', args: (c) => ['migrate', '--cluster', c.cluster, '-n', c.ns, '--approve'], expect: /--to is required: pod-identity .* or irsa/ },
    { name: 'migrate -f with -n', args: (c) => ['migrate', '-f', c.file('mig.yaml', config({})), '-n', c.ns, '--approve'], expect: /--namespace: with -f the cluster and the ServiceAccounts come from the file/ },
    { name: 'apply irsa.yaml without -f', args: (c) => ['apply', c.file('ok5.yaml', config({ roleOnly: true })), '--approve'], expect: /is an irsa\.yaml, not a saved plan\. Apply it with: irsa apply -f/ },
    // saved plans
    { name: 'saved plan: changes edited', args: (c) => ['apply', tampered(c, true), '--approve'], expect: /tampered-changes\.json: what the plan was made against has changed/ },
    { name: 'saved plan: changes and embedded irsa.yaml edited, reviewed digest given', args: (c) => ['apply', tampered(c, false), '--approve', '--expect-digest', planDigest], expect: /--expect-digest: .*tampered-both\.json has digest sha256:[0-9a-f]{64}, not the reviewed/ },
    { name: 'saved plan: digest malformed', args: () => ['apply', planFile, '--approve', '--expect-digest', 'abc'], expect: /--expect-digest: "abc" is not a digest/ },
    { name: 'saved plan: applied in another account', args: () => ['apply', planFile, '--approve'], env: () => otherEnv, expect: new RegExp(`was made in account ${stack?.accountId}, but the credentials in use .* are for account ${OTHER_ACCOUNT}; nothing was applied`) },
    { name: 'saved plan with --prune it was not made with', args: () => ['apply', planFile, '--approve', '--prune'], expect: /--prune: the saved plan was made without --prune/ },
    { name: 'saved plan with -f too', args: (c) => ['apply', planFile, '-f', c.file('ok6.yaml', config({ roleOnly: true })), '--approve'], expect: /Give either -f irsa\.yaml or a saved plan file, not both/ },
    { name: 'saved plan: not JSON', args: (c) => ['apply', c.file('garbage.json', '{not json'), '--approve'], expect: /garbage\.json: not a saved plan \(invalid JSON/ },
  ];

  it(`has at least 60 cases (${cases.length})`, () => assert.ok(cases.length >= 60));

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const beforeDigest = lastDigest;
      assert.notEqual(beforeDigest, '', 'no digest of the state before this case');
      const result = await irsa(stack, testCase.args(ctx), testCase.env?.(ctx) ?? {});
      // Taken before any assertion, so the next case starts from this state whatever fails here.
      const afterDigest = await digest();
      lastDigest = afterDigest;
      const text = result.stdout + result.stderr;
      assert.notEqual(result.code, 0, text);
      assert.doesNotMatch(text, TRACE);
      assert.match(result.stderr, testCase.expect);
      if (testCase.not) assert.doesNotMatch(text, testCase.not);
      assert.equal(afterDigest, beforeDigest, `${testCase.name}: IAM or the cluster changed\n${text}`);
    });
  }

  // 300 is enough to cross the cap of 20 (the unit test takes 5,001 through the formatter).
  it('300 bindings with a typo each: 20 problems on screen, then "and N more"; --output json carries all', async () => {
    const bindings = Array.from({ length: 300 }, (_, i) => ({ namespace: ns, name: `sa-${i}`, roleNme: 'x' }));
    const file = ctx.file('many.yaml', stringify({ version: 1, cluster: { name: ctx.cluster }, bindings }));
    const result = await irsa(stack, ['plan', '-f', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: 300 problems found:\n/);
    assert.match(result.stderr, /… and 280 more \(--output json lists every one\)\n$/);
    assert.equal(result.stderr.trim().split('\n').length, 22);
    const json = await irsa(stack, ['plan', '-f', file, '-o', 'json']);
    assert.equal(JSON.parse(json.stdout).error.problems.length, 300);
  });

  it('the reviewed plan applies with its digest', async () => {
    const result = await irsa(stack, ['apply', planFile, '--approve', '--expect-digest', planDigest]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`Applying .*plan\\.json \\(digest ${planDigest}, as expected\\)`));
    const role = await aws(stack, ['iam', 'list-attached-role-policies', '--role-name', `bad-saved-${process.pid}`]);
    assert.deepEqual(role.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn), [S3_READ]);
  });
});
