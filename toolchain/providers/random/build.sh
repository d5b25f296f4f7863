#!/usr/bin/env bash
# Builds pulumi-resource-random into <outdir>.
#   usage: build.sh <outdir> <plugin-version>      e.g. build.sh /tmp/out 4.21.2
# Steps: (1) build and run cmd/gen-schema, which writes the Pulumi package schema of our mapping
# (version set to <plugin-version>) to cmd/pulumi-resource-random/schema.json; (2) build the plugin,
# which embeds that schema. Needs Go >= 1.26 and the Go module proxy (or a warm module cache).
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 <outdir> <plugin-version>" >&2; exit 2; fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
ver="${2#v}"
cd "$here"

export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
# The checksum database the proxy here relays has no entry for pulumi/pkg/v3 v3.225.1; its hash
# is pinned in go.sum, which the go command checks in any case.
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi/pkg/v3"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -trimpath -o "$tmp/gen-schema" ./cmd/gen-schema
"$tmp/gen-schema" cmd/pulumi-resource-random/schema.json "$ver"
go build -trimpath \
  -ldflags "-s -w -X release-platform.local/toolchain/providers/random/provider.Version=$ver" \
  -o "$out/pulumi-resource-random" ./cmd/pulumi-resource-random
echo "built $out/pulumi-resource-random ($ver)"
