// The one plan renderer: a readable diff for people, and the JSON form for machines.
// Output stream and colour are decided by the caller; this module only builds strings.

import { Chalk } from 'chalk';
import { ACTION_SYMBOL, summarize, type Action, type Blocker, type Change, type Plan } from '../core/plan.ts';

export interface TextRenderOptions {
  color: boolean;
  /** Show no-op changes too. */
  verbose?: boolean;
}

export const PLAN_FORMAT_VERSION = 1;

export interface PlanJson {
  formatVersion: number;
  changes: Array<{
    action: Action;
    kind: string;
    id: string;
    account: string | null;
    before: unknown;
    after: unknown;
    dependsOn: string[];
    reason: string | null;
    warnings: string[];
  }>;
  summary: Record<Action, number>;
  /** Conflicts that stop apply (empty when the plan can be applied). */
  blockers: Blocker[];
  warnings: string[];
  notes: string[];
}

export function planToJson(plan: Plan): PlanJson {
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    changes: plan.changes.map((change) => ({
      action: change.action,
      kind: change.kind,
      id: change.id,
      account: change.account ?? null,
      before: change.before ?? null,
      after: change.after ?? null,
      dependsOn: change.dependsOn,
      reason: change.reason ?? null,
      warnings: change.warnings ?? [],
    })),
    summary: summarize(plan),
    blockers: plan.blockers,
    warnings: plan.warnings,
    notes: plan.notes,
  };
}

/** A blocker as one sentence pair, the same in the plan, on stderr and in the wizard. */
export const blockerText = (blocker: Blocker): string => `${blocker.message} ${blocker.fix}`;

export function summaryLine(plan: Plan): string {
  const summary = summarize(plan);
  return `Plan: ${summary.create} to create, ${summary.update} to update, ${summary.delete} to delete, ${summary['no-op']} unchanged.`;
}

export function renderPlanText(plan: Plan, options: TextRenderOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const paint: Record<Action, (text: string) => string> = {
    create: c.green,
    update: c.yellow,
    delete: c.red,
    'no-op': c.dim,
  };
  const lines: string[] = [];
  const accounts = new Set(plan.changes.map((change) => change.account).filter(Boolean));
  const visible = plan.changes.filter((change) => options.verbose || change.action !== 'no-op');
  if (visible.length === 0) {
    lines.push(c.green('No changes. Everything already matches.'));
  }
  for (const change of visible) {
    const symbol = ACTION_SYMBOL[change.action];
    const where = accounts.size > 1 && change.account ? c.dim(` [account ${change.account}]`) : '';
    lines.push(paint[change.action](`${symbol} ${change.kind} ${change.id}`) + where);
    if (change.reason && change.action !== 'no-op') lines.push(c.dim(`    # ${change.reason}`));
    for (const warning of change.warnings ?? []) lines.push(c.yellow(`    ! ${warning}`));
    if (change.action === 'create') lines.push(...renderValue(change.after, '+', c.green, '    '));
    else if (change.action === 'update') lines.push(...renderUpdate(change, c));
    lines.push('');
  }
  for (const note of plan.notes) lines.push(c.dim(`Note: ${note}`));
  for (const warning of plan.warnings) lines.push(c.yellow(`Warning: ${warning}`));
  for (const blocker of plan.blockers) lines.push(c.red(`Blocked: ${blockerText(blocker)}`));
  lines.push(c.bold(summaryLine(plan)));
  return lines.join('\n') + '\n';
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

const scalar = (value: unknown): string => JSON.stringify(value);

/** A created value: nested objects as indented keys, scalar lists inline, lists of objects (policy statements) as JSON. */
function renderValue(value: unknown, sign: string, paint: (text: string) => string, indent: string): string[] {
  if (!isObject(value)) return [paint(`${indent}${sign} ${scalar(value)}`)];
  const lines: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (isObject(child) && Object.keys(child).length > 0) {
      lines.push(paint(`${indent}${sign} ${key}:`));
      lines.push(...renderValue(child, sign, paint, indent + '    '));
    } else if (Array.isArray(child) && child.some((item) => typeof item === 'object')) {
      lines.push(paint(`${indent}${sign} ${key}:`));
      lines.push(...JSON.stringify(child, null, 2).split('\n').map((line) => paint(`${indent}    ${sign} ${line}`)));
    } else {
      lines.push(paint(`${indent}${sign} ${key}: ${scalar(child)}`));
    }
  }
  return lines;
}

/** Only what differs between before and after, by path; JSON documents become minimal diffs. */
function renderUpdate(change: Change, c: InstanceType<typeof Chalk>): string[] {
  const lines: string[] = [];
  const walk = (before: unknown, after: unknown, path: string) => {
    if (JSON.stringify(before) === JSON.stringify(after)) return;
    if (isObject(before) && isObject(after)) {
      for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
        walk(before[key], after[key], path ? `${path}.${key}` : key);
      }
      return;
    }
    if (Array.isArray(before) && Array.isArray(after)) {
      const allScalars = [...before, ...after].every((item) => typeof item !== 'object');
      if (allScalars) {
        const removed = before.filter((item) => !after.includes(item));
        const added = after.filter((item) => !before.includes(item));
        lines.push(c.yellow(`    ~ ${path}:`));
        for (const item of removed) lines.push(c.red(`        - ${scalar(item)}`));
        for (const item of added) lines.push(c.green(`        + ${scalar(item)}`));
        return;
      }
      const length = Math.max(before.length, after.length);
      for (let i = 0; i < length; i++) walk(before[i], after[i], `${path}[${i}]`);
      return;
    }
    if (before === undefined) {
      lines.push(c.green(`    + ${path}: ${scalar(after)}`));
    } else if (after === undefined) {
      lines.push(c.red(`    - ${path}: ${scalar(before)}`));
    } else {
      lines.push(c.yellow(`    ~ ${path}: ${scalar(before)} → ${scalar(after)}`));
    }
  };
  walk(change.before, change.after, '');
  return lines;
}
