#!/usr/bin/env bash
# Builds the real cluster tools the tests run (gator today; kube-apiserver, etcd and
# Gatekeeper join later) from the Go module proxy into a cache outside the repo, keyed by
# version, so only the first run on a machine pays. Prints the binary's path on stdout.
#
#   test/tools/build-tools.sh gator        # -> $GATEHOUSE_TOOLS/gator-v3.23.0/gator
set -euo pipefail

GATOR_VERSION="v3.23.0"
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

case "${1:-}" in
  gator) with_lock gator build_gator ;;
  all) with_lock gator build_gator ;;
  *) echo "usage: $0 gator|all" >&2; exit 2 ;;
esac
