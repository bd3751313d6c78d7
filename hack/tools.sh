#!/usr/bin/env bash
# Builds the real crossplane binaries from the Go module proxy and caches them outside the clone.
#
#   hack/tools.sh          build what is missing, print nothing but progress on stderr
#   hack/tools.sh --print  print the cached binaries' paths as shell assignments (builds first if needed)
#
# Two binaries, both pinned in hack/versions.env:
#   crossplane       the CLI (github.com/crossplane/cli/v2/cmd/crossplane): composition render, resource validate
#   crossplane-core  core crossplane (github.com/crossplane/crossplane/v2/cmd/crossplane), whose hidden
#                    `internal render` runs the real composite reconciler; render needs it as --crossplane-binary
#                    because there is no Docker engine to run the default render image.
# A second run finds the cache and builds nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
source "$here/versions.env"

cache_root=${FUNCTION_AI_WORKSPACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/function-ai-workspace}
bin_dir="$cache_root/bin"
cli_bin="$bin_dir/crossplane-cli-$CROSSPLANE_CLI_VERSION"
core_bin="$bin_dir/crossplane-core-$CROSSPLANE_CORE_VERSION"

log() { printf 'tools: %s\n' "$*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 || { log "go is not installed; install Go >= $GO_MIN_VERSION"; exit 1; }
  local have
  have=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -n1)" != "$GO_MIN_VERSION" ]; then
    log "go $have is older than $GO_MIN_VERSION"; exit 1
  fi
}

# The module proxy serves pinned versions but refuses version lists (so `go install pkg@version`, which
# looks up deprecations in the list, fails) and the checksum database is unreachable. Each binary is
# therefore built from a throwaway wrapper module that requires the pinned version and nothing else, so
# minimal version selection yields exactly the upstream module's own build list. GOSUMDB=off is scoped to
# these builds (hashes come from the proxy only); GOTOOLCHAIN=local never downloads another Go.
go_env() {
  env GOTOOLCHAIN=local GOSUMDB=off GOFLAGS=-mod=mod CGO_ENABLED=0 "$@"
}

# build_wrapped OUTPUT MODULE@VERSION PACKAGE [go mod edit args...]
build_wrapped() {
  local out=$1 module_at_version=$2 pkg=$3
  shift 3
  local mod version=${module_at_version##*@}
  mod=$(mktemp -d)
  mkdir -p "$bin_dir"
  (
    cd "$mod"
    go_env go mod init local/wrapper >/dev/null 2>&1
    go_env go mod edit -require="$module_at_version" "$@"
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >tools.go
    go_env go mod tidy >/dev/null 2>&1 || go_env go mod tidy
    go_env go build -trimpath \
      -ldflags "-s -w -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$version" \
      -o "$out.tmp" "$pkg"
  )
  mv "$out.tmp" "$out"
  rm -rf "$mod"
}

build_cli() {
  [ -x "$cli_bin" ] && return 0
  need_go
  log "building crossplane CLI $CROSSPLANE_CLI_VERSION (first run only; several minutes)"
  build_wrapped "$cli_bin" "github.com/crossplane/cli/v2@$CROSSPLANE_CLI_VERSION" \
    github.com/crossplane/cli/v2/cmd/crossplane
}

build_core() {
  [ -x "$core_bin" ] && return 0
  need_go
  log "building core crossplane $CROSSPLANE_CORE_VERSION (first run only; several minutes)"
  # Upstream go.mod replaces crossplane/apis/v2 with ./apis, which a dependency's go.mod cannot do.
  # The apis/vX.Y.Z tag is the same commit as vX.Y.Z, so replacing it with that tag builds exactly
  # the upstream tree.
  build_wrapped "$core_bin" "github.com/crossplane/crossplane/v2@$CROSSPLANE_CORE_VERSION" \
    github.com/crossplane/crossplane/v2/cmd/crossplane \
    -replace="github.com/crossplane/crossplane/apis/v2=github.com/crossplane/crossplane/apis/v2@$CROSSPLANE_CORE_VERSION"
}

build_cli
build_core

# Core Crossplane's own CRDs (Usage, ClusterUsage), which composed resources are validated against too:
# copied once from the pinned module into the cache, next to the binaries.
core_crds="$cache_root/crds/crossplane-$CROSSPLANE_CORE_VERSION"
fetch_core_crds() {
  [ -f "$core_crds/protection.crossplane.io_usages.yaml" ] && return 0
  need_go
  local dir
  dir=$(cd "$(mktemp -d)" && go_env go mod download -json "github.com/crossplane/crossplane/v2@$CROSSPLANE_CORE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { log "cannot download crossplane $CROSSPLANE_CORE_VERSION for its CRDs"; exit 1; }
  mkdir -p "$core_crds.tmp"
  cp "$dir"/cluster/crds/protection.crossplane.io_*.yaml "$core_crds.tmp/"
  rm -rf "$core_crds" && mv "$core_crds.tmp" "$core_crds"
}
fetch_core_crds

if [ "${1:-}" = "--print" ]; then
  printf 'CROSSPLANE=%s\nCROSSPLANE_CORE=%s\nCROSSPLANE_CORE_CRDS=%s\n' "$cli_bin" "$core_bin" "$core_crds"
fi
