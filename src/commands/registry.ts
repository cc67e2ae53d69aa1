// Every command and option, declared once as data. cli.ts builds commander from this table,
// and each command's code is imported only when that command runs (fast --help).


export type { CommandRun, CommandSpec, OptionSpec } from '../command-spec.ts';
import type { CommandSpec, OptionSpec } from '../command-spec.ts';
import { fieldOptions } from '../core/fields.ts';
import { LOCK_TIMEOUT_OPTION } from './trust-locks.ts';

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: '--region <region>', description: 'AWS region such as eu-west-1 (default: AWS_REGION or the profile\'s region); a name that is not a region is refused before any call' },
  { flags: '--profile <name>', description: 'AWS profile for IAM (default: the AWS default credential chain, SSO included)' },
  { flags: '--kubeconfig <path>', description: 'kubeconfig file (default: KUBECONFIG or ~/.kube/config)' },
  { flags: '--context <name>', description: 'kubeconfig context (default: the current context); irsa proves it is the cluster before any write' },
  { flags: '--skip-cluster-check', description: 'do not prove that the kubeconfig context is the cluster (only when RBAC forbids every proof and you are sure)' },
  { flags: '-o, --output <format>', description: 'output format (yaml: irsa audit only)', choices: ['text', 'json', 'yaml'], defaultValue: 'text' },
  { flags: '-v, --verbose', description: 'print each API call (never credentials or tokens) and unchanged resources' },
  { flags: '--debug', description: 'also print the AWS SDK\'s own warnings and, for an unexpected error, its stack trace (never credentials or tokens)' },
  { flags: '--no-color', description: 'disable colours (also NO_COLOR, or when stdout is not a terminal)' },
];

/** Other accounts' documents (access requests: a secret's resource policy, a key's key policy). */
const ACCOUNT_PROFILE_OPTION: OptionSpec = {
  flags: '--account-profile <account=profile>',
  description: 'AWS profile for another account\'s documents (a secret\'s resource policy, a KMS key\'s key policy), e.g. 222222222222=data-account; wins over the file\'s accounts',
  repeatable: true,
};

const APPLY_OPTIONS: OptionSpec[] = [
  { flags: '--approve', description: 'apply the plan (without it, irsa only prints the plan)' },
  { flags: '--detailed-exitcode', description: 'exit 0 when nothing changes, 2 when changes are planned or applied, 1 on error' },
];

const ISSUER_OPTIONS: OptionSpec[] = [
  { flags: '--thumbprint <hex>', description: 'use this thumbprint instead of computing it (at most 5)', repeatable: true },
  { flags: '--no-thumbprint', description: 'send no thumbprint and let IAM obtain it (existing thumbprints are left alone)' },
  { flags: '--ca-bundle <file>', description: 'extra PEM CA certificates to trust when fetching the issuer (added to the system store and NODE_EXTRA_CA_CERTS)' },
];

const CLUSTER_OPTIONS: OptionSpec[] = [
  { flags: '--cluster <name>', description: 'EKS cluster name' },
  { flags: '--issuer-url <url>', description: 'OIDC issuer URL of a self-managed cluster (https only), instead of --cluster' },
];

const VERIFY_OPTIONS: OptionSpec[] = [
  { flags: '--verify', description: 'after --approve, mint a token for each bound ServiceAccount (its audience) and call sts:AssumeRoleWithWebIdentity; report the assumed-role ARN or exit 1 naming the binding (never prints tokens or credentials)' },
  { flags: '--verify-timeout <seconds>', description: 'how long --verify retries while IAM propagates (AccessDenied, InvalidIdentityToken); default 60' },
];

const CLUSTER_PROFILE_OPTION: OptionSpec = {
  flags: '--cluster-profile <name>',
  description: 'AWS profile for reading the cluster when it lives in another account than the role (--profile)',
};

const TARGET_OPTIONS: OptionSpec[] = [
  ...CLUSTER_OPTIONS,
  { flags: '-n, --namespace <namespace>', description: 'namespace of the ServiceAccount' },
  { flags: '--name <name>', description: 'name of the ServiceAccount' },
];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'associate-oidc',
    summary: 'create the IAM OIDC identity provider for a cluster\'s issuer',
    description:
      'Discovers the cluster\'s OIDC issuer (eks:DescribeCluster) or takes --issuer-url, computes the TLS thumbprint the way AWS documents it, and plans the IAM OIDC provider with client ID sts.amazonaws.com.',
    options: [
      ...CLUSTER_OPTIONS,
      ...ISSUER_OPTIONS,
      ...APPLY_OPTIONS,
    ],
    load: () => import('./associate-oidc.ts'),
  },
  {
    name: 'create-sa-role',
    summary: 'create or update an IAM role that a ServiceAccount can assume, and annotate the ServiceAccount',
    description:
      'Plans the OIDC provider (if missing), an IAM role whose trust policy admits exactly system:serviceaccount:<namespace>:<name>, its managed and inline policies, and the ServiceAccount annotation eks.amazonaws.com/role-arn. Re-running with the same --role-name for another ServiceAccount or cluster adds it to the trust policy and keeps the others.',
    options: [
      ...TARGET_OPTIONS,
      // Every binding field's option, from its row in core/fields.ts.
      ...fieldOptions(),
      CLUSTER_PROFILE_OPTION,
      { ...ACCOUNT_PROFILE_OPTION, description: 'AWS profile for another account: with --mechanism pod-identity, the account of --target-role-arn, whose trust irsa plans and writes there; e.g. 222222222222=data-account' },
      ...ISSUER_OPTIONS,
      ...APPLY_OPTIONS,
      LOCK_TIMEOUT_OPTION,
      ...VERIFY_OPTIONS,
    ],
    load: () => import('./create-sa-role.ts'),
  },
  {
    name: 'delete-sa-role',
    summary: 'remove a ServiceAccount from its role; delete the role when nothing else trusts it',
    description:
      'Removes system:serviceaccount:<namespace>:<name> from the role\'s trust policy (for this cluster\'s provider only). When no subject remains, detaches managed policies, deletes inline policies and deletes the role — only when irsa created it, unless --force. Removes the annotations, or the ServiceAccount itself when irsa created it.',
    options: [
      ...TARGET_OPTIONS,
      { flags: '--role-name <name>', description: 'the role, when the ServiceAccount no longer names it (default: from the annotation, else the generated name)' },
      { flags: '--role-only', description: 'change IAM only; leave the ServiceAccount alone' },
      { flags: '--force', description: 'also change or delete a role irsa did not create, and delete a ServiceAccount that workloads still use' },
      { flags: '--mechanism <mechanism>', description: 'the binding to remove: irsa (default: the trust subject and the ServiceAccount annotations) or pod-identity (the EKS Pod Identity association irsa made, the role\'s pods.eks statement, and the ServiceAccount when irsa created it)', choices: ['irsa', 'pod-identity'] },
      CLUSTER_PROFILE_OPTION,
      ...APPLY_OPTIONS,
      LOCK_TIMEOUT_OPTION,
    ],
    load: () => import('./delete-sa-role.ts'),
  },
  {
    name: 'migrate',
    summary: 'move ServiceAccounts from IRSA to EKS Pod Identity (or back) without an outage, proven by a dry run',
    description:
      'For each ServiceAccount (--name, repeatable; default: every annotated one of the namespace): (1) adds the role\'s pods.eks statement beside its IRSA one, (2) creates the EKS Pod Identity association, (3) restarts the workloads with --restart-workloads, (4) proves with a server-side dry run through the pod identity webhook that new pods get EKS Pod Identity credentials, and only then (5) removes that ServiceAccount\'s IRSA subject from the role and its IRSA annotations. A failed proof removes nothing; every step re-plans from what exists, so running it again converges.',
    options: [
      { flags: '--cluster <name>', description: 'EKS cluster name' },
      { flags: '-n, --namespace <namespace>', description: 'namespace of the ServiceAccounts' },
      { flags: '--name <name>', description: 'a ServiceAccount to migrate (default: every ServiceAccount of the namespace with eks.amazonaws.com/role-arn)', repeatable: true },
      { flags: '--to <mechanism>', description: 'pod-identity (from IRSA), or irsa (back from EKS Pod Identity: the IRSA subject and annotation, the association irsa made deleted, the proof, then the pods.eks statement removed); with -f, only the bindings moving that way', choices: ['pod-identity', 'irsa'] },
      { flags: '-f, --file <path>', description: 'an irsa.yaml: each binding moves to the mechanism it declares (mechanism: pod-identity, or irsa, the default) when its ServiceAccount uses the other one; the cluster comes from the file (no --cluster, -n or --name)' },
      { flags: '--install-pod-identity-agent', description: 'add the eks-pod-identity-agent add-on when the cluster has none' },
      { flags: '--restart-workloads', description: 'restart the workloads that use the ServiceAccounts (only pods created after the association get its credentials)' },
      { flags: '--concurrency <n>', description: 'parallel API calls while reading and applying', defaultValue: 16 },
      CLUSTER_PROFILE_OPTION,
      ...APPLY_OPTIONS,
      LOCK_TIMEOUT_OPTION,
    ],
    load: () => import('./migrate.ts'),
  },
  {
    name: 'close-paths',
    summary: 'close the old credential paths once workloads have their own roles: kube2iam trust in the node role, the node role\'s moved permissions, IMDS',
    description:
      'Reads the cluster\'s nodegroups and launch templates, the account\'s roles, every ServiceAccount, pod template and running pod, and plans: (kube2iam) the node role taken out of the trust of every role no workload, template or pod of the cluster still names in iam.amazonaws.com/role (the scan is shown as the proof), and the node role\'s inline sts:AssumeRole grant for them; (node-permissions) the node role\'s managed and inline policies that the cluster\'s IRSA roles now carry (never the worker-node, CNI or ECR policies; blocked while a workload without its own role runs); (imds) a launch template version requiring IMDSv2 with hop limit 1 for each managed nodegroup, and the nodegroup moved to it (nodes irsa does not own get the exact change as a note). Each change is re-checked just before its write. A closing irsa cannot decide (a read denied) is a `!` line and exit 1.',
    options: [
      { flags: '--cluster <name>', description: 'EKS cluster name' },
      { flags: '--only <paths>', description: 'comma-separated paths to close: kube2iam, node-permissions, imds (default: all three)' },
      ...APPLY_OPTIONS,
    ],
    load: () => import('./close-paths.ts'),
  },
  {
    name: 'plan',
    summary: 'plan every binding of an irsa.yaml file (read-only); optionally save the plan',
    description:
      'Reads every binding of the file concurrently and prints one plan. The file is exact: for every role it names, the trust policy holds exactly the file\'s subjects (for this cluster\'s provider) and the attached policies are exactly the listed ones. irsa-owned roles of the cluster that no binding names are listed as left alone, or deleted with --prune.',
    options: [
      { flags: '-f, --file <path>', description: 'the irsa.yaml file' },
      { flags: '--out <path>', description: 'save the plan (with what it observed) for irsa apply <path> and print its digest (sha256); never written over the input file, nor over an existing file that is not a saved plan; the directory must exist' },
      { flags: '--overwrite', description: 'let --out replace an existing file that is not a saved plan' },
      { flags: '--prune', description: 'delete irsa-owned roles of this cluster that no binding names' },
      { flags: '--concurrency <n>', description: 'parallel API calls while reading and applying', defaultValue: 16 },
      { ...CLUSTER_PROFILE_OPTION, description: 'AWS profile for reading the cluster (wins over the file\'s cluster.profile)' },
      ACCOUNT_PROFILE_OPTION,
      { flags: '--detailed-exitcode', description: 'exit 0 when nothing would change, 2 when changes are planned, 1 on error' },
    ],
    load: async () => ({ run: (await import('./declarative.ts')).runPlanCommand }),
  },
  {
    name: 'apply',
    summary: 'apply an irsa.yaml file, or a plan saved by irsa plan --out',
    arguments: '[plan-file]',
    description:
      'With -f: plans the file like irsa plan and, with --approve, applies it. With a saved plan file: re-reads everything and applies exactly the saved changes only if what they were planned against still holds; otherwise refuses and names what changed.',
    options: [
      { flags: '-f, --file <path>', description: 'the irsa.yaml file' },
      { flags: '--expect-digest <sha256>', description: 'with a saved plan: apply it only if its digest is this one (the sha256:… irsa plan --out printed when the plan was reviewed)' },
      { flags: '--prune', description: 'delete irsa-owned roles of this cluster that no binding names' },
      { flags: '--concurrency <n>', description: 'parallel API calls while reading and applying', defaultValue: 16 },
      { ...CLUSTER_PROFILE_OPTION, description: 'AWS profile for reading the cluster (wins over the file\'s cluster.profile)' },
      ACCOUNT_PROFILE_OPTION,
      ...APPLY_OPTIONS,
      LOCK_TIMEOUT_OPTION,
      ...VERIFY_OPTIONS,
    ],
    load: async () => ({ run: (await import('./declarative.ts')).runApplyCommand }),
  },
  {
    name: 'wizard',
    summary: 'set up a binding step by step in the terminal (also: irsa with no command, in a terminal)',
    description:
      'Asks for the region, cluster, namespace, ServiceAccount, policies and role name, with lists read from AWS and the cluster; shows the plan create-sa-role would make, applies it only after you confirm (default No), and prints the equivalent irsa create-sa-role command and irsa.yaml binding. Needs a terminal; Ctrl-C at any prompt exits with code 130 and applies nothing.',
    options: [
      { flags: '--ca-bundle <file>', description: 'extra PEM CA certificates to trust when fetching the issuer (added to the system store and NODE_EXTRA_CA_CERTS)' },
      { flags: '--verify', description: 'after the apply you confirm, prove the binding: a minted token and sts:AssumeRoleWithWebIdentity, retried while IAM propagates; exit 1 when it fails' },
      VERIFY_OPTIONS[1]!,
    ],
    load: () => import('./wizard.ts'),
  },
  {
    name: 'doctor',
    summary: 'check every link of one ServiceAccount\'s IRSA chain and say exactly what is wrong',
    description:
      'Checks, in order: the IAM OIDC provider for the cluster\'s issuer (audience, thumbprints); the ServiceAccount and its eks.amazonaws.com/role-arn; the role and whether its trust policy admits a token minted for the ServiceAccount (IAM condition semantics, exact mismatches named); the role\'s permission policies; what admission does to a new pod of the ServiceAccount (server-side dry run: the webhook\'s mutation per container, or the apiserver\'s refusal quoted) and which credentials each container of the running pods uses; with --assume, sts:AssumeRoleWithWebIdentity itself. Prints observed, expected and the fix. Exit 0 when no check fails, 1 otherwise.',
    options: [
      ...TARGET_OPTIONS,
      { flags: '--assume', description: 'also call sts:AssumeRoleWithWebIdentity with a minted token and show the caller identity (never the token or credentials)' },
      { flags: '--can <action-and-arn...>', description: 'also check that the role can do <action> on <resource-arn> (e.g. secretsmanager:GetSecretValue arn:aws:secretsmanager:…): identity policies, boundary, the resource policy in the resource\'s account and, for a secret, kms:Decrypt on its key through Secrets Manager; names the document that refuses. Without it, the role\'s own access requests are checked' },
      ACCOUNT_PROFILE_OPTION,
      CLUSTER_PROFILE_OPTION,
      { flags: '--ca-bundle <file>', description: 'extra PEM CA certificates to trust when fetching the issuer\'s certificate chain' },
    ],
    load: () => import('./doctor.ts'),
  },
  {
    name: 'audit',
    summary: 'find static AWS keys, kube2iam/kiam annotations and workloads without IRSA; propose an irsa.yaml',
    description:
      'Read-only. Finds Secrets holding AWS access keys (key names or values shaped like access key IDs; values are never printed, key IDs only masked) and the workloads that load them, pod templates annotated iam.amazonaws.com/role (kube2iam, kiam) and workloads whose ServiceAccount has no role. Proposes an irsa.yaml with one binding per affected workload, reusing the kube2iam role\'s policies where they can be read.',
    options: [
      { flags: '--cluster <name>', description: 'cluster name written into the proposed irsa.yaml' },
      { flags: '--issuer-url <url>', description: 'OIDC issuer of a self-managed cluster, written into the proposed irsa.yaml' },
      { flags: '-n, --namespace <namespace>', description: 'only this namespace (default: all namespaces)' },
      { flags: '--out <path>', description: 'write the proposed irsa.yaml to this file (an existing file only with --overwrite)' },
      { flags: '--overwrite', description: 'let --out replace an existing file' },
      { flags: '--iam', description: 'instead: lint the trust policy of every IAM role in the account that trusts an OIDC provider (IRSA) or pods.eks.amazonaws.com (EKS Pod Identity) (exit 1 on a critical finding)' },
      { flags: '--path <prefix>', description: 'with --iam: only roles under this IAM path, e.g. /irsa/' },
      { flags: '--ca-bundle <file>', description: 'with --iam: extra PEM CA certificates to trust when asking issuers whether they still answer' },
    ],
    load: () => import('./audit.ts'),
  },
  {
    name: 'list',
    summary: 'list ServiceAccounts bound to IAM roles, with the health of each binding',
    options: [
      ...CLUSTER_OPTIONS,
      { flags: '-n, --namespace <namespace>', description: 'only this namespace (default: all namespaces)' },
      { flags: '--pods', description: 'add a RESTART column: pods that still need a restart to get the role / pods using the ServiceAccount (costs one LIST pods per namespace with bindings)' },
      CLUSTER_PROFILE_OPTION,
    ],
    load: () => import('./list.ts'),
  },
  {
    name: 'completion',
    summary: 'print a shell completion script for bash, zsh or fish',
    arguments: '<shell>',
    description:
      'Prints a completion script generated from irsa\'s command table. bash: irsa completion bash > ~/.local/share/bash-completion/completions/irsa. zsh: irsa completion zsh > "${fpath[1]}/_irsa". fish: irsa completion fish > ~/.config/fish/completions/irsa.fish.',
    options: [],
    load: () => import('./completion.ts'),
  },
];
