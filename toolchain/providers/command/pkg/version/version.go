// Package version holds the plugin version, set at build time with
// -ldflags "-X toolchain.local/providers/command/pkg/version.Version=<ver>".
package version

// Version is the version the plugin reports to the engine.
var Version = "1.2.1"
