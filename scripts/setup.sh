#!/usr/bin/env bash
# Offline setup: Node.js 24, npm dependencies, and the Pulumi CLI, language host and provider
# plugins built from Go modules, cached outside the repository and registered in PULUMI_HOME.
#
# Every build step is cached under $RP_CACHE/build/<step>-<key>, where the key hashes the pinned
# versions and that step's sources, so a second run only checks hashes (seconds). A step that fails
# is reported by name with the tail of its log; setup then exits non-zero (set
# RP_SETUP_ALLOW_PARTIAL=1 to register what did build and exit 0 anyway).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
. "$ROOT/toolchain/versions.env"
RP_CACHE="${RP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/release-platform}"
mkdir -p "$RP_CACHE/build" "$RP_CACHE/logs"

export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

SETUP_START=$SECONDS
FAILED=()

say() { printf '[setup %5ss] %s\n' "$((SECONDS - SETUP_START))" "$*"; }
elapsed() { local s=$1; printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# hash_inputs FILE_OR_DIR...: a short content hash of the sources (files git tracks or would track,
# so build outputs such as generated schemas never change the key), plus the Go version.
hash_inputs() {
  { cat "$ROOT/toolchain/versions.env"; go version 2>/dev/null || true
    for p in "$@"; do
      if [ ! -e "$p" ]; then
        echo "missing $p"
      else
        git -C "$ROOT" ls-files -co --exclude-standard -- "$p" | LC_ALL=C sort | while read -r f; do
          [ -f "$ROOT/$f" ] && [ "${f##*/}" != README.md ] && (cd "$ROOT" && sha256sum "$f")
        done
      fi
    done; } | sha256sum | cut -c1-16
}

# run_step NAME KEY OUTDIR CMD...: runs CMD (which must fill OUTDIR) unless OUTDIR/.done exists.
run_step() {
  local name=$1 key=$2 out=$3; shift 3
  if [ -f "$out/.done" ]; then
    say "$name: cached ($out)"
    return 0
  fi
  local log="$RP_CACHE/logs/$name-$key.log" t0=$SECONDS
  if [ -n "${RP_STEP_SRC:-}" ] && [ ! -d "$RP_STEP_SRC" ]; then
    say "$name: FAILED: its sources ${RP_STEP_SRC#"$ROOT"/} are missing"
    FAILED+=("$name"); return 1
  fi
  rm -rf "$out" && mkdir -p "$out"
  say "$name: building (log: $log)"
  # A heartbeat keeps long Go builds visible in CI output.
  ( trap 'kill "$s" 2>/dev/null; exit 0' TERM
    while :; do sleep 60 & s=$!; wait "$s"; say "$name: still building, $(elapsed $((SECONDS - t0))) so far"; done ) &
  local hb=$!
  if "$@" "$out" >"$log" 2>&1; then
    kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
    touch "$out/.done"
    say "$name: built in $(elapsed $((SECONDS - t0)))"
  else
    kill "$hb" 2>/dev/null; wait "$hb" 2>/dev/null || true
    say "$name: FAILED after $(elapsed $((SECONDS - t0))); last lines of $log:"
    tail -n 25 "$log" | sed 's/^/    /'
    FAILED+=("$name")
    return 1
  fi
}

# --- Node.js ------------------------------------------------------------------------------------
sys_major="$(command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' || echo 0)"
if [ "$sys_major" -lt "$NODE_MIN_MAJOR" ]; then
  node_dir="$RP_CACHE/node-$NODE_VERSION"
  if [ ! -x "$node_dir/node_modules/node/bin/node" ]; then
    say "node: system Node.js is v$sys_major (< $NODE_MIN_MAJOR); installing node@$NODE_VERSION from the npm registry"
    mkdir -p "$node_dir"
    npm install --no-save --no-audit --no-fund --prefix "$node_dir" "node@$NODE_VERSION" >"$RP_CACHE/logs/node.log" 2>&1 \
      || { tail -n 20 "$RP_CACHE/logs/node.log"; exit 1; }
  fi
  export PATH="$node_dir/node_modules/node/bin:$PATH"
fi
say "node: $(node --version) at $(command -v node)"

# --- npm dependencies ---------------------------------------------------------------------------
npm_install() { # DIR
  local dir=$1 stamp="$1/node_modules/.rp-lock-hash" want
  want="$(sha256sum "$dir/package-lock.json" | cut -c1-16)-$(node --version)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "npm: ${dir#"$ROOT"/}: up to date"; return 0
  fi
  say "npm: ${dir#"$ROOT"/}: npm ci"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}
npm_install "$ROOT"
[ -f "$ROOT/policies/package-lock.json" ] && npm_install "$ROOT/policies"

# --- Go toolchain check ---------------------------------------------------------------------------
command -v go >/dev/null || { echo "setup: Go is required to build the Pulumi toolchain (none on PATH)"; exit 1; }

# --- Pulumi CLI, language host, dynamic-provider script -------------------------------------------
official_cli=""
if command -v pulumi >/dev/null 2>&1; then
  cand="$(command -v pulumi)"
  if [ "$("$cand" version 2>/dev/null)" = "v$PULUMI_CLI_WANTED" ] && [ -x "$(dirname "$(readlink -f "$cand")")/pulumi-language-nodejs" ]; then
    official_cli="$(dirname "$(readlink -f "$cand")")"
    say "pulumi: using the official CLI v$PULUMI_CLI_WANTED found at $official_cli"
  fi
fi

build_cli() { # OUT
  (cd "$ROOT/toolchain/cli" && go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_CLI_VERSION" \
    -o "$1/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}
build_langhost() { # OUT
  (cd "$ROOT/toolchain/langhost" && go build -trimpath \
    -ldflags "-s -w -X main.version=v$PULUMI_CLI_VERSION" -o "$1/pulumi-language-nodejs" .)
}
fetch_nodejs_provider_script() { # OUT: the shim the CLI starts for dynamic providers (pulumi.dynamic)
  local dir
  dir="$(cd "$RP_CACHE" && GOFLAGS=-mod=mod go mod download -json "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_SDK_VERSION" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Dir))')"
  install -m 0755 "$dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$1/pulumi-resource-pulumi-nodejs"
}

CLI_OUT="" LANG_OUT="" NODEJS_OUT=""
if [ -z "$official_cli" ]; then
  key="$(hash_inputs "$ROOT/toolchain/cli")"; CLI_OUT="$RP_CACHE/build/cli-$key"
  run_step "pulumi-cli-v$PULUMI_CLI_VERSION" "$key" "$CLI_OUT" build_cli || true
  key="$(hash_inputs "$ROOT/toolchain/langhost")"; LANG_OUT="$RP_CACHE/build/langhost-$key"
  RP_STEP_SRC="$ROOT/toolchain/langhost" run_step "pulumi-language-nodejs" "$key" "$LANG_OUT" build_langhost || true
  key="$(hash_inputs "$ROOT/toolchain/versions.env")"; NODEJS_OUT="$RP_CACHE/build/nodejs-provider-$key"
  run_step "pulumi-resource-pulumi-nodejs" "$key" "$NODEJS_OUT" fetch_nodejs_provider_script || true
fi

# --- Provider plugins ---------------------------------------------------------------------------
declare -A PLUGIN_VERSION=(
  [command]="$PLUGIN_COMMAND_VERSION"
  [postgresql]="$PLUGIN_POSTGRESQL_VERSION"
  [random]="$PLUGIN_RANDOM_VERSION"
  [proxmoxve]="$PLUGIN_PROXMOXVE_VERSION"
)
declare -A PLUGIN_OUT=()
for name in command postgresql random proxmoxve; do
  dir="$ROOT/toolchain/providers/$name"
  if [ ! -x "$dir/build.sh" ]; then
    say "plugin $name: no build recipe at toolchain/providers/$name/build.sh"
    FAILED+=("plugin-$name (no recipe)")
    continue
  fi
  ver="${PLUGIN_VERSION[$name]}"
  key="$(hash_inputs "$dir" "$ROOT/toolchain/providers/build-bridged.sh")"; out="$RP_CACHE/build/provider-$name-$ver-$key"
  build_plugin() { "$dir/build.sh" "$1" "$ver"; }
  if run_step "plugin-$name-v$ver" "$key" "$out" build_plugin; then PLUGIN_OUT[$name]="$out"; fi
done

# --- actionlint: `npm test` lints .github/workflows with it ----------------------------------------
# Pinned here rather than in toolchain/versions.env, whose hash keys every other build step.
ACTIONLINT_VERSION=1.7.12
build_actionlint() { # OUT
  GOBIN="$1" GOFLAGS=-buildvcs=false go install -trimpath -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
}
key="$({ echo "actionlint $ACTIONLINT_VERSION"; go version; } | sha256sum | cut -c1-16)"; ACTIONLINT_OUT="$RP_CACHE/build/actionlint-$key"
run_step "actionlint-v$ACTIONLINT_VERSION" "$key" "$ACTIONLINT_OUT" build_actionlint || ACTIONLINT_OUT=""

# --- Assemble the toolchain dir: bin/ (CLI + bundled plugins side by side) and PULUMI_HOME -------
combo="$(printf '%s\n' "$official_cli" "$CLI_OUT" "$LANG_OUT" "$NODEJS_OUT" "${PLUGIN_OUT[@]}" "$ACTIONLINT_OUT" | sha256sum | cut -c1-16)"
TC="$RP_CACHE/toolchain/$combo"
if [ ! -f "$TC/.done" ]; then
  rm -rf "$TC" && mkdir -p "$TC/bin" "$TC/pulumi-home"
  if [ -n "$official_cli" ]; then
    for f in "$official_cli"/pulumi*; do ln -s "$f" "$TC/bin/"; done
  else
    # The CLI finds bundled plugins next to its real executable, so these are copies, not links.
    for f in "$CLI_OUT/pulumi" "$LANG_OUT/pulumi-language-nodejs" "$NODEJS_OUT/pulumi-resource-pulumi-nodejs"; do
      [ -f "$f" ] && cp "$f" "$TC/bin/"
    done
  fi
  [ -n "$ACTIONLINT_OUT" ] && cp "$ACTIONLINT_OUT/actionlint" "$TC/bin/"
  if [ -x "$TC/bin/pulumi" ]; then
    for name in "${!PLUGIN_OUT[@]}"; do
      PULUMI_HOME="$TC/pulumi-home" "$TC/bin/pulumi" plugin install resource "$name" "${PLUGIN_VERSION[$name]}" \
        --file "${PLUGIN_OUT[$name]}/pulumi-resource-$name" --reinstall >/dev/null
    done
  fi
  [ ${#FAILED[@]} -eq 0 ] && touch "$TC/.done"
fi
echo "$TC" >"$RP_CACHE/toolchain.current"

# --- The CLI's automatic logs off -------------------------------------------------------------------
# Pulumi CLI 3.259 writes every command's log at full verbosity, gzip-compressed, into
# $PULUMI_HOME/logs, and no setting turns that off: measured, it is about 45 % of the CLI's CPU in a
# preview of the production config at ten times its size, and half a gigabyte per test run. A file
# in place of the folder makes the CLI skip it ("automatic logging unavailable", at verbose level);
# `pulumi -v N --logtostderr` logs as before. RP_PULUMI_AUTO_LOGS=1 npm run setup keeps them.
auto_logs="$TC/pulumi-home/logs"
if [ "${RP_PULUMI_AUTO_LOGS:-0}" = 1 ]; then
  [ -f "$auto_logs" ] && rm -f "$auto_logs"
elif [ -d "$TC/pulumi-home" ] && [ ! -f "$auto_logs" ]; then
  rm -rf "$auto_logs"
  echo "The Pulumi CLI's automatic logs are off (scripts/setup.sh); RP_PULUMI_AUTO_LOGS=1 npm run setup turns them on." >"$auto_logs"
  say "pulumi: automatic logs off ($auto_logs is a file; RP_PULUMI_AUTO_LOGS=1 npm run setup keeps them)"
fi

# --- Report ---------------------------------------------------------------------------------------
if [ -x "$TC/bin/pulumi" ]; then
  say "pulumi $("$TC/bin/pulumi" version) (wanted v$PULUMI_CLI_WANTED) in $TC/bin"
  PULUMI_HOME="$TC/pulumi-home" "$TC/bin/pulumi" plugin ls 2>/dev/null | sed 's/^/    /'
fi
say "cache: $(du -sh "$RP_CACHE" 2>/dev/null | cut -f1) in $RP_CACHE; Go caches: $(du -sch "$(go env GOMODCACHE)" "$(go env GOCACHE)" 2>/dev/null | tail -1 | cut -f1)"
if [ ${#FAILED[@]} -gt 0 ]; then
  say "NOT BUILT: ${FAILED[*]}"
  [ "${RP_SETUP_ALLOW_PARTIAL:-0}" = "1" ] && exit 0
  exit 1
fi
say "done in $(elapsed $((SECONDS - SETUP_START)))"
