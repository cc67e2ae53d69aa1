// The thumbprint maths of the AWS IAM User Guide ("Obtaining the thumbprint for an OpenID Connect
// identity provider"): which certificate counts, where it is read, and how it is written.
// Pure: fetching lives in src/adapters/tls.

import { UserError } from './errors.ts';
import type { PresentedCertificate } from './state.ts';

export const THUMBPRINT_EXPIRY_WARNING_DAYS = 180;

const DAY_MS = 86_400_000;

/**
 * The last certificate the server presents: the top intermediate CA of the chain it sends (or the
 * root, if it sends one; or the leaf itself when it is self-signed and alone), as the AWS docs say.
 */
export function pickThumbprintCertificate(chain: PresentedCertificate[]): PresentedCertificate {
  const last = chain.at(-1);
  if (!last) throw new UserError('the server presented no certificate, so there is no thumbprint to take; pass --thumbprint <40 hex> or --no-thumbprint');
  return last;
}

export interface HostPort {
  host: string;
  port: number;
}

function hostPort(value: string): HostPort {
  const url = new URL(value);
  // URL keeps IPv6 brackets in hostname; sockets want the bare address.
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443) };
}

/**
 * Where thumbprints are read: the issuer's host and port, then the jwks_uri's when they differ
 * (IAM wants both then). URL already lower-cases host names and drops an explicit :443.
 */
export function thumbprintTargets(issuerUrl: string, jwksUri: string): HostPort[] {
  const targets = [hostPort(issuerUrl), hostPort(jwksUri)];
  return targets.filter((target, index) => targets.findIndex((t) => t.host === target.host && t.port === target.port) === index);
}

export const isValidThumbprint = (hex: string): boolean => /^[0-9a-f]{40}$/.test(hex);

/** Accepts what users paste (upper case, colon- or space-separated, openssl's "SHA1 Fingerprint=") and returns 40 lowercase hex. */
export function normalizeThumbprint(value: string, field = '--thumbprint'): string {
  const hex = value
    .trim()
    .replace(/^sha-?1\s*fingerprint\s*=\s*/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  if (!isValidThumbprint(hex)) {
    throw new UserError(
      `${field}: "${value}" is not a SHA-1 thumbprint. Give 40 hexadecimal characters (colons allowed), e.g. the output of openssl x509 -noout -fingerprint -sha1.`,
      field,
    );
  }
  return hex;
}

/** A warning when the certificate whose thumbprint IAM will store expires within `days` (or already has). */
export function expiryWarnings(cert: PresentedCertificate, now: Date, days = THUMBPRINT_EXPIRY_WARNING_DAYS): string[] {
  const expires = new Date(cert.validTo);
  if (Number.isNaN(expires.getTime())) return [];
  const left = Math.floor((expires.getTime() - now.getTime()) / DAY_MS);
  if (left > days) return [];
  const date = expires.toISOString().slice(0, 10);
  const when = left < 0 ? `expired on ${date}` : `expires ${date}, in ${left} day${left === 1 ? '' : 's'}`;
  return [
    `the certificate whose thumbprint IAM stores (${cert.subject}) ${when}; after the server rotates it, run irsa associate-oidc again to update the thumbprint`,
  ];
}

export function assertHttpsIssuer(value: string, field = '--issuer-url'): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`${field}: "${value}" is not a URL. Give the cluster's service-account issuer, e.g. https://oidc.example.com.`, field);
  }
  if (url.protocol !== 'https:') {
    throw new UserError(
      `${field}: "${value}" is not https. IAM only trusts OIDC issuers served over https; give the https:// issuer URL (kube-apiserver --service-account-issuer).`,
      field,
    );
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new UserError(`${field}: "${value}" has a query, fragment or user part; an OIDC issuer URL has none. Give https://host[:port][/path].`, field);
  }
}

/** host[:port][/path] of an issuer, as IAM stores the provider URL and names condition keys. */
export function issuerHostPath(issuerUrl: string): string {
  return issuerUrl.trim().replace(/^https:\/\//i, '').replace(/\/+$/, '');
}
