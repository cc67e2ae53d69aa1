// Where irsa writes a file the user named (--out): never onto its own input, and never over an
// existing file of another kind unless --overwrite says so. A config file overwritten with plan
// JSON is lost work; checked before anything is read from AWS or Kubernetes.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../core/errors.ts';

const samePath = (a: string, b: string): boolean => {
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  return real(a) === real(b);
};

/**
 * Refuses `out` when it is one of `inputs`, or an existing file that `isOurs` does not recognise
 * (a previous saved plan may be replaced; anything else needs --overwrite).
 */
export function assertWritableOut(
  out: string,
  options: { inputs: string[]; overwrite: boolean; what: string; isOurs: (text: string) => boolean; suggestion: string; existingIsNever?: boolean },
): void {
  for (const input of options.inputs) {
    if (samePath(out, input)) {
      throw new UserError(`--out: "${out}" is the input file; writing ${options.what} there would destroy it. Give another path, e.g. --out ${options.suggestion}.`, '--out');
    }
  }
  if (options.overwrite || !existsSync(out)) return;
  let text = '';
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    // unreadable (a directory, no permission): not ours
  }
  if (!options.isOurs(text)) {
    throw new UserError(`--out: "${out}" already exists${options.existingIsNever ? '' : ` and is not ${options.what}`}; nothing was written. Give another path, or pass --overwrite to replace it.`, '--out');
  }
}
