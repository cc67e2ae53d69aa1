// The thumbprint procedure end to end: discovery → jwks_uri host and port (and the issuer's when
// different) → presented chain → last certificate → SHA-1.

import { expiryWarnings, pickThumbprintCertificate, thumbprintTargets } from '../../core/thumbprint.ts';
import type { TlsChainFetcher } from '../../ports.ts';

export async function resolveThumbprints(
  fetcher: TlsChainFetcher,
  issuerUrl: string,
  now: Date,
): Promise<{ thumbprints: string[]; warnings: string[]; jwksUri: string }> {
  const { jwksUri } = await fetcher.fetchDiscovery(issuerUrl);
  const targets = thumbprintTargets(issuerUrl, jwksUri);
  const results = await Promise.all(
    targets.map(async ({ host, port }) => {
      const certificate = pickThumbprintCertificate(await fetcher.presentedChain(host, port));
      return { sha1: certificate.sha1, warnings: expiryWarnings(certificate, `${host}:${port}`, now) };
    }),
  );
  return {
    thumbprints: [...new Set(results.map((result) => result.sha1))],
    warnings: results.flatMap((result) => result.warnings),
    jwksUri,
  };
}
