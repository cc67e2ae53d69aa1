// Reads what core/only-its-role.ts decides from: the cluster's nodegroups and their launch
// templates, the node roles and their policies, the account's roles, the ServiceAccount's
// hostNetwork workloads, and the Secrets with AWS keys it may read (asked of the apiserver).
// Every read is settled on its own: a denied one becomes `!` with the permission, never a stop.

import { onlyItsRole, settleRead, type OnlyItsRoleInput, type OnlyItsRoleReport, type NodeRoleView, type NodegroupView, type Read, type SecretAccess } from '../core/only-its-role.ts';
import { isCredentialKeyName } from '../core/audit.ts';
import { podServiceAccount } from '../core/credential-sources.ts';
import type { RoleState } from '../core/state.ts';
import type { AccessReviewer, IamGateway, KubeInspector, NodeAccessReader, WorkloadGateway } from '../ports.ts';

const settle = settleRead;

export interface OnlyItsRoleSources {
  nodeAccess(): Promise<NodeAccessReader>;
  iam(): Promise<IamGateway>;
  inspector(): Promise<KubeInspector>;
  workloads(): Promise<WorkloadGateway>;
  accessReviewer(): Promise<AccessReviewer>;
}

export interface OnlyItsRoleTarget {
  /** The EKS cluster name; null for --issuer-url (no nodegroups to read). */
  cluster: string | null;
  namespace: string;
  name: string;
  providerArn: string;
  account: string;
  targetArgs: string;
  ownRole: RoleState | null;
}

/** Reads the policy documents of these managed policies (each settled on its own). */
async function documents(reader: Read<NodeAccessReader>, arns: string[]): Promise<Map<string, Read<unknown>>> {
  const unique = [...new Set(arns)];
  const read = await Promise.all(unique.map((arn) => ('error' in reader ? Promise.resolve({ error: reader.error }) : settle(reader.value.policyDocument(arn)))));
  return new Map(unique.map((arn, i) => [arn, read[i]!]));
}

export async function readOnlyItsRole(sources: OnlyItsRoleSources, target: OnlyItsRoleTarget): Promise<OnlyItsRoleInput> {
  const { namespace, name } = target;
  const reader = await settle(sources.nodeAccess());
  const nodegroupStates = target.cluster === null
    ? ({ error: 'not an EKS cluster (--issuer-url): irsa cannot list its nodes' } as Read<never>)
    : 'error' in reader ? reader : await settle(reader.value.listNodegroups(target.cluster));

  const [nodegroups, accountRoles, hostNetwork, secrets, ownPolicyDocuments] = await Promise.all([
    // Each nodegroup's launch template version, as the nodegroup names it.
    'error' in nodegroupStates
      ? Promise.resolve(nodegroupStates)
      : Promise.all(nodegroupStates.value.map(async (group): Promise<NodegroupView> => ({
          name: group.name,
          nodeRoleArn: group.nodeRoleArn,
          launchTemplate: group.launchTemplate,
          metadata: group.launchTemplate && 'value' in reader ? await settle(reader.value.launchTemplateMetadata(group.launchTemplate)) : null,
        }))).then((value) => ({ value })),
    settle(sources.iam().then((iam) => iam.listRoleDetails())),
    // hostNetwork pods share the node's network namespace: no extra hop to IMDS.
    settle(sources.workloads().then((w) => w.listPodTemplates(namespace)).then((templates) =>
      templates
        .filter((t) => podServiceAccount(t.template.spec) === name && (t.template.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork === true)
        .map((t) => `${t.kind.toLowerCase()}/${t.namespace}/${t.name}`),
    )),
    readSecrets(sources, namespace, name),
    documents(reader, target.ownRole?.attachedPolicyArns ?? []),
  ]);

  const nodeRoleArns = 'value' in nodegroups ? [...new Set(nodegroups.value.map((g) => g.nodeRoleArn).filter(Boolean))] : [];
  const iam = await sources.iam();
  const nodeRoles = new Map<string, NodeRoleView>();
  await Promise.all(nodeRoleArns.map(async (arn) => {
    // The account's role list has it already (one call for all); else ask for it alone.
    const listed = 'value' in accountRoles ? accountRoles.value.find((r) => r.arn === arn) : undefined;
    const role: Read<RoleState | null> = listed ? { value: listed } : await settle(iam.getRole(arn.split('/').pop() ?? arn));
    const policyDocuments = await documents(reader, 'value' in role && role.value ? role.value.attachedPolicyArns : []);
    nodeRoles.set(arn, { role, policyDocuments });
  }));

  return {
    namespace, name, providerArn: target.providerArn, account: target.account, targetArgs: target.targetArgs,
    ownRole: target.ownRole, ownPolicyDocuments, nodegroups, nodeRoles, hostNetwork, accountRoles, secrets,
  };
}

/**
 * Secrets with AWS keys (every namespace) and whether the ServiceAccount may read each: one review
 * of `list secrets` per namespace (a list returns the values too), then `get` of each by name.
 */
async function readSecrets(sources: OnlyItsRoleSources, namespace: string, name: string): Promise<Read<SecretAccess[]>> {
  const all = await settle(sources.inspector().then((i) => i.listSecrets()));
  if ('error' in all) return all;
  const withKeys = all.value.filter((s) => s.accessKeyIds.length > 0 || s.keys.some(isCredentialKeyName));
  if (withKeys.length === 0) return { value: [] };
  const reviewer = await settle(sources.accessReviewer());
  const user = `system:serviceaccount:${namespace}:${name}`;
  // The groups the apiserver gives every ServiceAccount token.
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
  const ask = (ns: string, verb: string, secret?: string): Promise<Read<boolean>> =>
    'error' in reviewer ? Promise.resolve(reviewer) : settle(reviewer.value.allowed({ user, groups, namespace: ns, verb, group: '', resource: 'secrets', ...(secret ? { name: secret } : {}) }));
  const namespaces = [...new Set(withKeys.map((s) => s.namespace))];
  const listable = new Map(await Promise.all(namespaces.map(async (ns) => [ns, await ask(ns, 'list')] as const)));
  const value = await Promise.all(withKeys.map(async (secret): Promise<SecretAccess> => {
    const list = listable.get(secret.namespace)!;
    if ('value' in list && list.value) return { secret, readable: { value: true } };
    const get = await ask(secret.namespace, 'get', secret.name);
    return { secret, readable: 'error' in list && !('value' in get && get.value) ? list : get };
  }));
  return { value };
}

/** doctor's step 7: read, decide, and the exit code it adds (a path found fails the question). */
export async function onlyItsRoleSection(sources: OnlyItsRoleSources, target: OnlyItsRoleTarget): Promise<{ report: OnlyItsRoleReport; exitCode: number }> {
  const report = onlyItsRole(await readOnlyItsRole(sources, target));
  return { report, exitCode: report.verdict === 'extra-paths' ? 1 : 0 };
}
