// The layering the style guide asks for, checked over the source tree: src/core is pure (no I/O
// module, no SDK, no clock, no process), and only src/adapters imports an SDK or the network.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = new URL('../../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/(?:^|\n)\s*import\s+'([^']+)'/g)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/import\(\s*'([^']+)'\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

const NETWORK_OR_SDK = /^(@aws-sdk\/|@smithy\/|@kubernetes\/|undici$|proxy-from-env$|node:(net|tls|http|https|http2|dns|dgram|child_process)$)/;

test('the import scanner sees static, type, re-export and dynamic imports (so the checks below can fail)', () => {
  const sample = "import a from 'x';\nimport type { B } from 'y';\nexport { c } from 'z';\nimport 'side';\nconst d = await import('dyn');";
  assert.deepEqual(importsOf(sample).sort(), ['dyn', 'side', 'x', 'y', 'z']);
});

test('only src/adapters imports an SDK or a network module', () => {
  const offenders = sourceFiles(SRC)
    .filter((file) => !relative(SRC, file).startsWith('adapters/'))
    .flatMap((file) => importsOf(readFileSync(file, 'utf8')).filter((spec) => NETWORK_OR_SDK.test(spec)).map((spec) => `${relative(SRC, file)} imports ${spec}`));
  assert.deepEqual(offenders, []);
});

test('src/core is pure: relative imports and node:crypto only, no process, clock, timers or fetch', () => {
  // yaml: core/audit.ts still builds its YAML document; issue 14 moves that rendering to ui/.
  const allowed = (spec: string) => spec.startsWith('.') || spec === 'node:crypto' || spec === 'yaml';
  const offenders: string[] = [];
  for (const file of sourceFiles(join(SRC, 'core'))) {
    const source = readFileSync(file, 'utf8');
    const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const spec of importsOf(source)) if (!allowed(spec)) offenders.push(`${relative(SRC, file)} imports ${spec}`);
    for (const global of ['process.', 'fetch(', 'Date.now(', 'new Date()', 'setTimeout(', 'setInterval(', 'Math.random(', 'require(']) {
      if (code.includes(global)) offenders.push(`${relative(SRC, file)} uses ${global}`);
    }
  }
  assert.deepEqual(offenders, []);
});
