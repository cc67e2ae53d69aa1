// The one validator of a binding. Every entry point — create-sa-role's flags, irsa.yaml, the
// wizard — turns what the user gave into a BindingInput and calls validateBindings. Problems come
// back with a field path; the entry point renders it in its own terms (a flag, or
// file:line:col + irsa.yaml key). Pure: files are read by the entry point, not here.

import { assertPolicyArn, parseRoleArn } from './arn.ts';
import type { BindingRequest } from './model/binding.ts';
import type { MigrationOptions } from './migration.ts';
import { UserError } from './errors.ts';
import {
  assertClusterName,
  assertNamespace,
  assertRoleName,
  assertRolePath,
  assertServiceAccountName,
  assertTags,
  defaultRoleName,
} from './names.ts';
import { parsePolicyDocument } from './policy-document.ts';
import type { Tags } from './state.ts';
import { checkValue, exclusionProblems, FIELDS, fieldsOnlyFor, requiresProblems, VALUE_FIELDS, type ValueField } from './fields.ts';
import type { BindingField, FieldPath, Terms } from './terms.ts';
import { DEFAULT_AUDIENCE, samePolicy, serviceAccountSubject, stringLike } from './trust-policy.ts';
import { spansNamespaces } from './trust-lint.ts';
import { MECHANISM_CHOICES, podIdentitySettingProblems } from './pod-identity-input.ts';
import type { MechanismName } from './model/binding.ts';

/** The fields core/fields.ts handles from their row alone, as given (a flag's text, a YAML value). */
export type ValueInputs = { [K in ValueField]?: unknown };

/** A binding as the user gave it, before validation. Numbers may still be strings (flags). */
export interface BindingInput extends ValueInputs {
  cluster?: string | undefined;
  /** Self-managed clusters: the default role name is derived from the issuer host. */
  issuerUrl?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  roleName?: string | undefined;
  rolePath?: string | undefined;
  attachRoleArn?: string | undefined;
  policyArns?: string[] | undefined;
  /** Inline policies by name: the JSON text and where it came from (a file path, or "policy"). */
  inlinePolicies?: Record<string, { text: string; source: string }> | undefined;
  permissionsBoundary?: string | undefined;
  tags?: Tags | undefined;
  audience?: string | undefined;
  subjectPattern?: string | undefined;
  /**
   * The user's separate acknowledgement (--allow-wide-subjects, irsa.yaml allowWideSubjects) that
   * a subject pattern admitting several namespaces is meant: without it such a pattern is refused.
   */
  allowWideSubjects?: boolean | undefined;
  trustPolicySizeLimit?: unknown;
  extraAnnotations?: Record<string, string> | undefined;
  roleOnly?: boolean | undefined;
  createNamespace?: boolean | undefined;
  /** Static-key and kube2iam migrations (checked by the entry point: their syntax differs). */
  migration?: MigrationOptions | undefined;
  /** irsa (default) or pod-identity; anything else is refused naming the choices. */
  mechanism?: string | undefined;
  /** EKS Pod Identity only (core/pod-identity-input.ts). */
  targetRoleArn?: string | undefined;
  disableSessionTags?: boolean | undefined;
  /** The session policy's JSON text and where it came from (a file path, or "policy"). */
  sessionPolicy?: { text: string; source: string } | undefined;
  installPodIdentityAgent?: boolean | undefined;
}

export interface Problem {
  path: FieldPath;
  /** Without the field name: the entry point puts its own name for the field in front. */
  message: string;
}

export interface Validated {
  requests: BindingRequest[];
  problems: Problem[];
}

export const POLICY_NAME_PATTERN = /^[\w+=,.@-]{1,128}$/;
export const SUBJECT_PATTERN_SHAPE = /^system:serviceaccount:[^:]+:[^:]+$/;
/**
 * An OIDC audience is an IAM client ID: 1–255 characters (IAM API reference,
 * CreateOpenIDConnectProvider ClientIDList). Whitespace and control characters would never match
 * the token's aud claim the pod identity webhook requests, so they are refused too.
 */
export const AUDIENCE_SHAPE = /^[^\s\p{Cc}]{1,255}$/u;

/** A subject pattern `irsa audit --iam` rates critical (sub-spans-namespaces): it admits several namespaces. */
export const isWideSubjectPattern = (pattern: string): boolean => spansNamespaces(pattern);

/** The cluster label in default role names; the same for create and delete (with --issuer-url: its host). */
export function clusterLabel(cluster: string | undefined, issuerUrl: string | undefined): string {
  if (cluster) return cluster;
  if (issuerUrl) {
    try {
      return new URL(issuerUrl).hostname.replace(/[^\w-]/g, '-');
    } catch {
      return 'cluster';
    }
  }
  return 'cluster';
}

/** One field's value on its own (the wizard checks each answer as it is typed). Null: valid. */
export function checkField(field: BindingField, value: string, terms: Terms, at: Omit<FieldPath, 'field'> = {}): string | null {
  const path: FieldPath = { field, ...at };
  const name = terms.name(path);
  try {
    switch (field) {
      case 'cluster':
        assertClusterName(value, name);
        break;
      case 'namespace':
        assertNamespace(value, name);
        break;
      case 'name':
        assertServiceAccountName(value, name);
        break;
      case 'roleName':
        assertRoleName(value, name);
        break;
      case 'rolePath':
        assertRolePath(value, name);
        break;
      case 'policyArns':
      case 'permissionsBoundary':
        assertPolicyArn(value, name);
        break;
      case 'attachRoleArn':
        parseRoleArn(value, name);
        break;
      case 'inlinePolicies':
        if (!POLICY_NAME_PATTERN.test(value)) return `"${value}" is not a valid IAM policy name (1–128 of letters, digits and + = , . @ _ -).`;
        break;
      case 'subjectPattern':
        if (!SUBJECT_PATTERN_SHAPE.test(value)) {
          return `"${value}" is not a ServiceAccount subject pattern. Use system:serviceaccount:<namespace>:<name>, with * or ? as wildcards, e.g. system:serviceaccount:ns:*.`;
        }
        break;
      case 'audience':
        if (value.length === 0) return 'is empty. Give the audience the ServiceAccount\'s tokens are minted for (default sts.amazonaws.com), or leave the option out.';
        if (!AUDIENCE_SHAPE.test(value)) return `"${value}" is not an audience: IAM takes 1–255 characters without spaces or control characters (default sts.amazonaws.com).`;
        break;
      default: {
        // A field whose row carries its own check (core/fields.ts).
        const check = (FIELDS[field] as { check?: (value: string) => string | null }).check;
        if (check) return check(value);
        break;
      }
    }
  } catch (error) {
    if (error instanceof UserError) return withoutField(error.message, name);
    throw error;
  }
  return null;
}

const withoutField = (message: string, name: string): string => (message.startsWith(`${name}: `) ? message.slice(name.length + 2) : message);


/** Validates one binding; `binding` is its index when there are several (irsa.yaml). */
export function validateBinding(input: BindingInput, terms: Terms, binding?: number): { request: BindingRequest | null; problems: Problem[] } {
  const problems: Problem[] = [];
  const at = (field: BindingField, item?: number | string): FieldPath => ({
    field,
    ...(binding !== undefined ? { binding } : {}),
    ...(item !== undefined ? { item } : {}),
  });
  const report = (path: FieldPath, message: string) => problems.push({ path, message });
  const check = (field: BindingField, value: string | undefined, item?: number | string) => {
    if (value === undefined) return;
    const problem = checkField(field, value, terms, at(field, item));
    if (problem) report(at(field, item), problem);
  };

  // Fields that cannot go together, the same rules for every entry point (core/fields.ts).
  const migration = input.migration;
  const given = {
    ...input,
    ...(migration ? { ...migration, workloads: migration.workloads.length > 0 ? migration.workloads : undefined } : {}),
  };
  for (const problem of exclusionProblems(given, terms, (field) => at(field))) report(problem.path, problem.message);
  for (const problem of requiresProblems(given, terms, (field) => at(field))) report(problem.path, problem.message);

  if (input.cluster) {
    // The cluster is one for all bindings: its problem is reported once, without a binding index.
    const problem = checkField('cluster', input.cluster, terms);
    if (problem) report({ field: 'cluster' }, problem);
  }
  if (!input.namespace) report(at('namespace'), 'is required: the namespace of the ServiceAccount.');
  else check('namespace', input.namespace);
  if (!input.name) report(at('name'), 'is required: the name of the ServiceAccount.');
  else check('name', input.name);

  let attached: ReturnType<typeof parseRoleArn> | undefined;
  if (input.attachRoleArn) {
    try {
      attached = parseRoleArn(input.attachRoleArn, terms.name(at('attachRoleArn')));
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      report(at('attachRoleArn'), withoutField(error.message, terms.name(at('attachRoleArn'))));
    }
  }
  const label = clusterLabel(input.cluster, input.issuerUrl);
  const roleName = attached?.name ?? input.roleName ?? defaultRoleName(label, input.namespace ?? 'default', input.name ?? 'default');
  check('roleName', roleName);
  const rolePath = attached?.path ?? input.rolePath ?? '/';
  check('rolePath', rolePath);

  const policyArns = input.policyArns ?? [];
  policyArns.forEach((arn, i) => check('policyArns', arn, i));
  if (input.permissionsBoundary) check('permissionsBoundary', input.permissionsBoundary);
  const tags = input.tags ?? {};
  try {
    assertTags(tags, terms.name(at('tags')));
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    report(at('tags'), withoutField(error.message, terms.name(at('tags'))));
  }
  // The fields handled from their row alone (core/fields.ts), and the quota (a number, not per binding in irsa.yaml).
  const values: Record<string, unknown> = {};
  for (const field of [...VALUE_FIELDS, 'trustPolicySizeLimit'] as const) {
    const result = checkValue(field, input[field]);
    if (result.problem) report(at(field), result.problem);
    if (result.value !== undefined) values[field] = result.value;
  }
  if (input.audience !== undefined) check('audience', input.audience);

  const inlinePolicies: Record<string, unknown> = {};
  for (const [policyName, { text, source }] of Object.entries(input.inlinePolicies ?? {})) {
    const namePath: FieldPath = { ...at('inlinePolicies', policyName), part: 'name' };
    const nameProblem = checkField('inlinePolicies', policyName, terms, namePath);
    if (nameProblem) report(namePath, nameProblem);
    try {
      inlinePolicies[policyName] = parsePolicyDocument(text, source);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      report(at('inlinePolicies', policyName), error.message);
    }
  }

  const subjectPattern = input.subjectPattern ?? null;
  if (subjectPattern !== null) {
    const shape = checkField('subjectPattern', subjectPattern, terms, at('subjectPattern'));
    if (shape) report(at('subjectPattern'), shape.replace('system:serviceaccount:ns:*', `system:serviceaccount:${input.namespace ?? 'ns'}:*`));
    else if (input.namespace && input.name) {
      // A pattern that does not match its own ServiceAccount would bind it to a role that does not trust it.
      const subject = serviceAccountSubject(input.namespace, input.name);
      if (!stringLike(subjectPattern, subject)) {
        report(
          at('subjectPattern'),
          `"${subjectPattern}" does not match this ServiceAccount's subject ${subject}, so the role would not trust it. Use a pattern such as system:serviceaccount:${input.namespace}:*.`,
        );
      }
    }
    // A pattern over several namespaces is what `irsa audit --iam` rates critical
    // (sub-spans-namespaces, core/trust-lint.ts): irsa never creates it on one flag. The user says
    // separately that the risk is meant; the plan then shows the trust as a widening.
    if (!shape && isWideSubjectPattern(subjectPattern) && input.allowWideSubjects !== true) {
      report(
        at('subjectPattern'),
        `"${subjectPattern}" admits ServiceAccounts of several namespaces (any namespace matching it, including ones created later); irsa audit --iam rates such a trust critical. Limit it to one namespace (system:serviceaccount:${input.namespace ?? '<namespace>'}:*), or, if every such ServiceAccount really may assume the role, ${terms.enable(at('allowWideSubjects'))} as well.`,
      );
    }
  }
  const podIdentity = mechanismProblems(input, terms, at, report);
  if (problems.length > 0) return { request: null, problems };

  const request: BindingRequest = {
    cluster: label,
    namespace: input.namespace!,
    name: input.name!,
    roleName,
    rolePath,
    attachRoleArn: input.attachRoleArn ?? null,
    audience: input.audience ?? DEFAULT_AUDIENCE,
    subjectPattern,
    policyArns,
    inlinePolicies,
    ...(input.permissionsBoundary !== undefined ? { permissionsBoundary: input.permissionsBoundary } : {}),
    tags,
    ...(input.extraAnnotations !== undefined ? { extraAnnotations: input.extraAnnotations } : {}),
    roleOnly: input.roleOnly === true,
    createNamespace: input.createNamespace === true,
    ...(input.migration ? { migration: input.migration } : {}),
    ...(podIdentity ? { mechanism: 'pod-identity' as MechanismName, podIdentity } : {}),
    // Checked above from their rows; typed by BindingRequest (core/model/binding.ts).
    ...(values as Pick<BindingRequest, ValueField | 'trustPolicySizeLimit'>),
  };
  return { request, problems };
}

/** IRSA's own fields: they mean nothing to EKS Pod Identity (no web-identity token, no annotations the webhook reads). */
// Which those are is each field's row (core/fields.ts `only`).
const IRSA_ONLY_FIELDS = fieldsOnlyFor('irsa') as Array<BindingField & keyof BindingInput>;
const POD_IDENTITY_FIELDS = fieldsOnlyFor('pod-identity') as Array<BindingField & keyof BindingInput>;

/**
 * The mechanism and the fields only one mechanism understands. Returns the Pod Identity settings
 * when the binding is a pod-identity one (null otherwise); problems are reported.
 */
function mechanismProblems(
  input: BindingInput,
  terms: Terms,
  at: (field: BindingField) => FieldPath,
  report: (path: FieldPath, message: string) => void,
): NonNullable<BindingRequest['podIdentity']> | null {
  const mechanism = input.mechanism ?? 'irsa';
  if (!(MECHANISM_CHOICES as readonly string[]).includes(mechanism)) {
    report(at('mechanism'), `"${mechanism}" is not a mechanism. Use ${MECHANISM_CHOICES.join(' or ')}.`);
    return null;
  }
  const mechanismName = terms.name(at('mechanism'));
  if (mechanism !== 'pod-identity') {
    for (const field of POD_IDENTITY_FIELDS) {
      if (isGivenValue(input[field])) report(at(field), `applies to EKS Pod Identity only; add ${mechanismName} pod-identity, or leave it out.`);
    }
    return null;
  }
  for (const field of IRSA_ONLY_FIELDS) {
    const value = input[field];
    // The audience flag has a default (sts.amazonaws.com): only another value counts as given.
    if (!isGivenValue(value) || (field === 'audience' && value === DEFAULT_AUDIENCE)) continue;
    report(at(field), `is IRSA's (the web-identity token and the ServiceAccount annotations); EKS Pod Identity does not use it. Leave it out, or use ${mechanismName} irsa.`);
  }
  const names = {
    roleArn: terms.name(at('attachRoleArn')),
    targetRoleArn: terms.name(at('targetRoleArn')),
    disableSessionTags: terms.name(at('disableSessionTags')),
    sessionPolicy: terms.name(at('sessionPolicy')),
  };
  const settings = podIdentitySettingProblems(
    {
      roleArn: input.attachRoleArn ?? null,
      targetRoleArn: input.targetRoleArn ?? null,
      disableSessionTags: input.disableSessionTags === true,
      sessionPolicy: input.sessionPolicy?.text ?? null,
    },
    names,
  );
  for (const problem of settings.problems) {
    const message = problem.field === 'sessionPolicy' && input.sessionPolicy && input.sessionPolicy.source !== 'policy' ? `(${input.sessionPolicy.source}) ${problem.message}` : problem.message;
    report(at(problem.field === 'roleArn' ? 'attachRoleArn' : problem.field), message);
  }
  return {
    targetRoleArn: input.targetRoleArn ?? null,
    disableSessionTags: input.disableSessionTags === true,
    policy: settings.policy,
    installAgent: input.installPodIdentityAgent === true,
  };
}

const isGivenValue = (value: unknown): boolean => value !== undefined && value !== null && value !== false;

/**
 * Validates every binding, then what only the set can show: one binding per ServiceAccount, and
 * bindings that share a role agree on the role's own settings and inline policies.
 */
export function validateBindings(inputs: BindingInput[], terms: Terms): Validated {
  const results = inputs.map((input, index) => validateBinding(input, terms, index));
  const seenProblems = new Set<string>();
  const problems = results
    .flatMap((result) => result.problems)
    .filter((problem) => {
      const key = JSON.stringify(problem);
      if (seenProblems.has(key)) return false;
      seenProblems.add(key);
      return true;
    });
  const requests = results.map((result) => result.request);

  const seen = new Map<string, number>();
  inputs.forEach((input, index) => {
    if (!input.namespace || !input.name) return;
    const key = `${input.namespace}/${input.name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ path: { field: 'name', binding: index }, message: `duplicate binding: ${key} is already bound by bindings[${first}]; each ServiceAccount has one binding` });
    } else seen.set(key, index);
  });

  const byRole = new Map<string, number>();
  requests.forEach((request, index) => {
    if (!request) return;
    const first = byRole.get(request.roleName);
    if (first === undefined) {
      byRole.set(request.roleName, index);
      return;
    }
    const other = requests[first]!;
    const given = (i: number, field: 'rolePath' | 'permissionsBoundary' | 'maxSessionDuration' | 'description') =>
      field === 'rolePath' ? inputs[i]!.rolePath : field === 'permissionsBoundary' ? inputs[i]!.permissionsBoundary : field === 'description' ? inputs[i]!.description : inputs[i]!.maxSessionDuration;
    for (const field of ['rolePath', 'permissionsBoundary', 'maxSessionDuration', 'description'] as const) {
      const a = given(first, field);
      const b = given(index, field);
      if (a !== undefined && b !== undefined && a !== b) {
        const key = terms.name({ field }).replace(/^.*\./, '');
        problems.push({
          path: { field, binding: index },
          message: `role "${request.roleName}" is shared with bindings[${first}], which sets ${key} to ${JSON.stringify(a)}; bindings of one role must agree`,
        });
      }
    }
    for (const [policyName, document] of Object.entries(request.inlinePolicies)) {
      if (policyName in other.inlinePolicies && !samePolicy(other.inlinePolicies[policyName], document)) {
        problems.push({
          path: { field: 'inlinePolicies', binding: index, item: policyName },
          message: `role "${request.roleName}" is shared with bindings[${first}], which defines inline policy "${policyName}" differently; give it once, or use different names`,
        });
      }
    }
  });
  return { requests: problems.length > 0 ? [] : requests.filter((request): request is BindingRequest => request !== null), problems };
}
