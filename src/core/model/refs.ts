// Typed references to what irsa plans over, and the change ids derived from them. An id is built
// here from a reference and never parsed back: code that needs a namespace or a name reads it from
// the reference or the change's value, not from the id string.
//
// AWS resources are named by their ARN (globally unique). Kubernetes objects are named inside a
// cluster, so their ids are cluster-qualified: `<cluster>/<namespace>/<name>`. A plan spans one
// cluster today; the qualification is what lets one plan (and one saved plan) span several.

/**
 * A cluster, by the name irsa knows it under: the EKS cluster name (--cluster, irsa.yaml
 * cluster.name) or, for a self-managed cluster, the label derived from its issuer
 * (core/binding-input.ts clusterLabel). The same name goes into role names and ownership tags.
 */
export interface ClusterRef {
  name: string;
}

export interface NamespaceRef {
  cluster: ClusterRef;
  name: string;
}

export interface ServiceAccountRef {
  cluster: ClusterRef;
  namespace: string;
  name: string;
}

/** A workload object (Deployment, StatefulSet, DaemonSet, CronJob, Job, Pod). */
export interface WorkloadObjectRef {
  cluster: ClusterRef;
  kind: string;
  namespace: string;
  name: string;
}

export interface SecretRef {
  cluster: ClusterRef;
  namespace: string;
  name: string;
}

export interface RoleRef {
  arn: string;
}

export interface OidcProviderRef {
  arn: string;
}

/** The cluster part of a change id, and the `cluster` field of a change. */
export const clusterKey = (cluster: ClusterRef): string => cluster.name;

export const clusterRef = (name: string): ClusterRef => ({ name });

/** `<namespace>/<name>` as people read it inside one cluster (messages, notes). */
export const serviceAccountLabel = (ref: Pick<ServiceAccountRef, 'namespace' | 'name'>): string => `${ref.namespace}/${ref.name}`;

/** Change ids, one builder per kind. */
export const changeIds = {
  oidcProvider: (ref: OidcProviderRef): string => ref.arn,
  role: (ref: RoleRef): string => ref.arn,
  attachment: (role: RoleRef, policyArn: string): string => `${role.arn}#${policyArn}`,
  inlinePolicy: (role: RoleRef, policyName: string): string => `${role.arn}#inline/${policyName}`,
  namespace: (ref: NamespaceRef): string => `${clusterKey(ref.cluster)}/${ref.name}`,
  serviceAccount: (ref: ServiceAccountRef): string => `${clusterKey(ref.cluster)}/${ref.namespace}/${ref.name}`,
  /** `<cluster>/<namespace>/<kind>/<name>`, kind in lower case (as `kubectl rollout restart` names it). */
  workloadRestart: (ref: WorkloadObjectRef): string => `${clusterKey(ref.cluster)}/${ref.namespace}/${ref.kind.toLowerCase()}/${ref.name}`,
  /** `<cluster>/<Kind>/<namespace>/<name>`. */
  workloadTemplate: (ref: WorkloadObjectRef): string => `${clusterKey(ref.cluster)}/${ref.kind}/${ref.namespace}/${ref.name}`,
  secret: (ref: SecretRef): string => `${clusterKey(ref.cluster)}/${ref.namespace}/${ref.name}`,
  /** A ConfigMap: the same shape of reference as a Secret's. */
  configMap: (ref: SecretRef): string => `${clusterKey(ref.cluster)}/${ref.namespace}/${ref.name}`,
};
