// Property tests of the pods.eks trusts irsa builds (src/core/pods-eks-trust.ts), evaluated by an
// evaluator we did not write: @cloud-copilot/iam-simulate (as in trust-differential.test.ts).
//
// The request EKS Pod Identity makes: principal the service pods.eks.amazonaws.com, actions
// sts:AssumeRole and sts:TagSession, context aws:SourceAccount / aws:SourceArn (the cluster), and
// with session tags on aws:RequestTag/kubernetes-namespace and …/kubernetes-service-account (plus
// eks-cluster-arn, eks-cluster-name, kubernetes-pod-name, kubernetes-pod-uid: Amazon EKS User
// Guide, pod-id-abac.html). With disableSessionTags none of the tags are sent.
//
// Claims checked:
// 1. a built trust admits exactly the requested (cluster, namespace, ServiceAccount) under session
//    tags — nothing of another cluster, namespace, ServiceAccount or account, and no other principal;
//    a subject with session tags off admits its whole cluster (all the trust can say) and no more;
// 2. adding one subject to any document changes the admitted set by exactly that subject, and
//    statements irsa does not own stay byte-for-byte; removing it again restores the document.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { createValidatedPolicy, validateTrustPolicy } from '@cloud-copilot/iam-policy';
import {
  addPodIdentitySubject,
  buildPodIdentityStatements,
  mergeRequiredPodIdentityStatements,
  podIdentityStatement,
  readPodIdentityStatement,
  removePodIdentitySubject,
  type PodIdentitySubject,
} from '../../src/core/pods-eks-trust.ts';
import type { PolicyDocument, PolicyStatement } from '../../src/core/trust-policy.ts';

const RUNS = 100;
const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/r`;
const CLUSTERS = [
  `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/one`,
  `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/two`,
  `arn:aws:eks:us-east-1:${OTHER_ACCOUNT}:cluster/one`,
];
const NAMESPACES = ['a', 'b', 'A'];
const SERVICE_ACCOUNTS = ['x', 'y'];

interface PodRequest {
  principal: string;
  clusterArn: string;
  namespace: string;
  serviceAccount: string;
  sessionTags: boolean;
}

// Validating a policy costs more than evaluating it: once per document.
const validated = new WeakMap<PolicyDocument, ReturnType<typeof createValidatedPolicy>>();
const validatedPolicy = (document: PolicyDocument) => {
  let policy = validated.get(document);
  if (!policy) validated.set(document, (policy = createValidatedPolicy(document, validateTrustPolicy, { name: 'trust' })));
  return policy;
};

function allowed(document: PolicyDocument, request: PodRequest): boolean {
  const account = request.clusterArn.split(':')[4]!;
  const context: Record<string, string | string[]> = { 'aws:SourceAccount': account, 'aws:SourceArn': request.clusterArn };
  if (request.sessionTags) {
    const tags: Record<string, string> = {
      'eks-cluster-arn': request.clusterArn,
      'eks-cluster-name': request.clusterArn.split('/')[1]!,
      'kubernetes-namespace': request.namespace,
      'kubernetes-service-account': request.serviceAccount,
      'kubernetes-pod-name': 'p',
      'kubernetes-pod-uid': 'u',
    };
    for (const [key, value] of Object.entries(tags)) context[`aws:RequestTag/${key}`] = value;
    context['aws:TagKeys'] = Object.keys(tags);
  }
  // Both calls of the request must be allowed: AssumeRole, and TagSession when tags are sent.
  const actions = request.sessionTags ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole'];
  return actions.every((action) => {
    const result = runUnsafeSimulation(
      {
        request: { principal: request.principal, action, resource: { resource: ROLE, accountId: ACCOUNT }, contextVariables: context },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: validatedPolicy(document),
      } as Parameters<typeof runUnsafeSimulation>[0],
      {},
    ) as unknown;
    return result === 'Allowed';
  });
}

const universe: PodRequest[] = [
  ...CLUSTERS.flatMap((clusterArn) =>
    NAMESPACES.flatMap((namespace) =>
      SERVICE_ACCOUNTS.flatMap((serviceAccount) => [true, false].map((sessionTags) => ({ principal: 'pods.eks.amazonaws.com', clusterArn, namespace, serviceAccount, sessionTags }))),
    ),
  ),
  { principal: 'ec2.amazonaws.com', clusterArn: CLUSTERS[0]!, namespace: 'a', serviceAccount: 'x', sessionTags: true },
  { principal: 'arn:aws:iam::111122223333:role/other', clusterArn: CLUSTERS[0]!, namespace: 'a', serviceAccount: 'x', sessionTags: true },
];

const subject: fc.Arbitrary<PodIdentitySubject> = fc.record({
  clusterArn: fc.constantFrom(...CLUSTERS),
  namespace: fc.constantFrom(...NAMESPACES),
  serviceAccount: fc.constantFrom(...SERVICE_ACCOUNTS),
  sessionTags: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});

/** What a set of subjects should admit: the exact triples with tags, whole clusters without. */
function expected(subjects: PodIdentitySubject[], request: PodRequest): boolean {
  if (request.principal !== 'pods.eks.amazonaws.com') return false;
  if (subjects.some((s) => !s.sessionTags && s.clusterArn === request.clusterArn)) return true;
  return request.sessionTags && subjects.some((s) => s.sessionTags && s.clusterArn === request.clusterArn && s.namespace === request.namespace && s.serviceAccount === request.serviceAccount);
}

test(`pods.eks: a built trust admits exactly the requested clusters and ServiceAccounts (${RUNS} sets × ${universe.length} requests, iam-simulate)`, () => {
  let admitted = 0;
  fc.assert(
    fc.property(fc.array(subject, { minLength: 1, maxLength: 5 }), (subjects) => {
      const document: PolicyDocument = { Version: '2012-10-17', Statement: buildPodIdentityStatements(subjects) };
      for (const request of universe) {
        const got = allowed(document, request);
        if (got) admitted++;
        assert.equal(got, expected(subjects, request), `subjects ${JSON.stringify(subjects)}\nrequest ${JSON.stringify(request)}\npolicy ${JSON.stringify(document)}`);
      }
      // Built statements read back as irsa's own.
      for (const statement of document.Statement) assert.ok(readPodIdentityStatement(statement), JSON.stringify(statement));
      return true;
    }),
    { numRuns: RUNS, verbose: 1 },
  );
  assert.ok(admitted > 0, 'some requests must be admitted, or the test proves nothing');
});

// The path a plan takes (core/mechanisms/pod-identity.ts → core/resources/iam-role.ts): each
// binding's required statement, merged one after another into the role's document, starting empty.
test(`pods.eks planner path: required statements merged one by one admit exactly the requested clusters and ServiceAccounts (${RUNS} sets, iam-simulate)`, () => {
  fc.assert(
    fc.property(fc.array(subject, { minLength: 1, maxLength: 5 }), (subjects) => {
      let document: PolicyDocument = { Version: '2012-10-17', Statement: [] };
      for (const s of subjects) {
        const required = [podIdentityStatement({ clusterArn: s.clusterArn, namespace: s.sessionTags ? s.namespace : null, serviceAccounts: [s.serviceAccount] })];
        const merged = mergeRequiredPodIdentityStatements(document, required);
        assert.deepEqual(merged.rest, []);
        document = merged.document;
      }
      for (const request of universe) {
        assert.equal(allowed(document, request), expected(subjects, request), `subjects ${JSON.stringify(subjects)}\nrequest ${JSON.stringify(request)}\npolicy ${JSON.stringify(document)}`);
      }
      return true;
    }),
    { numRuns: RUNS, verbose: 1 },
  );
});

// Statements irsa does not own: kept as written, whatever they admit.
const foreign: PolicyStatement[] = [
  { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
  { Sid: 'Team', Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'b' } } },
  { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:RequestTag/kubernetes-namespace': 'a', 'aws:RequestTag/kubernetes-service-account': 'x', 'aws:RequestTag/kubernetes-pod-name': 'p' }, ArnEquals: { 'aws:SourceArn': CLUSTERS[0]! } } },
  { Effect: 'Deny', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:RequestTag/kubernetes-service-account': 'y' } } },
  { Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.example/id/1` }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { 'oidc.example/id/1:sub': 'system:serviceaccount:a:x', 'oidc.example/id/1:aud': 'sts.amazonaws.com' } } },
];
const irsaOwned = fc.record({ clusterArn: fc.constantFrom(...CLUSTERS), namespace: fc.constantFrom(...NAMESPACES), serviceAccounts: fc.uniqueArray(fc.constantFrom(...SERVICE_ACCOUNTS), { minLength: 1, maxLength: 2 }) })
  .map((r) => podIdentityStatement(r));
const existing = fc.array(fc.oneof(fc.constantFrom(...foreign), irsaOwned), { maxLength: 4 }).map((s): PolicyDocument => ({ Version: '2012-10-17', Statement: s }));

test(`pods.eks merge: adding one ServiceAccount changes the admitted set by exactly it; removing restores the document (${RUNS} documents)`, () => {
  fc.assert(
    fc.property(existing, subject.filter((s) => s.sessionTags), (document, s) => {
      const before = universe.map((request) => allowed(document, request));
      const added = addPodIdentitySubject(document, s);
      const after = universe.map((request) => allowed(added.document, request));
      const denied = document.Statement.some((st) => st.Effect === 'Deny' && readPodIdentityStatement(st) === null && JSON.stringify(st).includes(`"${s.serviceAccount}"`));
      universe.forEach((request, i) => {
        const isS = request.principal === 'pods.eks.amazonaws.com' && request.sessionTags && request.clusterArn === s.clusterArn && request.namespace === s.namespace && request.serviceAccount === s.serviceAccount;
        if (!isS) assert.equal(after[i], before[i], `add ${JSON.stringify(s)} changed ${JSON.stringify(request)}\n${JSON.stringify(added.document)}`);
        else if (!denied) assert.equal(after[i], true, `add ${JSON.stringify(s)}: S itself not admitted\n${JSON.stringify(added.document)}`);
      });
      const kept = (d: PolicyDocument) => d.Statement.filter((st) => readPodIdentityStatement(st) === null).map((st) => JSON.stringify(st));
      assert.deepEqual(kept(added.document), kept(document));

      // Removing S again: when irsa's statements did not already name S, the document is the
      // original one, byte for byte (migrations back and forth end where they started).
      const alreadyNamed = document.Statement.some((st) => {
        const read = readPodIdentityStatement(st);
        return read !== null && read.clusterArn === s.clusterArn && read.namespace === s.namespace && read.serviceAccounts.includes(s.serviceAccount);
      });
      const removed = removePodIdentitySubject(added.document, s);
      if (!alreadyNamed) assert.equal(JSON.stringify(removed.document), JSON.stringify(document));
      // Whatever was there: S is no longer admitted by irsa's statements, everything else as before adding.
      const afterRemove = universe.map((request) => allowed(removed.document, request));
      universe.forEach((request, i) => {
        const isS = request.principal === 'pods.eks.amazonaws.com' && request.sessionTags && request.clusterArn === s.clusterArn && request.namespace === s.namespace && request.serviceAccount === s.serviceAccount;
        if (!isS) assert.equal(afterRemove[i], before[i], `remove ${JSON.stringify(s)} changed ${JSON.stringify(request)}`);
      });
      assert.deepEqual(kept(removed.document), kept(document));
      return true;
    }),
    { numRuns: RUNS, verbose: 1 },
  );
});
