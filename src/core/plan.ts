// A plan is data: typed changes with before/after values and dependencies.
// Planning produces it, renderers show it, apply executes exactly it.

export type Action = 'create' | 'update' | 'delete' | 'no-op';

export type ResourceKind =
  | 'oidc-provider'
  | 'iam-role'
  | 'role-policy-attachment'
  | 'inline-policy'
  | 'namespace'
  | 'service-account'
  | 'workload-restart'
  /** A workload's pod template: static keys or the kube2iam annotation removed (core/migration.ts). */
  | 'workload-template'
  /** A Secret that held static AWS keys, deleted once no workload uses it (core/migration.ts). */
  | 'secret';

export interface Change {
  action: Action;
  kind: ResourceKind;
  /** Stable id: an ARN, `namespace/name`, or `roleArn#policyArn` for attachments. */
  id: string;
  before: unknown;
  after: unknown;
  /** Keys (`kind:id`) of changes that must be applied before this one. */
  dependsOn: string[];
  /** Only to explain the change to people; apply never reads it. */
  reason?: string;
  /** AWS account the change lands in (cross-account plans say where each change goes). */
  account?: string;
  /** Per-change warnings the renderer prints next to the change. */
  warnings?: string[];
}

export interface Plan {
  changes: Change[];
  /** Plan-wide warnings (e.g. thumbprint expiry, wildcard subjects). */
  warnings: string[];
  /** Things left alone on purpose, shown to people (e.g. unowned roles without --prune). */
  notes: string[];
}

export const changeKey = (change: Pick<Change, 'kind' | 'id'>): string => `${change.kind}:${change.id}`;

export const ACTION_SYMBOL: Record<Action, string> = { create: '+', update: '~', delete: '-', 'no-op': ' ' };

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  'no-op': number;
}

export function summarize(plan: Plan): PlanSummary {
  const summary: PlanSummary = { create: 0, update: 0, delete: 0, 'no-op': 0 };
  for (const change of plan.changes) summary[change.action]++;
  return summary;
}

export function hasChanges(plan: Plan): boolean {
  return plan.changes.some((change) => change.action !== 'no-op');
}

export function emptyPlan(): Plan {
  return { changes: [], warnings: [], notes: [] };
}
