// The one plan renderer: a readable diff for people, and the JSON form for machines.
// Output stream and colour are decided by the caller; this module only builds strings.

import { Chalk } from 'chalk';
import { ACTION_SYMBOL, shownId, summarize, type Action, type Blocker, type Change, type Plan } from '../core/plan.ts';

export interface TextRenderOptions {
  color: boolean;
  /** Show no-op changes too. */
  verbose?: boolean;
  /** Name the account of every change that has one (cross-account plans), not only when they differ. */
  showAccounts?: boolean;
}

/**
 * 2: Kubernetes objects' ids are cluster-qualified (`<cluster>/<namespace>/<name>`), each change
 * carries `cluster`, Secret and workload-template values name their object (docs/plan-format.md).
 */
export const PLAN_FORMAT_VERSION = 2;

export interface PlanJson {
  formatVersion: number;
  changes: Array<{
    action: Action;
    kind: string;
    id: string;
    account: string | null;
    cluster: string | null;
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
  /** Trust over several namespaces that the user allowed (--allow-wide-subjects); absent when none. */
  widenings?: string[];
}

export function planToJson(plan: Plan): PlanJson {
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    changes: plan.changes.map((change) => ({
      action: change.action,
      kind: change.kind,
      id: change.id,
      account: change.account ?? null,
      cluster: change.cluster ?? null,
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
    ...(plan.widenings && plan.widenings.length > 0 ? { widenings: plan.widenings } : {}),
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
  const clusters = new Set(plan.changes.map((change) => change.cluster).filter(Boolean));
  const visible = plan.changes.filter((change) => options.verbose || change.action !== 'no-op');
  if (visible.length === 0) {
    lines.push(c.green('No changes. Everything already matches.'));
  }
  for (const change of visible) {
    const symbol = ACTION_SYMBOL[change.action];
    const where = (accounts.size > 1 || options.showAccounts) && change.account ? c.dim(` [account ${change.account}]`) : '';
    lines.push(paint[change.action](`${symbol} ${change.kind} ${shownId(change, clusters.size > 1)}`) + where);
    if (change.reason && change.action !== 'no-op') lines.push(c.dim(`    # ${change.reason}`));
    for (const warning of change.warnings ?? []) lines.push(c.yellow(`    ! ${warning}`));
    if (change.action === 'create') lines.push(...renderCreated(change, c.green, options.verbose === true));
    else if (change.action === 'update') lines.push(...renderUpdate(change, c));
    lines.push('');
  }
  for (const note of collapseRepeated(plan.notes, options.verbose === true)) lines.push(c.dim(`Note: ${note}`));
  for (const warning of collapseRepeated(plan.warnings, options.verbose === true)) lines.push(c.yellow(`Warning: ${warning}`));
  for (const widening of plan.widenings ?? []) lines.push(c.red(`Widening: ${widening}`));
  for (const blocker of plan.blockers) lines.push(c.red(`Blocked: ${blockerText(blocker)}`));
  lines.push(c.bold(summaryLine(plan)));
  return lines.join('\n') + '\n';
}

/**
 * Messages that differ only in the name they are about ("role a is irsa-owned …", "role b is
 * irsa-owned …") become one line with a count and the first few names; --verbose shows each.
 */
export function collapseRepeated(messages: string[], verbose: boolean): string[] {
  if (verbose) return messages;
  const groups = new Map<string, { first: string; names: string[] }>();
  for (const message of messages) {
    const words = message.split(' ');
    // "<what> <name> <rest>": the template is the message with its second word left out.
    const key = words.length > 2 ? `${words[0]} \u0000 ${words.slice(2).join(' ')}` : message;
    const group = groups.get(key) ?? { first: message, names: [] };
    group.names.push(words[1] ?? '');
    groups.set(key, group);
  }
  return [...groups.values()].map(({ first, names }) => {
    if (names.length === 1) return first;
    const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ', …' : '');
    const words = first.split(' ');
    return `${words[0]} … ${words.slice(2).join(' ')} (×${names.length}: ${shown}; --verbose lists each)`;
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value);

const scalar = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** Nothing to show: null, "", [] and {} (a created resource shows what it will have, not what it lacks). */
const isEmpty = (value: unknown): boolean =>
  value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);

/** A string field that only repeats part of the change's id (a role's name in its ARN, an attachment's policy ARN). */
function repeatsId(id: string, value: unknown): boolean {
  if (typeof value !== 'string' || value.length < 2) return false;
  if (id === value || id.endsWith(`/${value}`) || id.endsWith(`#${value}`) || id.startsWith(`${value}/`)) return true;
  return id.split('#').some((part) => part === value || part.endsWith(`/${value}`));
}

const isPolicyDocument = (value: unknown): value is { Statement: unknown } => isObject(value) && 'Statement' in value;

/** A created resource: its non-empty fields, one line each where it fits; policy documents as statements. */
function renderCreated(change: Change, paint: (text: string) => string, verbose: boolean): string[] {
  const after = change.after;
  if (!isObject(after)) return isEmpty(after) ? [] : [paint(`    + ${scalar(after)}`)];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(after)) {
    if (!verbose && (isEmpty(value) || repeatsId(change.id, value))) continue;
    lines.push(...renderField(key, value, paint, '    '));
  }
  return lines;
}

function renderField(key: string, value: unknown, paint: (text: string) => string, indent: string): string[] {
  if (isPolicyDocument(value)) return [paint(`${indent}+ ${key}:`), ...renderPolicy(value).map((line) => paint(`${indent}    ${line}`))];
  if (Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null)) {
    return [paint(`${indent}+ ${key}: ${value.map(scalar).join(', ')}`)];
  }
  if (isObject(value) && Object.values(value).every((item) => typeof item !== 'object' || item === null)) {
    const entries = Object.entries(value).map(([k, v]) => `${k}=${scalar(v)}`);
    const inline = `${indent}+ ${key}: ${entries.join(', ')}`;
    if (inline.length <= 120) return [paint(inline)];
    return [paint(`${indent}+ ${key}:`), ...entries.map((entry) => paint(`${indent}    ${entry}`))];
  }
  if (isObject(value)) {
    return [paint(`${indent}+ ${key}:`), ...Object.entries(value).flatMap(([k, v]) => renderField(k, v, paint, indent + '    '))];
  }
  if (Array.isArray(value)) return [paint(`${indent}+ ${key}:`), ...JSON.stringify(value, null, 2).split('\n').map((line) => paint(`${indent}    ${line}`))];
  return [paint(`${indent}+ ${key}: ${scalar(value)}`)];
}

const list = (value: unknown): string => (Array.isArray(value) ? value.map(scalar).join(', ') : scalar(value));

/**
 * A policy document, one statement per block: every field of every statement is shown, in words
 * (Effect and actions, then principal, resources and each condition); unknown fields as JSON.
 */
export function renderPolicy(document: { Statement: unknown }): string[] {
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const lines: string[] = [];
  // The current policy language version is the norm; another one changes meaning (policy variables).
  const { Statement: _statements, Version, ...documentRest } = document as Record<string, unknown>;
  if (Version !== undefined && Version !== '2012-10-17') lines.push(`Version ${scalar(Version)}`);
  for (const [key, value] of Object.entries(documentRest)) lines.push(`${key}: ${JSON.stringify(value)}`);
  for (const statement of statements) {
    if (!isObject(statement)) {
      lines.push(JSON.stringify(statement));
      continue;
    }
    const { Sid, Effect, Action, NotAction, Principal, NotPrincipal, Resource, NotResource, Condition, ...rest } = statement;
    const head = [Sid !== undefined ? `[${scalar(Sid)}]` : '', scalar(Effect ?? '?'), Action !== undefined ? list(Action) : '', NotAction !== undefined ? `every action except ${list(NotAction)}` : '']
      .filter(Boolean)
      .join(' ');
    lines.push(head);
    const principals = (label: string, value: unknown) => {
      if (isObject(value)) for (const [type, who] of Object.entries(value)) lines.push(`  ${label} ${type} ${list(who)}`);
      else if (value !== undefined) lines.push(`  ${label} ${scalar(value)}`);
    };
    principals('principal', Principal);
    principals('not principal', NotPrincipal);
    if (Resource !== undefined) lines.push(`  on ${list(Resource)}`);
    if (NotResource !== undefined) lines.push(`  on every resource except ${list(NotResource)}`);
    if (isObject(Condition)) {
      for (const [operator, pairs] of Object.entries(Condition)) {
        if (!isObject(pairs)) lines.push(`  if ${operator} ${scalar(pairs)}`);
        else for (const [conditionKey, values] of Object.entries(pairs)) lines.push(`  if ${operator} ${conditionKey} = ${list(values)}`);
      }
    }
    for (const [key, value] of Object.entries(rest)) lines.push(`  ${key}: ${JSON.stringify(value)}`);
  }
  return lines;
}

const quoted = (value: unknown): string => JSON.stringify(value);

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
        for (const item of removed) lines.push(c.red(`        - ${quoted(item)}`));
        for (const item of added) lines.push(c.green(`        + ${quoted(item)}`));
        return;
      }
      const length = Math.max(before.length, after.length);
      for (let i = 0; i < length; i++) walk(before[i], after[i], `${path}[${i}]`);
      return;
    }
    if (before === undefined) {
      lines.push(c.green(`    + ${path}: ${quoted(after)}`));
    } else if (after === undefined) {
      lines.push(c.red(`    - ${path}: ${quoted(before)}`));
    } else {
      lines.push(c.yellow(`    ~ ${path}: ${quoted(before)} → ${quoted(after)}`));
    }
  };
  walk(change.before, change.after, '');
  return lines;
}
