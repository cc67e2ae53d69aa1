// JSON Schema of irsa.yaml (draft-07, checked with ajv) — the one schema: load.ts validates with
// it, scripts/docs.ts writes it to docs/irsa.schema.json (for editors) and the field tables of
// docs/config.md from its descriptions. Names and ARNs get semantic checks in load.ts so their
// errors can say the fix; the schema catches shape: unknown fields, wrong types.
// Every binding option a create-sa-role flag expresses has a field here (FLAG_KEYS, tested).
// The keys of a binding come from the field table (core/fields.ts): one row per field.

import { bindingSchemaProperties, FIELDS, type BindingField } from '../core/fields.ts';

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
    closePaths: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', enum: ['kube2iam', 'node-permissions', 'imds'] },
      description: 'old credential paths to close with the bindings, as irsa close-paths --only does (docs/closing-old-paths.md): kube2iam (old roles\' trust in the node role and its grant), node-permissions (node role policies the IRSA roles carry), imds (IMDSv2 with hop limit 1 on managed nodegroups)',
    },
    bindings: {
      type: 'array',
      description: 'one entry per ServiceAccount',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['namespace', 'name'],
        // One key per binding field, from its row in core/fields.ts (schema and description).
        properties: bindingSchemaProperties(),
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
  // Binding fields: from their rows (a yes/no flag sets the key to true).
  ...Object.fromEntries(
    (Object.keys(FIELDS) as BindingField[]).flatMap((field) => {
      const { flag, yaml, schema } = FIELDS[field] as { flag: string | null; yaml: string | null; schema?: { type?: string } };
      if (!flag) return [];
      return [[flag, yaml === null ? null : schema?.type === 'boolean' ? `${yaml}: true` : yaml]];
    }),
  ),
  // Declared once for all the namespace's bindings.
  '--create-namespace': 'namespaces.create',
  '--no-create-oidc': 'oidcProvider.manage: false',
  '--inline-policy-name': 'inlinePolicies',
  '--cluster-profile': 'cluster.profile',
  '--account-profile': null, // the file's top-level accounts.<id>.profile (not a binding field)
  '--prune': null, // the file is exact: policies not listed are always removed
  '--thumbprint': 'oidcProvider.thumbprints',
  '--no-thumbprint': 'oidcProvider.thumbprints: none',
  '--ca-bundle': 'oidcProvider.caBundle',
  '--approve': null,
  '--detailed-exitcode': null,
  '--verify': null, // a check after apply; irsa apply -f has the same flag
  '--verify-timeout': null,
  '--lock-timeout': null, // how long to wait for another run's lock; irsa apply -f has the same flag
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
