#!/usr/bin/env bash
# The local release environment (see scripts/local-release.ts): per service a blue and a green
# app process (scripts/apps/health-app.ts), HAProxy and nginx from Debian in front, all on
# loopback, with everything under the stack's `local.runDir`. CI-safe: no systemd; processes are
# tracked by pid files, started only when missing, and the Debian packages installed when missing.
#
#   bash scripts/local-release.sh start  [--config Pulumi.local.yaml]
#   bash scripts/local-release.sh stop   [haproxy|nginx|apps] [--config ...]
#   bash scripts/local-release.sh status [--config ...]
#   bash scripts/local-release.sh fault  api green 500|"version 9.9.9"|clear [--config ...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/env.sh"

need_packages() { # PKG...: installs missing Debian packages (CI starts on a bare machine)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "[local-release] installing ${missing[*]}"
  apt-get update -qq
  # The packages' own services stay off: policy-rc.d or not, we start our own instances.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${1:-start}" = start ]; then
  # socat and curl: what a remote HAProxy host needs (here the local sshd stands in for one).
  need_packages haproxy nginx socat curl
fi
bash "$ROOT/scripts/build.sh"
exec node "$ROOT/dist/scripts/local-release.js" "$@"
