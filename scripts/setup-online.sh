#!/usr/bin/env bash
# Setup on a machine that reaches Pulumi's own downloads (GitHub-hosted runners, Pulumi
# Deployments executors), where the official Pulumi CLI is already installed: npm dependencies,
# then the provider plugins at exactly the versions the npm SDKs ask for.
#
# Our own machines reach only the npm registry, Debian and the Go module proxy; there
# `npm run setup` (scripts/setup.sh) builds the toolchain from Go modules instead.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck disable=SC1091
. "$ROOT/toolchain/versions.env"

say() { printf '[setup:online] %s\n' "$*"; }

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt "$NODE_MIN_MAJOR" ]; then
  say "Node.js $NODE_MIN_MAJOR or newer is needed, this machine has $(node --version 2>/dev/null || echo none)"
  say "(GitHub Actions: actions/setup-node with .nvmrc; Pulumi Deployments: an executor image with Node.js $NODE_MIN_MAJOR+)"
  exit 1
fi
command -v pulumi >/dev/null || { say "no pulumi CLI on PATH (GitHub Actions: pulumi/actions with pulumi-version $PULUMI_CLI_WANTED)"; exit 1; }
have="$(pulumi version)"
if [ "$have" != "v$PULUMI_CLI_WANTED" ]; then
  # Not fatal: a newer CLI runs this program too; the version the SDK pins is what CI tests.
  say "note: pulumi $have on PATH, @pulumi/pulumi pins v$PULUMI_CLI_WANTED"
fi
say "node $(node --version), pulumi $have"

npm ci --no-audit --no-fund --loglevel=error
# Plugins only (the dependencies are in place): an explicit install, which also works where
# automatic plugin acquisition is switched off (scripts/env.sh switches it off for every npm script).
pulumi install --no-dependencies
pulumi plugin ls
