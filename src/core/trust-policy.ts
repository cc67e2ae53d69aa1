// Build, merge, measure and evaluate IRSA trust policies with IAM condition semantics.
// Pure: `doctor`, `create-sa-role` and the tests share these functions.

import { WEB_IDENTITY_ACTION } from './trust-eval.ts';

export { WEB_IDENTITY_ACTION };
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
/** IAM's default ACLSizePerRole quota; whitespace is not counted. */
export const TRUST_POLICY_SIZE_LIMIT = 2048;

export type { ConditionBlock, PolicyDocument, PolicyStatement } from './model/policy.ts';
import type { ConditionBlock, PolicyDocument, PolicyStatement } from './model/policy.ts';

/** One federated trust: a provider, its issuer host/path (condition key prefix), subjects and audience. */
export interface FederatedTrust {
  providerArn: string;
  issuerHostPath: string;
  audience: string;
  /** Exact subjects, `system:serviceaccount:<ns>:<name>`. */
  subjects: string[];
  /** Wildcard subjects (StringLike), only from an explicit --subject-pattern. */
  subjectPatterns: string[];
}

export const serviceAccountSubject = (namespace: string, name: string): string =>
  `system:serviceaccount:${namespace}:${name}`;

const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A single value stays a string (as IAM and the AWS docs show it), several become a sorted list. */
const oneOrMany = (values: string[]): string | string[] => {
  const sorted = [...new Set(values)].sort();
  return sorted.length === 1 ? sorted[0]! : sorted;
};

function federatedStatement(trust: FederatedTrust, operator: 'StringEquals' | 'StringLike', subjects: string[]): PolicyStatement {
  const condition: ConditionBlock = {
    [operator]: { [`${trust.issuerHostPath}:sub`]: oneOrMany(subjects) },
  };
  // aud is always exact, even next to a sub pattern.
  condition['StringEquals'] = { ...(condition['StringEquals'] ?? {}), [`${trust.issuerHostPath}:aud`]: trust.audience };
  return {
    Effect: 'Allow',
    Principal: { Federated: trust.providerArn },
    Action: WEB_IDENTITY_ACTION,
    Condition: condition,
  };
}

/**
 * The trust policy for a set of federated trusts: one statement per (provider, audience) with
 * exact subjects, plus one per provider for patterns. Deterministic order, so re-runs diff clean.
 */
export function buildTrustPolicy(trusts: FederatedTrust[], otherStatements: PolicyStatement[] = []): PolicyDocument {
  const grouped = new Map<string, FederatedTrust>();
  for (const trust of trusts) {
    const key = `${trust.providerArn}\u0000${trust.audience}`;
    const existing = grouped.get(key);
    if (existing) {
      existing.subjects.push(...trust.subjects);
      existing.subjectPatterns.push(...trust.subjectPatterns);
    } else {
      grouped.set(key, { ...trust, subjects: [...trust.subjects], subjectPatterns: [...trust.subjectPatterns] });
    }
  }
  const statements: PolicyStatement[] = [];
  const keys = [...grouped.keys()].sort();
  for (const key of keys) {
    const trust = grouped.get(key)!;
    if (trust.subjects.length > 0) statements.push(federatedStatement(trust, 'StringEquals', trust.subjects));
    if (trust.subjectPatterns.length > 0) statements.push(federatedStatement(trust, 'StringLike', trust.subjectPatterns));
  }
  return { Version: '2012-10-17', Statement: [...otherStatements, ...statements] };
}

/** Reads the federated IRSA trusts back out of a document; other statements are returned untouched. */
export function parseTrustPolicy(document: PolicyDocument): { trusts: FederatedTrust[]; otherStatements: PolicyStatement[] } {
  const trusts: FederatedTrust[] = [];
  const otherStatements: PolicyStatement[] = [];
  for (const statement of document.Statement ?? []) {
    const federated = typeof statement.Principal === 'object' ? asList(statement.Principal.Federated) : [];
    const actions = asList(statement.Action);
    if (statement.Effect !== 'Allow' || federated.length !== 1 || !actions.includes(WEB_IDENTITY_ACTION)) {
      otherStatements.push(statement);
      continue;
    }
    const equals = statement.Condition?.['StringEquals'] ?? {};
    const like = statement.Condition?.['StringLike'] ?? {};
    const subKey = [...Object.keys(equals), ...Object.keys(like)].find((key) => key.endsWith(':sub'));
    const audKey = [...Object.keys(equals), ...Object.keys(like)].find((key) => key.endsWith(':aud'));
    const knownOperators = Object.keys(statement.Condition ?? {}).every((op) => op === 'StringEquals' || op === 'StringLike');
    if (!subKey || !knownOperators) {
      otherStatements.push(statement);
      continue;
    }
    const issuerHostPath = subKey.slice(0, -':sub'.length);
    const audiences = audKey ? asList(equals[audKey] ?? like[audKey]) : [];
    if (audiences.length > 1) {
      otherStatements.push(statement);
      continue;
    }
    trusts.push({
      providerArn: federated[0]!,
      issuerHostPath,
      audience: audiences[0] ?? DEFAULT_AUDIENCE,
      subjects: asList(equals[subKey]),
      subjectPatterns: asList(like[subKey]),
    });
  }
  return { trusts, otherStatements };
}

/** Policy size as IAM counts it against ACLSizePerRole: the JSON without whitespace. */
export function policySize(document: unknown): number {
  return JSON.stringify(document).length;
}

/** Structural equality of policy documents, ignoring key order and single-vs-list values order. */
export function samePolicy(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonicalPolicy(a)) === JSON.stringify(canonicalPolicy(b));
}

/** Canonical form: keys sorted, string lists sorted, single-element lists as strings. */
export function canonicalPolicy(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonicalPolicy);
    if (items.every((item) => typeof item === 'string')) {
      const sorted = [...new Set(items as string[])].sort();
      return sorted.length === 1 ? sorted[0] : sorted;
    }
    return items;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = canonicalPolicy((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

// Evaluation lives in trust-eval.ts (full IAM condition semantics, with "cannot decide").
export { evaluateTrust as evaluateTrustPolicy, stringLike, type TokenClaims, type TrustEvaluation, type TrustVerdict } from './trust-eval.ts';
