// delete-sa-role --mechanism pod-identity as a plan (core/mechanisms/pod-identity.ts
// planPodIdentityUnbinding): the association irsa made, the role's pods.eks statement, and — last,
// as the IRSA path does — the ServiceAccount when irsa created it and nothing else binds it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planPodIdentityUnbinding, type PodIdentityUnbindingObserved } from '../../src/core/mechanisms/pod-identity.ts';
import { changeKey } from '../../src/core/plan.ts';
import { podIdentityStatement } from '../../src/core/pods-eks-trust.ts';
import type { PodIdentityAssociationState } from '../../src/core/resources/pod-identity-association.ts';
import { FLAG_TERMS } from '../../src/core/terms.ts';
import { ACCOUNT, role, serviceAccount } from './fixtures/binding.ts';

const CLUSTER_ARN = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const IRSA_LABEL = { 'app.kubernetes.io/managed-by': 'irsa' };
const podRole = (serviceAccounts: string[]) =>
  role({ trustPolicy: { Version: '2012-10-17', Statement: [podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: 'payments', serviceAccounts })] } });
const association = (tags: Record<string, string> = { 'irsa:managed-by': 'irsa' }): PodIdentityAssociationState => ({
  cluster: 'prod', namespace: 'payments', serviceAccount: 'api', associationId: 'a-0123456789abcdefg', associationArn: 'arn', roleArn: podRole(['api']).arn,
  targetRoleArn: null, disableSessionTags: false, policy: null, externalId: null, ownerArn: null, tags,
});
const observed = (over: Partial<PodIdentityUnbindingObserved> = {}): PodIdentityUnbindingObserved => ({
  clusterArn: CLUSTER_ARN, association: association(), role: podRole(['api']), serviceAccount: serviceAccount({}, IRSA_LABEL), users: [], ...over,
});
const unbind = (over: Partial<PodIdentityUnbindingObserved> = {}, force = false) =>
  planPodIdentityUnbinding({ cluster: 'prod', namespace: 'payments', name: 'api', force }, observed(over), FLAG_TERMS);
const actions = (plan: ReturnType<typeof unbind>) => plan.changes.filter((c) => c.action !== 'no-op').map((c) => `${c.action} ${c.kind}`);

test('a ServiceAccount irsa created goes last, after the association and the role', () => {
  const plan = unbind();
  assert.deepEqual(plan.blockers, []);
  assert.deepEqual(actions(plan), ['delete pod-identity-association', 'delete role-policy-attachment', 'delete iam-role', 'delete service-account']);
  const sa = plan.changes.find((c) => c.kind === 'service-account')!;
  const others = plan.changes.filter((c) => c.kind !== 'service-account').map(changeKey);
  assert.deepEqual([...sa.dependsOn].sort(), [...others].sort());
});

test('a shared role keeps its other ServiceAccount; this one\'s ServiceAccount still goes after the trust update', () => {
  const plan = unbind({ role: podRole(['api', 'worker']) });
  assert.deepEqual(actions(plan), ['delete pod-identity-association', 'update iam-role', 'delete service-account']);
  assert.ok(plan.changes.find((c) => c.kind === 'service-account')!.dependsOn.some((key) => key.startsWith('iam-role:')));
});

test('a ServiceAccount irsa did not create is left as it is, IRSA annotations included', () => {
  const plan = unbind({ serviceAccount: serviceAccount({ 'eks.amazonaws.com/audience': 'sts.amazonaws.com' }) });
  assert.deepEqual(actions(plan), ['delete pod-identity-association', 'delete role-policy-attachment', 'delete iam-role']);
  assert.ok(!plan.changes.some((c) => c.kind === 'service-account'));
});

test('a ServiceAccount irsa created stays while something else binds it: its IRSA role-arn, or an association irsa leaves', () => {
  const irsaBound = unbind({ serviceAccount: serviceAccount({ 'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/other` }, IRSA_LABEL) });
  assert.ok(!irsaBound.changes.some((c) => c.kind === 'service-account'));
  assert.ok(irsaBound.notes.some((n) => /kept: it is also bound to .*role\/other by IRSA/.test(n)), irsaBound.notes.join('\n'));

  const foreign = unbind({ association: association({}), role: podRole(['api']) }, true);
  assert.ok(!foreign.changes.some((c) => c.kind === 'service-account' && c.action === 'delete'));
  assert.ok(foreign.notes.some((n) => /kept: the association irsa leaves still binds it/.test(n)), foreign.notes.join('\n'));
});

test('no association left (a re-run after a partial apply): the ServiceAccount irsa created still goes', () => {
  const plan = unbind({ association: null, role: null });
  assert.deepEqual(actions(plan), ['delete service-account']);
});

test('workloads still running as the ServiceAccount: a blocker naming --force; with --force a warning', () => {
  const blocked = unbind({ users: ['Deployment/api'] });
  assert.deepEqual(blocked.blockers.map((b) => [b.code, b.field]), [['service-account-in-use', '--force']]);
  assert.match(blocked.blockers[0]!.message, /Deployment\/api/);
  const forced = unbind({ users: ['Deployment/api'] }, true);
  assert.deepEqual(forced.blockers, []);
  assert.ok(forced.warnings.some((w) => /used by Deployment\/api/.test(w)));
  assert.ok(actions(forced).includes('delete service-account'));
});

test('session tags off: the role\'s cluster-wide statement goes with the last such association of the cluster, and stays while another names the role', async () => {
  const { planPodIdentityTrustRemoval } = await import('../../src/core/pod-identity-migration.ts');
  const wide = podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: null, serviceAccounts: [] });
  const both = role({ trustPolicy: { Version: '2012-10-17', Statement: [wide, podIdentityStatement({ clusterArn: CLUSTER_ARN, namespace: 'payments', serviceAccounts: ['worker'] })] } });
  const tagsOff = { ...association(), roleArn: both.arn, disableSessionTags: true };
  const trustAfter = (plan: ReturnType<typeof unbind>) => (plan.changes.find((c) => c.kind === 'iam-role' && c.action === 'update')?.after as { trustPolicy: { Statement: unknown[] } } | undefined)?.trustPolicy.Statement;
  // delete-sa-role: the last association with tags off takes the cluster-wide statement with it ...
  assert.deepEqual(trustAfter(unbind({ association: tagsOff, role: both, clusterWideStillUsed: false })), [both.trustPolicy.Statement![1]]);
  // ... but another association of the cluster with tags off on this role still needs it: nothing to remove.
  const shared = unbind({ association: tagsOff, role: both, clusterWideStillUsed: true });
  assert.equal(trustAfter(shared), undefined);
  assert.ok(!shared.changes.some((c) => c.kind === 'iam-role' && c.action !== 'no-op'));
  // migrate --to irsa (step 5): the same rule, by role.
  const binding = { namespace: 'payments', name: 'api', serviceAccount: null, role: both };
  const kept = planPodIdentityTrustRemoval(CLUSTER_ARN, [binding]);
  assert.deepEqual(kept.changes, [], 'without the caller saying so, a cluster-wide statement is never removed');
  const removed = planPodIdentityTrustRemoval(CLUSTER_ARN, [binding], new Set([both.arn]));
  assert.deepEqual((removed.changes[0]!.after as { trustPolicy: { Statement: unknown[] } }).trustPolicy.Statement, [both.trustPolicy.Statement![1]]);
});
