// The few error classes irsa uses. Only src/cli.ts turns them into messages and exit codes.
// A conflict with what exists (a role irsa did not create, an SA bound elsewhere) is not an error:
// it is a Blocker in the plan (core/plan.ts), shown with the plan and the only reason apply refuses.

/** Bad input or a state the user must fix. Message: field, bad value, fix. Exit code 1. */
export class UserError extends Error {
  override name = 'UserError';
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
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

/** A server (the Kubernetes apiserver, an AWS endpoint) could not be reached at all: not a permission problem. */
export class UnreachableError extends RemoteError {
  override name = 'UnreachableError';
}

/** A bug in irsa. */
export class InternalError extends Error {
  override name = 'InternalError';
}
