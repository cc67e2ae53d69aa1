// Turns the error classes of core/errors.ts into one-paragraph messages and exit codes. A list of
// problems is capped on screen (the first 20, then "and N more"); --output json carries every one.
// An unexpected error asks for a bug report; its stack trace is printed only with --debug.

import { InternalError, RemoteError, UserError, ValidationErrors } from '../core/errors.ts';

/** Problems shown on screen before "… and N more". */
export const SHOWN_PROBLEMS = 20;

export const plural = (count: number, word: string, many = `${word}s`): string => `${count} ${count === 1 ? word : many}`;

export function formatError(error: unknown, options: { debug?: boolean } = {}): { message: string; exitCode: number } {
  if (error instanceof ValidationErrors) {
    const { problems } = error;
    const shown = problems.slice(0, SHOWN_PROBLEMS).map((p) => `  - ${p}`);
    if (problems.length > SHOWN_PROBLEMS) shown.push(`  … and ${problems.length - SHOWN_PROBLEMS} more (--output json lists every one)`);
    return { message: `Error: ${plural(problems.length, 'problem')} found:\n${shown.join('\n')}`, exitCode: 1 };
  }
  if (error instanceof UserError || error instanceof RemoteError) {
    return { message: `Error: ${error.message}`, exitCode: 1 };
  }
  const summary = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
  const detail = options.debug ? `\n${error instanceof InternalError || error instanceof Error ? (error.stack ?? error.message) : String(error)}` : '\nRun it again with --debug to include the details in the report.';
  return {
    message: `irsa hit an unexpected error (${summary}). This is a bug; please report it with the command you ran (without secrets).${detail}`,
    exitCode: 1,
  };
}

/** The JSON form of an error (stdout with --output json): every problem, uncapped. */
export function errorToJson(error: unknown): { error: { message: string; field: string | null; problems: string[] } } {
  if (error instanceof ValidationErrors) return { error: { message: `${plural(error.problems.length, 'problem')} found`, field: null, problems: error.problems } };
  if (error instanceof UserError) return { error: { message: error.message, field: error.field ?? null, problems: [error.message] } };
  if (error instanceof RemoteError) return { error: { message: error.message, field: null, problems: [error.message] } };
  return { error: { message: formatError(error).message, field: null, problems: [] } };
}
