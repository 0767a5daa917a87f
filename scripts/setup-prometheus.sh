#!/usr/bin/env bash
# Install Debian's `prometheus` package for the monitoring tests (/usr/bin/prometheus and
# /usr/bin/promtool), once, quietly, and without leaving its system service running.
#
# The tests start their own Prometheus on a free loopback port with a temporary config and
# storage directory; the packaged service (port 9090, /var/lib/prometheus) is never wanted.
# A temporary policy-rc.d forbids invoke-rc.d from starting it during the installation, and
# the service is stopped and disabled afterwards in case an init system started it anyway.
set -euo pipefail

have() { [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; }

if have; then
  exit 0
fi

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=""
if [ ! -e "$POLICY" ]; then
  # 101: "action not allowed" -- invoke-rc.d then starts no service during the installation.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 0755 "$POLICY"
  OWN_POLICY=1
fi
cleanup() { if [ -n "$OWN_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

apt() {
  # The dpkg lock may be held by another installation: wait for it, and retry a few times.
  local attempt
  for attempt in 1 2 3 4 5; do
    if $SUDO env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
        apt-get -o DPkg::Lock::Timeout=300 "$@"; then
      return 0
    fi
    echo "setup-prometheus: apt-get $1 failed (attempt $attempt); retrying" >&2
    sleep 10
  done
  return 1
}

echo "setup-prometheus: installing Debian's prometheus package"
apt-cache show prometheus >/dev/null 2>&1 || apt update -qq
apt install -y -qq --no-install-recommends prometheus >/dev/null

# In case a running init system started the service regardless: stop it and keep it off.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/prometheus ]; then
  $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
fi

have || { echo "setup-prometheus: prometheus or promtool missing after installation" >&2; exit 1; }
