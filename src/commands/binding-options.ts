// Parses and validates create-sa-role options into a BindingRequest. Everything that can be
// checked without an API call is checked here, before the first read.

import { readFileSync } from 'node:fs';
import { assertPolicyArn, parseRoleArn } from '../core/arn.ts';
import type { BindingRequest } from '../core/binding.ts';
import { UserError, ValidationErrors } from '../core/errors.ts';
import {
  assertClusterName,
  assertNamespace,
  assertRoleName,
  assertRolePath,
  assertServiceAccountName,
  assertTags,
  defaultRoleName,
  parseTagList,
} from '../core/names.ts';
import { DEFAULT_AUDIENCE } from '../core/trust-policy.ts';
import { parsePolicyDocument } from '../core/policy-document.ts';
import { parseWorkloadRef } from '../core/migration.ts';

export const DEFAULT_INLINE_POLICY_NAME = 'irsa-inline';

const integerOption = (value: unknown, field: string, min: number, max: number, unit: string): number | undefined => {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UserError(`${field}: "${String(value)}" is not allowed. Give a whole number of ${unit} from ${min} to ${max}.`, field);
  }
  return number;
};

/** Reads and validates a JSON policy document file. */
export function readPolicyFile(path: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`${field}: cannot read "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Give the path of a JSON policy document.`, field);
  }
  return parsePolicyDocument(text, `${field} ${path}`);
}


export function parseBindingOptions(options: Record<string, unknown>): BindingRequest {
  const problems: string[] = [];
  const check = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof UserError) problems.push(error.message);
      else throw error;
      return undefined;
    }
  };
  const cluster = options['cluster'] as string | undefined;
  const issuerUrl = options['issuerUrl'] as string | undefined;
  const namespace = options['namespace'] as string | undefined;
  const name = options['name'] as string | undefined;
  if (!cluster && !issuerUrl) problems.push('--cluster is required (or --issuer-url for a self-managed cluster).');
  if (cluster) check(() => assertClusterName(cluster));
  if (!namespace) problems.push('--namespace is required: the namespace of the ServiceAccount.');
  else check(() => assertNamespace(namespace));
  if (!name) problems.push('--name is required: the name of the ServiceAccount.');
  else check(() => assertServiceAccountName(name));

  const attachRoleArn = (options['attachRoleArn'] as string | undefined) ?? null;
  const attached = attachRoleArn ? check(() => parseRoleArn(attachRoleArn, '--attach-role-arn')) : undefined;
  const clusterLabel = cluster ?? (issuerUrl ? new URL(issuerUrl).hostname.replace(/[^\w-]/g, '-') : 'cluster');
  const roleName = attached?.name ?? (options['roleName'] as string | undefined) ?? defaultRoleName(clusterLabel, namespace ?? 'default', name ?? 'default');
  check(() => assertRoleName(roleName));
  const rolePath = attached?.path ?? (options['path'] as string | undefined) ?? '/';
  check(() => assertRolePath(rolePath));

  const policyArns = (options['attachPolicyArn'] as string[] | undefined) ?? [];
  for (const arn of policyArns) check(() => assertPolicyArn(arn, '--attach-policy-arn'));
  const boundary = options['permissionsBoundary'] as string | undefined;
  if (boundary) check(() => assertPolicyArn(boundary, '--permissions-boundary'));
  const tags = check(() => parseTagList((options['tags'] as string | undefined) ?? '')) ?? {};
  check(() => assertTags(tags));
  const maxSessionDuration = check(() => integerOption(options['maxSessionDuration'], '--max-session-duration', 3600, 43200, 'seconds'));
  const tokenExpiration = check(() => integerOption(options['tokenExpiration'], '--token-expiration', 600, 4_294_967_295, 'seconds'));
  const trustPolicySizeLimit = check(() => integerOption(options['maxTrustPolicySize'], '--max-trust-policy-size', 2048, 8192, 'characters'));
  const description = options['description'] as string | undefined;
  if (description !== undefined && description.length > 1000) problems.push('--description: IAM allows at most 1000 characters.');

  const inlinePath = options['inlinePolicy'] as string | undefined;
  const inlineName = (options['inlinePolicyName'] as string | undefined) ?? DEFAULT_INLINE_POLICY_NAME;
  if (!/^[\w+=,.@-]{1,128}$/.test(inlineName)) problems.push(`--inline-policy-name: "${inlineName}" is not a valid IAM policy name (1–128 of letters, digits and + = , . @ _ -).`);
  const inlineDocument = inlinePath ? check(() => readPolicyFile(inlinePath, '--inline-policy')) : undefined;

  const subjectPattern = (options['subjectPattern'] as string | undefined) ?? null;
  if (subjectPattern !== null && !/^system:serviceaccount:[^:]+:[^:]+$/.test(subjectPattern)) {
    problems.push(`--subject-pattern: "${subjectPattern}" is not a ServiceAccount subject pattern. Use system:serviceaccount:<namespace>:<name>, with * or ? as wildcards, e.g. system:serviceaccount:${namespace ?? 'ns'}:*.`);
  }
  const audience = (options['audience'] as string | undefined) ?? DEFAULT_AUDIENCE;
  if (attachRoleArn && (policyArns.length > 0 || inlinePath || boundary || options['tags'] || options['prune'] || options['roleName'])) {
    problems.push('--attach-role-arn binds the ServiceAccount to an existing role and only adds it to that role\'s trust policy; it cannot be combined with --role-name, --attach-policy-arn, --inline-policy, --permissions-boundary, --tags or --prune.');
  }
  if (options['roleOnly'] && (options['createNamespace'] || options['restartWorkloads'] || options['overrideExistingServiceaccounts'])) {
    problems.push('--role-only skips Kubernetes entirely; it cannot be combined with --create-namespace, --restart-workloads or --override-existing-serviceaccounts.');
  }
  const workloads = ((options['workload'] as string[] | undefined) ?? []).flatMap((text) => {
    const parsed = parseWorkloadRef(text);
    if (!parsed) problems.push(`--workload: "${text}" is not a workload. Write <kind>/<name>, e.g. deployment/${name ?? 'api'} (kinds: deployment, statefulset, daemonset, cronjob, job, pod).`);
    return parsed ? [parsed] : [];
  });
  const migration = {
    removeStaticKeys: options['removeStaticKeys'] === true,
    deleteKeySecrets: options['deleteKeySecrets'] === true,
    migrateKube2iam: options['migrateKube2iam'] === true,
    workloads,
  };
  if (migration.deleteKeySecrets && !migration.removeStaticKeys) problems.push('--delete-key-secrets deletes the key Secrets only once the workloads no longer load them; add --remove-static-keys.');
  if (options['roleOnly'] && (migration.removeStaticKeys || migration.migrateKube2iam || workloads.length > 0)) {
    problems.push('--role-only skips Kubernetes entirely; it cannot be combined with --remove-static-keys, --migrate-kube2iam or --workload.');
  }
  if (problems.length === 1) throw new UserError(problems[0]!);
  if (problems.length > 1) throw new ValidationErrors(problems);

  return {
    cluster: clusterLabel,
    namespace: namespace!,
    name: name!,
    roleName,
    rolePath,
    attachRoleArn,
    audience,
    subjectPattern,
    policyArns,
    inlinePolicies: inlineDocument !== undefined ? { [inlineName]: inlineDocument } : {},
    ...(boundary !== undefined ? { permissionsBoundary: boundary } : {}),
    ...(maxSessionDuration !== undefined ? { maxSessionDuration } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(tokenExpiration !== undefined ? { tokenExpiration } : {}),
    ...(trustPolicySizeLimit !== undefined ? { trustPolicySizeLimit } : {}),
    tags,
    prune: options['prune'] === true,
    adopt: options['adopt'] === true,
    roleOnly: options['roleOnly'] === true,
    createNamespace: options['createNamespace'] === true,
    overrideExistingServiceAccounts: options['overrideExistingServiceaccounts'] === true,
    stsRegionalEndpoints: options['stsRegionalEndpoints'] === true,
    restartWorkloads: options['restartWorkloads'] === true,
    ...(migration.removeStaticKeys || migration.migrateKube2iam || workloads.length > 0 ? { migration } : {}),
  };
}
