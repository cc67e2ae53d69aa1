// Parses and validates create-sa-role options into a BindingRequest. Everything that can be
// checked without an API call is checked here, before the first read.

import { readFileSync } from 'node:fs';
import type { BindingRequest } from '../core/binding.ts';
import { checkField, validateBinding, type BindingInput, type Problem } from '../core/binding-input.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import { parseTagList } from '../core/names.ts';
import { parsePolicyDocument } from '../core/policy-document.ts';
import { FLAG_TERMS, type Terms } from '../core/terms.ts';
import { VALUE_FIELDS, valueFromFlags } from '../core/fields.ts';
import { parseWorkloadRef } from '../core/migration.ts';

import { DEFAULT_INLINE_POLICY_NAME } from '../core/resources/inline-policy.ts';

export { DEFAULT_INLINE_POLICY_NAME };

/** Reads a JSON policy document file (validated by the binding validator). */
export function readPolicyText(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`${field}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Give the path of a JSON policy document.`, field);
  }
}

/** Reads and validates a JSON policy document file. */
export function readPolicyFile(path: string, field: string): unknown {
  return parsePolicyDocument(readPolicyText(path, field), `${field} ${path}`);
}

/** A validator problem as one line in flag terms. */
export function renderProblem(problem: Problem, terms: Terms = FLAG_TERMS): string {
  const name = terms.name(problem.path);
  if (problem.message.startsWith(name)) return problem.message;
  return problem.message.startsWith('is required') ? `${name} ${problem.message}` : `${name}: ${problem.message}`;
}


export function parseBindingOptions(options: Record<string, unknown>): BindingRequest {
  const problems: string[] = [];
  const cluster = options['cluster'] as string | undefined;
  const issuerUrl = options['issuerUrl'] as string | undefined;
  if (!cluster && !issuerUrl) problems.push('--cluster is required (or --issuer-url for a self-managed cluster).');

  // What only flags can get wrong: their text forms (tags shorthand, a policy file to read) and combinations.
  let tags: Record<string, string> | undefined;
  try {
    if (options['tags'] !== undefined) tags = parseTagList(options['tags'] as string);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    problems.push(error.message);
  }
  const inlinePath = options['inlinePolicy'] as string | undefined;
  const inlineName = (options['inlinePolicyName'] as string | undefined) ?? DEFAULT_INLINE_POLICY_NAME;
  let inlinePolicies: BindingInput['inlinePolicies'] = {};
  if (inlinePath) {
    try {
      inlinePolicies = { [inlineName]: { text: readPolicyText(inlinePath, '--inline-policy'), source: `--inline-policy ${inlinePath}` } };
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(error.message);
    }
  }
  // EKS Pod Identity's session policy: a JSON file, like --inline-policy (validated with the binding).
  const sessionPolicyPath = options['sessionPolicy'] as string | undefined;
  let sessionPolicy: BindingInput['sessionPolicy'];
  if (sessionPolicyPath) {
    try {
      sessionPolicy = { text: readPolicyText(sessionPolicyPath, '--session-policy'), source: sessionPolicyPath };
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(error.message);
    }
  }
  const attachRoleArn = options['attachRoleArn'] as string | undefined;
  const boundary = options['permissionsBoundary'] as string | undefined;
  // Absent when not given: a field the user did not give must not count as given (core/fields.ts rules).
  const policyArns = options['attachPolicyArn'] as string[] | undefined;
  // Binding fields that cannot go together are core/fields.ts's rules (validateBinding); --prune is a command option.
  if (attachRoleArn && options['prune']) {
    problems.push('--prune: cannot be combined with --attach-role-arn: that binding only adds the ServiceAccount to the existing role\'s trust policy and changes nothing else about the role');
  }
  const workloads = ((options['workload'] as string[] | undefined) ?? []).flatMap((text) => {
    const parsed = parseWorkloadRef(text);
    if (!parsed) problems.push(`--workload: "${text}" is not a workload. Write <kind>/<name>, e.g. deployment/${(options['name'] as string | undefined) ?? 'api'} (kinds: deployment, statefulset, daemonset, cronjob, job, pod).`);
    return parsed ? [parsed] : [];
  });
  const migration = {
    removeStaticKeys: options['removeStaticKeys'] === true,
    deleteKeySecrets: options['deleteKeySecrets'] === true,
    migrateKube2iam: options['migrateKube2iam'] === true,
    workloads,
  };
  // --role-only with a migration option, --delete-key-secrets without --remove-static-keys: core/fields.ts's rules, applied by validateBinding.

  const input: BindingInput = {
    cluster,
    issuerUrl,
    namespace: options['namespace'] as string | undefined,
    name: options['name'] as string | undefined,
    roleName: options['roleName'] as string | undefined,
    rolePath: options['path'] as string | undefined,
    attachRoleArn,
    policyArns,
    inlinePolicies,
    permissionsBoundary: boundary,
    tags,
    audience: options['audience'] as string | undefined,
    subjectPattern: options['subjectPattern'] as string | undefined,
    allowWideSubjects: options['allowWideSubjects'] === true,
    trustPolicySizeLimit: options['maxTrustPolicySize'],
    roleOnly: options['roleOnly'] === true,
    createNamespace: options['createNamespace'] === true,
    ...(migration.removeStaticKeys || migration.deleteKeySecrets || migration.migrateKube2iam || workloads.length > 0 ? { migration } : {}),
    mechanism: options['mechanism'] as string | undefined,
    targetRoleArn: options['targetRoleArn'] as string | undefined,
    disableSessionTags: options['disableSessionTags'] === true,
    sessionPolicy,
    installPodIdentityAgent: options['installPodIdentityAgent'] === true,
    // The fields core/fields.ts handles from their row alone.
    ...Object.fromEntries(VALUE_FIELDS.map((field) => [field, valueFromFlags(field, options)])),
  };
  const validated = validateBinding(input, FLAG_TERMS);
  // --inline-policy-name without --inline-policy is still checked (it is a typo waiting to matter).
  if (!inlinePath) {
    const problem = checkField('inlinePolicies', inlineName, FLAG_TERMS, { item: inlineName, part: 'name' });
    if (problem) validated.problems.push({ path: { field: 'inlinePolicies', item: inlineName, part: 'name' }, message: problem });
  }
  problems.push(...validated.problems.map((problem) => renderProblem(problem)));
  if (problems.length === 1) throw new UserError(problems[0]!);
  if (problems.length > 1) throw new ValidationErrors(problems);
  return validated.request!;
}
