// `npm run stack [-- --env-file <path>]`: builds the binaries if needed, starts the local stack,
// prints the shell environment to use it, and runs until Ctrl-C / SIGTERM.
// Exports go to stdout (and to --env-file); progress goes to stderr.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { STACK_ENV, stackAvailability } from './availability.ts';
import { BUILD_SCRIPT, startStack, type Stack } from './stack.ts';

const say = (message: string) => process.stderr.write(`[irsa stack] ${message}\n`);

// node itself takes --env-file anywhere before a `--`, so package.json runs `stack-cli.ts --`;
// run directly, use --env-out.
const args = process.argv.slice(2);
const { values } = parseArgs({
  args: args[0] === '--' ? args.slice(1) : args,
  options: { 'env-file': { type: 'string' }, 'env-out': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  process.stdout.write('usage: npm run stack [-- --env-file <path>]   |   node test/harness/stack-cli.ts [--env-out <path>]\n');
  process.exit(0);
}
const envFile = values['env-file'] ?? values['env-out'];

let availability = await stackAvailability();
if (!availability.etcd || !availability.kubeApiserver || !availability.webhook) {
  say(`building binaries into ${availability.binDir} (the first build takes tens of minutes)`);
  const build = spawnSync('bash', [BUILD_SCRIPT, 'all'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) {
    say(`build-binaries.sh failed (exit ${build.status ?? build.signal})`);
    process.exit(1);
  }
  availability = await stackAvailability();
}
if (!availability.ok) {
  say(`cannot start the stack:\n${availability.missing.map((m) => `  - ${m}`).join('\n')}`);
  process.exit(1);
}

let stack: Stack | undefined;
let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) {
    say(`${signal} again: killing`);
    process.exit(130); // the exit hook in stack.ts SIGKILLs whatever is left
  }
  stopping = true;
  say(`${signal}: stopping`);
  await stack?.stop();
  if (envFile) fs.rmSync(envFile, { force: true });
  say('stopped');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));

try {
  stack = await startStack({ onProgress: say });
} catch (error) {
  say((error as Error).message);
  process.exit(1);
}
if (stopping) await new Promise(() => {}); // a signal arrived mid-start; shutdown() exits

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
const exports = Object.entries({ ...stack.env, [STACK_ENV.info]: stack.infoPath })
  .map(([name, value]) => `export ${name}=${quote(value)}`)
  .join('\n');
process.stdout.write(`${exports}\n`);
if (envFile) {
  fs.writeFileSync(envFile, `# irsa local stack (pid ${process.pid}); removed when it stops\n${exports}\n`);
  say(`wrote ${envFile}`);
}
say(`EKS cluster ${stack.clusterName} (${stack.region}) is ACTIVE; issuer ${stack.issuerUrl}; kube context ${stack.kubeContext}`);
say(`pod identity webhook ${stack.webhook.version} at ${stack.webhook.url}, registered as ${stack.webhook.configurationName}; EKS Pod Identity ServiceAccounts: ${stack.webhook.containerCredentialsConfigPath}`);
say(`logs in ${stack.logDir}`);
say(`stack start-up time: ${(stack.startupMs / 1000).toFixed(1)}s — Ctrl-C to stop`);
setInterval(() => {}, 1 << 30); // stay up until a signal
