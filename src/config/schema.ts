// JSON Schema of irsa.yaml (draft-07, checked with ajv). Names and ARNs get semantic checks in
// load.ts so their errors can say the fix; the schema catches shape: unknown fields, wrong types.

const arn = { type: 'string' };
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['cluster', 'bindings'],
  properties: {
    version: { const: 1 },
    cluster: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1 },
        region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d$' },
        profile: { type: 'string', minLength: 1 },
        issuerUrl: { type: 'string', pattern: '^https://' },
      },
    },
    oidcProvider: {
      type: 'object',
      additionalProperties: false,
      properties: {
        manage: { type: 'boolean' },
        thumbprints: { type: 'array', items: { type: 'string' }, maxItems: 5 },
      },
    },
    bindings: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['namespace', 'name'],
        properties: {
          namespace: { type: 'string' },
          name: { type: 'string' },
          roleName: { type: 'string' },
          path: { type: 'string' },
          managedPolicies: { type: 'array', items: arn },
          inlinePolicies: {
            type: 'object',
            additionalProperties: {
              oneOf: [
                { type: 'object', required: ['Statement'] },
                { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string' } } },
              ],
            },
          },
          permissionsBoundary: arn,
          maxSessionDuration: { type: 'integer', minimum: 3600, maximum: 43200 },
          description: { type: 'string', maxLength: 1000 },
          tags: stringMap,
          audience: { type: 'string', minLength: 1 },
          stsRegionalEndpoints: { type: 'boolean' },
          tokenExpiration: { type: 'integer', minimum: 600 },
          annotations: stringMap,
          subjectPattern: { type: 'string' },
          restart: { type: 'boolean' },
          roleOnly: { type: 'boolean' },
          createNamespace: { type: 'boolean' },
          adopt: { type: 'boolean' },
          removeStaticKeys: { type: 'boolean' },
          deleteKeySecrets: { type: 'boolean' },
          migrateKube2iam: { type: 'boolean' },
          workloads: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;
