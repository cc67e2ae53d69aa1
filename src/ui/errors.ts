// Turns the error classes of core/errors.ts into one-paragraph messages and exit codes.

import { InternalError, RemoteError, UserError, ValidationErrors } from '../core/errors.ts';

export function formatError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof ValidationErrors) {
    return { message: `Error: ${error.problems.length} problems found:\n${error.problems.map((p) => `  - ${p}`).join('\n')}`, exitCode: 1 };
  }
  if (error instanceof UserError || error instanceof RemoteError) {
    return { message: `Error: ${error.message}`, exitCode: 1 };
  }
  const detail = error instanceof InternalError || error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    message: `irsa hit an unexpected error. This is a bug; please report it with the command you ran (without secrets).\n${detail}`,
    exitCode: 1,
  };
}
