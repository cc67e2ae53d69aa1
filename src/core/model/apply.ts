// What apply reports: per change a status, and the totals. Plain data, so ports, engine and the
// views (ui/apply-report.ts) share it without depending on each other.

import type { Change } from '../plan.ts';

/** stale: the resource changed after the plan in a way apply cannot re-derive; it was not written. */
export type ChangeStatus = 'applied' | 'no-op' | 'failed' | 'stale' | 'not-started';

export interface ChangeResult {
  key: string;
  change: Change;
  status: ChangeStatus;
  error?: unknown;
  durationMs?: number;
  /** Said about this change by apply's re-check (re-derived, or already as planned). */
  notes?: string[];
}

export interface ApplyReport {
  results: ChangeResult[];
  ok: boolean;
  applied: number;
  failed: number;
  stale: number;
  notStarted: number;
}

export interface AdaptiveLimitSummary {
  /** Changes that finished after meeting throttling. */
  throttledChanges: number;
  /** Throttling replies seen (SDK retries for Throttling and its kin). */
  throttles: number;
  max: number;
  /** The lowest the limit went. */
  lowest: number;
  /** Time spent with the limit below max (from the first decrease until it was back, or the end). */
  slowedMs: number;
}

