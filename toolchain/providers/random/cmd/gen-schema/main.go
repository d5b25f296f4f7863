// gen-schema writes the Pulumi package schema of our random mapping to the file named by its
// first argument. It runs at build time (build.sh) so that the plugin can embed the schema.
// Docs come only from the Terraform schema descriptions (no upstream docs repository is read).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"release-platform.local/toolchain/providers/random/provider"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen-schema <out.json> <version>")
		os.Exit(2)
	}
	info := provider.Provider()
	info.Version = os.Args[2]
	res, err := pftfgen.GenerateSchema(context.Background(), pftfgen.GenerateSchemaOptions{
		ProviderInfo:  info,
		XInMemoryDocs: true,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-schema:", err)
		os.Exit(1)
	}
	// Check that every mapped token made it into the schema.
	var spec struct {
		Resources map[string]json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(res.ProviderMetadata.PackageSchema, &spec); err != nil {
		fmt.Fprintln(os.Stderr, "gen-schema:", err)
		os.Exit(1)
	}
	for _, name := range provider.Resources {
		if _, ok := spec.Resources[string(provider.Token(name))]; !ok {
			fmt.Fprintln(os.Stderr, "gen-schema: schema lacks", provider.Token(name))
			os.Exit(1)
		}
	}
	if err := os.WriteFile(os.Args[1], res.ProviderMetadata.PackageSchema, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen-schema:", err)
		os.Exit(1)
	}
}
