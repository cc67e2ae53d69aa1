// The few error classes irsa uses. Only src/cli.ts turns them into messages and exit codes.

/** Bad input or a state the user must fix. Message: field, bad value, fix. Exit code 1. */
export class UserError extends Error {
  override name = 'UserError';
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

/** What exists conflicts with what was asked (e.g. an SA bound to another role). */
export class ConflictError extends UserError {
  override name = 'ConflictError';
}

/** Several validation errors found at once, reported together. */
export class ValidationErrors extends UserError {
  override name = 'ValidationErrors';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** A cloud or cluster call failed in a way the user can act on (access denied, unreachable). */
export class RemoteError extends Error {
  override name = 'RemoteError';
}

/** A bug in irsa. */
export class InternalError extends Error {
  override name = 'InternalError';
}
