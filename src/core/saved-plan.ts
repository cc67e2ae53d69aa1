// A saved plan (`irsa plan -f irsa.yaml --out plan.json`) records the changes and what they were
// planned against. `irsa apply plan.json` re-reads, and applies only if every recorded `before`
// still holds; otherwise it refuses and names what changed.

import { changeKey, type Change, type Plan } from './plan.ts';
import { canonicalPolicy } from './trust-policy.ts';
import { UserError } from './errors.ts';
import type { BindingRequest } from './binding.ts';

export const SAVED_PLAN_KIND = 'irsa-saved-plan';
export const SAVED_PLAN_VERSION = 1;

export interface SavedPlan {
  kind: typeof SAVED_PLAN_KIND;
  version: typeof SAVED_PLAN_VERSION;
  createdAt: string;
  irsaVersion: string;
  /** The validated file (inline policy files resolved), so apply re-plans exactly what was reviewed. */
  config: SavedConfig;
  options: { prune: boolean };
  changes: Change[];
  warnings: string[];
  notes: string[];
}

export interface SavedConfig {
  file: string;
  cluster: { name: string; region?: string; profile?: string; issuerUrl?: string };
  manageOidcProvider: boolean;
  thumbprints: string[];
  bindings: BindingRequest[];
}

export function toSavedPlan(plan: Plan, input: { config: SavedConfig; prune: boolean; irsaVersion: string; now: Date }): SavedPlan {
  return {
    kind: SAVED_PLAN_KIND,
    version: SAVED_PLAN_VERSION,
    createdAt: input.now.toISOString(),
    irsaVersion: input.irsaVersion,
    config: input.config,
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
  if (value.kind !== SAVED_PLAN_KIND || value.version !== SAVED_PLAN_VERSION || !Array.isArray(value.changes) || !value.config) {
    throw new UserError(`${file}: not an irsa saved plan (version ${SAVED_PLAN_VERSION}). ${makeOne}`, 'plan file');
  }
  return value as SavedPlan;
}

const fingerprint = (value: unknown) => JSON.stringify(canonicalPolicy(value ?? null));

/**
 * What changed between planning and now, one message per resource. A saved change whose
 * `before` differs from what a fresh plan observes, or a resource that a fresh plan would now
 * change but the saved plan did not, means the reviewed plan is stale.
 */
export function savedPlanDrift(saved: SavedPlan, fresh: Plan): string[] {
  const freshByKey = new Map(fresh.changes.map((change) => [changeKey(change), change]));
  const savedKeys = new Set(saved.changes.map(changeKey));
  const drift: string[] = [];
  for (const change of saved.changes) {
    const now = freshByKey.get(changeKey(change));
    if (!now) {
      drift.push(`${change.kind} ${change.id}: no longer part of the plan`);
    } else if (fingerprint(change.before) !== fingerprint(now.before)) {
      drift.push(`${change.kind} ${change.id}: changed since the plan was made (planned ${change.action}, it would now be ${now.action})`);
    }
  }
  for (const change of fresh.changes) {
    if (!savedKeys.has(changeKey(change)) && change.action !== 'no-op') {
      drift.push(`${change.kind} ${change.id}: would now be a ${change.action}, which the saved plan does not contain`);
    }
  }
  return drift;
}

export function savedPlanAsPlan(saved: SavedPlan): Plan {
  return { changes: saved.changes, warnings: saved.warnings, notes: saved.notes };
}
