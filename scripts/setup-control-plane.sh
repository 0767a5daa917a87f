#!/usr/bin/env bash
# Build (once) and cache the binaries of a real local Kubernetes control plane.
#
# etcd comes from Debian; kube-apiserver and kube-controller-manager are built from Debian's
# own `kubernetes` source package (v1.20.2) with its vendored reflect2/json-iterator replaced by
# Debian's newer copies (the vendored reflect2 1.0.1 crashes under Go >= 1.18).
#
# The two binaries are cached outside the checkout, keyed by version, so a second run is a
# no-op. The cache is only ever filled by an atomic rename of a complete build: an interrupted
# or failed run never leaves something a later run mistakes for a good cache.
set -euo pipefail

K8S_VERSION="1.20.2"
CACHE_ROOT="${SEALOPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sealops}"
BIN_DIR="$CACHE_ROOT/k8s-v$K8S_VERSION"
STEP="start"

fail() {
  echo "setup-control-plane: step '$STEP' failed." >&2
  case "$STEP" in
    apt-install|apt-source)
      echo "  This step needs root and the Debian package registry. Run as root (or with sudo)" >&2
      echo "  on a Debian 12 machine with network access to its package mirror, then retry." >&2 ;;
    build)
      echo "  The Kubernetes build failed; see the output above. Nothing was cached; rerun" >&2
      echo "  'make cluster' after fixing the cause (disk space, memory, Go toolchain)." >&2 ;;
  esac
  exit 1
}
trap fail ERR

have_binaries() {
  [ -x "$BIN_DIR/kube-apiserver" ] && [ -x "$BIN_DIR/kube-controller-manager" ] && [ -f "$BIN_DIR/.complete" ]
}

need_pkgs=()
for cmd_pkg in go:golang-go etcd:etcd-server rsync:rsync; do
  command -v "${cmd_pkg%%:*}" >/dev/null 2>&1 || need_pkgs+=("${cmd_pkg#*:}")
done
for dir_pkg in modern-go/reflect2:golang-github-modern-go-reflect2-dev json-iterator/go:golang-github-json-iterator-go-dev; do
  [ -d "/usr/share/gocode/src/github.com/${dir_pkg%%:*}" ] || need_pkgs+=("${dir_pkg#*:}")
done

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  STEP="apt-install"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup-control-plane: installing Debian packages: ${need_pkgs[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if have_binaries; then
  echo "setup-control-plane: cached binaries in $BIN_DIR"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
WORK="$(mktemp -d "$CACHE_ROOT/build.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

STEP="apt-source"
# A private apt state so the system's source lists stay untouched.
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/sources.d"
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
echo "deb-src $mirror bookworm main" > "$WORK/apt/sources.list"
APT_OPTS=(-o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Etc::SourceList=$WORK/apt/sources.list"
          -o "Dir::Etc::SourceParts=$WORK/apt/sources.d" -o "APT::Get::List-Cleanup=0")
echo "setup-control-plane: fetching Debian's kubernetes source package"
apt-get "${APT_OPTS[@]}" update -qq
(cd "$WORK" && apt-get "${APT_OPTS[@]}" source --download-only -qq kubernetes >/dev/null)
orig="$(ls "$WORK"/kubernetes_*.orig.tar.gz | head -n1)"
case "$orig" in *"$K8S_VERSION"*) ;; *) echo "unexpected source version: $orig" >&2; false ;; esac

STEP="unpack"
mkdir -p "$WORK/src"
tar -xzf "$orig" -C "$WORK/src" --strip-components=1

STEP="patch"
# Replace the vendored reflect2 1.0.1 (crashes with Go >= 1.18) and json-iterator.
for mod in modern-go/reflect2 json-iterator/go; do
  rm -rf "$WORK/src/vendor/github.com/$mod"
  cp -r "/usr/share/gocode/src/github.com/$mod" "$WORK/src/vendor/github.com/$mod"
done

STEP="build"
echo "setup-control-plane: building kube-apiserver and kube-controller-manager (several minutes, once)"
(cd "$WORK/src" && make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" \
   KUBE_BUILD_PLATFORMS=linux/amd64 GOFLAGS=-mod=vendor)

STEP="cache"
stage="$WORK/out"
mkdir -p "$stage"
cp "$WORK/src/_output/bin/kube-apiserver" "$WORK/src/_output/bin/kube-controller-manager" "$stage/"
"$stage/kube-apiserver" --version >/dev/null
touch "$stage/.complete"
rm -rf "$BIN_DIR"
mv "$stage" "$BIN_DIR"
echo "setup-control-plane: cached binaries in $BIN_DIR"
