// The layout's promises, checked on the source: core is pure data (no I/O, no SDK, no YAML
// writer, no colours), and only ui/output.ts decides where text goes and whether it is coloured.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;
const files = (dir: string): string[] =>
  readdirSync(join(SRC, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
const importsOf = (file: string) => [...readFileSync(join(SRC, file), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]!);

test('src/core imports no I/O, SDK, YAML writer or painter', () => {
  const banned = /^(node:(fs|net|tls|http|https|child_process|process)|@aws-sdk\/|@kubernetes\/|yaml$|chalk$|commander$)/;
  for (const file of files('core')) {
    for (const module of importsOf(file)) assert.doesNotMatch(module, banned, `${file} imports ${module}`);
  }
});

test('plan, apply report, doctor, audit, list and trust-lint presenters live in src/ui; commands do not build colours themselves', () => {
  for (const file of files('commands')) {
    const source = readFileSync(join(SRC, file), 'utf8');
    assert.doesNotMatch(source, /new Chalk\(/, `${file} makes its own painter`);
    assert.doesNotMatch(source, /process\.stdout\.write\((render|JSON\.stringify)/, `${file} writes a rendering to stdout itself`);
  }
});
