// `node --test --test-global-setup=test/harness/unit-setup.ts`: the unit tests' run-wide setup —
// only the run's own temporary directory (test/harness/run-temp-dir.ts).
import { enterRunTempDir, leaveRunTempDir } from './run-temp-dir.ts';

export async function globalSetup(): Promise<void> {
  enterRunTempDir();
}

export async function globalTeardown(): Promise<void> {
  leaveRunTempDir();
}
