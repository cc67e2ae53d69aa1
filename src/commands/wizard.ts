// irsa wizard (and bare `irsa` in a terminal): asks for the binding step by step, then plans and
// applies it with the same reads, planner, renderer and engine as create-sa-role.

import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { createCommandContext } from './context.ts';
import { parseGlobals } from './globals.ts';
import { createOutput, type Output } from '../ui/output.ts';
import { parseVerifyOptions } from './verify.ts';

export const NOT_A_TTY_MESSAGE =
  'irsa wizard asks questions and needs an interactive terminal, but stdin or stdout is not a TTY. In scripts and CI use the flags instead, for example:\n' +
  '  irsa create-sa-role --cluster <name> --region <region> -n <namespace> --name <serviceaccount> --attach-policy-arn <arn> --approve\n' +
  '(irsa create-sa-role --help lists them all; irsa plan/apply -f irsa.yaml manages many bindings).';

export async function run(options: Record<string, unknown>, _args: string[] = [], outputArg?: Output): Promise<number> {
  const globals = parseGlobals(options);
  const output = outputArg ?? createOutput(options);
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UserError(NOT_A_TTY_MESSAGE, 'wizard');
  if (globals.output === 'json') {
    throw new UserError('-o json: the wizard is interactive and prints text. For JSON plans use irsa create-sa-role ... -o json.', '--output');
  }
  const caBundle = options['caBundle'] as string | undefined;
  const verify = parseVerifyOptions(options);
  const [{ runWizard, CANCELLED_MESSAGE, CANCELLED_EXIT_CODE }, { createInquirerPrompts }, { wizardPlanning }] = await Promise.all([
    import('../ui/wizard/flow.ts'),
    import('../ui/wizard/prompts.ts'),
    import('../engine/wizard.ts'),
  ]);

  // Ctrl-C at a prompt is handled by the prompt layer. Between prompts (while an API call runs)
  // the terminal sends SIGINT: exit at once, saying whether anything may have been applied.
  let applying: string | null = null;
  const onSigint = () => {
    output.out(
      applying
        ? `\nInterrupted while applying: some changes may be applied. Run this to converge:\n  ${applying}\n`
        : `\n${CANCELLED_MESSAGE}\n`,
    );
    process.exit(CANCELLED_EXIT_CODE);
  };
  process.on('SIGINT', onSigint);
  // The context of the region the user picked: its cluster's Leases lock trust writes (engine/trust-lock.ts).
  let connected: ReturnType<typeof createCommandContext> | undefined;
  const onWait = ({ role, lease, holder }: { role: string; lease: string; holder: string }) =>
    output.err(`waiting for the trust lock of role ${role}: Lease ${lease} is held by ${holder} (another irsa run writing this role)\n`);
  try {
    return await runWizard({
      prompts: createInquirerPrompts(),
      planning: {
        ...wizardPlanning,
        apply: async (plan, gateways, hooks) => wizardPlanning.apply(plan, gateways, hooks, connected ? { leases: await connected.leases(), onWait } : {}),
      },
      services: {
        defaultRegion: async () => {
          try {
            return (await createCommandContext(globals).region()) || null;
          } catch {
            return null; // no region configured: the user picks one
          }
        },
        connect: (region) => (connected = createCommandContext({ ...globals, region }, { ...(caBundle ? { caBundle } : {}) })),
        readFile: (path) => readFileSync(path, 'utf8'),
      },
      globals: { ...globals, caBundle },
      out: (text) => output.out(text),
      onPhase: (phase, command) => {
        applying = phase === 'applying' ? command : null;
      },
      ...(verify
        ? {
            verify: async (binding, connection) => {
              const { renderVerify, verifyBindings } = await import('../engine/verify.ts');
              const ctx = connection as ReturnType<typeof createCommandContext>;
              const [kube, sts] = await Promise.all([ctx.kube(), ctx.sts()]);
              const results = await verifyBindings([binding], { kube, sts, timeoutMs: verify.timeoutMs });
              return { ok: results.every((r) => r.ok), lines: renderVerify(results) };
            },
          }
        : {}),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
}
