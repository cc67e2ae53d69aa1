// Field paths of a binding, and how each entry point names them. The validator and the planner
// report a path; the entry point's Terms turn it into a flag (`--role-name`), an irsa.yaml key
// (`bindings[2].roleName`) or a wizard question, so one rule reads right wherever it fires.

export type BindingField =
  | 'cluster'
  | 'issuerUrl'
  | 'namespace'
  | 'name'
  | 'roleName'
  | 'rolePath'
  | 'attachRoleArn'
  | 'policyArns'
  | 'inlinePolicies'
  | 'permissionsBoundary'
  | 'maxSessionDuration'
  | 'description'
  | 'tags'
  | 'audience'
  | 'subjectPattern'
  | 'allowWideSubjects'
  | 'tokenExpiration'
  | 'trustPolicySizeLimit'
  | 'extraAnnotations'
  | 'adopt'
  | 'roleOnly'
  | 'createNamespace'
  | 'overrideExistingServiceAccounts'
  | 'restartWorkloads'
  | 'stsRegionalEndpoints'
  | 'createOidc'
  | 'force'
  | 'prune'
  | 'access';

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

const FLAGS: Record<BindingField, string> = {
  cluster: '--cluster',
  issuerUrl: '--issuer-url',
  namespace: '--namespace',
  name: '--name',
  roleName: '--role-name',
  rolePath: '--path',
  attachRoleArn: '--attach-role-arn',
  policyArns: '--attach-policy-arn',
  inlinePolicies: '--inline-policy',
  permissionsBoundary: '--permissions-boundary',
  maxSessionDuration: '--max-session-duration',
  description: '--description',
  tags: '--tags',
  audience: '--audience',
  subjectPattern: '--subject-pattern',
  allowWideSubjects: '--allow-wide-subjects',
  tokenExpiration: '--token-expiration',
  trustPolicySizeLimit: '--max-trust-policy-size',
  extraAnnotations: '--annotations',
  adopt: '--adopt',
  roleOnly: '--role-only',
  createNamespace: '--create-namespace',
  overrideExistingServiceAccounts: '--override-existing-serviceaccounts',
  restartWorkloads: '--restart-workloads',
  stsRegionalEndpoints: '--sts-regional-endpoints',
  createOidc: '--no-create-oidc',
  force: '--force',
  prune: '--prune',
  access: '--access',
};

/** Command-line flags (create-sa-role, delete-sa-role). */
export const FLAG_TERMS: Terms = {
  name: (path) => (path.field === 'inlinePolicies' && path.part === 'name' ? '--inline-policy-name' : FLAGS[path.field]),
  enable: (path) => `pass ${FLAGS[path.field]}`,
};

const CONFIG_KEYS: Partial<Record<BindingField, string>> = {
  rolePath: 'path',
  policyArns: 'managedPolicies',
  restartWorkloads: 'restart',
  extraAnnotations: 'annotations',
};

/** The irsa.yaml key of a field: `bindings[2].managedPolicies[0]`, `cluster.name`. */
export function configKey(path: FieldPath): string {
  if (path.field === 'prune') return '--prune';
  if (path.field === 'cluster') return 'cluster.name';
  if (path.field === 'issuerUrl') return 'cluster.issuerUrl';
  if (path.field === 'createOidc') return 'oidcProvider.manage';
  const key = CONFIG_KEYS[path.field] ?? path.field;
  const base = path.binding === undefined ? key : `bindings[${path.binding}].${key}`;
  if (path.item === undefined) return base;
  return typeof path.item === 'number' ? `${base}[${path.item}]` : `${base}.${path.item}`;
}

/** irsa.yaml keys. */
export function configTerms(file: string): Terms {
  return {
    name: configKey,
    enable: (path) => {
      if (path.field === 'prune') return 'pass --prune';
      // A namespace is declared once for all its bindings.
      if (path.field === 'createNamespace') return `list it under namespaces.create in ${file}`;
      return `set ${configKey(path)}: true in ${file}`;
    },
  };
}
