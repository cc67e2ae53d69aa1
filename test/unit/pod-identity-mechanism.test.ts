// The pod-identity mechanism (core/mechanisms/pod-identity.ts) through the real planner
// (planBindings): from nothing, a role trusting pods.eks for this cluster and ServiceAccount, the
// association, the ServiceAccount without a role-arn annotation, the agent add-on; applied state
// re-planned is all no-ops. Blockers where Pod Identity cannot work.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBindings } from '../../src/core/binding.ts';
import type { PodIdentityObserved } from '../../src/core/mechanisms/pod-identity.ts';
import { hasChanges } from '../../src/core/plan.ts';
import { readPodIdentityStatement } from '../../src/core/pods-eks-trust.ts';
import type { PodIdentityAssociationValue } from '../../src/core/resources/pod-identity-association.ts';
import type { RoleValue, ServiceAccountValue } from '../../src/core/resources/types.ts';
import { ACCOUNT, context, request, role } from './fixtures/binding.ts';

const CLUSTER_ARN = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const pi = (overrides: Partial<Parameters<typeof request>[0]> = {}) =>
  request({ mechanism: 'pod-identity', podIdentity: { targetRoleArn: null, disableSessionTags: false, policy: null, installAgent: true }, ...overrides });
const reads = (overrides: Partial<PodIdentityObserved> = {}): PodIdentityObserved => ({
  clusterArn: CLUSTER_ARN, associations: new Map(), agent: { cluster: 'prod', name: 'eks-pod-identity-agent', status: 'ACTIVE', version: 'v1' }, unavailable: [], ...overrides,
});
const seen = (over: { roles?: Map<string, ReturnType<typeof role> | null>; sa?: ServiceAccountValue | null; podIdentity?: PodIdentityObserved } = {}) => ({
  context: context({ providerChange: null, podIdentityClusterArn: CLUSTER_ARN }),
  roles: over.roles ?? new Map(),
  namespaces: new Map([['payments', true]]),
  serviceAccounts: new Map(over.sa ? [['payments/api', { namespace: 'payments', name: 'api', annotations: over.sa.annotations, labels: over.sa.labels }]] : []),
  workloads: new Map(),
  clusterRoles: [],
  podIdentity: over.podIdentity ?? reads(),
});

test('pod-identity from nothing: pods.eks trust for this cluster and ServiceAccount, association, ServiceAccount without role-arn; re-plan after apply is empty', () => {
  const first = planBindings([pi()], seen(), { mode: 'ensure', prune: false });
  assert.deepEqual(first.plan.blockers, []);
  const roleChange = first.plan.changes.find((c) => c.kind === 'iam-role')!;
  assert.equal(roleChange.action, 'create');
  const trust = (roleChange.after as RoleValue).trustPolicy;
  assert.deepEqual(trust.Statement.map((s) => readPodIdentityStatement(s)), [{ clusterArn: CLUSTER_ARN, account: ACCOUNT, namespace: 'payments', serviceAccounts: ['api'] }]);
  assert.ok(!JSON.stringify(trust).includes('oidc-provider'), 'no web-identity statement');
  const association = first.plan.changes.find((c) => c.kind === 'pod-identity-association')!;
  assert.equal(association.action, 'create');
  assert.equal((association.after as PodIdentityAssociationValue).roleArn, roleChange.id);
  assert.ok(association.dependsOn.includes(`iam-role:${roleChange.id}`));
  const sa = first.plan.changes.find((c) => c.kind === 'service-account')!;
  assert.deepEqual((sa.after as ServiceAccountValue).annotations, {});

  // What apply leaves behind, read again: every change a no-op.
  const after = roleChange.after as RoleValue;
  const appliedRole = role({ ...after, arn: roleChange.id, subjects: [], attachedPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] });
  const assoc = association.after as PodIdentityAssociationValue;
  const again = planBindings([pi()], seen({
    roles: new Map([[after.name, appliedRole]]),
    sa: sa.after as ServiceAccountValue,
    podIdentity: reads({ associations: new Map([['payments/api', { ...assoc, associationId: 'a-0123456789abcdefg', associationArn: 'arn', externalId: null, ownerArn: null }]]) }),
  }), { mode: 'ensure', prune: false });
  assert.deepEqual(again.plan.blockers, []);
  assert.equal(hasChanges(again.plan), false, JSON.stringify(again.plan.changes.filter((c) => c.action !== 'no-op')));
});

test('pod-identity blockers: agent missing (CreateAddon planned), Fargate namespace, no reads at all', () => {
  const noAgent = planBindings([pi({ podIdentity: { targetRoleArn: null, disableSessionTags: false, policy: null, installAgent: false } })], seen({ podIdentity: reads({ agent: null }) }), { mode: 'ensure', prune: false });
  assert.deepEqual(noAgent.plan.blockers.map((b) => b.code), ['pod-identity-agent-missing']);
  assert.equal(noAgent.plan.changes.find((c) => c.kind === 'eks-addon')?.action, 'create');
  const fargate = planBindings([pi()], seen({ podIdentity: reads({ unavailable: [{ resource: 'fargate-profile:prod/batch', reason: 'Fargate profile batch selects namespace payments' }] }) }), { mode: 'ensure', prune: false });
  assert.match(fargate.plan.blockers[0]!.message, /Fargate profile batch/);
  assert.match(fargate.plan.blockers[0]!.fix, /IRSA/);
  const unread = planBindings([pi()], { ...seen(), podIdentity: undefined }, { mode: 'ensure', prune: false });
  assert.equal(unread.plan.blockers[0]?.code, 'pod-identity-unavailable');
});
