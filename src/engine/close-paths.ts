// Reads what core/close-paths.ts decides from: the cluster's nodegroups and their launch template
// versions, the account's roles (node roles and kube2iam roles among them), the managed policy
// documents of the node roles and of the cluster's IRSA roles, every ServiceAccount, and every pod
// template and running pod (the kube2iam proof and the workloads without a role of their own).
// Every read is settled on its own: a denied one becomes `!` with the permission, never "nothing".

import { planClosePaths, type Closing, type ClosePathsInput, type ClosePathsResult, type NodegroupClosingView, type PodRunner } from '../core/close-paths.ts';
import { podServiceAccount, KUBE2IAM_ANNOTATION } from '../core/credential-sources.ts';
import { settleRead, type Read } from '../core/only-its-role.ts';
import type { RoleState } from '../core/state.ts';
import { ROLE_ARN_ANNOTATION } from '../core/resources/service-account.ts';
import type { IamGateway, KubeGateway, NodeAccessReader, PodIdentityGateway, WorkloadGateway } from '../ports.ts';

const settle = settleRead;

export interface ClosePathsSources {
  nodeAccess(): Promise<NodeAccessReader>;
  iam(): Promise<IamGateway>;
  kube(): Promise<KubeGateway>;
  workloads(): Promise<WorkloadGateway>;
  /** EKS Pod Identity associations: their ServiceAccounts have a role of their own. */
  podIdentity?(): Promise<PodIdentityGateway>;
}

/** Every pod template (workloads, CronJobs, bare Pods) and every running pod of the cluster. */
export async function readPodRunners(kube: KubeGateway, workloads: WorkloadGateway): Promise<PodRunner[]> {
  const namespaces = await kube.listNamespaces();
  const perNamespace = await Promise.all(namespaces.map(async (ns) => {
    const [templates, pods] = await Promise.all([workloads.listPodTemplates(ns), kube.listPods(ns)]);
    const listed = new Set(templates.map((t) => `${t.kind}/${t.name}`));
    const runners: PodRunner[] = templates.map((t) => ({
      ref: `${t.kind.toLowerCase()}/${t.namespace}/${t.name}`,
      namespace: t.namespace,
      serviceAccount: podServiceAccount(t.template.spec),
      kube2iamRole: t.template.metadata?.annotations?.[KUBE2IAM_ANNOTATION] ?? null,
      hostNetwork: (t.template.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true,
      ownedByListed: false,
    }));
    for (const pod of pods) {
      // A pod of an older ReplicaSet may still carry the annotation its template lost: every running pod counts for the proof.
      if (listedBarePod(pod.ownerWorkload, pod.name, listed)) continue;
      runners.push({
        ref: `pod/${pod.namespace}/${pod.name}`,
        namespace: pod.namespace,
        serviceAccount: pod.serviceAccountName || 'default',
        kube2iamRole: pod.spec?.annotations[KUBE2IAM_ANNOTATION] ?? null,
        hostNetwork: false,
        ownedByListed: pod.ownerWorkload !== null && listed.has(`${pod.ownerWorkload.kind}/${pod.ownerWorkload.name}`),
      });
    }
    return runners;
  }));
  return perNamespace.flat();
}

/** A bare Pod is already listed among the templates (listPodTemplates returns bare Pods too). */
function listedBarePod(owner: { kind: string; name: string } | null, name: string, listed: Set<string>): boolean {
  return owner === null && listed.has(`Pod/${name}`);
}

export async function readAndPlanClosePaths(
  sources: ClosePathsSources,
  target: { cluster: string; region: string; account: string; only: Closing[]; pending?: ClosePathsInput['pending'] },
): Promise<ClosePathsResult & { input: ClosePathsInput }> {
  const reader = await settle(sources.nodeAccess());
  const groups = 'error' in reader ? reader : await settle(reader.value.listNodegroups(target.cluster));
  const [nodegroups, accountRoles, serviceAccounts, runners, podIdentityServiceAccounts] = await Promise.all([
    'error' in groups
      ? Promise.resolve(groups as Read<NodegroupClosingView[]>)
      : Promise.all(groups.value.map(async (group): Promise<NodegroupClosingView> => ({
          name: group.name,
          nodeRoleArn: group.nodeRoleArn,
          launchTemplate: group.launchTemplate,
          metadata: group.launchTemplate && 'value' in reader ? await settle(reader.value.launchTemplateMetadata(group.launchTemplate)) : null,
        }))).then((value) => ({ value })),
    settle(sources.iam().then((iam) => iam.listRoleDetails())),
    settle(sources.kube().then((kube) => kube.listServiceAccounts())),
    settle(Promise.all([sources.kube(), sources.workloads()]).then(([kube, workloads]) => readPodRunners(kube, workloads))),
    sources.podIdentity
      ? settle(sources.podIdentity().then((p) => p.listAssociations(target.cluster)).then((list) => list.map((a) => `${a.namespace}/${a.serviceAccount}`)))
      : Promise.resolve(undefined),
  ]);
  const documents = async (arns: string[]): Promise<Map<string, Read<unknown>>> => {
    const unique = [...new Set(arns)];
    const read = await Promise.all(unique.map((arn) => ('error' in reader ? Promise.resolve({ error: reader.error }) : settle(reader.value.policyDocument(arn)))));
    return new Map(unique.map((arn, i) => [arn, read[i]!]));
  };
  const nodeRoleArns = 'value' in nodegroups ? [...new Set(nodegroups.value.map((g) => g.nodeRoleArn).filter(Boolean))] : [];
  const iam = await sources.iam();
  const nodeRoles = new Map<string, { role: Read<RoleState | null>; policyDocuments: Map<string, Read<unknown>> }>();
  await Promise.all(nodeRoleArns.map(async (arn) => {
    const listed = 'value' in accountRoles ? accountRoles.value.find((r) => r.arn === arn) : undefined;
    const role: Read<RoleState | null> = listed ? { value: listed } : await settle(iam.getRole(arn.split('/').pop() ?? arn));
    nodeRoles.set(arn, { role, policyDocuments: await documents('value' in role && role.value ? role.value.attachedPolicyArns : []) });
  }));
  // The IRSA roles' managed policies: a node policy is "carried" when its statements are found among theirs.
  const irsaArns = new Set('value' in serviceAccounts ? serviceAccounts.value.map((sa) => sa.annotations[ROLE_ARN_ANNOTATION]).filter(Boolean) : []);
  const irsaRoles = 'value' in accountRoles ? accountRoles.value.filter((r) => irsaArns.has(r.arn)) : [];
  const irsaPolicyDocuments = await documents(irsaRoles.flatMap((r) => r.attachedPolicyArns));
  const input: ClosePathsInput = { ...target, nodegroups, nodeRoles, accountRoles, serviceAccounts, runners, irsaPolicyDocuments, ...(podIdentityServiceAccounts ? { podIdentityServiceAccounts } : {}) };
  return { ...planClosePaths(input), input };
}
