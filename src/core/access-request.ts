// Access requests on a binding ("this ServiceAccount reads that secret") and the documents they
// need, each in its own account: the role's identity policy (inline policy `irsa-access`), a
// statement in the secret's resource policy, and — for a secret encrypted with a customer managed
// KMS key — a statement in the key's key policy. Pure: parsing, the statements irsa writes, and the
// merge into policies irsa did not write (their other statements are kept as they are).
//
// Why these documents (IAM User Guide, cross-account policy evaluation; Secrets Manager User Guide,
// "Access AWS Secrets Manager secrets from a different account"): across accounts the caller's
// identity policy AND the secret's resource policy must allow GetSecretValue, and the secret must be
// encrypted with a customer managed key whose key policy admits the caller for kms:Decrypt (the AWS
// managed key aws/secretsmanager cannot be used from another account). Secrets Manager decrypts with
// the encryption context {"SecretARN": <arn>, …} and calls KMS on the caller's behalf, so
// `kms:ViaService = secretsmanager.<region>.amazonaws.com` limits the key to that path:
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html,
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html,
// https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
//
// Decided here:
// - The key side is a key policy statement, not a grant: a key policy statement is a document the
//   plan can show before and after, re-plan can compare, and delete can remove exactly; a grant is
//   created and retired by id, is not shown with the key's policy, and cannot be updated in place.
// - irsa marks the statements it writes with a Sid derived from the role's ARN (`Irsa` + 16 hex),
//   one statement per role and document. A statement with that Sid is irsa's; every other statement
//   is someone else's and is kept byte-for-byte (same JSON, same position). The role's ARN in the Sid
//   survives what the principal does not: after the role is recreated IAM shows the principal as the
//   old role's unique id (AROA…), and irsa still knows the statement was written for that role.
// - The key statement admits only the role, only kms:Decrypt, only through Secrets Manager in the
//   key's region, and only for the requested secrets (kms:EncryptionContext:SecretARN).

import { parseArn } from './arn.ts';
import { UserError } from './errors.ts';
import type { PolicyDocument, PolicyStatement } from './trust-policy.ts';

/** The inline policy on the role that holds irsa's identity statements for access requests. */
export const ACCESS_POLICY_NAME = 'irsa-access';

/** Access levels by service: what each grants. */
export const ACCESS_LEVELS = {
  secretsmanager: { read: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] },
} as const;
export type AccessService = keyof typeof ACCESS_LEVELS;
export type AccessLevel = 'read';

/** One access request as the user gave it. */
export interface ResourceAccess {
  service: AccessService;
  level: AccessLevel;
  /** The resource's ARN (a secret's ARN may omit the random 6-character suffix; the plan resolves it). */
  arn: string;
}

const SECRET_ARN = /^arn:(aws|aws-cn|aws-us-gov):secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):secret:[\w/+=.@-]{1,512}$/;

/** Checks one access request; the message names the field and the fix. */
export function checkAccess(access: { service?: unknown; level?: unknown; arn?: unknown }, field: string): ResourceAccess {
  const service = access.service ?? 'secretsmanager';
  if (service !== 'secretsmanager') {
    throw new UserError(`${field}: service "${String(service)}" is not one irsa plans access for; irsa supports secretsmanager (e.g. secretsmanager:read=arn:aws:secretsmanager:<region>:<account>:secret:<name>).`, field);
  }
  if (access.level !== 'read') {
    throw new UserError(`${field}: access level "${String(access.level)}" is not known; secretsmanager supports read (secretsmanager:GetSecretValue and DescribeSecret).`, field);
  }
  if (typeof access.arn !== 'string' || !SECRET_ARN.test(access.arn)) {
    throw new UserError(`${field}: "${String(access.arn)}" is not a Secrets Manager secret ARN. Expected arn:aws:secretsmanager:<region>:<12-digit account>:secret:<name> (the full ARN with its 6-character suffix, or without it).`, field);
  }
  return { service, level: 'read', arn: access.arn };
}

/** `--access secretsmanager:read=<arn>` (the service prefix may be left out: `read=<arn>`). */
export function parseAccessFlag(text: string, flag = '--access'): ResourceAccess {
  const match = /^(?:([a-z]+):)?([a-z]+)=(.+)$/.exec(text);
  if (!match) {
    throw new UserError(`${flag}: "${text}" is not <service>:<level>=<ARN>; e.g. ${flag} secretsmanager:read=arn:aws:secretsmanager:eu-west-1:222222222222:secret:db-password.`, flag);
  }
  return checkAccess({ service: match[1] ?? 'secretsmanager', level: match[2], arn: match[3] }, flag);
}

/** `--account-profile <account>=<profile>`: the AWS profile irsa uses for another account's documents. */
export function parseAccountProfile(text: string, flag = '--account-profile'): [string, string] {
  const match = /^(\d{12})=(\S+)$/.exec(text);
  if (!match) throw new UserError(`${flag}: "${text}" is not <12-digit account>=<profile>; e.g. ${flag} 222222222222=data-account.`, flag);
  return [match[1]!, match[2]!];
}

/** The account and region of a secret or key ARN. */
export function arnAccount(arn: string): { account: string; region: string; partition: string } | null {
  const parsed = parseArn(arn);
  return parsed ? { account: parsed.account, region: parsed.region, partition: parsed.partition } : null;
}

/** A secret's access as read: its full ARN and the key that encrypts it. */
export interface ResolvedSecretAccess {
  /** Full ARN (with suffix) as DescribeSecret returns it. */
  secretArn: string;
  account: string;
  region: string;
  actions: string[];
  /** The customer managed key that encrypts it; null: the AWS managed key aws/secretsmanager. */
  key: { arn: string; account: string } | null;
}

// ------------------------------------------------------------ the statements irsa writes

/** FNV-1a, 64 bits as two 32-bit halves: a stable, short id from a role ARN (not a secret). */
function hash16(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** The Sid of irsa's statement for a role, in any resource or key policy. */
export const irsaSid = (roleArn: string): string => `Irsa${hash16(roleArn)}`;

const oneOrMany = (values: string[]): string | string[] => {
  const sorted = [...new Set(values)].sort();
  return sorted.length === 1 ? sorted[0]! : sorted;
};

export const viaSecretsManager = (region: string): string => `secretsmanager.${region}.amazonaws.com`;

/**
 * The role's identity policy for its access requests: the secrets' actions on exactly those
 * secrets; kms:Decrypt on exactly their customer managed keys, only through Secrets Manager in the
 * key's region. Null when there is nothing to grant.
 */
export function accessIdentityPolicy(accesses: ResolvedSecretAccess[]): PolicyDocument | null {
  if (accesses.length === 0) return null;
  const statements: PolicyStatement[] = [];
  const byActions = new Map<string, string[]>();
  for (const a of accesses) byActions.set(a.actions.join(','), [...(byActions.get(a.actions.join(',')) ?? []), a.secretArn]);
  let n = 0;
  for (const [actions, arns] of [...byActions].sort(([a], [b]) => a.localeCompare(b))) {
    statements.push({ Sid: `IrsaSecrets${n++ || ''}`, Effect: 'Allow', Action: oneOrMany(actions.split(',')), Resource: oneOrMany(arns) });
  }
  const keysByRegion = new Map<string, string[]>();
  for (const a of accesses) if (a.key) keysByRegion.set(a.region, [...(keysByRegion.get(a.region) ?? []), a.key.arn]);
  for (const [region, keys] of [...keysByRegion].sort(([a], [b]) => a.localeCompare(b))) {
    statements.push({
      Sid: `IrsaDecryptVia${region.replace(/[^a-z0-9]/gi, '')}`,
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: oneOrMany(keys),
      Condition: { StringEquals: { 'kms:ViaService': viaSecretsManager(region) } },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** The statement in a secret's resource policy that admits the role. */
export function secretPolicyStatement(roleArn: string, secretArn: string, actions: string[]): PolicyStatement {
  return { Sid: irsaSid(roleArn), Effect: 'Allow', Principal: { AWS: roleArn }, Action: oneOrMany(actions), Resource: secretArn };
}

/** The statement in a key policy that admits the role for these secrets (Resource "*" is the key itself). */
export function keyPolicyStatement(roleArn: string, region: string, secretArns: string[]): PolicyStatement {
  return {
    Sid: irsaSid(roleArn),
    Effect: 'Allow',
    Principal: { AWS: roleArn },
    Action: 'kms:Decrypt',
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': viaSecretsManager(region), 'kms:EncryptionContext:SecretARN': oneOrMany(secretArns) } },
  };
}

/** What the accesses of an identity policy irsa wrote name: secrets and keys (to remove their statements later). */
export function accessesInIdentityPolicy(document: unknown): { secrets: string[]; keys: string[] } {
  const statements = ((document as { Statement?: unknown } | null)?.Statement ?? []) as unknown[];
  const secrets: string[] = [];
  const keys: string[] = [];
  for (const s of Array.isArray(statements) ? statements : [statements]) {
    const statement = s as { Sid?: unknown; Resource?: unknown } | null;
    if (typeof statement?.Sid !== 'string') continue;
    const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).filter((r): r is string => typeof r === 'string');
    if (statement.Sid.startsWith('IrsaSecrets')) secrets.push(...resources);
    else if (statement.Sid.startsWith('IrsaDecryptVia')) keys.push(...resources);
  }
  return { secrets: [...new Set(secrets)].sort(), keys: [...new Set(keys)].sort() };
}

// ------------------------------------------------------------ merging into someone else's policy

/** Parses a policy as the service returned it; null for none. Throws on text that is not a policy. */
export function parsePolicyText(text: string | null): PolicyDocument | null {
  if (text === null || text.trim() === '') return null;
  const parsed = JSON.parse(text) as PolicyDocument;
  if (!parsed || typeof parsed !== 'object') throw new Error('the policy is not a JSON object');
  return parsed;
}

const statementList = (document: PolicyDocument | null): PolicyStatement[] => {
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  return raw === undefined ? [] : Array.isArray(raw) ? (raw as PolicyStatement[]) : [raw as PolicyStatement];
};

/** The statement irsa wrote for `sid`, if the document holds one. */
export function irsaStatementOf(document: PolicyDocument | null, sid: string): PolicyStatement | null {
  return statementList(document).find((s) => s.Sid === sid) ?? null;
}

/**
 * The document with irsa's statement for `sid` set to `statement` (or removed, for null). Every
 * other statement stays the same object in the same position; the document's other fields (Id,
 * Version) are kept. Removing the last statement of a document gives null.
 */
export function withIrsaStatement(document: PolicyDocument | null, sid: string, statement: PolicyStatement | null): PolicyDocument | null {
  const current = statementList(document);
  const index = current.findIndex((s) => s.Sid === sid);
  let next: PolicyStatement[];
  if (statement === null) next = current.filter((_, i) => i !== index);
  else if (index >= 0) next = current.map((s, i) => (i === index ? statement : s));
  else next = [...current, statement];
  if (next.length === 0) return null;
  return { ...(document ?? { Version: '2012-10-17' }), Statement: next } as PolicyDocument;
}

/** Same policy (key order of irsa's own statements aside)? Compared as JSON of the parsed documents. */
export function samePolicyDocument(a: PolicyDocument | null, b: PolicyDocument | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Principals of a policy given as unique ids (AROA…): IAM shows a deleted role that way. */
export function uniqueIdPrincipals(document: PolicyDocument | null): Array<{ index: number; sid?: string; id: string }> {
  const found: Array<{ index: number; sid?: string; id: string }> = [];
  statementList(document).forEach((s, index) => {
    const principal = (s as { Principal?: unknown }).Principal;
    const aws = principal && typeof principal === 'object' ? (principal as { AWS?: unknown }).AWS : undefined;
    for (const value of Array.isArray(aws) ? aws : [aws]) {
      if (typeof value === 'string' && /^AROA[A-Z0-9]{8,}$/.test(value)) found.push({ index, ...(s.Sid ? { sid: s.Sid } : {}), id: value });
    }
  });
  return found;
}
