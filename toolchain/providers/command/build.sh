#!/usr/bin/env bash
# Builds pulumi-resource-command into <outdir>, reporting <version> to the engine.
# Usage: toolchain/providers/command/build.sh <outdir> <version>
# No generation step: the schema is inferred at run time from the Go types.
set -euo pipefail
out=${1:?usage: build.sh <outdir> <version>}
ver=${2:?usage: build.sh <outdir> <version>}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
export PATH="/usr/local/go/bin:$PATH"
cd "$here"
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
  -ldflags "-s -w -X toolchain.local/providers/command/pkg/version.Version=${ver#v}" \
  -o "$out/pulumi-resource-command" .
echo "built $out/pulumi-resource-command (version ${ver#v})"
