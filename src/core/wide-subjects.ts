// Subject patterns that admit ServiceAccounts of several namespaces (what `irsa audit --iam` rates
// critical, core/trust-lint.ts's sub-spans-namespaces). The validator refuses them unless the user
// acknowledged the risk separately (--allow-wide-subjects, irsa.yaml allowWideSubjects); when they
// did, the plan shows each such trust as a widening with the ServiceAccounts it admits today. Pure.

import type { BindingRequest } from './binding.ts';
import type { Plan } from './plan.ts';
import type { ServiceAccountState } from './state.ts';
import { isWideSubjectPattern } from './binding-input.ts';
import { stringLike } from './trust-eval.ts';
import { serviceAccountSubject } from './trust-policy.ts';

/** The requests whose trust is wide; empty for almost every plan (then nothing is read). */
export const wideRequests = (requests: BindingRequest[]): BindingRequest[] =>
  requests.filter((request) => request.subjectPattern !== null && isWideSubjectPattern(request.subjectPattern));

/**
 * Adds one widening per wide request to the plan. `serviceAccounts`: every ServiceAccount of the
 * cluster, or null when the cluster was not read (--role-only): then the count is unknown, and said so.
 */
export function addWidenings(plan: Plan, requests: BindingRequest[], serviceAccounts: ServiceAccountState[] | null): void {
  for (const request of wideRequests(requests)) {
    const pattern = request.subjectPattern!;
    const admitted = serviceAccounts?.filter((sa) => stringLike(pattern, serviceAccountSubject(sa.namespace, sa.name))) ?? null;
    const namespaces = admitted ? new Set(admitted.map((sa) => sa.namespace)).size : 0;
    const today =
      admitted === null
        ? 'how many ServiceAccounts it admits today is unknown (the cluster was not read)'
        : `it admits ${admitted.length} ServiceAccount${admitted.length === 1 ? '' : 's'} in ${namespaces} namespace${namespaces === 1 ? '' : 's'} today, and every matching one created later`;
    (plan.widenings ??= []).push(
      `role ${request.roleName} trusts ${pattern} (allowed by allowWideSubjects / --allow-wide-subjects): ${today}. irsa audit --iam rates this trust critical.`,
    );
  }
}
