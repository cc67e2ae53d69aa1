// Differential property test: irsa's access evaluator (identity policies + permissions boundary +
// resource policy / KMS key policy, same account and across accounts) against an evaluator we did not
// write, @cloud-copilot/iam-simulate (AGPL-3.0, a devDependency used only in tests; never bundled).
//
// The generator builds requests from a pod role's session in account 111111111111 to a Secrets
// Manager secret or a KMS key in the same or another account, with identity policies, an optional
// boundary and an optional resource/key policy drawn from small alphabets (so that matches,
// near-misses and case variants all occur): Action/NotAction, Resource/NotResource with wildcards,
// principals (the role, its account, `*`, other accounts, services, NotPrincipal), and conditions on
// aws:PrincipalArn, aws:PrincipalAccount, kms:ViaService, kms:CallerAccount (known), aws:SourceVpce
// (absent) and aws:SourceIp (unknown to irsa), with IfExists, set operators, negations and Null.
//
// Where irsa says "cannot decide" the case is not compared (irsa claims nothing there); the test
// checks that such cases stay a minority. Cases outside what the oracle models are excluded by
// shape; each class is listed in ACCESS_EXCLUDED_CLASSES with the reason. Everything else must agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { createValidatedPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy';
import { evaluateAccess, type AccessDocuments, type AccessRequest, type NamedPolicy, type RequestContext } from '../../src/core/access-eval.ts';

const RUNS = Number(process.env.IRSA_ACCESS_RUNS ?? 6_000);
/** Compared (decided by irsa, not excluded) cases required per run. */
const MIN_COMPARED = Math.min(5_000, Math.floor(RUNS * 0.8));
const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const ROLE = `arn:aws:iam::${A}:role/app`;
const ROLE_ID = 'AROAAPPEXAMPLEID1';
const OTHER_ROLE = `arn:aws:iam::${A}:role/other`;
const SESSION = `arn:aws:sts::${A}:assumed-role/app/botocore-session-1`;
const REGION = 'us-east-1';
const VIA = `secretsmanager.${REGION}.amazonaws.com`;
const secretArn = (account: string) => `arn:aws:secretsmanager:${REGION}:${account}:secret:db-AbCdEf`;
const keyArn = (account: string) => `arn:aws:kms:${REGION}:${account}:key/1111-2222`;

/**
 * Shapes not compared, and why. Each is also a place where irsa says "cannot decide" or where the
 * oracle has no input for what irsa reads.
 * - Unique-id principals (`AROA…`): IAM shows a role principal by its unique id once the role is
 *   gone; the oracle has no role ids, irsa matches the id against the role's RoleId.
 * - KMS grants: the oracle has no grants.
 */
export const ACCESS_EXCLUDED_CLASSES = [
  'principal given as a role unique id (AROA…): the oracle knows no role ids',
  'KMS grants: the oracle models none',
];

type Doc = { Version: string; Statement: Record<string, unknown>[] };

function oracle(request: AccessRequest, documents: AccessDocuments): boolean {
  const context: Record<string, string | string[]> = {};
  for (const [key, values] of Object.entries(request.context.values)) context[key] = values.length === 1 ? values[0]! : values;
  const policy = (p: NamedPolicy) => ({ name: p.name.replace(/\W/g, '_'), policy: p.document });
  const result = runUnsafeSimulation(
    {
      request: { principal: SESSION, action: request.action, resource: { resource: request.resource.arn, accountId: request.resource.account }, contextVariables: context },
      identityPolicies: documents.identityPolicies.map(policy),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(documents.permissionsBoundary ? { permissionBoundaryPolicies: [policy(documents.permissionsBoundary)] } : {}),
      ...(documents.resourcePolicy && documents.resourcePolicy !== 'unreadable' ? { resourcePolicy: createValidatedPolicy(documents.resourcePolicy.document, validateResourcePolicy, { name: 'resource' }) } : {}),
    },
    {},
  ) as unknown;
  return result === 'Allowed';
}

// ---- generators ----
const secretActions = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
const keyActions = ['kms:Decrypt', 'kms:Encrypt'];
const actionPattern = fc.constantFrom(
  'secretsmanager:GetSecretValue', 'secretsmanager:Get*', 'secretsmanager:*', '*', 'SecretsManager:getsecretvalue', 'secretsmanager:DescribeSecret',
  'kms:Decrypt', 'kms:*', 'kms:De?rypt', 'kms:Encrypt', 's3:GetObject',
);
const resourcePattern = fc.constantFrom(
  '*', secretArn(A), secretArn(B), keyArn(A), keyArn(B),
  `arn:aws:secretsmanager:${REGION}:*:secret:db-*`, `arn:aws:secretsmanager:*:${B}:secret:*`, `arn:aws:secretsmanager:${REGION}:${A}:secret:DB-*`,
  `arn:aws:secretsmanager:us-west-2:${B}:secret:db-AbCdEf`, `arn:aws:kms:${REGION}:${B}:key/*`, 'arn:aws:kms:*:*:key/1111-2222', `arn:aws:kms:${REGION}:*:key/1111-222?`,
);
const listOf = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 2 }).map((v) => (v.length === 1 ? v[0]! : v));

const conditionKeys: Record<string, { ops: string[]; values: string[] }> = {
  'aws:PrincipalArn': { ops: ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'StringEquals', 'StringLike', 'StringNotEquals'], values: [ROLE, OTHER_ROLE, `arn:aws:iam::${A}:role/*`, 'arn:aws:iam::*:role/app', `arn:aws:iam::${B}:role/app`] },
  'aws:PrincipalAccount': { ops: ['StringEquals', 'StringNotEquals', 'StringLike'], values: [A, B, '1111*'] },
  'kms:ViaService': { ops: ['StringEquals', 'StringNotEquals', 'StringLike', 'StringEqualsIgnoreCase'], values: [VIA, 'secretsmanager.eu-west-1.amazonaws.com', 'secretsmanager.*.amazonaws.com', 'SECRETSMANAGER.us-east-1.amazonaws.com'] },
  'kms:CallerAccount': { ops: ['StringEquals', 'StringNotEquals'], values: [A, B] },
  'aws:SourceVpce': { ops: ['StringEquals', 'StringNotEquals', 'StringLike'], values: ['vpce-1'] },
  'aws:SourceIp': { ops: ['IpAddress', 'NotIpAddress'], values: ['10.0.0.0/8'] },
};
const conditionEntry = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...Object.keys(conditionKeys)), fc.constantFrom('', '', '', 'ForAnyValue:', 'ForAllValues:'), fc.constantFrom('', '', 'IfExists'), fc.boolean())
      .chain(([key, set, ifExists, upper]) =>
        fc.tuple(fc.constantFrom(...conditionKeys[key]!.ops), listOf(fc.constantFrom(...conditionKeys[key]!.values))).map(([op, v]) => ({
          op: `${set}${op}${ifExists}`,
          k: upper ? key.toUpperCase() : key,
          v,
        })),
      ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('kms:ViaService', 'aws:SourceVpce', 'aws:PrincipalArn'), fc.constantFrom('true', 'false')).map(([k, v]) => ({ op: 'Null', k, v: v as string | string[] })) },
);
const condition = fc.array(conditionEntry, { maxLength: 2 }).chain((entries) => fc.constantFrom(entries, entries, entries.slice(0, 0))).map((entries) => {
  const block: Record<string, Record<string, string | string[]>> = {};
  for (const { op, k, v } of entries) (block[op] ??= {})[k] = v;
  return block;
});
const effect = fc.constantFrom('Allow', 'Allow', 'Allow', 'Allow', 'Deny');
const withCondition = (c: Record<string, unknown>) => (Object.keys(c).length > 0 ? { Condition: c } : {});

/** Statements are drawn around the request: its exact action and resource, patterns that cover them, near-misses. */
const generatorCache = new Map<string, ReturnType<typeof buildGenerators>>();
const generators = (action: string, resource: string) => {
  const key = `${action} ${resource}`;
  if (!generatorCache.has(key)) generatorCache.set(key, buildGenerators(action, resource));
  return generatorCache.get(key)!;
};
function buildGenerators(action: string, resource: string) {
  const [service, name] = action.split(':') as [string, string];
  const relevantAction = fc.constantFrom(action, `${service}:*`, '*', action.toLowerCase(), `${service}:${name.slice(0, 3)}*`, `${service}:${name.slice(0, -1)}?`);
  const anyAction = fc.oneof({ weight: 3, arbitrary: relevantAction }, { weight: 2, arbitrary: actionPattern });
  const parts = resource.split(':');
  const relevantResource = fc.constantFrom(resource, '*', [...parts.slice(0, 4), '*', parts[5]].join(':'), `${resource.slice(0, -4)}*`, [...parts.slice(0, 3), '*', ...parts.slice(4)].join(':'));
  const anyResource = fc.oneof({ weight: 3, arbitrary: relevantResource }, { weight: 2, arbitrary: resourcePattern });
  const actionPart = fc.oneof({ weight: 6, arbitrary: listOf(anyAction).map((a) => ({ Action: a })) }, { weight: 1, arbitrary: listOf(anyAction).map((a) => ({ NotAction: a })) });
  const resourcePart = fc.oneof({ weight: 6, arbitrary: listOf(anyResource).map((r) => ({ Resource: r })) }, { weight: 1, arbitrary: listOf(anyResource).map((r) => ({ NotResource: r })) });
  const identityStatement = fc
    .record({ effect, action: actionPart, resource: resourcePart, condition, sid: fc.constantFrom(undefined, 'S1', 'ReadDb') })
    .map(({ effect: e, action: a, resource: r, condition: c, sid }) => ({ ...(sid ? { Sid: sid } : {}), Effect: e, ...a, ...r, ...withCondition(c) }));
  const identityDoc = fc.array(identityStatement, { minLength: 1, maxLength: 3 }).map((s): Doc => ({ Version: '2012-10-17', Statement: s }));
  const principal = fc.oneof(
    { weight: 12, arbitrary: fc.constant({ Principal: { AWS: ROLE } }) },
    { weight: 6, arbitrary: fc.constantFrom({ Principal: { AWS: `arn:aws:iam::${A}:root` } }, { Principal: { AWS: A } }) },
    { weight: 1, arbitrary: fc.constantFrom({ Principal: '*' }, { Principal: { AWS: '*' } }) },
    { weight: 1, arbitrary: fc.constantFrom({ Principal: { AWS: OTHER_ROLE } }, { Principal: { AWS: `arn:aws:iam::${C}:root` } }, { Principal: { AWS: [OTHER_ROLE, ROLE] } }, { Principal: { Service: 'secretsmanager.amazonaws.com' } }) },
    { weight: 1, arbitrary: fc.constantFrom({ NotPrincipal: { AWS: `arn:aws:iam::${C}:root` } }, { NotPrincipal: { AWS: ROLE } }) },
    { weight: 1, arbitrary: fc.constant({ Principal: { AWS: [ROLE_ID, OTHER_ROLE] } }) },
  );
  const resourceStatement = fc
    .record({ effect, principal, action: actionPart, resource: resourcePart, condition })
    .map(({ effect: e, principal: p, action: a, resource: r, condition: c }) => ({ Effect: e, ...p, ...a, ...r, ...withCondition(c) }));
  const resourceDoc = fc.array(resourceStatement, { minLength: 1, maxLength: 3 }).map((s): Doc => ({ Version: '2012-10-17', Statement: s }));
  return { identityDoc, resourceDoc };
}

const scenario = fc
  .record({ kind: fc.constantFrom('secret', 'key'), account: fc.constantFrom(A, B, B), actionIndex: fc.nat(1), via: fc.boolean() })
  .chain((base) => {
    const isKey = base.kind === 'key';
    const arn = isKey ? keyArn(base.account) : secretArn(base.account);
    const action = (isKey ? keyActions : secretActions)[base.actionIndex]!;
    const { identityDoc, resourceDoc } = generators(action, arn);
    return fc.record({
      identity: fc.array(identityDoc, { maxLength: 2 }),
      boundary: fc.option(identityDoc, { freq: 4 }),
      resourcePolicy: fc.option(resourceDoc, { freq: 6 }),
    }).map((docs) => ({ ...base, ...docs, isKey, arn, action }));
  })
  .map((s) => {
    const { isKey, arn, action } = s;
    const context: RequestContext = {
      values: {
        'aws:PrincipalArn': [ROLE],
        'aws:PrincipalAccount': [A],
        ...(isKey ? { 'kms:CallerAccount': [A] } : {}),
        ...(isKey && s.via ? { 'kms:ViaService': [VIA] } : {}),
      },
      absent: ['aws:SourceVpce', ...(isKey && s.via ? [] : ['kms:ViaService']), ...(isKey ? [] : ['kms:CallerAccount'])],
    };
    const request: AccessRequest = { role: { arn: ROLE, account: A, id: ROLE_ID }, action, resource: { arn, account: s.account }, context };
    const documents: AccessDocuments = {
      identityPolicies: s.identity.map((document, i) => ({ kind: 'identity', name: `identity-${i}`, account: A, document })),
      permissionsBoundary: s.boundary ? { kind: 'boundary', name: 'boundary', account: A, document: s.boundary } : null,
      resourcePolicy: s.resourcePolicy ? { kind: isKey ? 'key-policy' : 'resource', name: isKey ? 'key policy' : 'secret policy', account: s.account, document: s.resourcePolicy } : null,
      resourceIsKmsKey: isKey,
      organizationPolicies: 'none',
    };
    return { request, documents };
  });

/** Shapes excluded by ACCESS_EXCLUDED_CLASSES. */
function comparable(documents: AccessDocuments): boolean {
  const rp = documents.resourcePolicy;
  if (rp && rp !== 'unreadable' && JSON.stringify(rp.document).includes('"AROA')) return false;
  return true;
}

test(`differential: irsa's access evaluator agrees with @cloud-copilot/iam-simulate (${RUNS} cases)`, () => {
  const stats = { compared: 0, undecided: 0, excluded: 0, allowed: 0, crossAccount: 0, kms: 0 };
  fc.assert(
    fc.property(scenario, ({ request, documents }) => {
      const ours = evaluateAccess(request, documents);
      if (!comparable(documents)) {
        stats.excluded++;
        return true;
      }
      if (ours.verdict === 'cannot-decide') {
        stats.undecided++;
        return true;
      }
      stats.compared++;
      const theirs = oracle(request, documents);
      if (theirs) stats.allowed++;
      if (request.role.account !== request.resource.account) stats.crossAccount++;
      if (documents.resourceIsKmsKey) stats.kms++;
      if (ours.allowed !== theirs) {
        throw new Error(
          `irsa says ${ours.verdict}, the oracle says ${theirs ? 'allow' : 'deny'}\nrequest: ${JSON.stringify(request)}\ndocuments: ${JSON.stringify(documents)}\nreasons:\n  ${ours.reasons.join('\n  ')}`,
        );
      }
      // A deny always names what refuses; an allow names the statements that carry it.
      if (ours.verdict === 'deny') assert.ok(ours.refusedBy, 'a deny names the refusing document');
      else assert.ok(ours.allowedBy.length > 0, 'an allow names its statements');
      return true;
    }),
    { numRuns: RUNS, verbose: 0 },
  );
  if (process.env.IRSA_DIFF_STATS) console.log(stats);
  assert.ok(stats.compared >= MIN_COMPARED, `compared ${stats.compared} of ${RUNS}, want ${MIN_COMPARED}`);
  assert.ok(stats.allowed >= stats.compared * 0.05, `allowed ${stats.allowed} of ${stats.compared}`);
  assert.ok(stats.crossAccount >= stats.compared * 0.3 && stats.kms >= stats.compared * 0.3, JSON.stringify(stats));
  assert.ok(stats.undecided > 0);
});
