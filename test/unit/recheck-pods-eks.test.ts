// Apply's re-check (core/recheck.ts) of a trust change that adds or removes an EKS Pod Identity
// (pods.eks) statement — irsa migrate's step 1 to Pod Identity and its step 5 back to IRSA — when
// another irsa run changed the role's IRSA subjects between the plan's read and the write (the
// change waited for that run's trust lock). Both changes are subject-level, so the pods.eks subject
// is replayed onto the fresh document, as an IRSA subject is; before, such a change was stale and
// the migration exited 1 (test/integration/migrate-batch.test.ts case 3 met it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recheckRoleUpdate, replayTrustChange } from '../../src/core/recheck.ts';
import { addPodIdentitySubject, podIdentityStatement, removePodIdentitySubject } from '../../src/core/pods-eks-trust.ts';
import { irsaStatement } from '../../src/core/trust-merge.ts';
import type { PolicyDocument, PolicyStatement } from '../../src/core/trust-policy.ts';
import type { RoleValue } from '../../src/core/resources/types.ts';

const CLUSTER = 'arn:aws:eks:us-east-1:111122223333:cluster/one';
const PROVIDER = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ONE';
const HOST = 'oidc.eks.us-east-1.amazonaws.com/id/ONE';
const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: statements });
const irsa = (...names: string[]) => irsaStatement({ providerArn: PROVIDER, issuerHostPath: HOST, operator: 'StringEquals', audience: 'sts.amazonaws.com', subjects: names.map((n) => `system:serviceaccount:shop:${n}`) });
const pods = (...names: string[]) => podIdentityStatement({ clusterArn: CLUSTER, namespace: 'shop', serviceAccounts: names });
const role = (trustPolicy: PolicyDocument): RoleValue => ({ name: 'r3', path: '/', description: '', maxSessionDuration: 3600, permissionsBoundary: null, tags: { 'irsa:managed-by': 'irsa' }, trustPolicy });
const update = (before: PolicyDocument, after: PolicyDocument) => ({ kind: 'iam-role' as const, id: 'r3', action: 'update' as const, dependsOn: [], before: role(before), after: role(after) });
const settings = (trustPolicy: PolicyDocument) => ({ ...role(trustPolicy), arn: 'arn:aws:iam::111122223333:role/r3' });

test('step 1 to Pod Identity (a pods.eks statement added) re-derives onto a trust that gained an IRSA subject meanwhile', () => {
  const before = doc(irsa('svc'));
  const after = addPodIdentitySubject(before, { clusterArn: CLUSTER, namespace: 'shop', serviceAccount: 'svc', sessionTags: true }).document;
  const fresh = doc(irsa('newcomer', 'svc'));
  const verdict = recheckRoleUpdate(update(before, after), settings(fresh));
  assert.equal(verdict.verdict, 'rederived', JSON.stringify(verdict));
  assert.deepEqual(verdict.verdict === 'rederived' && verdict.change.after.trustPolicy, doc(irsa('newcomer', 'svc'), pods('svc')));
});

test('step 1 joins the namespace\'s pods.eks statement the fresh trust has (another ServiceAccount migrated meanwhile)', () => {
  const before = doc(irsa('svc'));
  const after = addPodIdentitySubject(before, { clusterArn: CLUSTER, namespace: 'shop', serviceAccount: 'svc', sessionTags: true }).document;
  assert.deepEqual(replayTrustChange(before, after, doc(irsa('svc'), pods('other'))), doc(irsa('svc'), pods('other', 'svc')));
});

test('step 5 back to IRSA (a pods.eks subject removed) re-derives onto a trust that gained an IRSA subject meanwhile', () => {
  const before = doc(irsa('svc'), pods('svc'));
  const after = removePodIdentitySubject(before, { clusterArn: CLUSTER, namespace: 'shop', serviceAccount: 'svc' }).document;
  const verdict = recheckRoleUpdate(update(before, after), settings(doc(irsa('newcomer', 'svc'), pods('svc'))));
  assert.equal(verdict.verdict, 'rederived', JSON.stringify(verdict));
  assert.deepEqual(verdict.verdict === 'rederived' && verdict.change.after.trustPolicy, doc(irsa('newcomer', 'svc')));
});

test('a cluster-wide pods.eks statement (session tags off) is replayed as a whole', () => {
  const wide = podIdentityStatement({ clusterArn: CLUSTER, namespace: null, serviceAccounts: [] });
  assert.deepEqual(replayTrustChange(doc(irsa('svc')), doc(irsa('svc'), wide), doc(irsa('newcomer', 'svc'))), doc(irsa('newcomer', 'svc'), wide));
  assert.deepEqual(replayTrustChange(doc(irsa('svc'), wide), doc(irsa('svc')), doc(irsa('newcomer', 'svc'), wide)), doc(irsa('newcomer', 'svc')));
});

test('still stale when the change is more than subjects (a statement irsa does not own)', () => {
  const foreign: PolicyStatement = { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' };
  assert.equal(replayTrustChange(doc(irsa('svc')), doc(irsa('svc'), foreign), doc(irsa('newcomer', 'svc'))), null);
  const verdict = recheckRoleUpdate(update(doc(irsa('svc')), doc(irsa('svc'), foreign)), settings(doc(irsa('newcomer', 'svc'))));
  assert.equal(verdict.verdict, 'stale');
});

test('the read-back and the after-apply check see a pods.eks subject another writer dropped (or put back), not only IRSA subjects', async () => {
  const { trustIntentGaps } = await import('../../src/core/recheck.ts');
  const before = doc(irsa('svc'));
  const after = addPodIdentitySubject(before, { clusterArn: CLUSTER, namespace: 'shop', serviceAccount: 'svc', sessionTags: true }).document;
  assert.deepEqual(trustIntentGaps(before, after, after), { missing: [], unexpected: [] });
  // Overwritten by a writer that read the role before this write: the pods.eks subject is gone.
  assert.deepEqual(trustIntentGaps(before, after, doc(irsa('newcomer', 'svc'))), { missing: [`pods.eks shop/svc of ${CLUSTER}`], unexpected: [] });
  // Other subjects of other runs are theirs: not a gap.
  assert.deepEqual(trustIntentGaps(before, after, doc(irsa('newcomer', 'svc'), pods('other', 'svc'))), { missing: [], unexpected: [] });
  // The way back: a removed pods.eks subject that is there again.
  const back = removePodIdentitySubject(doc(irsa('svc'), pods('svc')), { clusterArn: CLUSTER, namespace: 'shop', serviceAccount: 'svc' }).document;
  assert.deepEqual(trustIntentGaps(doc(irsa('svc'), pods('svc')), back, doc(irsa('svc'), pods('svc'))), { missing: [], unexpected: [`pods.eks shop/svc of ${CLUSTER}`] });
});
