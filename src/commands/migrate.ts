// irsa migrate --to pod-identity: moves ServiceAccounts from IRSA to EKS Pod Identity without an
// outage (issue 22; core/pod-identity-migration.ts says the five steps). Steps 1–3 are the
// pod-identity plan of each ServiceAccount with its role attached; step 4 is a server-side dry run
// through the real webhook; step 5 (the IRSA subject and annotations) is planned from fresh reads
// and applied only after every proof passed. Every step re-plans from what exists, so running the
// command again after an interruption converges. The way back (--to irsa) is not built yet.

import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { validateBinding } from '../core/binding-input.ts';
import type { BindingRequest } from '../core/binding.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { assertNamespace, assertServiceAccountName } from '../core/names.ts';
import { hasChanges, type Plan } from '../core/plan.ts';
import { planIrsaRemoval, podIdentityProof } from '../core/pod-identity-migration.ts';
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
  if (to !== 'pod-identity') {
    throw new UserError(
      to === 'irsa'
        ? '--to irsa: moving back from EKS Pod Identity is not built yet. Use irsa create-sa-role --mechanism irsa --attach-role-arn <role> (adds the IRSA side), then irsa delete-sa-role --mechanism pod-identity.'
        : '--to is required: pod-identity (from IRSA to EKS Pod Identity).',
      '--to',
    );
  }
  const namespace = options['namespace'] as string | undefined;
  if (!namespace) throw new UserError('-n, --namespace is required: the namespace of the ServiceAccounts to migrate.', '--namespace');
  assertNamespace(namespace);
  const names = ((options['name'] as string[] | undefined) ?? []);
  for (const name of names) assertServiceAccountName(name);
  const cluster = options['cluster'] as string | undefined;
  if (!cluster) throw new UserError('--cluster is required: EKS Pod Identity exists only on EKS clusters.', '--cluster');
  const approve = options['approve'] === true;
  const ctx = createCommandContext(globals, { clusterProfile: options['clusterProfile'] as string | undefined });
  const region = await ctx.region();
  const issuer = await resolveIssuer({ cluster, region }, ctx.clusters);
  ctx.expectCluster({ ...issuer, writes: approve });
  const [iam, kube] = await Promise.all([ctx.iam(), ctx.kube()]);
  const account = await iam.accountId();
  const partition = partitionForRegion(region);
  const providerArn = oidcProviderArn(partition, account, issuerHostPath(issuer.issuerUrl));

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
  const added = await runPlan(plan, { globals, output, approve, detailedExitcode: options['detailedExitcode'] === true, executor, retryCount: ctx.retries, applyHint: `irsa ${process.argv.slice(2).join(' ')} --approve` });
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
  return runPlan(removed, { globals, output, approve: true, detailedExitcode: options['detailedExitcode'] === true, executor, retryCount: ctx.retries });
}
