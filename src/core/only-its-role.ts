// "Only its role?": what a compromised pod running as this ServiceAccount can reach besides its
// own role. IRSA gives a pod its role; the reason to adopt it is that the pod gets *only* that
// role. This module lists every other path doctor can see, each with its fix, from what was read
// beforehand. Pure: the command reads (engine/only-its-role.ts), this decides, ui/ prints.
//
// Paths (each one a check; ✗ when found, ✓ only when its absence is proven, ! where a read was
// denied or irsa cannot decide — with the permission to grant or the reason):
//   imds              the node role through the instance metadata service. Closed only when the
//                     node requires IMDSv2 (HttpTokens required) with HttpPutResponseHopLimit 1
//                     (the pod's network namespace adds a hop, so the token PUT's answer never
//                     reaches it), or when HttpEndpoint is disabled. hostNetwork pods have no extra
//                     hop: only a disabled endpoint closes it for them.
//                     https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html
//                     https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html
//   node-permissions  what the node role holds beyond what worker nodes need (AmazonEKSWorkerNodePolicy,
//                     the CNI policy, ECR read), naming the policies that overlap the pod's own role.
//   node-roles        roles the node role can become: those whose trust names it (same account:
//                     the trust alone suffices) and those trusting the account that its own
//                     policies let it assume (kube2iam's `role/<prefix>*` grant).
//   secrets           Secrets holding AWS keys that the ServiceAccount may get or list, as the
//                     apiserver answers a SubjectAccessReview (RBAC objects are not guessed from).
//   other-roles       other roles whose trust admits this ServiceAccount's token (any audience: a pod
//                     can request a token of any audience through a projected volume).
// The node paths count only while the node role is reachable; once IMDS is closed for this pod,
// what the node role holds is no longer this pod's (audit still proposes trimming it).

import { stringLike } from './trust-eval.ts';
import { stillAdmitted, stillAdmittedNotes } from './trust-merge.ts';
import { isCredentialKeyName, type SecretSummary } from './audit.ts';
import type { RoleState } from './state.ts';
import { serviceAccountSubject, type PolicyDocument } from './trust-policy.ts';

/** A value that was read, or why it could not be (the permission to grant when denied). */
export type Read<T> = { value: T } | { error: string };

/** A read as a value: its result, or the first line of its error (a denied read becomes `!`, never a crash). */
export const settleRead = <T>(promise: Promise<T>): Promise<Read<T>> =>
  promise.then((value) => ({ value }), (error: unknown) => ({ error: (error instanceof Error ? error.message : String(error)).split('\n')[0]! }));

/** A launch template version's MetadataOptions; null fields were not set in the template. */
export interface MetadataOptions {
  httpTokens: string | null;
  hopLimit: number | null;
  httpEndpoint: string | null;
}

export interface NodegroupView {
  name: string;
  nodeRoleArn: string;
  /** The launch template the nodegroup names; null: EKS's own (not readable as the user's). */
  launchTemplate: { id: string | null; name: string | null; version: string | null } | null;
  /** Its MetadataOptions (null when no launch template is named). */
  metadata: Read<MetadataOptions> | null;
}

/** What the node role can reach and holds, read for each distinct node role. */
export interface NodeRoleView {
  role: Read<RoleState | null>;
  /** Managed policy ARN → its default version's document. */
  policyDocuments: Map<string, Read<unknown>>;
}

export interface SecretAccess {
  secret: SecretSummary;
  /** Whether the ServiceAccount may get it (by name) or list Secrets in its namespace. */
  readable: Read<boolean>;
}

export interface OnlyItsRoleInput {
  namespace: string;
  name: string;
  providerArn: string;
  /** The account's partition and id, for ARNs in fixes. */
  account: string;
  /** "--cluster prod --region eu-west-1": how a printed irsa command names the cluster. */
  targetArgs: string;
  /** The pod's own role (null: none bound / not found). */
  ownRole: RoleState | null;
  ownPolicyDocuments: Map<string, Read<unknown>>;
  /** Managed nodegroups; { error } when not readable or not an EKS cluster (--issuer-url). */
  nodegroups: Read<NodegroupView[]>;
  /** Node role ARN → what was read about it. */
  nodeRoles: Map<string, NodeRoleView>;
  /** Workloads / pods running as the ServiceAccount with hostNetwork: true. */
  hostNetwork: Read<string[]>;
  /** Every role of the account (GetAccountAuthorizationDetails). */
  accountRoles: Read<RoleState[]>;
  /** Secrets with AWS keys and whether the ServiceAccount may read them. */
  secrets: Read<SecretAccess[]>;
}

export type PathKind = 'imds' | 'node-permissions' | 'node-roles' | 'secrets' | 'other-roles';

/** One extra path: something besides its own role a compromised pod can reach. */
export interface ExtraPath {
  kind: PathKind;
  /** found: the path exists; undecided: irsa cannot tell (a read denied or a condition it cannot know). */
  status: 'found' | 'undecided';
  /** What is reachable: a role ARN, a Secret, a nodegroup. */
  target: string;
  detail: string;
  fix: string;
}

export type PathStatus = 'pass' | 'fail' | 'warn';

export interface PathCheck {
  id: PathKind;
  /** Step 7 of doctor's chain: after the pod gets its role, does it get only that? */
  step: 7;
  title: string;
  status: PathStatus;
  observed: string;
  expected: string;
  fix: string | null;
  details?: string[];
}

export interface OnlyItsRoleReport {
  /** ✓ only when every path's absence is proven. */
  verdict: 'only-its-role' | 'extra-paths' | 'cannot-decide';
  paths: ExtraPath[];
  checks: PathCheck[];
}

/** Worker nodes need these and nothing else (the CNI policy is better on aws-node through IRSA). */
export const WORKER_NODE_POLICIES = [
  'AmazonEKSWorkerNodePolicy',
  'AmazonEKSWorkerNodeMinimalPolicy',
  'AmazonEKS_CNI_Policy',
  'AmazonEC2ContainerRegistryReadOnly',
  'AmazonEC2ContainerRegistryPullOnly',
];

/** An AWS managed policy that worker nodes need (never proposed for removal). */
export function isWorkerNodePolicy(policyArn: string): boolean {
  const match = /^arn:[^:]+:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(policyArn);
  return match !== null && WORKER_NODE_POLICIES.includes(match[1]!);
}

const asList = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const strings = (value: unknown): string[] => asList(value).filter((v): v is string => typeof v === 'string');
const roleName = (arn: string) => arn.split('/').pop() ?? arn;
const policyName = (arn: string) => arn.split('/').pop() ?? arn;

type Tri = boolean | 'unknown';

/** IMDS from a pod on nodes with these options: reachable, closed, or undecided (why). */
export function imdsReachable(options: MetadataOptions, hostNetwork: boolean): { reachable: Tri; why: string } {
  const endpoint = options.httpEndpoint ?? 'enabled'; // EC2's default when the template sets none
  if (endpoint === 'disabled') return { reachable: false, why: 'HttpEndpoint disabled' };
  if (options.httpTokens === 'optional') return { reachable: true, why: 'HttpTokens optional (IMDSv1 answers any hop)' };
  if (options.httpTokens !== 'required') {
    return { reachable: 'unknown', why: 'HttpTokens not set in the launch template (the AMI or account default decides)' };
  }
  if (hostNetwork) return { reachable: true, why: 'hostNetwork pods share the node\'s network: the hop limit does not stop them' };
  if (options.hopLimit === null) return { reachable: 'unknown', why: 'HttpTokens required, HttpPutResponseHopLimit not set (the AMI or account default decides)' };
  if (options.hopLimit <= 1) return { reachable: false, why: 'HttpTokens required, HttpPutResponseHopLimit 1' };
  return { reachable: true, why: `HttpTokens required but HttpPutResponseHopLimit ${options.hopLimit}: the token reaches the pod` };
}

const describeOptions = (o: MetadataOptions) =>
  `HttpTokens ${o.httpTokens ?? 'unset'}, HttpPutResponseHopLimit ${o.hopLimit ?? 'unset'}, HttpEndpoint ${o.httpEndpoint ?? 'unset (enabled)'}`;

interface Statement {
  effect: string;
  actions: string[];
  notActions: string[];
  resources: string[];
  notResources: string[];
  conditioned: boolean;
}

function statementsOf(document: unknown): Statement[] {
  const raw = (document as { Statement?: unknown } | null)?.Statement;
  return asList(raw).flatMap((s): Statement[] => {
    if (!s || typeof s !== 'object') return [];
    const st = s as Record<string, unknown>;
    return [{
      effect: String(st['Effect'] ?? ''),
      actions: strings(st['Action']),
      notActions: strings(st['NotAction']),
      resources: strings(st['Resource']),
      notResources: strings(st['NotResource']),
      conditioned: st['Condition'] !== undefined,
    }];
  });
}

const actionMatch = (pattern: string, action: string) => stringLike(pattern.toLowerCase(), action.toLowerCase());

/** Actions an identity policy allows, as written (patterns kept). */
function allowedActions(document: unknown): string[] {
  return statementsOf(document).filter((s) => s.effect === 'Allow').flatMap((s) => (s.notActions.length > 0 ? ['*'] : s.actions));
}

/** Action patterns of two policies that can match a common action (either one's pattern covers the other). */
function overlappingActions(a: string[], b: string[]): string[] {
  const found = new Set<string>();
  for (const x of a) for (const y of b) if (actionMatch(x, y) || actionMatch(y, x)) found.add(actionMatch(x, y) ? y : x);
  return [...found].sort();
}

/** Whether the identity policies allow sts:AssumeRole on a role ARN (true / false / unknown). */
function policiesAllowAssume(documents: unknown[], targetArn: string): Tri {
  let allowed: Tri = false;
  for (const document of documents) {
    for (const s of statementsOf(document)) {
      const action = s.actions.length > 0 ? s.actions.some((p) => actionMatch(p, 'sts:AssumeRole')) : s.notActions.length > 0 && !s.notActions.some((p) => actionMatch(p, 'sts:AssumeRole'));
      if (!action) continue;
      // ARNs match case-sensitively with * and ? (IAM User Guide, Resource element).
      const resource = s.resources.length > 0 ? s.resources.some((p) => stringLike(p, targetArn)) : s.notResources.length > 0 && !s.notResources.some((p) => stringLike(p, targetArn));
      if (!resource) continue;
      if (s.effect === 'Deny') return s.conditioned ? (allowed === true ? 'unknown' : allowed) : false;
      if (s.effect === 'Allow') allowed = s.conditioned ? (allowed === true ? true : 'unknown') : true;
    }
  }
  return allowed;
}

/** How a role's trust admits another role of the same account for sts:AssumeRole. */
function trustAdmitsRole(trust: PolicyDocument, callerArn: string, account: string): 'names-it' | 'account' | 'unknown' | false {
  let result: 'names-it' | 'account' | 'unknown' | false = false;
  const accountPrincipals = new Set([account, `arn:aws:iam::${account}:root`, `arn:aws-cn:iam::${account}:root`, `arn:aws-us-gov:iam::${account}:root`]);
  for (const raw of asList((trust as { Statement?: unknown })?.Statement)) {
    if (!raw || typeof raw !== 'object') continue;
    const s = raw as Record<string, unknown>;
    if (s['Effect'] !== 'Allow') continue;
    if (!strings(s['Action']).some((p) => actionMatch(p, 'sts:AssumeRole'))) continue;
    const principal = s['Principal'];
    const aws = principal === '*' ? ['*'] : principal && typeof principal === 'object' ? strings((principal as Record<string, unknown>)['AWS']) : [];
    let how: 'names-it' | 'account' | null = null;
    if (aws.includes(callerArn)) how = 'names-it';
    else if (aws.some((p) => p === '*' || accountPrincipals.has(p))) how = 'account';
    if (!how) continue;
    if (s['Condition'] !== undefined) {
      if (result === false) result = 'unknown';
      continue;
    }
    if (how === 'names-it' || result !== 'names-it') result = how;
  }
  return result;
}

function check(id: PathKind, title: string, expected: string, paths: ExtraPath[], passObserved: string, unknownReads: string[] = []): PathCheck {
  const found = paths.filter((p) => p.status === 'found');
  const undecided = paths.filter((p) => p.status === 'undecided');
  const line = (p: ExtraPath) => `${p.target}: ${p.detail} — fix: ${p.fix}`;
  if (found.length > 0) {
    return {
      id, step: 7, title, status: 'fail', expected,
      observed: `${found.length} path${found.length === 1 ? '' : 's'}: ${found.map((p) => p.target).join(', ')}`,
      fix: found[0]!.fix,
      details: [...found, ...undecided].map(line).concat(unknownReads),
    };
  }
  if (undecided.length > 0 || unknownReads.length > 0) {
    return {
      id, step: 7, title, status: 'warn', expected,
      observed: undecided.length > 0 ? `irsa cannot decide for ${undecided.map((p) => p.target).join(', ')}` : unknownReads[0]!,
      fix: undecided[0]?.fix ?? null,
      details: [...undecided.map(line), ...unknownReads],
    };
  }
  return { id, step: 7, title, status: 'pass', observed: passObserved, expected, fix: null };
}

export function onlyItsRole(input: OnlyItsRoleInput): OnlyItsRoleReport {
  const sa = `${input.namespace}/${input.name}`;
  const subject = serviceAccountSubject(input.namespace, input.name);
  const checks: PathCheck[] = [];
  const all: ExtraPath[] = [];

  // ---- IMDS: which node roles this pod can reach ----
  const imdsPaths: ExtraPath[] = [];
  const imdsReads: string[] = [];
  /** Node role ARN → reachable from this pod (true / unknown); closed roles are not listed. */
  const reachableRoles = new Map<string, Tri>();
  const hostNetwork = 'value' in input.hostNetwork ? input.hostNetwork.value : [];
  if ('error' in input.hostNetwork) imdsReads.push(`hostNetwork of the pods not read (${input.hostNetwork.error}): grant get/list on the workloads of ${input.namespace}`);
  if ('error' in input.nodegroups) {
    imdsPaths.push({ kind: 'imds', status: 'undecided', target: 'the nodes', detail: `the nodegroups could not be read (${input.nodegroups.error})`, fix: 'grant eks:ListNodegroups and eks:DescribeNodegroup (and ec2:DescribeLaunchTemplateVersions), or check IMDS on your nodes: HttpTokens required, HttpPutResponseHopLimit 1' });
  } else if (input.nodegroups.value.length === 0) {
    imdsPaths.push({ kind: 'imds', status: 'undecided', target: 'the nodes', detail: 'the cluster has no managed nodegroups: irsa cannot see the nodes\' role or metadata options (self-managed nodes, Karpenter, Fargate)', fix: 'on every node: require IMDSv2 with hop limit 1 (aws ec2 modify-instance-metadata-options --http-tokens required --http-put-response-hop-limit 1), and in the templates that launch them' });
  }
  for (const group of 'value' in input.nodegroups ? input.nodegroups.value : []) {
    const target = `nodegroup ${group.name} (node role ${roleName(group.nodeRoleArn)})`;
    const fixLt = `require IMDSv2 with hop limit 1: a new version of ${group.launchTemplate?.name ?? group.launchTemplate?.id ?? 'its launch template'} with MetadataOptions HttpTokens required, HttpPutResponseHopLimit 1, then update the nodegroup to it (irsa audit --out irsa.yaml proposes it)`;
    if (!group.metadata) {
      imdsPaths.push({ kind: 'imds', status: 'undecided', target, detail: 'no launch template of yours: nodes get EKS\'s defaults, which irsa cannot read', fix: `give the nodegroup a launch template with MetadataOptions HttpTokens required, HttpPutResponseHopLimit 1` });
      reachableRoles.set(group.nodeRoleArn, reachableRoles.get(group.nodeRoleArn) === true ? true : 'unknown');
      continue;
    }
    if ('error' in group.metadata) {
      imdsPaths.push({ kind: 'imds', status: 'undecided', target, detail: `its launch template could not be read (${group.metadata.error})`, fix: 'grant ec2:DescribeLaunchTemplateVersions' });
      reachableRoles.set(group.nodeRoleArn, reachableRoles.get(group.nodeRoleArn) === true ? true : 'unknown');
      continue;
    }
    const options = group.metadata.value;
    const pod = imdsReachable(options, false);
    const host = imdsReachable(options, true);
    if (pod.reachable === true) {
      imdsPaths.push({ kind: 'imds', status: 'found', target, detail: `pods reach the node role through IMDS (${pod.why})`, fix: fixLt });
      reachableRoles.set(group.nodeRoleArn, true);
    } else if (pod.reachable === 'unknown') {
      imdsPaths.push({ kind: 'imds', status: 'undecided', target, detail: `${pod.why}`, fix: fixLt });
      if (reachableRoles.get(group.nodeRoleArn) !== true) reachableRoles.set(group.nodeRoleArn, 'unknown');
    }
    if (pod.reachable === false && hostNetwork.length > 0 && host.reachable !== false) {
      imdsPaths.push({
        kind: 'imds', status: host.reachable === true ? 'found' : 'undecided', target,
        detail: `hostNetwork pods of ${sa} (${hostNetwork.join(', ')}) reach IMDS on any node (${describeOptions(options)})`,
        fix: `run ${hostNetwork.join(', ')} without hostNetwork, or keep the node role down to what worker nodes need`,
      });
      if (host.reachable === true) reachableRoles.set(group.nodeRoleArn, true);
      else if (reachableRoles.get(group.nodeRoleArn) !== true) reachableRoles.set(group.nodeRoleArn, 'unknown');
    }
  }
  const groupCount = 'value' in input.nodegroups ? input.nodegroups.value.length : 0;
  checks.push(check('imds', 'Node role not reachable through instance metadata (IMDS)', 'every nodegroup: HttpTokens required, HttpPutResponseHopLimit 1 (or HttpEndpoint disabled); no hostNetwork pods',
    imdsPaths, `${groupCount} nodegroup${groupCount === 1 ? '' : 's'}: IMDSv2 required with hop limit 1${hostNetwork.length === 0 ? ', no hostNetwork pods' : ''}`, imdsReads));
  all.push(...imdsPaths);

  const reachable = [...reachableRoles].filter(([, r]) => r !== false);
  // Without the nodegroups the node role is unknown: its paths are undecided, never ✓.
  const nodeRoleUnknown = 'error' in input.nodegroups || input.nodegroups.value.length === 0 ? ['the node role is unknown (see the IMDS check): irsa cannot tell what it holds or may become'] : [];
  const reachNote = (arn: string) => (reachableRoles.get(arn) === true ? '' : ' (if the node role is reachable: irsa cannot decide IMDS)');

  // ---- the node role's permissions beyond worker needs, overlap with the pod's own role ----
  const ownActions = new Map<string, string[]>();
  if (input.ownRole) {
    for (const arn of input.ownRole.attachedPolicyArns) {
      const doc = input.ownPolicyDocuments.get(arn);
      if (doc && 'value' in doc) ownActions.set(arn, allowedActions(doc.value));
    }
    for (const [n, doc] of Object.entries(input.ownRole.inlinePolicies)) ownActions.set(`inline ${n}`, allowedActions(doc));
  }
  const ownAll = [...ownActions.values()].flat();
  const permPaths: ExtraPath[] = [];
  const permReads: string[] = [...nodeRoleUnknown];
  const roleViews = reachable.map(([arn]) => [arn, input.nodeRoles.get(arn)] as const);
  for (const [arn, view] of roleViews) {
    if (!view || 'error' in view.role) {
      permPaths.push({ kind: 'node-permissions', status: 'undecided', target: `node role ${roleName(arn)}`, detail: `not read${view && 'error' in view.role ? ` (${view.role.error})` : ''}`, fix: 'grant iam:GetRole, iam:ListAttachedRolePolicies, iam:ListRolePolicies, iam:GetRolePolicy' });
      continue;
    }
    const role = view.role.value;
    if (!role) continue;
    const extraManaged = role.attachedPolicyArns.filter((p) => !isWorkerNodePolicy(p));
    const extras: Array<{ label: string; actions: string[] | null; ownOverlap: string[] }> = [];
    for (const p of extraManaged) {
      const doc = view.policyDocuments.get(p);
      const actions = doc && 'value' in doc ? allowedActions(doc.value) : null;
      if (doc && 'error' in doc) permReads.push(`policy ${policyName(p)} of ${role.name} not read (${doc.error}): grant iam:GetPolicy and iam:GetPolicyVersion`);
      const sameArn = input.ownRole?.attachedPolicyArns.includes(p) ? ['(the same policy)'] : [];
      extras.push({ label: `managed ${policyName(p)}`, actions, ownOverlap: [...sameArn, ...(actions ? overlappingActions(actions, ownAll) : [])] });
    }
    for (const [n, doc] of Object.entries(role.inlinePolicies)) {
      const actions = allowedActions(doc);
      extras.push({ label: `inline ${n}`, actions, ownOverlap: overlappingActions(actions, ownAll) });
    }
    for (const extra of extras) {
      const overlap = extra.ownOverlap.length > 0 ? `; overlaps ${sa}'s own role (${extra.ownOverlap.join(', ')})` : '';
      permPaths.push({
        kind: 'node-permissions',
        status: reachableRoles.get(arn) === true ? 'found' : 'undecided',
        target: `node role ${role.name}: ${extra.label}`,
        detail: `beyond what worker nodes need${extra.actions ? ` (allows ${extra.actions.slice(0, 6).join(', ')}${extra.actions.length > 6 ? ', …' : ''})` : ''}${overlap}${reachNote(arn)}`,
        fix: `remove it from ${role.name} once every workload that needs it has its own role (irsa audit --out irsa.yaml proposes it; until then close IMDS)`,
      });
    }
  }
  checks.push(check('node-permissions', "Node role holds nothing beyond worker-node needs (or cannot be reached)", `only ${WORKER_NODE_POLICIES.join(', ')} on a reachable node role`,
    permPaths, reachable.length === 0 ? 'no node role is reachable from this pod' : 'the reachable node roles hold only worker-node policies', permReads));
  all.push(...permPaths);

  // ---- roles the node role can become ----
  const rolePaths: ExtraPath[] = [];
  const roleReads: string[] = [...nodeRoleUnknown];
  if (reachable.length > 0 && 'error' in input.accountRoles) roleReads.push(`the account's roles not read (${input.accountRoles.error}): grant iam:GetAccountAuthorizationDetails`);
  for (const [arn, view] of roleViews) {
    if (!view || 'error' in view.role || !view.role.value || !('value' in input.accountRoles)) continue;
    const node = view.role.value;
    const documents = [
      ...Object.values(node.inlinePolicies),
      ...node.attachedPolicyArns.flatMap((p) => {
        const doc = view.policyDocuments.get(p);
        return doc && 'value' in doc ? [doc.value] : [];
      }),
    ];
    for (const target of input.accountRoles.value) {
      if (target.arn === node.arn) continue;
      const trust = trustAdmitsRole(target.trustPolicy, node.arn, input.account);
      if (trust === false) continue;
      const grant = trust === 'names-it' ? true : policiesAllowAssume(documents, target.arn);
      if (grant === false) continue;
      const definite = trust !== 'unknown' && grant === true && reachableRoles.get(arn) === true;
      rolePaths.push({
        kind: 'node-roles',
        status: definite ? 'found' : 'undecided',
        target: `role ${target.name}`,
        detail: `${trust === 'names-it' ? `its trust names node role ${node.name}` : trust === 'account' ? `its trust admits the account and ${node.name}'s policies allow sts:AssumeRole on it` : `its trust may admit ${node.name} (a condition irsa cannot evaluate)`}${reachNote(arn)}`,
        fix: `remove ${node.name} from ${target.name}'s trust${trust === 'account' ? ` and the sts:AssumeRole grant from ${node.name}` : ''} once no pod needs it (kube2iam leftovers: irsa audit --out irsa.yaml proposes the retirement)`,
      });
    }
  }
  checks.push(check('node-roles', 'No role reachable through the node role', 'no role trusts a reachable node role, and none it may assume',
    rolePaths, reachable.length === 0 ? 'no node role is reachable from this pod' : 'no role trusts the reachable node roles', roleReads));
  all.push(...rolePaths);

  // ---- Secrets with AWS keys the ServiceAccount may read ----
  const secretPaths: ExtraPath[] = [];
  const secretReads: string[] = [];
  if ('error' in input.secrets) secretReads.push(`Secrets not read (${input.secrets.error}): grant list on secrets (all namespaces) and create on subjectaccessreviews.authorization.k8s.io`);
  let keySecrets = 0;
  for (const access of 'value' in input.secrets ? input.secrets.value : []) {
    const s = access.secret;
    if (!(s.accessKeyIds.length > 0 || s.keys.some(isCredentialKeyName))) continue;
    keySecrets++;
    const target = `Secret ${s.namespace}/${s.name}`;
    const keys = [...new Set([...s.keys.filter(isCredentialKeyName), ...s.accessKeyIds.map((k) => `${k.key} (${k.masked})`)])].join(', ');
    if ('error' in access.readable) {
      secretPaths.push({ kind: 'secrets', status: 'undecided', target, detail: `holds AWS keys (${keys}); the apiserver did not answer whether ${sa} may read it (${access.readable.error})`, fix: 'grant create on subjectaccessreviews.authorization.k8s.io' });
    } else if (access.readable.value) {
      secretPaths.push({ kind: 'secrets', status: 'found', target, detail: `holds AWS keys (${keys}) and ${sa} may read it (SubjectAccessReview: allowed)`, fix: `deactivate the keys and delete the Secret once nothing uses them (irsa apply with deleteKeySecrets), or take get/list on it away from ${sa} in RBAC` });
    }
  }
  checks.push(check('secrets', 'No readable Secret holds AWS keys', `no Secret with AWS keys that ${sa} may get or list`, secretPaths,
    keySecrets === 0 ? 'no Secret holds AWS keys' : `${keySecrets} Secret${keySecrets === 1 ? '' : 's'} with AWS keys, none readable by ${sa}`, secretReads));
  all.push(...secretPaths);

  // ---- other roles whose trust admits this ServiceAccount ----
  const otherPaths: ExtraPath[] = [];
  const otherReads: string[] = [];
  if ('error' in input.accountRoles) otherReads.push(`the account's roles not read (${input.accountRoles.error}): grant iam:GetAccountAuthorizationDetails`);
  for (const role of 'value' in input.accountRoles ? input.accountRoles.value : []) {
    if (input.ownRole && role.arn === input.ownRole.arn) continue;
    const admitted = stillAdmitted(role.trustPolicy, subject, input.providerArn);
    if (!admitted) continue;
    const notes = stillAdmittedNotes(admitted, role.trustPolicy).map((n) => n.replace(/: a pod running as it can still assume this role; edit or remove that statement to unbind it$/, ''));
    otherPaths.push({
      kind: 'other-roles',
      status: admitted.admittedBy.length > 0 ? 'found' : 'undecided',
      target: `role ${role.name}`,
      detail: notes.join('; '),
      fix: `narrow ${role.name}'s trust to the ServiceAccounts that need it (irsa audit --iam lists weak trusts; irsa create-sa-role --attach-role-arn ${role.arn} writes exact subjects)`,
    });
  }
  const scanned = 'value' in input.accountRoles ? input.accountRoles.value.length : 0;
  checks.push(check('other-roles', 'No other role admits this ServiceAccount', `only ${input.ownRole?.name ?? 'its own role'} trusts ${subject}`, otherPaths, `${scanned} roles scanned: none other admits ${subject}`, otherReads));
  all.push(...otherPaths);

  const verdict = checks.some((c) => c.status === 'fail') ? 'extra-paths' : checks.some((c) => c.status === 'warn') ? 'cannot-decide' : 'only-its-role';
  return { verdict, paths: all, checks };
}
