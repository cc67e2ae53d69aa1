import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintTrust, referencedProviders, spansNamespaces, type TrustRule } from '../../src/core/trust-lint.ts';
import { renderTrustLintText } from '../../src/ui/trust-lint.ts';
import { buildTrustPolicy, type PolicyStatement } from '../../src/core/trust-policy.ts';
import { ACCOUNT, ISSUER, PROVIDER, role } from './fixtures/binding.ts';

const stmt = (condition?: PolicyStatement['Condition'], extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Allow',
  Principal: { Federated: PROVIDER },
  Action: 'sts:AssumeRoleWithWebIdentity',
  ...(condition ? { Condition: condition } : {}),
  ...extra,
});
const withTrust = (name: string, ...statements: PolicyStatement[]) =>
  role({ name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, tags: {}, trustPolicy: { Version: '2012-10-17', Statement: statements } });
const aud = { [`${ISSUER}:aud`]: 'sts.amazonaws.com' };
const rules = (statements: PolicyStatement[], extra: { providerArns?: string[]; unreachable?: Map<string, string> } = {}): TrustRule[] =>
  lintTrust({ roles: [withTrust('r', ...statements)], providerArns: extra.providerArns ?? [PROVIDER], unreachableIssuers: extra.unreachable ?? new Map() }).findings.map((f) => f.rule);

test('an irsa-made role (exact subjects, one-namespace pattern) has no findings', () => {
  const trust = buildTrustPolicy([{ providerArn: PROVIDER, issuerHostPath: ISSUER, audience: 'sts.amazonaws.com', subjects: ['system:serviceaccount:a:b', 'system:serviceaccount:c:d'], subjectPatterns: ['system:serviceaccount:ns:*'] }]);
  const report = lintTrust({ roles: [role({ trustPolicy: trust })], providerArns: [PROVIDER], unreachableIssuers: new Map() });
  assert.deepEqual(report.findings, []);
  assert.equal(report.irsaRoles, 1);
});

test('critical: no :sub condition; a pattern spanning namespaces', () => {
  assert.deepEqual(rules([stmt({ StringEquals: aud })]), ['no-sub-condition']);
  assert.deepEqual(rules([stmt()]), ['no-sub-condition', 'no-aud-condition']);
  for (const pattern of ['*', 'system:serviceaccount:*', 'system:*', 'system:serviceaccount:team-*:app', 'system:serviceaccount:prod?:x']) {
    assert.deepEqual(rules([stmt({ StringEquals: aud, StringLike: { [`${ISSUER}:sub`]: pattern } })]), ['sub-spans-namespaces'], pattern);
  }
  assert.equal(spansNamespaces('system:serviceaccount:prod:*'), false);
  // ANDed with an exact subject, a wide pattern admits nothing more than that subject.
  assert.deepEqual(rules([stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:team-a:x' }, StringLike: { [`${ISSUER}:sub`]: 'system:serviceaccount:team-*:*' } })]), []);
  assert.equal(spansNamespaces('system:serviceaccount:prod:api-?'), false);
  // A negated :sub condition alone still admits (almost) everything.
  assert.deepEqual(rules([stmt({ StringEquals: aud, StringNotEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:a:b' } })]), ['no-sub-condition']);
});

test('broken: literal wildcard under StringEquals; provider missing; issuer gone', () => {
  assert.deepEqual(rules([stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:prod:*' } })]), ['literal-wildcard']);
  assert.deepEqual(rules([stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:a:b' } })], { providerArns: [] }), ['provider-missing']);
  const gone = lintTrust({ roles: [withTrust('r', stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:a:b' } }))], providerArns: [PROVIDER], unreachableIssuers: new Map([[PROVIDER, 'ENOTFOUND']]) });
  assert.deepEqual(gone.findings.map((f) => [f.severity, f.rule]), [['broken', 'issuer-gone']]);
  assert.match(gone.findings[0]!.message, /ENOTFOUND/);
});

test('warning: no :aud condition; a key of another issuer; size within 10% of the quota', () => {
  assert.deepEqual(rules([stmt({ StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:a:b' } })]), ['no-aud-condition']);
  assert.deepEqual(rules([stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:a:b', 'other.example.com/id/X:sub': 'system:serviceaccount:a:b' } })]), ['issuer-mismatch']);
  const many = Array.from({ length: 40 }, (_, i) => `system:serviceaccount:namespace-${i}:service-${i}`);
  const big = lintTrust({ roles: [withTrust('big', stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: many } }))], providerArns: [PROVIDER], unreachableIssuers: new Map() });
  assert.deepEqual(big.findings.map((f) => f.rule), ['size-near-quota']);
});

test('statements that cannot admit a web-identity token are not linted; roles without an OIDC provider are skipped', () => {
  assert.deepEqual(rules([stmt(undefined, { Effect: 'Deny' })]), []);
  assert.deepEqual(rules([stmt(undefined, { Action: 'sts:AssumeRole' })]), []);
  const service = withTrust('svc', { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' });
  const report = lintTrust({ roles: [service], providerArns: [], unreachableIssuers: new Map() });
  assert.deepEqual(report, { rolesScanned: 1, irsaRoles: 0, podIdentityRoles: 0, findings: [], counts: { critical: 0, broken: 0, warning: 0 } });
});

test('findings are ordered critical, broken, warning and rendered with role, statement and fix', () => {
  const report = lintTrust({
    roles: [withTrust('b-warn', stmt({ StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:a:b' } })), withTrust('a-crit', stmt({ StringEquals: aud }, { Sid: 'Open' }))],
    providerArns: [PROVIDER],
    unreachableIssuers: new Map(),
  });
  assert.deepEqual(report.findings.map((f) => `${f.severity} ${f.roleName}`), ['critical a-crit', 'warning b-warn']);
  assert.deepEqual(report.counts, { critical: 1, broken: 0, warning: 1 });
  const text = renderTrustLintText(report);
  assert.match(text, /CRITICAL no-sub-condition: role a-crit statement 1 \(Open\)/);
  assert.match(text, /fix: add StringEquals .*irsa create-sa-role --attach-role-arn/);
  assert.match(text, /1 critical, 0 broken, 1 warning\./);
  assert.deepEqual(referencedProviders(report.findings.length ? [withTrust('x', stmt())] : [], [PROVIDER, 'arn:aws:iam::1:oidc-provider/x']), [PROVIDER]);
});

test('critical: a :sub value holding a policy variable (IAM fills it in from the request)', () => {
  const findings = lintTrust({ roles: [withTrust('r', stmt({ StringEquals: aud, StringLike: { [`${ISSUER}:sub`]: `\${${ISSUER}:sub}` } }))], providerArns: [PROVIDER], unreachableIssuers: new Map() }).findings;
  assert.deepEqual(findings.map((f) => f.rule), ['sub-policy-variable']);
  assert.match(findings[0]!.message, /admits every ServiceAccount of that cluster/);
  assert.deepEqual(rules([stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:${aws:username}:x' } })]), ['sub-policy-variable']);
  assert.deepEqual(rules([stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:a:x' } })]), []);
});

test('the header counts the roles read and those trusting each mechanism (a role trusted both ways counts in both)', () => {
  const podsEks = (Condition?: PolicyStatement['Condition']): PolicyStatement => ({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'], ...(Condition ? { Condition } : {}) });
  const scoped = podsEks({ StringEquals: { 'aws:SourceAccount': ACCOUNT } });
  const exact = stmt({ StringEquals: { ...aud, [`${ISSUER}:sub`]: 'system:serviceaccount:a:b' } });
  const report = lintTrust({
    roles: [
      withTrust('irsa', exact),
      withTrust('pod-identity', scoped),
      withTrust('both', exact, scoped),
      withTrust('ec2', { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }),
      withTrust('denied', { ...podsEks(), Effect: 'Deny' }),
    ],
    providerArns: [PROVIDER],
    unreachableIssuers: new Map(),
  });
  assert.deepEqual([report.rolesScanned, report.irsaRoles, report.podIdentityRoles], [5, 2, 2]);
  const header = renderTrustLintText(report).split('\n')[0];
  assert.equal(header, 'Trust lint: 5 roles read, 2 trust an OIDC provider (IRSA), 2 trust pods.eks.amazonaws.com (EKS Pod Identity).');
});
