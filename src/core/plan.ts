// A plan is data: typed changes with before/after values and dependencies, and blockers (what
// stops apply until the user decides). Planning produces it, renderers show it, apply executes it.

import type {
  AttachmentValue,
  InlinePolicyValue,
  NamespaceValue,
  OidcProviderValue,
  RoleValue,
  ServiceAccountValue,
  WorkloadRestartValue,
} from './resources/types.ts';

export type Action = 'create' | 'update' | 'delete' | 'no-op';

/**
 * What each kind of change carries in `before` / `after`. Apply reads exactly these.
 *
 * A new kind declares itself in its own module (core/resources/<kind>.ts) by augmenting this
 * interface, as core/resources/secret.ts does:
 *
 *   declare module '../plan.ts' { interface ChangeValues { 'my-kind': MyValue } }
 *
 * and then registers its kind spec in core/resources/registry.ts and its executor in
 * engine/executors/index.ts (one line each). Both registries are typed as "every kind", so a kind
 * missing from either does not compile.
 */
export interface ChangeValues {
  'oidc-provider': OidcProviderValue;
  'iam-role': RoleValue;
  'role-policy-attachment': AttachmentValue;
  'inline-policy': InlinePolicyValue;
  namespace: NamespaceValue;
  'service-account': ServiceAccountValue;
  'workload-restart': WorkloadRestartValue;
  // 'workload-template', 'secret' and 'config-map' are declared by their own modules (core/resources/).
}

export type ResourceKind = keyof ChangeValues;

export interface ChangeCommon {
  /**
   * Stable id, derived from the resource's typed reference (core/model/refs.ts changeIds) and never
   * parsed back: an ARN, `<role ARN>#<policy ARN>` for attachments, or for a Kubernetes object
   * `<cluster>/<namespace>/<name>` (cluster-qualified).
   */
  id: string;
  /** The cluster (core/model/refs.ts clusterKey) a Kubernetes-side change lands in; absent for AWS resources. */
  cluster?: string;
  /** Keys (`kind:id`) of changes that must be applied before this one. */
  dependsOn: string[];
  /** Only to explain the change to people; apply never reads it. */
  reason?: string;
  /** AWS account the change lands in (cross-account plans say where each change goes). */
  account?: string;
  /** Per-change warnings the renderer prints next to the change. */
  warnings?: string[];
}

/** The action decides which of before/after exist, so apply never meets a missing value. */
export type Transition<V> =
  | { action: 'create'; before: null; after: V }
  | { action: 'update'; before: V; after: V }
  | { action: 'no-op'; before: V; after: V }
  | { action: 'delete'; before: V; after: null };

/** A restart has no before state: it is an action on a workload, an update (or done: a no-op). */
type RestartTransition = { action: 'update' | 'no-op'; before: null; after: WorkloadRestartValue };

export type ChangeOf<K extends ResourceKind> = ChangeCommon & { kind: K } & (K extends 'workload-restart' ? RestartTransition : Transition<ChangeValues[K]>);

/** One change; `switch (change.kind)` narrows before/after to the kind's value type. */
export type Change = { [K in ResourceKind]: ChangeOf<K> }[ResourceKind];

/**
 * What stops apply until the user decides: a conflict with what exists (a role irsa did not
 * create, a ServiceAccount bound to another role, a missing namespace …). The plan still shows
 * every change; `--approve` refuses while any blocker is left. Message and fix are worded in the
 * entry point's terms (a flag, an irsa.yaml key, a wizard question).
 */
export interface Blocker {
  /** Stable, machine-readable (the wizard picks its question by it). */
  code: BlockerCode;
  /** The resource it concerns (`kind:id`, as in dependsOn). */
  resource: string;
  message: string;
  fix: string;
  /** The field that resolves it, in the entry point's terms (flag, irsa.yaml key). */
  field: string;
  /** Index of the binding request it came from (wizard and irsa.yaml use it). */
  binding?: number;
}

export type BlockerCode =
  | 'role-not-owned'
  | 'role-not-found'
  | 'trust-policy-too-large'
  | 'too-many-managed-policies'
  | 'inline-policies-too-large'
  | 'namespace-missing'
  | 'service-account-bound-elsewhere'
  | 'policy-not-found'
  | 'oidc-provider-missing'
  | 'service-account-in-use'
  // EKS Pod Identity (core/resources/pod-identity-association.ts, eks-addon.ts)
  | 'association-bound-elsewhere'
  | 'association-owned-by-addon'
  | 'pod-identity-agent-missing'
  | 'pod-identity-agent-unhealthy'
  | 'pod-identity-unavailable'
  // Access requests (core/access-plan.ts):
  | 'account-profile-missing'
  | 'secret-not-found'
  | 'key-not-found'
  | 'secret-uses-aws-managed-key'
  | 'key-policy-would-be-empty'
  // Closing the old paths (core/close-paths.ts):
  | 'node-policy-still-needed';

export interface Plan {
  changes: Change[];
  /** Conflicts that stop apply; empty when the plan can be applied. */
  blockers: Blocker[];
  /** Plan-wide warnings (e.g. thumbprint expiry, wildcard subjects). */
  warnings: string[];
  /** Things left alone on purpose, shown to people (e.g. unowned roles without --prune). */
  notes: string[];
  /**
   * Trust that admits ServiceAccounts of several namespaces, accepted with --allow-wide-subjects
   * (core/wide-subjects.ts): shown in red, apart from the warnings.
   */
  widenings?: string[];
}

export const changeKey = (change: Pick<Change, 'kind' | 'id'>): string => `${change.kind}:${change.id}`;

/**
 * The id as people read it: inside a one-cluster plan a Kubernetes object is `namespace/name`
 * (the cluster is the one the command names); a plan over several clusters shows the whole id.
 * The cluster part is the change's own `cluster` field, the prefix its id was built with
 * (core/model/refs.ts changeIds), so nothing is parsed.
 */
export function shownId(change: Pick<Change, 'id' | 'cluster'>, manyClusters = false): string {
  const prefix = change.cluster === undefined ? '' : `${change.cluster}/`;
  return !manyClusters && prefix && change.id.startsWith(prefix) ? change.id.slice(prefix.length) : change.id;
}

export const ACTION_SYMBOL: Record<Action, string> = { create: '+', update: '~', delete: '-', 'no-op': ' ' };

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  'no-op': number;
}

export function summarize(plan: Pick<Plan, 'changes'>): PlanSummary {
  const summary: PlanSummary = { create: 0, update: 0, delete: 0, 'no-op': 0 };
  for (const change of plan.changes) summary[change.action]++;
  return summary;
}

export function hasChanges(plan: Pick<Plan, 'changes'>): boolean {
  return plan.changes.some((change) => change.action !== 'no-op');
}

export function emptyPlan(): Plan {
  return { changes: [], blockers: [], warnings: [], notes: [] };
}

/**
 * The same change, already done: a no-op whose before and after are what it leaves behind (its
 * `after`, or for a delete what was there). One rule for every kind; a restart has no state, so
 * done only means no-op.
 */
export function asDone(change: Change): Change {
  if (change.kind === 'workload-restart') return { ...change, action: 'no-op' };
  const value = change.action === 'delete' ? change.before : change.after;
  // Same kind, same value type on both sides: the union cannot express that per member here.
  return { ...change, action: 'no-op', before: value, after: value } as Change;
}

/** Compile-time exhaustiveness: a switch over kinds that misses one does not type-check. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case ${JSON.stringify(value)}`);
}
