// Reads everything a declarative plan needs, concurrently and with a bound, then plans in core.

import { partitionForRegion } from '../core/arn.ts';
import type { BindingContext } from '../core/binding.ts';
import { groupByRole, planDeclarative, pruneSubjects, type DeclarativeObserved, type DeclarativePlan } from '../core/declarative.ts';
import { UserError } from '../core/errors.ts';
import { CLUSTER_TAG, isOwnedByIrsa } from '../core/ownership.ts';
import type { RoleState, ServiceAccountState, WorkloadRef } from '../core/state.ts';
import { issuerHostPath } from '../core/thumbprint.ts';
import type { IrsaConfig } from '../config/load.ts';
import type { ClusterReader, IamGateway, KubeGateway } from '../ports.ts';
import { planProviderForIssuer, resolveIssuer } from './oidc.ts';
import { describeMissingPolicies } from './policy-suggestions.ts';
import pMap from 'p-map';

export interface DeclarativeDeps {
  region: string;
  clusters: () => Promise<ClusterReader>;
  iam: IamGateway;
  kube: () => Promise<KubeGateway>;
  resolveThumbprints: (issuerUrl: string) => Promise<{ thumbprints: string[]; warnings: string[] }>;
  concurrency: number;
}

export async function readAndPlanDeclarative(config: IrsaConfig, deps: DeclarativeDeps, options: { prune: boolean }): Promise<DeclarativePlan & { needsKube: boolean }> {
  const issuer = await resolveIssuer(
    config.cluster.issuerUrl ? { issuerUrl: config.cluster.issuerUrl, region: deps.region } : { cluster: config.cluster.name, region: deps.region },
    deps.clusters,
  );
  const { iam, concurrency } = deps;
  const account = await iam.accountId();
  const partition = partitionForRegion(deps.region);
  const needsKube = config.bindings.some((binding) => !binding.roleOnly);
  const kube = needsKube ? await deps.kube() : null;
  const namespaces = [...new Set(config.bindings.filter((b) => !b.roleOnly).map((b) => b.namespace))];
  const saKeys = config.bindings.filter((b) => !b.roleOnly).map((b) => `${b.namespace}/${b.name}`);
  const roleNames = groupByRole(config.bindings).map((group) => group.roleName);
  const allPolicyArns = [...new Set(config.bindings.flatMap((b) => [...b.policyArns, ...(b.permissionsBoundary ? [b.permissionsBoundary] : [])]))];

  const [provider, roles, missingPolicies, namespaceStates, serviceAccounts, clusterRoles] = await Promise.all([
    config.manageOidcProvider
      ? planProviderForIssuer(
          {
            issuerUrl: issuer.issuerUrl,
            clusterName: config.cluster.name,
            region: deps.region,
            account,
            thumbprints: { given: config.thumbprints, none: config.noThumbprint === true },
            audiences: [...new Set(config.bindings.map((b) => b.audience))],
          },
          { iam, resolveThumbprints: deps.resolveThumbprints },
        )
      : null,
    pMap(roleNames, async (name) => [name, await iam.getRole(name)] as const, { concurrency }),
    pMap(allPolicyArns, async (arn) => ((await iam.getPolicy(arn)) ? null : arn), { concurrency }),
    kube ? pMap(namespaces, async (ns) => [ns, await kube.namespaceExists(ns)] as const, { concurrency }) : [],
    kube ? pMap(saKeys, async (key) => [key, await kube.getServiceAccount(key.split('/')[0]!, key.split('/')[1]!)] as const, { concurrency }) : [],
    listClusterRoles(iam, new Set(roleNames), config.cluster.name, concurrency),
  ]);
  const missing = missingPolicies.filter((arn): arn is string => arn !== null);
  if (missing.length > 0) {
    throw new UserError(`managedPolicies: ${(await describeMissingPolicies(iam, missing)).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist in account ${account} (iam:GetPolicy). Fix ${config.file}; nothing was changed.`, 'managedPolicies');
  }
  const providerArn = provider?.arn ?? `arn:${partition}:iam::${account}:oidc-provider/${issuerHostPath(issuer.issuerUrl)}`;
  const context: BindingContext = { partition, account, providerArn, issuerHostPath: issuerHostPath(issuer.issuerUrl), providerChange: provider?.change ?? null };
  // ServiceAccounts that a prune would unbind are read too.
  const extraSaKeys = options.prune && kube ? pruneSubjects(clusterRoles, providerArn).filter((key) => !saKeys.includes(key)) : [];
  const extraSas = kube ? await pMap(extraSaKeys, async (key) => [key, await kube.getServiceAccount(key.split('/')[0]!, key.split('/')[1]!)] as const, { concurrency }) : [];
  const observed: DeclarativeObserved = {
    roles: new Map(roles),
    namespaces: new Map(namespaceStates),
    serviceAccounts: new Map<string, ServiceAccountState | null>([...serviceAccounts, ...extraSas]),
    workloads: new Map(),
    clusterRoles,
  };
  const planOptions = { prune: options.prune, clusterName: config.cluster.name };
  let result = planDeclarative(config.bindings, context, observed, planOptions);
  // Workloads matter only where an annotation changes: read those, then plan again (pure, cheap).
  if (kube && result.changedServiceAccounts.length > 0) {
    const changedNamespaces = [...new Set(result.changedServiceAccounts.map((key) => key.split('/')[0]!))];
    const perNamespace = await pMap(changedNamespaces, async (ns) => [ns, await kube.listWorkloads(ns)] as const, { concurrency });
    const workloads = new Map<string, WorkloadRef[]>();
    for (const [, list] of perNamespace) {
      for (const workload of list) {
        const key = `${workload.namespace}/${workload.serviceAccount}`;
        workloads.set(key, [...(workloads.get(key) ?? []), { kind: workload.kind, namespace: workload.namespace, name: workload.name }]);
      }
    }
    observed.workloads = workloads;
    result = planDeclarative(config.bindings, context, observed, planOptions);
  }
  if (provider) result.plan.warnings.push(...provider.warnings);
  return { ...result, needsKube };
}

/** irsa-owned roles tagged with this cluster that the file does not name (prune candidates). */
async function listClusterRoles(iam: IamGateway, named: Set<string>, clusterName: string, concurrency: number): Promise<RoleState[]> {
  const others = (await iam.listRoles()).filter((role) => !named.has(role.name));
  const tagged = await pMap(others, async (role) => ({ role, tags: await iam.listRoleTags(role.name) }), { concurrency });
  const candidates = tagged.filter(({ tags }) => isOwnedByIrsa(tags) && tags[CLUSTER_TAG] === clusterName);
  const states = await pMap(candidates, ({ role }) => iam.getRole(role.name), { concurrency });
  return states.filter((state): state is RoleState => state !== null);
}
