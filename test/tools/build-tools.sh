#!/usr/bin/env bash
# Builds the real cluster tools the tests run (gator, the Gatekeeper controller, etcd,
# kube-apiserver and kubectl, helm) from the Go module proxy into a cache outside the repo, keyed by
# version, so only the first run on a machine pays. Prints the binary's path on stdout.
#
#   test/tools/build-tools.sh gator        # -> $GATEHOUSE_TOOLS/gator-v3.23.0/gator
#   test/tools/build-tools.sh gatekeeper   # -> $GATEHOUSE_TOOLS/gatekeeper-v3.23.0/gatekeeper
#   test/tools/build-tools.sh etcd         # -> $GATEHOUSE_TOOLS/etcd-v3.6.8/etcd
#   test/tools/build-tools.sh kube         # -> $GATEHOUSE_TOOLS/kube-v1.36.3/{kube-apiserver,kube-controller-manager,kubectl}
#   test/tools/build-tools.sh crds         # -> directory of Gatekeeper's CRDs (from its module)
#   test/tools/build-tools.sh opa          # -> $GATEHOUSE_TOOLS/opa-v1.22.4/opa (fmt/check of src/policies)
#   test/tools/build-tools.sh helm         # -> $GATEHOUSE_TOOLS/helm-v3.22.0/helm (lint/template of deploy/helm)
#   test/tools/build-tools.sh policyreport-crds  # -> directory of the wgpolicyk8s.io v1alpha2 CRDs
#   test/tools/build-tools.sh psa          # -> $GATEHOUSE_TOOLS/psa-v0.36.3-<src hash>/psa-verdict (test/pss)
#   test/tools/build-tools.sh wsproxy      # -> $GATEHOUSE_TOOLS/wsproxy-<src hash>/wsproxy (bench:workers' WebSocket proxy)
#   test/tools/build-tools.sh psa-fixtures # -> the module's test/testdata directory (module cache)
#   test/tools/build-tools.sh all          # all of the above
set -euo pipefail

GATOR_VERSION="v3.23.0"
GATEKEEPER_VERSION="v3.23.0"
ETCD_VERSION="v3.6.8"
OPA_VERSION="v1.22.4"
HELM_VERSION="v3.22.0"
# sigs.k8s.io/wg-policy-prototypes has no tagged release; this pseudo-version is one the proxy
# serves, and its policy-report/crd/v1alpha2 holds the PolicyReport CRDs Policy Reporter reads.
WG_POLICY_VERSION="v0.0.0-20210911211205-fb8f67bb6d38"
KUBE_VERSION="v1.36.3"   # k8s.io/kubernetes; its staging modules are v0.36.3
PSA_VERSION="v0.36.3"    # k8s.io/pod-security-admission of the same release as kube-apiserver
TOOLS="${GATEHOUSE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/tools}"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
# Module and build caches stay outside the repo too; CI on the same machine reuses them.
export GOMODCACHE="${GOMODCACHE:-$(go env GOMODCACHE)}"
export GOCACHE="${GOCACHE:-$(go env GOCACHE)}"

log() { printf '[build-tools] %s\n' "$*" >&2; }

# Runs a build at most once at a time per tool (parallel test workers may all ask).
with_lock() {
  local name=$1; shift
  mkdir -p "$TOOLS"
  exec 9>"$TOOLS/.$name.lock"
  flock 9
  "$@"
  exec 9>&-
}

build_gator() {
  local dir="$TOOLS/gator-$GATOR_VERSION"
  if [ ! -x "$dir/gator" ]; then
    log "building gator $GATOR_VERSION (first run only, ~3 minutes cold)"
    mkdir -p "$dir"
    GOBIN="$dir/.tmp" go install "github.com/open-policy-agent/gatekeeper/v3/cmd/gator@$GATOR_VERSION" >&2
    mv "$dir/.tmp/gator" "$dir/gator"
    rmdir "$dir/.tmp"
  fi
  echo "$dir/gator"
}

build_gatekeeper() {
  local dir="$TOOLS/gatekeeper-$GATEKEEPER_VERSION"
  if [ ! -x "$dir/gatekeeper" ]; then
    log "building the Gatekeeper controller $GATEKEEPER_VERSION (first run only)"
    mkdir -p "$dir"
    GOBIN="$dir/.tmp" go install "github.com/open-policy-agent/gatekeeper/v3@$GATEKEEPER_VERSION" >&2
    mv "$dir/.tmp/v3" "$dir/gatekeeper" 2>/dev/null || mv "$dir/.tmp/gatekeeper" "$dir/gatekeeper"
    rmdir "$dir/.tmp"
  fi
  echo "$dir/gatekeeper"
}

# Gatekeeper's CRDs ship in its module (charts/gatekeeper/crds); copied out of the module cache.
build_crds() {
  local dir="$TOOLS/gatekeeper-$GATEKEEPER_VERSION/crds"
  if [ ! -d "$dir" ]; then
    local mod
    mod=$(cd "$(mktemp -d)" && go mod download -json "github.com/open-policy-agent/gatekeeper/v3@$GATEKEEPER_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
    mkdir -p "$dir.tmp"
    cp "$mod"/charts/gatekeeper/crds/*.yaml "$dir.tmp/"
    chmod -R u+w "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# OPA's CLI, for `opa fmt` and `opa check` over the controls' .rego files (test only).
build_opa() {
  local dir="$TOOLS/opa-$OPA_VERSION"
  if [ ! -x "$dir/opa" ]; then
    log "building opa $OPA_VERSION (first run only, ~3 minutes cold)"
    mkdir -p "$dir"
    GOBIN="$dir/.tmp" go install "github.com/open-policy-agent/opa@$OPA_VERSION" >&2
    mv "$dir/.tmp/opa" "$dir/opa"
    rmdir "$dir/.tmp"
  fi
  echo "$dir/opa"
}

# Helm's CLI, to lint and render the agent's chart (deploy/helm/gatehouse-agent).
build_helm() {
  local dir="$TOOLS/helm-$HELM_VERSION"
  if [ ! -x "$dir/helm" ]; then
    log "building helm $HELM_VERSION (first run only, ~4 minutes cold)"
    mkdir -p "$dir"
    GOBIN="$dir/.tmp" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
    mv "$dir/.tmp/helm" "$dir/helm"
    rmdir "$dir/.tmp"
  fi
  echo "$dir/helm"
}

# The PolicyReport and ClusterPolicyReport CRDs (wgpolicyk8s.io/v1alpha2), copied out of the
# policy working group's module like Gatekeeper's CRDs.
build_policyreport_crds() {
  local dir="$TOOLS/wg-policy-$WG_POLICY_VERSION/crds"
  if [ ! -d "$dir" ]; then
    local mod
    mod=$(cd "$(mktemp -d)" && go mod download -json "sigs.k8s.io/wg-policy-prototypes@$WG_POLICY_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
    mkdir -p "$dir.tmp"
    cp "$mod"/policy-report/crd/v1alpha2/*.yaml "$dir.tmp/"
    chmod -R u+w "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# The API server's own Pod Security Admission checks as a CLI (test/tools/psa-verdict), which
# test/pss compares the presets with. Its cache directory is keyed by the library version and a
# hash of the CLI's source, so an edited main.go is rebuilt, not silently reused.
build_psa() {
  local src; src="$(cd "$(dirname "${BASH_SOURCE[0]}")/psa-verdict" && pwd)"
  if ! grep -q "k8s.io/pod-security-admission $PSA_VERSION" "$src/go.mod"; then
    echo "test/tools/psa-verdict/go.mod must require k8s.io/pod-security-admission $PSA_VERSION" >&2; exit 1
  fi
  local hash; hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
  local dir="$TOOLS/psa-$PSA_VERSION-$hash"
  if [ ! -x "$dir/psa-verdict" ]; then
    log "building psa-verdict over k8s.io/pod-security-admission $PSA_VERSION (first run only)"
    mkdir -p "$dir"
    (cd "$src" && go build -trimpath -o "$dir/.psa-verdict.tmp" . >&2)
    mv "$dir/.psa-verdict.tmp" "$dir/psa-verdict"
  fi
  echo "$dir/psa-verdict"
}

# The WebSocket→TCP proxy bench:workers puts between workerd and PgBouncer (test/tools/wsproxy,
# over github.com/gorilla/websocket, which has no dependencies: a build of seconds). Keyed by a hash
# of its source, like psa-verdict.
build_wsproxy() {
  local src; src="$(cd "$(dirname "${BASH_SOURCE[0]}")/wsproxy" && pwd)"
  local hash; hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
  local dir="$TOOLS/wsproxy-$hash"
  if [ ! -x "$dir/wsproxy" ]; then
    log "building wsproxy (first run only, seconds)"
    mkdir -p "$dir"
    (cd "$src" && go build -trimpath -o "$dir/.wsproxy.tmp" . >&2)
    mv "$dir/.wsproxy.tmp" "$dir/wsproxy"
  fi
  echo "$dir/wsproxy"
}

# The module's own fixtures (test/testdata/<level>/<version>/{pass,fail}), from the module cache.
build_psa_fixtures() {
  local src; src="$(cd "$(dirname "${BASH_SOURCE[0]}")/psa-verdict" && pwd)"
  (cd "$src" && go mod download k8s.io/pod-security-admission >&2 \
    && go list -m -f '{{.Dir}}' k8s.io/pod-security-admission | sed 's#$#/test/testdata#')
}

# etcd's server module has replace directives, so `go install` refuses it: build it from a
# throwaway module instead.
build_etcd() {
  local dir="$TOOLS/etcd-$ETCD_VERSION"
  if [ ! -x "$dir/etcd" ]; then
    log "building etcd $ETCD_VERSION (first run only)"
    local work; work=$(mktemp -d)
    (cd "$work" && go mod init gatehouse.local/etcd >&2 \
      && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 \
      && go build -trimpath -o etcd go.etcd.io/etcd/server/v3 >&2)
    mkdir -p "$dir" && mv "$work/etcd" "$dir/etcd" && rm -rf "$work"
  fi
  echo "$dir/etcd"
}

# k8s.io/kubernetes replaces its staging modules with ./staging/...; a throwaway module pins each
# of them to the published v0.x of the same release instead.
build_kube() {
  local dir="$TOOLS/kube-$KUBE_VERSION"
  if [ ! -x "$dir/kube-apiserver" ] || [ ! -x "$dir/kubectl" ] || [ ! -x "$dir/kube-controller-manager" ]; then
    log "building kube-apiserver, kube-controller-manager and kubectl $KUBE_VERSION (first run only, ~7 minutes cold)"
    local work; work=$(mktemp -d)
    local staging="v0.${KUBE_VERSION#v1.}"
    local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
    (
      cd "$work"
      go mod init gatehouse.local/kube >&2
      local gomod
      gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
      for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod"); do
        go mod edit "-replace=$m=$m@$staging"
      done
      go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBE_VERSION" "k8s.io/kubernetes/cmd/kubectl@$KUBE_VERSION" >&2
      local ld="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
      go build -trimpath -ldflags "$ld" -o kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver >&2
      go build -trimpath -ldflags "$ld" -o kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager >&2
      go build -trimpath -ldflags "$ld" -o kubectl k8s.io/kubernetes/cmd/kubectl >&2
    )
    mkdir -p "$dir" && mv "$work/kube-apiserver" "$work/kube-controller-manager" "$work/kubectl" "$dir/" && rm -rf "$work"
  fi
  echo "$dir"
}

case "${1:-}" in
  gator) with_lock gator build_gator ;;
  gatekeeper) with_lock gatekeeper build_gatekeeper ;;
  crds) with_lock crds build_crds ;;
  etcd) with_lock etcd build_etcd ;;
  kube) with_lock kube build_kube ;;
  opa) with_lock opa build_opa ;;
  helm) with_lock helm build_helm ;;
  policyreport-crds) with_lock policyreport-crds build_policyreport_crds ;;
  psa) with_lock psa build_psa ;;
  psa-fixtures) with_lock psa build_psa_fixtures ;;
  wsproxy) with_lock wsproxy build_wsproxy ;;
  all)
    with_lock gator build_gator
    with_lock gatekeeper build_gatekeeper
    with_lock crds build_crds
    with_lock etcd build_etcd
    with_lock kube build_kube
    with_lock opa build_opa
    with_lock helm build_helm
    with_lock policyreport-crds build_policyreport_crds
    with_lock psa build_psa
    with_lock psa build_psa_fixtures >/dev/null
    with_lock wsproxy build_wsproxy
    ;;
  *) echo "usage: $0 gator|gatekeeper|crds|etcd|kube|opa|helm|policyreport-crds|psa|psa-fixtures|wsproxy|all" >&2; exit 2 ;;
esac
