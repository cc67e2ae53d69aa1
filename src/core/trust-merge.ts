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

function statementsOf(document: PolicyDocument | null): PolicyStatement[] {
  if (!document) return [];
  const raw = (document as { Statement?: unknown }).Statement;
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw as PolicyStatement];
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
  return statementsOf(document).map((statement, index) => {
    const irsa = readIrsaStatement(statement);
    const sid = typeof statement?.Sid === 'string' ? statement.Sid : undefined;
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
  ref: { subject: string; providerArn?: string },
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
  return {
    document: result,
    changed,
    remaining: statements.length,
    statements: describeStatements(result),
    notes: keptNotes(statements, ref.subject, 'may still admit it; edit or remove that statement yourself'),
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
  return { document: changed ? merged : (document ?? merged), changed, statements: describeStatements(merged), notes: [] };
}

/** The audience irsa writes when none is given. */
export { DEFAULT_AUDIENCE };
