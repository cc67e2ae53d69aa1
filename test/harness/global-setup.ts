// `node --test --test-global-setup=test/harness/global-setup.ts`: one stack for the whole run.
// It runs in the runner process; test files run in child processes, which inherit the env set
// here, so IRSA_STACK (the stack.json path) or IRSA_STACK_SKIP reaches useStack() in each file.
import { STACK_ENV, stackAvailability, stackRequired, unavailableMessage } from './availability.ts';
import { startStack, type Stack } from './stack.ts';
import { enterRunTempDir, leaveRunTempDir } from './run-temp-dir.ts';

let stack: Stack | undefined;

const say = (message: string) => process.stderr.write(`[irsa stack] ${message}\n`);

export async function globalSetup(): Promise<void> {
  // Before the stack: its directory, and every test's, go into the run's own temp dir.
  enterRunTempDir();
  if (process.env[STACK_ENV.info]) {
    say(`using the running stack described by ${process.env[STACK_ENV.info]}`);
    return;
  }
  const availability = await stackAvailability();
  if (!availability.ok) {
    const message = unavailableMessage(availability.missing);
    if (stackRequired()) throw new Error(message);
    process.stderr.write(`${message}\n`);
    process.env[STACK_ENV.skip] = availability.missing.join('\n');
    return;
  }
  stack = await startStack();
  process.env[STACK_ENV.info] = stack.infoPath;
  say(`up in ${(stack.startupMs / 1000).toFixed(1)}s: AWS ${stack.awsEndpoint}, issuer ${stack.issuerUrl}, logs ${stack.logDir}`);
}

export async function globalTeardown(): Promise<void> {
  await stack?.stop();
  leaveRunTempDir();
}
