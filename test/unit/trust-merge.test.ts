import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSubject, irsaStatement, namedServiceAccounts, readIrsaStatement, removeSubject, replaceSubjects, stillAdmitted, type SubjectRef } from '../../src/core/trust-merge.ts';
import { planUnbinding, pruneSubjects } from '../../src/core/binding.ts';
import { buildTrustPolicy } from '../../src/core/trust-policy.ts';
import { canonicalPolicy, type PolicyDocument, type PolicyStatement } from '../../src/core/trust-policy.ts';
import { planRoleUnbinding } from '../../src/core/resources/iam-role.ts';
import type { RoleValue } from '../../src/core/resources/types.ts';
import { ACCOUNT, context, ISSUER, observed, planOne, PROVIDER, request, role } from './fixtures/binding.ts';

const sub = (ns: string, name: string) => `system:serviceaccount:${ns}:${name}`;
const ref = (subject: string, overrides: Partial<SubjectRef> = {}): SubjectRef => ({
  providerArn: PROVIDER,
  issuerHostPath: ISSUER,
  subject,
  audience: 'sts.amazonaws.com',
  operator: 'StringEquals',
  ...overrides,
});

// The acceptance role: a third condition key, and StringEquals AND StringLike on :sub in one statement.
const vpcStatement: PolicyStatement = {
  Effect: 'Allow',
  Principal: { Federated: PROVIDER },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: sub('prod', 'app'), 'aws:SourceVpc': 'vpc-0good' } },
};
const andStatement: PolicyStatement = {
  Sid: 'TeamA',
  Effect: 'Allow',
  Principal: { Federated: PROVIDER },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringEquals: { [`${ISSUER}:sub`]: sub('team-a', 'x') }, StringLike: { [`${ISSUER}:sub`]: 'system:serviceaccount:team-*:*' } },
};
const handMade = (): PolicyDocument => ({ Version: '2012-10-17', Statement: [structuredClone(vpcStatement), structuredClone(andStatement)] });

test('statements irsa does not fully understand are not irsa-shaped', () => {
  assert.equal(readIrsaStatement(vpcStatement), null);
  assert.equal(readIrsaStatement(andStatement), null);
  const noAud = { ...structuredClone(vpcStatement), Condition: { StringEquals: { [`${ISSUER}:sub`]: sub('a', 'b') } } };
  assert.equal(readIrsaStatement(noAud), null, 'no aud condition: admits any audience');
  const audPattern = { ...structuredClone(vpcStatement), Condition: { StringEquals: { [`${ISSUER}:sub`]: sub('a', 'b') }, StringLike: { [`${ISSUER}:aud`]: 'sts.*' } } };
  assert.equal(readIrsaStatement(audPattern), null, 'aud under StringLike');
  const otherIssuer = { ...structuredClone(vpcStatement), Condition: { StringEquals: { 'other.example/id/1:sub': sub('a', 'b'), [`${ISSUER}:aud`]: 'sts.amazonaws.com' } } };
  assert.equal(readIrsaStatement(otherIssuer), null, 'key of another issuer');
  assert.equal(readIrsaStatement({ ...role().trustPolicy.Statement[0]!, NotAction: 'x' } as PolicyStatement), null);
  assert.deepEqual(readIrsaStatement(role().trustPolicy.Statement[0]!), {
    providerArn: PROVIDER, issuerHostPath: ISSUER, operator: 'StringEquals', subjects: [sub('payments', 'api')], audience: 'sts.amazonaws.com',
  });
});

test('adding to a hand-made role: both statements stay byte-for-byte, the subject gets its own statement', () => {
  const before = handMade();
  const merged = addSubject(before, ref(sub('prod', 'worker')));
  assert.equal(merged.changed, true);
  assert.deepEqual(merged.document.Statement.slice(0, 2), [vpcStatement, andStatement]);
  assert.equal(merged.document.Statement.length, 3);
  assert.deepEqual(readIrsaStatement(merged.document.Statement[2]!)?.subjects, [sub('prod', 'worker')]);
  assert.deepEqual(merged.statements.map((s) => s.owner), ['kept', 'kept', 'irsa']);
  assert.deepEqual(before, handMade(), 'the input is not mutated');
  // ...and removing it again restores the original document exactly.
  const removed = removeSubject(merged.document, { subject: sub('prod', 'worker'), providerArn: PROVIDER });
  assert.deepEqual(removed.document, handMade());
  assert.equal(removed.remaining, 2);
});

test('adding to an irsa statement of the same provider, operator and audience extends its list; otherwise a new statement', () => {
  const start = role().trustPolicy;
  const same = addSubject(start, ref(sub('payments', 'worker')));
  assert.equal(same.document.Statement.length, 1);
  assert.deepEqual(readIrsaStatement(same.document.Statement[0]!)?.subjects, [sub('payments', 'api'), sub('payments', 'worker')]);
  const again = addSubject(same.document, ref(sub('payments', 'worker')));
  assert.equal(again.changed, false);
  const otherAudience = addSubject(start, ref(sub('payments', 'worker'), { audience: 'custom' }));
  assert.equal(otherAudience.document.Statement.length, 2);
  const pattern = addSubject(start, ref('system:serviceaccount:payments:*', { operator: 'StringLike' }));
  assert.equal(pattern.document.Statement.length, 2);
  assert.equal(readIrsaStatement(pattern.document.Statement[1]!)?.operator, 'StringLike');
});

test('removing touches only irsa statements; a kept statement naming the subject is reported', () => {
  const document: PolicyDocument = { Version: '2012-10-17', Statement: [structuredClone(vpcStatement), ...role({ subjects: [sub('prod', 'app'), sub('prod', 'b')] }).trustPolicy.Statement] };
  const removed = removeSubject(document, { subject: sub('prod', 'app'), providerArn: PROVIDER });
  assert.deepEqual(removed.document.Statement[0], vpcStatement);
  assert.deepEqual(readIrsaStatement(removed.document.Statement[1]!)?.subjects, [sub('prod', 'b')]);
  // The kept statement also requires aws:SourceVpc, which irsa cannot know: it says "may", naming it.
  assert.equal(removed.notes.length, 1);
  assert.match(removed.notes[0]!, /may still admit system:serviceaccount:prod:app: irsa cannot decide \(statement 1: .*aws:SourceVpc/);
  const nothing = removeSubject(handMade(), { subject: sub('prod', 'app') });
  assert.equal(nothing.changed, false);
  assert.deepEqual(nothing.document, handMade());
});

test('a Statement given as one object (not a list) is kept and the new statement is added beside it', () => {
  const document = { Version: '2012-10-17', Statement: structuredClone(vpcStatement) } as unknown as PolicyDocument;
  const merged = addSubject(document, ref(sub('prod', 'worker')));
  assert.deepEqual(merged.document.Statement[0], vpcStatement);
  assert.equal(merged.document.Statement.length, 2);
});

test('exact mode replaces only the managed provider\'s irsa statements, in place', () => {
  const other = 'arn:aws:iam::111122223333:oidc-provider/oidc.example/id/OTHER';
  const document: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [structuredClone(vpcStatement), ...role({ subjects: [sub('a', 'old')] }).trustPolicy.Statement, { ...role().trustPolicy.Statement[0]!, Principal: { Federated: other }, Condition: { StringEquals: { 'oidc.example/id/OTHER:sub': sub('a', 'b'), 'oidc.example/id/OTHER:aud': 'sts.amazonaws.com' } } }],
  };
  const result = replaceSubjects(document, [PROVIDER], [{ providerArn: PROVIDER, issuerHostPath: ISSUER, audience: 'sts.amazonaws.com', subjects: [sub('a', 'new')], subjectPatterns: [] }]);
  assert.deepEqual(result.document.Statement[0], vpcStatement);
  assert.deepEqual(readIrsaStatement(result.document.Statement[1]!)?.subjects, [sub('a', 'new')]);
  assert.equal(readIrsaStatement(result.document.Statement[2]!)?.providerArn, other);
});

test('create-sa-role --attach-role-arn on a hand-made role: plan keeps both statements and says so', () => {
  const handRole = role({ name: 'hand', arn: `arn:aws:iam::${ACCOUNT}:role/hand`, tags: {}, trustPolicy: handMade() });
  const result = planOne(request({ name: 'worker', namespace: 'prod', attachRoleArn: handRole.arn, roleName: 'hand' }), context(), observed({ role: handRole }));
  const change = result.plan.changes.find((c) => c.kind === 'iam-role')!;
  assert.equal(change.action, 'update');
  const after = (change.after as RoleValue).trustPolicy;
  assert.deepEqual(canonicalPolicy(after.Statement.slice(0, 2)), canonicalPolicy([vpcStatement, andStatement]));
  assert.match(change.warnings!.join('\n'), /statements 1, 2 \(TeamA\) kept exactly as written \(irsa edits only its own statements: 3\)/);
  // delete-sa-role of that ServiceAccount restores the original document exactly.
  const unbound = planRoleUnbinding({ ...handRole, trustPolicy: after }, { subjects: [sub('prod', 'worker')], providerArn: PROVIDER }, { force: true });
  assert.deepEqual((unbound.changes[0]!.after as RoleValue).trustPolicy, handMade());
  assert.equal(unbound.deletesRole, false);
});

// ---- unbinding that says what IAM will still admit ----
const irsaFor = (subjects: string[], operator: 'StringEquals' | 'StringLike' = 'StringEquals'): PolicyStatement =>
  irsaStatement({ providerArn: PROVIDER, issuerHostPath: ISSUER, operator, subjects, audience: 'sts.amazonaws.com' });
const policyVariable: PolicyStatement = {
  Sid: 'AnySa',
  Effect: 'Allow',
  Principal: { Federated: PROVIDER },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringLike: { [`${ISSUER}:sub`]: `\${${ISSUER}:sub}` }, StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com' } },
};

test('a :sub holding a policy variable is never read as a literal subject, nor edited', () => {
  // Otherwise irsa-shaped: without the variable rule it would read as the subject "${...:sub}".
  assert.equal(readIrsaStatement(policyVariable), null);
  assert.equal(readIrsaStatement({ ...policyVariable, Condition: { StringEquals: { [`${ISSUER}:sub`]: `system:serviceaccount:\${aws:username}:x`, [`${ISSUER}:aud`]: 'sts.amazonaws.com' } } }), null);
  const document: PolicyDocument = { Version: '2012-10-17', Statement: [structuredClone(policyVariable), irsaFor([sub('prod', 'app')])] };
  const removed = removeSubject(document, { subject: sub('prod', 'app'), providerArn: PROVIDER });
  assert.deepEqual(removed.document.Statement, [policyVariable], 'irsa removed its own statement and kept the variable one as written');
  assert.equal(removed.remaining, 1, 'the role stays: a statement is left');
  assert.match(removed.notes.join('\n'), /may still admit system:serviceaccount:prod:app: irsa cannot decide \(statement 1 \(AnySa\): .*policy variable/);
  // Removing the literal text of the variable changes nothing (it is no subject).
  const literal = removeSubject(document, { subject: `\${${ISSUER}:sub}`, providerArn: PROVIDER });
  assert.equal(literal.changed, false);
  // Exact mode keeps it too, and prune finds nobody in it.
  const exact = replaceSubjects(document, [PROVIDER], []);
  assert.deepEqual(exact.document.Statement, [policyVariable]);
  assert.match(exact.notes.join('\n'), /system:serviceaccount:prod:app/);
  assert.deepEqual(namedServiceAccounts({ Version: '2012-10-17', Statement: [policyVariable] }, PROVIDER), []);
  assert.deepEqual(pruneSubjects([role({ trustPolicy: document })], PROVIDER), ['prod/app']);
});

test('an unbind whose ServiceAccount stays admitted names the statement: pattern, no sub, negation', () => {
  const s = sub('payments', 'api');
  const cases: Array<[string, PolicyStatement, RegExp]> = [
    ['irsa pattern', irsaFor(['system:serviceaccount:payments:*'], 'StringLike'), /statement 1 \(irsa's StringLike system:serviceaccount:payments:\*\) still admits system:serviceaccount:payments:api with audience sts.amazonaws.com/],
    ['no sub condition', { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity' }, /statement 1 \(kept as written\) still admits .* with any audience/],
    ['negation', { Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringNotEquals: { [`${ISSUER}:sub`]: sub('kube-system', 'x') } } }, /statement 1 \(kept as written\) still admits/],
  ];
  for (const [what, kept, expected] of cases) {
    const document: PolicyDocument = { Version: '2012-10-17', Statement: [kept, irsaFor([s, sub('payments', 'b')])] };
    const removed = removeSubject(document, { subject: s, providerArn: PROVIDER });
    assert.equal(removed.changed, true, what);
    assert.match(removed.notes.join('\n'), expected, what);
    assert.ok(stillAdmitted(removed.document, s, PROVIDER), what);
  }
  // Nothing left that admits it: no note.
  const clean = removeSubject({ Version: '2012-10-17', Statement: [irsaFor([s, sub('payments', 'b')])] }, { subject: s, providerArn: PROVIDER });
  assert.deepEqual(clean.notes, []);
});

test('delete-sa-role of a --subject-pattern binding keeps the pattern and says it still admits the ServiceAccount', () => {
  // The pattern may admit other ServiceAccounts too: removing it would unbind them without a word.
  const patterned = role({
    trustPolicy: buildTrustPolicy([{ providerArn: PROVIDER, issuerHostPath: ISSUER, audience: 'sts.amazonaws.com', subjects: [], subjectPatterns: ['system:serviceaccount:payments:*'] }]),
  });
  const plan = planUnbinding(
    { cluster: 'prod', namespace: 'payments', name: 'api', roleName: patterned.name, force: false, roleOnly: true },
    { providerArn: PROVIDER, role: patterned, serviceAccount: null },
  );
  assert.equal(plan.changes.find((c) => c.kind === 'iam-role')?.action, 'no-op');
  assert.ok(!plan.changes.some((c) => c.action === 'delete'), 'the role is not deleted: its pattern still stands');
  assert.match(plan.warnings.join('\n'), /statement 1 \(irsa's StringLike system:serviceaccount:payments:\*\) still admits system:serviceaccount:payments:api/);
});

test('exact mode: a ServiceAccount dropped from the file but admitted by a kept statement is named', () => {
  const kept: PolicyStatement = { Sid: 'Team', Effect: 'Allow', Principal: { Federated: PROVIDER }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringLike: { [`${ISSUER}:sub`]: 'system:serviceaccount:payments:*' } } };
  const document: PolicyDocument = { Version: '2012-10-17', Statement: [kept, irsaFor([sub('payments', 'api'), sub('payments', 'b')])] };
  const result = replaceSubjects(document, [PROVIDER], [{ providerArn: PROVIDER, issuerHostPath: ISSUER, audience: 'sts.amazonaws.com', subjects: [sub('payments', 'b')], subjectPatterns: [] }]);
  assert.equal(result.changed, true);
  assert.equal(result.notes.length, 1);
  assert.match(result.notes[0]!, /statement 1 \(Team\) \(kept as written\) still admits system:serviceaccount:payments:api with any audience/);
});

test('delete-sa-role (IRSA) of a ServiceAccount irsa created that an EKS Pod Identity association still binds (a migration half done): it is kept, only its IRSA annotations go; unknown is kept too', async () => {
  const { serviceAccount } = await import('./fixtures/binding.ts');
  const bound = role({ trustPolicy: buildTrustPolicy([{ providerArn: PROVIDER, issuerHostPath: ISSUER, audience: 'sts.amazonaws.com', subjects: [sub('payments', 'api')], subjectPatterns: [] }]) });
  const sa = serviceAccount({ 'eks.amazonaws.com/role-arn': bound.arn }, { 'app.kubernetes.io/managed-by': 'irsa' });
  const unbind = (association: { roleArn: string } | null | 'unknown') => planUnbinding(
    { cluster: 'prod', namespace: 'payments', name: 'api', roleName: bound.name, force: false, roleOnly: false },
    { providerArn: PROVIDER, role: bound, serviceAccount: sa, association },
  );
  const saChange = (plan: ReturnType<typeof unbind>) => plan.changes.find((c) => c.kind === 'service-account');
  assert.equal(saChange(unbind(null))?.action, 'delete', 'no association: the ServiceAccount irsa created goes, as before');
  const kept = unbind({ roleArn: `arn:aws:iam::${ACCOUNT}:role/pods` });
  assert.equal(saChange(kept)?.action, 'update');
  assert.deepEqual((saChange(kept)?.after as { annotations: Record<string, string> }).annotations, {});
  assert.match(kept.notes.join('\n'), /kept: an EKS Pod Identity association still binds it \(role arn:aws:iam::\d+:role\/pods\)/);
  const unknown = unbind('unknown');
  assert.equal(saChange(unknown)?.action, 'update');
  assert.match(unknown.notes.join('\n'), /could not read whether an EKS Pod Identity association still binds it/);
});
