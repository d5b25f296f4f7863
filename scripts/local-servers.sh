#!/usr/bin/env bash
# Starts the servers the local stack and the integration tests talk to, all on loopback:
#   PostgreSQL 15   127.0.0.1:5432  (Debian cluster 15/main; TLS with the local test CA, SCRAM passwords,
#                                    trust only for the admin `postgres` on the socket and loopback)
#   MariaDB         127.0.0.1:3306  (stands in for the Plesk server; the system instance; TLS)
#   MariaDB         127.0.0.1:3307  (stands in for the external server; own datadir in $STATE; TLS)
#   sshd            127.0.0.1:2222  (target of the remote commands; own config and host key in $STATE,
#                                    root by the local stack's key only; the system sshd is never used)
# Every server's certificate is signed by one throwaway test CA, $STATE/tls/ca.crt (`ca-file` prints
# it), so the local stack connects with verify-full like staging and production; the local sshd's
# host key is what the local stack pins (`host-key` prints it).
# Idempotent: a server already answering is left running and only reloaded (or restarted, where a
# server cannot load TLS at runtime) when its config changed. `status` prints what answers.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/env.sh"
# Server data lives where the server users (mysql, postgres) can reach it; $HOME may be private.
STATE="${RP_SERVER_STATE:-/var/lib/release-platform}"
mkdir -p "$STATE"
TLS_DIR="$STATE/tls"
CA_FILE="$TLS_DIR/ca.crt"
SSHD_DIR="$STATE/sshd"
SSHD_PORT=2222
# The local stack's SSH key (scripts/local-secrets.ts `localSshKey` makes the same one).
LOCAL_SSH_KEY="$RP_CACHE/local-ssh/id_ed25519"

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

# write_file PATH OWNER MODE < content: replaces PATH only when the content differs; sets CHANGED=1 then.
write_file() {
  local path="$1" owner="$2" mode="$3" tmp
  tmp="$(mktemp "$path.XXXXXX")"
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; return 0; fi
  chown "$owner" "$tmp" && chmod "$mode" "$tmp" && mv -f "$tmp" "$path"
  CHANGED=1
}

# A throwaway CA, made once (again when missing or expiring within 30 days). Its key never leaves root.
ensure_test_ca() {
  mkdir -p "$TLS_DIR/trust" && chmod 755 "$TLS_DIR" "$TLS_DIR/trust"
  if [ -f "$TLS_DIR/ca.key" ] && [ -f "$CA_FILE" ] && openssl x509 -checkend 2592000 -noout -in "$CA_FILE" >/dev/null 2>&1; then
    # The CA alone in a directory: what Go's SSL_CERT_DIR adds to the system store (scripts/env.sh).
    cmp -s "$CA_FILE" "$TLS_DIR/trust/release-platform-local-ca.crt" || install -m 644 "$CA_FILE" "$TLS_DIR/trust/release-platform-local-ca.crt"
    return 0
  fi
  log "tls: making the local test CA in $TLS_DIR"
  local work
  work="$(mktemp -d)"
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -days 3650 \
    -subj "/CN=release-platform local test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$work/ca.key" -out "$work/ca.crt" 2>/dev/null
  install -m 600 -o root -g root "$work/ca.key" "$TLS_DIR/ca.key"
  install -m 644 -o root -g root "$work/ca.crt" "$CA_FILE"
  install -m 644 "$CA_FILE" "$TLS_DIR/trust/release-platform-local-ca.crt"
  rm -rf "$work"
}

# ensure_server_cert NAME OWNER: $TLS_DIR/NAME.crt and .key for 127.0.0.1/localhost, signed by the test
# CA, readable by OWNER only (servers refuse a key others can read). Made again when missing, not
# signed by the CA, or expiring within 30 days; sets CHANGED=1 then.
ensure_server_cert() {
  local name="$1" owner="$2" work
  ensure_test_ca
  if [ -f "$TLS_DIR/$name.key" ] && [ -f "$TLS_DIR/$name.crt" ] \
    && openssl verify -CAfile "$CA_FILE" "$TLS_DIR/$name.crt" >/dev/null 2>&1 \
    && openssl x509 -checkend 2592000 -noout -in "$TLS_DIR/$name.crt" >/dev/null; then
    return 0
  fi
  log "tls: making the $name server certificate in $TLS_DIR"
  work="$(mktemp -d)"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj "/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$work/server.ext"
  openssl x509 -req -sha256 -days 825 -in "$work/server.csr" -CA "$CA_FILE" -CAkey "$TLS_DIR/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null
  install -m 600 -o "$owner" -g "$owner" "$work/server.key" "$TLS_DIR/$name.key"
  install -m 644 -o "$owner" -g "$owner" "$work/server.crt" "$TLS_DIR/$name.crt"
  rm -rf "$work"
  CHANGED=1
}

# The base pg_hba.conf of the local cluster. The managed blocks that `pulumi up` puts above it
# (`# BEGIN release-platform managed ...` to `# END ...`) are kept as they are.
PG_HBA_BASE_MARKER="# release-platform local servers (scripts/local-servers.sh): base rules below"
pg_hba_base() {
  cat <<HBA
$PG_HBA_BASE_MARKER
# The local admin (tests, the Pulumi provider) without a password, on the socket and loopback only.
local   all          postgres                 trust
host    all          postgres   127.0.0.1/32  trust
host    all          postgres   ::1/128       trust
# Every other role: a SCRAM password. Service users never get here (their managed reject lines come first).
local   all          all                      scram-sha-256
host    all          all        127.0.0.1/32  scram-sha-256
host    all          all        ::1/128       scram-sha-256
HBA
}

ensure_pg_hba_base() { # HBA_FILE
  local hba="$1" blocks
  if [ -f "$hba" ] && grep -qxF "$PG_HBA_BASE_MARKER" "$hba"; then return 0; fi
  log "postgresql: writing the base rules of $hba (the file before is kept in $STATE/pg_hba.conf.before)"
  [ -f "$STATE/pg_hba.conf.before" ] || cp -p "$hba" "$STATE/pg_hba.conf.before"
  blocks="$(awk '/^# BEGIN release-platform managed/{keep=1} keep{print} /^# END release-platform managed/{keep=0}' "$hba")"
  write_file "$hba" postgres:postgres 640 < <([ -z "$blocks" ] || printf '%s\n' "$blocks"; pg_hba_base)
}

start_postgres() {
  need_packages postgresql openssl
  local ver conf
  ver="$(ls /etc/postgresql | sort -V | tail -1)"
  conf="/etc/postgresql/$ver/main"
  CHANGED=0
  ensure_server_cert postgres postgres
  # conf.d is read after postgresql.conf, and 99- after the others: these settings win.
  mkdir -p "$conf/conf.d"
  write_file "$conf/conf.d/99-release-platform.conf" postgres:postgres 644 <<CONF
# release-platform local servers (scripts/local-servers.sh): TLS with the local test CA, SCRAM passwords.
ssl = on
ssl_cert_file = '$TLS_DIR/postgres.crt'
ssl_key_file = '$TLS_DIR/postgres.key'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
CONF
  ensure_pg_hba_base "$conf/pg_hba.conf"
  if port_open 5432; then
    if [ "$CHANGED" = 1 ]; then
      log "postgresql: configuration changed, reloading cluster $ver/main"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
    else
      log "postgresql: up on 5432"
    fi
  else
    log "postgresql: starting cluster $ver/main"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start
    wait_port 5432 postgresql
  fi
  local tls
  tls="$(check_postgres_tls)" || { log "postgresql: TLS with $CA_FILE does not verify; see /var/log/postgresql/"; return 1; }
  log "postgresql: $tls, certificate verified with $CA_FILE"
}

# Connects as the admin with full certificate verification; prints the negotiated protocol.
check_postgres_tls() { # [TRIES]
  local out=""
  for _ in $(seq 1 "${1:-20}"); do
    out="$(psql "host=127.0.0.1 port=5432 user=postgres dbname=postgres sslmode=verify-full sslrootcert=$CA_FILE connect_timeout=5" \
      -XAtc "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl" 2>/dev/null)" && [ -n "$out" ] && break
    sleep 0.5 # a reload is asynchronous
  done
  [ -n "$out" ] && echo "$out"
}

# The local stack's SSH key, made the way scripts/local-secrets.ts makes it when missing.
ensure_local_ssh_key() {
  [ -f "$LOCAL_SSH_KEY" ] && [ -f "$LOCAL_SSH_KEY.pub" ] && return 0
  mkdir -p "$(dirname "$LOCAL_SSH_KEY")" && chmod 700 "$(dirname "$LOCAL_SSH_KEY")"
  [ -f "$LOCAL_SSH_KEY" ] || ssh-keygen -q -t ed25519 -N "" -C release-platform-local -f "$LOCAL_SSH_KEY"
  [ -f "$LOCAL_SSH_KEY.pub" ] || ssh-keygen -y -f "$LOCAL_SSH_KEY" >"$LOCAL_SSH_KEY.pub"
}

sshd_pid() { # prints the pid of our sshd when it runs
  local pid
  pid="$(cat "$SSHD_DIR/sshd.pid" 2>/dev/null)" || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_sshd() {
  if [ ! -x /usr/sbin/sshd ]; then
    # Package scripts must not start the system sshd (port 22): hold service starts during the install.
    local held=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && held=1; fi
    need_packages openssh-server || { [ "$held" = 0 ] || rm -f /usr/sbin/policy-rc.d; return 1; }
    [ "$held" = 0 ] || rm -f /usr/sbin/policy-rc.d
  fi
  ensure_local_ssh_key
  mkdir -p "$SSHD_DIR" && chmod 700 "$SSHD_DIR"
  [ -f "$SSHD_DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N "" -C release-platform-local-sshd -f "$SSHD_DIR/ssh_host_ed25519_key"
  # What a client pins (`ssh -o UserKnownHostsFile=...`, the command provider's `hostKey`).
  printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$SSHD_DIR/ssh_host_ed25519_key.pub")" >"$SSHD_DIR/known_hosts"
  CHANGED=0
  write_file "$SSHD_DIR/authorized_keys" root:root 600 <"$LOCAL_SSH_KEY.pub"
  write_file "$SSHD_DIR/sshd_config" root:root 600 <<CFG
# release-platform local servers (scripts/local-servers.sh): the ssh target of the local stack's remote commands.
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/ssh_host_ed25519_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# The command provider passes the previous output of a command in these.
AcceptEnv PULUMI_COMMAND_STDOUT PULUMI_COMMAND_STDERR RP_*
Subsystem sftp internal-sftp
CFG
  mkdir -p /run/sshd # privilege separation directory (no systemd unit makes it here); sshd -t needs it too
  /usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config"
  local pid
  if pid="$(sshd_pid)"; then
    if [ "$CHANGED" = 1 ]; then log "sshd: configuration changed, reloading (pid $pid)"; kill -HUP "$pid"; sleep 0.5
    else log "sshd: up on $SSHD_PORT (pid $pid)"; fi
  elif port_open "$SSHD_PORT"; then
    log "sshd: port $SSHD_PORT is taken by another process (not $SSHD_DIR/sshd.pid); stop it first"; return 1
  else
    log "sshd: starting on 127.0.0.1:$SSHD_PORT"
    /usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log"
    wait_port "$SSHD_PORT" sshd
  fi
  check_sshd || { log "sshd: key login as root failed; see $SSHD_DIR/sshd.log"; return 1; }
}

# Logs in as root with the local stack's key, pinning our host key.
check_sshd() {
  ssh -q -p "$SSHD_PORT" -i "$LOCAL_SSH_KEY" -o BatchMode=yes -o ConnectTimeout=5 -o IdentitiesOnly=yes \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSHD_DIR/known_hosts" root@127.0.0.1 true
}

# Connects as root over TCP with full certificate verification; prints the TLS version in use.
check_mariadb_tls() { # PORT [TRIES]
  local out=""
  for _ in $(seq 1 "${2:-20}"); do
    out="$(mariadb -h 127.0.0.1 -P "$1" -uroot --ssl --ssl-ca="$CA_FILE" --ssl-verify-server-cert -N -B \
      -e "SHOW STATUS LIKE 'Ssl_version'" 2>/dev/null | cut -f2)" && [ -n "$out" ] && break
    sleep 0.5
  done
  [ -n "$out" ] && echo "$out"
}

# Whether the server on PORT has TLS on (MariaDB 10.11 loads its certificate at start only).
mariadb_has_tls() { # PORT SOCKET
  [ "$(mariadb --socket="$2" -uroot -N -B -e "SELECT @@have_ssl" 2>/dev/null)" = YES ]
}

# Stops a running server whose TLS is off or whose certificate changed (CHANGED=1): MariaDB 10.11
# loads its certificate at start only, so the caller starts it again.
stop_mariadb_without_tls() { # PORT SOCKET NAME
  if port_open "$1" && { [ "$CHANGED" = 1 ] || ! mariadb_has_tls "$1" "$2"; }; then
    log "mariadb ($3): restarting to load TLS"
    mariadb-admin --socket="$2" -uroot shutdown
    for _ in $(seq 1 60); do port_open "$1" || break; sleep 0.5; done
  fi
}

start_mariadb_system() {
  need_packages mariadb-server
  CHANGED=0
  ensure_server_cert mariadb mysql
  # Its own file, included from my.cnf (machines of ours ship a my.cnf without Debian's conf.d include).
  local cnf=/etc/mysql/release-platform.cnf
  if ! grep -qxF "!include $cnf" /etc/mysql/my.cnf; then
    printf '\n# release-platform local servers (scripts/local-servers.sh)\n!include %s\n' "$cnf" >>/etc/mysql/my.cnf
    CHANGED=1
  fi
  write_file "$cnf" root:root 644 <<CNF
# release-platform local servers (scripts/local-servers.sh): TLS with the local test CA.
[mariadbd]
ssl_cert = $TLS_DIR/mariadb.crt
ssl_key = $TLS_DIR/mariadb.key
ssl_ca = $CA_FILE
tls_version = TLSv1.2,TLSv1.3
CNF
  stop_mariadb_without_tls 3306 /run/mysqld/mysqld.sock "plesk stand-in"
  if port_open 3306; then log "mariadb (plesk stand-in): up on 3306"
  else
    log "mariadb (plesk stand-in): starting the system instance"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    wait_port 3306 mariadb
  fi
  local tls
  tls="$(check_mariadb_tls 3306)" || { log "mariadb (plesk stand-in): TLS with $CA_FILE does not verify"; return 1; }
  log "mariadb (plesk stand-in): $tls, certificate verified with $CA_FILE"
}

start_mariadb_ext() {
  need_packages mariadb-server
  local dir="$STATE/mariadb-ext"
  CHANGED=0
  ensure_server_cert mariadb mysql
  stop_mariadb_without_tls 3307 "$dir/mariadbd.sock" "external stand-in"
  if port_open 3307; then log "mariadb (external stand-in): up on 3307"
  else
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
      --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --skip-name-resolve \
      --ssl-cert="$TLS_DIR/mariadb.crt" --ssl-key="$TLS_DIR/mariadb.key" --ssl-ca="$CA_FILE" --tls-version=TLSv1.2,TLSv1.3
    wait_port 3307 "mariadb (external)"
    # Same admin as the system instance: root over TCP from loopback, no password (local only).
    mariadb --socket="$dir/mariadbd.sock" -uroot -e \
      "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
  fi
  local tls
  tls="$(check_mariadb_tls 3307)" || { log "mariadb (external stand-in): TLS with $CA_FILE does not verify"; return 1; }
  log "mariadb (external stand-in): $tls, certificate verified with $CA_FILE"
}

status() {
  for p in 5432:postgresql 3306:mariadb-plesk 3307:mariadb-ext $SSHD_PORT:sshd; do
    if port_open "${p%%:*}"; then log "${p#*:}: up on ${p%%:*}"; else log "${p#*:}: DOWN (${p%%:*})"; fi
  done
  local tls
  if tls="$(check_postgres_tls 1)"; then log "postgresql: TLS $tls, certificate verified with $CA_FILE"
  else log "postgresql: TLS NOT verified with $CA_FILE"; fi
  log "postgresql: password_encryption = $(psql -h 127.0.0.1 -U postgres -XAtc 'SHOW password_encryption' 2>/dev/null || echo '?')"
  for port in 3306 3307; do
    if tls="$(check_mariadb_tls "$port" 1)"; then log "mariadb on $port: TLS $tls, certificate verified with $CA_FILE"
    else log "mariadb on $port: TLS NOT verified with $CA_FILE"; fi
  done
  if check_sshd 2>/dev/null; then log "sshd: root login with $LOCAL_SSH_KEY ok"
  else log "sshd: root login with $LOCAL_SSH_KEY FAILED"; fi
}

case "${1:-start}" in
  start) start_postgres; start_mariadb_system; start_mariadb_ext; start_sshd; ensure_server_cert pve-emulator root; ensure_server_cert github-standin root ;;
  status) status ;;
  ca-file) echo "$CA_FILE" ;;
  host-key) cut -d' ' -f1,2 "$SSHD_DIR/ssh_host_ed25519_key.pub" ;;
  *) echo "usage: $0 [start|status|ca-file|host-key]"; exit 2 ;;
esac
