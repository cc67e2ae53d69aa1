// The thumbprint maths of the AWS IAM User Guide ("Obtaining the thumbprint for an OpenID Connect
// identity provider"): which certificate counts, and how it is written. Fetching lives in
// src/adapters/tls.

import { UserError } from './errors.ts';
import type { PresentedCertificate } from './state.ts';

export const THUMBPRINT_EXPIRY_WARNING_DAYS = 180;

/** The last certificate the server presents: the top intermediate CA of the chain it sends. */
export function pickThumbprintCertificate(chain: PresentedCertificate[]): PresentedCertificate {
  const last = chain.at(-1);
  if (!last) throw new UserError('the server presented no certificate');
  return last;
}

export interface HostPort {
  host: string;
  port: number;
}

/** Where thumbprints come from: the jwks_uri host, and the issuer host too when it differs. */
export function thumbprintTargets(issuerUrl: string, jwksUri: string): HostPort[] {
  const toTarget = (value: string): HostPort => {
    const url = new URL(value);
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443) };
  };
  const targets = [toTarget(issuerUrl), toTarget(jwksUri)];
  return targets.filter((target, index) => targets.findIndex((t) => t.host === target.host && t.port === target.port) === index);
}

export const isValidThumbprint = (hex: string): boolean => /^[0-9a-f]{40}$/.test(hex);

/** Accepts what users paste (upper case, colon-separated as openssl prints it) and returns 40 lowercase hex. */
export function normalizeThumbprint(value: string, field = '--thumbprint'): string {
  const hex = value.trim().replace(/^sha1\s*fingerprint=/i, '').replace(/:/g, '').toLowerCase();
  if (!isValidThumbprint(hex)) {
    throw new UserError(
      `${field}: "${value}" is not a SHA-1 thumbprint. Give 40 hexadecimal characters (colons allowed), e.g. the output of openssl x509 -noout -fingerprint -sha1.`,
      field,
    );
  }
  return hex;
}

export function expiryWarnings(cert: PresentedCertificate, host: string, now: Date, days = THUMBPRINT_EXPIRY_WARNING_DAYS): string[] {
  const expires = new Date(cert.validTo);
  if (Number.isNaN(expires.getTime())) return [];
  const left = Math.floor((expires.getTime() - now.getTime()) / 86_400_000);
  if (left > days) return [];
  return [
    `the certificate whose thumbprint IAM stores for ${host} (${cert.subject}) expires ${expires.toISOString().slice(0, 10)}, in ${left} days; after it rotates, run irsa associate-oidc again to update the thumbprint`,
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
    throw new UserError(`${field}: "${value}" is not https. IAM only trusts OIDC issuers served over https; use the https:// issuer URL (kube-apiserver --service-account-issuer).`, field);
  }
  if (url.search || url.hash || url.username) {
    throw new UserError(`${field}: "${value}" has a query, fragment or user part; an OIDC issuer URL has none.`, field);
  }
}

/** host[:port][/path] of an issuer, as IAM stores the provider URL and names condition keys. */
export function issuerHostPath(issuerUrl: string): string {
  return issuerUrl.replace(/^https:\/\//, '').replace(/\/+$/, '');
}
