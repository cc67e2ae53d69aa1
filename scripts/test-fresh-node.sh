#!/usr/bin/env bash
# A fresh machine with only an old Node (the system Node 20): the README's two commands must
# work or say one clear line. Puts that Node first on PATH (IRSA_OLD_NODE, default: the first
# `node` older than package.json's engines among /usr/bin/node, /usr/local/bin/node) and checks:
#   1. bin/irsa prints one line naming the version and exits 1 (no stack trace);
#   2. `npm test` switches to a Node >= 22.19 from ~/.cache/node24 (scripts/with-node.sh), saying so;
#   3. `npm run demo` completes (it switches to a Node >= 22.19 from ~/.cache/node24, saying so),
#      prints plain text into a pipe and ends with irsa doctor passing for its binding;
#   4. `npm run build` and `npm run bench -- --help` run (no ERR_UNKNOWN_FILE_EXTENSION, no trace);
#   5. `npm run stack` comes up (writes its env file) and stops on SIGTERM (removes it);
#   6. no new entry is left in the temporary directory by the demo, by `npm run test:unit`, or
#      (with --npm-test, about ten minutes) by the whole `npm test`: each runs under
#      scripts/check-temp-clean.sh, which gives it a private, empty /tmp and lists what is left.
# Usage: bash scripts/test-fresh-node.sh [--no-demo] [--npm-test]
set -euo pipefail
cd "$(dirname "$0")/.."

old_node="${IRSA_OLD_NODE:-}"
if [ -z "$old_node" ]; then
  for candidate in /usr/bin/node /usr/local/bin/node; do
    if [ -x "$candidate" ] && ! "$candidate" bin/node-version.js probe >/dev/null 2>&1; then old_node=$candidate; break; fi
  done
fi
if [ -z "$old_node" ]; then
  echo "FAIL: no Node older than $(node -p 'require("./package.json").engines.node') found; set IRSA_OLD_NODE" >&2
  exit 1
fi
# Outside the temp dir: scripts/check-temp-clean.sh hides /tmp from the commands it checks.
mkdir -p "$HOME/.cache"
old_bin=$(mktemp -d "$HOME/.cache/irsa-fresh-node.XXXXXX")
trap 'rm -rf "$old_bin"' EXIT
ln -s "$old_node" "$old_bin/node"
# npm is a JavaScript program: run by the old Node first on PATH.
for tool in npm npx; do
  npm_path=$(command -v "$tool")
  ln -s "$npm_path" "$old_bin/$tool"
done
# Old Node first; everything else (python3 with moto, openssl) as the caller has it.
export PATH="$old_bin:$PATH"
echo "node on PATH: $(command -v node) $(node --version)"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# 1. the CLI itself
out=$(node bin/irsa list --cluster x 2>&1) && fail "bin/irsa exited 0 on $(node --version)"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "bin/irsa printed more than one line: $out"
[[ "$out" == *"needs Node.js >=22.19 (this is $(node --version)"* ]] || fail "bin/irsa: unexpected message: $out"
echo "ok bin/irsa: $out"

# 2. npm test: scripts/with-node.sh switches to a Node >= 22.19 from ~/.cache/node24 (as the demo
#    does) and runs the suite there. Check the switch without running the whole suite here: the
#    same wrapper, asked for the Node it would run the tests under.
out=$(bash scripts/with-node.sh "npm test" node --version 2>&1) || fail "with-node.sh failed: $out"
[[ "$out" == *"Using Node v"* ]] || fail "npm test: no 'Using Node' line: $out"
[[ "$(printf '%s\n' "$out" | tail -1)" != "$(node --version)" ]] || fail "npm test would run under $(node --version)"
grep -q '"test": "bash scripts/with-node.sh' package.json || fail "npm test does not go through scripts/with-node.sh"
echo "ok npm test runs under: $(printf '%s\n' "$out" | tail -1)"

no_demo=false npm_test=false
for arg in "$@"; do
  case "$arg" in
    --no-demo) no_demo=true ;;
    --npm-test) npm_test=true ;;
    *) echo "unknown option $arg (--no-demo, --npm-test)" >&2; exit 2 ;;
  esac
done

# 3. the demo, into a pipe (not a terminal), leaving nothing in the temporary directory (6.)
if [ "$no_demo" = false ]; then
  log="$old_bin/demo.log"
  before=$failures
  if ! bash scripts/check-temp-clean.sh npm run --silent demo >"$log" 2>&1 </dev/null; then
    tail -30 "$log" >&2
    fail "npm run demo failed"
  fi
  grep -q "Using Node v" "$log" || fail "the demo did not say which Node it switched to"
  if grep -q $'\033' "$log"; then fail "the demo wrote ANSI escapes into a pipe"; fi
  grep -q "irsa doctor found nothing wrong" "$log" || fail "the demo did not end with irsa doctor passing"
  grep -q "check-temp-clean: .* left no entry" "$log" || fail "the demo left entries in the temporary directory: $(grep -A20 'check-temp-clean' "$log")"
  [ "$failures" -eq "$before" ] && echo "ok npm run demo ($(wc -l <"$log") lines), nothing left in the temporary directory"
fi

# 4. the other npm scripts: each goes through scripts/with-node.sh
for script in build "bench -- --help"; do
  out=$(eval "npm run --silent $script" 2>&1 </dev/null) || fail "npm run $script failed: $(printf '%s\n' "$out" | tail -5)"
  if printf '%s\n' "$out" | grep -qE 'ERR_UNKNOWN_FILE_EXTENSION|^\s+at '; then fail "npm run $script printed a Node error: $out"; fi
  echo "ok npm run $script: $(printf '%s\n' "$out" | tail -1)"
done

# 5. npm run stack: up (its env file appears), then SIGTERM stops it (the env file goes)
stack_env="$old_bin/stack.env"
stack_log="$old_bin/stack.log"
setsid npm run --silent stack -- --env-file "$stack_env" >"$stack_log" 2>&1 </dev/null &
stack_pid=$!
for _ in $(seq 1 300); do [ -s "$stack_env" ] && break; kill -0 "$stack_pid" 2>/dev/null || break; sleep 1; done
if [ -s "$stack_env" ]; then
  grep -q "Using Node v" "$stack_log" || fail "npm run stack did not say which Node it switched to"
  # One SIGTERM to the stack's node process, as Ctrl-C's one signal (signalling the whole group
  # makes npm forward a second one, which stack-cli.ts treats as "kill now").
  stack_node=$(ps -o pid=,args= -g "$stack_pid" | awk '$2 ~ /(^|\/)node$/ && /stack-cli\.ts/ {print $1; exit}')
  kill -TERM "${stack_node:-$stack_pid}" 2>/dev/null || true
  for _ in $(seq 1 60); do { kill -0 "$stack_pid" 2>/dev/null || [ -e "$stack_env" ]; } || break; sleep 1; done
  before_stack=$failures
  if kill -0 "$stack_pid" 2>/dev/null; then kill -KILL -- "-$stack_pid"; fail "npm run stack did not stop on SIGTERM"; fi
  [ -e "$stack_env" ] && fail "npm run stack left its env file behind"
  [ "$failures" -eq "$before_stack" ] && echo "ok npm run stack: up and stopped"
else
  kill -KILL -- "-$stack_pid" 2>/dev/null || true
  fail "npm run stack did not come up: $(tail -5 "$stack_log")"
fi

# 6. the tests leave no new entry in the temporary directory (the whole suite only with --npm-test)
tests="npm run --silent test:unit"
[ "$npm_test" = true ] && tests="npm test --silent"
log="$old_bin/tests.log"
if bash scripts/check-temp-clean.sh $tests >"$log" 2>&1 </dev/null; then
  echo "ok $tests: $(grep -E '^ℹ (tests|fail) ' "$log" | tr '\n' ' ')nothing left in the temporary directory"
else
  tail -30 "$log" >&2
  fail "$tests failed or left entries in the temporary directory"
fi

[ "$failures" -eq 0 ] && echo "fresh machine: all checks passed" || exit 1
