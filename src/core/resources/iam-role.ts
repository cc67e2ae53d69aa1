// Desired state and diff for an IRSA role: the role itself (trust policy, tags, boundary,
// settings), its managed policy attachments and its inline policies.

import type { KindSpec } from './kind.ts';
import { mergeRequiredPodIdentityStatements } from '../pods-eks-trust.ts';
import { changeKey, type Blocker, type Change } from '../plan.ts';
import type { RoleSettings, RoleState, Tags } from '../state.ts';
import { isOwnedByIrsa } from '../ownership.ts';
import { FLAG_TERMS, type FieldPath, type Terms } from '../terms.ts';
import { addSubject, describeStatements, removeSubject, replaceSubjects, type StatementOwner, type TrustMerge } from '../trust-merge.ts';
import {
  buildTrustPolicy,
  policySize,
  samePolicy,
  TRUST_POLICY_SIZE_LIMIT,
  type FederatedTrust,
  type PolicyDocument,
  type PolicyStatement,
} from '../trust-policy.ts';
import type { AttachmentValue, InlinePolicyValue, RoleValue } from './types.ts';

export const DEFAULT_MAX_SESSION_DURATION = 3600;
export const INLINE_POLICY_TOTAL_LIMIT = 10_240;
export const MANAGED_POLICY_DEFAULT_QUOTA = 10;
export const MANAGED_POLICY_MAX_QUOTA = 20;

export interface DesiredRole {
  arn: string;
  name: string;
  path: string;
  account: string;
  /**
   * ensure: add these trusts and attachments, keep others (imperative commands).
   * exact: trusts and attachments are exactly these (the declarative file).
   */
  mode: 'ensure' | 'exact';
  trusts: FederatedTrust[];
  /**
   * Whole statements the trust policy must contain besides the web-identity ones (a binding
   * mechanism's own principal, core/mechanisms/types.ts): added when no equal statement is there.
   */
  requiredStatements?: PolicyStatement[];
  managedPolicyArns: string[];
  /** Inline policies by name; in ensure mode others stay unless `prune`. */
  inlinePolicies: Record<string, unknown>;
  /** Undefined: keep what the role has (or the default on create). */
  description?: string;
  maxSessionDuration?: number;
  permissionsBoundary?: string | null;
  tags: Tags;
  ownershipTags: Tags;
  /** Remove attachments and inline policies that were not asked for. */
  prune: boolean;
  /** Take over a role irsa did not create. */
  adopt: boolean;
  /** Only add trust to an existing role (--attach-role-arn): nothing else is changed. */
  trustOnly: boolean;
  trustPolicySizeLimit?: number;
  /** Keys of changes the role waits for (the OIDC provider). */
  dependsOn: string[];
}

export interface RolePlan {
  changes: Change[];
  warnings: string[];
  /** Conflicts that stop apply (the changes are still planned and shown). */
  blockers: Blocker[];
}

/** How blockers name fields, and which binding they belong to. */
export interface RoleWording {
  terms: Terms;
  binding?: number;
}

export const roleValue = (state: RoleSettings): RoleValue => ({
  name: state.name,
  path: state.path,
  description: state.description,
  maxSessionDuration: state.maxSessionDuration,
  permissionsBoundary: state.permissionsBoundary,
  tags: state.tags,
  trustPolicy: state.trustPolicy,
});

export function desiredTrustPolicy(desired: DesiredRole, observed: RoleState | null): PolicyDocument {
  return desiredTrust(desired, observed).document;
}

/**
 * The role's trust after this plan, with which statements are irsa's and which are kept. New role:
 * built from scratch. Existing role: merged exactly (core/trust-merge.ts) — statements irsa does not
 * fully understand stay as written.
 */
export function desiredTrust(desired: DesiredRole, observed: RoleState | null): TrustMerge {
  return withRequiredStatements(federatedTrust(desired, observed), desired.requiredStatements ?? []);
}

/** Appends each required statement that the document does not already contain (compared canonically). */
function withRequiredStatements(merge: TrustMerge, required: PolicyStatement[]): TrustMerge {
  // EKS Pod Identity's statements merge per (cluster, namespace), like IRSA subjects (core/pods-eks-trust.ts).
  const pods = mergeRequiredPodIdentityStatements(merge.document, required);
  const base: PolicyDocument = pods.document;
  const missing = pods.rest.filter((wanted) => !base.Statement.some((statement) => samePolicy(statement, wanted)));
  if (missing.length === 0) return pods.changed ? { ...merge, document: base, changed: true, statements: describeStatements(base) } : merge;
  const document: PolicyDocument = { ...base, Statement: [...base.Statement, ...missing] };
  return { ...merge, document, changed: true, statements: describeStatements(document) };
}

function federatedTrust(desired: DesiredRole, observed: RoleState | null): TrustMerge {
  if (!observed) {
    const document = buildTrustPolicy(desired.trusts);
    return { document, changed: true, statements: describeStatements(document), notes: [] };
  }
  if (desired.mode === 'exact') {
    // Exact for the providers this file manages; another cluster's trust in the role (blue/green) stays.
    return replaceSubjects(observed.trustPolicy, desired.trusts.map((trust) => trust.providerArn), desired.trusts);
  }
  let merge: TrustMerge = { document: observed.trustPolicy, changed: false, statements: describeStatements(observed.trustPolicy), notes: [] };
  const notes: string[] = [];
  for (const trust of desired.trusts) {
    const subjects = [
      ...trust.subjects.map((subject) => ({ subject, operator: 'StringEquals' as const })),
      ...trust.subjectPatterns.map((subject) => ({ subject, operator: 'StringLike' as const })),
    ];
    for (const { subject, operator } of subjects) {
      const next = addSubject(merge.document, { providerArn: trust.providerArn, issuerHostPath: trust.issuerHostPath, audience: trust.audience, subject, operator });
      notes.push(...next.notes);
      merge = { ...next, changed: merge.changed || next.changed };
    }
  }
  return { ...merge, notes };
}

/** Plan warnings for a merged trust policy: which statements irsa kept as written. */
export function trustMergeWarnings(merge: TrustMerge): string[] {
  const kept = merge.statements.filter((statement) => statement.owner === 'kept');
  if (kept.length === 0) return merge.notes;
  const irsa = merge.statements.filter((statement) => statement.owner === 'irsa');
  const label = (s: StatementOwner) => `${s.index + 1}${s.sid ? ` (${s.sid})` : ''}`;
  return [
    `trust policy: statement${kept.length === 1 ? '' : 's'} ${kept.map(label).join(', ')} kept exactly as written (irsa edits only its own statements${irsa.length > 0 ? `: ${irsa.map(label).join(', ')}` : ''})`,
    ...merge.notes,
  ];
}

export function planRole(desired: DesiredRole, observed: RoleState | null, wording: RoleWording = { terms: FLAG_TERMS }): RolePlan {
  const roleKey = changeKey({ kind: 'iam-role', id: desired.arn });
  const warnings: string[] = [];
  const changes: Change[] = [];
  const blockers: Blocker[] = [];
  const at = (field: FieldPath['field']): FieldPath => ({ field, ...(wording.binding !== undefined ? { binding: wording.binding } : {}) });
  const name = (field: FieldPath['field']) => wording.terms.name(at(field));
  const block = (code: Blocker['code'], field: FieldPath['field'], message: string, fix: string) =>
    blockers.push({ code, resource: roleKey, message, fix, field: name(field), ...(wording.binding !== undefined ? { binding: wording.binding } : {}) });

  if (observed && !desired.adopt && !desired.trustOnly && !isOwnedByIrsa(observed.tags)) {
    block(
      'role-not-owned',
      'adopt',
      `${name('roleName')}: role "${desired.name}" already exists and irsa did not create it (no irsa:managed-by tag).`,
      `${capitalize(wording.terms.enable(at('adopt')))} to let irsa manage it, use ${name('attachRoleArn')} ${observed.arn} to only add this ServiceAccount to its trust policy, or choose another ${name('roleName')}.`,
    );
  }
  if (!observed && desired.trustOnly) {
    block('role-not-found', 'attachRoleArn', `${name('attachRoleArn')}: role ${desired.arn} does not exist.`, `Create it first, or omit ${name('attachRoleArn')} to let irsa create a role.`);
  }

  const trust = desiredTrust(desired, observed);
  const trustPolicy = trust.document;
  const trustWarnings = observed ? trustMergeWarnings(trust) : [];
  const limit = desired.trustPolicySizeLimit ?? TRUST_POLICY_SIZE_LIMIT;
  const size = policySize(trustPolicy);
  if (size > limit) {
    block(
      'trust-policy-too-large',
      'roleName',
      `The trust policy of role "${desired.name}" would be ${size} characters; IAM allows ${limit} (ACLSizePerRole) unless your quota is raised.`,
      `Split the ServiceAccounts over several roles (${name('roleName')}), use one ${name('subjectPattern')} such as system:serviceaccount:<namespace>:* , or set ${name('trustPolicySizeLimit')} if your quota is higher.`,
    );
  }

  const tags = desired.trustOnly ? (observed?.tags ?? {}) : { ...(observed?.tags ?? {}), ...desired.tags, ...desired.ownershipTags };
  const after: RoleValue = {
    name: desired.name,
    path: observed?.path ?? desired.path,
    description: desired.trustOnly ? (observed?.description ?? '') : (desired.description ?? observed?.description ?? ''),
    maxSessionDuration: desired.trustOnly
      ? (observed?.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION)
      : (desired.maxSessionDuration ?? observed?.maxSessionDuration ?? DEFAULT_MAX_SESSION_DURATION),
    permissionsBoundary:
      desired.trustOnly || desired.permissionsBoundary === undefined ? (observed?.permissionsBoundary ?? null) : desired.permissionsBoundary,
    tags,
    trustPolicy,
  };
  if (observed && observed.path !== desired.path && !desired.trustOnly) {
    warnings.push(`role ${desired.name} has path ${observed.path}; IAM cannot change a role's path, so it stays (asked for ${desired.path})`);
  }

  if (!observed) {
    changes.push({ kind: 'iam-role', id: desired.arn, action: 'create', before: null, after, dependsOn: desired.dependsOn, account: desired.account, reason: 'the role does not exist' });
  } else {
    const before = roleValue(observed);
    const same =
      samePolicy(before.trustPolicy, after.trustPolicy) &&
      before.description === after.description &&
      before.maxSessionDuration === after.maxSessionDuration &&
      before.permissionsBoundary === after.permissionsBoundary &&
      JSON.stringify(sortKeys(before.tags)) === JSON.stringify(sortKeys(after.tags));
    changes.push({
      kind: 'iam-role',
      id: desired.arn,
      action: same ? 'no-op' : 'update',
      before,
      after: same ? before : after,
      dependsOn: desired.dependsOn,
      account: desired.account,
      ...(same ? {} : { reason: updateReason(before, after) }),
      ...(!same && trustWarnings.length > 0 ? { warnings: trustWarnings } : {}),
    });
  }
  if (desired.trustOnly) return { changes, warnings, blockers };

  // Managed policy attachments.
  const attached = observed?.attachedPolicyArns ?? [];
  const wantedArns = [...new Set(desired.managedPolicyArns)];
  const keepUnlisted = desired.mode === 'ensure' && !desired.prune;
  const finalCount = new Set([...wantedArns, ...(keepUnlisted ? attached : [])]).size;
  if (finalCount > MANAGED_POLICY_MAX_QUOTA) {
    block(
      'too-many-managed-policies',
      'policyArns',
      `${name('policyArns')}: role "${desired.name}" would have ${finalCount} managed policies; IAM allows at most ${MANAGED_POLICY_MAX_QUOTA} (10 by default).`,
      'Combine permissions into fewer policies or an inline policy.',
    );
  }
  if (finalCount > MANAGED_POLICY_DEFAULT_QUOTA) {
    warnings.push(`role ${desired.name} would have ${finalCount} managed policies; IAM's default quota is ${MANAGED_POLICY_DEFAULT_QUOTA} per role, so attaching fails unless your quota was raised`);
  }
  for (const policyArn of [...new Set([...wantedArns, ...attached])].sort()) {
    const value: AttachmentValue = { roleName: desired.name, policyArn };
    const id = `${desired.arn}#${policyArn}`;
    const base = { kind: 'role-policy-attachment' as const, id, account: desired.account };
    if (wantedArns.includes(policyArn)) {
      changes.push(attached.includes(policyArn)
        ? { ...base, action: 'no-op', before: value, after: value, dependsOn: [roleKey] }
        : { ...base, action: 'create', before: null, after: value, dependsOn: [roleKey] });
    } else if (!keepUnlisted) {
      changes.push({ ...base, action: 'delete', before: value, after: null, dependsOn: [], reason: desired.mode === 'exact' ? 'not listed in the file' : 'not listed (--prune)' });
    }
  }

  // Inline policies.
  const existingInline = observed?.inlinePolicies ?? {};
  let inlineTotal = 0;
  for (const document of Object.values({ ...(keepUnlisted ? existingInline : {}), ...desired.inlinePolicies })) {
    inlineTotal += policySize(document);
  }
  if (inlineTotal > INLINE_POLICY_TOTAL_LIMIT) {
    block(
      'inline-policies-too-large',
      'inlinePolicies',
      `${name('inlinePolicies')}: the inline policies of role "${desired.name}" would total ${inlineTotal} characters; IAM allows ${INLINE_POLICY_TOTAL_LIMIT} per role.`,
      `Move permissions into a managed policy (${name('policyArns')}).`,
    );
  }
  for (const policyName of [...new Set([...Object.keys(desired.inlinePolicies), ...Object.keys(existingInline)])].sort()) {
    const id = `${desired.arn}#inline/${policyName}`;
    const base = { kind: 'inline-policy' as const, id, account: desired.account };
    const wanted = desired.inlinePolicies[policyName];
    const current = existingInline[policyName];
    const value = (document: unknown): InlinePolicyValue => ({ roleName: desired.name, policyName, document });
    if (wanted !== undefined) {
      if (current === undefined) changes.push({ ...base, action: 'create', before: null, after: value(wanted), dependsOn: [roleKey] });
      else if (samePolicy(current, wanted)) changes.push({ ...base, action: 'no-op', before: value(current), after: value(current), dependsOn: [roleKey] });
      else changes.push({ ...base, action: 'update', before: value(current), after: value(wanted), dependsOn: [roleKey], reason: 'policy document differs' });
    } else if (!keepUnlisted) {
      changes.push({ ...base, action: 'delete', before: value(current), after: null, dependsOn: [], reason: desired.mode === 'exact' ? 'not listed in the file' : 'not listed (--prune)' });
    }
  }
  return { changes, warnings, blockers };
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function sortKeys(tags: Tags): Tags {
  return Object.fromEntries(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)));
}

function updateReason(before: RoleValue, after: RoleValue): string {
  const parts: string[] = [];
  if (!samePolicy(before.trustPolicy, after.trustPolicy)) parts.push('trust policy');
  if (before.description !== after.description) parts.push('description');
  if (before.maxSessionDuration !== after.maxSessionDuration) parts.push('max session duration');
  if (before.permissionsBoundary !== after.permissionsBoundary) parts.push('permissions boundary');
  if (JSON.stringify(sortKeys(before.tags)) !== JSON.stringify(sortKeys(after.tags))) parts.push('tags');
  return `${parts.join(', ')} differ`;
}

/**
 * Removing one subject from a role. When no federated subject is left (and no other statement),
 * the role goes: attachments and inline policies first, then the role. A role irsa did not
 * create is planned the same way but blocked unless `force`.
 */
export function planRoleUnbinding(
  observed: RoleState,
  remove: { subjects: string[]; providerArn?: string },
  options: { force: boolean; dependsOn?: string[]; terms?: Terms },
): { changes: Change[]; deletesRole: boolean; blockers: Blocker[] } {
  const terms = options.terms ?? FLAG_TERMS;
  const blockers: Blocker[] = [];
  if (!isOwnedByIrsa(observed.tags) && !options.force) {
    blockers.push({
      code: 'role-not-owned',
      resource: changeKey({ kind: 'iam-role', id: observed.arn }),
      message: `role "${observed.name}" was not created by irsa (no irsa:managed-by tag), so irsa will not change it.`,
      fix: `Edit it yourself, or ${terms.enable({ field: 'force' })} to remove this ServiceAccount from its trust policy (and delete it when nothing else trusts it).`,
      field: terms.name({ field: 'force' }),
    });
  }
  const subjects = [...new Set(remove.subjects)];
  let merge = removeSubject(observed.trustPolicy, { subject: subjects[0]!, ...(remove.providerArn ? { providerArn: remove.providerArn } : {}) });
  for (const subject of subjects.slice(1)) {
    const next = removeSubject(merge.document, { subject, ...(remove.providerArn ? { providerArn: remove.providerArn } : {}) });
    merge = { ...next, changed: merge.changed || next.changed, notes: [...merge.notes, ...next.notes] };
  }
  const before = roleValue(observed);
  const account = observed.arn.split(':')[4];
  if (merge.remaining === 0) {
    return { changes: planRoleDeletion(observed, options.dependsOn ?? []), deletesRole: true, blockers };
  }
  if (!merge.changed) {
    return { changes: [{ kind: 'iam-role', id: observed.arn, action: 'no-op', before, after: before, dependsOn: [], account, ...(merge.notes.length > 0 ? { warnings: merge.notes } : {}) }], deletesRole: false, blockers };
  }
  const warnings = trustMergeWarnings(merge);
  return {
    changes: [{ kind: 'iam-role', id: observed.arn, action: 'update', before, after: { ...before, trustPolicy: merge.document }, dependsOn: options.dependsOn ?? [], account, reason: 'remove this ServiceAccount from the trust policy', ...(warnings.length > 0 ? { warnings } : {}) }],
    deletesRole: false,
    blockers,
  };
}

/** Deleting a role: detach managed policies and delete inline policies first, then the role. */
export function planRoleDeletion(observed: RoleState, dependsOn: string[] = [], reason = 'no ServiceAccount is left in its trust policy'): Change[] {
  const account = observed.arn.split(':')[4];
  const changes: Change[] = [];
  for (const policyArn of [...observed.attachedPolicyArns].sort()) {
    const before: AttachmentValue = { roleName: observed.name, policyArn };
    changes.push({ kind: 'role-policy-attachment', id: `${observed.arn}#${policyArn}`, action: 'delete', before, after: null, dependsOn, account });
  }
  for (const [policyName, document] of Object.entries(observed.inlinePolicies).sort(([a], [b]) => a.localeCompare(b))) {
    const before: InlinePolicyValue = { roleName: observed.name, policyName, document };
    changes.push({ kind: 'inline-policy', id: `${observed.arn}#inline/${policyName}`, action: 'delete', before, after: null, dependsOn, account });
  }
  // The role goes after everything attached to it is gone (DeleteConflict otherwise).
  const detachKeys = changes.map(changeKey);
  changes.push({ kind: 'iam-role', id: observed.arn, action: 'delete', before: roleValue(observed), after: null, dependsOn: [...detachKeys, ...dependsOn], account, reason });
  return changes;
}

/** The `iam-role` kind (re-checked by recheckRoleUpdate / recheckRoleDelete / recheckRoleCreate, core/recheck.ts). */
export const iamRoleKind: KindSpec<'iam-role'> = {
  kind: 'iam-role',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'drift' }),
};
