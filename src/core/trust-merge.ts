// Exact merge of one ServiceAccount subject into (or out of) an existing trust policy.
//
// The rule: irsa edits only statements whose meaning it knows completely ("irsa-shaped"
// statements, the exact shape buildTrustPolicy writes and eksctl/terraform generate). Every other
// statement stays as it was written, and irsa adds its own statement beside it. Then adding subject
// S changes the set of admitted tokens by exactly S, and removing S removes exactly the requests
// irsa's own statements admitted for S (a kept statement that also admits S keeps doing so, and
// the result says so).
//
// Why not parse-and-rebuild: a statement with a third condition key (aws:SourceVpc), StringEquals
// and StringLike on :sub in one statement (AND), no aud condition, or an aud pattern has a meaning
// the FederatedTrust model cannot hold; rebuilding it widens or narrows trust (issue 10).

import { evaluateTrust, trustStatements } from './trust-eval.ts';
import {
  buildTrustPolicy,
  DEFAULT_AUDIENCE,
  WEB_IDENTITY_ACTION,
  type ConditionBlock,
  type FederatedTrust,
  type PolicyDocument,
  type PolicyStatement,
} from './trust-policy.ts';

export type SubjectOperator = 'StringEquals' | 'StringLike';

export interface SubjectRef {
  providerArn: string;
  /** The provider's issuer without scheme (the condition key prefix). */
  issuerHostPath: string;
  /** `system:serviceaccount:<ns>:<name>`, or a pattern with operator StringLike. */
  subject: string;
  audience: string;
  operator: SubjectOperator;
}

/** One irsa-shaped statement, read back: provider, issuer, operator on :sub, subjects, audience. */
export interface IrsaStatement {
  providerArn: string;
  issuerHostPath: string;
  operator: SubjectOperator;
  subjects: string[];
  audience: string;
}

export interface StatementOwner {
  /** Index in the new document's Statement list. */
  index: number;
  owner: 'irsa' | 'kept';
  sid?: string;
  /** For people: what the statement is. */
  summary: string;
}

export interface TrustMerge {
  document: PolicyDocument;
  /** Whether the document differs from the input (new statement, subject added or removed). */
  changed: boolean;
  statements: StatementOwner[];
  /** For people: kept statements that also name the subject, a subject still admitted elsewhere. */
  notes: string[];
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'Action', 'Condition']);

const single = (value: unknown): string | null => {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return null;
};

const stringList = (value: unknown): string[] | null => {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string')) return value as string[];
  return null;
};

/**
 * A value holding an IAM policy variable (`${...}`) is substituted from the request before it is
 * compared, so it is never a literal subject: `StringLike {"<issuer>:sub": "${<issuer>:sub}"}`
 * admits every ServiceAccount of the issuer. IAM User Guide, "IAM policy elements: Variables and
 * tags": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
export const hasPolicyVariable = (value: string): boolean => value.includes('${');

/** `arn:<partition>:iam::<account>:oidc-provider/<host/path>` → `<host/path>`, else null. */
export function providerHostPath(providerArn: string): string | null {
  const match = /^arn:[^:]+:iam::\d{12}:oidc-provider\/(.+)$/.exec(providerArn);
  return match ? match[1]! : null;
}

/**
 * The statement's meaning when irsa knows it completely, else null. The shape: Allow, Principal
 * exactly one Federated provider, Action exactly sts:AssumeRoleWithWebIdentity, Condition exactly
 * `<op> {<issuer>:sub: values}` (op StringEquals or StringLike) and `StringEquals {<issuer>:aud:
 * one value}`, where <issuer> is the provider's own host/path. Nothing else (an optional Sid is
 * fine: it has no effect on evaluation). For such a statement, adding a value to the :sub list
 * admits exactly the requests with that subject and audience, and removing one removes exactly them.
 */
export function readIrsaStatement(statement: PolicyStatement): IrsaStatement | null {
  if (!statement || typeof statement !== 'object' || Array.isArray(statement)) return null;
  if (Object.keys(statement).some((key) => !STATEMENT_KEYS.has(key))) return null;
  if (statement.Sid !== undefined && typeof statement.Sid !== 'string') return null;
  if (statement.Effect !== 'Allow') return null;
  const principal = statement.Principal;
  if (!principal || typeof principal !== 'object' || Object.keys(principal).length !== 1) return null;
  const providerArn = single(principal.Federated);
  if (!providerArn) return null;
  const hostPath = providerHostPath(providerArn);
  if (!hostPath) return null;
  if (single(statement.Action) !== WEB_IDENTITY_ACTION) return null;
  const condition = statement.Condition;
  if (!condition || typeof condition !== 'object') return null;
  const subKey = `${hostPath}:sub`;
  const audKey = `${hostPath}:aud`;
  let operator: SubjectOperator | null = null;
  let subjects: string[] | null = null;
  let audience: string | null = null;
  for (const [op, entries] of Object.entries(condition)) {
    if (op !== 'StringEquals' && op !== 'StringLike') return null;
    if (!entries || typeof entries !== 'object' || Array.isArray(entries) || Object.keys(entries).length === 0) return null;
    for (const [key, value] of Object.entries(entries)) {
      if (key === subKey && subjects === null) {
        subjects = stringList(value);
        operator = op;
        if (!subjects) return null;
      } else if (key === audKey && op === 'StringEquals' && audience === null) {
        audience = single(value);
        if (audience === null) return null;
      } else {
        return null; // another key, a second :sub operator (AND), an aud pattern, a key of another issuer
      }
    }
  }
  if (!operator || !subjects || audience === null) return null;
  // A policy variable makes the statement's meaning depend on the request: foreign, kept as written.
  if (subjects.some(hasPolicyVariable) || hasPolicyVariable(audience)) return null;
  return { providerArn, issuerHostPath: hostPath, operator, subjects, audience };
}

const oneOrMany = (values: string[]): string | string[] => (values.length === 1 ? values[0]! : values);

/** A new irsa statement (the same shape buildTrustPolicy writes). */
export function irsaStatement(ref: Omit<IrsaStatement, 'subjects'> & { subjects: string[] }): PolicyStatement {
  const subjects = [...new Set(ref.subjects)].sort();
  const condition: ConditionBlock = { [ref.operator]: { [`${ref.issuerHostPath}:sub`]: oneOrMany(subjects) } };
  condition['StringEquals'] = { ...(condition['StringEquals'] ?? {}), [`${ref.issuerHostPath}:aud`]: ref.audience };
  return { Effect: 'Allow', Principal: { Federated: ref.providerArn }, Action: WEB_IDENTITY_ACTION, Condition: condition };
}

/** The statements, the way the evaluator lists them (one reading for merge, prune and evaluation). */
const statementsOf = (document: PolicyDocument | null): PolicyStatement[] => trustStatements(document);

/** One statement as irsa reads it: irsa's own (its meaning known completely) or kept as written. */
export interface TrustReading {
  /** 0-based index in the document's Statement list. */
  index: number;
  statement: PolicyStatement;
  sid?: string;
  /** "statement 2 (Sid)": how plans and notes name it (1-based, as people count). */
  label: string;
  irsa: IrsaStatement | null;
}

/** The one trust reader: merge, prune, unbind notes and doctor all read statements through it. */
export function readTrust(document: PolicyDocument | null): TrustReading[] {
  return statementsOf(document).map((statement, index) => {
    const sid = statement && typeof statement === 'object' && typeof statement.Sid === 'string' && statement.Sid ? statement.Sid : undefined;
    return {
      index,
      statement,
      ...(sid !== undefined ? { sid } : {}),
      label: `statement ${index + 1}${sid !== undefined ? ` (${sid})` : ''}`,
      irsa: readIrsaStatement(statement),
    };
  });
}

const SUBJECT = /^system:serviceaccount:([^:*?${}]+):([^:*?${}]+)$/;

/**
 * ServiceAccounts (`namespace/name`) that statements of this provider name literally: the exact
 * subjects of irsa's statements and literal values under a positive StringEquals on the issuer's
 * :sub in kept Allow statements. For finding ServiceAccounts that may point at a role (prune), not
 * for deciding admission (that is trust-eval's). Patterns and policy variables name nobody.
 */
export function namedServiceAccounts(document: PolicyDocument | null, providerArn: string): string[] {
  const hostPath = providerHostPath(providerArn);
  const found = new Set<string>();
  for (const { statement, irsa } of readTrust(document)) {
    let values: string[] = [];
    if (irsa) {
      if (irsa.providerArn === providerArn && irsa.operator === 'StringEquals') values = irsa.subjects;
    } else if (hostPath && statement && typeof statement === 'object' && statement.Effect === 'Allow') {
      const principal = statement.Principal;
      const federated = principal && typeof principal === 'object' ? stringList(principal.Federated) ?? [] : [];
      if (!federated.includes(providerArn)) continue;
      for (const [op, entries] of Object.entries(statement.Condition ?? {})) {
        if (op !== 'StringEquals' || !entries || typeof entries !== 'object') continue;
        for (const [key, value] of Object.entries(entries)) {
          if (key.toLowerCase() === `${hostPath}:sub`.toLowerCase()) values.push(...(stringList(value) ?? []));
        }
      }
    }
    for (const value of values) {
      const match = SUBJECT.exec(value);
      if (match) found.add(`${match[1]}/${match[2]}`);
    }
  }
  return [...found].sort();
}

function withStatements(document: PolicyDocument | null, statements: PolicyStatement[]): PolicyDocument {
  // Everything else at the top level (Version, Id) stays as written.
  return { ...(document ?? { Version: '2012-10-17' }), Version: document?.Version ?? '2012-10-17', Statement: statements };
}

function matches(ref: Pick<SubjectRef, 'providerArn' | 'issuerHostPath' | 'operator' | 'audience'>, statement: IrsaStatement): boolean {
  return (
    statement.providerArn === ref.providerArn &&
    statement.issuerHostPath === ref.issuerHostPath &&
    statement.operator === ref.operator &&
    statement.audience === ref.audience
  );
}

/** Which statements are irsa's and which are kept, for the plan. */
export function describeStatements(document: PolicyDocument | null): StatementOwner[] {
  return readTrust(document).map(({ index, irsa, sid }) => {
    const summary = irsa
      ? `${irsa.operator} ${irsa.issuerHostPath}:sub ${irsa.subjects.join(', ')} (aud ${irsa.audience})`
      : 'kept as written (irsa does not edit statements it does not fully understand)';
    return { index, owner: irsa ? 'irsa' : 'kept', ...(sid !== undefined ? { sid } : {}), summary };
  });
}

/** Whether a kept statement mentions the subject literally (so the plan can say it stays there). */
function keptMentions(statement: PolicyStatement, subject: string): boolean {
  return JSON.stringify(statement.Condition ?? {}).includes(JSON.stringify(subject));
}

/** Every OIDC provider a statement names in Principal.Federated. */
function federatedProviders(document: PolicyDocument | null): string[] {
  const found = new Set<string>();
  for (const { statement } of readTrust(document)) {
    const principal = statement && typeof statement === 'object' ? statement.Principal : undefined;
    const federated = principal && typeof principal === 'object' ? stringList(principal.Federated) ?? [] : [];
    for (const arn of federated) if (providerHostPath(arn)) found.add(arn);
  }
  return [...found].sort();
}

function keptNotes(statements: PolicyStatement[], subject: string, verb: string): string[] {
  const notes: string[] = [];
  statements.forEach((statement, index) => {
    if (readIrsaStatement(statement) === null && keptMentions(statement, subject)) {
      const label = `statement ${index + 1}${typeof statement?.Sid === 'string' ? ` (${statement.Sid})` : ''}`;
      notes.push(`${label} also names ${subject}; irsa keeps it as written and ${verb}`);
    }
  });
  return notes;
}

/** A value that matches no audience a policy names: "any other audience". */
const OTHER_AUDIENCE = 'irsa.invalid/any-other-audience';

/**
 * Audiences worth asking about: every value a statement compares :aud with (a pattern also by a
 * value it matches), the default, the given ones, and one that no statement names. A pod running as
 * the ServiceAccount can request a token of any audience (a projected volume sets it), so a trust
 * that admits the subject with any audience still lets such a pod become the role.
 */
function candidateAudiences(document: PolicyDocument | null, given: string[]): string[] {
  const found = new Set<string>([DEFAULT_AUDIENCE, ...given]);
  for (const { statement } of readTrust(document)) {
    if (!statement || typeof statement !== 'object') continue;
    for (const entries of Object.values(statement.Condition ?? {})) {
      if (!entries || typeof entries !== 'object') continue;
      for (const [key, value] of Object.entries(entries)) {
        if (!key.toLowerCase().endsWith(':aud')) continue;
        for (const item of stringList(value) ?? []) {
          if (hasPolicyVariable(item)) continue;
          found.add(item);
          if (/[*?]/.test(item)) found.add(item.replace(/\*/g, 'x').replace(/\?/g, 'a'));
        }
      }
    }
  }
  found.add(OTHER_AUDIENCE);
  return [...found];
}

export interface StillAdmitted {
  subject: string;
  providerArn: string;
  /** 0-based statements that admit the subject (for some audience), with the audiences. */
  admittedBy: Array<{ index: number; label: string; audiences: string[] }>;
  /** Why irsa cannot decide for some audience (empty when it can). */
  undecided: string[];
}

/**
 * Whether `document` still lets a token of `subject` from `providerArn`'s issuer assume the role,
 * evaluated with IAM's rules (trust-eval) for every audience that could matter. Null when not.
 */
export function stillAdmitted(document: PolicyDocument | null, subject: string, providerArn: string, audiences: string[] = []): StillAdmitted | null {
  const hostPath = providerHostPath(providerArn);
  if (!document || !hostPath) return null;
  const byStatement = new Map<number, Set<string>>();
  const undecided = new Set<string>();
  for (const audience of candidateAudiences(document, audiences)) {
    const evaluation = evaluateTrust(document, providerArn, { iss: `https://${hostPath}`, sub: subject, aud: [audience] });
    if (evaluation.verdict === 'allow' && evaluation.matchedStatement !== null) {
      const set = byStatement.get(evaluation.matchedStatement) ?? new Set<string>();
      set.add(audience);
      byStatement.set(evaluation.matchedStatement, set);
    } else if (evaluation.verdict === 'cannot-decide') {
      for (const reason of evaluation.undecided) undecided.add(reason);
    }
  }
  if (byStatement.size === 0 && undecided.size === 0) return null;
  const labels = readTrust(document);
  return {
    subject,
    providerArn,
    admittedBy: [...byStatement].sort(([a], [b]) => a - b).map(([index, set]) => ({ index, label: labels[index]!.label, audiences: [...set] })),
    undecided: [...undecided],
  };
}

/** The plan's words for a subject that stays admitted after it was removed. */
export function stillAdmittedNotes(found: StillAdmitted | null, document: PolicyDocument | null): string[] {
  if (!found) return [];
  const readings = readTrust(document);
  const notes = found.admittedBy.map(({ index, label, audiences }) => {
    const irsa = readings[index]?.irsa;
    const what = irsa ? `irsa's ${irsa.operator} ${irsa.subjects.join(', ')}` : 'kept as written';
    const audience = audiences.includes(OTHER_AUDIENCE) ? 'with any audience' : `with audience ${audiences.join(', ')}`;
    return `${label} (${what}) still admits ${found.subject} ${audience}: a pod running as it can still assume this role; edit or remove that statement to unbind it`;
  });
  if (found.undecided.length > 0) {
    const reasons = found.undecided.map((reason) => reason.replace(': irsa cannot decide: ', ': '));
    notes.push(`the trust may still admit ${found.subject}: irsa cannot decide (${reasons.join('; ')}); check those statements yourself`);
  }
  return notes;
}

/**
 * Adds one subject: into an irsa statement of the same provider, issuer, operator and audience when
 * there is one, else as a new irsa statement at the end. Other statements are not touched.
 */
export function addSubject(document: PolicyDocument | null, ref: SubjectRef): TrustMerge {
  const statements = [...statementsOf(document)];
  let changed = false;
  let placed = false;
  for (let index = 0; index < statements.length && !placed; index++) {
    const irsa = readIrsaStatement(statements[index]!);
    if (!irsa || !matches(ref, irsa)) continue;
    placed = true;
    if (irsa.subjects.includes(ref.subject)) break;
    const original = statements[index]!;
    const subjects = [...irsa.subjects, ref.subject].sort();
    statements[index] = {
      ...original,
      Condition: {
        ...original.Condition,
        [ref.operator]: { ...original.Condition![ref.operator], [`${ref.issuerHostPath}:sub`]: subjects },
      },
    };
    changed = true;
  }
  if (!placed) {
    statements.push(irsaStatement({ ...ref, subjects: [ref.subject] }));
    changed = true;
  }
  const result = changed ? withStatements(document, statements) : (document ?? withStatements(null, statements));
  return {
    document: result,
    changed,
    statements: describeStatements(result),
    notes: keptNotes(statements, ref.subject, 'admits the subject with its own conditions; irsa\'s statement admits it as asked'),
  };
}

/**
 * Removes one subject from every irsa statement of the provider (any operator, any audience) where
 * it is listed literally; a statement left without subjects goes. Kept statements are not touched.
 * `providerArn` undefined: from every provider's statements.
 */
export function removeSubject(
  document: PolicyDocument,
  ref: { subject: string; providerArn?: string; audiences?: string[] },
): TrustMerge & { remaining: number } {
  const statements: PolicyStatement[] = [];
  let changed = false;
  for (const statement of statementsOf(document)) {
    const irsa = readIrsaStatement(statement);
    if (!irsa || (ref.providerArn !== undefined && irsa.providerArn !== ref.providerArn) || !irsa.subjects.includes(ref.subject)) {
      statements.push(statement);
      continue;
    }
    changed = true;
    const subjects = irsa.subjects.filter((subject) => subject !== ref.subject);
    if (subjects.length === 0) continue;
    statements.push({
      ...statement,
      Condition: {
        ...statement.Condition,
        [irsa.operator]: { ...statement.Condition![irsa.operator], [`${irsa.issuerHostPath}:sub`]: oneOrMany(subjects) },
      },
    });
  }
  const result = changed ? withStatements(document, statements) : document;
  // Said for every provider the removal was about: what IAM will still admit, not what is written.
  const providers = ref.providerArn !== undefined ? [ref.providerArn] : federatedProviders(result);
  return {
    document: result,
    changed,
    remaining: statements.length,
    statements: describeStatements(result),
    notes: providers.flatMap((providerArn) => stillAdmittedNotes(stillAdmitted(result, ref.subject, providerArn, ref.audiences ?? []), result)),
  };
}

/**
 * Exact mode (irsa.yaml): the irsa statements of `providerArns` hold exactly `trusts`; irsa
 * statements of other providers (another cluster, blue/green) and kept statements stay.
 */
export function replaceSubjects(document: PolicyDocument | null, providerArns: string[], trusts: FederatedTrust[]): TrustMerge {
  const managed = new Set(providerArns);
  // The managed providers' statements in buildTrustPolicy's order, where the first of them was
  // (else at the end), so re-runs diff clean and kept statements keep their places.
  const built = buildTrustPolicy(trusts).Statement;
  const statements: PolicyStatement[] = [];
  let inserted = false;
  for (const statement of statementsOf(document)) {
    const irsa = readIrsaStatement(statement);
    if (!irsa || !managed.has(irsa.providerArn)) statements.push(statement);
    else if (!inserted) {
      statements.push(...built);
      inserted = true;
    }
  }
  if (!inserted) statements.push(...built);
  const merged = withStatements(document, statements);
  const changed = document === null || JSON.stringify(merged) !== JSON.stringify(withStatements(document, statementsOf(document)));
  // ServiceAccounts the file no longer names but a kept statement (or a pattern) still admits.
  const wanted = new Set(trusts.flatMap((trust) => trust.subjects.map((subject) => `${trust.providerArn}\u0000${subject}`)));
  const removed = new Map<string, { providerArn: string; subject: string; audiences: string[] }>();
  for (const { irsa } of readTrust(document)) {
    if (!irsa || !managed.has(irsa.providerArn) || irsa.operator !== 'StringEquals') continue;
    for (const subject of irsa.subjects) {
      const key = `${irsa.providerArn}\u0000${subject}`;
      if (wanted.has(key)) continue;
      const entry = removed.get(key) ?? { providerArn: irsa.providerArn, subject, audiences: [] };
      entry.audiences.push(irsa.audience);
      removed.set(key, entry);
    }
  }
  const notes = changed
    ? [...removed.values()].flatMap(({ providerArn, subject, audiences }) => stillAdmittedNotes(stillAdmitted(merged, subject, providerArn, audiences), merged))
    : [];
  return { document: changed ? merged : (document ?? merged), changed, statements: describeStatements(merged), notes };
}

/** The audience irsa writes when none is given. */
export { DEFAULT_AUDIENCE };
