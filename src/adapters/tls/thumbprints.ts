// The thumbprint procedure end to end: discovery → the issuer's host and port, and the jwks_uri's
// when different → presented chain → last certificate → SHA-1.

import { expiryWarnings, pickThumbprintCertificate, thumbprintTargets } from '../../core/thumbprint.ts';
import type { TlsChainFetcher } from '../../ports.ts';

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

export async function resolveThumbprints(
  fetcher: TlsChainFetcher,
  issuerUrl: string,
  now: Date,
): Promise<{ thumbprints: string[]; warnings: string[]; jwksUri: string }> {
  const discovery = await fetcher.fetchDiscovery(issuerUrl);
  const warnings: string[] = [];
  // STS compares the token's iss with the provider URL; a discovery document naming another issuer
  // is the usual sign of a wrong --issuer-url or kube-apiserver --service-account-issuer.
  if (withoutTrailingSlash(discovery.issuer) !== withoutTrailingSlash(issuerUrl)) {
    warnings.push(`the discovery document of ${issuerUrl} names the issuer ${discovery.issuer}; tokens carry that issuer, so the OIDC provider URL should match it`);
  }
  const results = await Promise.all(
    thumbprintTargets(issuerUrl, discovery.jwksUri).map(async ({ host, port }) => {
      const certificate = pickThumbprintCertificate(await fetcher.presentedChain(host, port));
      return { sha1: certificate.sha1, warnings: expiryWarnings(certificate, now).map((warning) => `${host}:${port}: ${warning}`) };
    }),
  );
  return {
    // Issuer first, then jwks_uri; one entry when both hosts present the same CA.
    thumbprints: [...new Set(results.map((result) => result.sha1))],
    warnings: [...warnings, ...results.flatMap((result) => result.warnings)],
    jwksUri: discovery.jwksUri,
  };
}
