// IAM policy documents as data (trust policies, permission policies, resource policies). A base
// type: model/observed.ts and every policy module depend on it.

export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: { Federated?: string | string[]; AWS?: string | string[]; Service?: string | string[] } | '*';
  /** Absent when the statement uses NotAction. */
  Action?: string | string[];
  NotAction?: string | string[];
  NotPrincipal?: unknown;
  Condition?: ConditionBlock;
  [key: string]: unknown;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}
