#!/usr/bin/env bash
# Builds pulumi-resource-random into <outdir>: usage: build.sh <outdir> <plugin-version>
# The steps are shared with the other bridged plugins: see ../build-bridged.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/../build-bridged.sh" random "$@"
