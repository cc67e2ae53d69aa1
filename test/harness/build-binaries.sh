#!/usr/bin/env bash
# Builds the local stack's Go binaries (etcd, kube-apiserver, amazon-eks-pod-identity-webhook)
# from the Go module proxy and caches them outside the repo, so only the first run pays.
# Usage: test/harness/build-binaries.sh [etcd|kube-apiserver|webhook|all|dir]
#   all (default) builds etcd and kube-apiserver, then tries the webhook (optional: a failure there
#   only warns). dir prints the cache directory without building. The last line is always the cache dir.
set -euo pipefail

K8S_VERSION="${IRSA_K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${IRSA_ETCD_VERSION:-v3.6.16}"
WEBHOOK_VERSION="${IRSA_WEBHOOK_VERSION:-v0.6.14}"
CACHE="${IRSA_STACK_CACHE:-$HOME/.cache/irsa-test}"
BIN="$CACHE/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-webhook-$WEBHOOK_VERSION"
if [ "${1:-all}" = dir ]; then echo "$BIN"; exit 0; fi
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

build_webhook() {
  [ -x "$BIN/amazon-eks-pod-identity-webhook" ] && { log "pod identity webhook $WEBHOOK_VERSION cached"; return; }
  log "building amazon-eks-pod-identity-webhook $WEBHOOK_VERSION"
  # Optional: some module proxies refuse this module (403); tests that need it skip without it.
  if ! GOBIN="$BIN/gobin" go install "github.com/aws/amazon-eks-pod-identity-webhook@$WEBHOOK_VERSION"; then
    rm -rf "$BIN/gobin"
    log "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    log "!!! WARNING: could not build amazon-eks-pod-identity-webhook $WEBHOOK_VERSION (see go's error above)."
    log "!!! The stack works without it: no test needs the running webhook (doctor's webhook checks use a registered MutatingWebhookConfiguration)."
    log "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    return 0
  fi
  mv "$BIN/gobin/amazon-eks-pod-identity-webhook" "$BIN/amazon-eks-pod-identity-webhook"; rm -rf "$BIN/gobin"
  log "webhook done"
}

case "${1:-all}" in
  etcd) build_etcd ;;
  kube-apiserver) build_apiserver ;;
  webhook) build_webhook ;;
  all) build_etcd; build_apiserver; build_webhook ;;
  *) log "unknown target '$1' (etcd|kube-apiserver|webhook|all|dir)"; exit 2 ;;
esac
echo "$BIN"
