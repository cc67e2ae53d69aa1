#!/usr/bin/env bash
# Runs a command and fails when it leaves anything in the temporary directory (issue 25: "after
# `npm test` and `npm run demo`, no new entries are left in the temporary directory").
#
# A listing of /tmp before and after cannot prove that on a machine where other processes use /tmp
# too. So the command gets a temporary directory of its own that starts empty:
# - with unshare (as root, or where unprivileged user namespaces are allowed) a private mount
#   namespace with an empty tmpfs on /tmp and TMPDIR=/tmp: os.tmpdir(), mktemp, Python's and Go's
#   temp files and any path written as /tmp/... all land there, so everything is checked;
# - otherwise TMPDIR points at a fresh directory: only what honours TMPDIR is checked (said so).
# Whatever is left is listed (two levels deep) and the exit status is 1; else the command's own.
# Usage: bash scripts/check-temp-clean.sh <command> [args...]     e.g. npm run demo
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 <command> [args...]" >&2; exit 2; }

# Runs inside the private namespace (or with the fallback TMPDIR): the command, then the listing.
if [ "${IRSA_TEMP_CHECK_INNER:-}" = 1 ]; then
  unset IRSA_TEMP_CHECK_INNER
  tmp=$1; shift
  if [ "$tmp" = /tmp ]; then mount -t tmpfs -o mode=1777 irsa-temp-check /tmp; fi
  export TMPDIR=$tmp
  status=0
  "$@" || status=$?
  left=$(cd "$tmp" && find . -mindepth 1 -maxdepth 2 | sed 's|^\./||' | sort)
  if [ -n "$left" ]; then
    echo "check-temp-clean: '$*' left $(printf '%s\n' "$left" | grep -vc /) new entries in the temporary directory:" >&2
    printf '%s\n' "$left" | sed 's/^/  /' >&2
    exit 1
  fi
  echo "check-temp-clean: '$*' left no entry in the temporary directory ($([ "$tmp" = /tmp ] && echo 'a private, empty /tmp' || echo "TMPDIR=$tmp only")); exit $status" >&2
  exit "$status"
fi

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
  exec env IRSA_TEMP_CHECK_INNER=1 unshare --mount --propagation private bash "$self" /tmp "$@"
fi
if unshare --user --map-root-user --mount --propagation private true 2>/dev/null; then
  exec env IRSA_TEMP_CHECK_INNER=1 unshare --user --map-root-user --mount --propagation private bash "$self" /tmp "$@"
fi
# No private /tmp here: a fresh TMPDIR, removed after the check.
fresh=$(mktemp -d)
echo "check-temp-clean: no unshare here; checking TMPDIR=$fresh only (paths written as /tmp/... are not seen)" >&2
status=0
IRSA_TEMP_CHECK_INNER=1 bash "$self" "$fresh" "$@" || status=$?
rm -rf "$fresh"
exit "$status"
