// irsa doctor: given everything read about one ServiceAccount's IRSA chain, decide each check the
// way STS and the pod identity webhook will. Pure: the command reads, this decides, the renderer
// prints. Checks are ordered along the chain (issuer → provider → SA → role → trust → pods → STS),
// and a check whose input an earlier failure removed is skipped rather than failed twice.

import { oidcProviderArn, parseArn, parseRoleArn } from './arn.ts';
import { UserError } from './errors.ts';
import { admissionVerdicts, runningPodsCheck, type DryRunInput } from './admission.ts';
import type { DoctorCheck, MutatingWebhookState, Read } from './model/doctor.ts';
import { isOwnedByIrsa } from './ownership.ts';
import { AUDIENCE_ANNOTATION, ROLE_ARN_ANNOTATION } from './resources/service-account.ts';
import type { OidcProviderState, PodState, RoleState, ServiceAccountState } from './state.ts';
import {
  DEFAULT_AUDIENCE,
  evaluateTrustPolicy,
  serviceAccountSubject,
  WEB_IDENTITY_ACTION,
  type PolicyDocument,
  type TokenClaims,
} from './trust-policy.ts';

export type { CheckStatus, DoctorCheck, MutatingWebhookState, Read } from './model/doctor.ts';

export interface DoctorInput {
  namespace: string;
  name: string;
  issuerUrl: string;
  /** The arguments that name the cluster in a fix, e.g. "--cluster prod --region eu-west-1". */
  targetArgs: string;
  /** The account of the IAM credentials: where the provider and the role must be. */
  account: string;
  partition: string;
  provider: OidcProviderState | null;
  /** URLs of the account's other OIDC providers (read when the expected one is missing). */
  otherProviderUrls: string[];
  /** Thumbprints of the issuer's current certificate chain. */
  currentThumbprints: Read<string[]>;
  serviceAccount: ServiceAccountState | null;
  /** The annotated role; null when it does not exist; undefined when it was not looked up. */
  role: RoleState | null | undefined;
  /** Claims of a token minted with the TokenRequest API; undefined when none was requested. */
  token: Read<TokenClaims> | undefined;
  webhooks: Read<MutatingWebhookState[]>;
  /** Labels of the namespace (the webhooks' namespaceSelector). */
  namespaceLabels: Read<Record<string, string>>;
  /** The server-side dry-run pod creates (one per distinct workload template, or a minimal pod); undefined when not attempted. */
  dryRun: DryRunInput[] | undefined;
  /** Pods that use the ServiceAccount. */
  pods: Read<PodState[]>;
  /** Variables each workload's pod template sets itself, by "Kind/name" then container. */
  templateEnv: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<string>>>;
  /** Secret name → data key names in the namespace; null when Secrets cannot be listed. */
  secretKeys: ReadonlyMap<string, string[]> | null;
  /** ConfigMap name → data key names in the namespace; null when ConfigMaps cannot be listed (absent: not read). */
  configMapKeys?: ReadonlyMap<string, string[]> | null;
  /** --assume: the assumed identity's ARN; undefined when --assume was not given. */
  assume: Read<string> | { skipped: string } | undefined;
}

export const hostPathOf = (issuerUrl: string): string => issuerUrl.replace(/^https:\/\//, '').replace(/\/$/, '');

/** The role annotation parsed, or why it cannot be used. */
export function annotatedRole(sa: ServiceAccountState | null): { arn: string; name: string; account: string } | { problem: string } | null {
  const arn = sa?.annotations[ROLE_ARN_ANNOTATION];
  if (!arn) return null;
  try {
    const parsed = parseRoleArn(arn, ROLE_ARN_ANNOTATION);
    return { arn, name: parsed.name, account: parsed.account };
  } catch (error) {
    if (error instanceof UserError) return { problem: error.message };
    throw error;
  }
}

/**
 * The audience the webhook gives the pod's token: the annotation's value, even empty (then the
 * token carries the apiserver's default audience — its --api-audiences, usually its issuer), else
 * sts.amazonaws.com. Mint doctor's token with the same (empty: no audiences).
 */
export const audienceOf = (sa: ServiceAccountState | null): string => sa?.annotations[AUDIENCE_ANNOTATION] ?? DEFAULT_AUDIENCE;

/**
 * Wildcards under StringEquals (or StringNotEquals): IAM compares them literally, so
 * `system:serviceaccount:ns:*` matches only a ServiceAccount named "*". A common surprise.
 */
export function literalWildcards(document: PolicyDocument): string[] {
  const found: string[] = [];
  (document.Statement ?? []).forEach((statement, index) => {
    for (const [operator, entries] of Object.entries(statement.Condition ?? {})) {
      if (!/(^|:)String(Not)?Equals(IgnoreCase)?(IfExists)?$/.test(operator)) continue;
      for (const [key, value] of Object.entries(entries)) {
        for (const item of Array.isArray(value) ? value : [value]) {
          if (/[*?]/.test(item)) found.push(`statement ${index + 1}: ${operator} ${key} = ${item}`);
        }
      }
    }
  });
  return found;
}

const list = (values: string[], none = 'none'): string => (values.length > 0 ? values.join(', ') : none);

export function diagnose(input: DoctorInput): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const add = (check: DoctorCheck) => checks.push(check);
  const skip = (step: number, id: string, title: string, why: string) =>
    add({ step, id, title, status: 'skip', observed: why, expected: '', fix: null });
  const { namespace, name, targetArgs, account } = input;
  const sa = `${namespace}/${name}`;
  const subject = serviceAccountSubject(namespace, name);
  const hostPath = hostPathOf(input.issuerUrl);
  const expectedProviderArn = oidcProviderArn(input.partition, account, hostPath);
  const annotatedAudience = audienceOf(input.serviceAccount);
  // An empty annotation: the token's audience is the apiserver's default, known from the minted token only.
  const minted = input.token && 'value' in input.token ? input.token.value : null;
  const audience = annotatedAudience !== '' ? annotatedAudience : minted?.aud[0] ?? '';
  // A non-default audience goes into every printed create-sa-role: without it the trust policy
  // would be written for sts.amazonaws.com and the fix would never converge.
  const audienceArg = audience === DEFAULT_AUDIENCE || audience === '' ? '' : ` --audience ${audience}`;
  const createSaRole = (extra = '') => `irsa create-sa-role ${targetArgs} -n ${namespace} --name ${name}${extra}${audienceArg} --approve`;

  // 1. Issuer → IAM OIDC provider for exactly that URL, audience as client ID, thumbprints.
  const provider = input.provider;
  if (provider) {
    add({ step: 1, id: 'oidc-provider', title: "IAM OIDC provider for the cluster's issuer", status: 'pass', observed: provider.arn, expected: expectedProviderArn, fix: null });
  } else {
    const similar = input.otherProviderUrls.filter((url) => url.split('/')[0] === hostPath.split('/')[0] || url.includes(hostPath) || hostPath.includes(url));
    add({
      step: 1,
      id: 'oidc-provider',
      title: "IAM OIDC provider for the cluster's issuer",
      status: 'fail',
      observed:
        `no IAM OIDC provider for ${input.issuerUrl} in account ${account}` +
        (similar.length > 0 ? `; similar providers: ${similar.join(', ')}` : input.otherProviderUrls.length > 0 ? `; the account has providers for ${input.otherProviderUrls.join(', ')}` : ''),
      expected: expectedProviderArn,
      fix: `irsa associate-oidc ${targetArgs} --approve`,
    });
  }
  if (!provider) {
    skip(1, 'oidc-audience', 'Provider lists the token audience as a client ID', 'the provider does not exist');
  } else if (audience === '') {
    add({
      step: 1,
      id: 'oidc-audience',
      title: 'Provider lists the token audience as a client ID',
      status: 'warn',
      observed: `client IDs: ${list(provider.clientIds)}; the ServiceAccount's ${AUDIENCE_ANNOTATION} annotation is empty, so pods get a token for the apiserver's default audience, which irsa could not learn (no token could be minted)`,
      expected: "the apiserver's default audience among the client IDs",
      fix: null,
    });
  } else if (provider.clientIds.includes(audience)) {
    add({ step: 1, id: 'oidc-audience', title: 'Provider lists the token audience as a client ID', status: 'pass', observed: `client IDs: ${list(provider.clientIds)}`, expected: audience, fix: null });
  } else {
    add({
      step: 1,
      id: 'oidc-audience',
      title: 'Provider lists the token audience as a client ID',
      status: 'fail',
      observed: `client IDs: ${list(provider.clientIds)}`,
      expected: `${audience} among the client IDs${audience === DEFAULT_AUDIENCE ? '' : annotatedAudience === '' ? ` (the apiserver's default audience: the ${AUDIENCE_ANNOTATION} annotation is empty)` : ` (from the ${AUDIENCE_ANNOTATION} annotation)`}`,
      // associate-oidc adds sts.amazonaws.com; another audience comes with the binding that uses it.
      fix: audience === DEFAULT_AUDIENCE
        ? `irsa associate-oidc ${targetArgs} --approve`
        : createSaRole(roleArnArg(input)),
    });
  }
  if (!provider) {
    skip(1, 'oidc-thumbprints', "Provider thumbprints match the issuer's certificate chain", 'the provider does not exist');
  } else if ('error' in input.currentThumbprints) {
    add({
      step: 1,
      id: 'oidc-thumbprints',
      title: "Provider thumbprints match the issuer's certificate chain",
      status: 'warn',
      observed: `stored: ${list(provider.thumbprints)}; the issuer's chain could not be read: ${input.currentThumbprints.error}`,
      expected: "a thumbprint of the issuer's top intermediate CA",
      fix: null,
    });
  } else {
    const current = input.currentThumbprints.value;
    const matches = provider.thumbprints.length === 0 || provider.thumbprints.some((t) => current.includes(t.toLowerCase()));
    add({
      step: 1,
      id: 'oidc-thumbprints',
      title: "Provider thumbprints match the issuer's certificate chain",
      // A warning only: IAM validates with its own trusted CAs first and falls back to thumbprints.
      status: matches ? 'pass' : 'warn',
      observed: provider.thumbprints.length === 0 ? 'none stored (IAM validates the issuer with its trusted root CAs)' : `stored: ${list(provider.thumbprints)}`,
      expected: `current chain: ${list(current)}`,
      fix: matches ? null : `irsa associate-oidc ${targetArgs} --approve`,
    });
  }

  // 2. The ServiceAccount and its role annotation.
  const role = annotatedRole(input.serviceAccount);
  if (input.serviceAccount) {
    add({ step: 2, id: 'service-account', title: 'ServiceAccount exists', status: 'pass', observed: sa, expected: sa, fix: null });
  } else {
    add({ step: 2, id: 'service-account', title: 'ServiceAccount exists', status: 'fail', observed: `${sa} does not exist`, expected: sa, fix: createSaRole() });
  }
  const annotationTitle = `ServiceAccount carries ${ROLE_ARN_ANNOTATION}`;
  const usableRole = role && 'arn' in role && role.account === account ? role : null;
  if (!input.serviceAccount) {
    skip(2, 'role-annotation', annotationTitle, 'the ServiceAccount does not exist');
  } else if (!role) {
    add({
      step: 2,
      id: 'role-annotation',
      title: annotationTitle,
      status: 'fail',
      observed: `${sa} has no ${ROLE_ARN_ANNOTATION} annotation (its pods fall back to the node's role)`,
      expected: `${ROLE_ARN_ANNOTATION}: arn:${input.partition}:iam::${account}:role/<name>`,
      fix: createSaRole(),
    });
  } else if ('problem' in role) {
    add({ step: 2, id: 'role-annotation', title: annotationTitle, status: 'fail', observed: role.problem, expected: `arn:${input.partition}:iam::${account}:role/<name>`, fix: createSaRole(' --override-existing-serviceaccounts') });
  } else if (role.account !== account) {
    add({
      step: 2,
      id: 'role-annotation',
      title: annotationTitle,
      status: 'fail',
      observed: `${role.arn} is in account ${role.account}`,
      expected: `a role in account ${account} (the account of the IAM credentials, where the cluster's OIDC provider is checked)`,
      fix: `run irsa doctor with --profile for account ${role.account} if the role belongs there (its account needs its own OIDC provider), or bind a role in ${account}: ${createSaRole(' --override-existing-serviceaccounts')}`,
    });
  } else {
    add({ step: 2, id: 'role-annotation', title: annotationTitle, status: 'pass', observed: role.arn, expected: `a role in account ${account}`, fix: null });
  }

  // 3. The role exists and its trust policy admits this ServiceAccount's token.
  const roleState = usableRole ? input.role : undefined;
  if (!usableRole) {
    skip(3, 'role', 'IAM role exists', 'no usable role ARN on the ServiceAccount');
  } else if (!roleState) {
    add({
      step: 3,
      id: 'role',
      title: 'IAM role exists',
      status: 'fail',
      observed: `${usableRole.name} does not exist in account ${account} (iam:GetRole)`,
      expected: usableRole.arn,
      fix: createSaRole(` --role-name ${usableRole.name}`),
    });
  } else {
    add({ step: 3, id: 'role', title: 'IAM role exists', status: 'pass', observed: roleState.arn, expected: usableRole.arn, fix: null });
  }
  const noRole = usableRole ? 'the role does not exist' : 'no usable role ARN on the ServiceAccount';
  if (!roleState || !usableRole) {
    skip(3, 'trust-policy', "Trust policy admits the ServiceAccount's token", noRole);
  } else {
    add(trustCheck(input, roleState, { subject, audience, hostPath, createSaRole, roleArn: usableRole.arn }));
  }

  // 4. Permissions.
  if (!roleState) {
    skip(4, 'permissions', 'Role has a permission policy', noRole);
  } else {
    const inline = Object.keys(roleState.inlinePolicies);
    const count = roleState.attachedPolicyArns.length + inline.length;
    const boundary = `; permissions boundary: ${roleState.permissionsBoundary ?? 'none'}`;
    add({
      step: 4,
      id: 'permissions',
      title: 'Role has a permission policy',
      status: count > 0 ? 'pass' : 'fail',
      observed: `managed: ${list(roleState.attachedPolicyArns)}; inline: ${list(inline)}${boundary}`,
      expected: 'at least one managed or inline policy',
      fix: count > 0 ? null : isOwnedByIrsa(roleState.tags)
        ? createSaRole(` --role-name ${roleState.name} --attach-policy-arn <policy-arn>`)
        : `aws iam attach-role-policy --role-name ${roleState.name} --policy-arn <policy-arn>`,
    });
  }

  // 5. What admission does to a new pod (server-side dry run), then the pods already running.
  const admission = input.serviceAccount && usableRole
    ? admissionVerdicts({
        namespace, serviceAccount: input.serviceAccount, roleArn: usableRole.arn, webhooks: input.webhooks,
        namespaceLabels: input.namespaceLabels, dryRun: undefined, secretKeys: input.secretKeys, configMapKeys: input.configMapKeys ?? null,
      }, input.dryRun)
    : null;
  if (admission) add(admission.check);
  else skip(5, 'admission', 'New pods of the ServiceAccount get the IRSA environment (server-side dry run)', input.serviceAccount ? 'no usable role ARN on the ServiceAccount' : 'the ServiceAccount does not exist');
  if (input.serviceAccount) {
    add(runningPodsCheck({
      namespace, serviceAccount: input.serviceAccount, roleArn: usableRole?.arn ?? null, pods: input.pods,
      templateEnv: input.templateEnv, secretKeys: input.secretKeys, configMapKeys: input.configMapKeys ?? null, newPodsOk: admission?.newPodsOk ?? false,
    }));
  } else {
    skip(5, 'pod-environment', 'Running pods: which credentials each container uses', 'the ServiceAccount does not exist');
  }

  // 6. The definitive test: STS itself.
  const assumeTitle = `${WEB_IDENTITY_ACTION} with a minted token`;
  if (input.assume === undefined) {
    skip(6, 'assume', assumeTitle, 'not run: add --assume to call STS');
  } else if ('skipped' in input.assume) {
    skip(6, 'assume', assumeTitle, input.assume.skipped);
  } else if ('error' in input.assume) {
    add({ step: 6, id: 'assume', title: assumeTitle, status: 'fail', observed: input.assume.error, expected: `credentials for ${usableRole?.arn ?? 'the role'}`, fix: 'fix the failed checks above; STS gives no more detail than this' });
  } else {
    add({ step: 6, id: 'assume', title: assumeTitle, status: 'pass', observed: `caller identity ${input.assume.value}`, expected: `an assumed-role session of ${usableRole?.name ?? 'the role'}`, fix: null });
  }
  return checks;
}

function roleArnArg(input: DoctorInput): string {
  const role = annotatedRole(input.serviceAccount);
  return role && 'arn' in role ? ` --attach-role-arn ${role.arn}` : '';
}

/**
 * The one place doctor asks the trust evaluator (core/trust-policy.ts). Its outcome is allow, deny,
 * or undecided (a condition irsa does not evaluate the way STS will): undecided is never ✓ or ✗.
 */
function judgeTrust(document: PolicyDocument, providerArn: string, claims: TokenClaims): { outcome: 'allow' | 'deny' | 'undecided'; reasons: string[]; matchedStatement: number | null } {
  const evaluation = evaluateTrustPolicy(document, providerArn, claims);
  if (evaluation.verdict === 'cannot-decide') return { outcome: 'undecided', reasons: evaluation.undecided, matchedStatement: null };
  return { outcome: evaluation.verdict === 'allow' ? 'allow' : 'deny', reasons: evaluation.reasons, matchedStatement: evaluation.matchedStatement };
}

function trustCheck(
  input: DoctorInput,
  role: RoleState,
  context: { subject: string; audience: string; hostPath: string; createSaRole: (extra?: string) => string; roleArn: string },
): DoctorCheck {
  const base = { step: 3, id: 'trust-policy', title: "Trust policy admits the ServiceAccount's token" };
  // Without a real token (SA missing, TokenRequest forbidden) evaluate the claims it would carry.
  const minted = input.token && 'value' in input.token ? input.token.value : null;
  const claims: TokenClaims = minted ?? { iss: input.issuerUrl, sub: context.subject, aud: context.audience === '' ? [] : [context.audience] };
  const note = minted
    ? ''
    : ` (no token could be minted${input.token && 'error' in input.token ? `: ${input.token.error}` : ''}; evaluated the claims it would carry)`;
  // STS finds the provider by the token's iss, in the role's account.
  const providerArn = oidcProviderArn(parseArn(role.arn)?.partition ?? input.partition, input.account, hostPathOf(claims.iss));
  const evaluation = judgeTrust(role.trustPolicy, providerArn, claims);
  const wildcards = literalWildcards(role.trustPolicy);
  const wildcardNote = wildcards.length > 0 ? `; a wildcard under StringEquals is compared literally and never matches a pattern (${wildcards.join('; ')}): use StringLike` : '';
  const tokenText = `token iss ${claims.iss}, sub ${claims.sub}, aud ${list(claims.aud)}`;
  const issuerNote = claims.iss.replace(/\/$/, '') !== input.issuerUrl ? `; the token's issuer is not the cluster's issuer ${input.issuerUrl}` : '';
  const expected =
    `a statement with Principal.Federated ${providerArn}, Action ${WEB_IDENTITY_ACTION}, ` +
    `StringEquals ${context.hostPath}:sub = ${context.subject} and ${context.hostPath}:aud = ${context.audience}`;
  if (evaluation.outcome === 'undecided') {
    // Neither ✓ nor ✗: irsa cannot evaluate some condition the way STS will.
    return { ...base, status: 'warn', observed: `irsa cannot decide whether STS admits this token: ${evaluation.reasons.join('; ')}: ${tokenText}${note}${wildcardNote}`, expected, fix: null };
  }
  if (evaluation.outcome === 'allow') {
    return {
      ...base,
      status: wildcards.length > 0 || !minted ? 'warn' : 'pass',
      observed: `${evaluation.reasons[evaluation.matchedStatement!] ?? 'allowed'}: ${tokenText}${note}${wildcardNote}`,
      expected,
      fix: null,
    };
  }
  return {
    ...base,
    status: 'fail',
    observed: `${evaluation.reasons.join('; ') || 'the trust policy has no statements'}${issuerNote}${note}${wildcardNote}`,
    expected,
    // --attach-role-arn adds this ServiceAccount to any role's trust policy, irsa-made or not.
    fix: context.createSaRole(` --attach-role-arn ${context.roleArn}`),
  };
}

export const doctorExitCode = (checks: DoctorCheck[]): number => (checks.some((check) => check.status === 'fail') ? 1 : 0);
