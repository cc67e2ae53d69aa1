// Where EKS Pod Identity cannot give a pod credentials, decided from what the engine read about
// the cluster's compute. Pure.
//
// Sources (Amazon EKS User Guide, "Learn how EKS Pod Identity grants pods access to AWS services",
// section "EKS Pod Identity considerations" / restrictions):
// - EKS Pod Identity is available on Amazon EKS clusters only: not on self-managed Kubernetes
//   (irsa's --issuer-url), EKS Anywhere, or Red Hat OpenShift on AWS;
// - the EKS Pod Identity Agent runs as a DaemonSet on Linux EC2 nodes: pods on AWS Fargate and on
//   Windows nodes get no credentials from it;
// - it is not available in the China regions (and not on Outposts, which irsa cannot tell from the
//   API it reads: said in docs/irsa-or-pod-identity.md).
// Fargate profiles (User Guide, "Define which Pods use AWS Fargate when launched"): a pod runs on
// Fargate when a selector's namespace matches its namespace and all the selector's labels are on
// the pod; namespace and label values may use the wildcards `*` and `?`.

/** One selector of a Fargate profile. */
export interface FargateSelector {
  profile: string;
  namespace: string;
  labels: Record<string, string>;
}

/** A managed nodegroup and its AMI type (DescribeNodegroup amiType). */
export interface NodegroupAmi {
  name: string;
  amiType: string | null;
}

export interface Unavailable {
  /** `eks-cluster:<name>`, `fargate-profile:<cluster>/<profile>`, `nodegroup:<cluster>/<name>`. */
  resource: string;
  reason: string;
}

const glob = (pattern: string, value: string): boolean => {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
};

/** Cluster-wide reasons: not an EKS cluster, a China region. */
export function clusterUnavailability(input: { cluster: string; eks: boolean; region: string }): Unavailable[] {
  const out: Unavailable[] = [];
  if (!input.eks) {
    out.push({ resource: `cluster:${input.cluster}`, reason: 'it is not an EKS cluster (it was given by --issuer-url); EKS Pod Identity runs only on Amazon EKS' });
  }
  if (/^cn-/.test(input.region)) out.push({ resource: `eks-cluster:${input.cluster}`, reason: `EKS Pod Identity is not available in the China regions (${input.region})` });
  return out;
}

/** Fargate profiles whose selectors take pods of this namespace onto Fargate (no agent there). */
export function fargateUnavailability(cluster: string, namespace: string, selectors: FargateSelector[]): Unavailable[] {
  const out: Unavailable[] = [];
  for (const selector of selectors) {
    if (!glob(selector.namespace, namespace)) continue;
    const labels = Object.entries(selector.labels).map(([k, v]) => `${k}=${v}`);
    out.push({
      resource: `fargate-profile:${cluster}/${selector.profile}`,
      reason: labels.length === 0
        ? `Fargate profile ${selector.profile} runs every pod of namespace ${namespace} on Fargate, where the EKS Pod Identity Agent does not run`
        : `Fargate profile ${selector.profile} runs the pods of namespace ${namespace} labelled ${labels.join(', ')} on Fargate, where the EKS Pod Identity Agent does not run`,
    });
  }
  return out;
}

const isWindows = (group: NodegroupAmi) => /^WINDOWS/i.test(group.amiType ?? '');

/**
 * Windows nodegroups: the agent is a Linux DaemonSet. When every managed nodegroup is Windows, no
 * pod can get credentials: a blocker. When only some are, pods scheduled there get none: a
 * warning naming them and the fix (a nodeSelector kubernetes.io/os: linux), since irsa cannot know
 * where the scheduler will put them.
 */
export function nodegroupAvailability(cluster: string, nodegroups: NodegroupAmi[]): { unavailable: Unavailable[]; warnings: string[] } {
  const windows = nodegroups.filter(isWindows);
  if (windows.length === 0) return { unavailable: [], warnings: [] };
  const names = windows.map((g) => `${g.name} (${g.amiType})`).join(', ');
  if (windows.length === nodegroups.length) {
    return { unavailable: [{ resource: `nodegroup:${cluster}/${windows[0]!.name}`, reason: `every managed nodegroup of ${cluster} runs Windows (${names}); the EKS Pod Identity Agent runs only on Linux nodes` }], warnings: [] };
  }
  return {
    unavailable: [],
    warnings: [`${cluster} has Windows nodegroups (${names}): pods scheduled there get no EKS Pod Identity credentials; keep the ServiceAccount's pods on Linux nodes (nodeSelector kubernetes.io/os: linux)`],
  };
}
