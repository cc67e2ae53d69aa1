// irsa migrate --to pod-identity: moves ServiceAccounts from IRSA to EKS Pod Identity without an
// outage (issue 22; core/pod-identity-migration.ts says the five steps). Steps 1–3 are the
// pod-identity plan of each ServiceAccount with its role attached; step 4 is a server-side dry run
// through the real webhook; step 5 (the IRSA subject and annotations) is planned from fresh reads
// and applied only after every proof passed. Every step re-plans from what exists, so running the
// command again after an interruption converges. The way back (--to irsa) is not built yet.

import { parseLockTimeout } from './trust-locks.ts';
import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { validateBinding } from '../core/binding-input.ts';
import type { BindingRequest } from '../core/binding.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { assertNamespace, assertServiceAccountName } from '../core/names.ts';
import { changeKey, hasChanges, type Plan } from '../core/plan.ts';
import { irsaProof, planIrsaRemoval, planPodIdentityTrustRemoval, podIdentityProof } from '../core/pod-identity-migration.ts';
import { planAssociationRemoval } from '../core/resources/pod-identity-association.ts';
import type { ClusterInfo } from '../core/state.ts';
import type { IamGateway, KubeGateway } from '../ports.ts';
import { roleNameOfArn } from '../core/pod-identity-inventory.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import { FLAG_TERMS } from '../core/terms.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import { readBinding } from '../engine/binding-reads.ts';
import { planBindings } from '../core/binding.ts';
import { resolveIssuer } from '../engine/oidc.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { runPlan } from './run-plan.ts';
import { findAssociation } from '../engine/executors/pod-identity-association.ts';

export async function run(options: Record<string, unknown>, _args: string[] = [], outputArg?: Output): Promise<number> {
  const output = outputArg ?? createOutput(options);
  const globals = parseGlobals(options);
  const to = options['to'] as string | undefined;
  if (to !== 'pod-identity' && to !== 'irsa') throw new UserError('--to is required: pod-identity (from IRSA to EKS Pod Identity) or irsa (back).', '--to');
  const namespace = options['namespace'] as string | undefined;
  if (!namespace) throw new UserError('-n, --namespace is required: the namespace of the ServiceAccounts to migrate.', '--namespace');
  assertNamespace(namespace);
  const names = ((options['name'] as string[] | undefined) ?? []);
  for (const name of names) assertServiceAccountName(name);
  const cluster = options['cluster'] as string | undefined;
  if (!cluster) throw new UserError('--cluster is required: EKS Pod Identity exists only on EKS clusters.', '--cluster');
  const approve = options['approve'] === true;
  const lockTimeoutMs = parseLockTimeout(options);
  const ctx = createCommandContext(globals, { clusterProfile: options['clusterProfile'] as string | undefined });
  const region = await ctx.region();
  const issuer = await resolveIssuer({ cluster, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, writes: approve });
  const [iam, kube] = await Promise.all([ctx.iam(), ctx.kube()]);
  const account = await iam.accountId();
  const partition = partitionForRegion(region);
  const providerArn = oidcProviderArn(partition, account, issuerHostPath(issuer.issuerUrl));

  if (to === 'irsa') return migrateBack({ options, globals, output, ctx, iam, kube, namespace, names, cluster, issuer, region, account, partition, approve });

  // The ServiceAccounts and the role each one's annotation names (all annotated ones of the namespace without --name).
  const all = names.length > 0 ? await Promise.all(names.map((name) => kube.getServiceAccount(namespace, name))) : await kube.listServiceAccounts(namespace);
  const podIdentity = await ctx.podIdentity();
  // A named ServiceAccount already migrated (no annotation, an association) is re-checked, not refused: re-runs converge.
  const migrated = await Promise.all(all.map((sa, index) =>
    names.length > 0 && sa && !sa.annotations[ROLE_ARN_ANNOTATION] ? findAssociation(podIdentity, { cluster, namespace, serviceAccount: names[index]! }) : Promise.resolve(null)));
  const problems: string[] = [];
  const requests: BindingRequest[] = [];
  all.forEach((sa, index) => {
    const name = sa?.name ?? names[index]!;
    const roleArn = sa?.annotations[ROLE_ARN_ANNOTATION] ?? migrated[index]?.roleArn;
    if (!sa) return problems.push(`--name: ServiceAccount ${namespace}/${name} does not exist.`);
    if (!roleArn) {
      if (names.length > 0) problems.push(`--name: ${namespace}/${name} has no ${ROLE_ARN_ANNOTATION} annotation: it has no IRSA binding to migrate (irsa create-sa-role --mechanism pod-identity binds it).`);
      return;
    }
    const { request, problems: invalid } = validateBinding({
      cluster, namespace, name, attachRoleArn: roleArn, mechanism: 'pod-identity',
      installPodIdentityAgent: options['installPodIdentityAgent'] === true, restartWorkloads: options['restartWorkloads'] === true,
    }, FLAG_TERMS);
    if (request) requests.push(request);
    else problems.push(...invalid.map((p) => `${namespace}/${name}: role ${roleArn}: ${p.message}`));
    return undefined;
  });
  if (problems.length === 1) throw new UserError(problems[0]!);
  if (problems.length > 1) throw new ValidationErrors(problems);
  if (requests.length === 0) {
    output.out(`No ServiceAccount of ${namespace} carries ${ROLE_ARN_ANNOTATION}: nothing to migrate.\n`);
    return 0;
  }

  // Steps 1–3: each ServiceAccount's pod-identity plan with its role attached (only the trust changes).
  const workloads = await ctx.workloads();
  const target = { issuerUrl: issuer.issuerUrl, cluster: issuer.cluster, region, account, thumbprints: { given: [], none: false } };
  // Every ServiceAccount's reads, then one plan over all of them: ServiceAccounts sharing a role get one trust change.
  const allReads = await Promise.all(requests.map((request) => readBinding(request, target, { iam, kube, resolveThumbprints: ctx.resolveThumbprints, podIdentity: async () => podIdentity })));
  const first = allReads[0]!.podIdentity;
  const associations = new Map(allReads.flatMap((reads) => [...(reads.podIdentity?.associations ?? new Map())]));
  const keyOf = (r: BindingRequest) => `${r.namespace}/${r.name}`;
  const planned = planBindings(requests, {
    context: {
      partition, account, providerArn, issuerHostPath: issuerHostPath(issuer.issuerUrl), providerChange: null,
      ...(first?.clusterArn ? { podIdentityClusterArn: first.clusterArn } : {}),
      ...(issuer.cluster ? { clusterAccount: issuer.cluster.accountId } : {}),
    },
    roles: new Map(requests.map((r, i) => [r.roleName, allReads[i]!.observed.role])),
    namespaces: new Map(requests.map((r, i) => [r.namespace, allReads[i]!.observed.namespaceExists])),
    serviceAccounts: new Map(requests.map((r, i) => [keyOf(r), allReads[i]!.observed.serviceAccount])),
    workloads: new Map(requests.map((r, i) => [keyOf(r), allReads[i]!.observed.workloads])),
    clusterRoles: [],
    ...(first ? { podIdentity: { ...first, associations } } : {}),
  }, { mode: 'ensure', prune: false });
  const plan = planned.plan;
  const say = (line: string) => globals.output === 'text' && output.out(line + '\n');
  say(`Steps 1–3: EKS Pod Identity beside IRSA for ${requests.map((r) => r.name).join(', ')}`);
  const executor = { iam, kube, workloads, podIdentity };
  const added = await runPlan(plan, { globals, output, approve, detailedExitcode: options['detailedExitcode'] === true, executor, leases: await ctx.leases(), lockTimeoutMs, retryCount: ctx.retries, applyHint: `irsa ${process.argv.slice(2).join(' ')} --approve` });
  if (added === 1) return 1;

  const removal = async (): Promise<Plan> => {
    const [sas, roles] = await Promise.all([
      Promise.all(requests.map((r) => kube.getServiceAccount(r.namespace, r.name))),
      Promise.all(requests.map((r) => iam.getRole(roleNameOfArn(r.attachRoleArn!) ?? r.roleName))),
    ]);
    return planIrsaRemoval(cluster, providerArn, requests.map((r, i) => ({ namespace: r.namespace, name: r.name, serviceAccount: sas[i] ?? null, role: roles[i] ?? null })));
  };
  if (!approve) {
    const later = await removal();
    say('');
    say(`Then step 4 (a server-side dry run of a new pod of each ServiceAccount must show EKS Pod Identity credentials) and, only if every proof passes, step 5: ${later.changes.map((c) => `${c.action} ${c.kind} ${c.id}`).join('; ') || 'nothing'}.`);
    return added;
  }

  // Step 4: the proof, through the real admission chain. A failed proof removes nothing.
  const inspector = await ctx.inspector();
  const proofs = await Promise.all(requests.map(async (r) => {
    const runs = await inspector.dryRunPods(r.namespace, r.name).catch(() => []);
    return { name: `${r.namespace}/${r.name}`, ...podIdentityProof(runs.find((d) => !d.fromWorkload) ?? runs[0]) };
  }));
  for (const proof of proofs) say(`${proof.ok ? '✓' : '✗'} step 4 ${proof.name}: ${proof.observed}`);
  if (proofs.some((p) => !p.ok)) {
    output.err('Error: the dry-run proof failed, so nothing of IRSA was removed (the trust statements and annotations stay; pods keep working). EKS updates the pod identity webhook within seconds of a new association: run the same command again.\n');
    return 1;
  }
  // Step 5, planned from what exists now.
  const removed = await removal();
  say('Step 5: the IRSA side of the proven ServiceAccounts');
  if (!hasChanges(removed)) say('Nothing left to remove.');
  const code = await runPlan(removed, { globals, output, approve: true, detailedExitcode: options['detailedExitcode'] === true, executor, leases: await ctx.leases(), lockTimeoutMs, retryCount: ctx.retries });
  if (code !== 1) await proposeProviderRemoval(iam, providerArn, cluster, say);
  return code;
}

/**
 * After the last IRSA subject of this cluster left: when no role of the account trusts the
 * cluster's OIDC provider any more, say so and show how to delete it (the 100-provider quota).
 * Shown only, never done: a role in a file not applied yet, or made by another tool tomorrow, may
 * still need it. A provider is an account's own resource, so the account's roles are all that can
 * trust it (one GetAccountAuthorizationDetails walk, the bulk read plans use).
 */
async function proposeProviderRemoval(iam: IamGateway, providerArn: string, cluster: string, say: (line: string) => void): Promise<void> {
  try {
    if (!(await iam.getOidcProvider(providerArn))) return;
    const roles = await iam.listRoleDetails();
    const trusting = roles.filter((role) => JSON.stringify(role.trustPolicy).includes(JSON.stringify(providerArn).slice(1, -1)));
    if (trusting.length > 0) return;
    say('');
    say(`No role of the account trusts the OIDC provider of cluster ${cluster} any more (${providerArn}): IRSA is no longer used with it.`);
    say(`If nothing else will, remove it (irsa does not): aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${providerArn}`);
  } catch (error) {
    say(`! Could not check whether a role still trusts the OIDC provider ${providerArn}: ${(error as Error).message}`);
  }
}

/**
 * --to irsa (core/pod-identity-migration.ts, "the way back"): for each ServiceAccount with an
 * association (named, or every one of the namespace), its role gets the IRSA subject and the
 * ServiceAccount the annotation, the association irsa made goes after them, a dry run proves new
 * pods get the web identity, and only then the pods.eks statement leaves the role.
 */
async function migrateBack(input: {
  options: Record<string, unknown>;
  globals: ReturnType<typeof parseGlobals>;
  output: Output;
  ctx: ReturnType<typeof createCommandContext>;
  iam: IamGateway;
  kube: KubeGateway;
  namespace: string;
  names: string[];
  cluster: string;
  issuer: { issuerUrl: string; cluster: ClusterInfo | null };
  region: string;
  account: string;
  partition: string;
  approve: boolean;
}): Promise<number> {
  const { options, globals, output, ctx, iam, kube, namespace, names, cluster, issuer, region, account, approve } = input;
  const podIdentity = await ctx.podIdentity();
  const clusterArn = issuer.cluster!.arn;
  const wanted = names.length > 0 ? names : [...new Set((await podIdentity.listAssociations(cluster, { namespace })).map((a) => a.serviceAccount))].sort();
  const [serviceAccounts, associations] = await Promise.all([
    Promise.all(wanted.map((name) => kube.getServiceAccount(namespace, name))),
    Promise.all(wanted.map((name) => findAssociation(podIdentity, { cluster, namespace, serviceAccount: name }))),
  ]);
  const problems: string[] = [];
  const requests: BindingRequest[] = [];
  const roleArns: string[] = [];
  wanted.forEach((name, index) => {
    const sa = serviceAccounts[index];
    const association = associations[index];
    // Already moved back (no association, the annotation there): re-checked, so re-runs converge.
    const roleArn = association?.roleArn ?? sa?.annotations[ROLE_ARN_ANNOTATION];
    if (!sa) return problems.push(`--name: ServiceAccount ${namespace}/${name} does not exist.`);
    if (!roleArn) return problems.push(`--name: ${namespace}/${name} has no EKS Pod Identity association and no role-arn annotation: nothing to migrate.`);
    if (association && (association.ownerArn || association.tags['irsa:managed-by'] !== 'irsa')) {
      return problems.push(`--name: the association of ${namespace}/${name} was not made by irsa${association.ownerArn ? ` (an add-on owns it: ${association.ownerArn})` : ''}; irsa deletes only its own. Delete it yourself once IRSA is in place, or leave this ServiceAccount out.`);
    }
    if (association?.targetRoleArn) return problems.push(`--name: ${namespace}/${name} chains into ${association.targetRoleArn} (a target role): IRSA cannot chain roles; bind it to that role with irsa create-sa-role instead.`);
    const { request, problems: invalid } = validateBinding({ cluster, namespace, name, attachRoleArn: roleArn, restartWorkloads: options['restartWorkloads'] === true }, FLAG_TERMS);
    if (request) (requests.push(request), roleArns.push(roleArn));
    else problems.push(...invalid.map((p) => `${namespace}/${name}: role ${roleArn}: ${p.message}`));
    return undefined;
  });
  if (problems.length === 1) throw new UserError(problems[0]!);
  if (problems.length > 1) throw new ValidationErrors(problems);
  if (requests.length === 0) {
    output.out(`No ServiceAccount of ${namespace} has an EKS Pod Identity association: nothing to migrate.\n`);
    return 0;
  }
  const workloads = await ctx.workloads();
  const target = { issuerUrl: issuer.issuerUrl, cluster: issuer.cluster, region, account, thumbprints: { given: [], none: false } };
  const allReads = await Promise.all(requests.map((request) => readBinding(request, target, { iam, kube, resolveThumbprints: ctx.resolveThumbprints })));
  const provider = allReads[0]!.provider!;
  const keyOf = (r: BindingRequest) => `${r.namespace}/${r.name}`;
  const planned = planBindings(requests, {
    context: { partition: input.partition, account, providerArn: provider.arn, issuerHostPath: issuerHostPath(issuer.issuerUrl), providerChange: null, ...(issuer.cluster ? { clusterAccount: issuer.cluster.accountId } : {}) },
    // The OIDC provider is planned by the planner from what was read (created when missing).
    provider: { desired: provider.desired, observed: provider.observed },
    roles: new Map(requests.map((r, i) => [r.roleName, allReads[i]!.observed.role])),
    namespaces: new Map(requests.map((r, i) => [r.namespace, allReads[i]!.observed.namespaceExists])),
    serviceAccounts: new Map(requests.map((r, i) => [keyOf(r), allReads[i]!.observed.serviceAccount])),
    workloads: new Map(requests.map((r, i) => [keyOf(r), allReads[i]!.observed.workloads])),
    clusterRoles: [],
  }, { mode: 'ensure', prune: false });
  const plan = planned.plan;
  // The associations go once the IRSA side of their ServiceAccount is written (Pod Identity takes precedence until then).
  const irsaSide = plan.changes.filter((c) => c.kind === 'iam-role' || c.kind === 'service-account').map(changeKey);
  associations.forEach((association) => {
    const removal = planAssociationRemoval(association ?? null, irsaSide);
    if (removal.change) plan.changes.push(removal.change);
  });
  const say = (line: string) => globals.output === 'text' && output.out(line + '\n');
  say(`Steps 1–3: IRSA beside EKS Pod Identity for ${requests.map((r) => r.name).join(', ')}, then their associations deleted`);
  const executor = { iam, kube, workloads, podIdentity };
  const added = await runPlan(plan, { globals, output, approve, detailedExitcode: options['detailedExitcode'] === true, executor, leases: await ctx.leases(), lockTimeoutMs: parseLockTimeout(options), retryCount: ctx.retries, applyHint: `irsa ${process.argv.slice(2).join(' ')} --approve` });
  if (added === 1) return 1;
  const removal = async (): Promise<Plan> => {
    const roles = await Promise.all(roleArns.map((arn) => iam.getRole(roleNameOfArn(arn) ?? arn)));
    return planPodIdentityTrustRemoval(clusterArn, requests.map((r, i) => ({ namespace: r.namespace, name: r.name, serviceAccount: null, role: roles[i] ?? null })));
  };
  if (!approve) {
    const later = await removal();
    say('');
    say(`Then step 4 (a server-side dry run of a new pod of each ServiceAccount must show AWS_ROLE_ARN) and, only if every proof passes, step 5: ${later.changes.map((c) => `${c.action} ${c.kind} ${c.id}`).join('; ') || 'nothing'}.`);
    return added;
  }
  const inspector = await ctx.inspector();
  const proofs = await Promise.all(requests.map(async (r, i) => {
    const runs = await inspector.dryRunPods(r.namespace, r.name).catch(() => []);
    return { name: `${r.namespace}/${r.name}`, ...irsaProof(runs.find((d) => !d.fromWorkload) ?? runs[0], roleArns[i]!) };
  }));
  for (const proof of proofs) say(`${proof.ok ? '✓' : '✗'} step 4 ${proof.name}: ${proof.observed}`);
  if (proofs.some((p) => !p.ok)) {
    output.err('Error: the dry-run proof failed, so the pods.eks trust statements were not removed. EKS updates the pod identity webhook within seconds of an association\'s deletion: run the same command again.\n');
    return 1;
  }
  const removed = await removal();
  say('Step 5: the pods.eks statements of the proven ServiceAccounts');
  if (!hasChanges(removed)) say('Nothing left to remove.');
  return runPlan(removed, { globals, output, approve: true, detailedExitcode: options['detailedExitcode'] === true, executor, leases: await ctx.leases(), lockTimeoutMs: parseLockTimeout(options), retryCount: ctx.retries });
}
