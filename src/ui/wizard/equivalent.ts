// Turns the wizard's answers into what reproduces them without prompts: the exact
// `irsa create-sa-role …` command line, and an irsa.yaml snippet for irsa plan/apply -f.

import { isAbsolute, relative, resolve, sep } from 'node:path';
import { stringify } from 'yaml';
import { DEFAULT_INLINE_POLICY_NAME } from '../../core/resources/inline-policy.ts';
import type { WizardAnswers, WizardGlobals } from '../../core/wizard-answers.ts';

/** The create-sa-role arguments (without the leading `irsa`) that plan the same binding. */
export function equivalentArgs(answers: WizardAnswers, globals: WizardGlobals): string[] {
  const args = ['create-sa-role', '--cluster', answers.cluster, '--region', answers.region, '-n', answers.namespace, '--name', answers.serviceAccount];
  // Always explicit, even when it is the generated default: CI should not depend on how names are derived.
  args.push('--role-name', answers.roleName);
  for (const arn of answers.policyArns) args.push('--attach-policy-arn', arn);
  if (answers.inlinePolicy) {
    args.push('--inline-policy', answers.inlinePolicy.file);
    if (answers.inlinePolicy.name !== DEFAULT_INLINE_POLICY_NAME) args.push('--inline-policy-name', answers.inlinePolicy.name);
  }
  if (answers.permissionsBoundary) args.push('--permissions-boundary', answers.permissionsBoundary);
  if (answers.adopt) args.push('--adopt');
  if (answers.createNamespace) args.push('--create-namespace');
  if (answers.overrideExistingServiceAccount) args.push('--override-existing-serviceaccounts');
  if (answers.restartWorkloads) args.push('--restart-workloads');
  if (answers.mechanism === 'pod-identity') args.push('--mechanism', 'pod-identity', ...(answers.installPodIdentityAgent ? ['--install-pod-identity-agent'] : []));
  if (globals.caBundle) args.push('--ca-bundle', globals.caBundle);
  if (globals.profile) args.push('--profile', globals.profile);
  if (globals.kubeconfig) args.push('--kubeconfig', globals.kubeconfig);
  if (globals.context) args.push('--context', globals.context);
  args.push('--approve');
  return args;
}

/** POSIX shell quoting: bare when safe, else single quotes (same rule as applyCommandLine). */
export const shellQuote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

export function equivalentCommandLine(answers: WizardAnswers, globals: WizardGlobals): string {
  return ['irsa', ...equivalentArgs(answers, globals)].map(shellQuote).join(' ');
}

/**
 * One binding of irsa.yaml (docs/config.md). The file is exact where create-sa-role ensures: the
 * role gets exactly these policies, so the snippet says so.
 */
export function configSnippet(answers: WizardAnswers, globals: WizardGlobals, cwd: string = process.cwd()): string {
  const binding: Record<string, unknown> = {
    namespace: answers.namespace,
    name: answers.serviceAccount,
    roleName: answers.roleName,
  };
  if (answers.policyArns.length > 0) binding['managedPolicies'] = [...answers.policyArns];
  // Policy files in irsa.yaml are relative to the file, which is saved where the wizard ran: an
  // absolute path would tie the snippet to this machine.
  if (answers.inlinePolicy) binding['inlinePolicies'] = { [answers.inlinePolicy.name]: { file: portablePath(answers.inlinePolicy.file, cwd) } };
  if (answers.permissionsBoundary) binding['permissionsBoundary'] = answers.permissionsBoundary;
  if (answers.restartWorkloads) binding['restart'] = true;
  if (answers.createNamespace) binding['createNamespace'] = true;
  if (answers.adopt) binding['adopt'] = true;
  if (answers.mechanism === 'pod-identity') {
    binding['mechanism'] = 'pod-identity';
    if (answers.installPodIdentityAgent) binding['installPodIdentityAgent'] = true;
  }
  const cluster: Record<string, string> = { name: answers.cluster, region: answers.region };
  if (globals.profile) cluster['profile'] = globals.profile;
  const header = [
    '# irsa.yaml: irsa plan -f irsa.yaml, then irsa apply -f irsa.yaml --approve',
    '# Exact: the role gets exactly the policies listed here' + (answers.inlinePolicy ? '; policy files are relative to this file.' : '.'),
  ];
  return header.join('\n') + '\n' + stringify({ version: 1, cluster, bindings: [binding] }, { lineWidth: 0 });
}

/** The path relative to `cwd` (with "/" separators), as irsa.yaml resolves policy files. */
export function portablePath(file: string, cwd: string): string {
  const path = relative(cwd, resolve(cwd, file)).split(sep).join('/');
  return isAbsolute(path) ? path : path.startsWith('.') ? path : `./${path}`;
}
