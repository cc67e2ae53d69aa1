// How irsa reads observed state: roles one by one or all at once (GetAccountAuthorizationDetails),
// ServiceAccounts one GET each or one LIST per namespace — whichever a small cost model expects to
// be faster. Both ways return the same data in the same order, so the plan never depends on the
// choice (test/integration/bulk-reads.test.ts checks that against moto and kube-apiserver).

import { CLUSTER_TAG, isOwnedByIrsa } from '../core/ownership.ts';
import type { RoleState, ServiceAccountState } from '../core/state.ts';
import type { IamGateway, KubeGateway } from '../ports.ts';
import { errorName } from './retry.ts';
import pMap from 'p-map';

// ---- the cost model (pure) ---------------------------------------------------------------------
//
// The unit is one round trip to the API (at 100 ms to IAM, a round trip is what a user waits for;
// IAM's own work per small call is a few ms). Calls in flight together cost one round trip.
//
// Per-role reads: GetRole, then ListAttachedRolePolicies and ListRolePolicies together (GetRolePolicy
// per inline policy on top): 2 round trips per wave of `concurrency` roles, 3+ calls per role.
// Finding irsa's own roles without naming them (prune candidates, which every declarative plan
// looks for) needs every role's tags: ListRoles, then one ListRoleTags per role in the account.
//
// Bulk reads: GetAccountAuthorizationDetails (Filter=Role) and ListRoles, page by page and side by
// side, 1,000 roles a page: one round trip per page, plus the time to send and parse a page
// whose size grows with the roles on it. ROLES_PER_ROUND_TRIP prices that: a page of 1,000
// roles with their policies is a few hundred KB, about 2.5 round trips' worth (moto: 1,100 roles
// in ~300 ms at loopback, where a small call takes ~5 ms; real IAM is slower per call, not per KB).
//
// The number of roles in the account is not known before reading; it is priced at IAM's default
// quota of 1,000 roles per account (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).

export const GAAD_PAGE_SIZE = 1000;
export const ROLES_PER_ROUND_TRIP = 400;
export const ASSUMED_ACCOUNT_ROLES = 1000;

export type RoleReadStrategy = 'bulk' | 'per-role';

export interface RoleReadChoice {
  strategy: RoleReadStrategy;
  /** Estimated round trips each way (see the cost model above). */
  estimate: { bulk: number; perRole: number };
}

export function estimateRoleReads(input: { roles: number; accountScan: boolean; concurrency: number; accountRoles?: number }): RoleReadChoice['estimate'] {
  const concurrency = Math.max(1, input.concurrency);
  const accountRoles = Math.max(input.accountRoles ?? ASSUMED_ACCOUNT_ROLES, input.roles);
  const pages = Math.max(1, Math.ceil(accountRoles / GAAD_PAGE_SIZE));
  const bulk = pages + accountRoles / ROLES_PER_ROUND_TRIP;
  const named = input.roles === 0 ? 0 : 2 * Math.ceil(input.roles / concurrency);
  const scan = input.accountScan ? pages + Math.ceil((accountRoles - input.roles) / concurrency) : 0;
  return { bulk, perRole: named + scan };
}

/** Bulk when it is expected to take fewer round trips; per-role on a tie (it reads less). */
export function chooseRoleReads(input: { roles: number; accountScan: boolean; concurrency: number; accountRoles?: number }): RoleReadChoice {
  const estimate = estimateRoleReads(input);
  return { strategy: estimate.bulk < estimate.perRole ? 'bulk' : 'per-role', estimate };
}

/**
 * LIST a namespace's ServiceAccounts when two or more of them are wanted: one call instead of one
 * each. A LIST pages at 500 items and returns every ServiceAccount in the namespace, so a single
 * wanted ServiceAccount is cheaper as a GET.
 */
export const SERVICE_ACCOUNT_LIST_MIN = 2;

export function chooseServiceAccountReads(keys: string[]): { list: string[]; get: string[] } {
  const perNamespace = new Map<string, number>();
  for (const key of new Set(keys)) perNamespace.set(namespaceOf(key), (perNamespace.get(namespaceOf(key)) ?? 0) + 1);
  const list = [...perNamespace].filter(([, count]) => count >= SERVICE_ACCOUNT_LIST_MIN).map(([ns]) => ns);
  const listed = new Set(list);
  return { list, get: [...new Set(keys)].filter((key) => !listed.has(namespaceOf(key))) };
}

const namespaceOf = (key: string) => key.slice(0, key.indexOf('/'));
const nameOf = (key: string) => key.slice(key.indexOf('/') + 1);

// ---- the readers -------------------------------------------------------------------------------

export interface RoleReads {
  /** By role name, in the order asked; null when the role does not exist. */
  roles: Map<string, RoleState | null>;
  /** With accountScan: irsa-owned roles tagged with the cluster that are not in `names`, by name. */
  clusterRoles: RoleState[];
  strategy: RoleReadStrategy;
  /** Set when bulk reads were chosen but denied, and irsa read per role instead. */
  fallback?: string;
}

export interface RoleReadOptions {
  concurrency: number;
  /** Also find the irsa-owned roles of this cluster that `names` does not name. */
  accountScan?: { clusterName: string };
  /** Overrides the cost model (tests compare both paths). */
  strategy?: RoleReadStrategy;
}

export async function readRoles(iam: IamGateway, names: string[], options: RoleReadOptions): Promise<RoleReads> {
  const unique = [...new Set(names)];
  const strategy = options.strategy ?? chooseRoleReads({ roles: unique.length, accountScan: !!options.accountScan, concurrency: options.concurrency }).strategy;
  if (strategy === 'bulk') {
    try {
      return { ...fromAllRoles(await iam.listRoleDetails(), unique, options), strategy };
    } catch (error) {
      // A CI role may lack iam:GetAccountAuthorizationDetails (it reads every role's policies):
      // per-role reads need only the permissions docs/ci.md lists, and give the same plan.
      if (!/^AccessDenied(Exception)?$/.test(errorName(error))) throw error;
      const fallback = 'iam:GetAccountAuthorizationDetails was denied, so roles were read one by one (slower; grant it to read them in a few calls).';
      return { ...(await perRole(iam, unique, options)), strategy: 'per-role', fallback };
    }
  }
  return { ...(await perRole(iam, unique, options)), strategy };
}

const byName = (a: RoleState, b: RoleState) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const ownedBy = (clusterName: string) => (tags: RoleState['tags']) => isOwnedByIrsa(tags) && tags[CLUSTER_TAG] === clusterName;

function fromAllRoles(all: RoleState[], names: string[], options: RoleReadOptions): Pick<RoleReads, 'roles' | 'clusterRoles'> {
  const index = new Map(all.map((role) => [role.name, role]));
  const named = new Set(names);
  const owned = options.accountScan ? ownedBy(options.accountScan.clusterName) : null;
  return {
    roles: new Map(names.map((name) => [name, index.get(name) ?? null])),
    clusterRoles: owned ? all.filter((role) => !named.has(role.name) && owned(role.tags)).sort(byName) : [],
  };
}

async function perRole(iam: IamGateway, names: string[], options: RoleReadOptions): Promise<Pick<RoleReads, 'roles' | 'clusterRoles'>> {
  const { concurrency } = options;
  const scan = async (): Promise<RoleState[]> => {
    if (!options.accountScan) return [];
    const owned = ownedBy(options.accountScan.clusterName);
    const named = new Set(names);
    const others = (await iam.listRoles()).filter((role) => !named.has(role.name));
    const tagged = await pMap(others, async (role) => ({ role, tags: await iam.listRoleTags(role.name) }), { concurrency });
    const states = await pMap(tagged.filter(({ tags }) => owned(tags)), ({ role }) => iam.getRole(role.name), { concurrency });
    return states.filter((state): state is RoleState => state !== null).sort(byName);
  };
  const [roles, clusterRoles] = await Promise.all([pMap(names, async (name) => [name, await iam.getRole(name)] as const, { concurrency }), scan()]);
  return { roles: new Map(roles), clusterRoles };
}

export interface ServiceAccountReadOptions {
  concurrency: number;
  /** Overrides the cost model (tests compare both paths). */
  strategy?: 'list' | 'get';
}

/** ServiceAccounts by `namespace/name` (null when absent), in the order asked. */
export async function readServiceAccounts(kube: KubeGateway, keys: string[], options: ServiceAccountReadOptions): Promise<Map<string, ServiceAccountState | null>> {
  const unique = [...new Set(keys)];
  const choice =
    options.strategy === 'get' ? { list: [], get: unique }
    : options.strategy === 'list' ? { list: [...new Set(unique.map(namespaceOf))], get: [] }
    : chooseServiceAccountReads(unique);
  const found = new Map<string, ServiceAccountState | null>();
  const get = (key: string) => kube.getServiceAccount(namespaceOf(key), nameOf(key)).then((sa) => found.set(key, sa));
  await Promise.all([
    pMap(choice.list, async (namespace) => {
      const wanted = unique.filter((key) => namespaceOf(key) === namespace);
      let listed: ServiceAccountState[];
      try {
        listed = await kube.listServiceAccounts(namespace);
      } catch (error) {
        // RBAC may allow get but not list: one GET each then, as before.
        if (!isForbidden(error)) throw error;
        await pMap(wanted, get, { concurrency: options.concurrency });
        return;
      }
      // A LIST of a namespace that does not exist is empty, as a GET there is NotFound: null either way.
      const index = new Map(listed.map((sa) => [`${sa.namespace}/${sa.name}`, sa]));
      for (const key of wanted) found.set(key, index.get(key) ?? null);
    }, { concurrency: options.concurrency }),
    pMap(choice.get, get, { concurrency: options.concurrency }),
  ]);
  return new Map(unique.map((key) => [key, found.get(key) ?? null]));
}

function isForbidden(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    if ((current as { code?: unknown }).code === 403) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
