// The wizard's prompt logic, driven by scripted answers over fake gateways: the happy path, going
// back after an API error, Ctrl-C and declining (nothing applied), conflicts, restarts, and the
// equivalent command line and irsa.yaml snippet (checked by parsing them back).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseBindingOptions } from '../../src/commands/binding-options.ts';
import { COMMANDS, GLOBAL_OPTIONS, type OptionSpec } from '../../src/commands/registry.ts';
import { withDefaultCommand } from '../../src/cli.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { ClusterInfo, OidcProviderState, ServiceAccountState, WorkloadRef } from '../../src/core/state.ts';
import type { ClusterReader, IamGateway, KubeGateway, PodIdentityGateway } from '../../src/ports.ts';
import { bindingRequestFromAnswers, type WizardAnswers } from '../../src/core/wizard-answers.ts';
import { filterByTerm, hintWith } from '../../src/ui/wizard/choices.ts';
import { configSnippet, equivalentArgs, equivalentCommandLine } from '../../src/ui/wizard/equivalent.ts';
import { policyChoices, regionChoices, runWizard, type WizardServices } from '../../src/ui/wizard/flow.ts';
import { wizardPlanning } from '../../src/engine/wizard.ts';
import { WizardCancelled, type Choice, type PromptLayer } from '../../src/ui/wizard/layer.ts';
import { assertRoleName } from '../../src/core/names.ts';

const ACCOUNT = '111122223333';
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC';
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC`;
const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/hand-made`;
const POLICIES = [
  { arn: S3_READ, name: 'AmazonS3ReadOnlyAccess' },
  { arn: 'arn:aws:iam::aws:policy/AmazonS3FullAccess', name: 'AmazonS3FullAccess' },
  { arn: 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess', name: 'AmazonSQSReadOnlyAccess' },
  { arn: `arn:aws:iam::${ACCOUNT}:policy/payments-boundary`, name: 'payments-boundary' },
];

// ---- fakes at the port boundary -------------------------------------------------------------

interface World {
  clusters: string[];
  providerExists: boolean;
  namespaces: string[];
  serviceAccounts: ServiceAccountState[];
  workloads: WorkloadRef[];
  /** Calls that fail once each with this error, by method name. */
  failOnce: Record<string, Error>;
  files: Record<string, string>;
}

function world(overrides: Partial<World> = {}): World {
  return {
    clusters: ['prod', 'staging'],
    providerExists: false,
    namespaces: ['default', 'payments'],
    serviceAccounts: [],
    workloads: [],
    failOnce: {},
    files: {},
    ...overrides,
  };
}

/** Gateways whose reads answer from the world and whose every other method is a recorded write. */
function fakes(w: World) {
  const writes: string[] = [];
  const reads: string[] = [];
  const failing = async <T>(name: string, value: () => T): Promise<T> => {
    reads.push(name);
    const error = w.failOnce[name];
    if (error) {
      delete w.failOnce[name];
      throw error;
    }
    return value();
  };
  const recorder = <T extends object>(service: string, methods: Partial<T>): T =>
    new Proxy(methods, {
      get(target, prop) {
        if (prop in target) return (target as Record<string | symbol, unknown>)[prop];
        if (prop === 'then') return undefined; // not a thenable: `await iam()` resolves to the proxy
        return async () => {
          writes.push(`${service}.${String(prop)}`);
          return `arn:aws:iam::${ACCOUNT}:role/created`;
        };
      },
    }) as T;
  const describe = (name: string): ClusterInfo => ({ name, region: 'us-east-1', arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/${name}`, accountId: ACCOUNT, issuerUrl: ISSUER });
  const provider: OidcProviderState = { arn: PROVIDER_ARN, url: 'oidc.eks.us-east-1.amazonaws.com/id/ABC', clientIds: ['sts.amazonaws.com'], thumbprints: ['a'.repeat(40)], tags: {} };
  const clusters = recorder<ClusterReader>('eks', {
    listClusters: () => failing('listClusters', () => w.clusters),
    describeCluster: (name: string) => failing('describeCluster', () => (w.clusters.includes(name) ? describe(name) : null)),
  });
  const iam = recorder<IamGateway>('iam', {
    accountId: async () => ACCOUNT,
    getOidcProvider: (arn: string) => failing('getOidcProvider', () => (w.providerExists && arn === PROVIDER_ARN ? provider : null)),
    getRole: (name: string) => failing('getRole', () => null),
    getPolicy: (arn: string) => failing('getPolicy', () => POLICIES.find((p) => p.arn === arn) ?? null),
    listPolicies: () => failing('listPolicies', () => POLICIES),
  });
  const kube = recorder<KubeGateway>('kube', {
    listNamespaces: () => failing('listNamespaces', () => w.namespaces),
    namespaceExists: (name: string) => failing('namespaceExists', () => w.namespaces.includes(name)),
    listServiceAccounts: (ns?: string) => failing('listServiceAccounts', () => w.serviceAccounts.filter((sa) => sa.namespace === ns)),
    getServiceAccount: (ns: string, name: string) => failing('getServiceAccount', () => w.serviceAccounts.find((sa) => sa.namespace === ns && sa.name === name) ?? null),
    listWorkloadsUsingServiceAccount: () => failing('listWorkloadsUsingServiceAccount', () => w.workloads),
  });
  // EKS Pod Identity: no association, no agent add-on, no Fargate profile, no nodegroup.
  const podIdentity = recorder<PodIdentityGateway>('eks', {
    listAssociations: () => failing('listAssociations', () => []),
    describeAddon: () => failing('describeAddon', () => null),
    listFargateProfiles: () => failing('listFargateProfiles', () => []),
    listNodegroups: () => failing('listNodegroups', () => []),
  });
  const services: WizardServices = {
    defaultRegion: async () => 'us-east-1',
    connect: () => ({
      clusters: async () => clusters,
      iam: async () => iam,
      kube: async () => kube,
      podIdentity: async () => podIdentity,
      resolveThumbprints: async () => ({ thumbprints: ['a'.repeat(40)], warnings: [] }),
    }),
    readFile: (path) => {
      const text = w.files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
  };
  return { services, writes, reads };
}

// ---- scripted prompts -----------------------------------------------------------------------

type Kind = 'select' | 'search' | 'input' | 'confirm';
interface Scripted {
  kind: Kind;
  message: RegExp;
  answer: (question: any) => unknown;
}

const enabled = <T>(choices: Array<Choice<T>>) => choices.filter((c) => !c.disabled);

function pickByName<T>(choices: Array<Choice<T>>, name: RegExp, where: string): T {
  const choice = enabled(choices).find((c) => name.test(c.name));
  assert.ok(choice, `${where}: no enabled choice matches ${name}; choices: ${choices.map((c) => c.name).join(' | ')}`);
  return choice.value;
}

/** Select the choice whose label matches. */
const select = (message: RegExp, name: RegExp): Scripted => ({ kind: 'select', message, answer: (q) => pickByName(q.choices, name, String(message)) });
/** Type a term into a search prompt, then take the first choice matching (default: the first one, as Enter does). */
const search = (message: RegExp, term: string, name?: RegExp): Scripted => ({
  kind: 'search',
  message,
  answer: async (q) => {
    const choices: Array<Choice<unknown>> = await q.source(term);
    if (!name) {
      assert.ok(enabled(choices)[0], `${message}: nothing to select for "${term}"`);
      return enabled(choices)[0]!.value;
    }
    return pickByName(choices, name, String(message));
  },
});
/** Type into an input (null: accept the default); validation must pass, as Enter requires. */
const input = (message: RegExp, value: string | null): Scripted => ({
  kind: 'input',
  message,
  answer: async (q) => {
    const answer = value ?? q.default;
    if (q.validate) assert.equal(await q.validate(answer), true, `${message}: "${answer}" does not validate`);
    return answer;
  },
});
const confirm = (message: RegExp, value: boolean, expectDefault = false): Scripted => ({
  kind: 'confirm',
  message,
  answer: (q) => {
    assert.equal(q.default, expectDefault, `${message}: default`);
    return value;
  },
});
const ctrlC = (kind: Kind, message: RegExp): Scripted => ({ kind, message, answer: () => { throw new WizardCancelled(); } });
const custom = (kind: Kind, message: RegExp, answer: (q: any) => unknown): Scripted => ({ kind, message, answer });

function scripted(steps: Scripted[]): PromptLayer & { left: () => Scripted[]; asked: string[] } {
  const queue = [...steps];
  const asked: string[] = [];
  const next = async (kind: Kind, question: { message: string }) => {
    asked.push(question.message);
    const step = queue.shift();
    assert.ok(step, `unexpected ${kind} prompt "${question.message}" after the script ended`);
    assert.equal(step.kind, kind, `expected a ${step.kind} prompt matching ${step.message}, got ${kind} "${question.message}"`);
    assert.match(question.message, step.message);
    return step.answer(question);
  };
  return {
    select: (q) => next('select', q) as Promise<never>,
    search: (q) => next('search', q) as Promise<never>,
    input: (q) => next('input', q) as Promise<string>,
    confirm: (q) => next('confirm', q) as Promise<boolean>,
    left: () => queue,
    asked,
  };
}

async function drive(steps: Scripted[], w = world(), globals: Record<string, string> = {}) {
  const { services, writes, reads } = fakes(w);
  const prompts = scripted(steps);
  let output = '';
  const code = await runWizard({ prompts, services, planning: wizardPlanning, globals: { color: false, verbose: false, ...globals }, out: (text) => (output += text) });
  assert.deepEqual(prompts.left().map((s) => `${s.kind} ${s.message}`), [], 'every scripted answer was asked for');
  return { code, output, writes, reads, asked: prompts.asked };
}

// The common opening: region (default), cluster by typing, namespace, new SA.
const opening = (sa = 'api'): Scripted[] => [
  search(/AWS region/, '', /us-east-1 \(default\)/),
  search(/EKS cluster/, 'pro'),
  search(/Namespace/, 'pay'),
  search(/ServiceAccount in payments/, sa, new RegExp(`New ServiceAccount "${sa}"`)),
];
const s3ReadOnly: Scripted[] = [
  select(/Permissions of the role/, /Search AWS and customer managed/),
  search(/Policy name/, 'S3ReadOnly'),
  select(/Permissions of the role/, /Done: continue with 1 policy/),
];
// IRSA, then (when the cluster has no IAM OIDC provider: world()'s default) the provider, included.
const irsaRole = (providerMissing: boolean): Scripted[] => [
  select(/How should pods get the role/, /^IRSA/),
  ...(providerMissing ? [select(/OIDC provider/, /include it/)] : []),
  input(/IAM role name/, null),
  select(/Permissions boundary/, /No permissions boundary/),
];
const roleDefaults = irsaRole(true);

const EXPECTED_COMMAND =
  'irsa create-sa-role --cluster prod --region us-east-1 -n payments --name api --role-name irsa-prod-payments-api --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --approve';

describe('irsa wizard: prompt flow', () => {
  it('happy path: cluster by typing, provider included, new SA, policy by part of its name, default role; applies after confirm', async () => {
    const { code, output, writes } = await drive([...opening(), ...s3ReadOnly, ...roleDefaults, confirm(/Apply this plan/, true)]);
    assert.equal(code, 0, output);
    assert.deepEqual([...new Set(writes)].sort(), ['iam.attachPolicy', 'iam.createOidcProvider', 'iam.createRole', 'kube.createServiceAccount']);
    assert.match(output, /has no IAM OIDC identity provider/);
    assert.match(output, /\+ iam-role arn:aws:iam::111122223333:role\/irsa-prod-payments-api/);
    assert.match(output, /Plan: 4 to create/);
    assert.match(output, /✓ create iam-role/);
    assert.match(output, /Apply complete: 4 changes applied/);
    assert.ok(output.includes(`  ${EXPECTED_COMMAND}\n`), output);
    assert.match(output, /bindings:\n {2}\s+- namespace: payments/);
  });

  it('EKS Pod Identity: the mechanism question, the missing agent resolved by letting irsa add it, no OIDC provider; the equivalent command says so', async () => {
    const piRole: Scripted[] = [select(/How should pods get the role/, /^EKS Pod Identity/), input(/IAM role name/, null), select(/Permissions boundary/, /No permissions boundary/)];
    const { code, output, writes, asked } = await drive([...opening(), ...s3ReadOnly, ...piRole, select(/What now/, /Let irsa add the eks-pod-identity-agent/), confirm(/Apply this plan/, true)]);
    assert.equal(code, 0, output);
    // The cluster has no IAM OIDC provider (world()'s default): Pod Identity needs none, so it is not asked about.
    assert.deepEqual(asked.filter((message) => /OIDC provider/.test(message)), [], asked.join('\n'));
    assert.doesNotMatch(output, /IAM needs that provider/);
    assert.ok(!writes.includes('iam.createOidcProvider'));
    assert.match(output, /Blocked: .*no eks-pod-identity-agent add-on/);
    assert.deepEqual([...new Set(writes)].sort(), ['eks.createAddon', 'eks.createAssociation', 'iam.attachPolicy', 'iam.createRole', 'kube.createServiceAccount']);
    assert.ok(output.includes('--mechanism pod-identity --install-pod-identity-agent --approve'), output);
    assert.match(output, /mechanism: pod-identity/);
  });

  it('the OIDC provider question comes after the mechanism, for IRSA only; "use EKS Pod Identity instead" plans no provider', async () => {
    const { code, output, writes, asked } = await drive([
      ...opening(),
      ...s3ReadOnly,
      select(/How should pods get the role/, /^IRSA/),
      custom('select', /Add the OIDC provider to the plan/, (q) => pickByName(q.choices, /use EKS Pod Identity instead/, 'provider')),
      input(/IAM role name/, null),
      select(/Permissions boundary/, /No permissions boundary/),
      select(/What now/, /Let irsa add the eks-pod-identity-agent/),
      confirm(/Apply this plan/, true),
    ]);
    assert.equal(code, 0, output);
    assert.ok(asked.findIndex((m) => /OIDC provider/.test(m)) > asked.findIndex((m) => /How should pods get the role/.test(m)));
    assert.match(output, /IAM needs that provider/);
    assert.ok(!writes.includes('iam.createOidcProvider'));
    assert.ok(writes.includes('eks.createAssociation'));
    assert.ok(output.includes('--mechanism pod-identity --install-pod-identity-agent --approve'), output);
  });

  it('Pod Identity blocked on the agent, switched to IRSA: the OIDC provider is asked then, and planned', async () => {
    const piRole: Scripted[] = [select(/How should pods get the role/, /^EKS Pod Identity/), input(/IAM role name/, null), select(/Permissions boundary/, /No permissions boundary/)];
    const { code, output, writes } = await drive([
      ...opening(),
      ...s3ReadOnly,
      ...piRole,
      select(/What now/, /Use IRSA for this binding instead/),
      custom('select', /Add the OIDC provider to the plan/, (q) => {
        assert.ok(!q.choices.some((c: Choice<unknown>) => /Pod Identity/.test(c.name)), 'Pod Identity is not offered again');
        return pickByName(q.choices, /include it/, 'provider');
      }),
      confirm(/Apply this plan/, true),
    ]);
    assert.equal(code, 0, output);
    assert.deepEqual([...new Set(writes)].sort(), ['iam.attachPolicy', 'iam.createOidcProvider', 'iam.createRole', 'kube.createServiceAccount']);
    assert.ok(output.includes(`  ${EXPECTED_COMMAND}\n`), output);
  });

  it('--region skips the region question; an existing provider is reported, not planned', async () => {
    const { code, output, writes } = await drive(
      [search(/EKS cluster/, 'prod'), search(/Namespace/, 'payments'), search(/ServiceAccount/, 'api', /New/), ...s3ReadOnly, ...irsaRole(false), confirm(/Apply/, true)],
      world({ providerExists: true }),
      { region: 'us-east-1' },
    );
    assert.equal(code, 0, output);
    assert.match(output, /AWS region: us-east-1 \(--region\)/);
    assert.match(output, /✓ IAM OIDC provider exists/);
    assert.ok(!writes.includes('iam.createOidcProvider'));
  });

  it('an API error is shown inside the flow (no stack) and the user can go back a step, then retry', async () => {
    const w = world({ failOnce: { listNamespaces: new Error('connect ECONNREFUSED 127.0.0.1:6443'), listPolicies: Object.assign(new Error('User is not authorized to perform: iam:ListPolicies'), { name: 'AccessDenied' }) } });
    const { code, output, writes, reads } = await drive(
      [
        search(/AWS region/, ''),
        search(/EKS cluster/, 'prod'),
        select(/What now/, /Go back a step/), // listNamespaces failed: back to the cluster list
        search(/EKS cluster/, 'staging'),
        search(/Namespace/, 'payments'),
        search(/ServiceAccount/, 'api', /New/),
        select(/Permissions of the role/, /Search/),
        select(/What now/, /Try again/), // listPolicies failed once: retry succeeds
        search(/Policy name/, 'S3ReadOnly'),
        select(/Permissions of the role/, /Done/),
        ...roleDefaults,
        confirm(/Apply/, false),
      ],
      w,
    );
    assert.equal(code, 0);
    assert.deepEqual(writes, []);
    assert.match(output, /✗ Listing namespaces \(the current kubeconfig context\) failed: connect ECONNREFUSED 127\.0\.0\.1:6443/);
    assert.match(output, /✗ Listing IAM policies \(iam:ListPolicies\) failed: AccessDenied: User is not authorized/);
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
    assert.equal(reads.filter((r) => r === 'listNamespaces').length, 2);
    assert.match(output, /--cluster staging/);
  });

  it('Ctrl-C at the confirm prompt exits 130 with one line and applies nothing', async () => {
    const { code, output, writes } = await drive([...opening(), ...s3ReadOnly, ...roleDefaults, ctrlC('confirm', /Apply this plan/)]);
    assert.equal(code, 130);
    assert.deepEqual(writes, []);
    assert.ok(output.endsWith('\nCancelled. Nothing was applied.\n'), output.slice(-200));
  });

  it('Ctrl-C at the first prompt exits 130 before any read', async () => {
    const { code, writes, reads } = await drive([ctrlC('search', /AWS region/)]);
    assert.equal(code, 130);
    assert.deepEqual(writes, []);
    assert.deepEqual(reads, []);
  });

  it('declining at the confirm prompt (default No) applies nothing and prints the command to apply later', async () => {
    const { code, output, writes } = await drive([...opening(), ...s3ReadOnly, ...roleDefaults, confirm(/Apply this plan/, false)]);
    assert.equal(code, 0);
    assert.deepEqual(writes, []);
    assert.ok(output.includes(`Nothing was applied. To apply this plan later, run:\n  ${EXPECTED_COMMAND}\n`), output);
  });

  it('an existing SA shows its role; re-annotating it is asked (default No), and its workloads can be restarted in the plan', async () => {
    const w = world({
      providerExists: true,
      serviceAccounts: [{ namespace: 'payments', name: 'api', annotations: { 'eks.amazonaws.com/role-arn': OTHER_ROLE }, labels: {} }],
      workloads: [{ kind: 'Deployment', namespace: 'payments', name: 'api' }],
    });
    const { code, output, writes } = await drive(
      [
        search(/AWS region/, ''),
        search(/EKS cluster/, 'prod'),
        search(/Namespace/, 'payments'),
        custom('search', /ServiceAccount/, async (q) => {
          const choices: Array<Choice<unknown>> = await q.source('');
          assert.ok(choices.some((c) => c.name.includes(`api  → ${OTHER_ROLE}`)), 'the current role annotation is shown');
          return pickByName(choices, /^api/, 'sa');
        }),
        ...s3ReadOnly,
        ...irsaRole(false),
        confirm(/Re-annotate it with arn:aws:iam::111122223333:role\/irsa-prod-payments-api/, true),
        confirm(/Restart them/, true),
        confirm(/Apply/, true),
      ],
      w,
    );
    assert.equal(code, 0, output);
    // The blocker create-sa-role would show, word for word; only the fix is in the wizard's terms.
    assert.ok(output.includes(`Blocked: ServiceAccount payments/api is already bound to ${OTHER_ROLE}. Nothing was changed. Answer yes to "Re-annotate it"`), output);
    assert.ok(writes.includes('kube.patchServiceAccountMetadata'));
    assert.ok(writes.includes('kube.restartWorkload'));
    assert.match(output, /deployment\/api/);
    assert.match(output, /--override-existing-serviceaccounts --restart-workloads --approve/);
  });

  it('pasted ARNs are checked with iam:GetPolicy while typing; an inline policy file is validated', async () => {
    const w = world({ files: { 'bad.json': '{"Statement": [{"Effect": "Maybe"}]}', 'ok.json': '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}' } });
    const { code, output } = await drive(
      [
        ...opening(),
        select(/Permissions/, /Paste policy ARNs/),
        custom('input', /Policy ARNs/, async (q) => {
          assert.match(await q.validate('arn:aws:iam::aws:policy/NoSuchPolicy'), /does not exist in account 111122223333/);
          assert.match(await q.validate('not-an-arn'), /not an IAM policy ARN/);
          assert.match(q.hint('arn:aws:s3:::bucket'), /not an IAM policy ARN/);
          assert.equal(await q.validate(S3_READ), true);
          assert.equal(q.emptyMeans, 'go back');
          assert.equal(await q.validate(''), true);
          return S3_READ;
        }),
        select(/Permissions/, /inline policy from a JSON file/),
        custom('input', /JSON policy document/, (q) => {
          assert.match(q.validate('missing.json'), /cannot read "missing.json" \(ENOENT\)/);
          assert.match(q.validate('bad.json'), /"Effect": "Allow" or "Deny"/);
          assert.equal(q.validate('ok.json'), true);
          return 'ok.json';
        }),
        input(/Name of the inline policy/, null),
        select(/Permissions/, /Done: continue with 2 policies/),
        ...roleDefaults,
        confirm(/Apply/, false),
      ],
      w,
    );
    assert.equal(code, 0);
    assert.match(output, /\+ inline policy irsa-inline from ok\.json/);
    assert.match(output, /--attach-policy-arn arn:aws:iam::aws:policy\/AmazonS3ReadOnlyAccess --inline-policy ok\.json --approve/);
  });

  it('a new ServiceAccount name is validated as it is typed', async () => {
    await drive([
      search(/AWS region/, ''),
      search(/EKS cluster/, 'prod'),
      search(/Namespace/, 'payments'),
      custom('search', /ServiceAccount/, async (q) => {
        const bad: Array<Choice<unknown>> = await q.source('Api');
        const offered = bad.find((c) => c.name.startsWith('New ServiceAccount'));
        assert.match(String(offered?.disabled), /not a valid ServiceAccount name/);
        const menu: Array<Choice<unknown>> = await q.source('');
        return pickByName(menu, /New ServiceAccount… \(type its name\)/, 'sa');
      }),
      custom('input', /Name of the new ServiceAccount/, (q) => {
        assert.match(q.hint('Api_1'), /not a valid ServiceAccount name/);
        assert.equal(q.hint('api-1'), null);
        return 'api-1';
      }),
      ctrlC('select', /Permissions/),
    ]);
  });
});

describe('irsa wizard: pure helpers', () => {
  it('filters as you type: every word, best match first', () => {
    assert.deepEqual(filterByTerm(POLICIES, 'S3ReadOnly', (p) => p.name).map((p) => p.name), ['AmazonS3ReadOnlyAccess']);
    assert.deepEqual(filterByTerm(POLICIES, 'readonly amazon', (p) => p.name).map((p) => p.name), ['AmazonS3ReadOnlyAccess', 'AmazonSQSReadOnlyAccess']);
    assert.equal(policyChoices(POLICIES, 'S3ReadOnly')[0]!.value, S3_READ);
    assert.equal(policyChoices(POLICIES, 'arn:aws:iam::aws:policy/Custom')[0]!.name, 'Use arn:aws:iam::aws:policy/Custom');
    // A bad typed ARN: the reason does not repeat the ARN the choice already shows.
    const bad = policyChoices(POLICIES, 'arn:nope')[0]!;
    assert.equal(bad.name, 'Use arn:nope');
    assert.equal(String(bad.disabled).includes('arn:nope'), false, String(bad.disabled));
    // Policies for AWS service roles and service-linked roles come after the ones for workloads.
    const withServiceRoles = [
      { arn: 'arn:aws:iam::aws:policy/aws-service-role/AmazonS3ServiceRolePolicy', name: 'S3Svc' },
      { arn: 'arn:aws:iam::aws:policy/service-role/AmazonS3ObjectLambdaExecutionRolePolicy', name: 'S3Lambda' },
      ...POLICIES,
    ];
    const names = policyChoices(withServiceRoles, 's3').map((c) => c.name).filter((name) => !name.startsWith('←'));
    assert.deepEqual(names.slice(-2).sort(), ['S3Lambda', 'S3Svc'], names.join(', '));
    assert.equal(names[0], 'AmazonS3FullAccess');
    assert.equal(regionChoices('', 'eu-west-1')[0]!.name, 'eu-west-1 (default)');
    assert.deepEqual(regionChoices('xx-new-9', null).map((c) => c.value), ['xx-new-9']);
    assert.match(hintWith((v) => assertRoleName(v))('a'.repeat(65)) ?? '', /65 characters long/);
    // The wizard has no flags: advice to pass one is dropped from messages shown in the flow.
    assert.equal(hintWith((v) => assertRoleName(v))('a!b'), 'contains characters IAM does not allow. Role names are 1–64 characters of letters, digits and + = , . @ _ -.');
  });

  it('bare irsa in a terminal starts the wizard; help, version, commands and non-terminals do not', () => {
    assert.deepEqual(withDefaultCommand([], true), ['wizard']);
    assert.deepEqual(withDefaultCommand(['--profile', 'admin', '--no-color'], true), ['--profile', 'admin', '--no-color', 'wizard']);
    assert.deepEqual(withDefaultCommand([], false), []);
    assert.deepEqual(withDefaultCommand(['--help'], true), ['--help']);
    assert.deepEqual(withDefaultCommand(['--version'], true), ['--version']);
    assert.deepEqual(withDefaultCommand(['list', '--cluster', 'x'], true), ['list', '--cluster', 'x']);
  });

  it('not a terminal: a clear error pointing to create-sa-role flags', async () => {
    const { run } = await import('../../src/commands/wizard.ts');
    await assert.rejects(run({}), (error: Error) => {
      assert.match(error.message, /needs an interactive terminal/);
      assert.match(error.message, /irsa create-sa-role --cluster <name>/);
      return true;
    });
  });
});

describe('irsa wizard: equivalent command and irsa.yaml snippet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irsa-wizard-'));
  const policyFile = join(dir, "my policies/it's.json");
  const policyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }] };
  const answers: WizardAnswers = {
    region: 'eu-west-1',
    cluster: 'prod',
    namespace: 'payments',
    createNamespace: true,
    serviceAccount: 'api',
    policyArns: [S3_READ, `arn:aws:iam::${ACCOUNT}:policy/team/orders`],
    inlinePolicy: { name: 'orders-write', file: policyFile, document: policyDocument },
    roleName: 'payments-api',
    permissionsBoundary: `arn:aws:iam::${ACCOUNT}:policy/payments-boundary`,
    adopt: false,
    overrideExistingServiceAccount: true,
    restartWorkloads: true,
  };
  const globals = { profile: 'platform admin', kubeconfig: '/tmp/kube config', context: 'prod' };

  it('quotes for a POSIX shell', () => {
    const line = equivalentCommandLine(answers, globals);
    assert.ok(line.startsWith('irsa create-sa-role --cluster prod --region eu-west-1 -n payments --name api --role-name payments-api '), line);
    assert.ok(line.includes(` --inline-policy '${dir}/my policies/it'\\''s.json' --inline-policy-name orders-write `), line);
    assert.ok(line.includes(" --profile 'platform admin' --kubeconfig '/tmp/kube config' --context prod --approve"), line);
    assert.ok(line.endsWith('--approve'));
  });

  it('parses back, through the command table and parseBindingOptions, to the request the wizard planned', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'my policies'), { recursive: true });
    writeFileSync(policyFile, JSON.stringify(policyDocument));
    const spec = COMMANDS.find((c) => c.name === 'create-sa-role')!;
    const command = new Command('create-sa-role').exitOverride();
    const toOption = (o: OptionSpec) => {
      const option = new Option(o.flags, o.description);
      if (o.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
      if (o.defaultValue !== undefined) option.default(o.defaultValue);
      return option;
    };
    for (const o of [...spec.options, ...GLOBAL_OPTIONS]) command.addOption(toOption(o));
    command.parse(equivalentArgs(answers, globals).slice(1), { from: 'user' });
    const options = command.opts();
    assert.equal(options['approve'], true);
    assert.equal(options['profile'], 'platform admin');
    assert.deepEqual(parseBindingOptions(options), bindingRequestFromAnswers(answers));
  });

  it('the snippet is a valid irsa.yaml (parseConfig) with the same binding', () => {
    // Saved as irsa.yaml where the wizard ran: the policy file is written relative to it.
    const snippet = configSnippet(answers, globals, dir);
    assert.doesNotMatch(snippet, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no absolute path in the snippet');
    const config = parseConfig(snippet, 'irsa.yaml', (path) => {
      assert.equal(path, "./my policies/it's.json");
      return JSON.stringify(policyDocument);
    });
    assert.deepEqual(config.cluster, { name: 'prod', region: 'eu-west-1', profile: 'platform admin' });
    const [binding] = config.bindings;
    const request = bindingRequestFromAnswers(answers);
    for (const key of ['cluster', 'namespace', 'name', 'roleName', 'rolePath', 'policyArns', 'inlinePolicies', 'permissionsBoundary', 'createNamespace', 'restartWorkloads'] as const) {
      assert.deepEqual(binding![key], request[key], key);
    }
  });

  it('a minimal snippet (no inline policy, no boundary) parses too', () => {
    const minimal: WizardAnswers = { ...answers, inlinePolicy: null, permissionsBoundary: null, createNamespace: false, restartWorkloads: false, overrideExistingServiceAccount: false, policyArns: [S3_READ] };
    const config = parseConfig(configSnippet(minimal, {}), 'irsa.yaml', () => assert.fail('no file to read'));
    assert.deepEqual(config.bindings[0]!.policyArns, [S3_READ]);
    assert.equal(equivalentCommandLine(minimal, {}), 'irsa create-sa-role --cluster prod --region eu-west-1 -n payments --name api --role-name payments-api --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --approve');
  });
});

describe('irsa wizard --verify', () => {
  const run = async (ok: boolean) => {
    const { services } = fakes(world());
    const prompts = scripted([...opening(), ...s3ReadOnly, ...roleDefaults, confirm(/Apply this plan/, true)]);
    const asked: unknown[] = [];
    let output = '';
    const code = await runWizard({
      prompts,
      services,
      planning: wizardPlanning,
      globals: { color: false, verbose: false },
      out: (text) => (output += text),
      verify: async (binding) => {
        asked.push(binding);
        return { ok, lines: [ok ? `✓ verified ${binding.namespace}/${binding.name}: assumed arn:aws:sts::${ACCOUNT}:assumed-role/x/s` : `✗ verification failed for ${binding.namespace}/${binding.name}`] };
      },
    });
    return { code, output, asked };
  };

  it('after a confirmed apply, verifies the binding with its role and audience and prints the result', async () => {
    const { code, output, asked } = await run(true);
    assert.equal(code, 0, output);
    assert.deepEqual(asked, [{ namespace: 'payments', name: 'api', roleArn: `arn:aws:iam::${ACCOUNT}:role/irsa-prod-payments-api`, audience: 'sts.amazonaws.com' }]);
    assert.match(output, /Apply complete[\s\S]*✓ verified payments\/api: assumed /);
  });

  it('a failed verification exits 1', async () => {
    const { code, output } = await run(false);
    assert.equal(code, 1);
    assert.match(output, /✗ verification failed for payments\/api/);
  });
});
