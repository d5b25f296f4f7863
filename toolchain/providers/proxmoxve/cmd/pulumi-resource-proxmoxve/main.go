// Command pulumi-resource-proxmoxve is the Pulumi resource provider plugin "proxmoxve":
// bpg/terraform-provider-proxmox bridged with our own token mapping (see ../../provider.go).
package main

import (
	"context"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	proxmoxve "toolchain/providers/proxmoxve"
)

func main() {
	pfbridge.MainWithMuxer(context.Background(), proxmoxve.PackageName, proxmoxve.Provider(), proxmoxve.Schema())
}
