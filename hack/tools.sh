#!/usr/bin/env bash
# Gets the real crossplane binaries (official release binaries, else built from the Go module proxy) and
# caches them outside the clone.
#
#   hack/tools.sh              get what is missing, print nothing but progress on stderr
#   hack/tools.sh --print      print the cached binaries' paths as shell assignments (builds first if needed)
#   hack/tools.sh e2e [--print]  also the control plane `make e2e` runs (see build_e2e below)
#
# Four binaries, all pinned in hack/versions.env (helm is built from the Go module proxy, see build_helm):
#   crossplane       the CLI (github.com/crossplane/cli/v2/cmd/crossplane): composition render, resource validate
#   crossplane-core  core crossplane (github.com/crossplane/crossplane/v2/cmd/crossplane), whose hidden
#                    `internal render` runs the real composite reconciler; render needs it as --crossplane-binary
#                    because there is no Docker engine to run the default render image.
#   helm             renders the pinned LibreChat chart with the values the function composes (the tests), and
#                    installs the Secrets chart in `make e2e`'s workload cluster in provider-helm's place.
#   promtool         checks and unit-tests the composed alerting rules (tests only); built from the Go module
#                    proxy, see build_promtool.
# Each is first downloaded as the project publishes it, the release binary of the pinned version with the
# SHA-256 published beside it (`<binary>.sha256`), and used only when the two agree:
#   CLI   https://cli.crossplane.io/stable/<version>/bin/<os>_<arch>/crossplane (crossplane/cli's install.sh)
#   core  https://releases.crossplane.io/stable/<version>/bin/<os>_<arch>/crossplane
# When the release host cannot be reached (as on a machine with only a Go module proxy) or the checksum does
# not match, it is built from the module proxy instead. FUNCTION_AI_WORKSPACE_TOOLS=build always builds,
# =download never builds (fails instead); CROSSPLANE_CLI_RELEASES and CROSSPLANE_RELEASES name mirrors of
# the two hosts. A second run finds the cache and gets nothing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
source "$here/versions.env"

cache_root=${FUNCTION_AI_WORKSPACE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/function-ai-workspace}
bin_dir="$cache_root/bin"
cli_bin="$bin_dir/crossplane-cli-$CROSSPLANE_CLI_VERSION"
core_bin="$bin_dir/crossplane-core-$CROSSPLANE_CORE_VERSION"
helm_bin="$bin_dir/helm-$HELM_VERSION"
promtool_bin="$bin_dir/promtool-$PROMETHEUS_VERSION"

log() { printf 'tools: %s\n' "$*" >&2; }

# One run at a time per cache: two checkouts (or worktrees) of one machine share it, and two builds of the same
# binary would move each other's temporary file away.
# (flock is util-linux's; where there is none, as on macOS, runs are not serialized.)
mkdir -p "$cache_root"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_root/.lock"
  if ! flock -n 9; then
    log "waiting for another hack/tools.sh run on $cache_root"
    flock 9
  fi
fi

tools_mode=${FUNCTION_AI_WORKSPACE_TOOLS:-auto}
case $tools_mode in
  auto | download | build) ;;
  *) log "FUNCTION_AI_WORKSPACE_TOOLS=$tools_mode: use auto (download, else build), download or build"; exit 1 ;;
esac

# The release binaries' <os>_<arch>, empty where upstream publishes none.
release_platform() {
  local os arch
  case $(uname -s) in Linux) os=linux ;; Darwin) os=darwin ;; *) return 0 ;; esac
  case $(uname -m) in x86_64 | amd64) arch=amd64 ;; aarch64 | arm64) arch=arm64 ;; *) return 0 ;; esac
  printf '%s_%s' "$os" "$arch"
}

# download_release OUTPUT URL: the release binary at URL, kept only when its SHA-256 equals the one published
# at URL.sha256. Returns 1, leaving nothing behind, when either cannot be had or they differ.
download_release() {
  local out=$1 url=$2 tmp want got
  [ "$tools_mode" != build ] && command -v curl >/dev/null 2>&1 || return 1
  tmp=$(mktemp -d)
  if curl -fsSL --connect-timeout 10 --max-time 600 -o "$tmp/binary" "$url" 2>"$tmp/err" &&
    curl -fsSL --connect-timeout 10 --max-time 60 -o "$tmp/sha256" "$url.sha256" 2>>"$tmp/err"; then
    want=$(head -c 64 "$tmp/sha256")
    got=$(sha256sum "$tmp/binary" | head -c 64)
    if [[ $want =~ ^[0-9a-f]{64}$ ]] && [ "$want" = "$got" ]; then
      mkdir -p "$bin_dir"
      chmod 755 "$tmp/binary"
      mv "$tmp/binary" "$out"
      rm -rf "$tmp"
      log "downloaded $url (sha256 $got, as published)"
      return 0
    fi
    log "$url has sha256 $got, but $url.sha256 says ${want:-nothing}: not used"
  else
    log "cannot download $url ($(tr '\n' ' ' <"$tmp/err" | sed 's/ *$//'))"
  fi
  rm -rf "$tmp"
  return 1
}

# get_release OUTPUT BASE_URL NAME: the release binary when it can be had; else fail in download mode, or
# return 1 so the caller builds.
get_release() {
  local out=$1 base=$2 name=$3 platform
  [ "$tools_mode" = build ] && return 1
  platform=$(release_platform)
  if [ -n "$platform" ] && download_release "$out" "$base/bin/$platform/crossplane"; then
    return 0
  fi
  if [ "$tools_mode" = download ]; then
    log "FUNCTION_AI_WORKSPACE_TOOLS=download: no verified release binary of $name for ${platform:-this platform}"
    exit 1
  fi
  return 1
}

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

# build_wrapped OUTPUT MODULE@VERSION PACKAGE [go mod edit args...]; build_tags, when set, are its Go build tags.
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
    go_env go build -trimpath ${build_tags:+-tags "$build_tags"} \
      -ldflags "-s -w -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$version" \
      -o "$out.tmp" "$pkg"
  )
  mv "$out.tmp" "$out"
  rm -rf "$mod"
}

build_cli() {
  [ -x "$cli_bin" ] && return 0
  get_release "$cli_bin" "${CROSSPLANE_CLI_RELEASES:-https://cli.crossplane.io}/stable/$CROSSPLANE_CLI_VERSION" \
    "the crossplane CLI $CROSSPLANE_CLI_VERSION" && return 0
  need_go
  log "building crossplane CLI $CROSSPLANE_CLI_VERSION (first run only; several minutes)"
  build_wrapped "$cli_bin" "github.com/crossplane/cli/v2@$CROSSPLANE_CLI_VERSION" \
    github.com/crossplane/cli/v2/cmd/crossplane
}

build_core() {
  [ -x "$core_bin" ] && return 0
  get_release "$core_bin" "${CROSSPLANE_RELEASES:-https://releases.crossplane.io}/stable/$CROSSPLANE_CORE_VERSION" \
    "core crossplane $CROSSPLANE_CORE_VERSION" && return 0
  need_go
  log "building core crossplane $CROSSPLANE_CORE_VERSION (first run only; several minutes)"
  # Upstream go.mod replaces crossplane/apis/v2 with ./apis, which a dependency's go.mod cannot do.
  # The apis/vX.Y.Z tag is the same commit as vX.Y.Z, so replacing it with that tag builds exactly
  # the upstream tree.
  build_wrapped "$core_bin" "github.com/crossplane/crossplane/v2@$CROSSPLANE_CORE_VERSION" \
    github.com/crossplane/crossplane/v2/cmd/crossplane \
    -replace="github.com/crossplane/crossplane/apis/v2=github.com/crossplane/crossplane/apis/v2@$CROSSPLANE_CORE_VERSION"
}

# helm renders the pinned LibreChat chart with composed values, as provider-helm does (its own Helm library).
# First the release Helm publishes, https://get.helm.sh/helm-<version>-<os>-<arch>.tar.gz, used only when its
# SHA-256 equals the one published beside it (.sha256sum); HELM_RELEASES names a mirror. Else built from the
# module proxy.
download_helm() {
  local platform tmp url want got
  [ "$tools_mode" != build ] && command -v curl >/dev/null 2>&1 || return 1
  platform=$(release_platform)
  [ -n "$platform" ] || return 1
  url="${HELM_RELEASES:-https://get.helm.sh}/helm-$HELM_VERSION-${platform/_/-}.tar.gz"
  tmp=$(mktemp -d)
  if curl -fsSL --connect-timeout 10 --max-time 600 -o "$tmp/helm.tar.gz" "$url" 2>"$tmp/err" &&
    curl -fsSL --connect-timeout 10 --max-time 60 -o "$tmp/sha256" "$url.sha256sum" 2>>"$tmp/err"; then
    want=$(head -c 64 "$tmp/sha256")
    got=$(sha256sum "$tmp/helm.tar.gz" | head -c 64)
    if [[ $want =~ ^[0-9a-f]{64}$ ]] && [ "$want" = "$got" ] &&
      tar -xzf "$tmp/helm.tar.gz" -C "$tmp" "${platform/_/-}/helm" 2>>"$tmp/err"; then
      mkdir -p "$bin_dir"
      chmod 755 "$tmp/${platform/_/-}/helm"
      mv "$tmp/${platform/_/-}/helm" "$helm_bin"
      rm -rf "$tmp"
      log "downloaded $url (sha256 $got, as published)"
      return 0
    fi
    log "$url has sha256 $got, but $url.sha256sum says ${want:-nothing}: not used"
  else
    log "cannot download $url ($(tr '\n' ' ' <"$tmp/err" | sed 's/ *$//'))"
  fi
  rm -rf "$tmp"
  return 1
}

build_helm() {
  [ -x "$helm_bin" ] && return 0
  download_helm && return 0
  if [ "$tools_mode" = download ]; then
    log "FUNCTION_AI_WORKSPACE_TOOLS=download: no verified release of helm $HELM_VERSION"
    exit 1
  fi
  need_go
  log "building helm $HELM_VERSION (first run only; a few minutes)"
  build_wrapped "$helm_bin" "helm.sh/helm/v4@$HELM_VERSION" helm.sh/helm/v4/cmd/helm
}

# promtool, Prometheus's own checker of rule files and runner of their unit tests, built from the module proxy
# like the e2e tools. With `remove_all_sd` (Prometheus's README, "Service discovery plugins"), which leaves out the
# optional service discoveries (cloud SDKs) that rule checks and rule unit tests never use, the first build takes
# under half the compile time (v0.316.0: about 3 CPU-minutes instead of 7, a few minutes on 2 cores).
build_promtool() {
  [ -x "$promtool_bin" ] && return 0
  if [ "$tools_mode" = download ]; then
    log "FUNCTION_AI_WORKSPACE_TOOLS=download: promtool $PROMETHEUS_VERSION is only ever built from the Go module" \
      "proxy; build it once with FUNCTION_AI_WORKSPACE_TOOLS=auto"
    exit 1
  fi
  need_go
  log "building promtool $PROMETHEUS_VERSION (first run only; a few minutes)"
  build_tags=remove_all_sd build_wrapped "$promtool_bin" "github.com/prometheus/prometheus@$PROMETHEUS_VERSION" \
    github.com/prometheus/prometheus/cmd/promtool
}

build_cli
build_core
build_helm
build_promtool

# The control plane of `make e2e`, every piece from the Go module proxy at the version hack/versions.env pins:
#   etcd                     go.etcd.io/etcd/server/v3 (its main package is the module root)
#   kube-apiserver, kubectl, kube-controller-manager   k8s.io/kubernetes
#   registry                 go-containerregistry's loopback OCI registry, for pushing the function package
#   provider-kubernetes      turns the workspace's Objects into real Deployments, Services, PVCs and ConfigMaps
# (provider-helm is not among them: the module proxy serves github.com/crossplane-contrib/provider-helm@v1.4.0's
# .info and .mod but refuses its zip, 403, and that of its dependency github.com/nebius/gosdk@v0.2.28 too; helm
# plays its part for the Secrets chart, hack/scenarios.py.)
e2e_bin() { printf '%s/%s-%s' "$bin_dir" "$1" "$2"; }
etcd_bin=$(e2e_bin etcd "$ETCD_VERSION")
apiserver_bin=$(e2e_bin kube-apiserver "$KUBERNETES_VERSION")
kcm_bin=$(e2e_bin kube-controller-manager "$KUBERNETES_VERSION")
kubectl_bin=$(e2e_bin kubectl "$KUBERNETES_VERSION")
scheduler_bin=$(e2e_bin kube-scheduler "$KUBERNETES_VERSION")
kubelet_bin=$(e2e_bin kubelet "$KUBERNETES_VERSION")
chainsaw_bin=$(e2e_bin chainsaw "$CHAINSAW_VERSION")
registry_bin=$(e2e_bin registry "$GO_CONTAINERREGISTRY_VERSION")
# provider-kubernetes at the version hack/providers.yaml pins for platform teams (the one place it is written).
provider_kubernetes_version=$(sed -n 's#^[[:space:]]*package:.*/provider-kubernetes:\(v[0-9][^[:space:]]*\)$#\1#p' \
  "$here/providers.yaml")
provider_kubernetes_bin=$(e2e_bin provider-kubernetes "$provider_kubernetes_version")

# build_kubernetes [COMMAND...]: the named commands of k8s.io/kubernetes (default: the control plane's and the
# node's, and kubectl), those not cached yet.
build_kubernetes() {
  local pkg wanted=("$@") missing=()
  [ "${#wanted[@]}" -gt 0 ] || wanted=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
  for pkg in "${wanted[@]}"; do
    [ -x "$(e2e_bin "$pkg" "$KUBERNETES_VERSION")" ] || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  need_go
  log "building ${missing[*]} $KUBERNETES_VERSION (first run only; about 8 minutes for all five)"
  # k8s.io/kubernetes replaces each k8s.io/<staging> module with ./staging/src/..., which a dependency's
  # go.mod cannot do. Each staging module is published as v0.<minor>.<patch> of the same commit, so the
  # wrapper replaces every one of them (read from upstream's own go.mod) with that version.
  local gomod staging=v0${KUBERNETES_VERSION#v1} replaces=()
  gomod=$(cd "$(mktemp -d)" && go_env go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -f "$gomod" ] || { log "cannot download k8s.io/kubernetes $KUBERNETES_VERSION"; exit 1; }
  while read -r m; do
    replaces+=("-replace=$m=$m@$staging")
  done < <(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod")
  [ "${#replaces[@]}" -gt 20 ] || { log "no staging replacements found in $gomod"; exit 1; }
  for pkg in "${missing[@]}"; do
    build_wrapped "$(e2e_bin "$pkg" "$KUBERNETES_VERSION")" "k8s.io/kubernetes@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/$pkg" "${replaces[@]}"
  done
}

# The node's container runtime, from Debian's packages (installed when missing; needs root, as the node does).
debian_runtime() {
  local missing=()
  command -v containerd >/dev/null 2>&1 || missing+=(containerd)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  [ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "the e2e node needs ${missing[*]} (Debian packages) and root to install and run them"
    exit 1
  fi
  log "installing ${missing[*]} from Debian (first run only)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
}

# The real tools the backup round trip runs as the backup pods' users (tests/test_backup_restore.py), from
# Debian's packages: PostgreSQL (server, pg_dump, pg_restore) and rclone. Installed when missing and root can;
# otherwise that test says what is missing (and fails with CI=true).
debian_day2() {
  local missing=()
  compgen -G '/usr/lib/postgresql/*/bin/pg_restore' >/dev/null || missing+=(postgresql)
  command -v rclone >/dev/null 2>&1 || missing+=(rclone)
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "the backup round trip needs ${missing[*]} (Debian packages): not installed (needs root and apt-get)"
    return 0
  fi
  log "installing ${missing[*]} from Debian (first run only)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
}

build_e2e() {
  debian_runtime
  if [ ! -x "$etcd_bin" ]; then
    need_go
    log "building etcd $ETCD_VERSION (first run only)"
    build_wrapped "$etcd_bin" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" go.etcd.io/etcd/server/v3
  fi
  build_kubernetes
  if [ ! -x "$provider_kubernetes_bin" ]; then
    need_go
    [ -n "$provider_kubernetes_version" ] || { log "no provider-kubernetes version in hack/providers.yaml"; exit 1; }
    log "building provider-kubernetes $provider_kubernetes_version (first run only)"
    build_wrapped "$provider_kubernetes_bin" \
      "github.com/crossplane-contrib/provider-kubernetes@$provider_kubernetes_version" \
      github.com/crossplane-contrib/provider-kubernetes/cmd/provider
  fi
  if [ ! -x "$chainsaw_bin" ]; then
    need_go
    log "building chainsaw $CHAINSAW_VERSION (first run only)"
    build_wrapped "$chainsaw_bin" "github.com/kyverno/chainsaw@$CHAINSAW_VERSION" github.com/kyverno/chainsaw
  fi
  if [ ! -x "$registry_bin" ]; then
    need_go
    log "building the OCI registry (go-containerregistry $GO_CONTAINERREGISTRY_VERSION, first run only)"
    build_wrapped "$registry_bin" "github.com/google/go-containerregistry@$GO_CONTAINERREGISTRY_VERSION" \
      github.com/google/go-containerregistry/cmd/registry
  fi
}

e2e=false
if [ "${1:-}" = "e2e" ]; then
  e2e=true
  shift
  build_e2e
fi

# Core Crossplane's own CRDs (Usage, ClusterUsage), which composed resources are validated against too,
# DeploymentRuntimeConfig (examples/function-runtime.yaml) and ManagedResourceActivationPolicy (the
# Configurations' apis/*/activation.yaml): copied once from the pinned module into the cache, next to the binaries.
core_crds="$cache_root/crds/crossplane-$CROSSPLANE_CORE_VERSION"
fetch_core_crds() {
  [ -f "$core_crds/protection.crossplane.io_usages.yaml" ] &&
    [ -f "$core_crds/pkg.crossplane.io_deploymentruntimeconfigs.yaml" ] &&
    [ -f "$core_crds/apiextensions.crossplane.io_managedresourceactivationpolicies.yaml" ] && return 0
  need_go
  local dir
  dir=$(cd "$(mktemp -d)" && go_env go mod download -json "github.com/crossplane/crossplane/v2@$CROSSPLANE_CORE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { log "cannot download crossplane $CROSSPLANE_CORE_VERSION for its CRDs"; exit 1; }
  mkdir -p "$core_crds.tmp"
  cp "$dir"/cluster/crds/protection.crossplane.io_*.yaml "$dir"/cluster/crds/pkg.crossplane.io_deploymentruntimeconfigs.yaml \
    "$dir"/cluster/crds/apiextensions.crossplane.io_managedresourceactivationpolicies.yaml "$core_crds.tmp/"
  rm -rf "$core_crds" && mv "$core_crds.tmp" "$core_crds"
}
fetch_core_crds

# All of core Crossplane's CRDs, which `core init` installs into the e2e control plane.
core_all_crds="$cache_root/crds/crossplane-all-$CROSSPLANE_CORE_VERSION"
fetch_all_core_crds() {
  [ -f "$core_all_crds/apiextensions.crossplane.io_compositeresourcedefinitions.yaml" ] && return 0
  local dir
  dir=$(cd "$(mktemp -d)" && go_env go mod download -json "github.com/crossplane/crossplane/v2@$CROSSPLANE_CORE_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { log "cannot download crossplane $CROSSPLANE_CORE_VERSION for its CRDs"; exit 1; }
  mkdir -p "$core_all_crds.tmp"
  cp "$dir"/cluster/crds/*.yaml "$core_all_crds.tmp/"
  rm -rf "$core_all_crds" && mv "$core_all_crds.tmp" "$core_all_crds"
}
if $e2e; then fetch_all_core_crds; fi

debian_day2
# kubectl, whose commands and flags the README's are checked against (tests/test_readme.py); like promtool,
# only ever built from the module proxy.
if [ ! -x "$kubectl_bin" ] && [ "$tools_mode" = download ]; then
  log "FUNCTION_AI_WORKSPACE_TOOLS=download: kubectl $KUBERNETES_VERSION is only ever built from the Go module" \
    "proxy; build it once with FUNCTION_AI_WORKSPACE_TOOLS=auto"
  exit 1
fi
build_kubernetes kubectl

if [ "${1:-}" = "--print" ]; then
  printf 'CROSSPLANE=%s\nCROSSPLANE_CORE=%s\nCROSSPLANE_CORE_CRDS=%s\nHELM=%s\nPROMTOOL=%s\n' "$cli_bin" "$core_bin" \
    "$core_crds" "$helm_bin" "$promtool_bin"
  printf 'KUBECTL=%s\n' "$kubectl_bin"
  if $e2e; then
    printf 'ETCD=%s\nKUBE_APISERVER=%s\nKUBE_CONTROLLER_MANAGER=%s\nREGISTRY=%s\n' \
      "$etcd_bin" "$apiserver_bin" "$kcm_bin" "$registry_bin"
    printf 'PROVIDER_KUBERNETES=%s\n' "$provider_kubernetes_bin"
    printf 'KUBE_SCHEDULER=%s\nKUBELET=%s\nCHAINSAW=%s\n' "$scheduler_bin" "$kubelet_bin" "$chainsaw_bin"
    printf 'CROSSPLANE_ALL_CRDS=%s\n' "$core_all_crds"
  fi
fi
