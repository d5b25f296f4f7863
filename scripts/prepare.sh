# Sourced by the entry scripts (start-local.sh, test.sh): brings the toolchain and the local servers
# up to date (seconds when cached), then enters the project environment (scripts/env.sh).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
bash scripts/local-servers.sh start
# The release's stand-ins for Pulumi.local.yaml: blue/green app processes, HAProxy and nginx.
bash scripts/local-release.sh start
. scripts/env.sh
# The program and the policy pack as JavaScript (dist/), rebuilt only when the sources changed.
bash scripts/build.sh
