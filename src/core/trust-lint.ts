// `irsa audit --iam`: an account-wide lint of IRSA and EKS Pod Identity trust, computed from what was read (roles,
// the account's OIDC providers, which issuers still answer). Pure.
//
// Rules (severity, id): for every Allow statement of a role's trust policy whose Principal names an
// IAM OIDC provider and whose action admits sts:AssumeRoleWithWebIdentity —
//   critical  no-sub-condition      no positive condition on <issuer>:sub: any ServiceAccount of
//                                   that cluster (any token of the issuer) can assume the role
//   critical  sub-policy-variable   a :sub value holding a policy variable (${...}): IAM substitutes
//                                   it from the request, so ${<issuer>:sub} admits every ServiceAccount
//                                   (irsa never reads it as a subject nor edits the statement)
//   critical  sub-spans-namespaces  a :sub pattern (StringLike) such as *, system:serviceaccount:*
//                                   or system:serviceaccount:team-*:x that admits several namespaces
//   broken    literal-wildcard      a * or ? under StringEquals on :sub/:aud: compared literally,
//                                   never matches a ServiceAccount
//   broken    provider-missing      the Federated provider does not exist in the role's account
//   broken    issuer-gone           the provider's issuer no longer answers discovery (cluster gone)
//   warning   no-aud-condition      no condition on <issuer>:aud (any audience is accepted)
//   warning   issuer-mismatch       a condition key of another issuer than the Federated provider:
//                                   absent from the request, so it never matches (or, negated, always)
//   warning   size-near-quota       the trust policy is within 10% of the ACLSizePerRole quota
// and for EKS Pod Identity (issue 22; core/pods-eks-trust.ts):
//   critical  pods-eks-unconditioned an Allow for pods.eks.amazonaws.com (or any service) with
//                                   sts:AssumeRole and no positive condition on aws:SourceArn,
//                                   aws:SourceAccount or the kubernetes-namespace session tag: any
//                                   association in the account that names the role can use it
//                                   (Amazon EKS User Guide, cross-service confused deputy prevention)
//   warning   both-mechanisms       the role trusts an OIDC provider (IRSA) and pods.eks (Pod
//                                   Identity): right during a migration, an unneeded door after it

import { providerHostPath } from './trust-merge.ts';
import { stringLike, WEB_IDENTITY_ACTION } from './trust-eval.ts';
import { policySize, TRUST_POLICY_SIZE_LIMIT, type PolicyStatement } from './trust-policy.ts';
import type { RoleState } from './state.ts';
import { PODS_EKS_SERVICE } from './pods-eks-trust.ts';

export type TrustSeverity = 'critical' | 'broken' | 'warning';
export type TrustRule =
  | 'no-sub-condition'
  | 'sub-policy-variable'
  | 'sub-spans-namespaces'
  | 'literal-wildcard'
  | 'provider-missing'
  | 'issuer-gone'
  | 'no-aud-condition'
  | 'issuer-mismatch'
  | 'size-near-quota'
  | 'pods-eks-unconditioned'
  | 'both-mechanisms';

export const RULE_SEVERITY: Record<TrustRule, TrustSeverity> = {
  'no-sub-condition': 'critical',
  'sub-policy-variable': 'critical',
  'sub-spans-namespaces': 'critical',
  'literal-wildcard': 'broken',
  'provider-missing': 'broken',
  'issuer-gone': 'broken',
  'no-aud-condition': 'warning',
  'issuer-mismatch': 'warning',
  'size-near-quota': 'warning',
  'pods-eks-unconditioned': 'critical',
  'both-mechanisms': 'warning',
};

export interface TrustFinding {
  severity: TrustSeverity;
  rule: TrustRule;
  roleName: string;
  roleArn: string;
  /** 1-based statement number, null for findings about the whole policy. */
  statement: number | null;
  sid?: string;
  message: string;
  /** What to do; an irsa command where one exists. */
  fix: string;
}

export interface TrustLintInput {
  roles: RoleState[];
  /** ARNs of the IAM OIDC providers in the account. */
  providerArns: string[];
  /** Provider ARN → why its issuer did not answer; providers not listed answered (or were not asked). */
  unreachableIssuers: Map<string, string>;
  trustPolicySizeLimit?: number;
}

export interface TrustLintReport {
  rolesScanned: number;
  /** Roles whose trust names an OIDC provider. */
  irsaRoles: number;
  /** Roles with an Allow for pods.eks.amazonaws.com (or any service) admitting sts:AssumeRole. */
  podIdentityRoles: number;
  findings: TrustFinding[];
  counts: Record<TrustSeverity, number>;
}

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const strings = (value: unknown): string[] => asList(value).filter((v): v is string => typeof v === 'string');

const POSITIVE_STRING = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'StringLike']);
const SA_PREFIX = 'system:serviceaccount:';

/** The OIDC provider ARNs a statement's Principal.Federated names. */
function oidcProviders(statement: PolicyStatement): string[] {
  const principal = statement.Principal;
  if (!principal || typeof principal !== 'object') return [];
  return strings((principal as Record<string, unknown>)['Federated']).filter((arn) => providerHostPath(arn) !== null);
}

function admitsWebIdentity(statement: PolicyStatement): boolean {
  const matches = (patterns: unknown) => strings(patterns).some((p) => stringLike(p.toLowerCase(), WEB_IDENTITY_ACTION.toLowerCase()));
  if (statement.Action !== undefined) return matches(statement.Action);
  if (statement.NotAction !== undefined) return !matches(statement.NotAction);
  return false;
}

interface ConditionEntry {
  /** The operator without ForAnyValue:/ForAllValues: and IfExists. */
  base: string;
  raw: string;
  key: string;
  /** Lower-case issuer part and claim of `<issuer>:<claim>`. */
  issuer: string;
  claim: string;
  values: string[];
}

function conditionEntries(statement: PolicyStatement): ConditionEntry[] {
  const entries: ConditionEntry[] = [];
  const condition = statement.Condition;
  if (!condition || typeof condition !== 'object') return entries;
  for (const [raw, block] of Object.entries(condition)) {
    if (!block || typeof block !== 'object') continue;
    const base = raw.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
    for (const [key, value] of Object.entries(block)) {
      const colon = key.lastIndexOf(':');
      entries.push({ base, raw, key, issuer: key.slice(0, Math.max(colon, 0)).toLowerCase(), claim: key.slice(colon + 1).toLowerCase(), values: strings(value) });
    }
  }
  return entries;
}

/** A :sub pattern that admits ServiceAccounts of more than one namespace (or any subject). */
export function spansNamespaces(pattern: string): boolean {
  const wildcard = /[*?]/;
  if (!wildcard.test(pattern)) return false;
  if (!pattern.startsWith(SA_PREFIX)) {
    // A wildcard before the prefix is complete (`*`, `system:*`, `system:serviceaccount*`).
    const firstWildcard = pattern.search(wildcard);
    return SA_PREFIX.startsWith(pattern.slice(0, firstWildcard));
  }
  const rest = pattern.slice(SA_PREFIX.length);
  const colon = rest.indexOf(':');
  // No ':' after the namespace: the wildcard is in the namespace part (`system:serviceaccount:*`).
  if (colon < 0) return true;
  return wildcard.test(rest.slice(0, colon));
}

export function lintTrust(input: TrustLintInput): TrustLintReport {
  const findings: TrustFinding[] = [];
  const limit = input.trustPolicySizeLimit ?? TRUST_POLICY_SIZE_LIMIT;
  const existing = new Set(input.providerArns);
  let irsaRoles = 0;
  let podIdentityRoles = 0;
  for (const role of input.roles) {
    const raw = (role.trustPolicy as { Statement?: unknown } | null)?.Statement;
    const statements = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as PolicyStatement[];
    let names = false;
    const add = (rule: TrustRule, statement: number | null, message: string, fix: string, sid?: string) =>
      findings.push({ severity: RULE_SEVERITY[rule], rule, roleName: role.name, roleArn: role.arn, statement, ...(sid ? { sid } : {}), message, fix });
    statements.forEach((statement, index) => {
      if (!statement || typeof statement !== 'object') return;
      const providers = oidcProviders(statement);
      if (providers.length === 0) return;
      names = true;
      if (statement.Effect !== 'Allow' || !admitsWebIdentity(statement)) return;
      const number = index + 1;
      const sid = typeof statement.Sid === 'string' && statement.Sid ? statement.Sid : undefined;
      const entries = conditionEntries(statement);
      const hostPaths = providers.map((arn) => providerHostPath(arn)!.toLowerCase());

      for (const providerArn of providers) {
        const hostPath = providerHostPath(providerArn)!;
        const own = entries.filter((e) => e.issuer === hostPath.toLowerCase());
        const subs = own.filter((e) => e.claim === 'sub' && POSITIVE_STRING.has(e.base));
        // A positive, non-IfExists condition on a key this request never carries makes the
        // statement unmatchable for this provider: then "no sub" is not what is wrong with it.
        const unmatchable = entries.some((e) => e.issuer.includes('.') && !hostPaths.includes(e.issuer) && POSITIVE_STRING.has(e.base) && !e.raw.endsWith('IfExists') && !e.raw.startsWith('ForAllValues:'));
        if (subs.length === 0 && !unmatchable) {
          add('no-sub-condition', number,
            `trusts ${providerArn} without a condition on ${hostPath}:sub: every ServiceAccount of that cluster (any token of the issuer) can assume it`,
            `add StringEquals ${hostPath}:sub = system:serviceaccount:<namespace>:<name> for each ServiceAccount that needs the role (irsa create-sa-role --attach-role-arn ${role.arn} -n <namespace> --name <name> writes such a statement; then remove this one)`,
            sid);
        }
        for (const entry of subs) {
          const variables = entry.values.filter((value) => value.includes('${'));
          if (variables.length > 0) {
            add('sub-policy-variable', number,
              `${entry.raw} ${entry.key} = ${variables.join(', ')} holds a policy variable: IAM fills it in from the request${variables.some((v) => v.toLowerCase().includes(`\${${hostPath.toLowerCase()}:sub`)) ? ', so it admits every ServiceAccount of that cluster' : ', so which ServiceAccounts it admits depends on the request, not on the policy'}`,
              `list the ServiceAccounts as literal subjects (irsa create-sa-role --attach-role-arn ${role.arn} -n <namespace> --name <name> writes one), then remove this value`,
              sid);
          }
        }
        // An exact :sub in the same statement (AND) already limits what the pattern admits.
        const exact = subs.some((e) => e.base !== 'StringLike' && !e.raw.startsWith('For') && !e.raw.endsWith('IfExists'));
        for (const entry of exact ? [] : subs.filter((e) => e.base === 'StringLike')) {
          const wide = entry.values.filter(spansNamespaces);
          if (wide.length > 0) {
            add('sub-spans-namespaces', number,
              `${entry.raw} ${entry.key} = ${wide.join(', ')} admits ServiceAccounts of several namespaces (any namespace that matches)`,
              `list the ServiceAccounts with StringEquals, or limit the pattern to one namespace (system:serviceaccount:<namespace>:*); irsa create-sa-role --attach-role-arn ${role.arn} -n <namespace> --name <name> adds one exact subject`,
              sid);
          }
        }
        if (!own.some((e) => e.claim === 'aud')) {
          add('no-aud-condition', number,
            `no condition on ${hostPath}:aud: a token of any audience from this issuer is accepted`,
            `add StringEquals ${hostPath}:aud = sts.amazonaws.com (the audience the pod identity webhook requests)`,
            sid);
        }
        if (!existing.has(providerArn)) {
          const sameAccount = providerArn.split(':')[4] === role.arn.split(':')[4];
          add('provider-missing', number,
            sameAccount
              ? `the OIDC provider ${providerArn} does not exist in the account: no token can assume the role this way`
              : `the OIDC provider ${providerArn} is in another account than the role: STS looks the provider up in the role's account`,
            `irsa associate-oidc --issuer-url https://${hostPath} --approve (when the cluster still exists), or remove the statement`,
            sid);
        } else if (input.unreachableIssuers.has(providerArn)) {
          add('issuer-gone', number,
            `the issuer https://${hostPath} no longer answers (${input.unreachableIssuers.get(providerArn)}): its cluster is probably gone`,
            `remove the statement, or the role when nothing else uses it (irsa delete-sa-role removes irsa's own subjects), and delete the provider with aws iam delete-open-id-connect-provider --open-id-connect-provider-arn ${providerArn}`,
            sid);
        }
      }

      for (const entry of entries) {
        if ((entry.claim === 'sub' || entry.claim === 'aud') && entry.base === 'StringEquals' && entry.issuer && hostPaths.includes(entry.issuer)) {
          const literal = entry.values.filter((v) => /[*?]/.test(v));
          if (literal.length > 0) {
            add('literal-wildcard', number,
              `StringEquals ${entry.key} = ${literal.join(', ')}: a wildcard under StringEquals is compared literally and never matches`,
              `use StringLike for patterns (irsa create-sa-role --subject-pattern writes StringLike)`,
              sid);
          }
        }
        if (entry.issuer.includes('.') && !hostPaths.includes(entry.issuer)) {
          add('issuer-mismatch', number,
            `condition key ${entry.key} is for another issuer than the Federated provider${providers.length > 1 ? 's' : ''} (${hostPaths.join(', ')}): the key is absent from these requests, so ${entry.raw} is always ${['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike'].includes(entry.base) || entry.raw.startsWith('ForAllValues:') || entry.raw.endsWith('IfExists') ? 'true' : 'false'}`,
            `use the provider's own issuer in the key (${hostPaths[0]}:${entry.claim}), or the provider of that issuer in Principal.Federated`,
            sid);
        }
      }
    });
    const podsEks = podsEksFindings(statements);
    if (podsEks.trustsPodsEks) podIdentityRoles++;
    for (const finding of podsEks.unconditioned) {
      add('pods-eks-unconditioned', finding.number,
        `trusts ${PODS_EKS_SERVICE} for sts:AssumeRole without a condition on aws:SourceArn, aws:SourceAccount or the kubernetes-namespace session tag: any EKS Pod Identity association in the account that names this role can use it`,
        `condition it on the cluster (ArnEquals aws:SourceArn = arn:aws:eks:<region>:<account>:cluster/<name>, StringEquals aws:SourceAccount) and, with session tags, the ServiceAccount; irsa create-sa-role --mechanism pod-identity --attach-role-arn ${role.arn} -n <namespace> --name <name> writes such a statement (then remove this one)`,
        finding.sid);
    }
    if (names && podsEks.trustsPodsEks) {
      add('both-mechanisms', null,
        `the role is trusted both through an OIDC provider (IRSA) and by ${PODS_EKS_SERVICE} (EKS Pod Identity): expected while a ServiceAccount moves between them, an extra way in once it has`,
        'when every ServiceAccount of the role uses one mechanism, remove the other\'s statements (irsa delete-sa-role --mechanism irsa|pod-identity removes one ServiceAccount\'s)');
    }
    if (!names) continue;
    irsaRoles++;
    const size = policySize(role.trustPolicy);
    if (size >= limit * 0.9) {
      add('size-near-quota', null,
        `the trust policy is ${size} characters, within 10% of the ${limit}-character ACLSizePerRole quota: adding a ServiceAccount may fail`,
        'split the ServiceAccounts over several roles, use one subject pattern per namespace (--subject-pattern system:serviceaccount:<namespace>:*), or raise the quota');
    }
  }
  const order: Record<TrustSeverity, number> = { critical: 0, broken: 1, warning: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity] || a.roleName.localeCompare(b.roleName) || (a.statement ?? 0) - (b.statement ?? 0));
  const counts: Record<TrustSeverity, number> = { critical: 0, broken: 0, warning: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return { rolesScanned: input.roles.length, irsaRoles, podIdentityRoles, findings, counts };
}

const POD_SCOPING_KEYS = ['aws:sourcearn', 'aws:sourceaccount', 'aws:requesttag/kubernetes-namespace'];

/** pods.eks statements of a trust: the Allow ones with no condition scoping them, and whether any Allow trusts pods.eks. */
function podsEksFindings(statements: PolicyStatement[]): { unconditioned: Array<{ number: number; sid?: string }>; trustsPodsEks: boolean } {
  const unconditioned: Array<{ number: number; sid?: string }> = [];
  let trustsPodsEks = false;
  statements.forEach((statement, index) => {
    if (!statement || typeof statement !== 'object' || statement.Effect !== 'Allow') return;
    const principal = statement.Principal;
    const services = principal === '*' ? ['*'] : principal && typeof principal === 'object' ? strings((principal as Record<string, unknown>)['Service']) : [];
    if (!services.some((service) => stringLike(service.toLowerCase(), PODS_EKS_SERVICE))) return;
    const assumes = (patterns: unknown) => strings(patterns).some((p) => stringLike(p.toLowerCase(), 'sts:assumerole'));
    const admits = statement.Action !== undefined ? assumes(statement.Action) : statement.NotAction !== undefined ? !assumes(statement.NotAction) : false;
    if (!admits) return;
    trustsPodsEks = true;
    // Only a positive, unconditional-on-presence condition scopes it (IfExists is true when the key is absent).
    const scoped = conditionEntries(statement).some((e) => POD_SCOPING_KEYS.includes(e.key.toLowerCase()) && ['StringEquals', 'StringLike', 'ArnEquals', 'ArnLike'].includes(e.base) && !e.raw.endsWith('IfExists') && !e.raw.startsWith('ForAllValues:'));
    if (!scoped) unconditioned.push({ number: index + 1, ...(typeof statement.Sid === 'string' && statement.Sid ? { sid: statement.Sid } : {}) });
  });
  return { unconditioned, trustsPodsEks };
}

/** The provider ARNs that some role's trust names and that exist (whose issuers to ask). */
export function referencedProviders(roles: RoleState[], providerArns: string[]): string[] {
  const existing = new Set(providerArns);
  const referenced = new Set<string>();
  for (const role of roles) {
    const raw = (role.trustPolicy as { Statement?: unknown } | null)?.Statement;
    for (const statement of (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) as PolicyStatement[]) {
      if (statement && typeof statement === 'object') for (const arn of oidcProviders(statement)) if (existing.has(arn)) referenced.add(arn);
    }
  }
  return [...referenced].sort();
}
