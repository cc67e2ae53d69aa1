// doctor's result and input types that admission.ts and doctor.ts share (a base type lives in
// core/model/, so the two feature modules do not import each other).

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface DoctorCheck {
  id: string;
  /** The numbered step of the chain this check belongs to (1–6, as in the docs). */
  step: number;
  title: string;
  status: CheckStatus;
  observed: string;
  expected: string;
  /** An irsa command where one exists; null when there is nothing to do. */
  fix: string | null;
  /** Per pod / container lines (admission and running-pod checks). */
  details?: string[];
}

/** One webhook of a MutatingWebhookConfiguration, as the Kubernetes adapter reads it. */
export interface MutatingWebhookState {
  /** The MutatingWebhookConfiguration's name. */
  configuration: string;
  /** The webhook's own name (e.g. iam-for-pods.amazonaws.com). */
  webhook: string;
  service: { namespace: string; name: string; path: string | null } | null;
  url: string | null;
  rules: Array<{ operations: string[]; apiGroups: string[]; resources: string[]; apiVersions?: string[]; scope?: string }>;
  failurePolicy: string;
  namespaceSelector?: LabelSelector | null;
  objectSelector?: LabelSelector | null;
  sideEffects?: string;
}

/** A value that was read, or why it could not be. */
export type Read<T> = { value: T } | { error: string };

