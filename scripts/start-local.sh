#!/usr/bin/env bash
# The main job on this machine (`npm start`): set up the toolchain, start the loopback servers,
# and `pulumi up` the local stack through the real CLI into the project's file backend.
# Extra arguments go to `pulumi up` (e.g. `npm start -- --diff`).
set -euo pipefail
. "$(dirname "$0")/prepare.sh"
# The Proxmox API emulator behind the local cluster.endpoint (a test fixture; a real cluster needs none).
bash scripts/pve-emulator.sh start

# The local stack only holds throwaway secrets of loopback servers; its passphrase is not a secret.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-stack}"
STATE="$ROOT/.pulumi-state"
mkdir -p "$STATE"
init_salt=""
if ! pulumi stack select local --non-interactive >/dev/null 2>&1; then
  # Creating the stack writes its passphrase salt into Pulumi.local.yaml (and reformats it): keep
  # the salt for the rendered file below and put the user's file back exactly as it was.
  cp "$ROOT/Pulumi.local.yaml" "$STATE/Pulumi.local.yaml.user"
  pulumi stack init local --secrets-provider passphrase --non-interactive >/dev/null
  init_salt="$(grep -m1 '^encryptionsalt:' "$ROOT/Pulumi.local.yaml" || true)"
  mv "$STATE/Pulumi.local.yaml.user" "$ROOT/Pulumi.local.yaml"
fi

# The CLI rewrites the config file it writes secrets into (comments and layout gone), so the
# committed Pulumi.local.yaml stays untouched: each run renders the file actually used, keeping
# the stack's passphrase salt, and sets the throwaway secrets in it.
RUN_CONFIG="$STATE/Pulumi.local.yaml"
salt="$(grep -m1 '^encryptionsalt:' "$RUN_CONFIG" 2>/dev/null || echo "$init_salt")"
{ [ -n "$salt" ] && echo "$salt"; cat "$ROOT/Pulumi.local.yaml"; } >"$RUN_CONFIG.new"
mv "$RUN_CONFIG.new" "$RUN_CONFIG"
node dist/scripts/local-secrets.js "$RUN_CONFIG" local
# The release gate's evidence: offline for the local stack (no CI, alerts or reviews unless files
# in .release-evidence/inputs say so, even with a GITHUB_TOKEN set), the backups from its last up.
# Without it (e.g. not a git checkout) the gate records why the evidence is missing, and the up goes on.
mkdir -p "$ROOT/.release-evidence/inputs"
if ! node dist/scripts/evidence.js --stack local --config-file "$RUN_CONFIG" --inputs "$ROOT/.release-evidence/inputs"; then
  echo "[local-stack] no release evidence collected; the release gate records it as missing" >&2
fi
pulumi up --stack local --config-file "$RUN_CONFIG" --yes --non-interactive "$@"
