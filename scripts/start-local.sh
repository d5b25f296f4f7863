#!/usr/bin/env bash
# The main job on this machine (`npm start`): set up the toolchain, start the loopback servers,
# and `pulumi up` the local stack through the real CLI into the project's file backend.
# Extra arguments go to `pulumi up` (e.g. `npm start -- --diff`).
set -euo pipefail
. "$(dirname "$0")/prepare.sh"

# The local stack only holds throwaway secrets of loopback servers; its passphrase is not a secret.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-stack}"
STATE="$ROOT/.pulumi-state"
mkdir -p "$STATE"
pulumi stack select local --create --secrets-provider passphrase --non-interactive >/dev/null
# Creating the stack writes its passphrase salt into Pulumi.local.yaml: keep the salt, restore the file.
init_salt="$(grep -m1 '^encryptionsalt:' "$ROOT/Pulumi.local.yaml" || true)"
git -C "$ROOT" checkout --quiet -- Pulumi.local.yaml 2>/dev/null || true

# The CLI rewrites the config file it writes secrets into (comments and layout gone), so the
# committed Pulumi.local.yaml stays untouched: each run renders the file actually used, keeping
# the stack's passphrase salt, and sets the throwaway secrets in it.
RUN_CONFIG="$STATE/Pulumi.local.yaml"
salt="$(grep -m1 '^encryptionsalt:' "$RUN_CONFIG" 2>/dev/null || echo "$init_salt")"
{ [ -n "$salt" ] && echo "$salt"; cat "$ROOT/Pulumi.local.yaml"; } >"$RUN_CONFIG.new"
mv "$RUN_CONFIG.new" "$RUN_CONFIG"
node -r ts-node/register/transpile-only scripts/local-secrets.ts "$RUN_CONFIG" local
pulumi up --stack local --config-file "$RUN_CONFIG" --yes --non-interactive "$@"
