#!/usr/bin/env bash
# The Proxmox VE API emulator the local stack's cluster.endpoint points at (https://127.0.0.1:8006),
# run in the background for `npm start`. A test fixture standing in for a real cluster: see
# test/support/pve-emulator/README.md. Its cluster is saved in $DIR/state.json, so it survives
# restarts in step with the local stack's state. Integration tests start their own emulators.
#   bash scripts/pve-emulator.sh start|stop|status|reset
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/env.sh"
PORT="${PVE_EMULATOR_PORT:-8006}"
DIR="${PVE_EMULATOR_DIR:-/tmp/release-platform/pve-emulator}"
PID_FILE="$DIR/emulator.pid"
mkdir -p "$DIR"

log() { printf '[pve-emulator] %s\n' "$*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start() {
  if running; then log "up on $PORT (pid $(cat "$PID_FILE"))"; return 0; fi
  if port_open "$PORT"; then log "port $PORT is taken by another process"; return 1; fi
  log "starting on https://127.0.0.1:$PORT (state in $DIR/state.json, log in $DIR/requests.log)"
  (cd "$ROOT" && exec node -r ts-node/register/transpile-only test/support/pve-emulator/main.ts \
      --port "$PORT" --state-file "$DIR/state.json" --log) >>"$DIR/requests.log" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 60); do port_open "$PORT" && { log "up on $PORT"; return 0; }; sleep 0.5; done
  log "did not open port $PORT; see $DIR/requests.log"; return 1
}

stop() {
  if running; then kill "$(cat "$PID_FILE")"; log "stopped"; fi
  rm -f "$PID_FILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if running; then log "up on $PORT (pid $(cat "$PID_FILE"))"; else log "DOWN ($PORT)"; fi ;;
  # Forget the emulated cluster (only together with the local stack's state: `pulumi stack rm local`).
  reset) stop; rm -f "$DIR/state.json"; log "state removed" ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac
