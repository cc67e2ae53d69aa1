// Validation of a Pod Identity binding's own fields, before any call: the role and target role
// ARNs, disableSessionTags and the session policy. Each problem names the field in the entry
// point's terms (a flag or an irsa.yaml key, passed in) and the fix, so the user sees all of them
// at once and nothing is written.
//
// Rules (Amazon EKS API Reference, CreatePodIdentityAssociation / PodIdentityAssociation):
// - roleArn is required and is a role in the cluster's account; a role in another account is
//   reached through targetRoleArn (role chaining: EKS assumes roleArn, then targetRoleArn);
// - policy: "an optional IAM policy in JSON format (as an escaped string)", at most 2,048
//   characters, and only with disableSessionTags = true (a session policy and session tags
//   together are refused);
// - namespace and serviceAccount cannot be updated: a change is a delete and a create.

import { parseArn } from './arn.ts';
import { clusterArnAccount } from './pods-eks-trust.ts';

/** The API's limit on an association's session policy (characters of the string sent). */
export const SESSION_POLICY_MAX = 2048;

export interface PodIdentityFields {
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  /** The session policy as the user gave it (JSON text), or null. */
  sessionPolicy: string | null;
}

/** Where each field comes from, in the entry point's terms (`--target-role-arn`, `targetRoleArn`). */
export interface PodIdentityFieldNames {
  roleArn: string;
  targetRoleArn: string;
  disableSessionTags: string;
  sessionPolicy: string;
}

export const FLAG_NAMES: PodIdentityFieldNames = {
  roleArn: '--role-arn',
  targetRoleArn: '--target-role-arn',
  disableSessionTags: '--disable-session-tags',
  sessionPolicy: '--session-policy',
};

export const YAML_NAMES: PodIdentityFieldNames = {
  roleArn: 'roleArn',
  targetRoleArn: 'targetRoleArn',
  disableSessionTags: 'disableSessionTags',
  sessionPolicy: 'sessionPolicy',
};

export interface FieldProblem {
  field: string;
  message: string;
}

export interface ValidPodIdentityFields {
  roleArn: string;
  targetRoleArn: string | null;
  disableSessionTags: boolean;
  /** The session policy as sent: compact JSON (whitespace does not count against the limit then). */
  policy: string | null;
}

const roleAccount = (value: string): string | null => {
  const arn = parseArn(value);
  return arn && arn.service === 'iam' && /^role\//.test(arn.resource) && /^\d{12}$/.test(arn.account) ? arn.account : null;
};

/** The fields a problem can be about (the binding's role is `roleArn`). */
export type PodIdentityField = keyof PodIdentityFieldNames;

export interface SettingProblem {
  field: PodIdentityField;
  /** Without the field's own name in front (the entry point puts it there). */
  message: string;
}

/**
 * The binding's own Pod Identity settings, without the role (which the planner knows only after
 * the reads): the target role's shape, and the session policy (JSON, size, the session-tags rule).
 * Returns the compact policy as sent, and every problem. Pure; no call.
 */
export function podIdentitySettingProblems(
  fields: Omit<PodIdentityFields, 'roleArn'> & { roleArn?: string | null },
  names: PodIdentityFieldNames,
): { policy: string | null; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  if (fields.targetRoleArn !== null) {
    if (!roleAccount(fields.targetRoleArn)) {
      problems.push({ field: 'targetRoleArn', message: `"${fields.targetRoleArn}" is not an IAM role ARN. Expected arn:aws:iam::<12-digit account>:role/<name>.` });
    } else if (fields.roleArn && fields.targetRoleArn === fields.roleArn) {
      problems.push({ field: 'targetRoleArn', message: `is the association's own role; leave ${names.targetRoleArn} out, or name a different role to chain into.` });
    }
  }
  let policy: string | null = null;
  if (fields.sessionPolicy !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fields.sessionPolicy);
    } catch (error) {
      problems.push({ field: 'sessionPolicy', message: `is not valid JSON (${(error as Error).message}). Give an IAM policy document: {"Version":"2012-10-17","Statement":[…]}.` });
    }
    if (parsed !== undefined) {
      const statements = (parsed as { Statement?: unknown } | null)?.Statement;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || statements === undefined) {
        problems.push({ field: 'sessionPolicy', message: 'is not an IAM policy document: it needs a "Statement". Give {"Version":"2012-10-17","Statement":[…]}.' });
      } else {
        policy = JSON.stringify(parsed);
        if (policy.length > SESSION_POLICY_MAX) {
          problems.push({
            field: 'sessionPolicy',
            message: `${policy.length} characters without whitespace; EKS accepts at most ${SESSION_POLICY_MAX}. Shorten it (fewer statements, wildcards in resource ARNs) or put the permissions in the role's own policies.`,
          });
        }
      }
    }
    if (!fields.disableSessionTags) {
      problems.push({
        field: 'disableSessionTags',
        message: `is needed by ${names.sessionPolicy}: EKS refuses a session policy while session tags are on. Set ${names.disableSessionTags} (the role's trust can then only be narrowed to the cluster, not the ServiceAccount), or drop ${names.sessionPolicy}.`,
      });
    }
  }
  return { policy, problems };
}

/**
 * Checks the fields against the cluster; returns the normalised values or every problem found
 * (each message starts with the field's name). The session policy is sent compacted
 * (JSON.stringify of the parsed document), and its size is measured on that form: the text the
 * API receives.
 */
export function validatePodIdentityFields(
  fields: PodIdentityFields,
  clusterArn: string,
  names: PodIdentityFieldNames,
): { ok: true; value: ValidPodIdentityFields } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const clusterAccount = clusterArnAccount(clusterArn);
  if (!fields.roleArn) {
    // eksctl#8718: an update that sent an empty roleArn. irsa never plans one.
    problems.push({ field: names.roleArn, message: `${names.roleArn}: is empty. Give the ARN of the role the association names (arn:aws:iam::<account>:role/<name>).` });
  } else {
    const problem = roleAccountProblem(fields.roleArn, clusterAccount, names);
    if (problem) problems.push({ field: names.roleArn, message: `${names.roleArn}: ${problem}` });
  }
  const settings = podIdentitySettingProblems(fields, names);
  problems.push(...settings.problems.map((problem) => ({ field: names[problem.field], message: `${names[problem.field]}: ${problem.message}` })));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: { roleArn: fields.roleArn, targetRoleArn: fields.targetRoleArn, disableSessionTags: fields.disableSessionTags, policy: settings.policy } };
}

/**
 * The association's role must be in the cluster's account (CreatePodIdentityAssociation: a role
 * of another account is reached through targetRoleArn). Null when it is; the problem otherwise.
 */
export function roleAccountProblem(roleArn: string, clusterAccount: string | null, names: Pick<PodIdentityFieldNames, 'targetRoleArn'>): string | null {
  const account = roleAccount(roleArn);
  if (!account) return `"${roleArn}" is not an IAM role ARN. Expected arn:aws:iam::<12-digit account>:role/<name>.`;
  if (clusterAccount && account !== clusterAccount) {
    return `${roleArn} is in account ${account}, the cluster in ${clusterAccount}. An association's role must be in the cluster's account; to use a role of account ${account}, name it with ${names.targetRoleArn} and let irsa create the association's role in ${clusterAccount}.`;
  }
  return null;
}

/** The mechanisms an entry point may name (core/mechanisms/registry.ts registers each). */
export const MECHANISM_CHOICES = ['irsa', 'pod-identity'] as const;
