// Reads what access requests need — each secret, its key, their policies — in the account that
// owns each of them, through that account's profile, then plans in core (core/access-plan.ts).
// A profile is checked to act in the account it was named for before anything is read with it.

import pMap from 'p-map';
import { accessesInIdentityPolicy, ACCESS_POLICY_NAME, arnAccount, type ResourceAccess } from '../core/access-request.ts';
import { planAccess, type AccessObserved, type AccessPlan, type AccessRoleInput, type KeyObservation, type SecretObservation } from '../core/access-plan.ts';
import { UserError } from '../core/errors.ts';
import type { ResourcePolicyGateway } from '../ports.ts';
import { bindingRoleArn, groupByRole, type BindingRequest } from '../core/binding.ts';
import { changeKey } from '../core/plan.ts';
import type { RoleState } from '../core/state.ts';

export interface AccountGateways {
  /** The gateway of an account in a region; null when irsa has no profile for it (fix() says what to set). */
  gateway(account: string, region: string): Promise<ResourcePolicyGateway> | null;
  /** How to name a profile for an account, in the entry point's terms. */
  fix(account: string): string;
}

/**
 * Gateways by account: the IAM credentials' own account, and every account named with a profile
 * (`accounts.<id>.profile`, `--account-profile <id>=<profile>`). Each is opened once and checked to
 * act in that account (sts:GetCallerIdentity).
 */
export function accountGateways(options: {
  /** The account of the IAM credentials (where the roles are). */
  homeAccount: string;
  /** account → profile. */
  profiles: Record<string, string>;
  /** Opens the gateway of a profile (undefined: the IAM credentials). */
  open: (profile: string | undefined, region: string) => Promise<ResourcePolicyGateway>;
  /** How the entry point names the profile setting: (account) → "set accounts.<id>.profile in irsa.yaml". */
  fix: (account: string) => string;
  /** The name of the setting, for the mismatch message. */
  field: (account: string) => string;
}): AccountGateways {
  const opened = new Map<string, Promise<ResourcePolicyGateway>>();
  return {
    fix: options.fix,
    gateway(account, region) {
      const profile = options.profiles[account];
      if (!profile && account !== options.homeAccount) return null;
      const key = `${account}@${region}`;
      if (!opened.has(key)) {
        opened.set(
          key,
          (async () => {
            const gateway = await options.open(profile, region);
            const actual = await gateway.accountId();
            if (actual !== account) {
              throw new UserError(
                `${options.field(account)}: profile "${profile ?? '(the IAM credentials)'}" acts in account ${actual}, not ${account}. Name a profile of account ${account}.`,
                options.field(account),
              );
            }
            return gateway;
          })(),
        );
      }
      return opened.get(key)!;
    },
  };
}

/** A role's access requests as the engine sees them. */
export interface RoleAccessInput extends Omit<AccessRoleInput, 'accesses' | 'current'> {
  accesses: ResourceAccess[];
  /** The role's inline policies as read (null: the role does not exist). */
  inlinePolicies: Record<string, unknown> | null;
}

/** Reads every secret and key the roles ask for or were granted before, then plans. */
export async function readAndPlanAccess(roles: RoleAccessInput[], gateways: AccountGateways, concurrency: number): Promise<AccessPlan> {
  const inputs: AccessRoleInput[] = roles.map((role) => ({ ...role, current: role.inlinePolicies?.[ACCESS_POLICY_NAME] ?? null }));
  const before = inputs.map((input) => accessesInIdentityPolicy(input.current));
  const secretArns = [...new Set([...inputs.flatMap((i) => i.accesses.map((a) => a.arn)), ...before.flatMap((b) => b.secrets)])];
  const observed: AccessObserved = { secrets: new Map(), keys: new Map(), unreachable: new Map() };
  const reachable = (account: string, region: string) => {
    const gateway = gateways.gateway(account, region);
    if (!gateway) observed.unreachable.set(account, gateways.fix(account));
    return gateway;
  };

  await pMap(secretArns, async (arn) => {
    const where = arnAccount(arn);
    const gateway = where ? reachable(where.account, where.region) : null;
    if (!gateway) return;
    const g = await gateway;
    const described = await g.describeSecret(arn);
    if (!described) {
      observed.secrets.set(arn, null);
      return;
    }
    const secret: SecretObservation = { arn: described.arn, kmsKeyId: described.kmsKeyId, policy: await g.getSecretPolicy(described.arn) };
    observed.secrets.set(arn, secret);
    observed.secrets.set(described.arn, secret);
  }, { concurrency });

  // Keys: those the secrets name (an ARN says its account; an id or alias is in the secret's), and those granted before.
  const keyRefs = new Map<string, { account: string; region: string }>();
  for (const secret of observed.secrets.values()) {
    if (secret?.kmsKeyId) keyRefs.set(secret.kmsKeyId, arnAccount(secret.kmsKeyId) ?? arnAccount(secret.arn)!);
  }
  for (const b of before) for (const key of b.keys) if (arnAccount(key)) keyRefs.set(key, arnAccount(key)!);
  await pMap([...keyRefs], async ([ref, { account, region }]) => {
    const gateway = reachable(account, region);
    if (!gateway) return;
    const g = await gateway;
    const described = await g.describeKey(ref);
    if (!described) {
      observed.keys.set(ref, null);
      return;
    }
    const key: KeyObservation = { arn: described.arn, manager: described.manager, policy: described.manager === 'AWS' ? null : await g.getKeyPolicy(described.arn) };
    observed.keys.set(ref, key);
    observed.keys.set(described.arn, key);
  }, { concurrency });
  return planAccess(inputs, observed);
}

/**
 * The access plan of a set of bindings (irsa.yaml, create-sa-role): per role, what its bindings
 * ask for and what it was granted before (its `irsa-access` policy). Sets each binding's
 * `irsa-access` inline policy to the planned identity policy, so the role's planner writes it with
 * the role. Returns null when no binding asks for access and no role holds irsa-access.
 */
export async function planBindingAccess(
  bindings: BindingRequest[],
  roles: Map<string, RoleState | null>,
  context: { partition: string; account: string },
  options: {
    gateways: ((homeAccount: string) => AccountGateways) | undefined;
    concurrency: number;
    /** The access field as the entry point names it, per binding index. */
    field: (binding: number) => string;
    /** Roles this plan deletes (exact mode's prune): what irsa granted them is removed too. */
    deletedRoles?: RoleState[];
  },
): Promise<AccessPlan | null> {
  const inputs: RoleAccessInput[] = [];
  for (const group of groupByRole(bindings)) {
    const first = group.bindings[0]!;
    const accesses = group.bindings.flatMap((b) => b.request.access ?? []);
    const role = roles.get(group.roleName) ?? null;
    if (first.request.attachRoleArn !== null) continue; // a role irsa does not manage: its policies are not irsa's to write
    if (accesses.length === 0 && !role?.inlinePolicies[ACCESS_POLICY_NAME]) continue;
    const roleArn = bindingRoleArn(first.request, context);
    inputs.push({
      roleArn,
      accesses: uniqueAccesses(accesses),
      inlinePolicies: role?.inlinePolicies ?? null,
      roleChangeKey: role ? null : changeKey({ kind: 'iam-role', id: roleArn }),
      field: options.field(first.index),
      binding: first.index,
    });
  }
  for (const role of options.deletedRoles ?? []) {
    if (role.inlinePolicies[ACCESS_POLICY_NAME]) inputs.push({ roleArn: role.arn, accesses: [], inlinePolicies: role.inlinePolicies, roleChangeKey: null, field: `role ${role.name}` });
  }
  if (inputs.length === 0) return null;
  if (!options.gateways) throw new UserError('access requests need Secrets Manager and KMS access, which this command was not given.', 'access');
  const planned = await readAndPlanAccess(inputs, options.gateways(context.account), options.concurrency);
  for (const group of groupByRole(bindings)) {
    const roleArn = bindingRoleArn(group.bindings[0]!.request, context);
    if (!planned.identityPolicies.has(roleArn)) continue;
    const document = planned.identityPolicies.get(roleArn) ?? null;
    for (const { request } of group.bindings) {
      const { [ACCESS_POLICY_NAME]: _dropped, ...others } = request.inlinePolicies;
      request.inlinePolicies = document ? { ...others, [ACCESS_POLICY_NAME]: document } : others;
    }
  }
  return planned;
}

const uniqueAccesses = (accesses: ResourceAccess[]): ResourceAccess[] => {
  const seen = new Map<string, ResourceAccess>();
  for (const access of accesses) seen.set(`${access.service}:${access.level}=${access.arn}`, access);
  return [...seen.values()];
};
