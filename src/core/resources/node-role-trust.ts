// The `node-role-trust` kind: a role's trust in a node role, retired (irsa close-paths, issue 23).
// kube2iam hands pods a role by assuming it with the node role's credentials, so every kube2iam
// role trusts the node role (Principal AWS: <node role ARN>). Once no pod of the cluster carries
// iam.amazonaws.com/role for it, that trust is only a path from any pod reaching the node role
// (IMDS) to the old role. The change removes exactly that principal from Allow statements; every
// other statement stays as written, byte for byte. Deny statements are never touched (removing a
// principal from a Deny would widen). IAM User Guide, Principal element:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html

import type { ChangeOf } from '../plan.ts';
import type { Recheck } from '../recheck.ts';
import { samePolicy, type PolicyDocument } from '../trust-policy.ts';
import type { KindSpec } from './kind.ts';

export interface NodeRoleTrustValue {
  /** The role whose trust names the node role (id = this ARN). */
  roleArn: string;
  roleName: string;
  /** The node role taken out of the trust. */
  nodeRoleArn: string;
  trustPolicy: PolicyDocument;
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** A role's trust without a node role principal (kube2iam leftovers); id = the role's ARN. */
    'node-role-trust': NodeRoleTrustValue;
  }
}

export type NodeRoleTrustChange = ChangeOf<'node-role-trust'>;

/** Absent from a fresh plan: the trust no longer names the node role (a fresh plan would show it otherwise). */
export const nodeRoleTrustKind: KindSpec<'node-role-trust'> = {
  kind: 'node-role-trust',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'done' }),
};

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/**
 * The trust without `principalArn` in its Allow statements' AWS principals. A statement left with
 * no principal is dropped; a statement that does not name it is the same object (kept as written).
 * `emptied`: nothing would be left (IAM refuses a trust without statements: the caller must not write it).
 */
export function withoutAwsPrincipal(trust: PolicyDocument, principalArn: string): { document: PolicyDocument; changed: boolean; emptied: boolean } {
  let changed = false;
  const statements: unknown[] = [];
  for (const raw of asList((trust as { Statement?: unknown }).Statement)) {
    const statement = raw as Record<string, unknown>;
    const principal = statement?.['Principal'];
    if (!statement || statement['Effect'] !== 'Allow' || !principal || typeof principal !== 'object') {
      statements.push(raw);
      continue;
    }
    const aws = asList((principal as Record<string, unknown>)['AWS']);
    if (!aws.includes(principalArn)) {
      statements.push(raw);
      continue;
    }
    changed = true;
    const rest = aws.filter((p) => p !== principalArn);
    const { AWS: _dropped, ...others } = principal as Record<string, unknown>;
    const nextPrincipal = rest.length === 0 ? others : { ...others, AWS: Array.isArray((principal as Record<string, unknown>)['AWS']) && rest.length > 1 ? rest : rest[0] };
    if (Object.keys(nextPrincipal).length === 0) continue;
    statements.push({ ...statement, Principal: nextPrincipal });
  }
  return { document: { ...trust, Statement: statements } as PolicyDocument, changed, emptied: changed && statements.length === 0 };
}

/** The planned retirement of `nodeRoleArn` from this role's trust (update), or null when it names it nowhere. */
export function planNodeRoleTrust(role: { arn: string; name: string; trustPolicy: PolicyDocument }, nodeRoleArn: string, reason: string, account?: string): NodeRoleTrustChange | null {
  const { document, changed, emptied } = withoutAwsPrincipal(role.trustPolicy, nodeRoleArn);
  if (!changed || emptied) return null;
  const value = (trustPolicy: PolicyDocument): NodeRoleTrustValue => ({ roleArn: role.arn, roleName: role.name, nodeRoleArn, trustPolicy });
  return { kind: 'node-role-trust', id: role.arn, action: 'update', before: value(role.trustPolicy), after: value(document), dependsOn: [], reason, ...(account ? { account } : {}) };
}

type Update = Extract<NodeRoleTrustChange, { action: 'update' }>;

/**
 * Just before the write: the trust as planned → write; already without the node role → done;
 * changed otherwise (someone edited another statement) → the principal is taken out of the fresh
 * trust instead (re-derived), so their edit is kept; the role gone → stale.
 */
export function recheckNodeRoleTrust(change: Update, fresh: PolicyDocument | null): Recheck<Update> {
  const { roleName, nodeRoleArn } = change.before;
  if (!fresh) return { verdict: 'stale', reason: `role ${roleName} was deleted after the plan was made` };
  if (samePolicy(fresh, change.before.trustPolicy)) return { verdict: 'write', change };
  const again = withoutAwsPrincipal(fresh, nodeRoleArn);
  if (!again.changed) return { verdict: 'done', note: `role ${roleName} no longer trusts ${nodeRoleArn}` };
  if (again.emptied) return { verdict: 'stale', reason: `role ${roleName}'s trust now names only ${nodeRoleArn}: removing it would leave no statement` };
  return {
    verdict: 'rederived',
    change: { ...change, before: { ...change.before, trustPolicy: fresh }, after: { ...change.after, trustPolicy: again.document } },
    note: `role ${roleName}'s trust changed since the plan: ${nodeRoleArn} was taken out of the trust as it is now, the other edits kept`,
  };
}
