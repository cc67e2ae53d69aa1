// irsa migrate: moves ServiceAccounts between IRSA and EKS Pod Identity without an outage (issue
// 22; core/pod-identity-migration.ts says the five steps each way). Steps 1–3 are the target
// mechanism's plan of each ServiceAccount with its role attached; step 4 is a server-side dry run
// through the real webhook; step 5 (the old mechanism's trust and annotation) is planned from
// fresh reads and applied only after every proof passed. Every step re-plans from what exists, so
// running the command again after an interruption converges.
//
// What is read, is read once for all the ServiceAccounts (engine/binding-reads.ts readBindings):
// roles and ServiceAccounts in bulk, one workload listing per namespace, the cluster's EKS Pod
// Identity state once — a migration of 100 costs a handful of read round trips, not hundreds.
//
// The ServiceAccounts come from flags (-n, --name) or from an irsa.yaml (-f): there, each binding's
// declared `mechanism` is where it should end up, and migrate moves the ones that are elsewhere.

import { parseLockTimeout } from './trust-locks.ts';
import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { validateBinding } from '../core/binding-input.ts';
import { bindingRoleArn, planBindings, type BindingRequest } from '../core/binding.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { assertNamespace, assertServiceAccountName } from '../core/names.ts';
import { changeKey, hasChanges, type Plan } from '../core/plan.ts';
import { irsaProof, newTrustGaps, planIrsaRemoval, planPodIdentityTrustRemoval, podIdentityProof } from '../core/pod-identity-migration.ts';
import { planAssociationRemoval, type PodIdentityAssociationState } from '../core/resources/pod-identity-association.ts';
import { removePodIdentitySubject } from '../core/pods-eks-trust.ts';
import type { ClusterInfo, RoleState, ServiceAccountState } from '../core/state.ts';
import type { IamGateway, KubeGateway, LeaseGateway, PodIdentityGateway } from '../ports.ts';
import { roleNameOfArn } from '../core/pod-identity-inventory.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import { FLAG_TERMS } from '../core/terms.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import { removeSubject } from '../core/trust-merge.ts';
import { serviceAccountSubject } from '../core/trust-policy.ts';
import { loadConfigFile, type IrsaConfig } from '../config/load.ts';
import { readBindings, type BindingTarget } from '../engine/binding-reads.ts';
import { readRoles, readServiceAccounts } from '../engine/bulk-reads.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { readAssociations, rolesOfTagsOffAssociations } from '../engine/pod-identity-reads.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { createCommandContext, type CommandContext } from './context.ts';
import { concurrencyOption, contextFor, inFileError } from './declarative.ts';
import { parseGlobals, type GlobalOptions } from './globals.ts';
import { runPlan, trustLockerFor } from './run-plan.ts';
import { keepTrustLocks, lockTrustBatch, type KeptTrustLocks, type TrustBatch } from '../engine/trust-batch.ts';
import type { HeldTrustLock } from '../engine/trust-lock.ts';

type Direction = 'pod-identity' | 'irsa';

/** One opened cluster and everything a migration in it uses. */
interface Migration {
  options: Record<string, unknown>;
  globals: GlobalOptions;
  output: Output;
  ctx: CommandContext;
  iam: IamGateway;
  kube: KubeGateway;
  podIdentity: PodIdentityGateway;
  cluster: string;
  issuer: { issuerUrl: string; cluster: ClusterInfo | null };
  target: BindingTarget;
  partition: string;
  account: string;
  providerArn: string;
  approve: boolean;
  concurrency: number;
  lockTimeoutMs: number;
  say: (line: string) => void;
  /** What the user types to apply this migration (shown under a plan without --approve). */
  applyHint: string;
  /** -o json: where the steps' documents go (null: text). */
  json: JsonReport | null;
}

/** -o json: a new migration's entry, its steps labelled from here on. */
function startJson(m: Migration, to: Direction, requests: BindingRequest[]): void {
  if (!m.json) return;
  m.json.migrations.push({ to, serviceAccounts: requests.map(keyOf), steps: [] });
  m.json.step = '1-3';
}

/** -o json: a step's own record (the proofs, the preview of step 5). */
function recordJson(m: Migration, step: Record<string, unknown>): void {
  m.json?.migrations.at(-1)?.steps.push(step);
}

const proofsJson = (proofs: Array<{ name: string; ok: boolean; observed: string }>) => ({ step: '4', proofs: proofs.map((p) => ({ serviceAccount: p.name, ok: p.ok, observed: p.observed })) });

/** A ServiceAccount to move, with the role it uses now (kept: a migration changes the mechanism, never the role). */
interface Candidate {
  namespace: string;
  name: string;
  roleArn: string;
  restartWorkloads: boolean;
  installPodIdentityAgent: boolean;
}

export async function run(options: Record<string, unknown>, _args: string[] = [], outputArg?: Output): Promise<number> {
  const printer = outputArg ?? createOutput(options);
  // -o json: one document for the whole migration (every step's plan and report, the proofs),
  // printed at the end, so that `| jq` reads it whole.
  const report = printer.format === 'json' ? jsonReport(printer) : null;
  const code = await migrate(options, report?.output ?? printer, report);
  report?.print();
  return code;
}

/** What `-o json` prints: the migrations (one per direction), each with its steps in order. */
interface JsonReport {
  output: Output;
  migrations: Array<{ to: Direction; serviceAccounts: string[]; steps: Array<Record<string, unknown>> }>;
  /** The step the next plan or report belongs to. */
  step: string;
  oidcProviderRemoval?: { providerArn: string; command: string };
  print(): void;
}

function jsonReport(printer: Output): JsonReport {
  const messages: string[] = [];
  const report: JsonReport = {
    migrations: [],
    step: '1-3',
    output: {
      ...printer,
      out: (text) => void messages.push(...text.split('\n').map((line) => line.trim()).filter(Boolean)),
      json: (value) => void report.migrations.at(-1)?.steps.push({ step: report.step, ...(value as Record<string, unknown>) }),
    },
    print: () => printer.json({ migrations: report.migrations, ...(report.oidcProviderRemoval ? { oidcProviderRemoval: report.oidcProviderRemoval } : {}), messages }),
  };
  return report;
}

async function migrate(options: Record<string, unknown>, output: Output, report: JsonReport | null): Promise<number> {
  const to = options['to'] as string | undefined;
  if (to !== undefined && to !== 'pod-identity' && to !== 'irsa') throw new UserError(`--to: "${to}" is not a mechanism. Give pod-identity (from IRSA to EKS Pod Identity) or irsa (back).`, '--to');
  const file = options['file'] as string | undefined;
  if (file) {
    for (const flag of ['namespace', 'name', 'cluster'] as const) {
      if (options[flag] !== undefined) throw new UserError(`--${flag}: with -f the cluster and the ServiceAccounts come from the file; leave --${flag} out, or leave -f out.`, `--${flag}`);
    }
    const config = loadConfigFile(file);
    try {
      return await migrateFile(config, options, output, to as Direction | undefined, report);
    } catch (error) {
      throw inFileError(error);
    }
  }
  if (!to) throw new UserError('--to is required: pod-identity (from IRSA to EKS Pod Identity) or irsa (back). With -f irsa.yaml each binding\'s mechanism says where it goes.', '--to');
  const namespace = options['namespace'] as string | undefined;
  if (!namespace) throw new UserError('-n, --namespace is required: the namespace of the ServiceAccounts to migrate (or -f irsa.yaml).', '--namespace');
  assertNamespace(namespace);
  const names = (options['name'] as string[] | undefined) ?? [];
  for (const name of names) assertServiceAccountName(name);
  const cluster = options['cluster'] as string | undefined;
  if (!cluster) throw new UserError('--cluster is required: EKS Pod Identity exists only on EKS clusters.', '--cluster');
  const concurrency = concurrencyOption(options);
  const globals = parseGlobals(options);
  const ctx = createCommandContext(globals, { clusterProfile: options['clusterProfile'] as string | undefined });
  const m = await openMigration(ctx, globals, options, output, cluster, concurrency, report);
  const flags = { restartWorkloads: options['restartWorkloads'] === true, installPodIdentityAgent: options['installPodIdentityAgent'] === true };
  if (to === 'irsa') {
    const selected = await selectForIrsa(m, namespace, names, flags);
    if (selected.candidates.length === 0) {
      output.out(`No ServiceAccount of ${namespace} has an EKS Pod Identity association: nothing to migrate.\n`);
      return 0;
    }
    return migrateToIrsa(m, selected.candidates, selected.associations, selected.serviceAccounts);
  }
  const selected = await selectForPodIdentity(m, namespace, names, flags);
  if (selected.candidates.length === 0) {
    output.out(`No ServiceAccount of ${namespace} carries ${ROLE_ARN_ANNOTATION}: nothing to migrate.\n`);
    return 0;
  }
  return migrateToPodIdentity(m, selected.candidates, selected.serviceAccounts);
}

async function openMigration(ctx: CommandContext, globals: GlobalOptions, options: Record<string, unknown>, output: Output, cluster: string, concurrency: number, json: JsonReport | null): Promise<Migration> {
  const approve = options['approve'] === true;
  const lockTimeoutMs = parseLockTimeout(options);
  const region = await ctx.region();
  // The account is read beside the cluster: neither needs the other.
  const accountRead = ctx.iam().then((iam) => iam.accountId());
  accountRead.catch(() => {}); // reported below, after the cluster's own errors
  const issuer = await resolveIssuer({ cluster, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, writes: approve });
  const [iam, kube, podIdentity] = await Promise.all([ctx.iam(), ctx.kube(), ctx.podIdentity()]);
  const account = await accountRead;
  const partition = partitionForRegion(region);
  const providerArn = oidcProviderArn(partition, account, issuerHostPath(issuer.issuerUrl));
  const target: BindingTarget = { issuerUrl: issuer.issuerUrl, cluster: issuer.cluster, region, account, thumbprints: { given: [], none: false } };
  const say = (line: string) => {
    if (globals.output === 'text') output.out(line + '\n');
  };
  return { options, globals, output, ctx, iam, kube, podIdentity, cluster, issuer, target, partition, account, providerArn, approve, concurrency, lockTimeoutMs, say, json, applyHint: `irsa ${process.argv.slice(2).join(' ')} --approve` };
}

const keyOf = (sa: { namespace: string; name: string }) => `${sa.namespace}/${sa.name}`;

/** Flags: every annotated ServiceAccount of the namespace, or the named ones (a named one already moved is re-checked, so re-runs converge). */
async function selectForPodIdentity(m: Migration, namespace: string, names: string[], flags: Pick<Candidate, 'restartWorkloads' | 'installPodIdentityAgent'>) {
  const serviceAccounts = names.length > 0
    ? await readServiceAccounts(m.kube, names.map((name) => `${namespace}/${name}`), { concurrency: m.concurrency })
    : new Map((await m.kube.listServiceAccounts(namespace)).map((sa) => [keyOf(sa), sa] as const));
  const wanted = names.length > 0 ? names : [...serviceAccounts.values()].filter((sa) => sa?.annotations[ROLE_ARN_ANNOTATION]).map((sa) => sa!.name);
  const unannotated = names.filter((name) => serviceAccounts.get(`${namespace}/${name}`) && !serviceAccounts.get(`${namespace}/${name}`)!.annotations[ROLE_ARN_ANNOTATION]);
  const associations = unannotated.length > 0 ? await readAssociations(m.podIdentity, m.cluster, unannotated.map((name) => ({ namespace, name })), m.concurrency) : new Map<string, PodIdentityAssociationState | null>();
  const problems: string[] = [];
  const candidates: Candidate[] = [];
  for (const name of wanted) {
    const sa = serviceAccounts.get(`${namespace}/${name}`);
    if (!sa) {
      problems.push(`--name: ServiceAccount ${namespace}/${name} does not exist.`);
      continue;
    }
    const roleArn = sa.annotations[ROLE_ARN_ANNOTATION] ?? associations.get(`${namespace}/${name}`)?.roleArn;
    if (!roleArn) {
      problems.push(`--name: ${namespace}/${name} has no ${ROLE_ARN_ANNOTATION} annotation: it has no IRSA binding to migrate (irsa create-sa-role --mechanism pod-identity binds it).`);
      continue;
    }
    candidates.push({ namespace, name, roleArn, ...flags });
  }
  throwProblems(problems);
  return { candidates, serviceAccounts };
}

/** Flags: every ServiceAccount of the namespace with an association, or the named ones (one already moved back is re-checked). */
async function selectForIrsa(m: Migration, namespace: string, names: string[], flags: Pick<Candidate, 'restartWorkloads' | 'installPodIdentityAgent'>) {
  const wanted = names.length > 0 ? names : [...new Set((await m.podIdentity.listAssociations(m.cluster, { namespace })).map((a) => a.serviceAccount))].sort();
  const refs = wanted.map((name) => ({ namespace, name }));
  const [serviceAccounts, associations] = await Promise.all([
    readServiceAccounts(m.kube, refs.map(keyOf), { concurrency: m.concurrency }),
    readAssociations(m.podIdentity, m.cluster, refs, m.concurrency),
  ]);
  const problems: string[] = [];
  const candidates: Candidate[] = [];
  for (const ref of refs) {
    const sa = serviceAccounts.get(keyOf(ref));
    const association = associations.get(keyOf(ref)) ?? null;
    // Already moved back (no association, the annotation there): re-checked, so re-runs converge.
    const roleArn = association?.roleArn ?? sa?.annotations[ROLE_ARN_ANNOTATION];
    if (!sa) {
      problems.push(`--name: ServiceAccount ${keyOf(ref)} does not exist.`);
      continue;
    }
    if (!roleArn) {
      problems.push(`--name: ${keyOf(ref)} has no EKS Pod Identity association and no role-arn annotation: nothing to migrate.`);
      continue;
    }
    const refused = refuseBack(association, keyOf(ref), '--name');
    if (refused) problems.push(refused);
    else candidates.push({ ...ref, roleArn, ...flags });
  }
  throwProblems(problems);
  return { candidates, associations, serviceAccounts };
}

/** Why an association cannot be migrated back to IRSA by irsa, or null. */
function refuseBack(association: PodIdentityAssociationState | null, key: string, field: string): string | null {
  if (association && (association.ownerArn || association.tags['irsa:managed-by'] !== 'irsa')) {
    return `${field}: the association of ${key} was not made by irsa${association.ownerArn ? ` (an add-on owns it: ${association.ownerArn})` : ''}; irsa deletes only its own. Delete it yourself once IRSA is in place, or leave this ServiceAccount out.`;
  }
  if (association?.targetRoleArn) return `${field}: ${key} chains into ${association.targetRoleArn} (a target role): IRSA cannot chain roles; bind it to that role with irsa create-sa-role instead.`;
  return null;
}

function throwProblems(problems: string[]): void {
  if (problems.length === 1) throw new UserError(problems[0]!);
  if (problems.length > 1) throw new ValidationErrors(problems);
}

/** The binding requests of the candidates, each with the role it has attached (only its trust changes). */
function requestsFor(m: Migration, candidates: Candidate[], mechanism: Direction): BindingRequest[] {
  const problems: string[] = [];
  const requests: BindingRequest[] = [];
  for (const c of candidates) {
    const { request, problems: invalid } = validateBinding({
      cluster: m.cluster, namespace: c.namespace, name: c.name, attachRoleArn: c.roleArn, restartWorkloads: c.restartWorkloads,
      ...(mechanism === 'pod-identity' ? { mechanism, installPodIdentityAgent: c.installPodIdentityAgent } : {}),
    }, FLAG_TERMS);
    if (request) requests.push(request);
    else problems.push(...invalid.map((p) => `${c.namespace}/${c.name}: role ${c.roleArn}: ${p.message}`));
  }
  throwProblems(problems);
  return requests;
}

const roleNameOf = (request: BindingRequest) => roleNameOfArn(request.attachRoleArn!) ?? request.roleName;

/** Steps 1–3 planned from one read of all the ServiceAccounts (ServiceAccounts sharing a role get one trust change). */
async function planSteps(m: Migration, requests: BindingRequest[], known: Map<string, ServiceAccountState | null>, rolesAfter: Promise<unknown>): Promise<{ plan: Plan; roles: Map<string, RoleState | null> }> {
  const reads = await readBindings(requests, m.target, {
    iam: m.iam, kube: m.kube, resolveThumbprints: m.ctx.resolveThumbprints, podIdentity: async () => m.podIdentity, concurrency: m.concurrency, serviceAccounts: known, rolesAfter,
  });
  const planned = planBindings(requests, {
    context: {
      partition: m.partition, account: m.account, providerArn: reads.provider?.arn ?? m.providerArn, issuerHostPath: issuerHostPath(m.issuer.issuerUrl), providerChange: null,
      ...(reads.podIdentity?.clusterArn ? { podIdentityClusterArn: reads.podIdentity.clusterArn } : {}),
      ...(m.issuer.cluster ? { clusterAccount: m.issuer.cluster.accountId } : {}),
    },
    roles: reads.roles,
    namespaces: reads.namespaces,
    serviceAccounts: reads.serviceAccounts,
    workloads: reads.workloads,
    clusterRoles: [],
    ...(reads.podIdentity ? { podIdentity: reads.podIdentity } : {}),
    // The OIDC provider (the way back) is planned from what was read: created when missing.
    ...(reads.provider ? { provider: { desired: reads.provider.desired, observed: reads.provider.observed } } : {}),
  }, { mode: 'ensure', prune: false });
  return { plan: planned.plan, roles: new Map(requests.map((r) => [roleNameOf(r), reads.roles.get(r.roleName) ?? null])) };
}

/**
 * With --approve and the cluster's Leases, a migration takes the trust locks of its roles once,
 * before it reads them, and keeps them to the end (engine/trust-batch.ts keepTrustLocks): the
 * reads each step plans from are then its re-check, so each trust write is one call, and no irsa
 * run can change the roles between step 1 and step 5. The locks go back with what was left.
 */
async function withKeptLocks<T>(
  m: Migration,
  leases: LeaseGateway | undefined,
  roleNames: string[],
  body: (locks: { locked: Promise<unknown>; batchOf: (roles: Map<string, RoleState | null>, options?: { last?: boolean }) => TrustBatch | undefined }) => Promise<T>,
): Promise<T> {
  const locker = m.approve && leases ? trustLockerFor(leases, m.output, m.lockTimeoutMs) : null;
  const locking = locker ? lockTrustBatch(locker, roleNames, m.concurrency).catch(() => null) : Promise.resolve(null);
  let held: Map<string, HeldTrustLock> | null = null;
  const locked = locking.then((taken) => (held = taken));
  let kept: KeptTrustLocks | null = null;
  try {
    return await body({
      locked,
      batchOf: (roles, options) => {
        if (!held || !locker) return undefined;
        kept ??= keepTrustLocks(locker, held);
        return kept.batchOf(roles, options);
      },
    });
  } finally {
    await locked;
    if (kept) await (kept as KeptTrustLocks).release();
    else if (held) await Promise.all([...(held as Map<string, HeldTrustLock>).values()].map((lock) => lock.abandon()));
  }
}

function runOptions(m: Migration, approve: boolean) {
  return { globals: m.globals, output: m.output, approve, detailedExitcode: m.options['detailedExitcode'] === true, concurrency: m.concurrency, lockTimeoutMs: m.lockTimeoutMs, retryCount: m.ctx.retries };
}

async function executorOf(m: Migration) {
  return { iam: m.iam, kube: m.kube, workloads: await m.ctx.workloads(), podIdentity: m.podIdentity };
}

/** IRSA → EKS Pod Identity for the candidates. */
async function migrateToPodIdentity(m: Migration, candidates: Candidate[], known: Map<string, ServiceAccountState | null>): Promise<number> {
  const requests = requestsFor(m, candidates, 'pod-identity');
  startJson(m, 'pod-identity', requests);
  const [executor, leases] = await Promise.all([executorOf(m), m.ctx.leases()]);
  const roleNames = requests.map(roleNameOf);
  return withKeptLocks(m, leases, roleNames, async ({ locked, batchOf }) => {
    const { plan, roles: rolesBefore } = await planSteps(m, requests, known, locked);
    m.say(`Steps 1–3: EKS Pod Identity beside IRSA for ${requests.map((r) => r.name).join(', ')}`);
    const firstBatch = batchOf(rolesBefore);
    // Step 1's trust is checked by step 5's read under the same locks (newTrustGaps), not read twice.
    const added = await runPlan(plan, { ...runOptions(m, m.approve), executor, leases, applyHint: m.applyHint, verifyTrust: false, ...(firstBatch ? { trustBatch: firstBatch } : {}) });
    if (added === 1) return 1;

    const removal = async (): Promise<{ plan: Plan; roles: Map<string, RoleState | null> }> => {
      const [sas, roles] = await Promise.all([
        readServiceAccounts(m.kube, requests.map(keyOf), { concurrency: m.concurrency }),
        readRoles(m.iam, roleNames, { concurrency: m.concurrency }).then((reads) => reads.roles),
      ]);
      return { plan: planIrsaRemoval(m.cluster, m.providerArn, requests.map((r) => ({ namespace: r.namespace, name: r.name, serviceAccount: sas.get(keyOf(r)) ?? null, role: roles.get(roleNameOf(r)) ?? null }))), roles };
    };
    if (!m.approve) {
      const later = (await removal()).plan;
      m.say('');
      m.say(`Then step 4 (a server-side dry run of a new pod of each ServiceAccount must show EKS Pod Identity credentials) and, only if every proof passes, step 5: ${later.changes.map((c) => `${c.action} ${c.kind} ${c.id}`).join('; ') || 'nothing'}.`);
      recordJson(m, { step: '4-5', applied: false, planned: later.changes.map((c) => ({ action: c.action, kind: c.kind, id: c.id })) });
      return added;
    }

    // Step 4: the proof, through the real admission chain. A failed proof removes nothing.
    const inspector = await m.ctx.inspector();
    const proving = Promise.all(requests.map(async (r) => {
      const runs = await inspector.dryRunPods(r.namespace, r.name).catch(() => []);
      return { name: keyOf(r), ...podIdentityProof(runs.find((d) => !d.fromWorkload) ?? runs[0]) };
    }));
    // Step 5's read starts beside the proofs: the locks are held since step 1, so it is current
    // when they pass (and unused when one fails).
    const removing = removal();
    removing.catch(() => {}); // awaited below
    let rolesAfter: RoleState[] | undefined;
    const clusterArn = m.issuer.cluster?.arn ?? '';
    const providerRead = m.iam.getOidcProvider(m.providerArn).catch(() => undefined); // for the proposal at the end
    const code = await (async () => {
      const proofs = await proving;
      for (const proof of proofs) m.say(`${proof.ok ? '✓' : '✗'} step 4 ${proof.name}: ${proof.observed}`);
      recordJson(m, proofsJson(proofs));
      if (proofs.some((p) => !p.ok)) {
        m.output.err('Error: the dry-run proof failed, so nothing of IRSA was removed (the trust statements and annotations stay; pods keep working). EKS updates the pod identity webhook within seconds of a new association: run the same command again.\n');
        return 1;
      }
      // Step 5, planned from what exists now (read under the trust locks).
      const { plan: removed, roles } = await removing;
      const gaps = newTrustGaps({ mechanism: 'pod-identity', clusterArn }, requests.map((r) => ({ namespace: r.namespace, name: r.name, serviceAccount: null, role: roles.get(roleNameOf(r)) ?? null })));
      if (gaps.length > 0) {
        m.output.err(`Error: the role of ${gaps.join(', ')} does not admit EKS Pod Identity for ${gaps.length === 1 ? 'it' : 'them'} (its pods.eks statement is missing: another writer changed the trust after step 1), so nothing of IRSA was removed. Run the same command again: step 1 adds the statement again.\n`);
        return 1;
      }
      m.say('Step 5: the IRSA side of the proven ServiceAccounts');
      if (m.json) m.json.step = '5';
      if (!hasChanges(removed)) m.say('Nothing left to remove.');
      const trustBatch = batchOf(roles, { last: true });
      // Each annotation waits for its own role only (core/pod-identity-migration.ts), not for all of them.
      return runPlan(removed, { ...runOptions(m, true), executor, leases, clusterAfterRoles: false, onTrustRead: (all) => (rolesAfter = all), ...(trustBatch ? { trustBatch } : {}) });
    })();
    if (code !== 1) {
      const proposal = await proposeProviderRemoval(m.iam, m.providerArn, m.cluster, m.say, rolesAfter, providerRead);
      if (proposal && m.json) m.json.oidcProviderRemoval = proposal;
    }
    return code;
  });
}

/**
 * After the last IRSA subject of this cluster left: when no role of the account trusts the
 * cluster's OIDC provider any more, say so and show how to delete it (the 100-provider quota).
 * Shown only, never done: a role in a file not applied yet, or made by another tool tomorrow, may
 * still need it. A provider is an account's own resource, so the account's roles are all that can
 * trust it (one GetAccountAuthorizationDetails walk, the bulk read plans use).
 */
async function proposeProviderRemoval(iam: IamGateway, providerArn: string, cluster: string, say: (line: string) => void, rolesAfter?: RoleState[], providerRead?: Promise<unknown>): Promise<{ providerArn: string; command: string } | null> {
  try {
    // The account's roles as the after-apply check just read them in bulk, else read now.
    const [provider, roles] = await Promise.all([(await providerRead) ?? iam.getOidcProvider(providerArn), rolesAfter ?? iam.listRoleDetails()]);
    if (!provider) return null;
    const trusting = roles.filter((role) => JSON.stringify(role.trustPolicy).includes(JSON.stringify(providerArn).slice(1, -1)));
    if (trusting.length > 0) return null;
    const command = `aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${providerArn}`;
    say('');
    say(`No role of the account trusts the OIDC provider of cluster ${cluster} any more (${providerArn}): IRSA is no longer used with it.`);
    say(`If nothing else will, remove it (irsa does not): ${command}`);
    return { providerArn, command };
  } catch (error) {
    say(`! Could not check whether a role still trusts the OIDC provider ${providerArn}: ${(error as Error).message}`);
    return null;
  }
}

/**
 * EKS Pod Identity → IRSA (core/pod-identity-migration.ts, "the way back"): each role gets the
 * IRSA subject and the ServiceAccount the annotation, the association irsa made goes after them, a
 * dry run proves new pods get the web identity, and only then the pods.eks statement leaves the role.
 */
async function migrateToIrsa(m: Migration, candidates: Candidate[], associations: Map<string, PodIdentityAssociationState | null>, known: Map<string, ServiceAccountState | null>): Promise<number> {
  const clusterArn = m.issuer.cluster!.arn;
  const requests = requestsFor(m, candidates, 'irsa');
  startJson(m, 'irsa', requests);
  const [executor, leases] = await Promise.all([executorOf(m), m.ctx.leases()]);
  const roleNames = requests.map(roleNameOf);
  return withKeptLocks(m, leases, roleNames, async ({ locked, batchOf }) => {
    const added = await (async () => {
      const { plan, roles } = await planSteps(m, requests, known, locked);
      // The associations go once the IRSA side of their ServiceAccount is written (Pod Identity takes precedence until then).
      const irsaSide = plan.changes.filter((c) => c.kind === 'iam-role' || c.kind === 'service-account').map(changeKey);
      for (const r of requests) {
        const removal = planAssociationRemoval(associations.get(keyOf(r)) ?? null, irsaSide);
        if (removal.change) plan.changes.push(removal.change);
      }
      m.say(`Steps 1–3: IRSA beside EKS Pod Identity for ${requests.map((r) => r.name).join(', ')}, then their associations deleted`);
      const trustBatch = batchOf(roles);
      // Step 1's trust is checked by step 5's read under its locks (newTrustGaps), not read twice.
      return runPlan(plan, { ...runOptions(m, m.approve), executor, leases, applyHint: m.applyHint, verifyTrust: false, ...(trustBatch ? { trustBatch } : {}) });
    })();
    if (added === 1) return 1;
    // Associations with session tags off are trusted by a cluster-wide statement: it leaves the
    // role too, once no other such association of the cluster names the role.
    const tagsOff = requests.filter((r) => associations.get(keyOf(r))?.disableSessionTags);
    const clusterWide = async (): Promise<Set<string>> => {
      if (tagsOff.length === 0) return new Set();
      const stillUsed = await rolesOfTagsOffAssociations(m.podIdentity, m.cluster, new Set(requests.map(keyOf)), m.concurrency);
      return new Set(tagsOff.map((r) => r.attachRoleArn!).filter((arn) => !stillUsed.has(arn)));
    };
    const removal = async (): Promise<{ plan: Plan; roles: Map<string, RoleState | null> }> => {
      const [roles, wide] = await Promise.all([readRoles(m.iam, roleNames, { concurrency: m.concurrency }).then((reads) => reads.roles), clusterWide()]);
      return { plan: planPodIdentityTrustRemoval(clusterArn, requests.map((r) => ({ namespace: r.namespace, name: r.name, serviceAccount: null, role: roles.get(roleNameOf(r)) ?? null })), wide), roles };
    };
    if (!m.approve) {
      const later = (await removal()).plan;
      m.say('');
      m.say(`Then step 4 (a server-side dry run of a new pod of each ServiceAccount must show AWS_ROLE_ARN) and, only if every proof passes, step 5: ${later.changes.map((c) => `${c.action} ${c.kind} ${c.id}`).join('; ') || 'nothing'}.`);
      recordJson(m, { step: '4-5', applied: false, planned: later.changes.map((c) => ({ action: c.action, kind: c.kind, id: c.id })) });
      return added;
    }
    const inspector = await m.ctx.inspector();
    const proving = Promise.all(requests.map(async (r) => {
      const runs = await inspector.dryRunPods(r.namespace, r.name).catch(() => []);
      return { name: keyOf(r), ...irsaProof(runs.find((d) => !d.fromWorkload) ?? runs[0], r.attachRoleArn!) };
    }));    // Step 5's read starts beside the proofs (the locks are held since step 1).
    const removing = removal();
    removing.catch(() => {}); // awaited below

    return (async () => {
      const proofs = await proving;
      for (const proof of proofs) m.say(`${proof.ok ? '✓' : '✗'} step 4 ${proof.name}: ${proof.observed}`);
      recordJson(m, proofsJson(proofs));
      if (proofs.some((p) => !p.ok)) {
        m.output.err('Error: the dry-run proof failed, so the pods.eks trust statements were not removed. EKS updates the pod identity webhook within seconds of an association\'s deletion: run the same command again.\n');
        return 1;
      }
      const { plan: removed, roles } = await removing;
      const gaps = newTrustGaps({ mechanism: 'irsa', issuerUrl: m.issuer.issuerUrl, providerArn: m.providerArn, audience: requests[0]!.audience }, requests.map((r) => ({ namespace: r.namespace, name: r.name, serviceAccount: null, role: roles.get(roleNameOf(r)) ?? null })));
      if (gaps.length > 0) {
        m.output.err(`Error: the role of ${gaps.join(', ')} does not admit IRSA for ${gaps.length === 1 ? 'it' : 'them'} (its subject is missing: another writer changed the trust after step 1), so the pods.eks statements were not removed. Run the same command again: step 1 adds the subject again.\n`);
        return 1;
      }
      m.say('Step 5: the pods.eks statements of the proven ServiceAccounts');
      if (m.json) m.json.step = '5';
      if (!hasChanges(removed)) m.say('Nothing left to remove.');
      const trustBatch = batchOf(roles, { last: true });
      return runPlan(removed, { ...runOptions(m, true), executor, leases, ...(trustBatch ? { trustBatch } : {}) });
    })();
  });
}

/** The Pod Identity settings of an irsa.yaml binding that a migration does not carry (irsa apply -f sets them). */
const POD_IDENTITY_SETTINGS: Array<[string, (binding: BindingRequest) => boolean]> = [
  ['targetRoleArn', (b) => !!b.podIdentity?.targetRoleArn],
  ['disableSessionTags', (b) => b.podIdentity?.disableSessionTags === true],
  ['sessionPolicy', (b) => !!b.podIdentity?.policy],
];

/**
 * -f irsa.yaml: each binding's declared mechanism is where its ServiceAccount should end up. A
 * binding declared pod-identity whose ServiceAccount still has IRSA (the annotation, or its
 * subject in the role's trust) moves to EKS Pod Identity; one declared irsa (the default) that has
 * an association, or still a pods.eks statement for it, moves back. Bindings already where the
 * file says, role-only ones and ServiceAccounts not bound yet are left to `irsa apply -f`.
 * A migration keeps the role: a binding whose ServiceAccount uses another role than the file names
 * is refused (change roles with apply -f, before or after).
 */
async function migrateFile(config: IrsaConfig, options: Record<string, unknown>, output: Output, only: Direction | undefined, report: JsonReport | null): Promise<number> {
  if (config.cluster.issuerUrl) throw new UserError(`cluster.issuerUrl: EKS Pod Identity exists only on EKS clusters; irsa migrate -f needs cluster.name (the EKS cluster) in ${config.file}.`, 'cluster.name');
  const { globals, ctx } = contextFor(config, options);
  const m = await openMigration(ctx, globals, options, output, config.cluster.name, concurrencyOption(options), report);
  const indexed = config.bindings.map((binding, index) => ({ binding, index })).filter(({ binding }) => !binding.roleOnly);
  const refs = indexed.map(({ binding }) => ({ namespace: binding.namespace, name: binding.name }));
  const [serviceAccounts, associations, roles] = await Promise.all([
    readServiceAccounts(m.kube, refs.map(keyOf), { concurrency: m.concurrency }),
    readAssociations(m.podIdentity, m.cluster, refs, m.concurrency),
    readRoles(m.iam, [...new Set(indexed.map(({ binding }) => roleNameOfArn(bindingRoleArn(binding, m)) ?? binding.roleName))], { concurrency: m.concurrency }).then((reads) => reads.roles),
  ]);
  const clusterArn = m.issuer.cluster?.arn ?? '';
  const problems: string[] = [];
  const toPodIdentity: Candidate[] = [];
  const toIrsa: Candidate[] = [];
  const notes: string[] = [];
  for (const { binding, index } of indexed) {
    const key = keyOf(binding);
    const field = `bindings[${index}]`;
    const sa = serviceAccounts.get(key) ?? null;
    const association = associations.get(key) ?? null;
    const fileRoleArn = bindingRoleArn(binding, m);
    const role: RoleState | null = roles.get(roleNameOfArn(fileRoleArn) ?? binding.roleName) ?? null;
    const annotated = sa?.annotations[ROLE_ARN_ANNOTATION];
    const trustsIrsa = !!role && removeSubject(role.trustPolicy, { subject: serviceAccountSubject(binding.namespace, binding.name), providerArn: m.providerArn }).changed;
    const trustsPods = !!role && removePodIdentitySubject(role.trustPolicy, { clusterArn, namespace: binding.namespace, serviceAccount: binding.name }).changed;
    const declared: Direction = binding.mechanism === 'pod-identity' ? 'pod-identity' : 'irsa';
    const moving = declared === 'pod-identity' ? !!annotated || (!!association && trustsIrsa) : !!association || (!!annotated && trustsPods);
    if (!moving || (only && only !== declared)) continue;
    const inUse = declared === 'pod-identity' ? annotated ?? association?.roleArn : association?.roleArn ?? annotated;
    if (inUse && inUse !== fileRoleArn) {
      problems.push(`${field}: ${key} uses role ${inUse}, and ${config.file} names ${fileRoleArn}. irsa migrate moves a ServiceAccount between mechanisms with the role it has: set ${field}.attachRoleArn (or roleName) to that role, or change the role with irsa apply -f before or after the migration.`);
      continue;
    }
    if (declared === 'irsa') {
      const refused = refuseBack(association, key, field);
      if (refused) {
        problems.push(refused);
        continue;
      }
    }
    // A migration moves the binding with EKS Pod Identity's defaults (its plan of steps 1–3 and the
    // way back know no chaining, no cluster-wide statement): the file's other settings are apply -f's.
    const settings = declared === 'pod-identity' ? POD_IDENTITY_SETTINGS.filter(([, set]) => set(binding)).map(([setting]) => setting) : [];
    if (settings.length > 0) notes.push(`! ${field}: ${key} moves with EKS Pod Identity's defaults; its ${settings.join(', ')} from ${config.file} ${settings.length === 1 ? 'is' : 'are'} set by irsa apply -f once it has moved.`);
    const candidate: Candidate = {
      namespace: binding.namespace, name: binding.name, roleArn: fileRoleArn,
      restartWorkloads: options['restartWorkloads'] === true || binding.restartWorkloads,
      installPodIdentityAgent: options['installPodIdentityAgent'] === true || binding.podIdentity?.installAgent === true,
    };
    (declared === 'pod-identity' ? toPodIdentity : toIrsa).push(candidate);
  }
  throwProblems(problems);
  if (toPodIdentity.length === 0 && toIrsa.length === 0) {
    output.out(`Every binding of ${config.file} already uses the mechanism it declares (or is not bound yet: irsa apply -f binds it): nothing to migrate.\n`);
    return 0;
  }
  for (const note of notes) (m.json ? output.out(note + '\n') : m.say(note));
  // Back to IRSA first: the way to EKS Pod Identity ends by checking whether any role still trusts
  // the cluster's OIDC provider (and proposing its removal), which must see the IRSA trusts this run adds.
  let code = 0;
  if (toIrsa.length > 0) {
    m.say(`Back to IRSA (${config.file} says mechanism: irsa):`);
    code = Math.max(code, await migrateToIrsa(m, toIrsa, associations, serviceAccounts));
    if (code === 1) return 1;
  }
  if (toPodIdentity.length > 0) {
    if (toIrsa.length > 0) m.say('');
    m.say(`To EKS Pod Identity (${config.file} says mechanism: pod-identity):`);
    code = Math.max(code, await migrateToPodIdentity(m, toPodIdentity, serviceAccounts));
  }
  return code;
}
