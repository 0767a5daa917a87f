#!/usr/bin/env bash
# Install Debian's `chromium` (once): the dashboard's integration tests drive a real headless
# browser against `sealops dashboard`. A second run is a no-op. Other helpers' set-up scripts
# may run apt-get at the same time, so a busy dpkg lock is waited for, not treated as failure.
set -euo pipefail

PKGS=(chromium fonts-dejavu-core)
TRIES="${SEALOPS_APT_TRIES:-30}"

missing=()
for pkg in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ] && command -v chromium >/dev/null 2>&1; then
  exit 0
fi

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_quiet() {
  # One apt-get run; its output is shown only when it fails.
  local log
  log="$(mktemp)"
  if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@" \
      >"$log" 2>&1; then
    rm -f "$log"; return 0
  fi
  if grep -qiE "could not get lock|unable to acquire|is another process using it" "$log"; then
    rm -f "$log"; return 75  # the lock is busy: retry
  fi
  cat "$log" >&2; rm -f "$log"; return 1
}
with_retry() {
  local attempt=1 rc
  while :; do
    rc=0; apt_quiet "$@" || rc=$?
    [ "$rc" -eq 0 ] && return 0
    if [ "$rc" -ne 75 ] || [ "$attempt" -ge "$TRIES" ]; then
      echo "setup-chromium: apt-get $* failed (attempt $attempt)." >&2
      echo "  This needs root and the Debian package registry; run as root on Debian 12." >&2
      return 1
    fi
    attempt=$((attempt + 1)); sleep 5
  done
}

echo "setup-chromium: installing Debian packages: ${missing[*]:-chromium}"
with_retry update -qq
with_retry install -y -qq --no-install-recommends "${missing[@]:-chromium}"
command -v chromium >/dev/null 2>&1 || { echo "setup-chromium: chromium not on PATH" >&2; exit 1; }
