// A saved plan (`irsa plan -f irsa.yaml --out plan.json`) records the changes and what they were
// planned against. `irsa apply plan.json` re-reads, and applies what is left when every resource
// equals its recorded `before` or its recorded `after` (so a retry after a partial failure
// converges); otherwise it refuses and names what changed. Its format: docs/saved-plan.schema.json.

import { createHash } from 'node:crypto';
import { asDone, changeKey, shownId, type Change, type Plan } from './plan.ts';
import { absentFromFreshPlan } from './resources/registry.ts';
import { canonicalPolicy } from './trust-policy.ts';
import { UserError } from './errors.ts';
import type { BindingRequest } from './binding.ts';

export const SAVED_PLAN_KIND = 'irsa-saved-plan';
/** 2: cluster-qualified ids of Kubernetes objects (see docs/plan-format.md); version 1 files are refused. */
export const SAVED_PLAN_VERSION = 2;

export interface SavedPlan {
  kind: typeof SAVED_PLAN_KIND;
  version: typeof SAVED_PLAN_VERSION;
  createdAt: string;
  irsaVersion: string;
  /** The validated file (inline policy files resolved), so apply re-plans exactly what was reviewed. */
  config: SavedConfig;
  /**
   * Where the plan was made: apply refuses another account (checked before any other call) or
   * another cluster (another issuer or region). Absent in plans of irsa before 0.1 round 3.
   */
  target?: SavedTarget;
  options: { prune: boolean };
  changes: Change[];
  warnings: string[];
  notes: string[];
}

export interface SavedConfig {
  file: string;
  /** `profile` reads the cluster (and writes IAM unless iamProfile is set). */
  cluster: { name: string; region?: string; profile?: string; issuerUrl?: string };
  /** AWS profile for IAM (irsa.yaml iam.profile): cross-account, the role account's profile. */
  iamProfile?: string;
  /** irsa.yaml accounts: account id → AWS profile for that account's documents (access requests). */
  accountProfiles?: Record<string, string>;
  manageOidcProvider: boolean;
  thumbprints: string[];
  /** oidcProvider.thumbprints: none — send none, let IAM obtain them. */
  noThumbprint?: boolean;
  /** oidcProvider.caBundle, resolved against the file's directory. */
  caBundle?: string;
  bindings: BindingRequest[];
  /** irsa.yaml closePaths: the old credential paths planned closed with the bindings (core/close-paths.ts). */
  closePaths?: Array<'kube2iam' | 'node-permissions' | 'imds'>;
}

export interface SavedTarget {
  /** The account of the IAM credentials (roles and provider live there). */
  account: string;
  region: string;
  issuerUrl: string;
}

export function toSavedPlan(plan: Plan, input: { config: SavedConfig; prune: boolean; irsaVersion: string; now: Date; target?: SavedTarget }): SavedPlan {
  return {
    kind: SAVED_PLAN_KIND,
    version: SAVED_PLAN_VERSION,
    createdAt: input.now.toISOString(),
    irsaVersion: input.irsaVersion,
    config: input.config,
    ...(input.target ? { target: input.target } : {}),
    options: { prune: input.prune },
    changes: plan.changes,
    warnings: plan.warnings,
    notes: plan.notes,
  };
}

/** True when `text` is a saved plan irsa wrote (any version): `plan --out` may replace it. */
export function looksLikeSavedPlan(text: string): boolean {
  try {
    return (JSON.parse(text) as { kind?: unknown }).kind === SAVED_PLAN_KIND;
  } catch {
    return false;
  }
}

/** An irsa.yaml given where a saved plan was expected (`irsa apply irsa.yaml`, without -f). */
const looksLikeConfig = (text: string, file: string): boolean => /\.ya?ml$/i.test(file) || /^\s*(bindings|cluster)\s*:/m.test(text);

export function parseSavedPlan(text: string, file: string): SavedPlan {
  // The hint never names the file itself as --out: following it would overwrite the input.
  const makeOne = 'Make one with: irsa plan -f irsa.yaml --out plan.json';
  if (looksLikeConfig(text, file)) {
    throw new UserError(`${file} is an irsa.yaml, not a saved plan. Apply it with: irsa apply -f ${file} (add --approve to make the changes).`, 'plan file');
  }
  let value: Partial<SavedPlan>;
  try {
    value = JSON.parse(text) as Partial<SavedPlan>;
  } catch (error) {
    throw new UserError(`${file}: not a saved plan (invalid JSON: ${(error as Error).message}). ${makeOne}`, 'plan file');
  }
  if (value.kind === SAVED_PLAN_KIND && typeof value.version === 'number' && value.version !== SAVED_PLAN_VERSION) {
    // An older irsa's plan names Kubernetes objects without their cluster: applying it could not
    // say which cluster each change is for, so it is planned again instead of converted.
    throw new UserError(
      `${file} is a saved plan of format version ${value.version}; this irsa reads version ${SAVED_PLAN_VERSION} (ids name their cluster since version 2). Nothing was changed. Plan again with the same irsa.yaml (irsa plan -f irsa.yaml --out <a new file>), review it, then apply that file.`,
      'plan file',
    );
  }
  if (value.kind !== SAVED_PLAN_KIND || value.version !== SAVED_PLAN_VERSION || !Array.isArray(value.changes) || !value.config) {
    throw new UserError(`${file}: not an irsa saved plan (version ${SAVED_PLAN_VERSION}). ${makeOne}`, 'plan file');
  }
  return value as SavedPlan;
}

/** JSON with object keys sorted at every level and no whitespace: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The digest of a saved plan: sha256 over its canonical JSON (every field: changes, the embedded
 * irsa.yaml, target, options). Printed by `irsa plan --out`; `irsa apply --expect-digest` refuses a
 * file whose digest differs, so what is applied is byte-for-byte what was reviewed (re-indenting
 * the file does not change it).
 */
export function savedPlanDigest(text: string): string {
  return `sha256:${createHash('sha256').update(canonicalJson(JSON.parse(text))).digest('hex')}`;
}

/** Refuses a saved plan whose digest is not the reviewed one. */
export function assertDigest(text: string, file: string, expected: string): string {
  const actual = savedPlanDigest(text);
  const wanted = expected.trim().toLowerCase();
  if (!/^(sha256:)?[0-9a-f]{64}$/.test(wanted)) {
    throw new UserError(`--expect-digest: "${expected}" is not a digest; give the sha256:<64 hex digits> that irsa plan --out printed.`, '--expect-digest');
  }
  if (actual !== (wanted.startsWith('sha256:') ? wanted : `sha256:${wanted}`)) {
    throw new UserError(
      `--expect-digest: ${file} has digest ${actual}, not the reviewed ${wanted}: the file was changed after review (or is another plan), so nothing was applied. Plan again, review, and apply the new file with its digest.`,
      '--expect-digest',
    );
  }
  return actual;
}

/** Refuses a saved plan applied with credentials of another account than it was made in. */
export function assertSameAccount(saved: SavedPlan, file: string, account: string, credentials: string): void {
  if (!saved.target || saved.target.account === account) return;
  throw new UserError(
    `${file} was made in account ${saved.target.account}, but the credentials in use (${credentials}) are for account ${account}; nothing was applied. Apply it with credentials for account ${saved.target.account}, or plan again in account ${account}.`,
    '--profile',
  );
}

/** Refuses a saved plan applied to another cluster (another issuer or region) than it was made for. */
export function assertSameCluster(saved: SavedPlan, file: string, now: { issuerUrl: string; region: string }): void {
  if (!saved.target) return;
  const name = saved.config.cluster.issuerUrl ? 'the cluster' : `cluster "${saved.config.cluster.name}"`;
  if (saved.target.region !== now.region) {
    throw new UserError(
      `${file} was made for ${name} in region ${saved.target.region}, but this run is in region ${now.region} (--region, AWS_REGION or the profile): another cluster; nothing was applied. Apply it with --region ${saved.target.region}, or plan again.`,
      '--region',
    );
  }
  if (saved.target.issuerUrl.replace(/\/$/, '') !== now.issuerUrl.replace(/\/$/, '')) {
    throw new UserError(
      `${file} was made for ${name} with OIDC issuer ${saved.target.issuerUrl}, but ${name} now has issuer ${now.issuerUrl}: another cluster (or one recreated since); nothing was applied. Plan again against this cluster and review that plan.`,
      'plan file',
    );
  }
}

const fingerprint = (value: unknown) => JSON.stringify(canonicalPolicy(value ?? null));

/**
 * Whether what a fresh plan observes (its `before`, a projection onto the fields irsa reads) is
 * the planned `after`: every observed field equals the planned one; fields the planner does not
 * read back (a ServiceAccount's labels, say) are not compared. Policies compare canonically.
 */
export function matchesPlanned(observed: unknown, planned: unknown): boolean {
  const walk = (a: unknown, b: unknown): boolean => {
    if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const left = a as Record<string, unknown>;
      const right = b as Record<string, unknown>;
      return Object.keys(left).every((key) => (key in right ? walk(left[key], right[key]) : isEmptyValue(left[key])));
    }
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  };
  return walk(canonicalPolicy(observed ?? null), canonicalPolicy(planned ?? null));
}

const isEmptyValue = (value: unknown) =>
  value === null || value === undefined || (typeof value === 'object' && Object.keys(value as object).length === 0);

/**
 * Where a saved plan stands against what a fresh plan (same file, same options) observes now.
 * - applied: every saved change is in place (its resource equals the planned `after`).
 * - remaining: every resource equals either its planned `before` (still to do) or its planned
 *   `after` (done by an earlier, interrupted apply of this plan); `plan` holds the saved changes
 *   with the done ones turned into no-ops, so apply does exactly the rest.
 * - stale: something else changed since the plan was made; one message per resource.
 */
export type SavedPlanStatus =
  | { status: 'stale'; drift: string[] }
  | { status: 'applied'; total: number; unverifiable: string[] }
  | { status: 'remaining'; plan: Plan; done: number; remaining: number; unverifiable: string[] };

export function checkSavedPlan(saved: SavedPlan, fresh: Plan): SavedPlanStatus {
  const freshByKey = new Map(fresh.changes.map((change) => [changeKey(change), change]));
  const savedKeys = new Set(saved.changes.map(changeKey));
  const drift: string[] = [];
  const done = new Set<string>();
  const unverifiable: string[] = [];
  const pending = saved.changes.filter((change) => change.action !== 'no-op');
  for (const change of pending) {
    const key = changeKey(change);
    const now = freshByKey.get(key);
    if (!now) {
      // Absent from a fresh plan: a delete that happened is done; otherwise the kind decides
      // (core/resources/<kind>.ts: a namespace that now exists is done, a restart is done but
      // unverifiable, anything else is drift).
      const absent = change.action === 'delete' ? ({ verdict: 'done' } as const) : absentFromFreshPlan(change);
      if (absent.verdict === 'drift') drift.push(`${change.kind} ${shownId(change)}: no longer part of the plan`);
      else {
        done.add(key);
        if (absent.verdict === 'unverifiable') unverifiable.push(absent.note);
      }
    } else if (now.action === 'no-op' && matchesPlanned(now.before, change.after)) {
      done.add(key); // equals the planned after
    } else if (now.action === change.action && fingerprint(now.before) === fingerprint(change.before) && fingerprint(now.after) === fingerprint(change.after)) {
      // still to do, exactly as planned
    } else {
      drift.push(`${change.kind} ${shownId(change)}: changed since the plan was made (planned ${change.action}, it would now be ${now.action})`);
    }
  }
  // What was unchanged when the plan was made must still be as it was.
  for (const change of saved.changes.filter((c) => c.action === 'no-op')) {
    const now = freshByKey.get(changeKey(change));
    if (now && fingerprint(now.before) !== fingerprint(change.before)) {
      drift.push(`${change.kind} ${shownId(change)}: changed since the plan was made (it was unchanged in the plan${now.action === 'no-op' ? '' : `; it would now be ${now.action}`})`);
    }
  }
  for (const change of fresh.changes) {
    if (!savedKeys.has(changeKey(change)) && change.action !== 'no-op') {
      drift.push(`${change.kind} ${shownId(change)}: would now be a ${change.action}, which the saved plan does not contain`);
    }
  }
  if (drift.length > 0) return { status: 'stale', drift };
  if (done.size === pending.length) return { status: 'applied', total: pending.length, unverifiable };
  const plan: Plan = {
    changes: saved.changes.map((change) => (done.has(changeKey(change)) ? asDone(change) : change)),
    // Blockers come from the fresh plan (the caller adds them): a saved plan never carries any.
    blockers: [],
    warnings: saved.warnings,
    notes: saved.notes,
  };
  return { status: 'remaining', plan, done: done.size, remaining: pending.length - done.size, unverifiable };
}

/** What changed between planning and now, one message per resource (empty: the plan can run). */
export function savedPlanDrift(saved: SavedPlan, fresh: Plan): string[] {
  const status = checkSavedPlan(saved, fresh);
  return status.status === 'stale' ? status.drift : [];
}

export function savedPlanAsPlan(saved: SavedPlan): Plan {
  return { changes: saved.changes, blockers: [], warnings: saved.warnings, notes: saved.notes };
}
