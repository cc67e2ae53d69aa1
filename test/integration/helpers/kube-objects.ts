// Kubernetes objects the integration tests seed through kubectl (an independent client), and the
// static-key fixtures the audit, migration and doctor stories share.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackInfo } from '../../harness/stack.ts';
import { kubectl } from './cli.ts';

/** AWS's documented example key pair: looks real to a scanner, grants nothing. */
export const EXAMPLE_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
export const EXAMPLE_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let dir: string | undefined;
let sequence = 0;

/** `kubectl apply -f` of one object, written to a file of this test process's own. */
export async function kubectlApply(stack: Pick<StackInfo, 'env'>, object: unknown): Promise<void> {
  dir ??= mkdtempSync(join(tmpdir(), 'irsa-objects-'));
  const file = join(dir, `object-${++sequence}.json`);
  writeFileSync(file, JSON.stringify(object));
  await kubectl(stack, ['apply', '-f', file]);
}

/** A Deployment with one container `app` (no controller runs on the stack, so it makes no pods). */
export function deployment(
  ns: string,
  name: string,
  pod: { serviceAccountName?: string; annotations?: Record<string, string>; env?: unknown[]; envFrom?: unknown[] },
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, ...(pod.annotations ? { annotations: pod.annotations } : {}) },
        spec: {
          ...(pod.serviceAccountName ? { serviceAccountName: pod.serviceAccountName } : {}),
          containers: [{ name: 'app', image: 'busybox', env: pod.env ?? [], ...(pod.envFrom ? { envFrom: pod.envFrom } : {}) }],
        },
      },
    },
  };
}
