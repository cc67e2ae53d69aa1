// irsa doctor's checks of an EKS Pod Identity binding (issue 22): the association, the role's
// pods.eks trust, the agent add-on, where the pods may run (Fargate, Windows), what admission does
// to a new pod (a server-side dry run through the real webhook), and the precedence over a
// role-arn annotation. Pure: the command reads (engine/pod-identity-reads.ts, the inspector).
//
// Sources: Amazon EKS User Guide, pod-identities.html (the agent, the association, "only pods
// created after the association"), pod-id-role.html (the trust), the webhook's behaviour measured
// in the stack (IRSA-FACTS: it injects AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and no AWS_ROLE_ARN, for a Pod Identity ServiceAccount).

import type { DryRunInput } from './admission.ts';
import type { PodIdentityObserved } from './mechanisms/pod-identity.ts';
import type { DoctorCheck } from './model/doctor.ts';
import { fargateUnavailability } from './pod-identity-availability.ts';
import { isPodIdentityPod } from './pod-identity.ts';
import { podIdentityTrustVerdict } from './pods-eks-trust.ts';
import { POD_IDENTITY_AGENT_ADDON } from './resources/eks-addon.ts';
import { ROLE_ARN_ANNOTATION } from './resources/service-account.ts';
import type { RoleState, ServiceAccountState } from './state.ts';

const STEP = 8;

export interface PodIdentityDoctorInput {
  cluster: string;
  namespace: string;
  name: string;
  reads: PodIdentityObserved;
  serviceAccount: ServiceAccountState | null;
  /** The association's role (null: it does not exist; undefined: not read). */
  role: RoleState | null | undefined;
  /** What admission made of a minimal pod of the ServiceAccount (server-side dry run). */
  dryRun: DryRunInput | undefined;
  targetArgs: string;
}

export function podIdentityChecks(input: PodIdentityDoctorInput): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const check = (id: string, title: string, status: DoctorCheck['status'], observed: string, expected: string, fix: string | null, details?: string[]) =>
    checks.push({ id: `pod-identity-${id}`, step: STEP, title, status, observed, expected, fix, ...(details ? { details } : {}) });
  const sa = `${input.namespace}/${input.name}`;
  const association = input.reads.associations.get(sa) ?? null;
  if (!association) return checks;
  check('association', 'EKS Pod Identity association', 'pass',
    `${association.associationId}: ${association.roleArn}${association.targetRoleArn ? ` → ${association.targetRoleArn}` : ''}${association.disableSessionTags ? ' (session tags off)' : ''}`,
    'one association for the ServiceAccount', null);

  if (input.role === null) {
    check('role', 'the association\'s role', 'fail', `${association.roleArn} does not exist`, 'the role exists', `irsa create-sa-role ${input.targetArgs} -n ${input.namespace} --name ${input.name} --mechanism pod-identity --role-name <name>`);
  } else if (input.role) {
    const verdict = podIdentityTrustVerdict(input.role.trustPolicy, { clusterArn: input.reads.clusterArn, namespace: input.namespace, serviceAccount: input.name, sessionTags: !association.disableSessionTags });
    const expected = `a pods.eks.amazonaws.com statement for ${input.reads.clusterArn}${association.disableSessionTags ? '' : ` and ${sa} (session tags)`}`;
    if (verdict === 'allow') check('trust', 'the role trusts EKS Pod Identity for it', 'pass', 'irsa\'s pods.eks statement admits it', expected, null);
    else if (verdict === 'deny') {
      check('trust', 'the role trusts EKS Pod Identity for it', 'fail', `the trust policy of ${input.role.name} has no statement admitting it`, expected,
        `irsa create-sa-role ${input.targetArgs} -n ${input.namespace} --name ${input.name} --mechanism pod-identity --attach-role-arn ${input.role.arn}`);
    } else {
      check('trust', 'the role trusts EKS Pod Identity for it', 'warn', 'a statement of a shape irsa did not write (or a Deny) decides: irsa cannot tell', expected, null);
    }
  }

  const agent = input.reads.agent;
  if (!agent) {
    check('agent', `the ${POD_IDENTITY_AGENT_ADDON} add-on`, 'fail', `${input.cluster} has no ${POD_IDENTITY_AGENT_ADDON} add-on: no pod gets Pod Identity credentials`, 'the add-on, ACTIVE',
      `irsa create-sa-role ${input.targetArgs} -n ${input.namespace} --name ${input.name} --mechanism pod-identity --install-pod-identity-agent --approve`);
  } else {
    check('agent', `the ${POD_IDENTITY_AGENT_ADDON} add-on`, agent.status === 'ACTIVE' ? 'pass' : ['CREATE_FAILED', 'DEGRADED', 'DELETING'].includes(agent.status) ? 'fail' : 'warn',
      `${agent.status}${agent.version ? ` (${agent.version})` : ''}`, 'ACTIVE', agent.status === 'ACTIVE' ? null : `aws eks describe-addon --cluster-name ${input.cluster} --addon-name ${POD_IDENTITY_AGENT_ADDON} (its health issues)`);
  }

  const where = [...input.reads.unavailable, ...fargateUnavailability(input.cluster, input.namespace, input.reads.fargateSelectors ?? [])];
  if (where.length > 0) {
    check('compute', 'where its pods run', 'fail', where.map((u) => u.reason).join('; '), 'Linux EC2 nodes, where the agent runs', `use IRSA for this ServiceAccount: irsa create-sa-role ${input.targetArgs} -n ${input.namespace} --name ${input.name} --mechanism irsa`);
  } else if ((input.reads.warnings ?? []).length > 0) {
    check('compute', 'where its pods run', 'warn', input.reads.warnings!.join('; '), 'Linux EC2 nodes, where the agent runs', null);
  }

  const annotation = input.serviceAccount?.annotations[ROLE_ARN_ANNOTATION];
  if (annotation) {
    check('precedence', 'the role-arn annotation', 'warn', `${annotation}: unused, EKS Pod Identity takes precedence over it`, 'no role-arn annotation beside an association',
      `kubectl annotate serviceaccount ${input.name} -n ${input.namespace} ${ROLE_ARN_ANNOTATION}- (once no pod needs IRSA)`);
  }

  const dry = input.dryRun;
  if (dry) {
    const outcome = dry.outcome;
    if ('admitted' in outcome) {
      const injected = isPodIdentityPod(outcome.admitted);
      const withRoleArn = outcome.admitted.containers.filter((c) => c.env.some((e) => e.name === 'AWS_ROLE_ARN')).map((c) => c.name);
      check('admission', 'a new pod gets Pod Identity credentials', injected && withRoleArn.length === 0 ? 'pass' : 'fail',
        injected ? (withRoleArn.length > 0 ? `injected, but ${withRoleArn.join(', ')} also get AWS_ROLE_ARN` : 'the webhook injected AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE') : `${dry.source} came back without AWS_CONTAINER_CREDENTIALS_FULL_URI`,
        'AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE in every container',
        injected ? null : 'the pod identity webhook has not learnt of the association yet (EKS keeps it in step within seconds), or it is not running: see the admission check above');
    } else {
      const text = 'rejected' in outcome ? `refused: ${outcome.rejected}` : 'forbidden' in outcome ? `not allowed: ${outcome.forbidden}` : `failed: ${outcome.error}`;
      check('admission', 'a new pod gets Pod Identity credentials', 'warn', `the dry run of ${dry.source} ${text}`, 'a server-side dry run through the webhook', null);
    }
  }
  return checks;
}
