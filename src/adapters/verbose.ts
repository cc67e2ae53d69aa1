// The CallObserver the CLI uses: counts API calls per "<service> <operation>" and retries (for the
// apply report, the benchmark and IRSA_STATS_FILE), and with --verbose prints one line per call.
// It only ever sees service, operation and a resource path — never credentials or request bodies.

import type { CallObserver } from '../ports.ts';

export interface CountingObserver extends CallObserver {
  onRetry(service: string, operation: string, reason: string): void;
  /** Calls made, keyed "<service> <operation>", e.g. "iam GetRole", "k8s GET serviceaccounts". */
  counts(): Record<string, number>;
  /** Retries reported through onRetry (the SDK clients report throttling, 5xx and network retries). */
  retries(): number;
  /** Retries keyed like counts(), with the reason (error name) last: "iam GetRole Throttling". */
  retryCounts(): Record<string, number>;
}

export interface CallObserverOptions {
  verbose?: boolean;
  /** Receives one line per call when verbose (the CLI passes a stderr writer). */
  write?: (line: string) => void;
}

/** Kubernetes operations are "<VERB> <resource>"; the verbose line shows the request path instead. */
function describe(service: string, operation: string, detail?: string): string {
  if (service === 'k8s') {
    const verb = operation.split(' ')[0] ?? operation;
    return `k8s ${detail ? `${verb} ${detail}` : operation}`;
  }
  if (service === 'tls') return `tls ${operation}${detail ? ` ${detail}` : ''}`;
  return `aws ${service} ${operation}${detail ? ` ${detail}` : ''}`;
}

export function createCallObserver(options: CallObserverOptions = {}): CountingObserver {
  const calls = new Map<string, number>();
  const retried = new Map<string, number>();
  let retryTotal = 0;
  const write = options.verbose ? (options.write ?? ((line: string) => process.stderr.write(`${line}\n`))) : undefined;
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  return {
    onCall(service, operation, detail) {
      bump(calls, `${service} ${operation}`);
      write?.(`  ${describe(service, operation, detail)}`);
    },
    onRetry(service, operation, reason) {
      retryTotal++;
      bump(retried, `${service} ${operation} ${reason}`);
      write?.(`  ${describe(service, operation)} retrying after ${reason}`);
    },
    counts: () => Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b))),
    retries: () => retryTotal,
    retryCounts: () => Object.fromEntries([...retried].sort(([a], [b]) => a.localeCompare(b))),
  };
}
