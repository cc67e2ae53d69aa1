// Pure helpers behind the wizard's lists: filtering as the user types, the policy cache, and
// turning the names.ts validators into as-you-type hints.

import { UserError } from '../../core/errors.ts';
import type { IamGateway } from '../../ports.ts';

/** Commercial regions offered for filtering; any other region name can be typed. */
export const REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'af-south-1', 'ap-east-1', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-northeast-1', 'ap-northeast-2',
  'ap-northeast-3', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2',
  'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1', 'il-central-1', 'me-south-1', 'me-central-1', 'sa-east-1',
];

export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;

/**
 * Items whose name contains every whitespace-separated word of the term (case-insensitive),
 * best first: exact name, then prefix, then shorter names (AWS has many near-duplicates).
 */
export function filterByTerm<T>(items: readonly T[], term: string, name: (item: T) => string, group: (item: T) => number = () => 0): T[] {
  const words = term.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...items];
  const whole = term.trim().toLowerCase();
  const rank = (item: T) => {
    const value = name(item).toLowerCase();
    if (value === whole) return 0;
    if (value.startsWith(words[0]!)) return 1;
    return 2;
  };
  return items
    .filter((item) => {
      const value = name(item).toLowerCase();
      return words.every((word) => value.includes(word));
    })
    .sort((a, b) => group(a) - group(b) || rank(a) - rank(b) || name(a).length - name(b).length || name(a).localeCompare(name(b)));
}

export interface PolicySummary {
  arn: string;
  name: string;
}

export const isAwsManaged = (arn: string): boolean => /^arn:[\w-]+:iam::aws:policy\//.test(arn);

/** Policies attached to AWS service roles and service-linked roles, not meant for workloads. */
export const isServiceRolePolicy = (arn: string): boolean => /:policy\/(aws-service-role|service-role)\//.test(arn);

/** 0 customer managed, 1 AWS managed, 2 AWS managed for service roles: the order lists show. */
export const policyRank = (arn: string): number => (isServiceRolePolicy(arn) ? 2 : isAwsManaged(arn) ? 1 : 0);

/**
 * iam:ListPolicies for AWS and customer managed policies, fetched once per session (about 1,400
 * policies, several pages) so the typeahead filters in memory. A failed load is retried on next use.
 */
export function createPolicyCache(iam: () => Promise<IamGateway>): { load(): Promise<PolicySummary[]> } {
  let pending: Promise<PolicySummary[]> | undefined;
  return {
    load() {
      pending ??= (async () => {
        const policies = await (await iam()).listPolicies('All');
        // Customer managed first: those are the ones made for this account; policies for service
        // roles and service-linked roles (paths /service-role/, /aws-service-role/) last — they
        // are made for AWS services, rarely for a pod.
        return [...policies].sort((a, b) => policyRank(a.arn) - policyRank(b.arn) || a.name.localeCompare(b.name));
      })();
      pending.catch(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}

/** Turns an `assert…` validator into a result for inquirer-style validation: true or the message. */
export function validateWith(assert: (value: string) => void): (value: string) => true | string {
  return (value) => {
    try {
      assert(value);
      return true;
    } catch (error) {
      if (error instanceof UserError) return stripField(error.message);
      throw error;
    }
  };
}

/** The short, as-you-type form of a validator's message: no field name, no repeated value. */
export function hintWith(assert: (value: string) => void): (value: string) => string | null {
  const validate = validateWith(assert);
  return (value) => {
    if (value === '') return null;
    const result = validate(value);
    return result === true ? null : result.replace(/^"[^"]*" /, '');
  };
}

/**
 * A validator's message for the wizard, which has no flags: "--name: "X" is not…" → ""X" is
 * not…", without the sentences or clauses that advise a flag ("omit --role-name to …").
 */
export const stripField = (message: string): string =>
  message
    .replace(/^-{0,2}[\w.-]+: /, '')
    .split(/(?<=[.;])\s+/)
    .filter((part) => !/(^|\s)--[a-z]/.test(part))
    .join(' ')
    .replace(/;$/, '.');

/** Policy ARNs pasted as one line: separated by spaces, commas or newlines. */
export const splitArns = (text: string): string[] => text.split(/[\s,]+/).map((part) => part.trim()).filter(Boolean);
