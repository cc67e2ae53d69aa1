// One row per binding field: how each entry point names it (create-sa-role's flag, the irsa.yaml
// key, the wizard's question), one line for people, and the rules that tie fields together.
// core/terms.ts names fields from this table, core/binding-input.ts's validateBinding applies its
// cross-field rules for every entry point (flags, irsa.yaml, wizard), so a rule cannot drift
// between them. Adding a field: a row here, its type in BindingInput/BindingRequest, and where it
// is used.

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
}

export const FIELDS = {
  cluster: { flag: '--cluster', yaml: 'cluster.name', question: 'the cluster', doc: 'EKS cluster name (role names and ownership tags use it)' },
  issuerUrl: { flag: '--issuer-url', yaml: 'cluster.issuerUrl', question: null, doc: 'OIDC issuer of a self-managed cluster' },
  namespace: { flag: '--namespace', yaml: 'namespace', question: 'the namespace', doc: 'namespace of the ServiceAccount' },
  name: { flag: '--name', yaml: 'name', question: 'the ServiceAccount', doc: 'name of the ServiceAccount' },
  roleName: { flag: '--role-name', yaml: 'roleName', question: 'the role name', doc: 'IAM role name (default irsa-<cluster>-<namespace>-<name>)' },
  rolePath: { flag: '--path', yaml: 'path', question: null, doc: 'IAM path for a new role (default /)' },
  attachRoleArn: { flag: '--attach-role-arn', yaml: 'attachRoleArn', question: null, doc: 'bind to this existing role: only its trust policy changes' },
  policyArns: { flag: '--attach-policy-arn', yaml: 'managedPolicies', question: 'the permissions', doc: 'managed policies to attach' },
  inlinePolicies: { flag: '--inline-policy', yaml: 'inlinePolicies', question: 'the inline policy', doc: 'inline policies by name' },
  permissionsBoundary: { flag: '--permissions-boundary', yaml: 'permissionsBoundary', question: 'the permissions boundary', doc: 'permissions boundary policy ARN' },
  maxSessionDuration: { flag: '--max-session-duration', yaml: 'maxSessionDuration', question: null, doc: 'maximum session duration, 3600–43200 seconds' },
  description: { flag: '--description', yaml: 'description', question: null, doc: 'role description' },
  tags: { flag: '--tags', yaml: 'tags', question: null, doc: 'role tags' },
  audience: { flag: '--audience', yaml: 'audience', question: null, doc: 'token audience (default sts.amazonaws.com)' },
  subjectPattern: { flag: '--subject-pattern', yaml: 'subjectPattern', question: null, doc: 'trust a subject pattern (StringLike) instead of the one ServiceAccount' },
  allowWideSubjects: { flag: '--allow-wide-subjects', yaml: 'allowWideSubjects', question: null, doc: 'accept a subject pattern over several namespaces' },
  tokenExpiration: { flag: '--token-expiration', yaml: 'tokenExpiration', question: null, doc: 'token lifetime the webhook requests, seconds' },
  trustPolicySizeLimit: { flag: '--max-trust-policy-size', yaml: 'iam.maxTrustPolicySize', question: null, doc: "the account's trust policy size quota" },
  extraAnnotations: { flag: '--annotations', yaml: 'annotations', question: null, doc: 'further ServiceAccount annotations irsa keeps set' },
  adopt: { flag: '--adopt', yaml: 'adopt', question: '"Let irsa manage" the role', doc: 'manage an existing role irsa did not create' },
  roleOnly: { flag: '--role-only', yaml: 'roleOnly', question: null, doc: 'only the IAM side; Kubernetes is not read or changed' },
  createNamespace: { flag: '--create-namespace', yaml: 'createNamespace', question: '"Create the namespace"', doc: 'create the namespace when it does not exist' },
  overrideExistingServiceAccounts: { flag: '--override-existing-serviceaccounts', yaml: 'overrideExistingServiceAccounts', question: '"Re-annotate it"', doc: 're-annotate a ServiceAccount bound to another role' },
  restartWorkloads: { flag: '--restart-workloads', yaml: 'restart', question: '"Restart them"', doc: 'restart the workloads that use the ServiceAccount' },
  stsRegionalEndpoints: { flag: '--sts-regional-endpoints', yaml: 'stsRegionalEndpoints', question: null, doc: 'annotate for regional STS endpoints' },
  createOidc: { flag: '--no-create-oidc', yaml: 'oidcProvider.manage', question: null, doc: 'create the OIDC provider when missing' },
  force: { flag: '--force', yaml: null, question: null, doc: 'delete-sa-role: go ahead although workloads use the ServiceAccount' },
  prune: { flag: '--prune', yaml: null, question: null, doc: 'remove what irsa manages that was not asked for' },
  access: { flag: '--access', yaml: 'access', question: null, doc: 'resources the role may use (Secrets Manager secrets, KMS keys), in their own accounts' },
  // EKS Pod Identity (issue 22; core/mechanisms/pod-identity.ts, core/pod-identity-input.ts).
  mechanism: { flag: '--mechanism', yaml: 'mechanism', question: 'How should pods get the role', doc: 'how the ServiceAccount gets the role: irsa (default, OIDC web identity) or pod-identity (an EKS Pod Identity association)' },
  targetRoleArn: { flag: '--target-role-arn', yaml: 'targetRoleArn', question: null, doc: 'pod-identity: a role (in any account) that EKS assumes with the association\'s role (role chaining)' },
  disableSessionTags: { flag: '--disable-session-tags', yaml: 'disableSessionTags', question: null, doc: 'pod-identity: EKS adds no session tags (the role\'s trust can then only be narrowed to the cluster)' },
  sessionPolicy: { flag: '--session-policy', yaml: 'sessionPolicy', question: null, doc: 'pod-identity: a session policy that narrows the credentials (at most 2,048 characters; needs disableSessionTags)' },
  installPodIdentityAgent: { flag: '--install-pod-identity-agent', yaml: 'installPodIdentityAgent', question: '"Install the EKS Pod Identity Agent"', doc: 'pod-identity: add the eks-pod-identity-agent add-on when the cluster has none' },
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
 * may be set; the problem is reported on each excluded field that is.
 */
export interface ExclusionRule {
  when: BindingField;
  excludes: BindingField[];
  why: string;
}

export const EXCLUSION_RULES: ExclusionRule[] = [
  {
    when: 'attachRoleArn',
    excludes: ['roleName', 'rolePath', 'policyArns', 'inlinePolicies', 'permissionsBoundary', 'maxSessionDuration', 'description', 'tags', 'adopt'],
    why: "that binding only adds the ServiceAccount to the existing role's trust policy and changes nothing else about the role",
  },
  {
    when: 'roleOnly',
    excludes: ['createNamespace', 'restartWorkloads', 'overrideExistingServiceAccounts'],
    why: 'it skips Kubernetes entirely (no namespace, ServiceAccount or workload is read or changed)',
  },
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
      if (isGiven(given[field])) problems.push({ path: at(field), message: `cannot be combined with ${terms.name({ field: rule.when })}: ${rule.why}` });
    }
  }
  return problems;
}
