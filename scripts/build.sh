#!/usr/bin/env bash
# `npm run build`: compiles the program (index.ts, components/), the policy pack (policies/) and the
# operator commands (scripts/*.ts) to JavaScript in dist/, which Pulumi.yaml, policies/package.json
# and the npm scripts run: no TypeScript compiler in the path of a preview, an update or a command.
# Types are checked by `npm run typecheck` (and `npm test`, CI), not here: scripts/transpile.mjs
# turns what tsconfig.build.json includes into JavaScript file by file, in about a second. Does
# nothing when dist/ is already the build of the current sources (dist/sources.sha256); every npm
# script runs it (scripts/with-env.sh). A new build replaces dist/ in one rename, under a lock, so a
# running preview never sees half of it.
# Usage: bash scripts/build.sh [projectDir] (default: this checkout; tests build their copies).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
dir="$(cd "${1:-$RP_ROOT}" && pwd)"
fresh() { [ -f "$dir/dist/components/compiled.js" ] && node "$dir/dist/components/compiled.js" check "$dir"; }
fresh && exit 0
exec 9>"$dir/.build.lock"
flock 9
fresh && exit 0
started=$SECONDS
next="$dir/.dist.next"
rm -rf "$next" "$dir/.dist.old"
node "$RP_ROOT/scripts/transpile.mjs" "$dir" "$next"
node "$next/components/compiled.js" stamp "$dir" "$next"
[ -d "$dir/dist" ] && mv "$dir/dist" "$dir/.dist.old"
mv "$next" "$dir/dist"
rm -rf "$dir/.dist.old"
echo "[build] dist/ compiled from the sources in $((SECONDS - started)) s" >&2
