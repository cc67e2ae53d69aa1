// Reads what a plan for an issuer's OIDC provider needs (account, provider, thumbprints) and
// hands it to the pure planner. Shared by associate-oidc and create-sa-role.

import { oidcProviderArn, partitionForRegion } from '../core/arn.ts';
import { UserError } from '../core/errors.ts';
import { providerOwnershipTags } from '../core/ownership.ts';
import type { ChangeOf } from '../core/plan.ts';
import { planOidcProvider, type DesiredOidcProvider } from '../core/resources/oidc-provider.ts';
import { assertHttpsIssuer, issuerHostPath, normalizeThumbprint } from '../core/thumbprint.ts';
import { DEFAULT_AUDIENCE } from '../core/trust-policy.ts';
import type { ClusterInfo, OidcProviderState } from '../core/state.ts';
import type { ClusterReader, IamGateway } from '../ports.ts';

export interface ThumbprintChoice {
  /** User-given thumbprints (--thumbprint), already normalised. */
  given: string[];
  /** --no-thumbprint: let IAM obtain them. */
  none: boolean;
}

export function parseThumbprintOptions(options: Record<string, unknown>): ThumbprintChoice {
  // commander keeps one property for --thumbprint <hex> and --no-thumbprint: a list of the given
  // values, or false when --no-thumbprint came last. Never assume it is a list.
  const value = options['thumbprint'];
  const given = (Array.isArray(value) ? (value as string[]) : []).map((hex) => normalizeThumbprint(hex));
  const none = value === false;
  if (given.length > 5) throw new UserError(`--thumbprint: ${given.length} given; IAM allows at most 5 per provider.`, '--thumbprint');
  return { given: [...new Set(given)], none };
}

/** The issuer of --cluster (via eks:DescribeCluster) or --issuer-url, validated. */
export async function resolveIssuer(
  input: { cluster?: string; issuerUrl?: string; region: string },
  clusters: () => Promise<ClusterReader>,
): Promise<{ issuerUrl: string; cluster: ClusterInfo | null }> {
  if (input.cluster && input.issuerUrl) {
    throw new UserError('--cluster and --issuer-url were both given. Use --cluster for EKS, or --issuer-url for a self-managed cluster.', '--issuer-url');
  }
  if (input.issuerUrl) {
    assertHttpsIssuer(input.issuerUrl);
    return { issuerUrl: input.issuerUrl.replace(/\/$/, ''), cluster: null };
  }
  if (!input.cluster) throw new UserError('--cluster is required (or --issuer-url for a self-managed cluster).', '--cluster');
  const reader = await clusters();
  const cluster = await reader.describeCluster(input.cluster);
  if (!cluster) {
    throw new UserError(
      `--cluster: no EKS cluster named "${input.cluster}" in region ${input.region}. Check the name with "aws eks list-clusters --region ${input.region}", or pass --region.${reader.lookupHint ? ` ${reader.lookupHint}` : ''}`,
      '--cluster',
    );
  }
  if (!cluster.issuerUrl) {
    throw new UserError(`--cluster: cluster "${input.cluster}" reports no OIDC issuer (identity.oidc.issuer is empty); it cannot use IRSA until it has one.`, '--cluster');
  }
  assertHttpsIssuer(cluster.issuerUrl);
  return { issuerUrl: cluster.issuerUrl.replace(/\/$/, ''), cluster };
}

export interface ProviderPlanInput {
  issuerUrl: string;
  clusterName: string | null;
  region: string;
  account: string;
  thumbprints: ThumbprintChoice;
  audiences?: string[];
}

export interface ProviderPlanResult {
  change: ChangeOf<'oidc-provider'>;
  arn: string;
  warnings: string[];
}

/** What the provider's plan needs, read: the provider as it should be and as it is (core plans it). */
export interface ProviderRead {
  arn: string;
  desired: DesiredOidcProvider;
  observed: OidcProviderState | null;
  warnings: string[];
}

/** Reads the provider and the issuer's thumbprints side by side; nothing is decided here. */
export async function readProviderForIssuer(
  input: ProviderPlanInput,
  deps: { iam: IamGateway; resolveThumbprints: (issuerUrl: string) => Promise<{ thumbprints: string[]; warnings: string[] }> },
): Promise<ProviderRead> {
  const hostPath = issuerHostPath(input.issuerUrl);
  const arn = oidcProviderArn(partitionForRegion(input.region), input.account, hostPath);
  const warnings: string[] = [];
  const computeThumbprints = async (): Promise<string[] | null> => {
    if (input.thumbprints.none) return null;
    if (input.thumbprints.given.length > 0) return input.thumbprints.given;
    const resolved = await deps.resolveThumbprints(input.issuerUrl);
    warnings.push(...resolved.warnings);
    return resolved.thumbprints;
  };
  const [observed, thumbprints] = await Promise.all([deps.iam.getOidcProvider(arn), computeThumbprints()]);
  const desired: DesiredOidcProvider = {
    arn,
    url: hostPath,
    clientIds: input.audiences ?? [DEFAULT_AUDIENCE],
    thumbprints,
    tags: providerOwnershipTags(input.clusterName),
    account: input.account,
  };
  return { arn, desired, observed, warnings };
}

/** associate-oidc: the provider read and planned (the binding planners plan it from readProviderForIssuer). */
export async function planProviderForIssuer(
  input: ProviderPlanInput,
  deps: { iam: IamGateway; resolveThumbprints: (issuerUrl: string) => Promise<{ thumbprints: string[]; warnings: string[] }> },
): Promise<ProviderPlanResult> {
  const read = await readProviderForIssuer(input, deps);
  return { change: planOidcProvider(read.desired, read.observed), arn: read.arn, warnings: read.warnings };
}
