// Can this role (a session of it: a pod's web-identity credentials) perform this action on this
// resource? Identity policies, the permissions boundary, the resource's policy (in the resource's
// account), a KMS key's policy and grants, evaluated the way the IAM and KMS guides document it,
// with a third answer, "cannot decide", wherever the outcome depends on something irsa does not know
// (a request value it cannot see, an organization's SCPs/RCPs it cannot read, an undocumented case).
// A "cannot decide" is never shown as ✓ or ✗. Every verdict names the document and statement that
// decides it, so that doctor can say which account refused.
//
// Sources:
// - Evaluation within one account (explicit deny wins; an Allow in an identity policy or in the
//   resource policy suffices; a boundary limits identity policies and resource policies that name a
//   role ARN, not those naming a role session):
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
// - Across accounts both the identity policy in the caller's account AND the resource policy in the
//   resource's account must allow (a resource policy may trust the caller's whole account, which then
//   delegates to its identity policies):
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
// - KMS: "No AWS principal has any permissions to a KMS key unless that permission is provided
//   explicitly"; IAM policies count only where the key policy allows the account (the
//   `arn:aws:iam::<account>:root` principal); across accounts the key policy AND the caller's IAM
//   policy must allow: https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html,
//   https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
// - Principals in resource policies (a role ARN admits every session of the role; the account id
//   and `:root` name the account; a deleted role shows as its unique id `AROA…`):
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
// - Resource ARNs: wildcards within each of the six colon-separated parts:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// - Condition operators (absent keys: positive false, negated true, ...IfExists true, ForAllValues
//   true, ForAnyValue false; ArnLike per colon-separated part; values OR, keys/operators AND):
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
//
// Decided here where the documents are silent (each gives "cannot decide" rather than a guess):
// - `NotPrincipal` in an Allow; `NotPrincipal` in a Deny that names anything in the caller's account
//   (the guide asks for both the role and its session ARN; which of them excludes a session is not
//   spelled out). A Deny with NotPrincipal applies to a role with a permissions boundary regardless.
// - A principal that names an assumed-role session of the caller's role (the session name of a pod's
//   credentials is chosen by its SDK); a principal ARN with a wildcard.
// - Same account: a resource policy whose Allow names `*` when the boundary does not allow (whether a
//   wildcard counts as naming the role or the session is not documented).
// - A KMS grant that admits the role while its identity policies do not allow (whether a grantee in
//   another account also needs IAM permission is not documented consistently).
// - Resource patterns with wildcards in the resource type ("secret*:"), short ARNs, policy variables.
// - Numeric, Date, IP address and Binary operators on a key whose value irsa knows (every key irsa
//   models is a string); any operator on a key irsa does not model.

/** IAM wildcards: `*` any run of characters, `?` exactly one; case-sensitive. Compiled once per pattern. */
const compiled = new Map<string, RegExp>();
function stringLike(pattern: string, value: string): boolean {
  let regex = compiled.get(pattern);
  if (!regex) {
    regex = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]') + '$', 'u');
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, regex);
  }
  return regex.test(value);
}

/** Three-valued: true, false, or irsa cannot decide. */
export type Tri = boolean | 'unknown';
export type AccessVerdict = 'allow' | 'deny' | 'cannot-decide';

const and = (values: Tri[]): Tri => (values.includes(false) ? false : values.includes('unknown') ? 'unknown' : true);
const or = (values: Tri[]): Tri => (values.includes(true) ? true : values.includes('unknown') ? 'unknown' : false);
const not = (value: Tri): Tri => (value === 'unknown' ? 'unknown' : !value);
const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export type PolicyKind = 'identity' | 'boundary' | 'resource' | 'key-policy';

/** A policy document and where it lives, for naming it in a verdict. */
export interface NamedPolicy {
  kind: PolicyKind;
  /** For people: "inline policy app-read on role app", "resource policy of secret db". */
  name: string;
  /** The account that holds the document. */
  account: string;
  document: unknown;
}

/** A KMS grant as ListGrants returns it (the fields irsa reads). */
export interface KmsGrant {
  grantId: string;
  granteePrincipal: string;
  operations: string[];
  constraints?: { encryptionContextSubset?: Record<string, string>; encryptionContextEquals?: Record<string, string> };
}

/** The request context as far as irsa knows it. Key names case-insensitive; values case-sensitive. */
export interface RequestContext {
  /** Keys whose values irsa knows (a single-valued key has one value). */
  values: Record<string, string[]>;
  /** Keys irsa knows the request does not carry. Every other key is unknown to irsa. */
  absent: string[];
}

export interface AccessRequest {
  /** The role whose session makes the request (IRSA: the pod's role). */
  role: { arn: string; account: string; /** RoleId (AROA…), when read. */ id?: string };
  action: string;
  resource: { arn: string; account: string };
  context: RequestContext;
}

export interface AccessDocuments {
  identityPolicies: NamedPolicy[];
  permissionsBoundary: NamedPolicy | null;
  /**
   * The resource's policy (for a KMS key: its key policy). null: the resource has none.
   * 'unreadable': irsa could not read it (then it cannot decide anything the policy could change).
   */
  resourcePolicy: NamedPolicy | null | 'unreadable';
  /** A KMS key: the key policy is required and IAM policies count only where it delegates to them. */
  resourceIsKmsKey: boolean;
  /** The key's grants (KMS keys only); 'unreadable' when ListGrants was refused. */
  grants?: KmsGrant[] | 'unreadable';
  /**
   * Organization policies (SCPs in the caller's account, RCPs in the resource's): 'none' when irsa
   * knows the accounts are in no organization, 'unreadable' otherwise (an Allow is then undecided).
   */
  organizationPolicies: 'none' | 'unreadable';
}

/** One statement of one document. */
export interface StatementRef {
  kind: PolicyKind;
  document: string;
  account: string;
  /** 0-based position in the document's Statement list. */
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
}

export interface AccessDecision {
  verdict: AccessVerdict;
  allowed: boolean;
  /** The statements whose Allow carries the verdict (one per document the path needs). */
  allowedBy: StatementRef[];
  /**
   * What refuses: an explicit Deny statement, or a document that holds no Allow for this request
   * (statement absent). Null unless the verdict is deny.
   */
  refusedBy: { kind: PolicyKind | 'grants'; document: string; account: string; statement?: StatementRef; why: string } | null;
  /** Per statement, in document order, for people. */
  reasons: string[];
  /** Why irsa cannot decide (empty unless the verdict is cannot-decide). */
  undecided: string[];
}

export const statementLabel = (ref: StatementRef): string => `statement ${ref.index + 1}${ref.sid ? ` (${ref.sid})` : ''}`;

// ---------------------------------------------------------------- matching helpers

const hasVariable = (value: string): boolean => value.includes('${');

/** Action patterns: `service:Name` with * and ?, case-insensitive. */
function actionMatches(pattern: unknown, action: string): Tri {
  if (typeof pattern !== 'string') return 'unknown';
  if (pattern === '*') return true;
  if (!pattern.includes(':')) return 'unknown';
  return stringLike(pattern.toLowerCase(), action.toLowerCase());
}

function splitArn(value: string): string[] | null {
  const parts = value.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return null;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** A Resource pattern against the request's ARN: each of the six parts on its own. */
function resourceMatches(pattern: unknown, arn: string): Tri {
  if (typeof pattern !== 'string') return 'unknown';
  if (pattern === '*') return true;
  if (hasVariable(pattern)) return 'unknown';
  const want = splitArn(pattern);
  const have = splitArn(arn);
  if (!want || !have) return 'unknown';
  // The resource part's type ("secret", "key") takes no wildcard (IAM: "Incorrect wildcard usage").
  const typeEnd = want[5]!.search(/[/:]/);
  const typePart = typeEnd === -1 ? want[5]! : want[5]!.slice(0, typeEnd);
  if (/[*?]/.test(typePart)) return 'unknown';
  for (let i = 1; i < 5; i++) {
    if (!stringLike(want[i]!, have[i]!)) return false;
  }
  return stringLike(want[5]!, have[5]!);
}

/** ArnEquals/ArnLike: each of the six colon-separated parts, case-sensitive, * and ? allowed. */
function arnLike(pattern: string, value: string): boolean {
  const want = splitArn(pattern);
  const have = splitArn(value);
  if (!want || !have) return false;
  return want.every((part, i) => stringLike(part, have[i]!));
}

// ---------------------------------------------------------------- conditions

type KeyValue = { values: string[] } | 'absent' | 'unknown';

function contextValue(context: RequestContext, key: string): KeyValue {
  const lower = key.toLowerCase();
  for (const [name, values] of Object.entries(context.values)) if (name.toLowerCase() === lower) return { values };
  if (context.absent.some((name) => name.toLowerCase() === lower)) return 'absent';
  return 'unknown';
}

const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'ArnNotEquals', 'ArnNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress']);
const MATCHERS: Record<string, (expected: string, actual: string) => boolean> = {
  StringEquals: (e, a) => e === a,
  StringNotEquals: (e, a) => e === a,
  StringEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringNotEqualsIgnoreCase: (e, a) => e.toLowerCase() === a.toLowerCase(),
  StringLike: stringLike,
  StringNotLike: stringLike,
  ArnEquals: arnLike,
  ArnLike: arnLike,
  ArnNotEquals: arnLike,
  ArnNotLike: arnLike,
  Bool: (e, a) => e.toLowerCase() === a.toLowerCase(),
};
/** Operators IAM documents that irsa evaluates only on an absent key. */
const OTHER_OPERATORS = new Set([
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'BinaryEquals', 'IpAddress', 'NotIpAddress',
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
  if (!(base in MATCHERS) && !OTHER_OPERATORS.has(base)) return null;
  return { set, base, ifExists };
}

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
  why: string;
}

function evaluateCondition(rawOperator: string, key: string, rawValues: unknown, context: RequestContext): ConditionResult {
  const operator = parseOperator(rawOperator);
  if (!operator) return { value: 'unknown', why: `condition operator ${rawOperator} is not one irsa evaluates` };
  const expected = policyValues(rawValues);
  if (!expected) return { value: 'unknown', why: `condition ${rawOperator} on ${key} has no values` };
  const actual = contextValue(context, key);
  if (actual === 'unknown') return { value: 'unknown', why: `condition ${rawOperator} on ${key}: irsa does not know this request's ${key}` };
  if (operator.base === 'Null') {
    if (operator.set) return { value: 'unknown', why: `${rawOperator} is not documented` };
    const wanted = expected.map((v) => v.toLowerCase());
    if (wanted.some((v) => v !== 'true' && v !== 'false')) return { value: 'unknown', why: `Null on ${key} expects true or false` };
    const holds = wanted.some((v) => (v === 'true') === (actual === 'absent'));
    return { value: holds, why: `condition Null ${key} = ${expected.join(' or ')}, but the key is ${actual === 'absent' ? 'absent' : 'present'}` };
  }
  const negated = NEGATED.has(operator.base);
  if (actual === 'absent') {
    if (operator.set && operator.ifExists) return { value: 'unknown', why: `${rawOperator} on an absent key is not documented` };
    const value = operator.set === 'ForAllValues' ? true : operator.set === 'ForAnyValue' ? false : operator.ifExists ? true : negated;
    return { value, why: `condition ${rawOperator} on ${key}: the request has no ${key}` };
  }
  const matcher = MATCHERS[operator.base];
  if (!matcher) return { value: 'unknown', why: `condition ${rawOperator} on ${key}: irsa evaluates only string, ARN and Bool operators on known keys` };
  if (expected.some(hasVariable)) return { value: 'unknown', why: `condition ${rawOperator} on ${key} uses a policy variable` };
  const perValue = (value: string): boolean => {
    const any = expected.some((e) => matcher(e, value));
    return negated ? !any : any;
  };
  const values = actual.values;
  const value = operator.set === 'ForAllValues' ? values.every(perValue) : values.some(perValue);
  return { value, why: `condition ${rawOperator} expects ${key} ${negated ? 'not ' : ''}${expected.join(' or ')}, the request has ${values.join(', ') || 'no value'}` };
}

function evaluateConditions(condition: unknown, context: RequestContext): ConditionResult[] {
  if (condition === undefined) return [];
  if (!condition || typeof condition !== 'object' || Array.isArray(condition)) return [{ value: 'unknown', why: 'Condition is not an object' }];
  const results: ConditionResult[] = [];
  for (const [operator, entries] of Object.entries(condition)) {
    if (!entries || typeof entries !== 'object' || Array.isArray(entries)) {
      results.push({ value: 'unknown', why: `condition ${operator} is not an object` });
      continue;
    }
    for (const [key, values] of Object.entries(entries)) results.push(evaluateCondition(operator, key, values, context));
  }
  return results;
}

// ---------------------------------------------------------------- principals

/**
 * How a resource policy's principal element relates to the caller: the role itself (`direct`), its
 * account, and whether the match is by something other than the role's ARN (`wildcard`: `*` or a
 * NotPrincipal), whose relation to a permissions boundary within one account is undocumented.
 */
type PrincipalMatch = { direct: Tri; account: Tri; wildcard: boolean; why: string };

function rolePrincipal(value: string, request: AccessRequest): { direct: Tri; account: Tri; wildcard: boolean } {
  const { role } = request;
  if (value === '*') return { direct: true, account: false, wildcard: true };
  if (/^\d{12}$/.test(value)) return { direct: false, account: value === role.account, wildcard: false };
  if (/^AROA[A-Z0-9]+$/.test(value)) return { direct: role.id === undefined ? 'unknown' : value === role.id, account: false, wildcard: false };
  if (/[*?]/.test(value)) return { direct: 'unknown', account: 'unknown', wildcard: false };
  const arn = splitArn(value);
  if (!arn) return { direct: 'unknown', account: 'unknown', wildcard: false };
  const [, , service, , account, resource] = arn;
  if (account !== role.account) return { direct: false, account: false, wildcard: false };
  if (service === 'iam' && resource === 'root') return { direct: false, account: true, wildcard: false };
  if (service === 'iam' && resource!.startsWith('role/')) {
    if (value === role.arn) return { direct: true, account: false, wildcard: false };
    // Same name in another case: IAM names are case-insensitive; whether the stored principal
    // resolves to this role is for IAM to say.
    return { direct: value.toLowerCase() === role.arn.toLowerCase() ? 'unknown' : false, account: false, wildcard: false };
  }
  if (service === 'sts' && resource!.startsWith('assumed-role/')) {
    const roleName = role.arn.slice(role.arn.lastIndexOf('/') + 1);
    return { direct: resource!.split('/')[1] === roleName ? 'unknown' : false, account: false, wildcard: false };
  }
  return { direct: false, account: false, wildcard: false };
}

function principalMatch(element: unknown, request: AccessRequest): PrincipalMatch {
  if (element === '*') return { direct: true, account: false, wildcard: true, why: 'principal is *' };
  if (!element || typeof element !== 'object' || Array.isArray(element)) return { direct: 'unknown', account: 'unknown', wildcard: false, why: 'principal is not an object' };
  const direct: Tri[] = [];
  const account: Tri[] = [];
  let wildcard = false;
  for (const [type, raw] of Object.entries(element)) {
    for (const value of asList(raw)) {
      if (typeof value !== 'string') {
        direct.push('unknown');
        continue;
      }
      if (type === 'AWS') {
        const m = rolePrincipal(value, request);
        direct.push(m.direct);
        account.push(m.account);
        wildcard ||= m.wildcard && m.direct === true;
      } else if (type === 'Service' || type === 'Federated' || type === 'CanonicalUser') direct.push(false);
      else direct.push('unknown');
    }
  }
  return { direct: or(direct), account: or(account), wildcard, why: `principal is ${JSON.stringify(element)}` };
}

// ---------------------------------------------------------------- statements

interface StatementEval {
  ref: StatementRef;
  /** Identity-style: action, resource and conditions match (principal not considered). */
  matches: Tri;
  /** Resource policies: how the principal matches. */
  principal?: PrincipalMatch;
  notPrincipal?: boolean;
  reason: string;
}

function statementsOf(document: unknown): unknown[] {
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}

function evaluateDocument(policy: NamedPolicy, request: AccessRequest, withPrincipal: boolean, hasBoundary: boolean): StatementEval[] {
  return statementsOf(policy.document).map((raw, index) => {
    const s = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const effect = s['Effect'] === 'Deny' ? 'Deny' : 'Allow';
    const ref: StatementRef = { kind: policy.kind, document: policy.name, account: policy.account, index, effect, ...(typeof s['Sid'] === 'string' && s['Sid'] ? { sid: s['Sid'] } : {}) };
    const label = `${policy.name}: ${statementLabel(ref)}`;
    const unknown = (why: string): StatementEval => ({ ref, matches: 'unknown', reason: `${label}: irsa cannot decide: ${why}` });
    if (s['Effect'] !== 'Allow' && s['Effect'] !== 'Deny') return unknown('Effect must be Allow or Deny');
    const hasAction = 'Action' in s;
    if (hasAction === 'NotAction' in s) return unknown('needs exactly one of Action and NotAction');
    const actions = asList(hasAction ? s['Action'] : s['NotAction']);
    const anyAction = or(actions.map((p) => actionMatches(p, request.action)));
    const action = hasAction ? anyAction : not(anyAction);
    const hasResource = 'Resource' in s;
    let resource: Tri;
    if (hasResource === 'NotResource' in s) {
      // Key policies may omit Resource? No: IAM and KMS require one of them. Treat as undecidable.
      return unknown('needs exactly one of Resource and NotResource');
    } else {
      const anyResource = or(asList(hasResource ? s['Resource'] : s['NotResource']).map((p) => resourceMatches(p, request.resource.arn)));
      resource = hasResource ? anyResource : not(anyResource);
    }
    const conditions = evaluateConditions(s['Condition'], request.context);
    let principal: PrincipalMatch | undefined;
    let notPrincipal = false;
    if (withPrincipal) {
      const hasPrincipal = 'Principal' in s;
      if (hasPrincipal === 'NotPrincipal' in s) return unknown('needs exactly one of Principal and NotPrincipal');
      if (hasPrincipal) principal = principalMatch(s['Principal'], request);
      else {
        notPrincipal = true;
        const excluded = principalMatch(s['NotPrincipal'], request);
        // A Deny with NotPrincipal denies any principal with a permissions boundary (IAM guide,
        // permissions boundaries). Otherwise decided only when nothing listed is in the caller's account.
        const appliesToUs: Tri =
          effect === 'Deny' && hasBoundary ? true : effect === 'Deny' && excluded.direct === false && excluded.account === false ? true : 'unknown';
        principal = { direct: appliesToUs, account: false, wildcard: true, why: `NotPrincipal ${JSON.stringify(s['NotPrincipal'])}` };
      }
    } else if ('Principal' in s || 'NotPrincipal' in s) {
      return unknown('an identity policy has no Principal');
    }
    const matches = and([action, resource, ...conditions.map((c) => c.value)]);
    const principalTri = principal ? or([principal.direct, principal.account]) : true;
    const overall = and([matches, principalTri]);
    const failing = [
      ...(action === false ? [`${hasAction ? 'action is' : 'NotAction lists'} ${actions.join(', ')}`] : []),
      ...(resource === false ? [`${hasResource ? 'resource is' : 'NotResource lists'} ${asList(hasResource ? s['Resource'] : s['NotResource']).join(', ')}`] : []),
      ...(principal && principalTri === false ? [principal.why] : []),
      ...conditions.filter((c) => c.value === false).map((c) => c.why),
    ];
    const unknowns = [
      ...(action === 'unknown' ? ['its action list'] : []),
      ...(resource === 'unknown' ? ['its resource list'] : []),
      ...(principal && principalTri === 'unknown' ? [`whether ${principal.why} names this role`] : []),
      ...conditions.filter((c) => c.value === 'unknown').map((c) => c.why),
    ];
    const reason =
      overall === false
        ? `${label}: does not apply: ${failing.join('; ')}`
        : overall === 'unknown'
          ? `${label}: irsa cannot decide: ${unknowns.join('; ')}`
          : `${label}: ${effect === 'Deny' ? 'explicitly denies' : 'allows'} ${request.action}`;
    return { ref, matches, ...(principal ? { principal } : {}), notPrincipal, reason };
  });
}

// ---------------------------------------------------------------- grants

/** Whether a grant admits the role for the action (KMS grants: grantee, operations, constraints). */
function grantAdmits(grant: KmsGrant, request: AccessRequest): Tri {
  if (grant.granteePrincipal !== request.role.arn) {
    if (grant.granteePrincipal.toLowerCase() === request.role.arn.toLowerCase()) return 'unknown';
    return false;
  }
  const operation = request.action.replace(/^kms:/i, '');
  if (!request.action.toLowerCase().startsWith('kms:') || !grant.operations.includes(operation)) return false;
  const constraints = grant.constraints;
  if (!constraints) return true;
  const results: Tri[] = [];
  const contextOf = (key: string): KeyValue => contextValue(request.context, `kms:EncryptionContext:${key}`);
  // EncryptionContextSubset: every listed pair is in the request's encryption context.
  for (const [key, value] of Object.entries(constraints.encryptionContextSubset ?? {})) {
    const actual = contextOf(key);
    results.push(actual === 'unknown' ? 'unknown' : actual === 'absent' ? false : actual.values.includes(value));
  }
  // EncryptionContextEquals: the request's context is exactly the listed pairs; irsa knows only some keys.
  if (constraints.encryptionContextEquals) results.push('unknown');
  return and(results);
}

// ---------------------------------------------------------------- the evaluation

/**
 * Evaluates a request by a session of `request.role` against every document that governs it.
 * Pure; the caller reads the documents (each in its own account) and builds the context.
 */
export function evaluateAccess(request: AccessRequest, documents: AccessDocuments): AccessDecision {
  const reasons: string[] = [];
  const hasBoundary = documents.permissionsBoundary !== null;
  const crossAccount = request.role.account !== request.resource.account;
  const kms = documents.resourceIsKmsKey;

  const identity = documents.identityPolicies.flatMap((p) => evaluateDocument(p, request, false, hasBoundary));
  const boundary = documents.permissionsBoundary ? evaluateDocument(documents.permissionsBoundary, request, false, hasBoundary) : [];
  const resourcePolicy = documents.resourcePolicy;
  const resource = resourcePolicy && resourcePolicy !== 'unreadable' ? evaluateDocument(resourcePolicy, request, true, hasBoundary) : [];
  for (const e of [...identity, ...boundary, ...resource]) reasons.push(e.reason);

  const allowsOf = (list: StatementEval[]) => list.filter((e) => e.ref.effect === 'Allow');
  const denysOf = (list: StatementEval[]) => list.filter((e) => e.ref.effect === 'Deny');
  const resourceApplies = (e: StatementEval) => and([e.matches, or([e.principal!.direct, e.principal!.account])]);

  // Explicit denies: identity, boundary, resource (where its principal covers the caller).
  const denies: { e: StatementEval; applies: Tri }[] = [
    ...denysOf(identity).map((e) => ({ e, applies: e.matches })),
    ...denysOf(boundary).map((e) => ({ e, applies: e.matches })),
    ...denysOf(resource).map((e) => ({ e, applies: resourceApplies(e) })),
  ];
  const denied = or([...denies.map((d) => d.applies), ...(resourcePolicy === 'unreadable' ? ['unknown' as const] : [])]);

  const I = or(allowsOf(identity).map((e) => e.matches));
  const B: Tri = hasBoundary ? or(allowsOf(boundary).map((e) => e.matches)) : true;
  const rAllows = allowsOf(resource);
  const unreadable = resourcePolicy === 'unreadable';
  const Rdirect = or([...rAllows.map((e) => and([e.matches, e.principal!.direct])), ...(unreadable ? ['unknown' as const] : [])]);
  const Raccount = or([...rAllows.map((e) => and([e.matches, e.principal!.account])), ...(unreadable ? ['unknown' as const] : [])]);
  // Direct allows that name `*`: within one account their relation to a boundary is undocumented.
  const RdirectNamed = or(rAllows.map((e) => and([e.matches, e.principal!.direct, !e.principal!.wildcard])));
  const RdirectWildcard = or(rAllows.map((e) => and([e.matches, e.principal!.direct, e.principal!.wildcard])));

  // Grants (KMS keys): a resource-side Allow for the grantee.
  const grants = kms ? documents.grants ?? [] : [];
  const G: Tri = grants === 'unreadable' ? 'unknown' : or(grants.map((g) => grantAdmits(g, request)));

  const undecided: string[] = [];
  let granted: Tri;
  if (!crossAccount) {
    const identityPath = kms ? and([Raccount, I, B]) : and([I, B]);
    // A resource policy naming the role ARN is limited by the boundary; `*` is not documented.
    const wildcardPath: Tri = RdirectWildcard === false ? false : B === true ? RdirectWildcard : RdirectWildcard === true && B === false ? 'unknown' : and([RdirectWildcard, 'unknown']);
    const grantPath: Tri = G === false ? false : and([G, I, B]) === true ? true : 'unknown';
    granted = or([identityPath, and([RdirectNamed, B]), wildcardPath, grantPath]);
  } else {
    const grantPath: Tri = G === false ? false : and([G, I, B]) === true ? true : 'unknown';
    granted = or([and([I, B, or([Rdirect, Raccount])]), grantPath]);
  }
  const organizations: Tri = documents.organizationPolicies === 'none' ? true : 'unknown';
  const allowed = and([granted, not(denied), organizations]);
  const verdict: AccessVerdict = allowed === true ? 'allow' : allowed === false ? 'deny' : 'cannot-decide';

  // ---- naming what decides ----
  const firstTrue = (list: StatementEval[], pick: (e: StatementEval) => Tri) => list.find((e) => pick(e) === true)?.ref;
  let refusedBy: AccessDecision['refusedBy'] = null;
  const allowedBy: StatementRef[] = [];
  if (verdict === 'deny') {
    const deny = denies.find((d) => d.applies === true);
    const rp = resourcePolicy && resourcePolicy !== 'unreadable' ? resourcePolicy : null;
    const resourceName = rp?.name ?? (kms ? 'key policy' : 'resource policy');
    const resourceKind: PolicyKind = kms ? 'key-policy' : 'resource';
    if (deny) refusedBy = { kind: deny.e.ref.kind, document: deny.e.ref.document, account: deny.e.ref.account, statement: deny.e.ref, why: `explicitly denies ${request.action}` };
    else if (granted !== false) refusedBy = null;
    else {
      const identityDoc = { kind: 'identity' as const, document: `identity policies of ${request.role.arn}`, account: request.role.account };
      const noIdentity = { ...identityDoc, why: `no statement allows ${request.action} on ${request.resource.arn}` };
      const noResource = {
        kind: resourceKind,
        document: resourceName,
        account: request.resource.account,
        why: rp === null ? `the resource has no ${kms ? 'key policy' : 'resource policy'}` : `no statement admits ${request.role.arn} (or its account) for ${request.action}`,
      };
      const noBoundary = documents.permissionsBoundary
        ? { kind: 'boundary' as const, document: documents.permissionsBoundary.name, account: documents.permissionsBoundary.account, why: `the permissions boundary does not allow ${request.action} on ${request.resource.arn}` }
        : null;
      if (crossAccount) {
        if (Rdirect === false && Raccount === false) refusedBy = noResource;
        else if (I === false) refusedBy = noIdentity;
        else if (B === false && noBoundary) refusedBy = noBoundary;
      } else if (kms) {
        if (Rdirect === false && Raccount === false) refusedBy = noResource;
        else if (Raccount === true && I === false) refusedBy = noIdentity;
        else if (B === false && noBoundary) refusedBy = noBoundary;
      } else if (I === false) refusedBy = { ...noIdentity, why: `${noIdentity.why}, and the resource policy does not admit the role either` };
      else if (B === false && noBoundary) refusedBy = noBoundary;
      refusedBy ??= { ...noIdentity, why: `no policy allows ${request.action} on ${request.resource.arn}` };
    }
  } else if (verdict === 'allow') {
    const i = firstTrue(allowsOf(identity), (e) => e.matches);
    const b = firstTrue(allowsOf(boundary), (e) => e.matches);
    const r = firstTrue(rAllows, (e) => and([e.matches, or([e.principal!.direct, e.principal!.account])]));
    if (i && (crossAccount || kms || I === true)) allowedBy.push(i);
    if (b) allowedBy.push(b);
    if (r) allowedBy.push(r);
  } else {
    for (const e of [...identity, ...boundary, ...resource]) if (e.reason.includes('irsa cannot decide')) undecided.push(e.reason);
    if (resourcePolicy === 'unreadable') undecided.push(`irsa could not read the ${kms ? 'key policy' : 'resource policy'} in account ${request.resource.account}`);
    if (grants === 'unreadable') undecided.push(`irsa could not list the key's grants in account ${request.resource.account}`);
    if (G !== false && grants !== 'unreadable') undecided.push('a KMS grant admits the role, but its identity policies do not decide it');
    if (documents.organizationPolicies === 'unreadable') undecided.push('an organization\'s SCPs or RCPs may deny; irsa cannot read them');
    if (undecided.length === 0) undecided.push('a wildcard principal within one account next to a permissions boundary (undocumented)');
  }
  return { verdict, allowed: verdict === 'allow', allowedBy, refusedBy, reasons, undecided };
}
