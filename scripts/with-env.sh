#!/usr/bin/env bash
# Runs one command inside the project environment (scripts/env.sh).
set -euo pipefail
. "$(dirname "$0")/env.sh"
exec "$@"
