// Validates an IAM permission policy document given by the user (file or inline YAML) before
// anything is written: JSON, statements with Effect and Action, and IAM's inline size limit.

import { UserError } from './errors.ts';
import { policySize } from './trust-policy.ts';

export function parsePolicyDocument(text: string, where: string): unknown {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${where}: not valid JSON (${(error as Error).message}). An IAM policy is a JSON document with "Version" and "Statement".`, where);
  }
  const statements = (document as { Statement?: unknown })?.Statement;
  if (!document || typeof document !== 'object' || statements === undefined || (typeof statements !== 'object')) {
    throw new UserError(`${where}: not an IAM policy document (it needs a "Statement" list, and "Version": "2012-10-17").`, where);
  }
  for (const statement of Array.isArray(statements) ? statements : [statements]) {
    const s = statement as Record<string, unknown>;
    if (s['Effect'] !== 'Allow' && s['Effect'] !== 'Deny') {
      throw new UserError(`${where}: every statement needs "Effect": "Allow" or "Deny".`, where);
    }
    if (s['Action'] === undefined && s['NotAction'] === undefined) {
      throw new UserError(`${where}: every statement needs "Action" (or "NotAction").`, where);
    }
  }
  if (policySize(document) > 10_240) {
    throw new UserError(`${where}: the policy is ${policySize(document)} characters without whitespace; IAM allows 10240 for a role's inline policies.`, where);
  }
  return document;
}
