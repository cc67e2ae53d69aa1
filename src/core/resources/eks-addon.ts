// The `eks-addon` kind, used for the EKS Pod Identity Agent: without the add-on running on the
// nodes no pod gets Pod Identity credentials, whatever the associations say (Amazon EKS User
// Guide, "Set up the Amazon EKS Pod Identity Agent": the agent is the `eks-pod-identity-agent`
// add-on; DescribeAddon says whether it is installed). irsa never skips it silently: a missing
// agent is a blocker, and the change that adds it (CreateAddon) is in the plan — applied only when
// the user says so.

import type { Blocker, ChangeOf } from '../plan.ts';
import type { KindSpec } from './kind.ts';

export const POD_IDENTITY_AGENT_ADDON = 'eks-pod-identity-agent';

export interface EksAddonValue {
  cluster: string;
  name: string;
}

/** An add-on as EKS reports it (DescribeAddon). */
export interface EksAddonState {
  cluster: string;
  name: string;
  /** CREATING, ACTIVE, CREATE_FAILED, DEGRADED, UPDATING, DELETING, … */
  status: string;
  version: string | null;
}

declare module '../plan.ts' {
  interface ChangeValues {
    /** An EKS add-on (the Pod Identity Agent); id `cluster/name`. Only ever created. */
    'eks-addon': EksAddonValue;
  }
}

export type AddonChange = ChangeOf<'eks-addon'>;

export type AgentBlocker = Blocker & { code: 'pod-identity-agent-missing' | 'pod-identity-agent-unhealthy' };

/** Absent from a fresh plan: the add-on is there now, which is all the create was for. */
export const eksAddonKind: KindSpec<'eks-addon'> = {
  kind: 'eks-addon',
  api: 'aws',
  absentFromFreshPlan: () => ({ verdict: 'done' }),
};

export interface AgentPlan {
  change: AddonChange;
  blocker: AgentBlocker | null;
  warnings: string[];
}

export const addonId = (cluster: string, name: string): string => `${cluster}/${name}`;

/**
 * The agent add-on's change: a no-op when it is there, else a create — with a blocker unless
 * `install` (the user let irsa add it).
 */
export function planPodIdentityAgent(cluster: string, observed: EksAddonState | null, options: { install: boolean; installField: string }): AgentPlan {
  const id = addonId(cluster, POD_IDENTITY_AGENT_ADDON);
  const value: EksAddonValue = { cluster, name: POD_IDENTITY_AGENT_ADDON };
  const resource = `eks-addon:${id}`;
  if (observed) {
    const change: AddonChange = { kind: 'eks-addon', id, cluster, dependsOn: [], action: 'no-op', before: value, after: value };
    if (['CREATE_FAILED', 'DEGRADED', 'DELETING'].includes(observed.status)) {
      return {
        change,
        blocker: {
          code: 'pod-identity-agent-unhealthy',
          resource,
          message: `the ${POD_IDENTITY_AGENT_ADDON} add-on of ${cluster} is ${observed.status}: pods would not get Pod Identity credentials`,
          fix: `repair the add-on (\`aws eks describe-addon --cluster-name ${cluster} --addon-name ${POD_IDENTITY_AGENT_ADDON}\` shows its health issues), or use IRSA for this binding`,
          field: options.installField,
        },
        warnings: [],
      };
    }
    const warnings = observed.status === 'ACTIVE' ? [] : [`the ${POD_IDENTITY_AGENT_ADDON} add-on of ${cluster} is ${observed.status}`];
    return { change, blocker: null, warnings };
  }
  const change: AddonChange = {
    kind: 'eks-addon',
    id,
    cluster,
    dependsOn: [],
    action: 'create',
    before: null,
    after: value,
    reason: 'EKS Pod Identity needs the agent on the nodes',
  };
  if (options.install) return { change, blocker: null, warnings: [] };
  return {
    change,
    blocker: {
      code: 'pod-identity-agent-missing',
      resource,
      message: `${cluster} has no ${POD_IDENTITY_AGENT_ADDON} add-on: without the agent on the nodes no pod gets Pod Identity credentials`,
      fix: `pass ${options.installField} to let irsa add it (CreateAddon, planned above), or install it yourself, or use IRSA for this binding`,
      field: options.installField,
    },
    warnings: [],
  };
}
