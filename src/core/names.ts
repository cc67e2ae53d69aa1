// Naming and validation rules: IAM role names/paths/tags and Kubernetes DNS-1123 names.
// Every check here runs before the first write.

import { createHash } from 'node:crypto';
import { UserError } from './errors.ts';

export const ROLE_NAME_MAX = 64;
const ROLE_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function assertRoleName(value: string, field = '--role-name'): void {
  if (!ROLE_NAME_PATTERN.test(value)) {
    const reason = value.length > ROLE_NAME_MAX ? `is ${value.length} characters long (IAM allows 64)` : 'contains characters IAM does not allow';
    throw new UserError(
      `${field}: "${value}" ${reason}. Role names are 1–64 characters of letters, digits and + = , . @ _ -; omit ${field} to get a generated name that always fits.`,
      field,
    );
  }
}

export function assertRolePath(value: string, field = '--path'): void {
  if (!/^\/([\x21-\x2e\x30-\x7e]+\/)*$/.test(value) || value.length > 512) {
    throw new UserError(`${field}: "${value}" is not an IAM path. Use "/" or "/segment/.../" (starts and ends with "/", at most 512 characters).`, field);
  }
}

export function assertNamespace(value: string, field = '--namespace'): void {
  if (value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new UserError(
      `${field}: "${value}" is not a valid Kubernetes namespace. Use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit (DNS-1123 label).`,
      field,
    );
  }
}

export function assertServiceAccountName(value: string, field = '--name'): void {
  if (value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw new UserError(
      `${field}: "${value}" is not a valid ServiceAccount name. Use at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123 subdomain).`,
      field,
    );
  }
}

export function assertClusterName(value: string, field = '--cluster'): void {
  if (!/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/.test(value)) {
    throw new UserError(`${field}: "${value}" is not a valid EKS cluster name (1–100 letters, digits, '-' and '_', starting with a letter or digit).`, field);
  }
}

/** IAM tag limits: ≤ 50 tags, key ≤ 128, value ≤ 256, no `aws:` prefix. */
export function assertTags(tags: Record<string, string>, field = '--tags'): void {
  const entries = Object.entries(tags);
  if (entries.length > 50) throw new UserError(`${field}: ${entries.length} tags given; IAM allows 50 per role.`, field);
  for (const [key, value] of entries) {
    // irsa:* tags are irsa's own (ownership, cluster, ServiceAccount: core/ownership.ts) and aws:*
    // is reserved by AWS (IAM User Guide, "Tagging IAM resources"): refused, never silently dropped.
    const prefix = /^(irsa|aws):/i.exec(key)?.[1]?.toLowerCase();
    if (prefix) {
      throw new UserError(
        prefix === 'irsa'
          ? `${field}: tag key "${key}" is reserved: irsa sets the irsa:* tags itself (irsa:managed-by, irsa:cluster, irsa:namespace, irsa:service-account). Use a key without the irsa: prefix.`
          : `${field}: tag key "${key}" is reserved by AWS (keys starting with aws: cannot be set). Use a key without the aws: prefix.`,
        field,
      );
    }
    if (key.length === 0 || key.length > 128 || key.toLowerCase().startsWith('aws:') || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(key)) {
      throw new UserError(`${field}: tag key "${key}" is not allowed (1–128 letters, digits, spaces and _ . : / = + - @; not starting with "aws:").`, field);
    }
    if (value.length > 256 || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u.test(value)) {
      throw new UserError(`${field}: the value of tag "${key}" is not allowed (at most 256 letters, digits, spaces and _ . : / = + - @).`, field);
    }
  }
}

/** Parses `k=v,k2=v2` (the aws CLI / eksctl shorthand). */
export function parseTagList(value: string, field = '--tags'): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`${field}: "${pair}" is not key=value. Write tags as ${field} team=payments,env=prod.`, field);
    tags[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return tags;
}

const shortHash = (value: string): string => createHash('sha256').update(value).digest('hex').slice(0, 8);

/**
 * Deterministic default role name `irsa-<cluster>-<namespace>-<name>`. When that is too long,
 * the parts are trimmed and a hash of the full triple keeps names unique and stable across runs.
 */
export function defaultRoleName(cluster: string, namespace: string, name: string): string {
  const sanitize = (part: string) => part.replace(/[^\w+=,.@-]/g, '-');
  const full = `irsa-${sanitize(cluster)}-${sanitize(namespace)}-${sanitize(name)}`;
  if (full.length <= ROLE_NAME_MAX) return full;
  const hash = shortHash(`${cluster}\u0000${namespace}\u0000${name}`);
  const budget = ROLE_NAME_MAX - 'irsa-'.length - hash.length - 3; // three separators
  const parts = [sanitize(cluster), sanitize(namespace), sanitize(name)];
  // Trim the longest part first so every part keeps a recognisable prefix.
  while (parts.reduce((sum, part) => sum + part.length, 0) > budget) {
    const longest = parts.reduce((best, part, i) => (part.length > parts[best]!.length ? i : best), 0);
    parts[longest] = parts[longest]!.slice(0, -1);
  }
  return `irsa-${parts.join('-')}-${hash}`.replace(/-+/g, '-');
}
