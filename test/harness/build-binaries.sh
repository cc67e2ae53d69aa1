#!/usr/bin/env bash
# Builds the local stack's Go binaries (etcd, kube-apiserver, amazon-eks-pod-identity-webhook) from
# the Go module proxy and caches them outside the repo, so only the first run pays.
# Usage: test/harness/build-binaries.sh [etcd|kube-apiserver|webhook|all|dir|webhook-path]
#   all (default) builds all three. dir prints the cache directory and webhook-path the webhook
#   binary's path, without building. Otherwise the last line is always the cache dir.
set -euo pipefail

K8S_VERSION="${IRSA_K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${IRSA_ETCD_VERSION:-v3.6.16}"
WEBHOOK_VERSION="${IRSA_WEBHOOK_VERSION:-v0.6.17}"
CACHE="${IRSA_STACK_CACHE:-$HOME/.cache/irsa-test}"
# The "-webhook-v0.6.14" suffix is historical (a webhook build was once attempted here): it stays so
# that caches already built keep being found and nobody pays the kube-apiserver build again. The
# webhook's own version is in its file name (amazon-eks-pod-identity-webhook-<version>) instead.
BIN="$CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-webhook-v0.6.14"
WEBHOOK_BIN="$BIN/amazon-eks-pod-identity-webhook-$WEBHOOK_VERSION"
if [ "${1:-all}" = dir ]; then echo "$BIN"; exit 0; fi
if [ "${1:-all}" = webhook-path ]; then echo "$WEBHOOK_BIN"; exit 0; fi
mkdir -p "$BIN"
export GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[build-binaries %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! command -v go >/dev/null; then
  log "go is not installed: cannot build the local stack"
  exit 3
fi

build_etcd() {
  [ -x "$BIN/etcd" ] && { log "etcd $ETCD_VERSION cached"; return; }
  local work; work=$(mktemp -d)
  log "building etcd $ETCD_VERSION in $work"
  (cd "$work" && go mod init local/etcdbuild >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
    && go build -trimpath -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$BIN/etcd.tmp" "$BIN/etcd"; rm -rf "$work"
  log "etcd done"
}

build_apiserver() {
  [ -x "$BIN/kube-apiserver" ] && { log "kube-apiserver $K8S_VERSION cached"; return; }
  local work; work=$(mktemp -d)
  log "building kube-apiserver $K8S_VERSION in $work (tens of minutes on 2 cores)"
  local gomod staging_version
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  staging_version="v0.${K8S_VERSION#v1.}"
  {
    echo "module local/apiserverbuild"
    echo
    grep -E '^go [0-9]' "$gomod"
    grep -E '^godebug' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # Every staging module k8s.io/kubernetes pins at v0.0.0 maps to the published v0.x.y.
    grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}' | sort -u
  } >"$work/go.mod"
  log "wrapper go.mod has $(grep -c '^replace' "$work/go.mod") replace lines"
  echo 'package main' >"$work/tools.go"
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$work" && go build -trimpath -tags selinux,notest \
     -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_VERSION#v1.} -X k8s.io/component-base/version.gitTreeState=clean" \
     -o "$BIN/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
  mv "$BIN/kube-apiserver.tmp" "$BIN/kube-apiserver"; rm -rf "$work"
  log "kube-apiserver done"
}

# The webhook's main package is its module root and its go.mod has no replace lines, but
# `go install …@version` also asks the proxy for the module's version list (for deprecations),
# which the proxy refuses for this module: a throw-away wrapper module that `go get`s the pinned
# version builds it instead (about two minutes cold). The version is in the file name, so a version
# bump rebuilds without touching the etcd/kube-apiserver cache.
build_webhook() {
  local out="$WEBHOOK_BIN"
  [ -x "$out" ] && { log "amazon-eks-pod-identity-webhook $WEBHOOK_VERSION cached"; return; }
  local work; work=$(mktemp -d)
  log "building amazon-eks-pod-identity-webhook $WEBHOOK_VERSION in $work"
  (cd "$work" && go mod init local/webhookbuild >/dev/null 2>&1 \
    && go get "github.com/aws/amazon-eks-pod-identity-webhook@$WEBHOOK_VERSION" \
    && go build -trimpath -ldflags "-s -w" -o "$out.tmp" github.com/aws/amazon-eks-pod-identity-webhook)
  mv "$out.tmp" "$out"; rm -rf "$work"
  log "amazon-eks-pod-identity-webhook done"
}

case "${1:-all}" in
  etcd) build_etcd ;;
  kube-apiserver) build_apiserver ;;
  webhook) build_webhook ;;
  all) build_etcd; build_apiserver; build_webhook ;;
  *) log "unknown target '$1' (etcd|kube-apiserver|webhook|all|dir|webhook-path)"; exit 2 ;;
esac
echo "$BIN"
