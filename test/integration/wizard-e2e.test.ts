// irsa wizard end to end: the built binary in a real pseudo-terminal (tmux), against the local
// stack. Keys are sent with tmux send-keys and every step waits for its prompt on the screen
// (capture-pane) with a timeout, never a fixed sleep. Results are checked with the aws CLI and
// kubectl, and the printed equivalent command is run non-interactively.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stackRequired, useStack } from '../harness/availability.ts';
import { aws, irsa, IRSA_BIN, json, kubectl, writeCalls } from './helpers/cli.ts';

const run = promisify(execFile);
const { stack, skip: stackSkip } = await useStack();

const tmuxMissing = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return false;
  } catch {
    return true;
  }
})();
const built = existsSync(new URL('../../dist/cli.js', import.meta.url));
const missing = (tmuxMissing && 'tmux is not installed (apt-get install tmux)') || (!built && 'irsa is not built: run npm run build first');
// Like the stack itself: a loud failure instead of a skip when the stack is required (CI).
if (missing && !stackSkip && stackRequired()) throw new Error(`irsa wizard end-to-end test: ${missing}`);
const skip = stackSkip || missing;

const S3_READ = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
// Our own tmux server on a socket in a temp dir: never touches the user's sessions, leaves nothing behind.
const socketDir = mkdtempSync(join(tmpdir(), 'irsa-wizard-tmux-'));
const SOCKET = join(socketDir, 'tmux.sock');
let sessions = 0;

/** One wizard process in a 200×50 tmux pane. */
class Terminal {
  readonly name = `wizard${++sessions}`;

  static async start(args: string[]): Promise<Terminal> {
    const terminal = new Terminal();
    const env = Object.entries({ ...stack.env, PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // The shell prints the exit code and keeps the pane open so the last screen can be read.
    const command = `${shellQuote(process.execPath)} ${[IRSA_BIN, ...args].map(shellQuote).join(' ')}; echo "[exit $?]"; sleep 600`;
    await tmux(['new-session', '-d', '-x', '200', '-y', '50', '-s', terminal.name, ...env, command]);
    return terminal;
  }

  /** The whole pane including scrollback (tmux keeps 2000 lines: a whole run), wrapped lines joined. */
  async screen(): Promise<string> {
    const { stdout } = await run('tmux', ['-S', SOCKET, 'capture-pane', '-p', '-J', '-S', '-10000', '-t', this.name]);
    return stdout;
  }

  /** Polls the screen until it matches, or fails with the last screen. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      last = await this.screen();
      const match = last.match(pattern);
      if (match) return match;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; the screen was:\n${last}`);
  }

  /**
   * Types a term at the active prompt and presses Enter once the prompt is idle ("?" prefix, not a
   * spinner) showing the whole term with the wanted choice under the cursor: an Enter pressed
   * while a search prompt is still loading is ignored by inquirer.
   */
  async pick(message: string, term: string, choice: string, shown = term): Promise<void> {
    // Keys typed before the prompt takes the terminal are lost (cooked mode), so wait for it first.
    await this.waitFor(new RegExp(`^\\? ${escape(message)}`, 'm'));
    if (term) await this.type(term);
    await this.waitFor(new RegExp(`^\\? ${escape(message)}.*${escape(shown)}\\s*$[\\s\\S]*^❯ ${escape(choice)}`, 'm'));
    await this.key('Enter');
  }

  async type(text: string): Promise<void> {
    await tmux(['send-keys', '-t', this.name, '-l', text]);
  }

  async key(...keys: string[]): Promise<void> {
    await tmux(['send-keys', '-t', this.name, ...keys]);
  }

  async exitCode(): Promise<number> {
    return Number((await this.waitFor(/\[exit (\d+)\]/, 60_000))[1]);
  }

  async stop(): Promise<void> {
    await tmux(['kill-session', '-t', this.name]).catch(() => {});
  }
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const tmux = (args: string[]) => run('tmux', ['-S', SOCKET, ...args]);
const shellQuote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** Splits a printed command line back into words (bare words and '…' quoting, as shellQuote makes). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!));
}

/** The answers up to the plan: region, cluster, namespace, a new SA, one policy by part of its name, IRSA, (provider), default role. */
async function answerUpToPlan(t: Terminal, namespace: string, serviceAccount: string, expectProviderQuestion: boolean) {
  await t.pick('AWS region of the cluster', stack.region, stack.region);
  await t.pick('EKS cluster in', stack.clusterName.slice(0, 6), stack.clusterName);
  await t.pick('Namespace of the ServiceAccount', namespace, namespace);
  await t.pick(`ServiceAccount in ${namespace}`, serviceAccount, `New ServiceAccount "${serviceAccount}"`);
  await t.pick('Permissions of the role', '', 'Search AWS and customer managed policies by name');
  await t.pick('Policy name (type part of it', 'S3ReadOnly', 'AmazonS3ReadOnlyAccess');
  await t.pick('Permissions of the role', '', 'Done: continue with 1 policy');
  // The suggested role name is already typed (editable); Enter accepts it.
  const roleName = `irsa-${stack.clusterName}-${namespace}-${serviceAccount}`;
  await t.pick('How should pods get the role', '', 'IRSA: the ServiceAccount annotation');
  // Only IRSA needs the cluster's OIDC provider: asked after the mechanism.
  if (expectProviderQuestion) await t.pick('Add the OIDC provider to the plan?', '', 'Yes, include it in the plan');
  await t.pick('IAM role name', '', roleName, roleName);
  await t.pick('Permissions boundary', '', 'No permissions boundary');
  await t.waitFor(/^\? Apply this plan\? \(y\/N\)/m);
}

async function clusterState(namespace: string) {
  const [roles, providers, serviceAccounts] = await Promise.all([
    aws(stack, ['iam', 'list-roles']),
    aws(stack, ['iam', 'list-open-id-connect-providers']),
    kubectl(stack, ['get', 'sa', '-n', namespace, '-o', 'json']),
  ]);
  return {
    roles: roles.Roles.map((r: { RoleName: string }) => r.RoleName).sort(),
    providers: providers.OpenIDConnectProviderList.map((p: { Arn: string }) => p.Arn).sort(),
    serviceAccounts: serviceAccounts.items.map((sa: { metadata: { name: string; annotations?: object } }) => [sa.metadata.name, sa.metadata.annotations ?? {}]),
  };
}

describe('irsa wizard in a real terminal', { skip }, () => {
  const namespace = `wizard-${process.pid}`;
  const terminals: Terminal[] = [];
  const start = async (args: string[] = ['wizard']) => {
    const t = await Terminal.start(args);
    terminals.push(t);
    return t;
  };
  let equivalent: string[] = [];

  before(async () => {
    await stack.resetAws(); // no OIDC provider: the wizard must offer it
    await kubectl(stack, ['create', 'namespace', namespace]);
  });
  after(async () => {
    for (const t of terminals) await t.stop();
    await tmux(['kill-server']).catch(() => {});
    rmSync(socketDir, { recursive: true, force: true });
  });

  it('creates the provider, role, attachment and annotated SA after confirm, and prints the equivalent command', async () => {
    const t = await start([]); // bare `irsa` in a terminal starts the wizard
    await answerUpToPlan(t, namespace, 'app', true);
    const screen = await t.screen();
    assert.match(screen, /\+ iam-role arn:aws:iam::\d+:role\/irsa-/);
    assert.match(screen, /Plan: 4 to create/);
    await t.type('y');
    await t.key('Enter');
    const code = await t.exitCode();
    const final = await t.screen();
    assert.equal(code, 0, final);
    assert.match(final, /Apply complete: 4 changes applied/);
    assert.match(final, /✓ create service-account/);

    const roleName = `irsa-${stack.clusterName}-${namespace}-app`;
    const role = (await aws(stack, ['iam', 'get-role', '--role-name', roleName])).Role;
    const attached = await aws(stack, ['iam', 'list-attached-role-policies', '--role-name', roleName]);
    assert.deepEqual(attached.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn), [S3_READ]);
    const sa = await kubectl(stack, ['get', 'sa', 'app', '-n', namespace, '-o', 'json']);
    assert.equal(sa.metadata.annotations['eks.amazonaws.com/role-arn'], role.Arn);

    const line = final.match(/^\s+(irsa create-sa-role .*--approve)\s*$/m);
    assert.ok(line, `no equivalent command on the screen:\n${final}`);
    equivalent = shellWords(line[1]!);
    assert.match(final, /bindings:\n\s+- namespace: /);
  });

  it('the printed equivalent command, run non-interactively, plans only no-ops', async () => {
    assert.ok(equivalent.length > 0, 'the first test printed a command');
    const result = await irsa(stack, [...equivalent.slice(1), '--detailed-exitcode', '-o', 'json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const plan = json<{ plan: { changes: Array<{ action: string }> } }>(result).plan;
    assert.ok(plan.changes.length > 0 && plan.changes.every((c) => c.action === 'no-op'), JSON.stringify(plan.changes.map((c) => c.action)));
    assert.deepEqual(writeCalls(result.calls), {});
  });

  it('declining at the confirm prompt (default No) changes nothing', async () => {
    const before = await clusterState(namespace);
    const t = await start();
    await answerUpToPlan(t, namespace, 'declined', false); // the provider exists now
    await t.key('Enter'); // default: No
    assert.equal(await t.exitCode(), 0);
    assert.match(await t.screen(), /Nothing was applied\. To apply this plan later, run:/);
    assert.deepEqual(await clusterState(namespace), before);
  });

  it('Ctrl-C at a prompt exits 130 with one line and nothing applied', async () => {
    const before = await clusterState(namespace);
    const t = await start();
    await t.waitFor(/AWS region of the cluster/);
    await t.key('C-c');
    assert.equal(await t.exitCode(), 130);
    assert.match(await t.screen(), /^Cancelled\. Nothing was applied\.$/m);
    assert.deepEqual(await clusterState(namespace), before);
  });
});
