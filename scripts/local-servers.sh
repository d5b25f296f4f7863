#!/usr/bin/env bash
# Starts the servers the local stack and the integration tests talk to, all on loopback:
#   PostgreSQL 15   127.0.0.1:5432  (Debian cluster 15/main, trust auth for local admin)
#   MariaDB         127.0.0.1:3306  (stands in for the Plesk server; the system instance)
#   MariaDB         127.0.0.1:3307  (stands in for the external server; own datadir in $STATE)
# Idempotent: a server already answering is left alone. `status` prints what answers.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/env.sh"
# Server data lives where the server users (mysql, postgres) can reach it; $HOME may be private.
STATE="${RP_SERVER_STATE:-/var/lib/release-platform}"
mkdir -p "$STATE"

log() { printf '[local-servers] %s\n' "$*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # PORT NAME
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  log "$2 did not open port $1"; return 1
}

need_packages() { # PKG...: installs Debian packages that are missing (CI starts on a bare machine)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ ! -f "$STATE/.apt-updated" ]; then apt-get update -qq && touch "$STATE/.apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

start_postgres() {
  if port_open 5432; then log "postgresql: up on 5432"; return 0; fi
  need_packages postgresql
  local ver
  ver="$(ls /etc/postgresql | sort -V | tail -1)"
  log "postgresql: starting cluster $ver/main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  wait_port 5432 postgresql
}

start_mariadb_system() {
  if port_open 3306; then log "mariadb (plesk stand-in): up on 3306"; return 0; fi
  need_packages mariadb-server
  log "mariadb (plesk stand-in): starting the system instance"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  wait_port 3306 mariadb
}

start_mariadb_ext() {
  if port_open 3307; then log "mariadb (external stand-in): up on 3307"; return 0; fi
  need_packages mariadb-server
  local dir="$STATE/mariadb-ext"
  if [ ! -d "$dir/data/mysql" ]; then
    log "mariadb (external stand-in): initialising $dir"
    mkdir -p "$dir/data" && chown -R mysql:mysql "$dir"
    mariadb-install-db --no-defaults --user=mysql --datadir="$dir/data" --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/install.log" 2>&1 || { tail -20 "$dir/install.log"; return 1; }
  fi
  log "mariadb (external stand-in): starting on 3307"
  start-stop-daemon --start --oknodo --background --chuid mysql --pidfile "$dir/mariadbd.pid" --exec /usr/sbin/mariadbd -- \
    --no-defaults --datadir="$dir/data" --port=3307 --bind-address=127.0.0.1 \
    --socket="$dir/mariadbd.sock" --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --skip-name-resolve
  wait_port 3307 "mariadb (external)"
  # Same admin as the system instance: root over TCP from loopback, no password (local only).
  mariadb --socket="$dir/mariadbd.sock" -uroot -e \
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
}

status() {
  for p in 5432:postgresql 3306:mariadb-plesk 3307:mariadb-ext; do
    if port_open "${p%%:*}"; then log "${p#*:}: up on ${p%%:*}"; else log "${p#*:}: DOWN (${p%%:*})"; fi
  done
}

case "${1:-start}" in
  start) start_postgres; start_mariadb_system; start_mariadb_ext ;;
  status) status ;;
  *) echo "usage: $0 [start|status]"; exit 2 ;;
esac
