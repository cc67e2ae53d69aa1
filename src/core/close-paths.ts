// Closing the old credential paths (irsa close-paths, issue 23): once a cluster's workloads have
// their own roles, what a compromised pod can still reach besides its role is closed, as a plan.
// Pure: engine/close-paths.ts reads, this decides every change, blocker and note, the one renderer
// shows it, apply re-checks each change before its write (core/resources/<kind>.ts).
//
// Three closings (each can be chosen with --only):
//   kube2iam          a role whose trust names the node role (kube2iam assumes it with the node's
//                     credentials) loses that principal once no workload, pod template or running
//                     pod of the cluster carries iam.amazonaws.com/role for it — that scan is the
//                     proof, shown in the plan; the node role's inline sts:AssumeRole grant loses the
//                     resources that covered only retired roles.
//   node-permissions  the node role loses the managed and inline policies the cluster's IRSA roles
//                     now carry (the same managed policy, or every Allow statement found among the
//                     IRSA roles' statements). Never the worker-node policies (only-its-role.ts
//                     WORKER_NODE_POLICIES). While any workload without its own role runs in the
//                     cluster, each removal is blocked naming them: irsa cannot tell which AWS calls
//                     they make, so it never removes what they may still use.
//   imds              a managed nodegroup with a launch template gets a version requiring IMDSv2 with
//                     hop limit 1 and moves to it; nodes irsa does not own get the exact change as a
//                     note; hostNetwork workloads (which reach IMDS whatever the hop limit) are named.
// A read that was denied makes its closing undecided (`!` with the permission), never "nothing to close".

import { stringLike } from './trust-eval.ts';
import { imdsReachable, isWorkerNodePolicy, type MetadataOptions, type Read } from './only-its-role.ts';
import type { Blocker, Change, Plan } from './plan.ts';
import { changeKey, emptyPlan } from './plan.ts';
import type { RoleState, ServiceAccountState } from './state.ts';
import { canonicalPolicy } from './trust-policy.ts';
import { planNodeRoleTrust, withoutAwsPrincipal } from './resources/node-role-trust.ts';
import { planNodegroupMetadata } from './resources/nodegroup-metadata.ts';
import { ROLE_ARN_ANNOTATION } from './resources/service-account.ts';

export type Closing = 'kube2iam' | 'node-permissions' | 'imds';
export const CLOSINGS: Closing[] = ['kube2iam', 'node-permissions', 'imds'];

/** Something that runs pods in the cluster: a workload's pod template, or a running pod. */
export interface PodRunner {
  /** `deployment/ns/name`, `pod/ns/name` … as people read it. */
  ref: string;
  namespace: string;
  serviceAccount: string;
  /** The value of iam.amazonaws.com/role on its pod template or pod, or null. */
  kube2iamRole: string | null;
  hostNetwork: boolean;
  /** A running pod whose owner is one of the templates listed: counted once, through its owner. */
  ownedByListed: boolean;
}

export interface NodegroupClosingView {
  name: string;
  nodeRoleArn: string;
  launchTemplate: { id: string | null; name: string | null; version: string | null } | null;
  /** The version the nodegroup runs and its MetadataOptions (null: no launch template). */
  metadata: Read<MetadataOptions & { version: number }> | null;
}

export interface ClosePathsInput {
  cluster: string;
  region: string;
  account: string;
  only: Closing[];
  nodegroups: Read<NodegroupClosingView[]>;
  /** Node role ARN → the role, and its managed policies' documents. */
  nodeRoles: Map<string, { role: Read<RoleState | null>; policyDocuments: Map<string, Read<unknown>> }>;
  accountRoles: Read<RoleState[]>;
  serviceAccounts: Read<ServiceAccountState[]>;
  runners: Read<PodRunner[]>;
  /** Managed policy ARN → its document, for the IRSA roles' managed policies. */
  irsaPolicyDocuments: Map<string, Read<unknown>>;
  /** ServiceAccounts (`namespace/name`) with an EKS Pod Identity association: their pods have a role of their own too. */
  podIdentityServiceAccounts?: Read<string[]>;
  /**
   * irsa.yaml: ServiceAccounts (`namespace/name`) the same plan binds. Their workloads count as
   * having their own role (no blocker for them), and every closing change waits for `bindingChanges`
   * (keys): apply never runs a closing whose bindings failed.
   */
  pending?: { serviceAccounts: string[]; bindingChanges: string[] };
}

export interface ClosePathsResult {
  plan: Plan;
  /** Why each retirement is safe, shown with the plan (the kube2iam scan). */
  proofs: string[];
  /** Closings irsa could not plan: a read denied (with the permission to grant) or nodes it cannot see. */
  undecided: string[];
}

/**
 * AWS managed policies that agents on the node itself use (the SSM agent, the CloudWatch agent):
 * not a pod's permission that moved to IRSA, so never removed from the node role even when an IRSA
 * role happens to carry the same policy (doctor still lists them: pods reach them through IMDS).
 */
export const NODE_AGENT_POLICIES = ['AmazonSSMManagedInstanceCore', 'CloudWatchAgentServerPolicy'];
const isNodeAgentPolicy = (arn: string) => {
  const match = /^arn:[^:]+:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match !== null && NODE_AGENT_POLICIES.includes(match[1]!);
};

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const roleNameOf = (arn: string) => arn.split('/').pop() ?? arn;
const policyNameOf = (arn: string) => arn.split('/').pop() ?? arn;
const list = (items: string[], max = 8) => items.slice(0, max).join(', ') + (items.length > max ? `, … (${items.length} in all)` : '');

/** Whether a kube2iam annotation value names this role: a name, a path/name or a whole ARN (kube2iam prefixes a base ARN). */
export function annotationNamesRole(value: string, role: Pick<RoleState, 'arn' | 'name' | 'path'>): boolean {
  const v = value.trim();
  if (v.startsWith('arn:')) return v === role.arn;
  const pathName = `${role.path.replace(/^\//, '')}${role.name}`;
  return v === role.name || v.replace(/^\//, '') === pathName;
}

/** Allow statements of an identity policy as canonical JSON (for "carried by an IRSA role"). */
function allowStatements(document: unknown): string[] {
  return asList((document as { Statement?: unknown } | null)?.Statement)
    .filter((s) => !!s && typeof s === 'object' && (s as Record<string, unknown>)['Effect'] === 'Allow')
    .map((s) => JSON.stringify(canonicalPolicy(s)));
}

/** A statement that only grants sts:AssumeRole (kube2iam's grant on the node role). */
function isAssumeGrant(statement: Record<string, unknown>): boolean {
  if (statement['Effect'] !== 'Allow' || statement['NotAction'] !== undefined || statement['NotResource'] !== undefined) return false;
  const actions = asList(statement['Action']);
  return actions.length > 0 && actions.every((a) => typeof a === 'string' && a.toLowerCase() === 'sts:assumerole');
}

/** Whether an Allow statement of the trust admits the whole account (its root, its id, or anyone): the grant alone then lets the node role in. */
function trustsAccount(trust: unknown, account: string): boolean {
  return asList((trust as { Statement?: unknown } | null)?.Statement).some((raw) => {
    const s = raw as Record<string, unknown>;
    if (!s || s['Effect'] !== 'Allow') return false;
    const principal = s['Principal'];
    if (principal === '*') return true;
    const aws = principal && typeof principal === 'object' ? asList((principal as Record<string, unknown>)['AWS']) : [];
    return aws.some((p) => p === '*' || p === account || (typeof p === 'string' && p.endsWith(`:iam::${account}:root`)));
  });
}

export function planClosePaths(input: ClosePathsInput): ClosePathsResult {
  const plan = emptyPlan();
  const proofs: string[] = [];
  const undecided: string[] = [];
  const on = (c: Closing) => input.only.includes(c);
  const changes: Change[] = [];
  const blockers: Blocker[] = [];
  const clusterArgs = `--cluster ${input.cluster} --region ${input.region}`;

  const groups = 'value' in input.nodegroups ? input.nodegroups.value : [];
  if ('error' in input.nodegroups) undecided.push(`! the nodegroups were not read (${input.nodegroups.error}): grant eks:ListNodegroups and eks:DescribeNodegroup`);
  const nodeRoleArns = [...new Set(groups.map((g) => g.nodeRoleArn).filter(Boolean))];
  if ('value' in input.nodegroups && groups.length === 0 && (on('kube2iam') || on('node-permissions'))) {
    undecided.push(`! cluster ${input.cluster} has no managed nodegroups: irsa cannot tell its node role (self-managed nodes, Karpenter, Fargate) — check the instance profile's role by hand: irsa doctor lists what it holds`);
  }
  const runners = 'value' in input.runners ? input.runners.value : null;
  const serviceAccounts = 'value' in input.serviceAccounts ? input.serviceAccounts.value : null;
  const accountRoles = 'value' in input.accountRoles ? input.accountRoles.value : null;

  // Workloads that run without a role of their own: their pods' AWS calls (if any) use the node role.
  const ownRole = new Set([...(serviceAccounts ?? []).filter((sa) => sa.annotations[ROLE_ARN_ANNOTATION]).map((sa) => `${sa.namespace}/${sa.name}`), ...(input.pending?.serviceAccounts ?? []),
    // Not read (no EKS Pod Identity permission): their workloads count as without a role, which only blocks more.
    ...(input.podIdentityServiceAccounts && 'value' in input.podIdentityServiceAccounts ? input.podIdentityServiceAccounts.value : [])]);
  const withoutRole = (runners ?? []).filter((r) => !r.ownedByListed && r.kube2iamRole === null && !ownRole.has(`${r.namespace}/${r.serviceAccount}`));

  // ---- kube2iam: retire old roles' trust in the node role, then the node role's grant for them ----
  const retired = new Map<string, RoleState[]>(); // node role ARN → roles retired in this plan
  if (on('kube2iam')) {
    if (!runners) undecided.push(`! kube2iam: the cluster's workloads and pods were not read (${'error' in input.runners ? input.runners.error : ''}): grant list on pods, deployments, statefulsets, daemonsets, jobs and cronjobs in every namespace — without that scan no trust is retired`);
    if (!accountRoles && nodeRoleArns.length > 0) undecided.push(`! kube2iam: the account's roles were not read (${'error' in input.accountRoles ? input.accountRoles.error : ''}): grant iam:GetAccountAuthorizationDetails`);
    for (const nodeArn of nodeRoleArns) {
      if (!runners || !accountRoles) break;
      const trusting = accountRoles.filter((r) => r.arn !== nodeArn && withoutAwsPrincipal(r.trustPolicy, nodeArn).changed);
      const done: RoleState[] = [];
      for (const role of trusting) {
        const users = runners.filter((r) => r.kube2iamRole !== null && annotationNamesRole(r.kube2iamRole, role)).map((r) => r.ref);
        if (users.length > 0) {
          plan.notes.push(`role ${role.name} keeps its trust in node role ${roleNameOf(nodeArn)}: still used through kube2iam by ${list(users)} (move them with irsa create-sa-role … --migrate-kube2iam, then run close-paths again)`);
          continue;
        }
        const change = planNodeRoleTrust(role, nodeArn, `kube2iam leftover: no workload, pod template or running pod of ${input.cluster} carries iam.amazonaws.com/role for it`);
        if (!change) {
          plan.notes.push(`role ${role.name} trusts only node role ${roleNameOf(nodeArn)}: removing it would leave no statement — delete the role once nothing else assumes it (aws iam delete-role --role-name ${role.name}, after detaching its policies)`);
          continue;
        }
        proofs.push(`${role.name}: no workload, pod template or running pod of cluster ${input.cluster} carries iam.amazonaws.com/role for it (${runners.length} pod templates and pods scanned in every namespace)`);
        changes.push(change);
        done.push(role);
      }
      retired.set(nodeArn, done);
      if (done.length > 0) plan.warnings.push(`the proof covers cluster ${input.cluster} only: if node role ${roleNameOf(nodeArn)} also serves nodes of another cluster running kube2iam, check that cluster's pods before applying`);
    }
  }

  // ---- the node role's grant: sts:AssumeRole resources that cover only retired roles ----
  for (const nodeArn of nodeRoleArns) {
    const done = retired.get(nodeArn) ?? [];
    const view = input.nodeRoles.get(nodeArn);
    if (done.length === 0 || !view || !('value' in view.role) || !view.role.value || !accountRoles) continue;
    const node = view.role.value;
    const retiredArns = new Set(done.map((r) => r.arn));
    const removable = (pattern: string) => {
      const covered = accountRoles.filter((r) => stringLike(pattern, r.arn) && r.arn !== node.arn);
      // Only what covers a retired role and nothing that still admits the node role by name or through the account.
      return covered.some((r) => retiredArns.has(r.arn)) && covered.every((r) => retiredArns.has(r.arn) || (!withoutAwsPrincipal(r.trustPolicy, nodeArn).changed && !trustsAccount(r.trustPolicy, input.account)));
    };
    for (const [policyName, document] of Object.entries(node.inlinePolicies)) {
      const statements = asList((document as { Statement?: unknown })?.Statement);
      let changed = false;
      const kept: unknown[] = [];
      for (const raw of statements) {
        const s = raw as Record<string, unknown>;
        if (!s || typeof s !== 'object' || !isAssumeGrant(s)) { kept.push(raw); continue; }
        const resources = asList(s['Resource']).filter((r): r is string => typeof r === 'string');
        const rest = resources.filter((r) => !removable(r));
        if (rest.length === resources.length) { kept.push(raw); continue; }
        changed = true;
        if (rest.length > 0) kept.push({ ...s, Resource: rest.length === 1 && !Array.isArray(s['Resource']) ? rest[0] : rest });
      }
      if (!changed) continue;
      const id = `${node.arn}#inline/${policyName}`;
      const before = { roleName: node.name, policyName, document };
      const reason = `kube2iam grant: sts:AssumeRole on ${done.map((r) => r.name).join(', ')}, retired above`;
      const dependsOn = done.map((r) => changeKey({ kind: 'node-role-trust', id: r.arn }));
      changes.push(kept.length === 0
        ? { kind: 'inline-policy', id, action: 'delete', before, after: null, dependsOn, reason }
        : { kind: 'inline-policy', id, action: 'update', before, after: { ...before, document: { ...(document as object), Statement: kept } }, dependsOn, reason });
    }
    for (const policyArn of node.attachedPolicyArns) {
      const doc = view.policyDocuments.get(policyArn);
      if (!doc || !('value' in doc)) continue;
      const grants = asList((doc.value as { Statement?: unknown })?.Statement).filter((s) => !!s && typeof s === 'object' && isAssumeGrant(s as Record<string, unknown>));
      if (grants.some((s) => asList((s as Record<string, unknown>)['Resource']).some((r) => typeof r === 'string' && done.some((d) => stringLike(r, d.arn))))) {
        plan.notes.push(`node role ${node.name}'s managed policy ${policyNameOf(policyArn)} grants sts:AssumeRole on retired roles: irsa does not edit managed policies (others may share them) — remove those resources from it, or detach it: aws iam detach-role-policy --role-name ${node.name} --policy-arn ${policyArn}`);
      }
    }
  }

  // ---- node permissions the cluster's IRSA roles now carry ----
  if (on('node-permissions')) {
    if (!serviceAccounts) undecided.push(`! node-permissions: the ServiceAccounts were not read (${'error' in input.serviceAccounts ? input.serviceAccounts.error : ''}): grant list on serviceaccounts in every namespace`);
    if (!runners) undecided.push(`! node-permissions: the cluster's workloads and pods were not read (${'error' in input.runners ? input.runners.error : ''}): grant list on pods and workloads in every namespace — without it no permission is removed`);
    if (!accountRoles) undecided.push(`! node-permissions: the account's roles were not read (${'error' in input.accountRoles ? input.accountRoles.error : ''}): grant iam:GetAccountAuthorizationDetails`);
    const irsaRoles = serviceAccounts && accountRoles
      ? [...new Set(serviceAccounts.map((sa) => sa.annotations[ROLE_ARN_ANNOTATION]).filter((a): a is string => !!a))].flatMap((arn) => accountRoles.filter((r) => r.arn === arn))
      : [];
    const irsaManaged = new Set(irsaRoles.flatMap((r) => r.attachedPolicyArns));
    const irsaStatements = new Set(irsaRoles.flatMap((r) => [
      ...Object.values(r.inlinePolicies).flatMap(allowStatements),
      ...r.attachedPolicyArns.flatMap((p) => { const d = input.irsaPolicyDocuments.get(p); return d && 'value' in d ? allowStatements(d.value) : []; }),
    ]));
    const carriedBy = (statements: string[]) => statements.length > 0 && statements.every((s) => irsaStatements.has(s));
    for (const nodeArn of serviceAccounts && runners && accountRoles ? nodeRoleArns : []) {
      const view = input.nodeRoles.get(nodeArn);
      if (!view || 'error' in view.role) {
        undecided.push(`! node-permissions: node role ${roleNameOf(nodeArn)} was not read${view && 'error' in view.role ? ` (${view.role.error})` : ''}: grant iam:GetRole, iam:ListAttachedRolePolicies, iam:ListRolePolicies, iam:GetRolePolicy`);
        continue;
      }
      const node = view.role.value;
      if (!node) continue;
      const removals: Array<{ change: Change; label: string }> = [];
      for (const policyArn of node.attachedPolicyArns) {
        if (isWorkerNodePolicy(policyArn)) continue;
        if (isNodeAgentPolicy(policyArn)) {
          plan.notes.push(`node role ${node.name} keeps ${policyNameOf(policyArn)}: an agent on the node uses it (irsa never removes it)`);
          continue;
        }
        const doc = view.policyDocuments.get(policyArn);
        const carried = irsaManaged.has(policyArn) || (!!doc && 'value' in doc && carriedBy(allowStatements(doc.value)));
        if (!carried) {
          if (doc && 'error' in doc && !irsaManaged.has(policyArn)) undecided.push(`! node-permissions: policy ${policyNameOf(policyArn)} of ${node.name} was not read (${doc.error}): grant iam:GetPolicy and iam:GetPolicyVersion`);
          else plan.notes.push(`node role ${node.name} keeps ${policyNameOf(policyArn)}: no IRSA role of ${input.cluster} carries it (irsa removes only what moved to the workloads' own roles)`);
          continue;
        }
        const value = { roleName: node.name, policyArn };
        removals.push({ label: `managed ${policyNameOf(policyArn)}`, change: { kind: 'role-policy-attachment', id: `${node.arn}#${policyArn}`, action: 'delete', before: value, after: null, dependsOn: [], reason: `the cluster's IRSA roles carry ${policyNameOf(policyArn)} now` } });
      }
      for (const [policyName, document] of Object.entries(node.inlinePolicies)) {
        // kube2iam's grant is retired with its roles above, never as a "moved" permission.
        if (asList((document as { Statement?: unknown })?.Statement).every((s) => !!s && typeof s === 'object' && isAssumeGrant(s as Record<string, unknown>))) continue;
        if (changes.some((c) => c.kind === 'inline-policy' && c.id === `${node.arn}#inline/${policyName}`)) continue;
        if (!carriedBy(allowStatements(document))) {
          plan.notes.push(`node role ${node.name} keeps inline ${policyName}: no IRSA role of ${input.cluster} carries its statements (irsa removes only what moved to the workloads' own roles)`);
          continue;
        }
        removals.push({ label: `inline ${policyName}`, change: { kind: 'inline-policy', id: `${node.arn}#inline/${policyName}`, action: 'delete', before: { roleName: node.name, policyName, document }, after: null, dependsOn: [], reason: `the cluster's IRSA roles carry every statement of ${policyName} now` } });
      }
      for (const { change, label } of removals) {
        changes.push(change);
        if (withoutRole.length === 0) continue;
        const first = withoutRole[0]!;
        blockers.push({
          code: 'node-policy-still-needed',
          resource: changeKey(change),
          field: '--only',
          message: `node role ${node.name}'s ${label} may still be used by workloads without a role of their own: ${list(withoutRole.map((r) => `${r.ref} (ServiceAccount ${r.serviceAccount})`))} — their pods get the node role's credentials, and irsa cannot tell which AWS calls they make.`,
          fix: `give each its own role (e.g. irsa create-sa-role ${clusterArgs} -n ${first.namespace} --name ${first.serviceAccount} --workload ${first.ref.split('/')[0]}/${first.ref.split('/').slice(2).join('/')} with the permissions it needs), then run close-paths again; or close the other paths first: --only kube2iam,imds`,
        });
      }
    }
  }

  // ---- IMDS: IMDSv2 required with hop limit 1 ----
  if (on('imds')) {
    const hostNetwork = (runners ?? []).filter((r) => r.hostNetwork && !r.ownedByListed).map((r) => r.ref);
    if ('value' in input.nodegroups && groups.length === 0) {
      plan.notes.push(`cluster ${input.cluster} has no managed nodegroups: irsa does not own its nodes. Require IMDSv2 with hop limit 1 where they are launched (a launch template's MetadataOptions HttpTokens required, HttpPutResponseHopLimit 1; Karpenter: EC2NodeClass metadataOptions httpTokens: required, httpPutResponseHopLimit: 1) and on running instances: aws ec2 modify-instance-metadata-options --region ${input.region} --instance-id <id> --http-tokens required --http-put-response-hop-limit 1 --http-endpoint enabled`);
      undecided.push(`! imds: no managed nodegroups in ${input.cluster}: irsa cannot change or read the nodes' metadata options (the note says the change to make)`);
    }
    for (const group of groups) {
      if (!group.launchTemplate || !group.metadata) {
        plan.notes.push(`nodegroup ${group.name} runs EKS's own launch template, which irsa cannot change (a managed nodegroup cannot move to a launch template after creation): create a launch template with MetadataOptions HttpTokens required, HttpPutResponseHopLimit 1 and a new nodegroup on it (aws eks create-nodegroup --cluster-name ${input.cluster} --launch-template id=<id>,version=<n> …), then delete ${group.name}; meanwhile on its instances: aws ec2 modify-instance-metadata-options --region ${input.region} --instance-id <id> --http-tokens required --http-put-response-hop-limit 1`);
        undecided.push(`! imds: nodegroup ${group.name} has no launch template of yours (the note says the change to make)`);
        continue;
      }
      if ('error' in group.metadata) {
        undecided.push(`! imds: the launch template of nodegroup ${group.name} was not read (${group.metadata.error}): grant ec2:DescribeLaunchTemplateVersions`);
        continue;
      }
      const { version, ...metadata } = group.metadata.value;
      if (imdsReachable(metadata, false).reachable === false) continue;
      changes.push(planNodegroupMetadata(
        { cluster: input.cluster, nodegroup: group.name, nodeRoleArn: group.nodeRoleArn, launchTemplate: { id: group.launchTemplate.id, name: group.launchTemplate.name }, version, metadata },
        `pods reach node role ${roleNameOf(group.nodeRoleArn)} through IMDS (${imdsReachable(metadata, false).why}); EKS replaces the nodes with the new launch template version`,
      ));
    }
    if (hostNetwork.length > 0) {
      plan.warnings.push(`hostNetwork workloads reach IMDS whatever the hop limit, so they keep the node role's credentials: ${list(hostNetwork)} — run them without hostNetwork, or keep the node role down to what worker nodes need`);
    }
    const cut = withoutRole.filter((r) => !r.hostNetwork).map((r) => r.ref);
    if (changes.some((c) => c.kind === 'nodegroup-metadata') && cut.length > 0) {
      plan.warnings.push(`pods without a role of their own lose the node role's credentials once IMDS is closed to them: ${list(cut)} (irsa cannot tell whether they call AWS: give them their own role first if they do)`);
    }
  }

  const waitFor = input.pending?.bindingChanges ?? [];
  plan.changes.push(...changes.map((c) => (waitFor.length > 0 ? { ...c, dependsOn: [...new Set([...c.dependsOn, ...waitFor])] } : c)));
  plan.blockers.push(...blockers);
  plan.notes.unshift(...proofs.map((p) => `proof: ${p}`));
  return { plan, proofs, undecided };
}

/** What `irsa audit` reports of the old paths, per node role of the cluster (from the same reads and plan as close-paths). */
export interface OldPathsSummary {
  nodeRoles: Array<{
    name: string;
    arn: string;
    /** Per nodegroup: whether pods reach this node role through IMDS, and why. */
    nodegroups: Array<{ name: string; reachable: 'yes' | 'no' | 'unknown'; why: string }>;
    /** Managed and inline policies beyond what worker nodes need; null: the node role was not read (`!`, never ✓). */
    excess: string[] | null;
    /** Roles whose trust names this node role (kube2iam leftovers), and the pods that still name each. */
    trustedBy: Array<{ role: string; usedBy: string[] }>;
  }>;
  /** The closing changes close-paths would plan now (`~ kind id: reason`). */
  proposed: string[];
  /** The closings with a proposed change: what `closePaths:` in irsa.yaml would plan. */
  closings: Closing[];
  blockers: string[];
  undecided: string[];
}

const CLOSING_OF: Record<string, Closing> = { 'node-role-trust': 'kube2iam', 'nodegroup-metadata': 'imds' };

export function summarizeOldPaths(input: ClosePathsInput, result: ClosePathsResult): OldPathsSummary {
  const groups = 'value' in input.nodegroups ? input.nodegroups.value : [];
  const runners = 'value' in input.runners ? input.runners.value : [];
  const roles = 'value' in input.accountRoles ? input.accountRoles.value : [];
  const nodeRoles = [...new Set(groups.map((g) => g.nodeRoleArn))].map((arn) => {
    const view = input.nodeRoles.get(arn);
    const node = view && 'value' in view.role ? view.role.value : null;
    return {
      name: node?.name ?? roleNameOf(arn),
      arn,
      nodegroups: groups.filter((g) => g.nodeRoleArn === arn).map((g) => {
        if (!g.metadata) return { name: g.name, reachable: 'unknown' as const, why: 'EKS\'s own launch template (irsa cannot read it)' };
        if ('error' in g.metadata) return { name: g.name, reachable: 'unknown' as const, why: `launch template not read (${g.metadata.error}): grant ec2:DescribeLaunchTemplateVersions` };
        const r = imdsReachable(g.metadata.value, false);
        return { name: g.name, reachable: r.reachable === true ? 'yes' as const : r.reachable === false ? 'no' as const : 'unknown' as const, why: r.why };
      }),
      excess: !node ? null : [...node.attachedPolicyArns.filter((p) => !isWorkerNodePolicy(p)).map((p) => `managed ${policyNameOf(p)}`), ...Object.keys(node.inlinePolicies).map((n) => `inline ${n}`)],
      trustedBy: roles.filter((r) => r.arn !== arn && withoutAwsPrincipal(r.trustPolicy, arn).changed).map((r) => ({
        role: r.name,
        usedBy: runners.filter((p) => p.kube2iamRole !== null && annotationNamesRole(p.kube2iamRole, r)).map((p) => p.ref),
      })),
    };
  });
  const changes = result.plan.changes.filter((c) => c.action !== 'no-op');
  // A node-role change is kube2iam's when it is the grant (depends on a retirement), else node-permissions'.
  const closingOf = (c: Change): Closing => CLOSING_OF[c.kind] ?? (c.dependsOn.some((d) => d.startsWith('node-role-trust:')) ? 'kube2iam' : 'node-permissions');
  return {
    nodeRoles,
    proposed: changes.map((c) => `${c.action === 'delete' ? '-' : '~'} ${c.kind} ${c.id}${c.reason ? `: ${c.reason}` : ''}`),
    closings: CLOSINGS.filter((k) => changes.some((c) => closingOf(c) === k)),
    blockers: result.plan.blockers.map((b) => b.message),
    undecided: result.undecided,
  };
}
