// Plans the documents of access requests (core/access-request.ts) for the roles of a plan: the
// role's identity policy (returned, for the role's planner to set as inline policy `irsa-access`),
// and one change per role and document on the secrets' resource policies and the keys' key
// policies, each in its own account. Pure: engine/access.ts reads every secret, key and policy
// (each through its account's profile) beforehand.
//
// What irsa added is known from the role's current `irsa-access` policy (its secrets and keys) and
// from the Sid of irsa's statements: a secret or key the role no longer asks for gets its statement
// removed, and nothing else in that policy changes.

import {
  ACCESS_LEVELS,
  ACCESS_POLICY_NAME,
  accessesInIdentityPolicy,
  accessIdentityPolicy,
  arnAccount,
  irsaSid,
  irsaStatementOf,
  keyPolicyStatement,
  samePolicyDocument,
  secretPolicyStatement,
  withIrsaStatement,
  type ResolvedSecretAccess,
  type ResourceAccess,
} from './access-request.ts';
import { changeKey, type Blocker, type Change, type Transition } from './plan.ts';
import type { ResourcePolicyValue } from './resources/resource-policy.ts';
import type { PolicyDocument } from './trust-policy.ts';

export interface AccessRoleInput {
  roleArn: string;
  /** What the role's bindings ask for now (empty: the role keeps no access; delete or unbind). */
  accesses: ResourceAccess[];
  /** The role's `irsa-access` inline policy as it is (null: none, or no role). */
  current: unknown;
  /** The role's change key when the role is created in this plan (policies naming it wait for it). */
  roleChangeKey: string | null;
  /** How the access field is named in messages (`--access`, `bindings[0].access`). */
  field: string;
  binding?: number;
}

/** A secret as read in its account (DescribeSecret + GetResourcePolicy); null: not found. */
export interface SecretObservation {
  arn: string;
  /** DescribeSecret's KmsKeyId; null: the AWS managed key aws/secretsmanager. */
  kmsKeyId: string | null;
  policy: PolicyDocument | null;
}

/** A key as read in its account (DescribeKey + GetKeyPolicy); null: not found. */
export interface KeyObservation {
  arn: string;
  manager: 'AWS' | 'CUSTOMER';
  policy: PolicyDocument | null;
}

export interface AccessObserved {
  /** By the ARN as the user gave it (or as irsa-access recorded it). */
  secrets: Map<string, SecretObservation | null>;
  /** By the KmsKeyId a secret names (ARN, id or alias) and by key ARN. */
  keys: Map<string, KeyObservation | null>;
  /** Accounts irsa cannot reach (no profile named for them), with the flag/key to set. */
  unreachable: Map<string, string>;
}

export interface AccessPlan {
  /** Per role ARN: its `irsa-access` document (null: the role should have none). */
  identityPolicies: Map<string, PolicyDocument | null>;
  changes: Change[];
  blockers: Blocker[];
  notes: string[];
}

/** The KMS key ARN a secret's KmsKeyId resolves to (an ARN is itself; an id or alias is in the secret's account). */
export function keyLookup(secret: SecretObservation): string | null {
  return secret.kmsKeyId;
}

export function planAccess(roles: AccessRoleInput[], observed: AccessObserved): AccessPlan {
  const result: AccessPlan = { identityPolicies: new Map(), changes: [], blockers: [], notes: [] };
  // Changes to one document run one after another (each re-reads the policy first).
  const lastChangeOn = new Map<string, string>();
  const push = (change: Change, document: string) => {
    const previous = lastChangeOn.get(document);
    if (previous) change.dependsOn = [...change.dependsOn, previous];
    lastChangeOn.set(document, changeKey(change));
    result.changes.push(change);
  };
  // The policies as they will be after the earlier changes of this plan (several roles, one secret).
  const secretPolicies = new Map<string, PolicyDocument | null>();
  const keyPolicies = new Map<string, PolicyDocument | null>();

  for (const role of roles) {
    const roleAccount = arnAccount(role.roleArn)?.account ?? '';
    const block = (code: Blocker['code'], resource: string, message: string, fix: string) =>
      result.blockers.push({ code, resource, message: `${role.field}: ${message}`, fix, field: role.field, ...(role.binding !== undefined ? { binding: role.binding } : {}) });
    const resolved: ResolvedSecretAccess[] = [];
    let complete = true;
    for (const access of role.accesses) {
      const where = arnAccount(access.arn)!;
      const unreachable = observed.unreachable.get(where.account);
      if (unreachable) {
        block('account-profile-missing', `secret-policy:${access.arn}`, `${access.arn} is in account ${where.account}, and irsa has no credentials for it.`, unreachable);
        complete = false;
        continue;
      }
      const secret = observed.secrets.get(access.arn);
      if (!secret) {
        block('secret-not-found', `secret-policy:${access.arn}`, `secret ${access.arn} does not exist in account ${where.account} (secretsmanager:DescribeSecret).`, `Check the ARN; the secret's region and account are part of it.`);
        complete = false;
        continue;
      }
      let key: ResolvedSecretAccess['key'] = null;
      const keyId = keyLookup(secret);
      const crossAccount = where.account !== roleAccount;
      const kmsKey = keyId ? observed.keys.get(keyId) : undefined;
      if (keyId && kmsKey === undefined) {
        const keyAccount = arnAccount(keyId)?.account ?? where.account;
        block('account-profile-missing', `key-policy:${keyId}`, `secret ${secret.arn} is encrypted with KMS key ${keyId} in account ${keyAccount}, and irsa has no credentials for it.`, observed.unreachable.get(keyAccount) ?? `Name a profile for account ${keyAccount}.`);
        complete = false;
        continue;
      }
      if (keyId && kmsKey === null) {
        block('key-not-found', `key-policy:${keyId}`, `the KMS key ${keyId} that encrypts ${secret.arn} was not found (kms:DescribeKey).`, 'Check the secret\'s KmsKeyId and that the key is not scheduled for deletion.');
        complete = false;
        continue;
      }
      if (!keyId || kmsKey?.manager === 'AWS') {
        // The AWS managed key works only in its own account.
        if (crossAccount) {
          block(
            'secret-uses-aws-managed-key',
            `secret-policy:${secret.arn}`,
            `secret ${secret.arn} is encrypted with the AWS managed key aws/secretsmanager, which cannot be used from account ${roleAccount}.`,
            `Re-encrypt the secret with a customer managed key (aws secretsmanager update-secret --secret-id <arn> --kms-key-id <key ARN>), then plan again.`,
          );
          complete = false;
          continue;
        }
      } else key = { arn: kmsKey!.arn, account: arnAccount(kmsKey!.arn)?.account ?? where.account };
      resolved.push({ secretArn: secret.arn, account: where.account, region: where.region, actions: [...ACCESS_LEVELS[access.service][access.level]], key });
    }
    // An incomplete request changes nothing for this role (apply is blocked anyway); keep what is there.
    if (!complete) {
      result.identityPolicies.set(role.roleArn, (role.current as PolicyDocument | null) ?? null);
      continue;
    }
    const identity = accessIdentityPolicy(resolved);
    result.identityPolicies.set(role.roleArn, identity);

    const sid = irsaSid(role.roleArn);
    const dependsOn = role.roleChangeKey ? [role.roleChangeKey] : [];
    const before = accessesInIdentityPolicy(role.current);

    // Secrets: irsa's statement on each wanted secret; removed from those it had before.
    const wantedSecrets = new Map(resolved.map((r) => [r.secretArn, r]));
    const secretArns = [...new Set([...wantedSecrets.keys(), ...before.secrets])].sort();
    for (const secretArn of secretArns) {
      const wanted = wantedSecrets.get(secretArn);
      const account = arnAccount(secretArn)?.account ?? '';
      const observedSecret = observed.secrets.get(secretArn);
      if (!observedSecret) {
        // A secret irsa wrote to that is gone (or unreachable): nothing to remove there.
        if (!wanted) result.notes.push(`${role.field}: secret ${secretArn} (granted before) ${observedSecret === null ? 'no longer exists' : `is in account ${account}, which irsa has no credentials for`}; its resource policy was not changed.`);
        continue;
      }
      const current = secretPolicies.has(secretArn) ? secretPolicies.get(secretArn)! : observedSecret.policy;
      const statement = wanted ? secretPolicyStatement(role.roleArn, secretArn, wanted.actions) : null;
      const next = withIrsaStatement(current, sid, statement);
      secretPolicies.set(secretArn, next);
      const change = policyChange('secret-policy', secretArn, sid, account, current, next, dependsOn, wanted ? `admit ${role.roleArn} for ${wanted.actions.join(', ')}` : `remove what irsa granted ${role.roleArn}`);
      push(change, `secret:${secretArn}`);
    }

    // Keys: irsa's statement names every wanted secret the key encrypts; removed where none is left.
    const wantedKeys = new Map<string, { region: string; account: string; secrets: string[] }>();
    for (const r of resolved) if (r.key) wantedKeys.set(r.key.arn, { region: r.region, account: r.key.account, secrets: [...(wantedKeys.get(r.key.arn)?.secrets ?? []), r.secretArn] });
    const keyArns = [...new Set([...wantedKeys.keys(), ...before.keys])].sort();
    for (const keyArn of keyArns) {
      const wanted = wantedKeys.get(keyArn);
      const account = arnAccount(keyArn)?.account ?? '';
      const observedKey = observed.keys.get(keyArn);
      if (!observedKey) {
        if (!wanted) result.notes.push(`${role.field}: KMS key ${keyArn} (granted before) ${observedKey === null ? 'no longer exists' : `is in account ${account}, which irsa has no credentials for`}; its key policy was not changed.`);
        continue;
      }
      const current = keyPolicies.has(keyArn) ? keyPolicies.get(keyArn)! : observedKey.policy;
      const statement = wanted ? keyPolicyStatement(role.roleArn, wanted.region, wanted.secrets) : null;
      const next = withIrsaStatement(current, sid, statement);
      if (next === null) {
        block('key-policy-would-be-empty', `key-policy:${keyArn}`, `removing irsa's statement would leave key ${keyArn} without a key policy.`, 'Add the key administrators\' statement to the key policy first.');
        continue;
      }
      keyPolicies.set(keyArn, next);
      const change = policyChange('key-policy', keyArn, sid, account, current, next, dependsOn, wanted ? `admit ${role.roleArn} for kms:Decrypt through Secrets Manager` : `remove what irsa granted ${role.roleArn}`);
      push(change, `key:${keyArn}`);
    }
  }
  return result;
}

function policyChange(
  kind: 'secret-policy' | 'key-policy',
  arn: string,
  sid: string,
  account: string,
  before: PolicyDocument | null,
  after: PolicyDocument | null,
  dependsOn: string[],
  reason: string,
): Change {
  const value = (document: PolicyDocument | null): ResourcePolicyValue => ({ arn, sid, document });
  const common = { id: `${arn}#${sid}`, account, dependsOn, reason };
  // A secret without a policy is "created"; a policy left without statements is deleted.
  const transition: Transition<ResourcePolicyValue> = samePolicyDocument(before, after)
    ? { action: 'no-op', before: value(before), after: value(after) }
    : before === null
      ? { action: 'create', before: null, after: value(after) }
      : after === null
        ? { action: 'delete', before: value(before), after: null }
        : { action: 'update', before: value(before), after: value(after) };
  // Two literal branches so each object has one literal kind (a discriminated union needs no cast).
  return kind === 'secret-policy' ? { ...common, kind, ...transition } : { ...common, kind, ...transition };
}

/** The statement irsa's plan wants in a policy (for doctor and tests). */
export const wantedStatement = (document: PolicyDocument | null, roleArn: string) => irsaStatementOf(document, irsaSid(roleArn));
export { ACCESS_POLICY_NAME };
