package main

import (
	"runtime/debug"
	"strings"
)

// version is set at build time (-ldflags "-X main.version=v3.259.0"); see scripts/setup.sh.
var version string

const sdkModule = "github.com/pulumi/pulumi/sdk/v3"

// pluginVersion is the version reported to the CLI: the build-time value, else the version of the
// Pulumi Go SDK we were built against (it defines the protocol we speak), else "0.0.0-dev".
func pluginVersion() string {
	if version != "" {
		return strings.TrimPrefix(version, "v")
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == sdkModule {
				return strings.TrimPrefix(dep.Version, "v")
			}
		}
	}
	return "0.0.0-dev"
}
