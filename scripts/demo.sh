#!/usr/bin/env bash
# The README's demo: builds irsa, starts the local stack (moto + etcd + kube-apiserver + the real
# amazon-eks-pod-identity-webhook, registered as EKS registers it; binaries are built from the Go
# module proxy on first use and cached), and binds a ServiceAccount to a new least-privilege role
# in it — plan first, then apply, then show the result, and end with irsa doctor checking the
# whole chain, the webhook's mutation of a dry-run pod included (exit status: doctor's).
set -euo pipefail
cd "$(dirname "$0")/.."

# `npm run demo` runs this through scripts/with-node.sh, which switches to Node 24 from a cache when
# the Node on PATH is older than package.json's engines.
node bin/node-version.js demo

npm run --silent build
# The demo's own files (the stack's env file too) live in one directory removed on exit, whatever
# happens: no new entry is left in the temp dir (scripts/check-temp-clean.sh checks it).
demo_dir=$(mktemp -d)
stack_pid=
trap '[ -z "$stack_pid" ] || { kill $stack_pid 2>/dev/null; wait $stack_pid 2>/dev/null || true; }; rm -rf "$demo_dir"' EXIT
env_file="$demo_dir/stack.env"
node test/harness/stack-cli.ts --env-out "$env_file" >/dev/null &
stack_pid=$!
for _ in $(seq 1 600); do
  [ -s "$env_file" ] && break
  kill -0 $stack_pid 2>/dev/null || { echo "the local stack failed to start" >&2; exit 1; }
  sleep 1
done
# shellcheck disable=SC1090
source "$env_file"
IRSA_CLUSTER=$(node -p 'JSON.parse(require("fs").readFileSync(process.env.IRSA_STACK, "utf8")).clusterName')
irsa() { node bin/irsa "$@"; }
# Bold step headers only on a terminal; logs get plain text.
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s$ irsa %s%s\n' "$bold" "$*" "$plain"; }

cat > "$demo_dir/orders.json" <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::orders/*"}]}
JSON

step associate-oidc --cluster "$IRSA_CLUSTER"
irsa associate-oidc --cluster "$IRSA_CLUSTER"
step create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy "$demo_dir/orders.json" --create-namespace
irsa create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api --create-namespace \
  --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy "$demo_dir/orders.json"
step create-sa-role ... --approve
irsa create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api \
  --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy "$demo_dir/orders.json" --create-namespace --approve
step create-sa-role ... --approve "(again: nothing to do)"
irsa create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api \
  --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy "$demo_dir/orders.json" --approve
step list --cluster "$IRSA_CLUSTER"
irsa list --cluster "$IRSA_CLUSTER"
step doctor --cluster "$IRSA_CLUSTER" -n payments --name api
irsa doctor --cluster "$IRSA_CLUSTER" -n payments --name api
echo
echo "Done: payments/api is bound to its role, and irsa doctor found nothing wrong (the local stack runs the real amazon-eks-pod-identity-webhook, as EKS does)."
echo
echo "This demo's stack stops now. To explore on your own, start one that keeps running (Ctrl-C stops it):"
echo "  npm run stack -- --env-file /tmp/irsa-stack.env"
echo "then, in another shell, point irsa (run from this checkout), aws and kubectl at it:"
echo "  set -a; . /tmp/irsa-stack.env; set +a"
echo "  bin/irsa list --cluster $IRSA_CLUSTER"
