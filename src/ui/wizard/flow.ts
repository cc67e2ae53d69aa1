// The wizard's steps over an injected prompt layer and injected gateways. It only collects
// answers: planning goes through the same reads and planner as create-sa-role, the plan is shown by
// the shared renderer, and apply is the shared engine. Each step can go back to the one before.

import { Chalk } from 'chalk';
import { assertPolicyArn, oidcProviderArn, partitionForRegion } from '../../core/arn.ts';
import { UserError, RemoteError } from '../../core/errors.ts';
import { assertNamespace, assertRoleName, assertServiceAccountName, defaultRoleName } from '../../core/names.ts';
import { hasChanges, shownId, unreachable } from '../../core/plan.ts';
import { ROLE_ARN_ANNOTATION } from '../../core/resources/service-account.ts';
import type { ClusterInfo, WorkloadRef } from '../../core/state.ts';
import { issuerHostPath } from '../../core/thumbprint.ts';
import { DEFAULT_INLINE_POLICY_NAME } from '../../core/resources/inline-policy.ts';
import { parsePolicyDocument } from '../../core/policy-document.ts';
import type { ApplyReport, ChangeResult } from '../../core/model/apply.ts';
import type { Change, Plan } from '../../core/plan.ts';
import { withAnswer, WIZARD_STEPS, type DecideState, type Decision, type Resolution, type WizardStep } from '../../core/wizard-decision.ts';
import type { ClusterReader, IamGateway, KubeGateway, PodIdentityGateway } from '../../ports.ts';
import { FIELDS } from '../../core/fields.ts';
import { blockerText, renderPlanText } from '../render.ts';
import { bindingRequestFromAnswers, type InlinePolicyChoice, type WizardAnswers, type WizardGlobals } from '../../core/wizard-answers.ts';
import {
  createPolicyCache,
  filterByTerm,
  hintWith,
  isAwsManaged,
  isServiceRolePolicy,
  REGION_PATTERN,
  REGIONS,
  splitArns,
  stripField,
  validateWith,
  type PolicySummary,
} from './choices.ts';
import { configSnippet, equivalentCommandLine } from './equivalent.ts';
import { WizardCancelled, type Choice, type PromptLayer } from './layer.ts';
import { rolloutRestartCommand } from '../restart-advice.ts';

/** The gateways for one region (AWS clients are per region). A CommandContext fits. */
export interface WizardConnection {
  clusters(): Promise<ClusterReader>;
  iam(): Promise<IamGateway>;
  kube(): Promise<KubeGateway>;
  resolveThumbprints(issuerUrl: string): Promise<{ thumbprints: string[]; warnings: string[] }>;
  /** EKS Pod Identity (associations, the agent add-on); only for a pod-identity binding. */
  podIdentity?(): Promise<PodIdentityGateway>;
  /** Makes kube() prove the kubeconfig context is this cluster first (CommandContext does). */
  expectCluster?(expectation: { issuerUrl: string; cluster: ClusterInfo | null; writes: boolean }): void;
}

/** Where the wizard's answers are read and planned, and a plan applied (engine/wizard.ts: the
 * same reads, planner and engine as create-sa-role), passed in so ui/ depends on no engine. */
export interface WizardPlanning<Reads extends PlanningReads = PlanningReads> {
  resolveIssuer(cluster: string, region: string, clusters: () => Promise<ClusterReader>): Promise<{ issuerUrl: string; cluster: ClusterInfo | null }>;
  read(answers: WizardAnswers, target: WizardTarget, deps: { iam: IamGateway; kube: KubeGateway; resolveThumbprints: WizardConnection['resolveThumbprints']; podIdentity?: () => Promise<PodIdentityGateway> }): Promise<Reads>;
  decide(answers: WizardAnswers, target: WizardTarget, reads: Reads, state: DecideState): Decision;
  apply(plan: Plan, gateways: { iam: IamGateway; kube: KubeGateway; podIdentity?: PodIdentityGateway }, hooks: { onStart: (change: Change) => void; onFinish: (result: ChangeResult) => void }): Promise<ApplyReport>;
}

/** What the wizard itself reads of the reads: the existing role, to offer adopting it. */
export interface PlanningReads {
  observed: { role: { name: string } | null };
}

/** The cluster and account the answers are planned for (engine/binding-reads.ts BindingTarget). */
export interface WizardTarget {
  issuerUrl: string;
  cluster: ClusterInfo | null;
  region: string;
  account: string;
  thumbprints: { given: string[]; none: boolean };
}

export interface WizardServices {
  /** --region, AWS_REGION or the profile's region; null when none is configured. */
  defaultRegion(): Promise<string | null>;
  connect(region: string): WizardConnection;
  /** Reads a file the user names (the inline policy). */
  readFile(path: string): string;
}

export interface WizardOptions<Reads extends PlanningReads = PlanningReads> {
  prompts: PromptLayer;
  services: WizardServices;
  planning: WizardPlanning<Reads>;
  globals: WizardGlobals & { region?: string | undefined; color: boolean; verbose: boolean };
  /** Normal output (stdout). */
  out: (text: string) => void;
  /** Told when apply starts and ends, so Ctrl-C outside a prompt can say what happened. */
  onPhase?: (phase: 'prompting' | 'applying', equivalentCommand: string | null) => void;
  /**
   * `irsa wizard --verify`: after a successful apply (or a binding that already matches), prove it
   * with a minted token and sts:AssumeRoleWithWebIdentity (engine/verify.ts); lines to print, and
   * whether it worked. Runs in the region the wizard connected to.
   */
  verify?: (binding: { namespace: string; name: string; roleArn: string; audience: string }, connection: WizardConnection) => Promise<{ ok: boolean; lines: string[] }>;
}

export const CANCELLED_MESSAGE = 'Cancelled. Nothing was applied.';
export const CANCELLED_EXIT_CODE = 130;

/** Runs the wizard; resolves to the exit code. Ctrl-C at a prompt resolves to 130 with nothing applied. */
export async function runWizard<Reads extends PlanningReads>(options: WizardOptions<Reads>): Promise<number> {
  try {
    return await new Wizard(options).run();
  } catch (error) {
    if (error instanceof WizardCancelled) {
      options.out(`\n${CANCELLED_MESSAGE}\n`);
      return CANCELLED_EXIT_CODE;
    }
    throw error;
  }
}

const BACK = Symbol('back');
type Back = typeof BACK;
type Nav = 'next' | 'back' | { goto: StepName };
type StepName = WizardStep;
const STEPS = WIZARD_STEPS;

interface ClusterChoice {
  info: ClusterInfo;
  issuerUrl: string;
  account: string;
  providerArn: string;
  providerExists: boolean;
}

type Outcome = { kind: 'applied'; ok: boolean } | { kind: 'declined' } | { kind: 'unchanged' };

/** Reports a failed API call and asks what to do; never shows a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof UserError) return stripField(error.message);
  if (error instanceof RemoteError) return error.message;
  if (error instanceof Error) return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

class Wizard<Reads extends PlanningReads> {
  private readonly prompts: PromptLayer;
  private readonly services: WizardServices;
  private readonly options: WizardOptions<Reads>;
  private readonly c: InstanceType<typeof Chalk>;

  private regionAsked = false;
  private region = '';
  private connection: WizardConnection | null = null;
  private policies: ReturnType<typeof createPolicyCache> | null = null;
  private cluster: ClusterChoice | null = null;
  private namespace = '';
  private createNamespace = false;
  private serviceAccount = '';
  private policyArns: string[] = [];
  private inlinePolicy: InlinePolicyChoice | null = null;
  private roleName = '';
  /** The binding the typed role name belongs to: a new ServiceAccount gets a new suggestion. */
  private roleNameFor = '';
  private permissionsBoundary: string | null = null;
  private adopt = false;
  private overrideExisting = false;
  private restartWorkloads = false;
  private mechanism: 'irsa' | 'pod-identity' = 'irsa';
  /** The user agreed to plan the missing OIDC provider of the chosen cluster (IRSA only). */
  private providerIncluded = false;
  private installAgent = false;
  private restartAsked = false;
  private outcome: Outcome | null = null;
  private pendingRestarts: WorkloadRef[] = [];

  constructor(options: WizardOptions<Reads>) {
    this.options = options;
    this.prompts = options.prompts;
    this.services = options.services;
    this.c = new Chalk({ level: options.globals.color ? 1 : 0 });
  }

  private say(line = ''): void {
    this.options.out(line + '\n');
  }

  async run(): Promise<number> {
    this.say(this.c.bold('irsa wizard: bind a Kubernetes ServiceAccount to an IAM role (IRSA or EKS Pod Identity).'));
    this.say(this.c.dim('Nothing is changed until you confirm the plan. Ctrl-C quits at any prompt.'));
    let index = 0;
    while (index < STEPS.length) {
      this.say();
      const nav = await this.step(STEPS[index]!);
      if (nav === 'next') index++;
      else if (nav === 'back') index = Math.max(0, index - 1);
      else index = STEPS.indexOf(nav.goto);
    }
    return this.finish();
  }

  private step(name: StepName): Promise<Nav> {
    switch (name) {
      case 'region': return this.regionStep();
      case 'cluster': return this.clusterStep();
      case 'namespace': return this.namespaceStep();
      case 'serviceAccount': return this.serviceAccountStep();
      case 'permissions': return this.permissionsStep();
      case 'role': return this.roleStep();
      case 'plan': return this.planStep();
    }
  }

  private get conn(): WizardConnection {
    if (!this.connection) throw new Error('no region chosen');
    return this.connection;
  }

  /**
   * Runs an API call; on failure shows the error and offers to retry, go back, or quit.
   * Resolves to BACK when the user goes back.
   */
  private async attempt<T>(what: string, call: () => Promise<T>): Promise<T | Back> {
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof WizardCancelled) throw error;
        this.say(this.c.red(`✗ ${what} failed: ${describeError(error)}`));
        const next = await this.prompts.select({
          message: 'What now?',
          choices: [
            { value: 'retry', name: 'Try again' },
            { value: 'back', name: 'Go back a step' },
            { value: 'quit', name: 'Quit (nothing is applied)' },
          ],
        });
        if (next === 'back') return BACK;
        if (next === 'quit') throw new WizardCancelled();
      }
    }
  }

  private setRegion(region: string): void {
    if (region === this.region && this.connection) return;
    this.region = region;
    this.connection = this.services.connect(region);
    const connection = this.connection;
    this.policies = createPolicyCache(() => connection.iam());
    this.cluster = null;
  }

  // 1. Region and cluster.

  private async regionStep(): Promise<Nav> {
    const given = this.options.globals.region;
    if (!this.regionAsked && given) {
      // --region was given: do not ask, but going back from the cluster list asks.
      this.regionAsked = true;
      this.setRegion(given);
      this.say(`AWS region: ${given} (--region)`);
      return 'next';
    }
    this.regionAsked = true;
    // Coming back to this step, the region chosen before comes first.
    const preferred = this.region || given || (await this.services.defaultRegion().catch(() => null));
    const region = await this.prompts.search<string>({
      message: 'AWS region of the cluster (type to filter)',
      source: (term) => regionChoices(term, preferred),
    });
    this.setRegion(region);
    return 'next';
  }

  private async clusterStep(): Promise<Nav> {
    const names = await this.attempt(`Listing EKS clusters in ${this.region} (eks:ListClusters)`, async () => (await this.conn.clusters()).listClusters());
    if (names === BACK) return 'back';
    if (names.length === 0) {
      this.say(this.c.yellow(`No EKS clusters in ${this.region} for these credentials.`));
      const next = await this.prompts.select({
        message: 'What now?',
        choices: [
          { value: 'back', name: 'Choose another region' },
          { value: 'quit', name: 'Quit' },
        ],
      });
      if (next === 'quit') throw new WizardCancelled();
      return 'back';
    }
    for (;;) {
      const picked = await this.prompts.search<string | Back>({
        message: `EKS cluster in ${this.region} (type to filter)`,
        source: (term) => [...filterByTerm(names, term, (n) => n).map((name) => ({ value: name, name })), backChoice('change the region')],
      });
      if (picked === BACK) return 'back';
      const chosen = await this.attempt(`Reading cluster ${picked} (eks:DescribeCluster) and its IAM OIDC provider`, () => this.readCluster(picked));
      if (chosen === BACK) continue;
      this.cluster = chosen;
      this.providerIncluded = false;
      this.say(`Cluster ${chosen.info.name}: OIDC issuer ${chosen.issuerUrl}`);
      if (chosen.providerExists) this.say(this.c.green(`✓ IAM OIDC provider exists: ${chosen.providerArn}`));
      // Only IRSA needs the provider; whether to add it is asked once the mechanism is chosen (step 4).
      else this.say(this.c.yellow(`The cluster's OIDC issuer has no IAM OIDC identity provider in account ${chosen.account} (IRSA needs one; EKS Pod Identity does not).`));
      return 'next';
    }
  }

  /**
   * An IRSA binding on a cluster without its IAM OIDC provider: say what the provider is for and
   * ask to plan it (the planner adds it for IRSA only; EKS Pod Identity needs none). Asked once per
   * chosen cluster. `pod-identity` is offered only where the mechanism can still be changed.
   */
  private async askProvider(offerPodIdentity: boolean): Promise<'include' | 'other' | 'pod-identity'> {
    const cluster = this.cluster!;
    if (cluster.providerExists || this.providerIncluded) return 'include';
    this.say(this.c.yellow(`The cluster's OIDC issuer has no IAM OIDC identity provider in account ${cluster.account}.`));
    this.say('IAM needs that provider to trust the tokens the cluster gives its ServiceAccounts; without it no pod can');
    this.say('assume an IAM role with IRSA. There is one per cluster, shared by every role (what `irsa associate-oidc` creates).');
    const next = await this.prompts.select({
      message: 'Add the OIDC provider to the plan?',
      choices: [
        { value: 'include' as const, name: 'Yes, include it in the plan (recommended)' },
        ...(offerPodIdentity ? [{ value: 'pod-identity' as const, name: 'No: use EKS Pod Identity instead (needs no OIDC provider)' }] : []),
        { value: 'other' as const, name: 'Choose another cluster' },
        { value: 'quit' as const, name: 'Quit' },
      ],
    });
    if (next === 'quit') throw new WizardCancelled();
    if (next === 'include') this.providerIncluded = true;
    return next;
  }

  private async readCluster(name: string): Promise<ClusterChoice> {
    const issuer = await this.options.planning.resolveIssuer(name, this.region, () => this.conn.clusters());
    this.conn.expectCluster?.({ ...issuer, writes: true });
    const iam = await this.conn.iam();
    const account = await iam.accountId();
    const providerArn = oidcProviderArn(partitionForRegion(this.region), account, issuerHostPath(issuer.issuerUrl));
    const provider = await iam.getOidcProvider(providerArn);
    return { info: issuer.cluster!, issuerUrl: issuer.issuerUrl, account, providerArn, providerExists: provider !== null };
  }

  // 2. Namespace and ServiceAccount.

  private async namespaceStep(): Promise<Nav> {
    const where = this.options.globals.context ? `kubeconfig context ${this.options.globals.context}` : 'the current kubeconfig context';
    const names = await this.attempt(`Listing namespaces (${where})`, async () => (await this.conn.kube()).listNamespaces());
    if (names === BACK) return 'back';
    this.say(this.c.dim(`Kubernetes: ${where}; it must point at ${this.cluster!.info.name} (--context chooses another).`));
    const validNamespace = validateWith((value) => assertNamespace(value));
    const picked = await this.prompts.search<{ name: string; create: boolean } | Back>({
      message: 'Namespace of the ServiceAccount (type to filter, or a new name)',
      source: (term) => {
        const choices: Array<Choice<{ name: string; create: boolean } | Back>> = filterByTerm(names, term, (n) => n).map((name) => ({
          value: { name, create: false },
          name,
        }));
        const typed = term.trim();
        if (typed && !names.includes(typed)) {
          const problem = validNamespace(typed);
          choices.push(
            problem === true
              ? { value: { name: typed, create: true }, name: `Create namespace "${typed}"`, description: 'added to the plan' }
              : { value: { name: typed, create: true }, name: `Create namespace "${typed}"`, disabled: problem },
          );
        }
        return [...choices, backChoice('change the cluster')];
      },
    });
    if (picked === BACK) return 'back';
    this.namespace = picked.name;
    this.createNamespace = picked.create;
    return 'next';
  }

  private async serviceAccountStep(): Promise<Nav> {
    const accounts = this.createNamespace
      ? []
      : await this.attempt(`Listing ServiceAccounts in ${this.namespace}`, async () => (await this.conn.kube()).listServiceAccounts(this.namespace));
    if (accounts === BACK) return 'back';
    const NEW = Symbol('new');
    const valid = validateWith((value) => assertServiceAccountName(value));
    const names = accounts.map((sa) => sa.name);
    const picked = await this.prompts.search<string | typeof NEW | Back>({
      message: `ServiceAccount in ${this.namespace} (pick one, or type a new name)`,
      source: (term) => {
        const choices: Array<Choice<string | typeof NEW | Back>> = filterByTerm(accounts, term, (sa) => sa.name).map((sa) => {
          const role = sa.annotations[ROLE_ARN_ANNOTATION];
          return {
            value: sa.name,
            name: role ? `${sa.name}  ${this.c.dim(`→ ${role}`)}` : sa.name,
            description: role ? `bound to ${role}` : 'no IAM role yet',
          };
        });
        const typed = term.trim();
        if (typed && !names.includes(typed)) {
          const problem = valid(typed);
          choices.push(problem === true ? { value: typed, name: `New ServiceAccount "${typed}"` } : { value: typed, name: `New ServiceAccount "${typed}"`, disabled: problem });
        }
        if (!typed) choices.push({ value: NEW, name: 'New ServiceAccount… (type its name)' });
        return [...choices, backChoice('change the namespace')];
      },
    });
    if (picked === BACK) return 'back';
    const name =
      picked === NEW
        ? await this.prompts.input({
            message: 'Name of the new ServiceAccount',
            validate: (value) => (names.includes(value) ? true : valid(value)),
            hint: hintWith((value) => assertServiceAccountName(value)),
          })
        : picked;
    this.serviceAccount = name;
    const existing = accounts.find((sa) => sa.name === name);
    const role = existing?.annotations[ROLE_ARN_ANNOTATION];
    if (role) this.say(`${this.namespace}/${name} is bound to ${role} now.`);
    else if (!existing) this.say(`${this.namespace}/${name} will be created.`);
    // A different ServiceAccount is a different binding: its conflicts and restarts are asked again.
    this.overrideExisting = false;
    this.restartAsked = false;
    this.restartWorkloads = false;
    return 'next';
  }

  // 3. Permissions.

  private async permissionsStep(): Promise<Nav> {
    void this.policies!.load().catch(() => {}); // warm the cache while the user reads the menu
    for (;;) {
      this.showPermissions();
      const chosen = this.policyArns.length + (this.inlinePolicy ? 1 : 0);
      const choices: Array<Choice<string>> = [
        { value: 'search', name: 'Search AWS and customer managed policies by name' },
        { value: 'paste', name: 'Paste policy ARNs' },
        { value: 'inline', name: this.inlinePolicy ? 'Replace the inline policy JSON file' : 'Add an inline policy from a JSON file' },
      ];
      if (chosen > 0) choices.push({ value: 'remove', name: 'Remove a chosen policy' });
      choices.push({ value: 'done', name: chosen > 0 ? `Done: continue with ${chosen} ${chosen === 1 ? 'policy' : 'policies'}` : 'Continue without permissions' });
      choices.push({ value: 'back', name: '← Back (change the ServiceAccount)' });
      const action = await this.prompts.select({ message: 'Permissions of the role', choices, default: chosen > 0 ? 'done' : 'search' });
      if (action === 'back') return 'back';
      if (action === 'done') {
        if (chosen === 0 && !(await this.prompts.confirm({ message: 'The role will have no permissions. Continue anyway?', default: false }))) continue;
        return 'next';
      }
      if (action === 'search') {
        const policy = await this.searchPolicy('Policy name (type part of it, e.g. S3ReadOnly)');
        if (policy && !this.policyArns.includes(policy)) this.policyArns.push(policy);
      } else if (action === 'paste') {
        await this.pasteArns();
      } else if (action === 'inline') {
        await this.chooseInlinePolicy();
      } else if (action === 'remove') {
        await this.removePolicy();
      }
    }
  }

  private showPermissions(): void {
    if (this.policyArns.length === 0 && !this.inlinePolicy) {
      this.say('No permissions chosen yet.');
      return;
    }
    this.say('Chosen permissions:');
    for (const arn of this.policyArns) this.say(`  ${this.c.green('+')} ${arn}`);
    if (this.inlinePolicy) this.say(`  ${this.c.green('+')} inline policy ${this.inlinePolicy.name} from ${this.inlinePolicy.file}`);
  }

  /** Typeahead over the session's policy list; a pasted ARN can be used as typed. Null: none. */
  private async searchPolicy(message: string): Promise<string | null> {
    const policies = await this.attempt('Listing IAM policies (iam:ListPolicies)', () => this.policies!.load());
    if (policies === BACK) return null;
    const picked = await this.prompts.search<string | Back>({
      message,
      source: (term) => policyChoices(policies, term),
    });
    return picked === BACK ? null : picked;
  }

  private async pasteArns(): Promise<void> {
    const text = await this.prompts.input({
      message: 'Policy ARNs (separated by spaces or commas; empty to go back)',
      emptyMeans: 'go back',
      hint: (value) => {
        for (const arn of splitArns(value)) {
          const problem = validateWith((v) => assertPolicyArn(v, 'arn'))(arn);
          if (problem !== true) return problem;
        }
        return null;
      },
      validate: async (value) => {
        for (const arn of splitArns(value)) {
          const problem = validateWith((v) => assertPolicyArn(v, 'arn'))(arn);
          if (problem !== true) return problem;
        }
        // Checked now rather than at plan time, so a typo is fixed while the ARN is on screen.
        const iam = await this.conn.iam();
        for (const arn of splitArns(value)) {
          try {
            if (!(await iam.getPolicy(arn))) return `${arn} does not exist in account ${this.cluster!.account} (iam:GetPolicy)`;
          } catch (error) {
            return `cannot check ${arn}: ${describeError(error)}`;
          }
        }
        return true;
      },
    });
    for (const arn of splitArns(text)) if (!this.policyArns.includes(arn)) this.policyArns.push(arn);
  }

  private async chooseInlinePolicy(): Promise<void> {
    let document: unknown;
    const file = await this.prompts.input({
      message: 'Path of a JSON policy document (empty to go back)',
      validate: (path) => {
        if (path.trim() === '') return true;
        let text: string;
        try {
          text = this.services.readFile(path.trim());
        } catch (error) {
          return `cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
        }
        try {
          document = parsePolicyDocument(text, path.trim());
          return true;
        } catch (error) {
          if (error instanceof UserError) return error.message;
          throw error;
        }
      },
    });
    if (file.trim() === '') return;
    const name = await this.prompts.input({
      message: 'Name of the inline policy',
      default: this.inlinePolicy?.name ?? DEFAULT_INLINE_POLICY_NAME,
      validate: (value) => (/^[\w+=,.@-]{1,128}$/.test(value) ? true : 'IAM policy names are 1–128 letters, digits and + = , . @ _ -'),
    });
    this.inlinePolicy = { name, file: file.trim(), document };
  }

  private async removePolicy(): Promise<void> {
    const INLINE = Symbol('inline');
    const choices: Array<Choice<string | typeof INLINE | Back>> = this.policyArns.map((arn) => ({ value: arn, name: arn }));
    if (this.inlinePolicy) choices.push({ value: INLINE, name: `inline policy ${this.inlinePolicy.name} (${this.inlinePolicy.file})` });
    choices.push(backChoice('keep them all'));
    const picked = await this.prompts.select({ message: 'Remove which one?', choices });
    if (picked === INLINE) this.inlinePolicy = null;
    else if (typeof picked === 'string') this.policyArns = this.policyArns.filter((arn) => arn !== picked);
  }

  // 4. Role.

  private async roleStep(): Promise<Nav> {
    // The mechanism (docs/irsa-or-pod-identity.md): IRSA works everywhere; Pod Identity needs EKS
    // with Linux EC2 nodes, which the plan checks (Fargate, Windows, the agent) and blocks on.
    this.mechanism = await this.prompts.select({
      message: `${FIELDS.mechanism.question}?`,
      choices: [
        { value: 'irsa' as const, name: 'IRSA: the ServiceAccount annotation and the cluster\'s OIDC provider (works everywhere)' },
        { value: 'pod-identity' as const, name: 'EKS Pod Identity: an association, no OIDC provider (EKS with Linux EC2 nodes)' },
      ],
      default: this.mechanism,
    });
    if (this.mechanism === 'irsa') {
      const provider = await this.askProvider(true);
      if (provider === 'other') return { goto: 'cluster' };
      if (provider === 'pod-identity') this.mechanism = 'pod-identity';
    }
    const binding = `${this.cluster!.info.name}/${this.namespace}/${this.serviceAccount}`;
    const suggested = this.roleNameFor === binding && this.roleName ? this.roleName : defaultRoleName(this.cluster!.info.name, this.namespace, this.serviceAccount);
    this.roleName = await this.prompts.input({
      message: 'IAM role name (suggested; edit to change)',
      default: suggested,
      validate: validateWith((value) => assertRoleName(value)),
      hint: hintWith((value) => assertRoleName(value)),
    });
    this.roleNameFor = binding;
    this.adopt = false;
    const boundary = await this.prompts.select({
      message: 'Permissions boundary',
      choices: [
        { value: 'none', name: this.permissionsBoundary ? `Keep ${this.permissionsBoundary}` : 'No permissions boundary' },
        { value: 'choose', name: 'Choose a boundary policy (search, or paste its ARN)' },
        ...(this.permissionsBoundary ? [{ value: 'clear', name: 'No permissions boundary' }] : []),
        { value: 'back', name: '← Back (change permissions)' },
      ],
      default: 'none',
    });
    if (boundary === 'back') return 'back';
    if (boundary === 'clear') this.permissionsBoundary = null;
    if (boundary === 'choose') this.permissionsBoundary = (await this.searchPolicy('Boundary policy (type part of its name, or paste its ARN)')) ?? this.permissionsBoundary;
    return 'next';
  }

  // 5. Plan, confirm, apply.

  private answers(): WizardAnswers {
    return {
      region: this.region,
      cluster: this.cluster!.info.name,
      namespace: this.namespace,
      createNamespace: this.createNamespace,
      serviceAccount: this.serviceAccount,
      policyArns: [...this.policyArns],
      inlinePolicy: this.inlinePolicy,
      roleName: this.roleName,
      permissionsBoundary: this.permissionsBoundary,
      adopt: this.adopt,
      overrideExistingServiceAccount: this.overrideExisting,
      restartWorkloads: this.restartWorkloads,
      ...(this.mechanism === 'pod-identity' ? { mechanism: 'pod-identity' as const, installPodIdentityAgent: this.installAgent } : {}),
    };
  }

  private async planStep(): Promise<Nav> {
    const cluster = this.cluster!;
    const target: WizardTarget = {
      issuerUrl: cluster.issuerUrl,
      cluster: cluster.info,
      region: this.region,
      account: cluster.account,
      thumbprints: { given: [], none: false },
    };
    const gateways = await this.attempt('Connecting', async () => ({
      iam: await this.conn.iam(),
      kube: await this.conn.kube(),
      ...(this.mechanism === 'pod-identity' && this.conn.podIdentity ? { podIdentity: await this.conn.podIdentity() } : {}),
    }));
    if (gateways === BACK) return 'back';
    const reads = await this.attempt('Reading the role, policies, OIDC provider, ServiceAccount and workloads', () =>
      this.options.planning.read(this.answers(), target, {
        iam: gateways.iam,
        kube: gateways.kube,
        resolveThumbprints: (url) => this.conn.resolveThumbprints(url),
        ...(gateways.podIdentity ? { podIdentity: async () => gateways.podIdentity! } : {}),
      }),
    );
    if (reads === BACK) return 'back';
    return this.decideAndApply(target, reads, gateways);
  }

  /** Plans from one set of reads; answers to conflicts re-plan without reading again (engine/wizard.ts decides). */
  private async decideAndApply(target: WizardTarget, reads: Reads, gateways: { iam: IamGateway; kube: KubeGateway; podIdentity?: PodIdentityGateway }): Promise<Nav> {
    for (;;) {
      const decision = this.options.planning.decide(this.answers(), target, reads, { restartAsked: this.restartAsked });
      if (decision.kind === 'resolve') {
        // The same blocker create-sa-role shows (the fix in the wizard's terms), then a question.
        this.say(this.c.yellow(`Blocked: ${blockerText(decision.blocker)}`));
        const next = await this.resolve(decision.resolution, decision.roleArn, reads);
        if (next === 'again') continue;
        return next;
      }
      if (decision.kind === 'ask-restart') {
        this.restartAsked = true;
        this.say(`These workloads use ${this.namespace}/${this.serviceAccount}; their pods keep the old identity until they are recreated:`);
        for (const w of decision.workloads) this.say(`  ${w.kind.toLowerCase()}/${w.name}`);
        this.restartWorkloads = await this.prompts.confirm({ message: 'Restart them as part of the plan (like kubectl rollout restart)?', default: false });
        continue;
      }
      const { binding } = decision;
      const { audience } = bindingRequestFromAnswers(this.answers());
      this.pendingRestarts = decision.pendingRestarts;
      this.say(this.c.bold('Plan'));
      this.options.out(renderPlanText(binding.plan, { color: this.options.globals.color, verbose: this.options.globals.verbose }));
      if (!hasChanges(binding.plan)) {
        this.outcome = { kind: 'unchanged' };
        await this.verifyStep(binding.roleArn, audience);
        return 'next';
      }
      if (!(await this.prompts.confirm({ message: 'Apply this plan?', default: false }))) {
        this.outcome = { kind: 'declined' };
        return 'next';
      }
      this.options.onPhase?.('applying', equivalentCommandLine(this.answers(), this.options.globals));
      const report = await this.options.planning.apply(binding.plan, gateways, {
        onStart: (change) => this.say(this.c.dim(`  … ${change.action} ${change.kind} ${shownId(change)}`)),
        onFinish: (result) => {
          const label = `${result.change.action} ${result.change.kind} ${shownId(result.change)}`;
          if (result.status === 'applied') this.say(this.c.green(`  ✓ ${label}`));
          else if (result.status === 'failed' || result.status === 'stale') this.say(this.c.red(`  ✗ ${label}: ${describeError(result.error)}`));
          for (const note of result.notes ?? []) this.say(this.c.yellow(`    ! ${note}`));
        },
      });
      this.options.onPhase?.('prompting', null);
      if (report.ok) this.say(this.c.green(`Apply complete: ${report.applied} changes applied.`));
      else {
        this.say(this.c.red(`Apply stopped: ${report.applied} applied, ${report.failed} failed${report.stale > 0 ? `, ${report.stale} stale` : ''}, ${report.notStarted} not started.`));
        this.say('Run the command below (or the wizard) again to converge: irsa re-reads what exists and plans only what is left.');
      }
      this.outcome = { kind: 'applied', ok: report.ok };
      if (report.ok && !(await this.verifyStep(binding.roleArn, audience))) this.outcome = { kind: 'applied', ok: false };
      return 'next';
    }
  }

  /** Asks the question a blocker's resolution calls for: change one answer (and plan again) or go to a step. */
  private async resolve(resolution: Resolution, roleArn: string, reads: PlanningReads): Promise<Nav | 'again'> {
    switch (resolution.kind) {
      case 'confirm': {
        const yes = await this.prompts.confirm({ message: `Re-annotate it with ${roleArn}? (its pods lose the old role when restarted)`, default: false });
        if (!yes) return { goto: resolution.step };
        this.overrideExisting = withAnswer(this.answers(), resolution.answer, true).overrideExistingServiceAccount;
        return 'again';
      }
      case 'adopt-or-rename': {
        const role = reads.observed.role!;
        const next = await this.prompts.select({
          message: 'What now?',
          choices: [
            { value: 'role', name: 'Choose another role name' },
            { value: 'adopt', name: `Let irsa manage ${role.name} (adopt: its trust policy and policies are updated)` },
            { value: 'quit', name: 'Quit (nothing is applied)' },
          ],
        });
        if (next === 'quit') throw new WizardCancelled();
        if (next === 'role') return { goto: 'role' };
        this.adopt = withAnswer(this.answers(), 'adopt', true).adopt;
        return 'again';
      }
      case 'install-agent-or-irsa': {
        const next = await this.prompts.select({
          message: 'What now?',
          choices: [
            { value: 'install', name: 'Let irsa add the eks-pod-identity-agent add-on (CreateAddon, in the plan)' },
            { value: 'irsa', name: 'Use IRSA for this binding instead' },
            { value: 'quit', name: 'Quit (nothing is applied)' },
          ],
        });
        if (next === 'quit') throw new WizardCancelled();
        if (next === 'irsa') {
          this.mechanism = 'irsa';
          // IRSA needs the cluster's OIDC provider: asked now, as the role step asks it.
          if ((await this.askProvider(false)) === 'other') return { goto: 'cluster' };
          // The reads were made for Pod Identity (no OIDC provider): plan IRSA from fresh reads.
          return { goto: 'plan' };
        }
        this.installAgent = withAnswer(this.answers(), 'installPodIdentityAgent', true).installPodIdentityAgent === true;
        return 'again';
      }
      case 'go-to':
        return this.chooseWhereToGo(resolution.label, resolution.step);
      default:
        return unreachable(resolution);
    }
  }

  /** The --verify step; true when it passed or was not asked for. */
  private async verifyStep(roleArn: string, audience: string): Promise<boolean> {
    if (!this.options.verify) return true;
    if (this.mechanism === 'pod-identity') {
      this.say(this.c.yellow('--verify proves IRSA bindings (a minted token and sts:AssumeRoleWithWebIdentity); EKS Pod Identity credentials come from the agent on the node: not verified.'));
      return true;
    }
    this.say(this.c.dim('Verifying: a minted token and sts:AssumeRoleWithWebIdentity, retried while IAM propagates…'));
    const result = await this.options.verify({ namespace: this.namespace, name: this.serviceAccount, roleArn, audience }, this.conn);
    for (const line of result.lines) this.say(result.ok ? this.c.green(line) : this.c.red(line));
    return result.ok;
  }

  private async chooseWhereToGo(label: string, step: StepName): Promise<Nav> {
    const next = await this.prompts.select({
      message: 'What now?',
      choices: [
        { value: 'go', name: label },
        { value: 'back', name: 'Go back a step' },
        { value: 'quit', name: 'Quit (nothing is applied)' },
      ],
    });
    if (next === 'quit') throw new WizardCancelled();
    return next === 'go' ? { goto: step } : 'back';
  }

  // 6. Next steps.

  private finish(): number {
    const outcome = this.outcome!;
    const answers = this.answers();
    const command = equivalentCommandLine(answers, this.options.globals);
    this.say();
    if (outcome.kind === 'declined') {
      this.say('Nothing was applied. To apply this plan later, run:');
      this.say(`  ${command}`);
      return 0;
    }
    if (outcome.kind === 'unchanged') this.say(this.c.green('Nothing to change: the binding already matches.'));
    this.say(this.c.bold('Next steps'));
    if (outcome.kind === 'applied' && this.pendingRestarts.length > 0) {
      this.say(`Restart these workloads so their pods get the role (the webhook only changes new pods):`);
      for (const w of this.pendingRestarts) this.say(`  ${rolloutRestartCommand(w)}`);
    }
    this.say('The same binding without prompts (scripts and CI; it plans no changes now):');
    this.say(`  ${command}`);
    this.say('Or as a binding in irsa.yaml:');
    for (const line of configSnippet(answers, this.options.globals).trimEnd().split('\n')) this.say(`  ${line}`);
    return outcome.kind === 'applied' && !outcome.ok ? 1 : 0;
  }
}

function backChoice<T>(what: string): Choice<T | Back> {
  return { value: BACK, name: `← Back (${what})` };
}

export function regionChoices(term: string, preferred: string | null): Array<Choice<string>> {
  const regions = preferred ? [preferred, ...REGIONS.filter((r) => r !== preferred)] : REGIONS;
  const matches = term.trim() ? filterByTerm(regions, term, (r) => r) : regions;
  const choices = matches.map((region) => ({ value: region, name: region === preferred ? `${region} (default)` : region }));
  const typed = term.trim();
  if (REGION_PATTERN.test(typed) && !regions.includes(typed)) choices.unshift({ value: typed, name: typed });
  return choices;
}

/** Policies whose name matches the term (at most 50); a typed policy ARN is offered as is. */
export function policyChoices(policies: readonly PolicySummary[], term: string): Array<Choice<string | Back>> {
  const typed = term.trim();
  const choices: Array<Choice<string | Back>> = [];
  if (typed.startsWith('arn:')) {
    const problem = validateWith((value) => assertPolicyArn(value, 'arn'))(typed);
    // The choice already shows the ARN: the reason leaves out the quoted value it starts with.
    choices.push(problem === true ? { value: typed, name: `Use ${typed}` } : { value: typed, name: `Use ${typed}`, disabled: problem.replace(/^"[^"]*" /, '') });
  }
  const matches = filterByTerm(policies, typed.startsWith('arn:') ? '' : typed, (p) => p.name, (p) => (isServiceRolePolicy(p.arn) ? 1 : 0)).slice(0, 50);
  for (const policy of typed.startsWith('arn:') ? [] : matches) {
    choices.push({ value: policy.arn, name: policy.name, description: `${policy.arn} (${isAwsManaged(policy.arn) ? 'AWS managed' : 'customer managed'})` });
  }
  choices.push(backChoice('choose nothing'));
  return choices;
}
