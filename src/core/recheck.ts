// Apply re-checks each resource just before it changes it (as Terraform does): the plan's `before`
// is what the user reviewed. This module decides, from a fresh read, whether the planned write is
// still right. Pure: the executor reads, this decides.
//
// - fresh equals `before`            → write as planned
// - fresh already equals `after`     → nothing to do
// - changed, but re-derivable        → re-derive the write from the fresh state and say so
//   (trust policy: the subjects this change adds/removes are merged into the fresh document)
// - otherwise                        → stale: this change stops, nothing is written for it
//
// A create that meets "already exists" goes back through the planner's rules the same way: the
// existing resource is planned against as if it had been read at plan time.

import { clusterRef } from './model/refs.ts';
import { CLUSTER_TAG, isOwnedByIrsa, NAMESPACE_TAG, SERVICE_ACCOUNT_TAG } from './ownership.ts';
import type { ChangeOf } from './plan.ts';
import { roleValue } from './resources/iam-role.ts';
import { planServiceAccount } from './resources/service-account.ts';
import type { RoleValue } from './resources/types.ts';
import type { OidcProviderState, RoleSettings, ServiceAccountState } from './state.ts';
import { addSubject, readIrsaStatement, removeSubject, type SubjectRef } from './trust-merge.ts';
import { addPodIdentitySubject, podIdentitySubjectsOf, removePodIdentitySubject, type PodIdentitySubject } from './pods-eks-trust.ts';
import { canonicalPolicy, samePolicy, type PolicyDocument } from './trust-policy.ts';

export type Recheck<C> =
  | { verdict: 'write'; change: C }
  | { verdict: 'rederived'; change: C; note: string }
  | { verdict: 'done'; note: string }
  | { verdict: 'stale'; reason: string };

type Update<K extends 'iam-role' | 'inline-policy' | 'service-account' | 'oidc-provider'> = Extract<ChangeOf<K>, { action: 'update' }>;
type Delete<K extends 'iam-role' | 'inline-policy' | 'service-account'> = Extract<ChangeOf<K>, { action: 'delete' }>;
type Create<K extends 'iam-role' | 'service-account'> = Extract<ChangeOf<K>, { action: 'create' }>;

const sortedJson = (tags: Record<string, string>) => JSON.stringify(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b)));

const sameSettings = (a: RoleValue, b: RoleValue) =>
  a.description === b.description && a.maxSessionDuration === b.maxSessionDuration && a.permissionsBoundary === b.permissionsBoundary && sortedJson(a.tags) === sortedJson(b.tags);

export const sameRole = (a: RoleValue, b: RoleValue) => sameSettings(a, b) && samePolicy(a.trustPolicy, b.trustPolicy);

/** The irsa subjects of a document, one key per (provider, audience, operator, subject). */
function irsaRefs(document: PolicyDocument): Map<string, SubjectRef> {
  const refs = new Map<string, SubjectRef>();
  for (const statement of document.Statement ?? []) {
    const read = readIrsaStatement(statement);
    if (!read) continue;
    for (const subject of read.subjects) {
      const ref: SubjectRef = { providerArn: read.providerArn, issuerHostPath: read.issuerHostPath, audience: read.audience, operator: read.operator, subject };
      refs.set(JSON.stringify([ref.providerArn, ref.audience, ref.operator, ref.subject]), ref);
    }
  }
  return refs;
}

/** irsa's pods.eks subjects of a document, one key per (cluster, namespace, ServiceAccount); a cluster-wide statement is one subject. */
function podIdentityRefs(document: PolicyDocument): Map<string, PodIdentitySubject> {
  const refs = new Map<string, PodIdentitySubject>();
  for (const read of podIdentitySubjectsOf(document)) {
    if (read.namespace === null) refs.set(JSON.stringify([read.clusterArn, null]), { clusterArn: read.clusterArn, namespace: '', serviceAccount: '', sessionTags: false });
    else for (const serviceAccount of read.serviceAccounts) refs.set(JSON.stringify([read.clusterArn, read.namespace, serviceAccount]), { clusterArn: read.clusterArn, namespace: read.namespace, serviceAccount, sessionTags: true });
  }
  return refs;
}

/**
 * The subjects a trust change adds and removes, replayed onto a fresh document. Null when the
 * change is not only that (then it cannot be re-derived safely).
 */
/** Equal documents once each statement is canonical and their order is ignored (IAM evaluates every statement). */
function sameUpToStatementOrder(a: PolicyDocument, b: PolicyDocument): boolean {
  const key = (document: PolicyDocument) =>
    JSON.stringify([canonicalPolicy({ ...document, Statement: [] }), (document.Statement ?? []).map((statement) => JSON.stringify(canonicalPolicy(statement))).sort()]);
  return key(a) === key(b);
}

export function replayTrustChange(before: PolicyDocument, after: PolicyDocument, fresh: PolicyDocument): PolicyDocument | null {
  const was = irsaRefs(before);
  const will = irsaRefs(after);
  const added = [...will].filter(([key]) => !was.has(key)).map(([, ref]) => ref);
  const removed = [...was].filter(([key]) => !will.has(key)).map(([, ref]) => ref);
  // irsa's pods.eks subjects too (irsa migrate's step 1 adds one, its way back removes one).
  const podsWas = podIdentityRefs(before);
  const podsWill = podIdentityRefs(after);
  const podsAdded = [...podsWill].filter(([key]) => !podsWas.has(key)).map(([, ref]) => ref);
  const podsRemoved = [...podsWas].filter(([key]) => !podsWill.has(key)).map(([, ref]) => ref);
  const replay = (document: PolicyDocument) => {
    let next = document;
    for (const ref of removed) next = removeSubject(next, { subject: ref.subject, providerArn: ref.providerArn }).document;
    for (const ref of added) next = addSubject(next, ref).document;
    for (const ref of podsRemoved) next = removePodIdentitySubject(next, { clusterArn: ref.clusterArn, namespace: ref.namespace, serviceAccount: ref.serviceAccount, clusterWide: !ref.sessionTags }).document;
    for (const ref of podsAdded) next = addPodIdentitySubject(next, ref).document;
    return next;
  };
  // The delta must explain the whole planned change; otherwise it was more than adding/removing subjects.
  // Statement order means nothing to IAM (a subject moved to a statement of its own lands at the end).
  if (!sameUpToStatementOrder(replay(before), after)) return null;
  return replay(fresh);
}

/** What a trust change meant to do that a document does not show: subjects it adds that are absent, subjects it removes that are present. */
export interface TrustIntentGaps {
  missing: string[];
  unexpected: string[];
}

/**
 * Checks a written trust policy against the change's intent — its subjects, not byte equality:
 * another run may have added or removed other subjects meanwhile, and that is theirs to keep.
 * IAM has no conditional write (UpdateAssumeRolePolicy takes no version or ETag), so two runs that
 * read the same document and write in turn lose the first writer's subject; reading back after
 * the write is how a run notices (issue 21).
 */
export function trustIntentGaps(before: PolicyDocument, after: PolicyDocument, current: PolicyDocument): TrustIntentGaps {
  const was = irsaRefs(before);
  const will = irsaRefs(after);
  const now = irsaRefs(current);
  const missing = [...will].filter(([key]) => !was.has(key) && !now.has(key)).map(([, ref]) => ref.subject);
  const unexpected = [...was].filter(([key]) => !will.has(key) && now.has(key)).map(([, ref]) => ref.subject);
  // irsa's pods.eks subjects too (a pod-identity binding, a migration step): the same intent.
  const podsWas = podIdentityRefs(before);
  const podsWill = podIdentityRefs(after);
  const podsNow = podIdentityRefs(current);
  const podsName = (ref: PodIdentitySubject) => (ref.sessionTags ? `pods.eks ${ref.namespace}/${ref.serviceAccount} of ${ref.clusterArn}` : `pods.eks (every association with session tags off) of ${ref.clusterArn}`);
  missing.push(...[...podsWill].filter(([key]) => !podsWas.has(key) && !podsNow.has(key)).map(([, ref]) => podsName(ref)));
  unexpected.push(...[...podsWas].filter(([key]) => !podsWill.has(key) && podsNow.has(key)).map(([, ref]) => podsName(ref)));
  return { missing, unexpected };
}

const BOOKKEEPING_TAGS: ReadonlySet<string> = new Set([CLUSTER_TAG, NAMESPACE_TAG, SERVICE_ACCOUNT_TAG]);

export function recheckRoleUpdate(change: Update<'iam-role'>, fresh: RoleSettings | null): Recheck<Update<'iam-role'>> {
  if (!fresh) return { verdict: 'stale', reason: `role ${change.before.name} was deleted after the plan was made` };
  const now = roleValue(fresh);
  if (sameRole(now, change.before)) return { verdict: 'write', change };
  if (sameRole(now, change.after)) return { verdict: 'done', note: `role ${now.name} already is as planned` };
  // Tags this change sets anyway (e.g. irsa:service-account, which every run binding a shared role
  // sets to its own ServiceAccount) may have been set by a concurrent run meanwhile: this change's
  // value is what the plan showed, so they do not make it stale. Any other setting does.
  // irsa's descriptive tags (which cluster/ServiceAccount last bound the role) are rewritten by
  // every run that binds a shared role: a change to them is not a setting this change could break.
  const setByChange = new Set([...Object.keys(change.before.tags), ...Object.keys(change.after.tags)].filter((key) => change.before.tags[key] !== change.after.tags[key]));
  const ignored = (key: string) => setByChange.has(key) || BOOKKEEPING_TAGS.has(key);
  const withoutSet = (value: RoleValue): RoleValue => ({ ...value, tags: Object.fromEntries(Object.entries(value.tags).filter(([key]) => !ignored(key))) });
  if (sameSettings(withoutSet(now), withoutSet(change.before))) {
    const trustPolicy = replayTrustChange(change.before.trustPolicy, change.after.trustPolicy, now.trustPolicy);
    if (trustPolicy) {
      const what = samePolicy(now.trustPolicy, change.before.trustPolicy) ? `the tags of ${now.name}` : `the trust policy of ${now.name}`;
      // Bookkeeping tags this change does not set keep the value they have now.
      const tags = Object.fromEntries(
        [...new Set([...Object.keys(change.after.tags), ...Object.keys(now.tags)])].flatMap((key): Array<[string, string]> => {
          const value = BOOKKEEPING_TAGS.has(key) && !setByChange.has(key) ? now.tags[key] : change.after.tags[key];
          return value === undefined ? [] : [[key, value]];
        }),
      );
      return {
        verdict: 'rederived',
        change: { ...change, before: now, after: { ...change.after, tags, trustPolicy } },
        note: `${what} changed after the plan was made; this change's subjects were merged into the current policy`,
      };
    }
  }
  return { verdict: 'stale', reason: `role ${now.name} changed after the plan was made` };
}

export function recheckRoleDelete(change: Delete<'iam-role'>, fresh: RoleSettings | null): Recheck<Delete<'iam-role'>> {
  if (!fresh) return { verdict: 'done', note: `role ${change.before.name} is already gone` };
  if (sameRole(roleValue(fresh), change.before)) return { verdict: 'write', change };
  return { verdict: 'stale', reason: `role ${fresh.name} changed after the plan was made (it may trust someone new)` };
}

/**
 * A role create that met "already exists": someone (another irsa run, or our own lost reply)
 * created it meanwhile. Planned against like an existing role: irsa-owned, same settings →
 * merge this change's subjects into its trust policy; anything else → stale.
 */
export function recheckRoleCreate(change: Create<'iam-role'>, fresh: RoleSettings | null): Recheck<Update<'iam-role'>> {
  if (!fresh) return { verdict: 'stale', reason: `role ${change.after.name} was reported to exist but cannot be read` };
  const now = roleValue(fresh);
  if (!isOwnedByIrsa(fresh.tags)) return { verdict: 'stale', reason: `role ${now.name} was created by someone else while irsa was applying` };
  const comparable = (value: RoleValue) => ({ ...value, tags: {}, trustPolicy: value.trustPolicy });
  if (!sameSettings(comparable(now), comparable(change.after)) || now.path !== change.after.path) {
    return { verdict: 'stale', reason: `role ${now.name} was created meanwhile with other settings` };
  }
  const empty: PolicyDocument = { Version: '2012-10-17', Statement: [] };
  const trustPolicy = replayTrustChange(empty, change.after.trustPolicy, now.trustPolicy);
  if (!trustPolicy) return { verdict: 'stale', reason: `role ${now.name} was created meanwhile` };
  if (samePolicy(trustPolicy, now.trustPolicy)) return { verdict: 'done', note: `role ${now.name} already exists and trusts this ServiceAccount` };
  return {
    verdict: 'rederived',
    change: { ...change, action: 'update', before: now, after: { ...now, trustPolicy } },
    note: `role ${now.name} was created meanwhile (another irsa run); this ServiceAccount was merged into its trust policy`,
  };
}

export function recheckInlinePolicy(
  change: Update<'inline-policy'> | Delete<'inline-policy'>,
  fresh: unknown,
): Recheck<Update<'inline-policy'> | Delete<'inline-policy'>> {
  const what = `inline policy ${change.before.policyName} of ${change.before.roleName}`;
  if (change.action === 'delete' && fresh === undefined) return { verdict: 'done', note: `${what} is already gone` };
  if (fresh !== undefined && samePolicy(fresh, change.before.document)) return { verdict: 'write', change };
  if (change.action === 'update' && fresh !== undefined && samePolicy(fresh, change.after.document)) return { verdict: 'done', note: `${what} already is as planned` };
  return { verdict: 'stale', reason: `${what} changed after the plan was made` };
}

const managed = (annotations: Record<string, string>, keys: string[]) =>
  JSON.stringify(keys.filter((key) => key in annotations).sort().map((key) => [key, annotations[key]]));

export function recheckServiceAccount(
  change: Update<'service-account'> | Delete<'service-account'>,
  fresh: ServiceAccountState | null,
): Recheck<Update<'service-account'> | Delete<'service-account'>> {
  const id = `${change.before.namespace}/${change.before.name}`;
  if (!fresh) {
    return change.action === 'delete' ? { verdict: 'done', note: `ServiceAccount ${id} is already gone` } : { verdict: 'stale', reason: `ServiceAccount ${id} was deleted after the plan was made` };
  }
  const keys = [...new Set([...Object.keys(change.before.annotations), ...(change.after ? Object.keys(change.after.annotations) : [])])];
  if (managed(fresh.annotations, keys) === managed(change.before.annotations, keys)) return { verdict: 'write', change };
  if (change.action === 'update' && managed(fresh.annotations, keys) === managed(change.after.annotations, keys)) {
    return { verdict: 'done', note: `ServiceAccount ${id} already is as planned` };
  }
  return { verdict: 'stale', reason: `the IRSA annotations of ServiceAccount ${id} changed after the plan was made` };
}

/**
 * A ServiceAccount create that met "already exists": planned again against what is there. Bound to
 * another role → stale (never re-annotated here: that needs --override-existing-serviceaccounts
 * at plan time, where the user sees it); otherwise the planner's update.
 */
export function recheckServiceAccountCreate(change: Create<'service-account'>, fresh: ServiceAccountState | null): Recheck<Update<'service-account'>> {
  if (!fresh) return { verdict: 'stale', reason: `ServiceAccount ${change.after.namespace}/${change.after.name} was reported to exist but cannot be read` };
  // Planned for the cluster the change was planned for: the same id, the same cluster.
  const cluster = clusterRef(change.cluster ?? '');
  const planned = planServiceAccount({ cluster, namespace: change.after.namespace, name: change.after.name, annotations: change.after.annotations }, fresh, change.dependsOn);
  if (planned.conflictingRoleArn) {
    return {
      verdict: 'stale',
      reason: `ServiceAccount ${change.after.namespace}/${change.after.name} was created after the plan was made and is bound to ${planned.conflictingRoleArn}; it was left alone. Run the command again (with --override-existing-serviceaccounts to re-annotate it)`,
    };
  }
  if (planned.change.action === 'no-op') return { verdict: 'done', note: `ServiceAccount ${change.after.namespace}/${change.after.name} was created meanwhile and is already as planned` };
  if (planned.change.action !== 'update') return { verdict: 'stale', reason: `ServiceAccount ${change.after.namespace}/${change.after.name} changed after the plan was made` };
  return { verdict: 'rederived', change: planned.change, note: `ServiceAccount ${change.after.namespace}/${change.after.name} was created meanwhile; its IRSA annotations were set` };
}

export function recheckOidcProvider(change: Update<'oidc-provider'>, fresh: OidcProviderState | null): Recheck<Update<'oidc-provider'>> {
  if (!fresh) return { verdict: 'stale', reason: `OIDC provider ${change.id} was deleted after the plan was made` };
  const sorted = (values: string[]) => JSON.stringify([...new Set(values)].sort());
  const thumbprintsAsPlanned = sorted(fresh.thumbprints) === sorted(change.before.thumbprints) || sorted(fresh.thumbprints) === sorted(change.after.thumbprints);
  if (!thumbprintsAsPlanned) return { verdict: 'stale', reason: `the thumbprints of OIDC provider ${change.id} changed after the plan was made` };
  // Client IDs are only added: what is there now plus what this change adds.
  const before = { ...change.before, clientIds: [...fresh.clientIds].sort(), thumbprints: [...fresh.thumbprints].sort() };
  const after = { ...change.after, clientIds: [...new Set([...fresh.clientIds, ...change.after.clientIds])].sort() };
  if (sorted(before.clientIds) === sorted(change.before.clientIds) && sorted(before.thumbprints) === sorted(change.before.thumbprints)) return { verdict: 'write', change };
  return { verdict: 'rederived', change: { ...change, before, after }, note: `OIDC provider ${change.id} changed after the plan was made; only what is still missing is written` };
}
