// ARN parsing and building. Resource parts may contain ':' (OIDC provider ARNs keep host:port).

import { UserError } from './errors.ts';

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

const ARN_PATTERN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws|):(.+)$/;

export function parseArn(value: string): Arn | null {
  const match = ARN_PATTERN.exec(value);
  if (!match) return null;
  return { partition: match[1]!, service: match[2]!, region: match[3]!, account: match[4]!, resource: match[5]! };
}

/** A role ARN: arn:aws:iam::<12 digits>:role[/path/]<name>. */
export function parseRoleArn(value: string, field: string): { account: string; path: string; name: string; partition: string } {
  const arn = parseArn(value);
  const match = arn && arn.service === 'iam' && /^\d{12}$/.test(arn.account) ? /^role(\/(?:[^/]+\/)*)?([\w+=,.@-]{1,64})$/.exec(arn.resource) : null;
  if (!arn || !match) {
    throw new UserError(
      `${field}: "${value}" is not an IAM role ARN. Expected arn:aws:iam::<12-digit account>:role/<name> (optionally with a path, e.g. role/team/<name>).`,
      field,
    );
  }
  return { account: arn.account, path: match[1] ?? '/', name: match[2]!, partition: arn.partition };
}

/** A managed policy ARN (customer: 12-digit account, AWS: `aws`). */
export function assertPolicyArn(value: string, field: string): void {
  const arn = parseArn(value);
  if (!arn || arn.service !== 'iam' || !/^policy\/(?:[^/]+\/)*[\w+=,.@-]{1,128}$/.test(arn.resource) || arn.account === '') {
    throw new UserError(
      `${field}: "${value}" is not an IAM policy ARN. Expected arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>.`,
      field,
    );
  }
}

export const roleArn = (partition: string, account: string, path: string, name: string): string =>
  `arn:${partition}:iam::${account}:role${path}${name}`;

export const oidcProviderArn = (partition: string, account: string, issuerHostPath: string): string =>
  `arn:${partition}:iam::${account}:oidc-provider/${issuerHostPath}`;

/** The partition for a region (aws-cn for cn-*, aws-us-gov for us-gov-*). */
export function partitionForRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * AWS region names: two-letter area, one or more words, a number (eu-west-1, us-gov-west-1,
 * us-isob-east-1, ap-southeast-7). Checked before any SDK call, which otherwise builds an endpoint
 * such as sts.mars-1.amazonaws.com and fails with an unreadable DNS or HTML-parse error.
 */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function assertRegion(region: string, field: string): void {
  if (!REGION_PATTERN.test(region)) {
    throw new UserError(
      `${field}: "${region}" is not an AWS region name. Give one such as eu-west-1, us-east-1 or us-gov-west-1 (\`aws account list-regions\` lists yours).`,
      field,
    );
  }
}
