// When a managed policy ARN does not exist, find the names it was probably meant to be: read the
// account's and AWS's policy lists (only on this error path) and let core/suggest.ts choose.

import { parseArn } from '../core/arn.ts';
import { closestNames } from '../core/suggest.ts';
import type { IamGateway } from '../ports.ts';

/** " Did you mean <arn>?" for the missing ARNs that have a close existing name ("" when none). */
export async function missingPolicyHint(iam: Pick<IamGateway, 'listPolicies'>, missing: string[]): Promise<string> {
  const lines = await describeMissingPolicies(iam, missing);
  const hints = lines.map((line) => /\(did you mean (.*)\?\)$/.exec(line)?.[1]).filter((hint): hint is string => !!hint);
  return hints.length > 0 ? ` Did you mean ${hints.join(', ')}?` : '';
}

/** One line per missing ARN: the ARN, and "did you mean …" when a close name exists. */
export async function describeMissingPolicies(iam: Pick<IamGateway, 'listPolicies'>, missing: string[]): Promise<string[]> {
  const awsManaged = missing.some((arn) => parseArn(arn)?.account === 'aws');
  const local = missing.some((arn) => parseArn(arn)?.account !== 'aws');
  const [awsPolicies, localPolicies] = await Promise.all([
    awsManaged ? iam.listPolicies('AWS').catch(() => []) : [],
    local ? iam.listPolicies('Local').catch(() => []) : [],
  ]);
  return missing.map((arn) => {
    const pool = parseArn(arn)?.account === 'aws' ? awsPolicies : localPolicies;
    const byArn = new Map(pool.map((policy) => [policy.arn, policy]));
    const name = arn.split('/').pop() ?? arn;
    const close = closestNames(name, pool.map((policy) => policy.name));
    const suggestions = close.map((candidate) => [...byArn.values()].find((policy) => policy.name === candidate)!.arn);
    return suggestions.length > 0 ? `${arn} (did you mean ${suggestions.join(' or ')}?)` : arn;
  });
}
