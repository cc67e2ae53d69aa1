// Build, merge, measure and evaluate IRSA trust policies with IAM condition semantics.
// Pure: `doctor`, `create-sa-role` and the tests share these functions.

export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
/** IAM's default ACLSizePerRole quota; whitespace is not counted. */
export const TRUST_POLICY_SIZE_LIMIT = 2048;

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: { Federated?: string | string[]; AWS?: string | string[]; Service?: string | string[] } | '*';
  Action: string | string[];
  Condition?: ConditionBlock;
  [key: string]: unknown;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

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

// ---------------------------------------------------------------------------------------------
// Evaluation: does this trust policy let a web-identity token with these claims assume the role?

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
}

export interface TrustEvaluation {
  allowed: boolean;
  /** Why each statement did or did not match, in document order; for people. */
  reasons: string[];
  /** The statement that allowed (index), if any. */
  matchedStatement: number | null;
}

/** IAM StringLike: `*` matches any run of characters, `?` exactly one; case-sensitive. */
export function stringLike(pattern: string, value: string): boolean {
  const regex = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]') + '$',
  );
  return regex.test(value);
}

const CONDITION_MATCHERS: Record<string, (expected: string, actual: string) => boolean> = {
  StringEquals: (expected, actual) => expected === actual,
  StringLike: stringLike,
  StringEqualsIgnoreCase: (expected, actual) => expected.toLowerCase() === actual.toLowerCase(),
  StringNotEquals: (expected, actual) => expected !== actual,
  StringNotLike: (expected, actual) => !stringLike(expected, actual),
};

/**
 * Evaluates a trust policy for a token the way STS does for AssumeRoleWithWebIdentity.
 * `providerArn` is the IAM OIDC provider whose URL matches the token's `iss`.
 * Condition keys are `<issuer host/path>:sub|aud`; key names compare case-insensitively, values
 * case-sensitively (except *IgnoreCase). A multi-valued token `aud` matches if any value does.
 * Explicit Deny wins; otherwise any matching Allow allows.
 */
export function evaluateTrustPolicy(document: PolicyDocument, providerArn: string, claims: TokenClaims): TrustEvaluation {
  const issuerHostPath = claims.iss.replace(/^https:\/\//, '').replace(/\/$/, '');
  const claimValues = (key: string): string[] | null => {
    const lower = key.toLowerCase();
    if (lower === `${issuerHostPath}:sub`.toLowerCase()) return [claims.sub];
    if (lower === `${issuerHostPath}:aud`.toLowerCase()) return claims.aud;
    return null;
  };
  const reasons: string[] = [];
  let matchedStatement: number | null = null;
  let denied = false;
  (document.Statement ?? []).forEach((statement, index) => {
    const label = `statement ${index + 1}${statement.Sid ? ` (${statement.Sid})` : ''}`;
    const federated = typeof statement.Principal === 'object' ? asList(statement.Principal.Federated) : [];
    if (statement.Principal !== '*' && !federated.includes(providerArn)) {
      reasons.push(`${label}: principal is ${federated.join(', ') || JSON.stringify(statement.Principal)}, not the provider ${providerArn}`);
      return;
    }
    const actions = asList(statement.Action);
    if (!actions.some((action) => stringLike(action.toLowerCase(), WEB_IDENTITY_ACTION.toLowerCase()))) {
      reasons.push(`${label}: action is ${actions.join(', ')}, not ${WEB_IDENTITY_ACTION}`);
      return;
    }
    const failures: string[] = [];
    for (const [rawOperator, entries] of Object.entries(statement.Condition ?? {})) {
      const ifExists = rawOperator.endsWith('IfExists');
      const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
      const multi = operator.startsWith('ForAllValues:') || operator.startsWith('ForAnyValue:') ? operator.split(':')[0] : null;
      const baseOperator = multi ? operator.slice(multi.length + 1) : operator;
      const matcher = CONDITION_MATCHERS[baseOperator];
      for (const [key, expectedRaw] of Object.entries(entries)) {
        const expected = asList(expectedRaw);
        const actual = claimValues(key);
        const claimName = key.slice(key.lastIndexOf(':') + 1);
        if (!matcher) {
          failures.push(`condition operator ${rawOperator} on ${key} is not evaluated by irsa`);
          continue;
        }
        if (actual === null || actual.length === 0) {
          if (!ifExists) {
            failures.push(
              `condition key ${key} does not match the token's issuer ${issuerHostPath} (expects ${claimName} ${expected.join(' or ')})`,
            );
          }
          continue;
        }
        const negated = baseOperator.startsWith('StringNot');
        const valueMatches = (value: string) =>
          negated ? expected.every((e) => matcher(e, value)) : expected.some((e) => matcher(e, value));
        const ok = multi === 'ForAllValues' ? actual.every(valueMatches) : actual.some(valueMatches);
        if (!ok) {
          failures.push(`condition ${baseOperator} expects ${claimName} ${expected.join(' or ')}, token has ${claimName} ${actual.join(', ')}`);
        }
      }
    }
    if (failures.length > 0) {
      reasons.push(`${label}: ${failures.join('; ')}`);
      return;
    }
    if (statement.Effect === 'Deny') {
      denied = true;
      reasons.push(`${label}: explicitly denies this token`);
      return;
    }
    reasons.push(`${label}: allows this token`);
    matchedStatement ??= index;
  });
  const allowed = !denied && matchedStatement !== null;
  return { allowed, reasons, matchedStatement: allowed ? matchedStatement : null };
}
