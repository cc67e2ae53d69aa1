// The pods.eks trust builder, reader and merge (src/core/pods-eks-trust.ts): shapes irsa owns,
// shapes it must keep as written, and the cross-account target role's trust.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addPodIdentitySubject,
  addTargetTrust,
  buildPodIdentityStatements,
  isUnconditionedPodsEksStatement,
  podIdentityStatement,
  readPodIdentityStatement,
  readTargetRoleStatement,
  removePodIdentitySubject,
  removeTargetTrust,
  replacePodIdentitySubjects,
  targetRoleStatement,
} from '../../src/core/pods-eks-trust.ts';
import type { PolicyDocument, PolicyStatement } from '../../src/core/trust-policy.ts';

const C1 = 'arn:aws:eks:us-east-1:111122223333:cluster/one';
const C2 = 'arn:aws:eks:eu-west-1:111122223333:cluster/two';
const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });

test('the statement irsa writes: pods.eks, AssumeRole + TagSession, source account and cluster, namespace and ServiceAccount tags', () => {
  assert.deepEqual(podIdentityStatement({ clusterArn: C1, namespace: 'payments', serviceAccounts: ['api'] }), {
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: {
        'aws:SourceAccount': '111122223333',
        'aws:RequestTag/kubernetes-namespace': 'payments',
        'aws:RequestTag/kubernetes-service-account': 'api',
      },
      ArnEquals: { 'aws:SourceArn': C1 },
    },
  });
});

test('one statement per (cluster, namespace): namespaces and ServiceAccounts are never crossed', () => {
  const statements = buildPodIdentityStatements([
    { clusterArn: C1, namespace: 'a', serviceAccount: 'x', sessionTags: true },
    { clusterArn: C1, namespace: 'b', serviceAccount: 'y', sessionTags: true },
    { clusterArn: C1, namespace: 'a', serviceAccount: 'z', sessionTags: true },
    { clusterArn: C2, namespace: 'a', serviceAccount: 'x', sessionTags: false },
  ]);
  // Sorted by cluster ARN, then namespace: re-runs diff clean.
  assert.deepEqual(statements.map((s) => readPodIdentityStatement(s)), [
    { clusterArn: C2, account: '111122223333', namespace: null, serviceAccounts: [] },
    { clusterArn: C1, account: '111122223333', namespace: 'a', serviceAccounts: ['x', 'z'] },
    { clusterArn: C1, account: '111122223333', namespace: 'b', serviceAccounts: ['y'] },
  ]);
});

test('the reader accepts only irsa\'s exact shape', () => {
  const base = podIdentityStatement({ clusterArn: C1, namespace: 'a', serviceAccounts: ['x'] });
  assert.ok(readPodIdentityStatement(base));
  assert.ok(readPodIdentityStatement({ Sid: 'Mine', ...base }));
  const variants: PolicyStatement[] = [
    { ...base, Effect: 'Deny' },
    { ...base, Action: 'sts:AssumeRole' },
    { ...base, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] },
    { ...base, Principal: { Service: ['pods.eks.amazonaws.com', 'ec2.amazonaws.com'] } },
    { ...base, Condition: { ...base.Condition, StringLike: { 'aws:RequestTag/kubernetes-pod-name': 'p*' } } },
    { ...base, Condition: { StringEquals: { ...base.Condition!['StringEquals'], 'aws:SourceAccount': '999999999999' }, ArnEquals: base.Condition!['ArnEquals']! } },
    { ...base, Condition: { StringEquals: { ...base.Condition!['StringEquals'] }, ArnLike: { 'aws:SourceArn': C1 } } },
    { ...base, Condition: { StringEquals: { 'aws:SourceAccount': '111122223333', 'aws:RequestTag/kubernetes-namespace': 'a' }, ArnEquals: base.Condition!['ArnEquals']! } },
    { ...base, Condition: { StringEquals: { ...base.Condition!['StringEquals'] }, ArnEquals: { 'aws:SourceArn': [C1, C2] } } },
    { ...base, NotResource: '*' },
  ];
  for (const variant of variants) assert.equal(readPodIdentityStatement(variant), null, JSON.stringify(variant));
});

test('add: into the statement of the same cluster and namespace; a re-add changes nothing; foreign statements stay byte-for-byte', () => {
  const foreign: PolicyStatement = { Sid: 'Legacy', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] };
  const start = doc(foreign, podIdentityStatement({ clusterArn: C1, namespace: 'a', serviceAccounts: ['x'] }));
  const added = addPodIdentitySubject(start, { clusterArn: C1, namespace: 'a', serviceAccount: 'y', sessionTags: true });
  assert.equal(added.changed, true);
  assert.deepEqual(readPodIdentityStatement(added.document.Statement[1]!)?.serviceAccounts, ['x', 'y']);
  assert.equal(JSON.stringify(added.document.Statement[0]), JSON.stringify(foreign));
  assert.match(added.notes.join('\n'), /statement 1 \(Legacy\) also trusts pods\.eks\.amazonaws\.com/);
  const again = addPodIdentitySubject(added.document, { clusterArn: C1, namespace: 'a', serviceAccount: 'y', sessionTags: true });
  assert.equal(again.changed, false);
  assert.equal(again.document, added.document);
  const other = addPodIdentitySubject(added.document, { clusterArn: C2, namespace: 'a', serviceAccount: 'y', sessionTags: true });
  assert.equal(other.document.Statement.length, 3);
});

test('session tags off: the cluster-wide statement; removing a ServiceAccount leaves it unless the caller says it is the last', () => {
  const added = addPodIdentitySubject(null, { clusterArn: C1, namespace: 'a', serviceAccount: 'x', sessionTags: false });
  assert.deepEqual(readPodIdentityStatement(added.document.Statement[0]!), { clusterArn: C1, account: '111122223333', namespace: null, serviceAccounts: [] });
  assert.equal(removePodIdentitySubject(added.document, { clusterArn: C1, namespace: 'a', serviceAccount: 'x' }).changed, false);
  const removed = removePodIdentitySubject(added.document, { clusterArn: C1, namespace: 'a', serviceAccount: 'x', clusterWide: true });
  assert.deepEqual(removed.document.Statement, []);
});

test('remove: only that ServiceAccount of that cluster and namespace; an emptied statement goes; add+remove restores the document', () => {
  const start = doc(
    { Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::111122223333:oidc-provider/o/id/1' }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'o/id/1:sub': 'system:serviceaccount:a:x', 'o/id/1:aud': 'sts.amazonaws.com' } } },
    podIdentityStatement({ clusterArn: C2, namespace: 'a', serviceAccounts: ['x'] }),
  );
  const added = addPodIdentitySubject(start, { clusterArn: C1, namespace: 'a', serviceAccount: 'x', sessionTags: true });
  const removed = removePodIdentitySubject(added.document, { clusterArn: C1, namespace: 'a', serviceAccount: 'x' });
  assert.equal(JSON.stringify(removed.document), JSON.stringify(start));
  const twice = removePodIdentitySubject(removed.document, { clusterArn: C1, namespace: 'a', serviceAccount: 'x' });
  assert.equal(twice.changed, false);
});

test('replace (irsa.yaml): managed clusters hold exactly the subjects; other statements keep their places', () => {
  const foreign: PolicyStatement = { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'sts:AssumeRole' };
  const start = doc(podIdentityStatement({ clusterArn: C1, namespace: 'a', serviceAccounts: ['x', 'old'] }), foreign, podIdentityStatement({ clusterArn: C2, namespace: 'a', serviceAccounts: ['x'] }));
  const replaced = replacePodIdentitySubjects(start, [C1], [{ clusterArn: C1, namespace: 'a', serviceAccount: 'x', sessionTags: true }]);
  assert.equal(replaced.changed, true);
  assert.deepEqual(replaced.document.Statement.map((s) => readPodIdentityStatement(s)?.serviceAccounts ?? 'foreign'), [['x'], 'foreign', ['x']]);
  const again = replacePodIdentitySubjects(replaced.document, [C1], [{ clusterArn: C1, namespace: 'a', serviceAccount: 'x', sessionTags: true }]);
  assert.equal(again.changed, false);
});

test('lint helper: an unconditioned pods.eks trust is flagged, a conditioned one is not', () => {
  assert.equal(isUnconditionedPodsEksStatement({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }), true);
  assert.equal(isUnconditionedPodsEksStatement({ Effect: 'Allow', Principal: '*', Action: 'sts:*' }), true);
  assert.equal(isUnconditionedPodsEksStatement(podIdentityStatement({ clusterArn: C1, namespace: null, serviceAccounts: [] })), false);
  assert.equal(isUnconditionedPodsEksStatement({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }), false);
});

test('target role trust: the source account root narrowed to the association role; the external id when EKS issued one', () => {
  const source = 'arn:aws:iam::111122223333:role/app';
  assert.deepEqual(targetRoleStatement({ sourceRoleArn: source, externalId: null }), {
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::111122223333:root' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: { ArnEquals: { 'aws:PrincipalARN': source } },
  });
  const foreign: PolicyStatement = { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' };
  const first = addTargetTrust(doc(foreign), { sourceRoleArn: source, externalId: null });
  assert.equal(first.document.Statement.length, 2);
  assert.equal(addTargetTrust(first.document, { sourceRoleArn: source, externalId: null }).changed, false);
  const pinned = addTargetTrust(first.document, { sourceRoleArn: source, externalId: 'e-1' });
  assert.equal(pinned.changed, true);
  assert.deepEqual(readTargetRoleStatement(pinned.document.Statement[1]!), { sourceRoleArn: source, externalId: 'e-1' });
  const removed = removeTargetTrust(pinned.document, source);
  assert.equal(JSON.stringify(removed.document), JSON.stringify(doc(foreign)));
  // A statement naming the role principal directly is not irsa's shape: kept.
  assert.equal(readTargetRoleStatement({ Effect: 'Allow', Principal: { AWS: source }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { ArnEquals: { 'aws:PrincipalARN': source } } }), null);
});
