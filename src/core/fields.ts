// One row per binding field: how each entry point names it (create-sa-role's flag and its help,
// the irsa.yaml key and its JSON Schema, the wizard's question), one line for people, how its
// value is checked, and the rules that tie fields together. Generated from it: create-sa-role's
// options (commands/registry.ts), the binding keys of irsa.yaml's schema (config/schema.ts, hence
// docs/irsa.schema.json and docs/config.md) and the command-line conflicts (commands/conflicts.ts).
// core/terms.ts names fields from it; validateBinding (core/binding-input.ts) applies its
// cross-field rules for every entry point (flags, irsa.yaml, wizard), so a rule cannot drift.
//
// Adding a field: a row here. A field with `value` set (yes-no, integer, text) needs nothing else
// at the entry points or in the validator: flags, irsa.yaml and validateBinding read and check it
// from the row and copy it onto the BindingRequest. Then its type in BindingRequest
// (core/model/binding.ts) and the code that uses it (a mechanism, a resource kind): three src
// files (test/unit/fields.test.ts counts them for every such field). Run `node scripts/docs.ts`.

export interface FieldOption {
  /** The placeholder after the flag (`<name>`); absent: a yes/no flag. */
  arg?: string;
  description: string;
  repeatable?: boolean;
  defaultValue?: string | boolean | number;
  /** The values commander accepts (anything else is refused before the command runs). */
  choices?: readonly string[];
  /** Options that belong to this one and follow it in --help (--inline-policy-name). */
  companions?: Array<{ flags: string; description: string; defaultValue?: string }>;
}

export interface FieldSpec {
  /** create-sa-role's flag, as commander declares it (null: no flag). */
  flag: string | null;
  /**
   * The irsa.yaml key: under `bindings[i].` unless it starts with a top-level section
   * (`cluster.`, `oidcProvider.`); null: not in irsa.yaml.
   */
  yaml: string | null;
  /** How the wizard names the field: the question that sets it (null: the wizard does not ask). */
  question: string | null;
  /** One line for people (docs, help). */
  doc: string;
  /** create-sa-role's option (commands/registry.ts declares these, in table order). Absent: declared there. */
  option?: FieldOption;
  /** The JSON Schema of its `bindings[i]` key in irsa.yaml (config/schema.ts; description included). */
  schema?: Readonly<Record<string, unknown>>;
  /**
   * A field the entry points and the validator handle from this row alone: read from the flag and
   * the irsa.yaml key, checked (`range`, `check`), copied onto the BindingRequest under its name
   * (yes-no: always, true or false; the others: when given).
   */
  value?: 'yes-no' | 'integer' | 'text';
  /** An integer's allowed range. */
  range?: { min: number; max: number; unit: string };
  /** A text's check: null when valid, else the problem (without the field's name). */
  check?: (value: string) => string | null;
  /**
   * The one mechanism (core/mechanisms/) the field means something to: given for a binding of the
   * other one, validateBinding refuses it. Absent: every mechanism.
   */
  only?: 'irsa' | 'pod-identity';
}

export const FIELDS = {
  cluster: { flag: '--cluster', yaml: 'cluster.name', question: 'the cluster', doc: 'EKS cluster name (role names and ownership tags use it)' },
  issuerUrl: { flag: '--issuer-url', yaml: 'cluster.issuerUrl', question: null, doc: 'OIDC issuer of a self-managed cluster' },
  namespace: {
    flag: '--namespace', yaml: 'namespace', question: 'the namespace', doc: 'namespace of the ServiceAccount',
    schema: { type: 'string', description: 'namespace of the ServiceAccount (--namespace)' },
  },
  name: {
    flag: '--name', yaml: 'name', question: 'the ServiceAccount', doc: 'name of the ServiceAccount',
    schema: { type: 'string', description: 'name of the ServiceAccount (--name)' },
  },
  roleName: {
    flag: '--role-name', yaml: 'roleName', question: 'the role name', doc: 'IAM role name (default irsa-<cluster>-<namespace>-<name>)',
    option: { arg: '<name>', description: 'IAM role name (default: irsa-<cluster>-<namespace>-<name>, shortened with a hash to fit 64 characters)' },
    schema: { type: 'string', description: 'IAM role name (--role-name; default irsa-<cluster>-<namespace>-<name>); bindings with the same roleName share the role' },
  },
  attachRoleArn: {
    flag: '--attach-role-arn', yaml: 'attachRoleArn', question: null, doc: 'bind to this existing role: only its trust policy changes',
    option: { arg: '<arn>', description: 'bind to this existing role instead of creating one (only adds this ServiceAccount to its trust policy)' },
    schema: { type: 'string', description: 'bind to this existing role instead of creating one: only adds the ServiceAccount to its trust policy (--attach-role-arn)' },
  },
  rolePath: {
    // No commander default: validateBinding fills in /, and a --path the user did not give must not count as given (--attach-role-arn).
    flag: '--path', yaml: 'path', question: null, doc: 'IAM path for a new role (default /)',
    option: { arg: '<path>', description: 'IAM path for a new role (default: /)' },
    schema: { type: 'string', description: 'IAM path of a new role (--path; default /)' },
  },
  policyArns: {
    flag: '--attach-policy-arn', yaml: 'managedPolicies', question: 'the permissions', doc: 'managed policies to attach',
    option: { arg: '<arn>', description: 'managed policy to attach (checked with iam:GetPolicy before anything is written)', repeatable: true },
    schema: { type: 'array', items: { type: 'string' }, description: 'managed policy ARNs; exactly these are attached (--attach-policy-arn)' },
  },
  inlinePolicies: {
    flag: '--inline-policy', yaml: 'inlinePolicies', question: 'the inline policy', doc: 'inline policies by name',
    option: {
      arg: '<file>',
      description: 'JSON policy document to put as an inline policy',
      companions: [{ flags: '--inline-policy-name <name>', description: 'name of that inline policy', defaultValue: 'irsa-inline' }],
    },
    schema: {
      type: 'object',
      description: 'inline policies by name: a policy document, or { file: <path relative to this file> } (--inline-policy, --inline-policy-name)',
      additionalProperties: {
        oneOf: [
          { type: 'object', required: ['Statement'] },
          { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
        ],
      },
    },
  },
  permissionsBoundary: {
    flag: '--permissions-boundary', yaml: 'permissionsBoundary', question: 'the permissions boundary', doc: 'permissions boundary policy ARN',
    option: { arg: '<arn>', description: 'permissions boundary policy for the role' },
    schema: { type: 'string', description: 'permissions boundary policy ARN (--permissions-boundary); none in the file means none on the role' },
  },
  maxSessionDuration: {
    flag: '--max-session-duration', yaml: 'maxSessionDuration', question: null, doc: 'maximum session duration, 3600–43200 seconds',
    option: { arg: '<seconds>', description: 'maximum session duration, 3600–43200 seconds' },
    schema: { type: 'integer', minimum: 3600, maximum: 43200, description: 'maximum session duration in seconds (--max-session-duration)' },
    value: 'integer', range: { min: 3600, max: 43200, unit: 'seconds' },
  },
  description: {
    flag: '--description', yaml: 'description', question: null, doc: 'role description',
    option: { arg: '<text>', description: 'role description' },
    schema: { type: 'string', maxLength: 1000, description: 'role description (--description)' },
    value: 'text', check: (value: string) => (value.length > 1000 ? 'IAM allows at most 1000 characters.' : null),
  },
  tags: {
    flag: '--tags', yaml: 'tags', question: null, doc: 'role tags',
    option: { arg: '<k=v,...>', description: 'extra role tags (irsa adds irsa:managed-by, irsa:cluster, irsa:namespace, irsa:service-account)' },
    schema: { type: 'object', additionalProperties: { type: 'string' }, description: 'extra role tags (--tags)' },
  },
  audience: {
    flag: '--audience', yaml: 'audience', question: null, doc: 'token audience (default sts.amazonaws.com)',
    option: { arg: '<aud>', description: 'token audience in the trust policy and the eks.amazonaws.com/audience annotation', defaultValue: 'sts.amazonaws.com' },
    schema: { type: 'string', minLength: 1, description: 'token audience (--audience; default sts.amazonaws.com)' },
    only: 'irsa',
  },
  stsRegionalEndpoints: {
    flag: '--sts-regional-endpoints', yaml: 'stsRegionalEndpoints', question: null, doc: 'annotate for regional STS endpoints',
    option: { description: 'annotate eks.amazonaws.com/sts-regional-endpoints=true' },
    schema: { type: 'boolean', description: 'annotate eks.amazonaws.com/sts-regional-endpoints=true (--sts-regional-endpoints)' },
    value: 'yes-no',
    only: 'irsa',
  },
  tokenExpiration: {
    flag: '--token-expiration', yaml: 'tokenExpiration', question: null, doc: 'token lifetime the webhook requests, seconds',
    option: { arg: '<seconds>', description: 'annotate eks.amazonaws.com/token-expiration' },
    schema: { type: 'integer', minimum: 600, description: 'annotate eks.amazonaws.com/token-expiration, seconds (--token-expiration)' },
    value: 'integer', range: { min: 600, max: 4_294_967_295, unit: 'seconds' },
    only: 'irsa',
  },
  extraAnnotations: {
    flag: '--annotations', yaml: 'annotations', question: null, doc: 'further ServiceAccount annotations irsa keeps set',
    schema: { type: 'object', additionalProperties: { type: 'string' }, description: 'further ServiceAccount annotations irsa keeps set' },
  },
  subjectPattern: {
    flag: '--subject-pattern', yaml: 'subjectPattern', question: null, doc: 'trust a subject pattern (StringLike) instead of the one ServiceAccount',
    option: { arg: '<pattern>', description: 'trust every ServiceAccount matching this StringLike pattern, e.g. system:serviceaccount:ns:* (the plan warns); a pattern over several namespaces needs --allow-wide-subjects' },
    schema: { type: 'string', description: 'trust every ServiceAccount matching this StringLike pattern (--subject-pattern); the plan warns. A pattern over several namespaces (system:serviceaccount:*:x) is refused unless allowWideSubjects is true' },
    only: 'irsa',
  },
  allowWideSubjects: {
    flag: '--allow-wide-subjects', yaml: 'allowWideSubjects', question: null, doc: 'accept a subject pattern over several namespaces',
    option: { description: 'accept a --subject-pattern that admits ServiceAccounts of several namespaces (irsa audit --iam rates that critical); the plan shows the trust as a widening with the ServiceAccounts it admits today' },
    schema: { type: 'boolean', description: 'accept a subjectPattern that admits ServiceAccounts of several namespaces, which irsa audit --iam rates critical (--allow-wide-subjects); the plan shows it as a widening' },
    only: 'irsa',
  },
  restartWorkloads: {
    flag: '--restart-workloads', yaml: 'restart', question: '"Restart them"', doc: 'restart the workloads that use the ServiceAccount',
    option: { description: 'restart Deployments, StatefulSets and DaemonSets that use the ServiceAccount when its annotation changes' },
    schema: { type: 'boolean', description: 'restart the workloads using the ServiceAccount when its annotation changes (--restart-workloads)' },
    value: 'yes-no',
  },
  roleOnly: {
    flag: '--role-only', yaml: 'roleOnly', question: null, doc: 'only the IAM side; Kubernetes is not read or changed',
    option: { description: 'create or update the IAM role only; do not touch Kubernetes' },
    schema: { type: 'boolean', description: 'the IAM role only; do not touch Kubernetes (--role-only)' },
  },
  createNamespace: {
    flag: '--create-namespace', yaml: 'createNamespace', question: '"Create the namespace"', doc: 'create the namespace when it does not exist',
    option: { description: 'create the namespace when it does not exist' },
    schema: { type: 'boolean', description: 'create this binding\'s namespace when missing (--create-namespace); prefer namespaces.create' },
  },
  overrideExistingServiceAccounts: {
    // Not in irsa.yaml: the file is exact, its ServiceAccounts are annotated with its roles.
    flag: '--override-existing-serviceaccounts', yaml: null, question: '"Re-annotate it"', doc: 're-annotate a ServiceAccount bound to another role',
    option: { description: 're-annotate a ServiceAccount that is bound to another role' },
    value: 'yes-no',
  },
  adopt: {
    flag: '--adopt', yaml: 'adopt', question: '"Let irsa manage" the role', doc: 'manage an existing role irsa did not create',
    option: { description: 'manage an existing role of that name that irsa did not create' },
    schema: { type: 'boolean', description: 'manage an existing role of that name that irsa did not create (--adopt)' },
    value: 'yes-no',
  },
  removeStaticKeys: {
    flag: '--remove-static-keys', yaml: 'removeStaticKeys', question: null, doc: 'remove the static AWS keys from the pod templates of workloads using the ServiceAccount',
    option: { description: 'remove the static AWS keys (env, envFrom of a key Secret, mounted credentials file) from the pod templates of workloads using the ServiceAccount; the change rolls them' },
    schema: { type: 'boolean', description: 'remove static AWS keys (env, envFrom of a key Secret, a mounted credentials file) from the pod templates of workloads using the ServiceAccount (--remove-static-keys)' },
  },
  deleteKeySecrets: {
    flag: '--delete-key-secrets', yaml: 'deleteKeySecrets', question: null, doc: 'delete the Secrets and ConfigMaps that held the keys once no workload uses them',
    // A ConfigMap still read for other keys loses only its AWS keys (core/migration.ts).
    option: { description: 'with --remove-static-keys: also delete the Secrets and ConfigMaps that held the keys once no workload uses them (a ConfigMap still read for other keys loses only its AWS keys; values are never printed)' },
    schema: { type: 'boolean', description: 'with removeStaticKeys: delete the Secrets and ConfigMaps that held the keys once no workload uses them; a ConfigMap still read for other keys loses only its AWS keys (--delete-key-secrets)' },
  },
  migrateKube2iam: {
    flag: '--migrate-kube2iam', yaml: 'migrateKube2iam', question: null, doc: 'remove the kube2iam/kiam annotation from those pod templates',
    option: { description: 'remove the kube2iam/kiam annotation iam.amazonaws.com/role from those pod templates; the change rolls them' },
    schema: { type: 'boolean', description: 'remove the kube2iam/kiam annotation iam.amazonaws.com/role from those pod templates (--migrate-kube2iam)' },
  },
  workloads: {
    flag: '--workload', yaml: 'workloads', question: null, doc: 'workloads that should run as this ServiceAccount although they use default',
    option: { arg: '<kind/name>', description: 'a workload (e.g. deployment/api) that should run as this ServiceAccount although it uses default: with the options above, irsa sets its serviceAccountName', repeatable: true },
    schema: { type: 'array', items: { type: 'string' }, description: 'workloads (<kind>/<name>) that should run as this ServiceAccount although they use default (--workload)' },
  },
  // EKS Pod Identity (issue 22; core/mechanisms/pod-identity.ts, core/pod-identity-input.ts).
  mechanism: {
    flag: '--mechanism', yaml: 'mechanism', question: 'How should pods get the role', doc: 'how the ServiceAccount gets the role: irsa (default, OIDC web identity) or pod-identity (an EKS Pod Identity association)',
    option: { arg: '<mechanism>', description: 'how pods get the role: irsa (OIDC web identity and the ServiceAccount annotation; default) or pod-identity (an EKS Pod Identity association; no OIDC provider)', choices: ['irsa', 'pod-identity'] },
    schema: {
      enum: ['irsa', 'pod-identity'],
      description: 'how pods get the role (--mechanism): irsa (default: OIDC web identity and the ServiceAccount annotation) or pod-identity (an EKS Pod Identity association; no OIDC provider)',
    },
  },
  targetRoleArn: {
    flag: '--target-role-arn', yaml: 'targetRoleArn', question: null, doc: 'pod-identity: a role (in any account) that EKS assumes with the association\'s role (role chaining)',
    option: { arg: '<arn>', description: 'pod-identity: a role EKS assumes with the association\'s role (role chaining; it may be in another account, whose trust must admit the association\'s role)' },
    schema: { type: 'string', description: 'pod-identity: a role EKS assumes with the association\'s role, possibly in another account (--target-role-arn)' },
    only: 'pod-identity',
  },
  disableSessionTags: {
    flag: '--disable-session-tags', yaml: 'disableSessionTags', question: null, doc: 'pod-identity: EKS adds no session tags (the role\'s trust can then only be narrowed to the cluster)',
    option: { description: 'pod-identity: EKS adds no session tags (the role\'s trust is then narrowed to the cluster only, not the ServiceAccount)' },
    schema: { type: 'boolean', description: 'pod-identity: EKS adds no session tags; the role\'s trust is then narrowed to the cluster only (--disable-session-tags)' },
    only: 'pod-identity',
  },
  sessionPolicy: {
    flag: '--session-policy', yaml: 'sessionPolicy', question: null, doc: 'pod-identity: a session policy that narrows the credentials (at most 2,048 characters; needs disableSessionTags)',
    option: { arg: '<file>', description: 'pod-identity: JSON session policy that narrows the credentials (at most 2,048 characters without whitespace; needs --disable-session-tags)' },
    schema: {
      description: 'pod-identity: a session policy document, or { file: <path relative to this file> }; at most 2,048 characters without whitespace, needs disableSessionTags (--session-policy)',
      oneOf: [
        { type: 'object', required: ['Statement'] },
        { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
      ],
    },
    only: 'pod-identity',
  },
  installPodIdentityAgent: {
    flag: '--install-pod-identity-agent', yaml: 'installPodIdentityAgent', question: '"Install the EKS Pod Identity Agent"', doc: 'pod-identity: add the eks-pod-identity-agent add-on when the cluster has none',
    option: { description: 'pod-identity: add the eks-pod-identity-agent add-on when the cluster has none (without it, a missing agent blocks the plan)' },
    schema: { type: 'boolean', description: 'pod-identity: add the eks-pod-identity-agent add-on when the cluster has none (--install-pod-identity-agent)' },
    only: 'pod-identity',
  },
  access: {
    flag: '--access', yaml: 'access', question: null, doc: 'resources the role may use (Secrets Manager secrets, KMS keys), in their own accounts',
    schema: {
      type: 'array',
      description: 'resources the ServiceAccount may use, by ARN and level (--access secretsmanager:read=<ARN>): irsa plans the role\'s statement, the secret\'s resource-policy statement and its KMS key\'s key-policy statement, each in its own account (see accounts)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['resource', 'level'],
        properties: {
          resource: { type: 'string', description: 'the secret\'s ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)' },
          level: { enum: ['read'], description: 'read: secretsmanager:GetSecretValue and DescribeSecret (and kms:Decrypt through Secrets Manager on its customer managed key)' },
        },
      },
    },
  },
  prune: {
    flag: '--prune', yaml: null, question: null, doc: 'remove what irsa manages that was not asked for',
    option: { description: 'detach managed policies and delete inline policies that were not asked for' },
  },
  createOidc: {
    flag: '--no-create-oidc', yaml: 'oidcProvider.manage', question: null, doc: 'create the OIDC provider when missing',
    option: { description: 'fail (with the command to run) instead of planning the OIDC provider when it is missing' },
  },
  trustPolicySizeLimit: {
    flag: '--max-trust-policy-size', yaml: 'iam.maxTrustPolicySize', question: null, doc: "the account's trust policy size quota",
    option: { arg: '<chars>', description: 'your account\'s ACLSizePerRole quota, when raised above 2048' },
    range: { min: 2048, max: 8192, unit: 'characters' },
  },
  force: { flag: '--force', yaml: null, question: null, doc: 'delete-sa-role: go ahead although workloads use the ServiceAccount' },
} as const satisfies Record<string, FieldSpec>;

export type BindingField = keyof typeof FIELDS;

export interface FieldPath {
  field: BindingField;
  /** Index of the binding (irsa.yaml `bindings[i]`); absent for a single binding. */
  binding?: number;
  /** A list index or map key under the field (managedPolicies[1], inlinePolicies.<name>). */
  item?: number | string;
  /** Of an inline policy: its name (`--inline-policy-name`) rather than its document (`--inline-policy`). */
  part?: 'name';
}

export interface Terms {
  /** The field as the user knows it: `--role-name`, `bindings[0].roleName`. */
  name(path: FieldPath): string;
  /** How to turn a yes/no option on: `pass --adopt`, `set bindings[0].adopt: true`. */
  enable(path: FieldPath): string;
}

/** The wizard names a field by the question that sets it. */
export const WIZARD_TERMS: Terms = {
  name: (path) => FIELDS[path.field].question ?? path.field,
  enable: (path) => `answer yes to ${FIELDS[path.field].question ?? path.field}`,
};

/**
 * Fields that cannot go with another, for every entry point. `when` is set → none of `excludes`
 * may be set; the problem is reported on each excluded field that is. commands/conflicts.ts also
 * checks them on the command line as typed (before a file is read), with `flags`: command options
 * that are no binding field.
 */
export interface ExclusionRule {
  when: BindingField;
  excludes: BindingField[];
  flags?: string[];
  why: string;
}

export const EXCLUSION_RULES: ExclusionRule[] = [
  {
    when: 'attachRoleArn',
    excludes: ['roleName', 'rolePath', 'policyArns', 'inlinePolicies', 'permissionsBoundary', 'maxSessionDuration', 'description', 'tags', 'prune', 'adopt'],
    flags: ['--inline-policy-name'],
    why: "that binding only adds the ServiceAccount to the existing role's trust policy and changes nothing else about the role",
  },
  {
    when: 'roleOnly',
    excludes: ['createNamespace', 'restartWorkloads', 'overrideExistingServiceAccounts', 'removeStaticKeys', 'deleteKeySecrets', 'migrateKube2iam', 'workloads', 'stsRegionalEndpoints', 'tokenExpiration'],
    flags: ['--verify'],
    why: 'it skips Kubernetes entirely (no namespace, ServiceAccount, annotation, workload or token is read or changed)',
  },
];

/**
 * A field that means nothing without another, for every entry point (commands/conflicts.ts checks
 * them on the command line as typed too). The problem is reported on `field`.
 */
export interface RequiresRule {
  field: BindingField;
  needs: BindingField;
  why: string;
}

export const REQUIRES_RULES: RequiresRule[] = [
  { field: 'deleteKeySecrets', needs: 'removeStaticKeys', why: 'the Secrets and ConfigMaps that held the keys are deleted only once the workloads no longer load them' },
  { field: 'allowWideSubjects', needs: 'subjectPattern', why: 'it accepts a subject pattern over several namespaces' },
];

/**
 * Whether a field was given: present and not false (a list counts even when empty: irsa.yaml's
 * `managedPolicies: []` was written); a map only when it has entries (the entry points build an
 * empty one when the key is absent). Entry points pass undefined for what the user did not give.
 */
export function isGiven(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'object' && !Array.isArray(value)) return Object.keys(value).length > 0;
  return true;
}

/** The cross-field problems of one binding's given values (field → value), in the entry point's terms. */
export function exclusionProblems(
  given: Partial<Record<BindingField, unknown>>,
  terms: Terms,
  at: (field: BindingField) => FieldPath,
): Array<{ path: FieldPath; message: string }> {
  const problems: Array<{ path: FieldPath; message: string }> = [];
  for (const rule of EXCLUSION_RULES) {
    if (!isGiven(given[rule.when])) continue;
    for (const field of rule.excludes) {
      if (isGiven(given[field])) problems.push({ path: at(field), message: `cannot be combined with ${terms.name({ field: rule.when })}: ${rule.why}. Leave out one of them.` });
    }
  }
  return problems;
}

/** The fields given without the one they need, in the entry point's terms. */
export function requiresProblems(
  given: Partial<Record<BindingField, unknown>>,
  terms: Terms,
  at: (field: BindingField) => FieldPath,
): Array<{ path: FieldPath; message: string }> {
  return REQUIRES_RULES.filter((rule) => isGiven(given[rule.field]) && !isGiven(given[rule.needs])).map((rule) => ({
    path: at(rule.field),
    message: `needs ${terms.name(at(rule.needs))}: ${rule.why}. ${
      spec(rule.needs).schema?.['type'] === 'boolean' ? capitalized(terms.enable(at(rule.needs))) : `Give ${terms.name(at(rule.needs))} as well`
    }, or leave out ${terms.name(at(rule.field))}.`,
  }));
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** The fields handled from their row alone (FieldSpec.value). */
export type ValueField = { [K in BindingField]: (typeof FIELDS)[K] extends { value: string } ? K : never }[BindingField];

export const VALUE_FIELDS = (Object.keys(FIELDS) as BindingField[]).filter((field): field is ValueField => 'value' in FIELDS[field]);

const spec = (field: BindingField): FieldSpec => FIELDS[field];

/** The key commander stores a flag's value under: --max-session-duration → maxSessionDuration, --no-x → x. */
export function optionKey(flag: string): string {
  return flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** create-sa-role's options declared by the table, in table order (commands/registry.ts). */
export function fieldOptions(): Array<{ flags: string; description: string; repeatable?: boolean; defaultValue?: string | boolean | number; choices?: string[] }> {
  return (Object.keys(FIELDS) as BindingField[]).flatMap((field) => {
    const { flag, option } = spec(field);
    if (!option || !flag) return [];
    return [
      {
        flags: option.arg ? `${flag} ${option.arg}` : flag,
        description: option.description,
        ...(option.repeatable ? { repeatable: true } : {}),
        ...(option.defaultValue !== undefined ? { defaultValue: option.defaultValue } : {}),
        ...(option.choices ? { choices: [...option.choices] } : {}),
      },
      ...(option.companions ?? []),
    ];
  });
}

/** irsa.yaml's `bindings[i]` keys and their JSON Schema, in table order (config/schema.ts). */
export function bindingSchemaProperties(): Record<string, Readonly<Record<string, unknown>>> {
  return Object.fromEntries(
    (Object.keys(FIELDS) as BindingField[]).flatMap((field) => {
      const { yaml, schema } = spec(field);
      return yaml && schema ? [[yaml, schema]] : [];
    }),
  );
}

/** A value field as the user gave it, from create-sa-role's parsed options (undefined: not given). */
export function valueFromFlags(field: ValueField, options: Record<string, unknown>): unknown {
  const value = options[optionKey(spec(field).flag!)];
  if (spec(field).value === 'yes-no') return value === true;
  return value;
}

/** A value field as the user gave it in a binding of irsa.yaml (undefined: absent or of the wrong type: the schema reported it). */
export function valueFromYaml(field: ValueField, binding: object): unknown {
  const key = spec(field).yaml;
  if (key === null) return undefined;
  const value: unknown = Reflect.get(binding, key);
  switch (spec(field).value) {
    case 'yes-no':
      return value === true;
    case 'integer':
      return typeof value === 'number' ? value : undefined;
    default:
      return typeof value === 'string' ? value : undefined;
  }
}

/** A value field's problem (without its name), and the value the BindingRequest carries. */
export function checkValue(field: BindingField, value: unknown): { value?: unknown; problem?: string } {
  const row = spec(field);
  if (row.value === 'yes-no') return { value: value === true };
  if (value === undefined) return {};
  if (row.range) {
    const number = Number(value);
    const { min, max, unit } = row.range;
    if (typeof value === 'boolean' || !Number.isInteger(number) || number < min || number > max) {
      return { problem: `"${String(value)}" is not allowed. Give a whole number of ${unit} from ${min} to ${max}.` };
    }
    return { value: number };
  }
  const problem = row.check?.(String(value)) ?? null;
  return problem ? { problem } : { value };
}

/** The fields only one mechanism means something to (validateBinding refuses them for the other). */
export function fieldsOnlyFor(mechanism: 'irsa' | 'pod-identity'): BindingField[] {
  return (Object.keys(FIELDS) as BindingField[]).filter((field) => spec(field).only === mechanism);
}
