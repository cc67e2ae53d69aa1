// One temporary directory per test run: the runner points TMPDIR at it before any test file
// starts (test files, and the irsa, aws and kubectl processes they start, inherit it, so every
// os.tmpdir() / mktemp lands inside), and removes it at teardown. `npm test` then leaves no new
// entry in the system temp directory, also where a test does not clean up after itself.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let runDir: string | undefined;
let previous: string | undefined;

export function enterRunTempDir(): void {
  if (runDir) return;
  previous = process.env['TMPDIR'];
  runDir = mkdtempSync(join(tmpdir(), 'irsa-test-run-'));
  process.env['TMPDIR'] = runDir;
}

export function leaveRunTempDir(): void {
  if (!runDir) return;
  if (previous === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = previous;
  rmSync(runDir, { recursive: true, force: true });
  runDir = undefined;
}
