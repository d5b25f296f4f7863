// Command pulumi-resource-command is our own build of the "command" resource
// plugin for the @pulumi/command 1.2.1 SDK, written on pulumi-go-provider (infer).
package main

import (
	"context"
	"fmt"
	"os"

	"toolchain.local/providers/command/pkg/provider"
	"toolchain.local/providers/command/pkg/version"
)

func main() {
	prov, err := provider.New()
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
	if err := prov.Run(context.Background(), provider.Name, version.Version); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}
