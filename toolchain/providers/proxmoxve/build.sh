#!/usr/bin/env bash
# Build the Pulumi resource plugin "proxmoxve" (pulumi-resource-proxmoxve).
#
#   toolchain/providers/proxmoxve/build.sh <outdir> <version>     e.g.  build.sh /tmp/plugins 8.6.0
#
# Steps: copy this module to <outdir>/.proxmoxve-build (the repository stays untouched),
# build the schema generator, generate the Pulumi schema and the bridge metadata (muxer
# dispatch table) from the Terraform provider, then build the plugin that embeds them.
# Result: <outdir>/pulumi-resource-proxmoxve, reporting version v<version>.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 <outdir> <version>" >&2
  exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
VERSION=${2#v}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK="$OUT/.proxmoxve-build"

command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"

rm -rf "$WORK"
mkdir -p "$WORK/generated"
cp -R "$HERE/go.mod" "$HERE/go.sum" "$HERE/provider.go" "$HERE/pkg" "$HERE/cmd" "$WORK/"
chmod -R u+w "$WORK"
# Placeholders so that the generator itself compiles (it does not use them).
echo '{}' > "$WORK/generated/bridge-metadata.json"
echo '{}' > "$WORK/generated/schema-embed.json"

export CGO_ENABLED=0
export GOFLAGS="-mod=mod -buildvcs=false"
# go.sum is complete, so nothing should be looked up; if go ever has to, the site's checksum
# database mirror has no entry for pulumi/pkg v3.225.1 (the version this bridge pins).
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi/pkg/v3"
LDFLAGS="-s -w -X toolchain/providers/proxmoxve/pkg/version.Version=v$VERSION"

cd "$WORK"
echo "proxmoxve: building the schema generator" >&2
go build -trimpath -ldflags "$LDFLAGS" -o "$WORK/pulumi-tfgen-proxmoxve" ./cmd/pulumi-tfgen-proxmoxve

echo "proxmoxve: generating schema and bridge metadata" >&2
if ! "$WORK/pulumi-tfgen-proxmoxve" -out "$WORK/generated" -version "$VERSION" > "$WORK/tfgen.log" 2>&1; then
  cat "$WORK/tfgen.log" >&2
  exit 1
fi

echo "proxmoxve: building the plugin" >&2
go build -trimpath -ldflags "$LDFLAGS" -o "$OUT/pulumi-resource-proxmoxve" ./cmd/pulumi-resource-proxmoxve
# Keep the generated schema next to the binary (handy for checks), drop the rest.
cp "$WORK/generated/schema.json" "$OUT/proxmoxve-schema.json"
rm -rf "$WORK"
echo "proxmoxve: built $OUT/pulumi-resource-proxmoxve (v$VERSION)" >&2
