// A binding mechanism: how a ServiceAccount gets an IAM role. The planner (core/binding.ts) and
// the renderer know nothing of any one mechanism; each mechanism turns a binding into
//
// - its trust: what the role's trust policy must admit (web-identity subjects merged into irsa's
//   own statements, and/or whole statements the role must contain);
// - its prerequisites: the changes the role waits for (IRSA: the cluster's OIDC provider);
// - its cluster-side artefacts: the changes and blockers on the cluster's side (IRSA: the
//   ServiceAccount's annotations and the restarts of the workloads that use it).
//
// A mechanism lives in core/mechanisms/<name>.ts, adds its name to `MechanismNames` from its own
// module (declare module '../model/binding.ts' { interface MechanismNames { 'my-mechanism': true } }) and
// registers itself in core/mechanisms/registry.ts (one line). Its resource kinds, executors and
// adapter live with the kind seam (core/resources/<kind>.ts, engine/executors/<kind>.ts).

import type { BindingContext, BindingRequest, BindingsObserved } from '../model/binding.ts';
import type { WorkloadRef } from '../model/observed.ts';
import type { PolicyStatement } from '../model/policy.ts';
import type { ClusterRef, ServiceAccountRef } from '../model/refs.ts';
import type { Blocker, Change } from '../plan.ts';
import type { BindingField, FieldPath, Terms } from '../terms.ts';
import type { FederatedTrust } from '../trust-policy.ts';

export type { MechanismName, MechanismNames } from '../model/binding.ts';
import type { MechanismName } from '../model/binding.ts';

export const DEFAULT_MECHANISM: MechanismName = 'irsa';

/** What the role's trust policy must admit for one binding. */
export interface RoleTrust {
  /** Web-identity trusts: their subjects are merged into irsa's statements (core/trust-merge.ts). */
  federated: FederatedTrust[];
  /** Whole statements the role must contain: added when no equal statement is there, never removed by this binding. */
  statements: PolicyStatement[];
}

/** What a mechanism's cluster side is planned from. */
export interface ClusterSideInput {
  request: BindingRequest;
  cluster: ClusterRef;
  /** The role the binding points at. */
  roleArn: string;
  /** Keys of changes the cluster-side changes wait for (the role; a namespace created now). */
  dependsOn: string[];
  observed: BindingsObserved;
  mode: 'ensure' | 'exact';
  /** How blockers name fields, and the field path of this request's fields. */
  terms: Terms;
  at(field: BindingField): FieldPath;
  /** `{ binding: index }` when the entry point numbers its bindings (irsa.yaml), else `{}`. */
  bindingIndex: { binding?: number };
}

export interface ClusterSidePlan {
  changes: Change[];
  blockers: Blocker[];
  warnings: string[];
  /** ServiceAccounts whose binding changes (their workloads matter for restarts and migrations). */
  changedServiceAccounts: ServiceAccountRef[];
  /** Workloads whose pods keep their old identity until restarted (not restarted by this plan). */
  workloadsNeedingRestart: WorkloadRef[];
}

export interface BindingMechanism {
  name: string;
  trust(request: BindingRequest, context: BindingContext): RoleTrust;
  /** Keys of changes the role waits for. */
  prerequisites(request: BindingRequest, context: BindingContext): string[];
  clusterSide(input: ClusterSideInput): ClusterSidePlan;
}

/** The mechanisms a planner can use, by name (core/mechanisms/registry.ts; a test may pass its own). */
export type MechanismRegistry = Readonly<Record<string, BindingMechanism>>;
