// irsa migrate --to pod-identity, the pure parts (issue 22): the removal of the IRSA side once a
// dry run has proven that new pods get EKS Pod Identity credentials, and that proof's verdict.
//
// The steps (each planned from fresh reads, so a re-run after an interruption converges):
//   1. the pods.eks statement beside the IRSA one, 2. the association, 3. the restarts — all the
//      pod-identity mechanism's ensure plan (core/mechanisms/pod-identity.ts), with the role attached
//      (only its trust changes);
//   4. a server-side dry run of a new pod of each ServiceAccount through the real webhook must show
//      the container credentials (and no AWS_ROLE_ARN);
//   5. only then: this ServiceAccount's subject leaves the role's IRSA statement (other subjects and
//      statements stay as written; the role is never deleted here) and its IRSA annotations go.

import type { DryRunInput } from './admission.ts';
import { clusterKey, clusterRef, changeIds } from './model/refs.ts';
import { emptyPlan, type Change, type Plan } from './plan.ts';
import { isPodIdentityPod } from './pod-identity.ts';
import { roleValue } from './resources/iam-role.ts';
import { IRSA_ANNOTATIONS } from './resources/service-account.ts';
import type { RoleState, ServiceAccountState } from './state.ts';
import { removeSubject } from './trust-merge.ts';
import { podIdentityTrustVerdict, removePodIdentitySubject } from './pods-eks-trust.ts';
import { evaluateTrust } from './trust-eval.ts';
import { serviceAccountSubject } from './trust-policy.ts';

export interface MigratedBinding {
  namespace: string;
  name: string;
  serviceAccount: ServiceAccountState | null;
  /** The role the ServiceAccount's annotation named (read again now), or null. */
  role: RoleState | null;
}

/**
 * Before step 5: the ServiceAccounts whose role does not (or no longer) admit them through the new
 * mechanism — step 1's statement missing or overwritten. Removing the old mechanism's trust then
 * would leave their pods without credentials, so nothing of it goes (the run fails; a re-run adds
 * the statement again). This is also what proves step 1's trust writes after apply.
 */
export function newTrustGaps(
  to: { mechanism: 'pod-identity'; clusterArn: string } | { mechanism: 'irsa'; issuerUrl: string; providerArn: string; audience: string },
  bindings: MigratedBinding[],
): string[] {
  return bindings.filter((binding) => {
    const document = binding.role?.trustPolicy ?? null;
    if (!document) return true;
    if (to.mechanism === 'pod-identity') return podIdentityTrustVerdict(document, { clusterArn: to.clusterArn, namespace: binding.namespace, serviceAccount: binding.name, sessionTags: true }) !== 'allow';
    return evaluateTrust(document, to.providerArn, { iss: to.issuerUrl, sub: serviceAccountSubject(binding.namespace, binding.name), aud: [to.audience] }).verdict !== 'allow';
  }).map((binding) => `${binding.namespace}/${binding.name}`);
}

/** Step 5: the IRSA subject out of each role (one change per role), the IRSA annotations off each ServiceAccount. */
export function planIrsaRemoval(cluster: string, providerArn: string, bindings: MigratedBinding[]): Plan {
  const plan = emptyPlan();
  const roles = new Map<string, { role: RoleState; document: RoleState['trustPolicy']; names: string[] }>();
  for (const binding of bindings) {
    if (!binding.role) continue;
    const entry = roles.get(binding.role.arn) ?? { role: binding.role, document: binding.role.trustPolicy, names: [] };
    const merged = removeSubject(entry.document, { subject: serviceAccountSubject(binding.namespace, binding.name), providerArn });
    if (merged.changed) {
      entry.document = merged.document;
      entry.names.push(`${binding.namespace}/${binding.name}`);
    }
    roles.set(binding.role.arn, entry);
  }
  // Each ServiceAccount's annotation goes after its own role's subject: a run stopped between the
  // two leaves the annotation, which is how a re-run without --name finds the ServiceAccount again.
  const roleKeyOf = new Map<string, string>();
  for (const { role, document, names } of roles.values()) {
    if (names.length === 0) continue;
    const before = roleValue(role);
    const change: Change = {
      kind: 'iam-role', id: role.arn, action: 'update', before, after: { ...before, trustPolicy: document }, dependsOn: [], account: role.arn.split(':')[4]!,
      reason: `EKS Pod Identity proven for ${names.join(', ')}: their IRSA subject leaves the trust policy`,
    };
    plan.changes.push(change);
    for (const name of names) roleKeyOf.set(name, `iam-role:${role.arn}`);
  }
  for (const binding of bindings) {
    const sa = binding.serviceAccount;
    if (!sa) continue;
    const present = Object.fromEntries(IRSA_ANNOTATIONS.filter((key) => key in sa.annotations).map((key) => [key, sa.annotations[key]!]));
    if (Object.keys(present).length === 0) continue;
    const ref = { cluster: clusterRef(cluster), namespace: binding.namespace, name: binding.name };
    const before = { namespace: binding.namespace, name: binding.name, annotations: present, labels: {} };
    plan.changes.push({
      kind: 'service-account', id: changeIds.serviceAccount(ref), cluster: clusterKey(ref.cluster), action: 'update', before, after: { ...before, annotations: {} },
      dependsOn: roleKeyOf.has(`${binding.namespace}/${binding.name}`) ? [roleKeyOf.get(`${binding.namespace}/${binding.name}`)!] : [],
      reason: 'EKS Pod Identity proven: the IRSA annotations go',
    });
  }
  return plan;
}

/** Step 4's verdict for one ServiceAccount: every container of a new pod gets container credentials and no AWS_ROLE_ARN. */
export function podIdentityProof(dryRun: DryRunInput | undefined): { ok: boolean; observed: string } {
  if (!dryRun) return { ok: false, observed: 'no dry run was possible' };
  const outcome = dryRun.outcome;
  if (!('admitted' in outcome)) {
    return { ok: false, observed: 'rejected' in outcome ? `the apiserver refused ${dryRun.source}: ${outcome.rejected}` : 'forbidden' in outcome ? `not allowed: ${outcome.forbidden}` : `failed: ${outcome.error}` };
  }
  const pod = outcome.admitted;
  const apps = pod.containers.filter((c) => !c.init);
  const missing = apps.filter((c) => !c.env.some((e) => e.name === 'AWS_CONTAINER_CREDENTIALS_FULL_URI')).map((c) => c.name);
  const withRoleArn = apps.filter((c) => c.env.some((e) => e.name === 'AWS_ROLE_ARN')).map((c) => c.name);
  if (!isPodIdentityPod(pod) || missing.length > 0) return { ok: false, observed: `${dryRun.source}: no AWS_CONTAINER_CREDENTIALS_FULL_URI in ${missing.join(', ') || 'its containers'}` };
  if (withRoleArn.length > 0) return { ok: false, observed: `${dryRun.source}: ${withRoleArn.join(', ')} still get AWS_ROLE_ARN` };
  return { ok: true, observed: `${dryRun.source} gets EKS Pod Identity credentials in every container` };
}

// ---- the way back: irsa migrate --to irsa ----
//   1–3. the IRSA subject beside the pods.eks statement, the role-arn annotation, the restarts (the
//        irsa mechanism's ensure plan with the association's role attached), and the association
//        irsa made deleted after them — EKS Pod Identity takes precedence over the annotation, so
//        no new pod can get the IRSA credentials while the association exists;
//   4.   the dry run must show AWS_ROLE_ARN = the role and the web-identity token file, and no
//        container credentials;
//   5.   only then: the ServiceAccount's pods.eks statement leaves the role's trust.

/**
 * Step 5 of the way back: the proven ServiceAccounts' pods.eks statements out of each role (one
 * change per role). `clusterWide`: roles (ARNs) whose cluster-wide statement (an association with
 * session tags off) goes too — the caller names a role only when no association of the cluster
 * with session tags off is left naming it.
 */
export function planPodIdentityTrustRemoval(clusterArn: string, bindings: MigratedBinding[], clusterWide: Set<string> = new Set()): Plan {
  const plan = emptyPlan();
  const roles = new Map<string, { role: RoleState; document: RoleState['trustPolicy']; names: string[] }>();
  for (const binding of bindings) {
    if (!binding.role) continue;
    const entry = roles.get(binding.role.arn) ?? { role: binding.role, document: binding.role.trustPolicy, names: [] };
    const merged = removePodIdentitySubject(entry.document, { clusterArn, namespace: binding.namespace, serviceAccount: binding.name, clusterWide: clusterWide.has(binding.role.arn) });
    if (merged.changed) {
      entry.document = merged.document;
      entry.names.push(`${binding.namespace}/${binding.name}`);
    }
    roles.set(binding.role.arn, entry);
  }
  for (const { role, document, names } of roles.values()) {
    if (names.length === 0) continue;
    const before = roleValue(role);
    plan.changes.push({
      kind: 'iam-role', id: role.arn, action: 'update', before, after: { ...before, trustPolicy: document }, dependsOn: [], account: role.arn.split(':')[4]!,
      reason: `IRSA proven for ${names.join(', ')}: their pods.eks statement leaves the trust policy`,
    });
  }
  return plan;
}

/** Step 4 of the way back: a new pod gets the web identity of `roleArn` and no container credentials. */
export function irsaProof(dryRun: DryRunInput | undefined, roleArn: string): { ok: boolean; observed: string } {
  if (!dryRun) return { ok: false, observed: 'no dry run was possible' };
  const outcome = dryRun.outcome;
  if (!('admitted' in outcome)) {
    return { ok: false, observed: 'rejected' in outcome ? `the apiserver refused ${dryRun.source}: ${outcome.rejected}` : 'forbidden' in outcome ? `not allowed: ${outcome.forbidden}` : `failed: ${outcome.error}` };
  }
  const apps = outcome.admitted.containers.filter((c) => !c.init);
  const value = (c: (typeof apps)[number], name: string) => c.env.find((e) => e.name === name)?.value;
  const wrong = apps.filter((c) => value(c, 'AWS_ROLE_ARN') !== roleArn || !value(c, 'AWS_WEB_IDENTITY_TOKEN_FILE')).map((c) => c.name);
  if (wrong.length > 0) return { ok: false, observed: `${dryRun.source}: ${wrong.join(', ')} ${wrong.length === 1 ? 'gets' : 'get'} no AWS_ROLE_ARN=${roleArn} with a token file` };
  const container = apps.filter((c) => value(c, 'AWS_CONTAINER_CREDENTIALS_FULL_URI')).map((c) => c.name);
  if (container.length > 0) return { ok: false, observed: `${dryRun.source}: ${container.join(', ')} still get EKS Pod Identity credentials (they take precedence)` };
  return { ok: true, observed: `${dryRun.source} gets AWS_ROLE_ARN=${roleArn} in every container` };
}
