// Where irsa writes a file the user named (--out): never onto its own input, and never over an
// existing file of another kind unless --overwrite says so. A config file overwritten with plan
// JSON is lost work; checked before anything is read from AWS or Kubernetes.
// The directory must exist already: irsa does not create directories (a typo in --out would
// otherwise leave a tree of them behind); the message gives the mkdir to run.

import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
  const directory = dirname(resolve(out));
  let isDirectory = false;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch {
    // missing: said below
  }
  if (!isDirectory) {
    throw new UserError(`--out: the directory of "${out}" (${directory}) does not exist; nothing was written. Create it first (mkdir -p ${dirname(out)}), or give a path in an existing directory.`, '--out');
  }
  try {
    accessSync(directory, constants.W_OK);
  } catch {
    throw new UserError(`--out: the directory ${directory} is not writable; nothing was written. Give a path in a directory you can write to.`, '--out');
  }
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new UserError(`--out: "${out}" is a directory; give a file path, e.g. --out ${out.replace(/\/$/, '')}/${options.suggestion}.`, '--out');
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

/** Writes the --out file; a failure (disk full, permissions changed since the check) is a user error naming --out. */
export function writeOut(out: string, text: string): void {
  try {
    writeFileSync(out, text);
  } catch (error) {
    throw new UserError(`--out: cannot write "${out}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`, '--out');
  }
}
