// The pod-identity-association kind (create / adopt / update / no-op / delete, no stealing, add-on
// owned associations left alone), the agent add-on, and the binding's field validation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  planAssociation,
  planAssociationMove,
  planAssociationRemoval,
  updateArguments,
  type DesiredAssociation,
  type PodIdentityAssociationState,
} from '../../src/core/resources/pod-identity-association.ts';
import { planPodIdentityAgent } from '../../src/core/resources/eks-addon.ts';
import { FLAG_NAMES, SESSION_POLICY_MAX, validatePodIdentityFields, YAML_NAMES } from '../../src/core/pod-identity-input.ts';

const ROLE = 'arn:aws:iam::111122223333:role/app';
const OTHER_ROLE = 'arn:aws:iam::111122223333:role/theirs';
const CLUSTER_ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const desired: DesiredAssociation = { cluster: 'prod', namespace: 'payments', serviceAccount: 'api', roleArn: ROLE, targetRoleArn: null, disableSessionTags: false, policy: null };
const options = { override: false, overrideField: '--override-existing-serviceaccounts', dependsOn: ['iam-role:app'] };
const observed = (over: Partial<PodIdentityAssociationState> = {}): PodIdentityAssociationState => ({
  cluster: 'prod', namespace: 'payments', serviceAccount: 'api', associationId: 'a-0123456789abcdefg', associationArn: 'arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-0123456789abcdefg',
  roleArn: ROLE, targetRoleArn: null, disableSessionTags: false, policy: null, externalId: null, ownerArn: null,
  tags: { 'irsa:managed-by': 'irsa' }, ...over,
});

test('none: create, tagged as irsa\'s; present and equal: no-op (a re-run does not create a second one)', () => {
  const created = planAssociation(desired, null, options);
  assert.equal(created.change?.action, 'create');
  assert.equal(created.change?.id, 'prod/payments/api');
  assert.deepEqual(created.change?.after?.tags, { 'irsa:managed-by': 'irsa', 'irsa:cluster': 'prod', 'irsa:namespace': 'payments', 'irsa:service-account': 'api' });
  assert.deepEqual(created.change?.dependsOn, ['iam-role:app']);
  assert.equal(planAssociation(desired, observed(), options).change?.action, 'no-op');
  // A session policy EKS re-serialised is the same policy.
  const withPolicy = { ...desired, disableSessionTags: true, policy: '{"Version":"2012-10-17","Statement":[]}' };
  assert.equal(planAssociation(withPolicy, observed({ disableSessionTags: true, policy: '{ "Version": "2012-10-17", "Statement": [] }' }), options).change?.action, 'no-op');
});

test('another role on an association irsa did not make: a blocker naming the override; with it, an update', () => {
  const theirs = observed({ roleArn: OTHER_ROLE, tags: {} });
  const blocked = planAssociation(desired, theirs, options);
  assert.equal(blocked.blocker?.code, 'association-bound-elsewhere');
  assert.match(blocked.blocker!.message, /a-0123456789abcdefg.*theirs/);
  assert.equal(blocked.blocker?.field, '--override-existing-serviceaccounts');
  const overridden = planAssociation(desired, theirs, { ...options, override: true });
  assert.equal(overridden.blocker, null);
  assert.equal(overridden.change?.action, 'update');
  assert.match(overridden.notes.join(), /adopting/);
  // irsa's own association is re-pointed without asking.
  assert.equal(planAssociation(desired, observed({ roleArn: OTHER_ROLE }), options).blocker, null);
});

test('same role, other settings, not irsa\'s: adopted (updated, never deleted later)', () => {
  const plan = planAssociation({ ...desired, disableSessionTags: true }, observed({ tags: {} }), options);
  assert.equal(plan.blocker, null);
  assert.equal(plan.change?.action, 'update');
  assert.equal(plan.change?.reason, 'disableSessionTags differs');
  const removal = planAssociationRemoval(observed({ tags: {} }));
  assert.equal(removal.change?.action, 'no-op');
  assert.match(removal.notes.join(), /not made by irsa; left alone/);
});

test('an association an add-on owns is left alone: no change, a blocker; on removal a note', () => {
  const owned = observed({ ownerArn: 'arn:aws:eks:us-east-1:111122223333:addon/prod/aws-ebs-csi-driver/x' });
  const plan = planAssociation(desired, { ...owned, roleArn: OTHER_ROLE }, { ...options, override: true });
  assert.equal(plan.change, null);
  assert.equal(plan.blocker?.code, 'association-owned-by-addon');
  const removal = planAssociationRemoval(owned);
  assert.equal(removal.change, null);
  assert.match(removal.notes.join(), /add-on/);
});

test('delete only what irsa made; a moved binding is delete + create', () => {
  assert.equal(planAssociationRemoval(observed()).change?.action, 'delete');
  assert.equal(planAssociationRemoval(null).change, null);
  const [removal, creation] = planAssociationMove(observed(), { ...desired, namespace: 'billing' }, null, options);
  assert.equal(removal!.change?.action, 'delete');
  assert.equal(creation!.change?.action, 'create');
  assert.equal(creation!.change?.id, 'prod/billing/api');
});

test('an observed association of another ServiceAccount is a caller bug, not a silent update', () => {
  assert.throws(() => planAssociation(desired, observed({ serviceAccount: 'api-v2' }), options), /is for prod\/payments\/api-v2/);
});

test('update arguments: the whole role ARN always; "" only to remove a target role or policy that is there', () => {
  const before = { ...desired, tags: {}, associationId: 'a-1', targetRoleArn: 'arn:aws:iam::444455556666:role/t', policy: '{"Statement":[]}', disableSessionTags: true };
  assert.deepEqual(updateArguments({ before, after: { ...before, targetRoleArn: null, policy: null, disableSessionTags: false } }), { roleArn: ROLE, targetRoleArn: '', policy: '', disableSessionTags: false });
  const plain = { ...desired, tags: {}, associationId: 'a-1' };
  assert.deepEqual(updateArguments({ before: plain, after: { ...plain, roleArn: OTHER_ROLE } }), { roleArn: OTHER_ROLE, disableSessionTags: false });
  assert.throws(() => updateArguments({ before: plain, after: { ...plain, roleArn: '' } }), /empty roleArn/);
});

test('agent add-on: missing is a blocker with the CreateAddon change planned; allowed, no blocker; present, a no-op', () => {
  const missing = planPodIdentityAgent('prod', null, { install: false, installField: '--install-pod-identity-agent' });
  assert.equal(missing.change.action, 'create');
  assert.equal(missing.blocker?.code, 'pod-identity-agent-missing');
  assert.match(missing.blocker!.fix, /--install-pod-identity-agent/);
  assert.equal(planPodIdentityAgent('prod', null, { install: true, installField: '--install-pod-identity-agent' }).blocker, null);
  const present = planPodIdentityAgent('prod', { cluster: 'prod', name: 'eks-pod-identity-agent', status: 'ACTIVE', version: 'v1' }, { install: false, installField: 'x' });
  assert.equal(present.change.action, 'no-op');
  assert.equal(present.blocker, null);
  assert.equal(planPodIdentityAgent('prod', { cluster: 'prod', name: 'eks-pod-identity-agent', status: 'DEGRADED', version: 'v1' }, { install: false, installField: 'x' }).blocker?.code, 'pod-identity-agent-unhealthy');
});

test('fields: role in another account without a target role, session policy rules, all problems at once', () => {
  const good = validatePodIdentityFields({ roleArn: ROLE, targetRoleArn: 'arn:aws:iam::444455556666:role/t', disableSessionTags: true, sessionPolicy: '{\n  "Version": "2012-10-17",\n  "Statement": []\n}' }, CLUSTER_ARN, FLAG_NAMES);
  assert.deepEqual(good, { ok: true, value: { roleArn: ROLE, targetRoleArn: 'arn:aws:iam::444455556666:role/t', disableSessionTags: true, policy: '{"Version":"2012-10-17","Statement":[]}' } });

  const crossAccount = validatePodIdentityFields({ roleArn: 'arn:aws:iam::444455556666:role/t', targetRoleArn: null, disableSessionTags: false, sessionPolicy: null }, CLUSTER_ARN, YAML_NAMES);
  assert.equal(crossAccount.ok, false);
  assert.match(!crossAccount.ok ? crossAccount.problems[0]!.message : '', /roleArn: .* is in account 444455556666, the cluster in 111122223333.*targetRoleArn/);

  const withTags = validatePodIdentityFields({ roleArn: ROLE, targetRoleArn: null, disableSessionTags: false, sessionPolicy: '{"Statement":[]}' }, CLUSTER_ARN, FLAG_NAMES);
  assert.deepEqual(!withTags.ok && withTags.problems.map((p) => p.field), ['--disable-session-tags']);

  // The limit is on the compact JSON EKS receives: 2,048 passes, 2,049 fails.
  const sized = (n: number) => {
    const skeleton = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '' }] });
    return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'r'.repeat(n - skeleton.length) }] });
  };
  assert.equal(sized(SESSION_POLICY_MAX).length, 2048);
  assert.equal(validatePodIdentityFields({ roleArn: ROLE, targetRoleArn: null, disableSessionTags: true, sessionPolicy: sized(2048) }, CLUSTER_ARN, FLAG_NAMES).ok, true);
  const tooBig = validatePodIdentityFields({ roleArn: ROLE, targetRoleArn: null, disableSessionTags: true, sessionPolicy: sized(2049) }, CLUSTER_ARN, FLAG_NAMES);
  assert.match(!tooBig.ok ? tooBig.problems[0]!.message : '', /--session-policy: 2049 characters.*at most 2048/);

  const many = validatePodIdentityFields({ roleArn: '', targetRoleArn: 'nope', disableSessionTags: false, sessionPolicy: '{not json' }, CLUSTER_ARN, FLAG_NAMES);
  assert.deepEqual(!many.ok && many.problems.map((p) => p.field), ['--role-arn', '--target-role-arn', '--session-policy', '--disable-session-tags']);
});

test('re-checks: an update against what is there now — written, done, re-derived, or stale; never a silent re-point', async () => {
  const { recheckAssociationCreate, recheckAssociationDelete, recheckAssociationUpdate } = await import('../../src/core/resources/pod-identity-association.ts');
  const plan = planAssociation({ ...desired, roleArn: OTHER_ROLE }, observed(), options);
  const change = plan.change!;
  assert.equal(change.action, 'update');
  if (change.action !== 'update') return;
  assert.equal(recheckAssociationUpdate(change, observed()).verdict, 'write');
  assert.equal(recheckAssociationUpdate(change, observed({ roleArn: OTHER_ROLE })).verdict, 'done');
  assert.equal(recheckAssociationUpdate(change, null).verdict, 'stale');
  // Changed since the plan by irsa itself (still its own): re-derived from the fresh state.
  const rederived = recheckAssociationUpdate(change, observed({ disableSessionTags: true }));
  assert.equal(rederived.verdict, 'rederived');
  // Someone else's association now, with a third role: stale, not re-pointed.
  assert.equal(recheckAssociationUpdate(change, observed({ roleArn: 'arn:aws:iam::111122223333:role/third', tags: {}, associationId: 'a-zzzzzzzzzzzzzzzzz' })).verdict, 'stale');

  const creation = planAssociation(desired, null, options).change!;
  if (creation.action !== 'create') return;
  assert.equal(recheckAssociationCreate(creation, null).verdict, 'create');
  assert.equal(recheckAssociationCreate(creation, observed()).verdict, 'done', 'an interrupted run made it already');
  assert.equal(recheckAssociationCreate(creation, observed({ roleArn: OTHER_ROLE, tags: {} })).verdict, 'stale');

  const removal = planAssociationRemoval(observed()).change!;
  if (removal.action !== 'delete') return;
  assert.equal(recheckAssociationDelete(removal, null).verdict, 'done');
  assert.equal(recheckAssociationDelete(removal, observed()).verdict, 'write');
  assert.equal(recheckAssociationDelete(removal, observed({ tags: {} })).verdict, 'stale');
});
