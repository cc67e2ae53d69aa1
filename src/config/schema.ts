// JSON Schema of irsa.yaml (draft-07, checked with ajv) — the one schema: load.ts validates with
// it, scripts/docs.ts writes it to docs/irsa.schema.json (for editors) and the field tables of
// docs/config.md from its descriptions. Names and ARNs get semantic checks in load.ts so their
// errors can say the fix; the schema catches shape: unknown fields, wrong types.
// Every binding option a create-sa-role flag expresses has a field here (FLAG_KEYS, tested).

const arn = { type: 'string' };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/irsa/irsa/docs/irsa.schema.json',
  title: 'irsa.yaml',
  description: 'Bindings of Kubernetes ServiceAccounts to IAM roles, planned by irsa plan -f and applied by irsa apply -f.',
  type: 'object',
  additionalProperties: false,
  required: ['cluster', 'bindings'],
  properties: {
    version: { const: 1, description: 'format version; 1' },
    cluster: {
      type: 'object',
      description: 'the cluster whose ServiceAccounts are bound',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, description: 'EKS cluster name (--cluster); for a self-managed cluster, the name used in role names and tags' },
        region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d{1,2}$', description: 'AWS region (--region wins over it; default: AWS_REGION or the profile\'s region)' },
        profile: {
          type: 'string',
          minLength: 1,
          description: 'AWS profile that reads the cluster (--cluster-profile); also writes IAM unless iam.profile is set',
        },
        issuerUrl: { type: 'string', pattern: '^https://', description: 'OIDC issuer of a self-managed cluster (--issuer-url); EKS clusters are looked up instead' },
      },
    },
    iam: {
      type: 'object',
      description: 'the account the roles and the OIDC provider go to',
      additionalProperties: false,
      properties: {
        profile: { type: 'string', minLength: 1, description: 'AWS profile for IAM (--profile wins over it; default: cluster.profile, else the default credential chain). Cross-account: the role account\'s profile' },
        maxTrustPolicySize: {
          type: 'integer',
          minimum: 2048,
          maximum: 8192,
          description: 'the account\'s ACLSizePerRole quota in characters, when raised above 2048 (--max-trust-policy-size)',
        },
      },
    },
    accounts: {
      type: 'object',
      description: 'other AWS accounts whose documents irsa plans (a secret\'s resource policy, a KMS key\'s key policy for access requests), by 12-digit account id (--account-profile <id>=<profile>)',
      propertyNames: { pattern: '^\\d{12}$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['profile'],
        properties: { profile: { type: 'string', minLength: 1, description: 'AWS profile that reads and writes that account\'s documents' } },
      },
    },
    oidcProvider: {
      type: 'object',
      description: 'the IAM OIDC identity provider of the cluster\'s issuer',
      additionalProperties: false,
      properties: {
        manage: { type: 'boolean', description: 'plan the provider (default true); false: it must exist (--no-create-oidc)' },
        thumbprints: {
          description: 'thumbprints to set instead of computing them (--thumbprint, at most 5), or "none" to send none and let IAM obtain them (--no-thumbprint)',
          oneOf: [
            { type: 'array', items: { type: 'string' }, maxItems: 5 },
            { const: 'none' },
          ],
        },
        caBundle: { type: 'string', description: 'PEM CA certificates to trust when fetching the issuer (--ca-bundle); relative to this file' },
      },
    },
    namespaces: {
      type: 'object',
      description: 'namespaces of the bindings',
      additionalProperties: false,
      properties: {
        create: {
          type: 'array',
          items: { type: 'string' },
          description: 'namespaces irsa creates when they do not exist (--create-namespace), declared once for all their bindings',
        },
      },
    },
    bindings: {
      type: 'array',
      description: 'one entry per ServiceAccount',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['namespace', 'name'],
        properties: {
          namespace: { type: 'string', description: 'namespace of the ServiceAccount (--namespace)' },
          name: { type: 'string', description: 'name of the ServiceAccount (--name)' },
          roleName: { type: 'string', description: 'IAM role name (--role-name; default irsa-<cluster>-<namespace>-<name>); bindings with the same roleName share the role' },
          attachRoleArn: {
            type: 'string',
            description: 'bind to this existing role instead of creating one: only adds the ServiceAccount to its trust policy (--attach-role-arn)',
          },
          path: { type: 'string', description: 'IAM path of a new role (--path; default /)' },
          managedPolicies: { type: 'array', items: arn, description: 'managed policy ARNs; exactly these are attached (--attach-policy-arn)' },
          inlinePolicies: {
            type: 'object',
            description: 'inline policies by name: a policy document, or { file: <path relative to this file> } (--inline-policy, --inline-policy-name)',
            additionalProperties: {
              oneOf: [
                { type: 'object', required: ['Statement'] },
                { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
              ],
            },
          },
          permissionsBoundary: { ...arn, description: 'permissions boundary policy ARN (--permissions-boundary); none in the file means none on the role' },
          maxSessionDuration: { type: 'integer', minimum: 3600, maximum: 43200, description: 'maximum session duration in seconds (--max-session-duration)' },
          description: { type: 'string', maxLength: 1000, description: 'role description (--description)' },
          tags: { ...stringMap, description: 'extra role tags (--tags)' },
          audience: { type: 'string', minLength: 1, description: 'token audience (--audience; default sts.amazonaws.com)' },
          stsRegionalEndpoints: { type: 'boolean', description: 'annotate eks.amazonaws.com/sts-regional-endpoints=true (--sts-regional-endpoints)' },
          tokenExpiration: { type: 'integer', minimum: 600, description: 'annotate eks.amazonaws.com/token-expiration, seconds (--token-expiration)' },
          annotations: { ...stringMap, description: 'further ServiceAccount annotations irsa keeps set' },
          subjectPattern: { type: 'string', description: 'trust every ServiceAccount matching this StringLike pattern (--subject-pattern); the plan warns. A pattern over several namespaces (system:serviceaccount:*:x) is refused unless allowWideSubjects is true' },
          allowWideSubjects: {
            type: 'boolean',
            description: 'accept a subjectPattern that admits ServiceAccounts of several namespaces, which irsa audit --iam rates critical (--allow-wide-subjects); the plan shows it as a widening',
          },
          restart: { type: 'boolean', description: 'restart the workloads using the ServiceAccount when its annotation changes (--restart-workloads)' },
          roleOnly: { type: 'boolean', description: 'the IAM role only; do not touch Kubernetes (--role-only)' },
          createNamespace: { type: 'boolean', description: 'create this binding\'s namespace when missing (--create-namespace); prefer namespaces.create' },
          adopt: { type: 'boolean', description: 'manage an existing role of that name that irsa did not create (--adopt)' },
          removeStaticKeys: { type: 'boolean', description: 'remove static AWS keys (env, envFrom of a key Secret, a mounted credentials file) from the pod templates of workloads using the ServiceAccount (--remove-static-keys)' },
          deleteKeySecrets: { type: 'boolean', description: 'with removeStaticKeys: delete those Secrets once no workload uses them (--delete-key-secrets)' },
          migrateKube2iam: { type: 'boolean', description: 'remove the kube2iam/kiam annotation iam.amazonaws.com/role from those pod templates (--migrate-kube2iam)' },
          workloads: { type: 'array', items: { type: 'string' }, description: 'workloads (<kind>/<name>) that should run as this ServiceAccount although they use default (--workload)' },
          mechanism: {
            enum: ['irsa', 'pod-identity'],
            description: 'how pods get the role (--mechanism): irsa (default: OIDC web identity and the ServiceAccount annotation) or pod-identity (an EKS Pod Identity association; no OIDC provider)',
          },
          targetRoleArn: { ...arn, description: 'pod-identity: a role EKS assumes with the association\'s role, possibly in another account (--target-role-arn)' },
          disableSessionTags: { type: 'boolean', description: 'pod-identity: EKS adds no session tags; the role\'s trust is then narrowed to the cluster only (--disable-session-tags)' },
          sessionPolicy: {
            description: 'pod-identity: a session policy document, or { file: <path relative to this file> }; at most 2,048 characters without whitespace, needs disableSessionTags (--session-policy)',
            oneOf: [
              { type: 'object', required: ['Statement'] },
              { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
            ],
          },
          installPodIdentityAgent: { type: 'boolean', description: 'pod-identity: add the eks-pod-identity-agent add-on when the cluster has none (--install-pod-identity-agent)' },
          access: {
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
      },
    },
  },
} as const;

/**
 * Where each create-sa-role flag lives in irsa.yaml — for messages shared by both ("pass --adopt"
 * becomes "set adopt: true on the binding") and for the parity test. null: not a binding option
 * (how the command runs, not what it plans).
 */
export const FLAG_KEYS: Record<string, string | null> = {
  '--cluster': 'cluster.name',
  '--issuer-url': 'cluster.issuerUrl',
  '--cluster-profile': 'cluster.profile',
  '--namespace': 'namespace',
  '--name': 'name',
  '--role-name': 'roleName',
  '--path': 'path',
  '--attach-policy-arn': 'managedPolicies',
  '--inline-policy': 'inlinePolicies',
  '--inline-policy-name': 'inlinePolicies',
  '--attach-role-arn': 'attachRoleArn',
  '--permissions-boundary': 'permissionsBoundary',
  '--max-session-duration': 'maxSessionDuration',
  '--description': 'description',
  '--tags': 'tags',
  '--subject-pattern': 'subjectPattern',
  '--allow-wide-subjects': 'allowWideSubjects: true',
  '--audience': 'audience',
  '--sts-regional-endpoints': 'stsRegionalEndpoints: true',
  '--token-expiration': 'tokenExpiration',
  '--role-only': 'roleOnly: true',
  '--create-namespace': 'namespaces.create',
  '--override-existing-serviceaccounts': null, // the file is exact: its ServiceAccounts are annotated with its roles
  '--restart-workloads': 'restart: true',
  '--remove-static-keys': 'removeStaticKeys: true',
  '--delete-key-secrets': 'deleteKeySecrets: true',
  '--migrate-kube2iam': 'migrateKube2iam: true',
  '--workload': 'workloads',
  '--access': 'access',
  '--mechanism': 'mechanism',
  '--target-role-arn': 'targetRoleArn',
  '--disable-session-tags': 'disableSessionTags: true',
  '--session-policy': 'sessionPolicy',
  '--install-pod-identity-agent': 'installPodIdentityAgent: true',
  '--account-profile': null, // the file's top-level accounts.<id>.profile (not a binding field)
  '--prune': null, // the file is exact: policies not listed are always removed
  '--adopt': 'adopt: true',
  '--no-create-oidc': 'oidcProvider.manage: false',
  '--max-trust-policy-size': 'iam.maxTrustPolicySize',
  '--thumbprint': 'oidcProvider.thumbprints',
  '--no-thumbprint': 'oidcProvider.thumbprints: none',
  '--ca-bundle': 'oidcProvider.caBundle',
  '--approve': null,
  '--detailed-exitcode': null,
  '--verify': null, // a check after apply; irsa apply -f has the same flag
  '--verify-timeout': null,
};

/**
 * A message written for the flags, in irsa.yaml's terms: "pass --adopt" → "set adopt: true",
 * "--role-name" → "roleName". Used for errors of plan/apply -f, whose users cannot pass those flags.
 */
export function inFileTerms(message: string): string {
  const flags = Object.keys(FLAG_KEYS).sort((a, b) => b.length - a.length);
  let text = message.replace(/\b(?:Pass|pass|Use|use) (--[a-z-]+)(?: <[^>]+>| arn:\S+)?/g, (whole, flag: string) => {
    const key = FLAG_KEYS[flag];
    if (!key) return whole;
    return `set ${key} in the file`;
  });
  for (const flag of flags) {
    const key = FLAG_KEYS[flag];
    if (!key) continue;
    text = text.split(flag).join(key.replace(/: .*$/, ''));
  }
  return text;
}
