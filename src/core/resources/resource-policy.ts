// The `secret-policy` and `key-policy` kinds: a Secrets Manager secret's resource policy and a KMS
// key's key policy, in the account that owns the resource (the change's `account`), holding one
// statement irsa wrote per role (Sid `Irsa<16 hex>`, core/access-request.ts) next to statements
// irsa keeps as they are. Planned by core/access-plan.ts; executed by engine/executors/
// resource-policy.ts, which re-reads the policy first and lets recheckResourcePolicy decide.

import { samePolicyDocument, withIrsaStatement, irsaStatementOf } from '../access-request.ts';
import type { ChangeOf } from '../plan.ts';
import type { Recheck } from '../recheck.ts';
import type { PolicyDocument } from '../trust-policy.ts';
import type { KindSpec } from './kind.ts';

/** A resource's (or key's) policy as the plan shows it. */
export interface ResourcePolicyValue {
  /** The secret's or key's ARN. */
  arn: string;
  /** The Sid of irsa's statement this change sets or removes (one role's). */
  sid: string;
  /** The whole policy; null: the secret has no resource policy (a key always has one). */
  document: PolicyDocument | null;
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** A Secrets Manager secret's resource policy (id: the secret's ARN + `#` + irsa's Sid). */
    'secret-policy': ResourcePolicyValue;
    /** A KMS key's key policy (id: the key's ARN + `#` + irsa's Sid). */
    'key-policy': ResourcePolicyValue;
  }
}

type PolicyKind = 'secret-policy' | 'key-policy';

/** A policy change that is absent from a fresh plan: irsa's statement already is as planned, or drift. */
const absent = () => ({ verdict: 'drift' as const });

export const secretPolicyKind: KindSpec<'secret-policy'> = { kind: 'secret-policy', api: 'aws', absentFromFreshPlan: absent };
export const keyPolicyKind: KindSpec<'key-policy'> = { kind: 'key-policy', api: 'aws', absentFromFreshPlan: absent };

/**
 * Before writing: the policy as it is now. Unchanged since the plan → write; already as planned →
 * nothing; changed elsewhere (someone else's statements) → irsa's one statement is set (or removed)
 * on what is there now, keeping every other statement: re-derived, and said so.
 */
export function recheckResourcePolicy<K extends PolicyKind>(change: ChangeOf<K>, fresh: PolicyDocument | null): Recheck<ChangeOf<K>> {
  if (change.action === 'no-op') return { verdict: 'write', change };
  const before = change.before?.document ?? null;
  const value = (change.after ?? change.before)!;
  const wanted = change.after ? irsaStatementOf(change.after.document, value.sid) : null;
  const what = `${change.kind === 'key-policy' ? 'key policy of' : 'resource policy of'} ${value.arn}`;
  if (samePolicyDocument(fresh, before)) return { verdict: 'write', change };
  const target = withIrsaStatement(fresh, value.sid, wanted);
  if (samePolicyDocument(fresh, target)) return { verdict: 'done', note: `${what} already is as planned` };
  const rederived = {
    ...change,
    before: { ...value, document: fresh },
    after: { ...value, document: target },
  } as ChangeOf<K>;
  return { verdict: 'rederived', change: rederived, note: `${what} changed after the plan was made; irsa set only its own statement ${value.sid} on the policy as it is now` };
}
