// Package version holds the plugin version, stamped at build time with
// -ldflags "-X toolchain/providers/proxmoxve/pkg/version.Version=v8.6.0".
package version

// Version is the provider plugin version reported to the Pulumi engine.
var Version = "0.0.0-dev"
