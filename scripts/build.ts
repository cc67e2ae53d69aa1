// Bundles src/cli.ts into dist/ with code splitting: each command and each SDK lands in its own
// chunk, loaded on first use, so `irsa --help` parses only commander and the command table.

import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
const result = await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // Prefer the SDKs' ES module builds: a bundled CommonJS module loaded with import() exposes
  // only a default export, and the ES builds tree-shake better.
  mainFields: ['module', 'main'],
  minify: process.env.IRSA_NO_MINIFY !== '1',
  // Operation names in messages and call counts come from command class names.
  keepNames: true,
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
  chunkNames: 'chunks/[name]-[hash]',
  // Some CommonJS dependencies call require() for Node built-ins.
  banner: { js: "import { createRequire as __irsaCreateRequire } from 'node:module'; const require = __irsaCreateRequire(import.meta.url);" },
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`built dist/ (${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
