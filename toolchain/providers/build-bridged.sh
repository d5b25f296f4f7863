#!/usr/bin/env bash
# Builds one of our bridged provider plugins that follow the gen-schema layout (random, postgresql).
#   usage: build-bridged.sh <name> <outdir> <plugin-version>
# Steps: (1) build and run <name>/cmd/gen-schema, which writes the Pulumi package schema of our
# mapping (version set to <plugin-version>) to cmd/pulumi-resource-<name>/schema.json (git-ignored);
# (2) build the plugin, which embeds that schema. Needs Go >= 1.26 and the Go module proxy (or a
# warm module cache).
set -euo pipefail
if [ $# -ne 3 ]; then echo "usage: $0 <name> <outdir> <plugin-version>" >&2; exit 2; fi
name="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/$name" && pwd)"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
ver="${3#v}"
cd "$here"

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
# The checksum database the proxy here relays has no entry for pulumi/pkg/v3 v3.225.1; its hash
# is pinned in go.sum, which the go command checks in any case.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi/pkg/v3"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -trimpath -o "$tmp/gen-schema" ./cmd/gen-schema
"$tmp/gen-schema" "cmd/pulumi-resource-$name/schema.json" "$ver"
go build -trimpath \
  -ldflags "-s -w -X release-platform.local/toolchain/providers/$name/provider.Version=$ver" \
  -o "$out/pulumi-resource-$name" "./cmd/pulumi-resource-$name"
echo "built $out/pulumi-resource-$name ($ver)"
