// doctor --can: can the ServiceAccount's role do <action> on <resource>? One check per request,
// from core/access-eval.ts, naming the document (and account) that refuses. For a Secrets Manager
// read it also checks kms:Decrypt on the customer managed key that encrypts the secret, the way
// Secrets Manager asks KMS on the caller's behalf (kms:ViaService = secretsmanager.<region>…,
// encryption context SecretARN). Recognises the recreated-role trap: IAM shows a role principal of
// a resource or key policy as the deleted role's unique id (AROA…), which admits nobody, and irsa's
// own statement for the role still carries the role's Sid. Pure: engine/access-doctor.ts reads.

import { evaluateAccess, statementLabel, type AccessDecision, type AccessDocuments, type KmsGrant, type NamedPolicy, type RequestContext } from './access-eval.ts';
import { arnAccount, irsaSid, uniqueIdPrincipals, viaSecretsManager } from './access-request.ts';
import type { DoctorCheck } from './doctor.ts';
import type { PolicyDocument } from './trust-policy.ts';

/** The step doctor numbers access checks with (after the chain's steps 1–6). */
export const ACCESS_STEP = 7;

export interface RoleForAccess {
  arn: string;
  name: string;
  account: string;
  /** RoleId (AROA…), when read. */
  id?: string;
  /** Inline and managed policies: name → document; a managed policy that could not be read: 'unreadable'. */
  policies: Array<{ name: string; document: unknown | 'unreadable' }>;
  /** The boundary's name and document (null: none; 'unreadable': set but not read). */
  boundary: { name: string; document: unknown | 'unreadable' } | null;
}

/** What was read in the resource's (and key's) account. 'unreachable': no profile for that account. */
export interface ResourceReads {
  action: string;
  arn: string;
  secret?: { kmsKeyId: string | null; policy: PolicyDocument | null } | 'not-found' | 'unreachable';
  key?: { arn: string; manager: 'AWS' | 'CUSTOMER'; policy: PolicyDocument | null; grants: KmsGrant[] | 'unreadable' } | 'not-found' | 'unreachable';
  /** Per account involved: is it in an AWS Organization (SCPs/RCPs irsa cannot read)? */
  organizations: Record<string, 'none' | 'member' | 'unknown'>;
  /** How to give irsa a profile for an account (the flag). */
  profileFix: (account: string) => string;
}

function identityPolicies(role: RoleForAccess): { policies: NamedPolicy[]; unreadable: string[] } {
  const unreadable = role.policies.filter((p) => p.document === 'unreadable').map((p) => p.name);
  const policies = role.policies.filter((p) => p.document !== 'unreadable').map((p) => ({ kind: 'identity' as const, name: p.name, account: role.account, document: p.document }));
  return { policies, unreadable };
}

/** The trap: AROA… principals in a policy that are not the role's current id. */
function staleIds(document: PolicyDocument | null, role: RoleForAccess, what: string): string[] {
  return uniqueIdPrincipals(document)
    .filter((p) => p.id !== role.id)
    .map((p) =>
      p.sid === irsaSid(role.arn)
        ? `${what}: statement ${p.index + 1} (${p.sid}), which irsa wrote for ${role.arn}, now names ${p.id}: the role was deleted and recreated after the policy was written, and a recreated role is a new principal. Run irsa apply again to write the statement for the current role.`
        : `${what}: statement ${p.index + 1}${p.sid ? ` (${p.sid})` : ''} names ${p.id}, the unique id of a deleted principal; if it was written for ${role.name}, the role was recreated since and the statement admits nobody.`,
    );
}

function checkFor(id: string, title: string, decision: AccessDecision, extra: { notes: string[]; fix: string | null; expected: string }): DoctorCheck {
  if (decision.verdict === 'allow') {
    return { id, step: ACCESS_STEP, title, status: 'pass', observed: `allowed by ${decision.allowedBy.map((r) => `${r.document} ${statementLabel(r)} [account ${r.account}]`).join(' and ')}`, expected: extra.expected, fix: null };
  }
  if (decision.verdict === 'cannot-decide') {
    return { id, step: ACCESS_STEP, title, status: 'warn', observed: `irsa cannot decide: ${decision.undecided.join('; ')}`, expected: extra.expected, fix: null, ...(extra.notes.length ? { details: extra.notes } : {}) };
  }
  const refused = decision.refusedBy!;
  const statement = refused.statement ? ` ${statementLabel(refused.statement)}` : '';
  return {
    id,
    step: ACCESS_STEP,
    title,
    status: 'fail',
    observed: `refused by ${refused.document}${statement} [account ${refused.account}]: ${refused.why}`,
    expected: extra.expected,
    fix: extra.fix,
    ...(extra.notes.length ? { details: extra.notes } : {}),
  };
}

/** The checks for one requested access (a Secrets Manager read adds the KMS step). */
export function accessChecks(role: RoleForAccess, reads: ResourceReads): DoctorCheck[] {
  const where = arnAccount(reads.arn);
  const account = where?.account ?? '';
  const id = `access:${reads.action}:${reads.arn}`;
  const title = `${role.name} can ${reads.action} on ${reads.arn}`;
  const { policies, unreadable } = identityPolicies(role);
  const orgs = (accounts: string[]) => (accounts.every((a) => reads.organizations[a] === 'none') ? 'none' : 'unreadable') as AccessDocuments['organizationPolicies'];
  const boundary: NamedPolicy | null = role.boundary && role.boundary.document !== 'unreadable' ? { kind: 'boundary', name: `permissions boundary ${role.boundary.name}`, account: role.account, document: role.boundary.document } : null;
  const fix = 'Add the missing statement (irsa plans all of them: access: [{ resource: <ARN>, level: read }] on the binding, and accounts.<id>.profile for the other accounts), then irsa apply -f irsa.yaml.';
  const context: RequestContext = { values: { 'aws:PrincipalArn': [role.arn], 'aws:PrincipalAccount': [role.account] }, absent: [] };
  const request = { role: { arn: role.arn, account: role.account, ...(role.id ? { id: role.id } : {}) }, action: reads.action, resource: { arn: reads.arn, account }, context };
  const unknownReads = [
    ...unreadable.map((name) => `could not read ${name}`),
    ...(role.boundary?.document === 'unreadable' ? [`could not read the permissions boundary ${role.boundary.name}`] : []),
  ];
  if (reads.secret === 'unreachable') {
    return [{ id, step: ACCESS_STEP, title, status: 'warn', observed: `irsa cannot read account ${account} (the secret's resource policy lives there)`, expected: 'a profile for that account', fix: reads.profileFix(account) }];
  }
  if (reads.secret === 'not-found') {
    return [{ id, step: ACCESS_STEP, title, status: 'fail', observed: `${reads.arn} does not exist in account ${account} (secretsmanager:DescribeSecret)`, expected: 'the secret', fix: 'Check the ARN (region and account are part of it).' }];
  }
  const secretPolicy = reads.secret?.policy ?? null;
  const secretDocuments: AccessDocuments = {
    identityPolicies: policies,
    permissionsBoundary: boundary,
    resourcePolicy: reads.secret ? (secretPolicy ? { kind: 'resource', name: `resource policy of ${reads.arn}`, account, document: secretPolicy } : null) : 'unreadable',
    resourceIsKmsKey: false,
    organizationPolicies: orgs([role.account, account]),
  };
  const secretDecision = evaluateAccess(request, secretDocuments);
  const secretNotes = [...staleIds(secretPolicy, role, `resource policy of ${reads.arn}`), ...unknownReads];
  // Unreadable managed policies could hold a Deny: never a ✓ then.
  const guarded = (decision: AccessDecision): AccessDecision => (unknownReads.length > 0 && decision.verdict === 'allow' ? { ...decision, verdict: 'cannot-decide', allowed: false, undecided: unknownReads } : decision);
  const checks = [checkFor(id, title, guarded(secretDecision), { notes: secretNotes, fix, expected: `an Allow in ${role.name}'s policies and, across accounts, in the secret's resource policy` })];

  if (!reads.action.toLowerCase().startsWith('secretsmanager:getsecretvalue') || !reads.secret) return checks;
  // The key that encrypts the secret: Secrets Manager calls kms:Decrypt for the caller.
  const keyTitle = `${role.name} can kms:Decrypt the secret's key through Secrets Manager`;
  const keyId = `access:kms:Decrypt:${reads.arn}`;
  const key = reads.key;
  if (key === undefined || (key !== 'unreachable' && key !== 'not-found' && key.manager === 'AWS') || reads.secret.kmsKeyId === null) {
    if (role.account !== account) {
      checks.push({ id: keyId, step: ACCESS_STEP, title: keyTitle, status: 'fail', observed: `${reads.arn} is encrypted with the AWS managed key aws/secretsmanager, which cannot be used from account ${role.account}`, expected: 'a customer managed key', fix: 'Re-encrypt the secret with a customer managed key (aws secretsmanager update-secret --kms-key-id <key ARN>), then irsa apply -f.' });
    }
    return checks;
  }
  if (key === 'unreachable') {
    const keyAccount = arnAccount(reads.secret.kmsKeyId)?.account ?? account;
    checks.push({ id: keyId, step: ACCESS_STEP, title: keyTitle, status: 'warn', observed: `irsa cannot read account ${keyAccount} (the key policy of ${reads.secret.kmsKeyId} lives there)`, expected: 'a profile for that account', fix: reads.profileFix(keyAccount) });
    return checks;
  }
  if (key === 'not-found') {
    checks.push({ id: keyId, step: ACCESS_STEP, title: keyTitle, status: 'fail', observed: `the key ${reads.secret.kmsKeyId} that encrypts ${reads.arn} was not found (kms:DescribeKey)`, expected: 'the key', fix: null });
    return checks;
  }
  const keyAccount = arnAccount(key.arn)?.account ?? account;
  const kmsRequest = {
    ...request,
    action: 'kms:Decrypt',
    resource: { arn: key.arn, account: keyAccount },
    context: {
      values: {
        ...context.values,
        'kms:ViaService': [viaSecretsManager(where?.region ?? '')],
        'kms:CallerAccount': [role.account],
        'kms:EncryptionContext:SecretARN': [reads.arn],
      },
      absent: [],
    },
  };
  const keyDecision = evaluateAccess(kmsRequest, {
    identityPolicies: policies,
    permissionsBoundary: boundary,
    resourcePolicy: key.policy ? { kind: 'key-policy', name: `key policy of ${key.arn}`, account: keyAccount, document: key.policy } : null,
    resourceIsKmsKey: true,
    grants: key.grants,
    organizationPolicies: orgs([role.account, keyAccount]),
  });
  checks.push(checkFor(keyId, keyTitle, guarded(keyDecision), {
    notes: [...staleIds(key.policy, role, `key policy of ${key.arn}`), ...unknownReads],
    fix,
    expected: `kms:Decrypt allowed in ${role.name}'s policies (kms:ViaService ${viaSecretsManager(where?.region ?? '')}) and in the key policy (or a grant)`,
  }));
  return checks;
}
