// Does this trust policy let a web-identity token assume the role? Evaluated the way IAM documents
// it for sts:AssumeRoleWithWebIdentity, with a third answer, "cannot decide", wherever the outcome
// depends on something irsa does not know (a request value such as aws:SourceVpc) or on behaviour
// IAM does not document. A "cannot decide" is never shown as ✓ or ✗.
//
// Sources (IAM User Guide):
// - Condition operators, and the absent-key rule for every operator but ...IfExists and Null:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//   "If the key that you specify in a policy condition is not present in the request context, the
//   values do not match and the condition is false. If the policy condition requires that the key is
//   not matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
//   condition is true."
// - Several operators / keys AND, several values OR, a negated operator's values NOR:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
// - ForAllValues is true when the key is absent or empty, ForAnyValue false:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
// - Condition key names are case-insensitive, values case-sensitive unless ...IgnoreCase:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
// - Action wildcards (* and ?), case-insensitive; NotAction matches every action not listed:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
// - NotPrincipal: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
// - Explicit Deny overrides any Allow; no Allow is an implicit deny:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// - The keys a web-identity request carries (<issuer>:aud, <issuer>:sub, ...):
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
//
// Decided here where IAM is silent (each gives "cannot decide" rather than a guess):
// - `Principal: {"AWS": "*"}`: the IAM docs call it "all principals" for AWS identities, and some
//   services treat it differently from `"*"`; whether STS matches a web-identity (federated) caller
//   against it is not documented. `"Principal": "*"` matches every caller.
// - A token with several `aud` values: which value IAM puts in `<issuer>:aud` is not documented
//   (STS returns a single Audience). Any condition on `:aud` (or any key irsa does not model) is
//   then undecided.
// - A key irsa cannot know the value of (aws:*, sts:*, other <issuer>:<claim> keys), policy
//   variables (`${...}`) in values, operators on a value type they are not for (Numeric on sub),
//   unknown operator names, and set operators combined with ...IfExists on an absent key.

import type { PolicyDocument, PolicyStatement } from './model/policy.ts';

export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';

/** Three-valued: true, false, or irsa cannot decide. */
export type Tri = boolean | 'unknown';

export type TrustVerdict = 'allow' | 'deny' | 'cannot-decide';

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
}

export interface TrustEvaluation {
  verdict: TrustVerdict;
  /** verdict === 'allow'; a "cannot decide" is never allowed. */
  allowed: boolean;
  /** Why each statement did or did not match, in document order; for people. */
  reasons: string[];
  /** The statement that allowed (index), if any. */
  matchedStatement: number | null;
  /** What irsa could not decide, for people (empty unless the verdict is cannot-decide). */
  undecided: string[];
}

const and = (values: Tri[]): Tri => (values.includes(false) ? false : values.includes('unknown') ? 'unknown' : true);
const or = (values: Tri[]): Tri => (values.includes(true) ? true : values.includes('unknown') ? 'unknown' : false);
const not = (value: Tri): Tri => (value === 'unknown' ? 'unknown' : !value);

/** IAM StringLike: `*` matches any run of characters, `?` exactly one; case-sensitive. */
export function stringLike(pattern: string, value: string): boolean {
  const regex = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]') + '$',
    'u',
  );
  return regex.test(value);
}

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A request context value: the key's values, absent, or not known to irsa. */
type KeyValue = { values: string[] } | 'absent' | 'unknown';

/**
 * The request context of AssumeRoleWithWebIdentity as far as irsa knows it. Keys of the token's
 * issuer: sub (single value) and aud. Keys of another identity provider (`<host>[/path]:<claim>`,
 * a prefix with a dot) are absent: IAM adds only the authenticating provider's keys. Everything
 * else (aws:SourceIp, aws:SourceVpc, sts:RoleSessionName, other claims) is unknown to irsa.
 */
function contextValue(key: string, hostPath: string, claims: TokenClaims): KeyValue {
  const lower = key.toLowerCase();
  const colon = lower.lastIndexOf(':');
  if (colon <= 0) return 'unknown';
  const prefix = lower.slice(0, colon);
  const claim = lower.slice(colon + 1);
  if (prefix === hostPath.toLowerCase()) {
    if (claim === 'sub') return { values: [claims.sub] };
    if (claim === 'aud') {
      if (claims.aud.length > 1) return 'unknown';
      return claims.aud.length === 0 ? 'absent' : { values: [claims.aud[0]!] };
    }
    return 'unknown';
  }
  if (prefix.includes('.')) return 'absent';
  return 'unknown';
}

const NEGATED = new Set([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'ArnNotEquals',
  'ArnNotLike',
  'NumericNotEquals',
  'DateNotEquals',
  'NotIpAddress',
]);
const STRING_MATCH: Record<string, (expected: string, actual: string) => boolean> = {
  StringEquals: (e, a) => e === a,
  StringNotEquals: (e, a) => e === a,
  StringEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringNotEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringLike: stringLike,
  StringNotLike: stringLike,
};
/** Operators IAM knows but irsa evaluates only on an absent key (sub and aud are strings). */
const NON_STRING = new Set([
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
]);

interface ParsedOperator {
  set: 'ForAnyValue' | 'ForAllValues' | null;
  base: string;
  ifExists: boolean;
}

function parseOperator(raw: string): ParsedOperator | null {
  let rest = raw;
  let set: ParsedOperator['set'] = null;
  for (const prefix of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${prefix}:`)) {
      set = prefix;
      rest = rest.slice(prefix.length + 1);
      break;
    }
  }
  const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  if (base === 'Null') return ifExists ? null : { set, base, ifExists };
  if (!(base in STRING_MATCH) && !NON_STRING.has(base)) return null;
  return { set, base, ifExists };
}

/** Policy values as strings (IAM reads JSON numbers and booleans as their text), or null. */
function policyValues(raw: unknown): string[] | null {
  const values = asList(raw);
  if (values.length === 0) return null;
  const out: string[] = [];
  for (const value of values) {
    if (typeof value === 'string') out.push(value);
    else if (typeof value === 'number' || typeof value === 'boolean') out.push(String(value));
    else return null;
  }
  return out;
}

interface ConditionResult {
  value: Tri;
  /** For people: why it is false or unknown. */
  why: string;
}

function claimLabel(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}

function evaluateCondition(rawOperator: string, key: string, rawValues: unknown, hostPath: string, claims: TokenClaims): ConditionResult {
  const operator = parseOperator(rawOperator);
  if (!operator) return { value: 'unknown', why: `condition operator ${rawOperator} is not one IAM documents for this use; irsa cannot evaluate it` };
  const expected = policyValues(rawValues);
  if (!expected) return { value: 'unknown', why: `condition ${rawOperator} on ${key} has no string values` };
  const context = contextValue(key, hostPath, claims);
  const claim = claimLabel(key);
  if (context === 'unknown') {
    return { value: 'unknown', why: `condition ${rawOperator} on ${key} depends on a value irsa cannot know for this request` };
  }
  if (operator.base === 'Null') {
    if (operator.set) return { value: 'unknown', why: `${rawOperator} is not documented` };
    const wantAbsent = expected.map((v) => v.toLowerCase());
    if (wantAbsent.some((v) => v !== 'true' && v !== 'false')) return { value: 'unknown', why: `Null on ${key} expects true or false` };
    // Null: "true" holds when the key is absent, "false" when it is present; several values OR.
    const holds = wantAbsent.some((v) => (v === 'true') === (context === 'absent'));
    return { value: holds, why: `condition Null ${key} = ${expected.join(' or ')}, but the key is ${context === 'absent' ? 'absent' : 'present'}` };
  }
  const negated = NEGATED.has(operator.base);
  if (context === 'absent') {
    if (operator.set && operator.ifExists) return { value: 'unknown', why: `${rawOperator} on an absent key is not documented` };
    // Set operators: ForAllValues is true on an absent key, ForAnyValue false (either polarity).
    const value = operator.set === 'ForAllValues' ? true : operator.set === 'ForAnyValue' ? false : operator.ifExists ? true : negated;
    return {
      value,
      why: key.toLowerCase().startsWith(`${hostPath.toLowerCase()}:`)
        ? `condition ${rawOperator} expects ${key} ${expected.join(' or ')}, token has no ${claim}`
        : `condition key ${key} does not match the token's issuer ${hostPath} (expects ${claim} ${expected.join(' or ')})`,
    };
  }
  const matcher = STRING_MATCH[operator.base];
  if (!matcher) return { value: 'unknown', why: `condition ${rawOperator} on the string ${key} is not documented` };
  // Policy variables (${...}) are substituted by IAM from the request; irsa does not model them.
  if (expected.some((value) => value.includes('${'))) return { value: 'unknown', why: `condition ${rawOperator} on ${key} uses a policy variable` };
  const perValue = (actual: string): boolean => {
    const any = expected.some((e) => matcher(e, actual));
    return negated ? !any : any;
  };
  const actual = context.values;
  const value = operator.set === 'ForAllValues' ? actual.every(perValue) : actual.some(perValue);
  return { value, why: `condition ${operator.base} expects ${claim} ${negated ? 'not ' : ''}${expected.join(' or ')}, token has ${claim} ${actual.join(', ')}` };
}

function actionMatches(pattern: unknown, action: string): Tri {
  if (typeof pattern !== 'string') return 'unknown';
  return stringLike(pattern.toLowerCase(), action.toLowerCase());
}

/** Whether one Principal (or NotPrincipal) element names the web-identity caller. */
function principalNames(element: unknown, providerArn: string): Tri {
  if (element === '*') return true;
  if (!element || typeof element !== 'object' || Array.isArray(element)) return 'unknown';
  const results: Tri[] = [];
  for (const [type, raw] of Object.entries(element)) {
    for (const value of asList(raw)) {
      if (typeof value !== 'string') results.push('unknown');
      else if (type === 'Federated') results.push(value === '*' ? 'unknown' : value === providerArn);
      // {"AWS": "*"} against a federated caller: undocumented (see the top of this file).
      else if (type === 'AWS') results.push(value === '*' ? 'unknown' : false);
      else if (type === 'Service' || type === 'CanonicalUser') results.push(false);
      else results.push('unknown');
    }
  }
  return or(results);
}

interface StatementResult {
  applies: Tri;
  reason: string;
}

function evaluateStatement(statement: PolicyStatement, label: string, providerArn: string, hostPath: string, claims: TokenClaims): StatementResult {
  if (!statement || typeof statement !== 'object') return { applies: 'unknown', reason: `${label}: not an object` };
  const s = statement as Record<string, unknown>;
  const hasPrincipal = 'Principal' in s;
  const hasNotPrincipal = 'NotPrincipal' in s;
  if (hasPrincipal === hasNotPrincipal) return { applies: 'unknown', reason: `${label}: needs exactly one of Principal and NotPrincipal` };
  if ('Resource' in s || 'NotResource' in s) return { applies: 'unknown', reason: `${label}: a trust policy has no Resource` };
  const named = principalNames(hasPrincipal ? s['Principal'] : s['NotPrincipal'], providerArn);
  const principal = hasPrincipal ? named : not(named);
  if (principal === false) {
    const federated = asList((s['Principal'] as Record<string, unknown> | undefined)?.['Federated']);
    const shown = hasPrincipal && federated.length > 0 ? federated.join(', ') : JSON.stringify(hasPrincipal ? s['Principal'] : { NotPrincipal: s['NotPrincipal'] });
    return { applies: false, reason: `${label}: principal is ${shown}, not the provider ${providerArn}` };
  }
  const hasAction = 'Action' in s;
  if (hasAction === 'NotAction' in s) return { applies: 'unknown', reason: `${label}: needs exactly one of Action and NotAction` };
  const listed = asList(hasAction ? s['Action'] : s['NotAction']);
  const anyListed = or(listed.map((pattern) => actionMatches(pattern, WEB_IDENTITY_ACTION)));
  const action = hasAction ? anyListed : not(anyListed);
  if (action === false) {
    return { applies: false, reason: `${label}: ${hasAction ? 'action is' : 'NotAction excludes'} ${listed.join(', ')}, ${hasAction ? 'not ' : ''}${WEB_IDENTITY_ACTION}` };
  }
  const results: ConditionResult[] = [];
  const condition = s['Condition'];
  if (condition !== undefined) {
    if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return { applies: 'unknown', reason: `${label}: Condition is not an object` };
    for (const [operator, entries] of Object.entries(condition)) {
      if (!entries || typeof entries !== 'object' || Array.isArray(entries)) {
        results.push({ value: 'unknown', why: `condition ${operator} is not an object` });
        continue;
      }
      for (const [key, values] of Object.entries(entries)) results.push(evaluateCondition(operator, key, values, hostPath, claims));
    }
  }
  const applies = and([principal, action, ...results.map((r) => r.value)]);
  const failing = results.filter((r) => r.value === false).map((r) => r.why);
  const unknown = [
    ...(principal === 'unknown' ? [`whether ${JSON.stringify(hasPrincipal ? s['Principal'] : { NotPrincipal: s['NotPrincipal'] })} names a web-identity caller is not documented`] : []),
    ...(action === 'unknown' ? ['its action list is not a list of strings'] : []),
    ...results.filter((r) => r.value === 'unknown').map((r) => r.why),
  ];
  if (applies === false) return { applies, reason: `${label}: ${failing.join('; ')}` };
  if (applies === 'unknown') return { applies, reason: `${label}: irsa cannot decide: ${unknown.join('; ')}` };
  return { applies, reason: `${label}: ${s['Effect'] === 'Deny' ? 'explicitly denies' : 'allows'} this token` };
}

/** A document's statements as IAM reads them: a single statement object counts as a list of one. */
export function trustStatements(document: PolicyDocument | null): PolicyStatement[] {
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  return (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as PolicyStatement[];
}

/**
 * Evaluates a trust policy for a token the way STS does for AssumeRoleWithWebIdentity.
 * `providerArn` is the IAM OIDC provider whose URL matches the token's `iss`.
 */
export function evaluateTrust(document: PolicyDocument, providerArn: string, claims: TokenClaims): TrustEvaluation {
  const hostPath = claims.iss.replace(/^https:\/\//, '').replace(/\/$/, '');
  const statements = trustStatements(document);
  const reasons: string[] = [];
  const allows: Tri[] = [];
  const denies: Tri[] = [];
  const undecided: string[] = [];
  let matchedStatement: number | null = null;
  statements.forEach((statement, index) => {
    const label = `statement ${index + 1}${typeof statement?.Sid === 'string' && statement.Sid ? ` (${statement.Sid})` : ''}`;
    const effect = statement?.Effect;
    const result: StatementResult =
      effect === 'Allow' || effect === 'Deny'
        ? evaluateStatement(statement, label, providerArn, hostPath, claims)
        : { applies: 'unknown', reason: `${label}: Effect must be Allow or Deny` };
    reasons.push(result.reason);
    if (result.applies === 'unknown') undecided.push(result.reason);
    if (effect === 'Deny') denies.push(result.applies);
    else if (effect === 'Allow') {
      allows.push(result.applies);
      if (result.applies === true) matchedStatement ??= index;
    } else {
      allows.push('unknown');
    }
  });
  // Explicit Deny overrides any Allow; without an Allow the request is implicitly denied.
  const allowed = and([or(allows), not(or(denies))]);
  const verdict: TrustVerdict = allowed === true ? 'allow' : allowed === false ? 'deny' : 'cannot-decide';
  return {
    verdict,
    allowed: verdict === 'allow',
    reasons,
    matchedStatement: verdict === 'allow' ? matchedStatement : null,
    undecided: verdict === 'cannot-decide' ? undecided : [],
  };
}
