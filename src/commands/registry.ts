// Every command and option, declared once as data. cli.ts builds commander from this table,
// and each command's code is imported only when that command runs (fast --help).

export interface OptionSpec {
  flags: string;
  description: string;
  /** Collects repeated flags into a list. */
  repeatable?: boolean;
  defaultValue?: string | boolean | string[];
  choices?: string[];
}

export interface CommandSpec {
  name: string;
  summary: string;
  description?: string;
  arguments?: string;
  options: OptionSpec[];
  load: () => Promise<{ run: CommandRun }>;
}

export type CommandRun = (options: Record<string, unknown>, args: string[]) => Promise<number>;

export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: '--region <region>', description: 'AWS region (default: AWS_REGION or the profile\'s region)' },
  { flags: '--profile <name>', description: 'AWS profile for IAM (default: the AWS default credential chain, SSO included)' },
  { flags: '--kubeconfig <path>', description: 'kubeconfig file (default: KUBECONFIG or ~/.kube/config)' },
  { flags: '--context <name>', description: 'kubeconfig context (default: the current context)' },
  { flags: '-o, --output <format>', description: 'output format', choices: ['text', 'json'], defaultValue: 'text' },
  { flags: '-v, --verbose', description: 'print each API call (never credentials or tokens) and unchanged resources' },
  { flags: '--no-color', description: 'disable colours (also NO_COLOR, or when stdout is not a terminal)' },
];

const APPLY_OPTIONS: OptionSpec[] = [
  { flags: '--approve', description: 'apply the plan (without it, irsa only prints the plan)' },
  { flags: '--detailed-exitcode', description: 'exit 0 when nothing changes, 2 when changes are planned or applied, 1 on error' },
];

const ISSUER_OPTIONS: OptionSpec[] = [
  { flags: '--thumbprint <hex>', description: 'use this thumbprint instead of computing it (repeatable, at most 5)', repeatable: true },
  { flags: '--no-thumbprint', description: 'send no thumbprint and let IAM obtain it (existing thumbprints are left alone)' },
  { flags: '--ca-bundle <file>', description: 'extra PEM CA certificates to trust when fetching the issuer (added to the system store and NODE_EXTRA_CA_CERTS)' },
];

export const COMMANDS: CommandSpec[] = [
  {
    name: 'associate-oidc',
    summary: 'create the IAM OIDC identity provider for a cluster\'s issuer',
    description:
      'Discovers the cluster\'s OIDC issuer (eks:DescribeCluster) or takes --issuer-url, computes the TLS thumbprint the way AWS documents it, and plans the IAM OIDC provider with client ID sts.amazonaws.com.',
    options: [
      { flags: '--cluster <name>', description: 'EKS cluster name' },
      { flags: '--issuer-url <url>', description: 'OIDC issuer URL of a self-managed cluster (https only), instead of --cluster' },
      ...ISSUER_OPTIONS,
      ...APPLY_OPTIONS,
    ],
    load: () => import('./associate-oidc.ts'),
  },
];
