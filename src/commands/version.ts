import { readFileSync } from 'node:fs';

/** The package version; dist/*.js and src/*.ts both resolve package.json relative to the package root. */
export function packageVersion(): string {
  for (const relative of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'irsa') return pkg.version;
    } catch {
      // try the next level up
    }
  }
  return '0.0.0';
}
