// Trust policies for EKS Pod Identity: the role an association names trusts the service principal
// pods.eks.amazonaws.com, and (cross-account) the target role trusts that role.
//
// Sources (Amazon EKS User Guide):
// - "Create IAM role with trust policy required by EKS Pod Identity" (pod-id-role.html): Principal
//   `Service: pods.eks.amazonaws.com`, Action `sts:AssumeRole` + `sts:TagSession`; the session tags
//   can be used as `aws:RequestTag/kubernetes-namespace` and `aws:RequestTag/kubernetes-service-account`
//   conditions to restrict which ServiceAccounts can use the role.
// - "List of session tags added by EKS Pod Identity" (pod-id-abac.html): eks-cluster-arn,
//   eks-cluster-name, kubernetes-namespace, kubernetes-service-account, kubernetes-pod-name,
//   kubernetes-pod-uid. With `disableSessionTags` none are sent, so a trust that conditions on
//   them admits nothing: such a binding can only be narrowed to its cluster.
// - "Cross-service confused deputy prevention in Amazon EKS": condition a service principal's
//   trust on `aws:SourceAccount` and `aws:SourceArn` (here the cluster's ARN) so that only this
//   account's cluster can use it. An unconditioned pods.eks trust lets any association in the
//   account (anyone allowed to create one and pass the role) use the role.
//
// The exactness rule is the one core/trust-merge.ts follows for IRSA: irsa edits only statements
// whose meaning it knows completely (the shape podIdentityStatement writes, one statement per
// (cluster, namespace) with its ServiceAccounts); every other statement stays byte-for-byte as
// written. One statement per (cluster, namespace) because conditions on different keys are AND'ed:
// namespaces [a, b] and ServiceAccounts [x, y] in one statement would also admit a/y and b/x.

import { parseArn } from './arn.ts';
import type { ConditionBlock, PolicyDocument, PolicyStatement } from './trust-policy.ts';

export const PODS_EKS_SERVICE = 'pods.eks.amazonaws.com';
export const POD_IDENTITY_ACTIONS = ['sts:AssumeRole', 'sts:TagSession'] as const;
export const SOURCE_ACCOUNT_KEY = 'aws:SourceAccount';
export const SOURCE_ARN_KEY = 'aws:SourceArn';
export const NAMESPACE_TAG_KEY = 'aws:RequestTag/kubernetes-namespace';
export const SERVICE_ACCOUNT_TAG_KEY = 'aws:RequestTag/kubernetes-service-account';
export const PRINCIPAL_ARN_KEY = 'aws:PrincipalARN';
export const EXTERNAL_ID_KEY = 'sts:ExternalId';

/** One ServiceAccount of one cluster that may use the role through an association. */
export interface PodIdentitySubject {
  /** arn:<partition>:eks:<region>:<account>:cluster/<name> */
  clusterArn: string;
  namespace: string;
  serviceAccount: string;
  /**
   * False when the association disables session tags: the trust then cannot name the
   * ServiceAccount and admits every association of the cluster that names the role.
   */
  sessionTags: boolean;
}

/** An irsa-shaped pods.eks statement, read back. */
export interface PodIdentityStatement {
  clusterArn: string;
  account: string;
  /** Null for a cluster-wide statement (no session-tag conditions). */
  namespace: string | null;
  serviceAccounts: string[];
}

export interface PodTrustMerge {
  document: PolicyDocument;
  changed: boolean;
  /** For people: kept statements that also admit pods.eks, what stays admitted. */
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

const oneOrMany = (values: string[]): string | string[] => {
  const sorted = [...new Set(values)].sort();
  return sorted.length === 1 ? sorted[0]! : sorted;
};

/** The account of an EKS cluster ARN, or null when it is not one. */
export function clusterArnAccount(clusterArn: string): string | null {
  const arn = parseArn(clusterArn);
  return arn && arn.service === 'eks' && /^\d{12}$/.test(arn.account) && /^cluster\/[^/]+$/.test(arn.resource) ? arn.account : null;
}

/** The statement irsa writes for one cluster and namespace (or the whole cluster, namespace null). */
export function podIdentityStatement(ref: { clusterArn: string; namespace: string | null; serviceAccounts: string[] }): PolicyStatement {
  const account = clusterArnAccount(ref.clusterArn);
  if (!account) throw new Error(`not an EKS cluster ARN: ${ref.clusterArn}`);
  const equals: Record<string, string | string[]> = { [SOURCE_ACCOUNT_KEY]: account };
  if (ref.namespace !== null) {
    equals[NAMESPACE_TAG_KEY] = ref.namespace;
    equals[SERVICE_ACCOUNT_TAG_KEY] = oneOrMany(ref.serviceAccounts);
  }
  const condition: ConditionBlock = { StringEquals: equals, ArnEquals: { [SOURCE_ARN_KEY]: ref.clusterArn } };
  return { Effect: 'Allow', Principal: { Service: PODS_EKS_SERVICE }, Action: [...POD_IDENTITY_ACTIONS], Condition: condition };
}

/**
 * The statement's meaning when it is exactly irsa's shape, else null: Allow, Principal exactly
 * `{Service: pods.eks.amazonaws.com}`, Action exactly sts:AssumeRole + sts:TagSession, Condition
 * exactly `StringEquals {aws:SourceAccount: A[, …/kubernetes-namespace: N, …/kubernetes-service-account:
 * [S…]]}` and `ArnEquals {aws:SourceArn: <one cluster ARN of account A>}`. An optional Sid is fine.
 */
export function readPodIdentityStatement(statement: PolicyStatement): PodIdentityStatement | null {
  if (!statement || typeof statement !== 'object' || Array.isArray(statement)) return null;
  if (Object.keys(statement).some((key) => !STATEMENT_KEYS.has(key))) return null;
  if (statement.Sid !== undefined && typeof statement.Sid !== 'string') return null;
  if (statement.Effect !== 'Allow') return null;
  const principal = statement.Principal;
  if (!principal || typeof principal !== 'object' || Object.keys(principal).length !== 1) return null;
  if (single(principal.Service) !== PODS_EKS_SERVICE) return null;
  const actions = stringList(statement.Action);
  if (!actions || actions.length !== 2 || !POD_IDENTITY_ACTIONS.every((action) => actions.includes(action))) return null;
  const condition = statement.Condition;
  if (!condition || typeof condition !== 'object' || Object.keys(condition).length !== 2) return null;
  const equals = condition['StringEquals'];
  const arnEquals = condition['ArnEquals'];
  if (!equals || !arnEquals || typeof equals !== 'object' || typeof arnEquals !== 'object') return null;
  if (Object.keys(arnEquals).length !== 1) return null;
  const clusterArn = single(arnEquals[SOURCE_ARN_KEY]);
  const account = clusterArn ? clusterArnAccount(clusterArn) : null;
  if (!clusterArn || !account) return null;
  const keys = Object.keys(equals).sort();
  if (single(equals[SOURCE_ACCOUNT_KEY]) !== account) return null;
  if (keys.length === 1) return { clusterArn, account, namespace: null, serviceAccounts: [] };
  const expected = [NAMESPACE_TAG_KEY, SERVICE_ACCOUNT_TAG_KEY, SOURCE_ACCOUNT_KEY].sort();
  if (keys.length !== 3 || keys.some((key, index) => key !== expected[index])) return null;
  const namespace = single(equals[NAMESPACE_TAG_KEY]);
  const serviceAccounts = stringList(equals[SERVICE_ACCOUNT_TAG_KEY]);
  if (namespace === null || !serviceAccounts) return null;
  return { clusterArn, account, namespace, serviceAccounts };
}

function statementsOf(document: PolicyDocument | null): PolicyStatement[] {
  if (!document) return [];
  const raw = (document as { Statement?: unknown }).Statement;
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw as PolicyStatement];
}

function withStatements(document: PolicyDocument | null, statements: PolicyStatement[]): PolicyDocument {
  return { ...(document ?? { Version: '2012-10-17' }), Version: document?.Version ?? '2012-10-17', Statement: statements };
}

/** Whether a statement not of irsa's shape may admit pods.eks (so the plan can say it stays). */
function keptAdmitsPodsEks(statement: PolicyStatement): boolean {
  if (!statement || statement.Effect !== 'Allow') return false;
  return JSON.stringify(statement.Principal ?? statement.NotPrincipal ?? '').includes(PODS_EKS_SERVICE) || statement.Principal === '*';
}

function keptNotes(statements: PolicyStatement[], what: string): string[] {
  const notes: string[] = [];
  statements.forEach((statement, index) => {
    if (readPodIdentityStatement(statement) === null && keptAdmitsPodsEks(statement)) {
      const label = `statement ${index + 1}${typeof statement?.Sid === 'string' ? ` (${statement.Sid})` : ''}`;
      notes.push(`${label} also trusts ${PODS_EKS_SERVICE} with its own conditions; irsa keeps it as written and ${what}`);
    }
  });
  return notes;
}

/**
 * Adds one subject: into the irsa statement of its cluster and namespace when there is one, else
 * as a new statement at the end (with session tags off: the cluster-wide statement). Other
 * statements are not touched.
 */
export function addPodIdentitySubject(document: PolicyDocument | null, subject: PodIdentitySubject): PodTrustMerge {
  const statements = [...statementsOf(document)];
  const namespace = subject.sessionTags ? subject.namespace : null;
  let changed = false;
  let placed = false;
  for (let index = 0; index < statements.length && !placed; index++) {
    const read = readPodIdentityStatement(statements[index]!);
    if (!read || read.clusterArn !== subject.clusterArn || read.namespace !== namespace) continue;
    placed = true;
    if (namespace === null || read.serviceAccounts.includes(subject.serviceAccount)) break;
    const original = statements[index]!;
    statements[index] = {
      ...original,
      Condition: {
        ...original.Condition,
        StringEquals: { ...original.Condition!['StringEquals'], [SERVICE_ACCOUNT_TAG_KEY]: oneOrMany([...read.serviceAccounts, subject.serviceAccount]) },
      },
    };
    changed = true;
  }
  if (!placed) {
    statements.push(podIdentityStatement({ clusterArn: subject.clusterArn, namespace, serviceAccounts: [subject.serviceAccount] }));
    changed = true;
  }
  return {
    document: changed ? withStatements(document, statements) : (document ?? withStatements(null, statements)),
    changed,
    notes: keptNotes(statements, 'it admits what it admits; irsa\'s statement admits the ServiceAccount as asked'),
  };
}

/**
 * Removes one ServiceAccount from irsa's statement of its cluster and namespace; a statement left
 * without ServiceAccounts goes. `clusterWide: true` also removes irsa's cluster-wide statement of
 * that cluster — the caller says so only when no other association of the cluster with session
 * tags disabled still names the role. Kept statements are not touched.
 */
export function removePodIdentitySubject(
  document: PolicyDocument,
  subject: Omit<PodIdentitySubject, 'sessionTags'> & { clusterWide?: boolean },
): PodTrustMerge {
  const statements: PolicyStatement[] = [];
  let changed = false;
  for (const statement of statementsOf(document)) {
    const read = readPodIdentityStatement(statement);
    if (!read || read.clusterArn !== subject.clusterArn) {
      statements.push(statement);
      continue;
    }
    if (read.namespace === null) {
      if (subject.clusterWide) changed = true;
      else statements.push(statement);
      continue;
    }
    if (read.namespace !== subject.namespace || !read.serviceAccounts.includes(subject.serviceAccount)) {
      statements.push(statement);
      continue;
    }
    changed = true;
    const remaining = read.serviceAccounts.filter((name) => name !== subject.serviceAccount);
    if (remaining.length === 0) continue;
    statements.push({
      ...statement,
      Condition: { ...statement.Condition, StringEquals: { ...statement.Condition!['StringEquals'], [SERVICE_ACCOUNT_TAG_KEY]: oneOrMany(remaining) } },
    });
  }
  return {
    document: changed ? withStatements(document, statements) : document,
    changed,
    notes: keptNotes(statements, 'may still admit the ServiceAccount; edit or remove that statement yourself'),
  };
}

/** irsa's statements for a set of subjects, in a deterministic order (cluster, then namespace). */
export function buildPodIdentityStatements(subjects: PodIdentitySubject[]): PolicyStatement[] {
  const byCluster = new Map<string, { wide: boolean; namespaces: Map<string, Set<string>> }>();
  for (const subject of subjects) {
    const entry = byCluster.get(subject.clusterArn) ?? { wide: false, namespaces: new Map<string, Set<string>>() };
    byCluster.set(subject.clusterArn, entry);
    if (!subject.sessionTags) entry.wide = true;
    else {
      const names = entry.namespaces.get(subject.namespace) ?? new Set<string>();
      names.add(subject.serviceAccount);
      entry.namespaces.set(subject.namespace, names);
    }
  }
  const statements: PolicyStatement[] = [];
  for (const clusterArn of [...byCluster.keys()].sort()) {
    const entry = byCluster.get(clusterArn)!;
    if (entry.wide) statements.push(podIdentityStatement({ clusterArn, namespace: null, serviceAccounts: [] }));
    for (const namespace of [...entry.namespaces.keys()].sort()) {
      statements.push(podIdentityStatement({ clusterArn, namespace, serviceAccounts: [...entry.namespaces.get(namespace)!] }));
    }
  }
  return statements;
}

/**
 * Exact mode (irsa.yaml): irsa's pods.eks statements of `clusterArns` hold exactly `subjects`;
 * irsa's statements of other clusters, IRSA statements and kept statements stay where they are.
 */
export function replacePodIdentitySubjects(document: PolicyDocument | null, clusterArns: string[], subjects: PodIdentitySubject[]): PodTrustMerge {
  const managed = new Set(clusterArns);
  const built = buildPodIdentityStatements(subjects.filter((subject) => managed.has(subject.clusterArn)));
  const statements: PolicyStatement[] = [];
  let inserted = false;
  for (const statement of statementsOf(document)) {
    const read = readPodIdentityStatement(statement);
    if (!read || !managed.has(read.clusterArn)) statements.push(statement);
    else if (!inserted) {
      statements.push(...built);
      inserted = true;
    }
  }
  if (!inserted) statements.push(...built);
  const merged = withStatements(document, statements);
  const changed = document === null || JSON.stringify(merged) !== JSON.stringify(withStatements(document, statementsOf(document)));
  return { document: changed ? merged : (document ?? merged), changed, notes: [] };
}

/** The subjects irsa's statements of a document admit (what list/doctor show). */
export function podIdentitySubjectsOf(document: PolicyDocument | null): PodIdentityStatement[] {
  return statementsOf(document).flatMap((statement) => {
    const read = readPodIdentityStatement(statement);
    return read ? [read] : [];
  });
}

/**
 * An Allow statement that trusts pods.eks.amazonaws.com (or every principal) for sts:AssumeRole
 * without any condition: every association in the account that names the role can use it. For
 * the trust lint.
 */
export function isUnconditionedPodsEksStatement(statement: PolicyStatement): boolean {
  if (!statement || statement.Effect !== 'Allow' || statement.Condition !== undefined) return false;
  const principal = statement.Principal;
  const services = principal === '*' ? ['*'] : stringList(principal?.Service) ?? [];
  if (!services.includes(PODS_EKS_SERVICE) && !services.includes('*')) return false;
  const actions = stringList(statement.Action) ?? [];
  return actions.some((action) => ['sts:AssumeRole', 'sts:*', '*'].includes(action));
}

/**
 * Whether a role's trust admits EKS Pod Identity for one association: allow when an irsa-shaped
 * statement names the cluster (and, with session tags, the namespace and ServiceAccount) and no
 * Deny is present; deny when no statement could admit pods.eks at all; cannot-decide when some
 * other statement mentions pods.eks (or any principal) or a Deny is there — irsa does not evaluate
 * statements of shapes it did not write (no false ✓).
 */
export function podIdentityTrustVerdict(document: PolicyDocument | null, subject: PodIdentitySubject): 'allow' | 'deny' | 'cannot-decide' {
  const statements = statementsOf(document);
  let admitted = false;
  let unknown = false;
  for (const statement of statements) {
    if (statement.Effect === 'Deny') {
      unknown = true;
      continue;
    }
    const read = readPodIdentityStatement(statement);
    if (read) {
      if (read.clusterArn !== subject.clusterArn) continue;
      if (read.namespace === null || (subject.sessionTags && read.namespace === subject.namespace && read.serviceAccounts.includes(subject.serviceAccount))) admitted = true;
      continue;
    }
    const principal = statement.Principal;
    const services = principal === '*' ? ['*'] : stringList((principal as { Service?: unknown } | undefined)?.Service) ?? [];
    const awsPrincipals = principal === '*' ? [] : stringList((principal as { AWS?: unknown } | undefined)?.AWS) ?? [];
    if (services.includes(PODS_EKS_SERVICE) || services.includes('*') || awsPrincipals.includes('*') || statement.NotPrincipal !== undefined) unknown = true;
  }
  if (unknown) return 'cannot-decide';
  return admitted ? 'allow' : 'deny';
}

// ---- the target role of a cross-account association ----

/** What the target role must trust: the association's role, and (session tags off) its external id. */
export interface TargetTrustRef {
  /** The association's role (in the cluster's account). */
  sourceRoleArn: string;
  /**
   * The association's externalId, when EKS has issued one (it exists once the association does).
   * EKS passes it on the chained AssumeRole (API Reference, PodIdentityAssociation.externalId).
   */
  externalId: string | null;
}

/**
 * The target role's statement: Principal the source account's root, narrowed with ArnEquals
 * aws:PrincipalARN to the association's role. Why not `Principal: {AWS: <role ARN>}`: IAM stores a
 * role principal by its unique id, so after the role is deleted and re-created the trust shows
 * `AROA…` and no longer admits the new role (IAM User Guide, "Specifying a principal", roles);
 * a condition on the ARN keeps working. Actions sts:AssumeRole + sts:TagSession: the chained
 * call carries the transitive session tags (pod-id-abac.html, "Cross-account tags").
 */
export function targetRoleStatement(ref: TargetTrustRef): PolicyStatement {
  const arn = parseArn(ref.sourceRoleArn);
  if (!arn || arn.service !== 'iam') throw new Error(`not a role ARN: ${ref.sourceRoleArn}`);
  const condition: ConditionBlock = { ArnEquals: { [PRINCIPAL_ARN_KEY]: ref.sourceRoleArn } };
  if (ref.externalId) condition['StringEquals'] = { [EXTERNAL_ID_KEY]: ref.externalId };
  return {
    Effect: 'Allow',
    Principal: { AWS: `arn:${arn.partition}:iam::${arn.account}:root` },
    Action: [...POD_IDENTITY_ACTIONS],
    Condition: condition,
  };
}

/** A target-role statement of exactly irsa's shape, read back. */
export function readTargetRoleStatement(statement: PolicyStatement): TargetTrustRef | null {
  if (!statement || typeof statement !== 'object' || Array.isArray(statement)) return null;
  if (Object.keys(statement).some((key) => !STATEMENT_KEYS.has(key))) return null;
  if (statement.Sid !== undefined && typeof statement.Sid !== 'string') return null;
  if (statement.Effect !== 'Allow') return null;
  const principal = statement.Principal;
  if (!principal || typeof principal !== 'object' || Object.keys(principal).length !== 1) return null;
  const root = single(principal.AWS);
  const actions = stringList(statement.Action);
  if (!root || !actions || actions.length !== 2 || !POD_IDENTITY_ACTIONS.every((action) => actions.includes(action))) return null;
  const condition = statement.Condition;
  if (!condition || typeof condition !== 'object') return null;
  const ops = Object.keys(condition).sort();
  if (!(ops.length === 1 && ops[0] === 'ArnEquals') && !(ops.length === 2 && ops[0] === 'ArnEquals' && ops[1] === 'StringEquals')) return null;
  const arnEquals = condition['ArnEquals']!;
  if (Object.keys(arnEquals).length !== 1) return null;
  const sourceRoleArn = single(arnEquals[PRINCIPAL_ARN_KEY]);
  const arn = sourceRoleArn ? parseArn(sourceRoleArn) : null;
  if (!sourceRoleArn || !arn || arn.service !== 'iam' || root !== `arn:${arn.partition}:iam::${arn.account}:root`) return null;
  let externalId: string | null = null;
  if (condition['StringEquals']) {
    const equals = condition['StringEquals'];
    if (Object.keys(equals).length !== 1) return null;
    externalId = single(equals[EXTERNAL_ID_KEY]);
    if (externalId === null) return null;
  }
  return { sourceRoleArn, externalId };
}

/**
 * Ensures the target role trusts the association's role: replaces irsa's statement for that
 * source role (an external id may have appeared) or appends one. Other statements stay as written.
 */
export function addTargetTrust(document: PolicyDocument | null, ref: TargetTrustRef): PodTrustMerge {
  const wanted = targetRoleStatement(ref);
  const statements = [...statementsOf(document)];
  let changed = false;
  let placed = false;
  for (let index = 0; index < statements.length; index++) {
    const read = readTargetRoleStatement(statements[index]!);
    if (!read || read.sourceRoleArn !== ref.sourceRoleArn) continue;
    if (placed) {
      statements.splice(index--, 1); // a duplicate of irsa's own statement
      changed = true;
      continue;
    }
    placed = true;
    if (read.externalId !== ref.externalId) {
      const sid = statements[index]!.Sid;
      statements[index] = sid !== undefined ? { Sid: sid, ...wanted } : wanted;
      changed = true;
    }
  }
  if (!placed) {
    statements.push(wanted);
    changed = true;
  }
  return { document: changed ? withStatements(document, statements) : (document ?? withStatements(null, statements)), changed, notes: [] };
}

/** Removes irsa's statement(s) trusting `sourceRoleArn` from a target role's trust. */
export function removeTargetTrust(document: PolicyDocument, sourceRoleArn: string): PodTrustMerge {
  const statements = statementsOf(document);
  const kept = statements.filter((statement) => readTargetRoleStatement(statement)?.sourceRoleArn !== sourceRoleArn);
  const changed = kept.length !== statements.length;
  return { document: changed ? withStatements(document, kept) : document, changed, notes: [] };
}

/**
 * A planner's required statements applied to a trust document: each irsa-shaped pods.eks statement
 * is merged subject by subject (addPodIdentitySubject: into the statement of its cluster and
 * namespace), so many ServiceAccounts of one namespace share one statement instead of one statement
 * each (the 2,048-character trust quota is why Pod Identity exists). Returns the statements it did
 * not understand, for the caller's own rule.
 */
export function mergeRequiredPodIdentityStatements(document: PolicyDocument, required: PolicyStatement[]): { document: PolicyDocument; changed: boolean; rest: PolicyStatement[] } {
  let current = document;
  let changed = false;
  const rest: PolicyStatement[] = [];
  for (const statement of required) {
    const read = readPodIdentityStatement(statement);
    if (!read) {
      rest.push(statement);
      continue;
    }
    for (const serviceAccount of read.namespace === null ? [''] : read.serviceAccounts) {
      const merged = addPodIdentitySubject(current, { clusterArn: read.clusterArn, namespace: read.namespace ?? '', serviceAccount, sessionTags: read.namespace !== null });
      if (merged.changed) {
        current = merged.document;
        changed = true;
      }
    }
  }
  return { document: current, changed, rest };
}
