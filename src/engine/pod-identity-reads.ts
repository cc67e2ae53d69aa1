// What the pod-identity mechanism plans from (core/mechanisms/pod-identity.ts's
// `observed.podIdentity`), read concurrently through the PodIdentityGateway — and only for a
// request that has a pod-identity binding: an IRSA-only plan makes none of these calls.
//
// Calls for one cluster: DescribeAddon (the agent); ListFargateProfiles + DescribeFargateProfile
// per profile; ListNodegroups + DescribeNodegroup per nodegroup; and for the associations either
// ListPodIdentityAssociations filtered by each ServiceAccount (few bindings) or the whole list
// (many: one call per 100 associations), then DescribePodIdentityAssociation for each one that
// exists (the list's summaries carry no role).

import type { BindingRequest } from '../core/model/binding.ts';
import type { PodIdentityObserved } from '../core/mechanisms/pod-identity.ts';
import type { ClusterInfo } from '../core/state.ts';
import { clusterUnavailability, nodegroupAvailability } from '../core/pod-identity-availability.ts';
import { POD_IDENTITY_AGENT_ADDON } from '../core/resources/eks-addon.ts';
import type { PodIdentityAssociationState } from '../core/resources/pod-identity-association.ts';
import type { IamGateway, PodIdentityAssociationSummary, PodIdentityGateway } from '../ports.ts';
import type { RoleState } from '../core/state.ts';
import { UserError } from '../core/errors.ts';
import { parseArn } from '../core/arn.ts';

/** IAM of an account: the home credentials, or a named profile checked to act in that account; null: no profile. */
export type AccountIam = (account: string) => Promise<IamGateway> | null;

export function accountIams(options: { homeAccount: string; home: IamGateway; profiles: Record<string, string>; open: (profile: string) => Promise<IamGateway>; field: string }): AccountIam {
  const opened = new Map<string, Promise<IamGateway>>();
  return (account) => {
    if (account === options.homeAccount) return Promise.resolve(options.home);
    const profile = options.profiles[account];
    if (!profile) return null;
    if (!opened.has(account)) {
      opened.set(account, (async () => {
        const iam = await options.open(profile);
        const actual = await iam.accountId();
        if (actual !== account) throw new UserError(`${options.field}: profile "${profile}" acts in account ${actual}, not ${account}. Name a profile of account ${account}.`, options.field);
        return iam;
      })());
    }
    return opened.get(account)!;
  };
}

/** Above this many ServiceAccounts, one whole list is cheaper than one filtered list each. */
const FILTERED_LIST_MAX = 3;

export const wantsPodIdentity = (requests: BindingRequest[]): boolean => requests.some((r) => r.mechanism === 'pod-identity');

/** Maps `limit` at a time over items. */
async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  }));
  return results;
}

/**
 * The associations of these ServiceAccounts, by `namespace/name` (null: none): one filtered list
 * each for a few, else the cluster's whole list (one call per 100; one namespace's when all are in
 * one), then one Describe per association found (the list's summaries carry no role).
 */
export async function readAssociations(
  gateway: PodIdentityGateway,
  cluster: string,
  serviceAccounts: Array<{ namespace: string; name: string }>,
  concurrency = 8,
): Promise<Map<string, PodIdentityAssociationState | null>> {
  const wanted = new Set(serviceAccounts.map((sa) => `${sa.namespace}/${sa.name}`));
  const namespaces = [...new Set(serviceAccounts.map((sa) => sa.namespace))];
  const summaries = async (): Promise<PodIdentityAssociationSummary[]> => {
    if (wanted.size > FILTERED_LIST_MAX) return gateway.listAssociations(cluster, namespaces.length === 1 ? { namespace: namespaces[0]! } : undefined);
    const lists = await Promise.all(serviceAccounts.map((sa) => gateway.listAssociations(cluster, { namespace: sa.namespace, serviceAccount: sa.name })));
    return lists.flat();
  };
  // Exact equality on (namespace, ServiceAccount): never a substring or prefix (eksctl#8484, #8511).
  const mine = (await summaries()).filter((a) => wanted.has(`${a.namespace}/${a.serviceAccount}`));
  const described = await mapBounded(mine, concurrency, (a) => gateway.describeAssociation(cluster, a.associationId));
  const associations = new Map<string, PodIdentityAssociationState | null>([...wanted].map((key) => [key, null]));
  for (const association of described) if (association) associations.set(`${association.namespace}/${association.serviceAccount}`, association);
  return associations;
}

/**
 * The roles named by the cluster's associations that have session tags off, except those of
 * `exclude` (`namespace/name`): each needs its role's cluster-wide pods.eks statement, so that
 * statement stays while one is left. One list of the cluster and a Describe per association (the
 * list's summaries carry neither role nor the setting) — read only when an association with tags
 * off is being removed.
 */
export async function rolesOfTagsOffAssociations(gateway: PodIdentityGateway, cluster: string, exclude: Set<string>, concurrency = 8): Promise<Set<string>> {
  const others = (await gateway.listAssociations(cluster)).filter((a) => !exclude.has(`${a.namespace}/${a.serviceAccount}`));
  const described = await mapBounded(others, concurrency, (a) => gateway.describeAssociation(cluster, a.associationId));
  return new Set(described.flatMap((a) => (a?.disableSessionTags ? [a.roleArn] : [])));
}

/**
 * The Pod Identity state of the cluster for these ServiceAccounts. `cluster` null: not an EKS
 * cluster (--issuer-url): nothing is read and the binding is blocked with the reason.
 */
export async function readPodIdentity(
  gateway: PodIdentityGateway | null,
  target: { cluster: ClusterInfo | null; clusterLabel: string; region: string },
  serviceAccounts: Array<{ namespace: string; name: string }>,
  options: { concurrency?: number; targetRoleArns?: string[]; iamFor?: AccountIam } = {},
): Promise<PodIdentityObserved> {
  const { cluster } = target;
  const unavailable = clusterUnavailability({ cluster: cluster?.name ?? target.clusterLabel, eks: cluster !== null, region: target.region });
  if (!cluster) return { clusterArn: '', associations: new Map(), agent: null, unavailable };
  // An EKS cluster whose Pod Identity state was not read is never planned as if it had none.
  if (!gateway) return { clusterArn: '', associations: new Map(), agent: null, unavailable: [...unavailable, { resource: `eks-cluster:${cluster.name}`, reason: 'irsa did not read its EKS Pod Identity state (associations, agent, Fargate profiles)' }] };
  const concurrency = options.concurrency ?? 8;
  // Cross-account target roles, each read in its own account (no profile: said as a blocker).
  const targetRoles = async (): Promise<Map<string, RoleState | null | 'no-profile'>> => {
    const arns = [...new Set(options.targetRoleArns ?? [])];
    const entries = await mapBounded(arns, concurrency, async (arn): Promise<[string, RoleState | null | 'no-profile']> => {
      const account = parseArn(arn)?.account ?? '';
      const iam = options.iamFor?.(account) ?? null;
      if (!iam) return [arn, 'no-profile'];
      return [arn, await (await iam).getRole(arn.split('/').pop() ?? arn)];
    });
    return new Map(entries);
  };
  const [associations, agent, fargate, nodegroups, targets] = await Promise.all([
    readAssociations(gateway, cluster.name, serviceAccounts, concurrency),
    gateway.describeAddon(cluster.name, POD_IDENTITY_AGENT_ADDON),
    gateway.listFargateProfiles(cluster.name),
    gateway.listNodegroups(cluster.name),
    targetRoles(),
  ]);
  const nodes = nodegroupAvailability(cluster.name, nodegroups.map((g) => ({ name: g.name, amiType: g.amiType })));
  return {
    clusterArn: cluster.arn,
    associations,
    agent,
    unavailable: [...unavailable, ...nodes.unavailable],
    fargateSelectors: fargate.flatMap((profile) => profile.selectors.map((selector) => ({ profile: profile.name, namespace: selector.namespace, labels: selector.labels }))),
    warnings: nodes.warnings,
    ...(targets.size > 0 ? { targetRoles: targets } : {}),
  };
}
