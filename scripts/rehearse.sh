#!/usr/bin/env bash
# `npm run rehearse`: the merge path end to end on this machine (test/integration/rehearsal.test.ts):
# the Deploy workflow's jobs against a GitHub stand-in, a staging and a production-shaped stack,
# three compliant merges through every gate, then each walk-around refused. Brings the toolchain and
# the local servers up first (seconds when cached), like `npm test`; prints the step summary.
set -euo pipefail
. "$(dirname "$0")/prepare.sh"
exec vitest run --project integration test/integration/rehearsal.test.ts "$@"
