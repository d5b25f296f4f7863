// gen-schema writes the Pulumi package schema of our postgresql mapping to the file named by its
// first argument. It runs at build time (build.sh) so that the plugin can embed the schema.
// Docs come only from the Terraform schema descriptions (no upstream docs repository is read).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"

	"release-platform.local/toolchain/providers/postgresql/provider"
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen-schema:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gen-schema <out.json> <version>")
		os.Exit(2)
	}
	info := provider.Provider()
	info.Version = os.Args[2]
	res, err := tfgen.GenerateSchemaWithOptions(tfgen.GenerateSchemaOptions{
		ProviderInfo:    info,
		DiagnosticsSink: diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never}),
		XInMemoryDocs:   true,
	})
	if err != nil {
		fail(err)
	}
	spec := res.PackageSpec
	spec.Version = os.Args[2]
	for _, name := range provider.Resources {
		if _, ok := spec.Resources[string(provider.Token(name))]; !ok {
			fail(fmt.Errorf("schema lacks %s", provider.Token(name)))
		}
	}
	b, err := json.Marshal(spec)
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(os.Args[1], b, 0o644); err != nil {
		fail(err)
	}
}
