#!/usr/bin/env bash
# Runs one command inside the project environment (scripts/env.sh), after bringing the compiled
# program and policy pack in dist/ up to date with the sources (scripts/build.sh; instant when they are).
set -euo pipefail
. "$(dirname "$0")/env.sh"
bash "$RP_ROOT/scripts/build.sh"
exec "$@"
