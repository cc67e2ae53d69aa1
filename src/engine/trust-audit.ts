// Reads for `irsa audit --iam`: every role in one paginated read, the account's OIDC providers,
// and whether each referenced provider's issuer still answers discovery (bounded, in parallel).

import pMap from 'p-map';
import { lintTrust, referencedProviders, type TrustLintReport } from '../core/trust-lint.ts';
import { providerHostPath } from '../core/trust-merge.ts';
import type { IamGateway, TlsChainFetcher } from '../ports.ts';

export async function auditTrust(
  iam: IamGateway,
  fetcher: TlsChainFetcher,
  options: { pathPrefix?: string; trustPolicySizeLimit?: number; concurrency?: number },
): Promise<TrustLintReport> {
  const [roles, providerArns] = await Promise.all([iam.listRoleDetails(options.pathPrefix), iam.listOidcProviderArns()]);
  const unreachableIssuers = new Map<string, string>();
  await pMap(
    referencedProviders(roles, providerArns),
    async (arn) => {
      try {
        await fetcher.fetchDiscovery(`https://${providerHostPath(arn)}`);
      } catch (error) {
        unreachableIssuers.set(arn, (error as Error).message.split('\n')[0]!);
      }
    },
    { concurrency: options.concurrency ?? 8 },
  );
  return lintTrust({
    roles,
    providerArns,
    unreachableIssuers,
    ...(options.trustPolicySizeLimit !== undefined ? { trustPolicySizeLimit: options.trustPolicySizeLimit } : {}),
  });
}
