#!/usr/bin/env bash
# The test command (`npm test`): brings the toolchain and local servers up to date (seconds when
# cached), then type-checks, lints and runs the three tiers: unit, policies, integration.
# Ends with one summary line `tests: N passed, N failed` (and `, N skipped` when any were).
set -euo pipefail
. "$(dirname "$0")/prepare.sh"

echo "[test] typecheck"; tsc --noEmit -p tsconfig.json
echo "[test] lint"; eslint --max-warnings 0 .
echo "[test] actionlint"
command -v actionlint >/dev/null || { echo "actionlint is missing: npm run setup builds it"; exit 1; }
actionlint
echo "[test] language host (go test)"; (cd toolchain/langhost && CGO_ENABLED=0 GOFLAGS=-mod=readonly go test ./...)

report="$(mktemp -d)/vitest.json"
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
    if (r.numTotalTests === 0) { console.log("no test ran"); process.exit(1); }
  ' "$report" || status=1
else
  echo "tests: 0 passed, 1 failed"; status=1
fi
exit "$status"
