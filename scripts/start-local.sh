#!/usr/bin/env bash
# The main job on this machine (`npm start`): set up the toolchain, start the loopback servers,
# and `pulumi up` the local stack through the real CLI into the project's file backend.
# Extra arguments go to `pulumi up` (e.g. `npm start -- --diff`).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
bash scripts/local-servers.sh start
. scripts/env.sh

# The local stack only holds throwaway secrets of loopback servers; its passphrase is not a secret.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-stack}"
mkdir -p "$ROOT/.pulumi-state"
pulumi stack select local --create --secrets-provider passphrase --non-interactive
node -r ts-node/register/transpile-only scripts/local-secrets.ts Pulumi.local.yaml local
pulumi up --stack local --yes --non-interactive "$@"
