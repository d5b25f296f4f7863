// Package provider assembles the command provider from the local and remote packages.
package provider

import (
	"context"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"toolchain.local/providers/command/pkg/local"
	"toolchain.local/providers/command/pkg/remote"
)

// Name is the package name the SDK asks for (@pulumi/command: "command").
const Name = "command"

// New returns the provider. Tokens come from the Go package names:
// command:local:Command, command:local:run, command:remote:Command,
// command:remote:CopyToRemote, command:remote:CopyFile.
func New() (p.Provider, error) {
	prov, err := infer.NewProviderBuilder().
		WithDisplayName("Command").
		WithDescription("Runs commands and scripts locally or over SSH as part of the Pulumi resource model "+
			"(a local re-implementation serving the @pulumi/command 1.2.1 SDK).").
		WithKeywords("pulumi", "command", "category/utility", "kind/native").
		WithHomepage("https://pulumi.com").
		WithRepository("https://github.com/pulumi/pulumi-command").
		WithPublisher("Pulumi").
		WithLicense("Apache-2.0").
		WithResources(
			infer.Resource(&local.Command{}),
			infer.Resource(&remote.Command{}),
			infer.Resource(&remote.CopyToRemote{}),
			infer.Resource(&remote.CopyFile{}),
		).
		WithFunctions(infer.Function(&local.Run{})).
		Build()
	if err != nil {
		return prov, err
	}
	prov.Diff = replaceOnNestedChanges(prov.Diff)
	return prov, nil
}

// replacingInputs lists, per resource type, the inputs whose change forces a replace.
var replacingInputs = map[string][]string{
	"command:local:Command":       {"triggers"},
	"command:remote:Command":      {"triggers"},
	"command:remote:CopyToRemote": {"triggers"},
}

// replaceOnNestedChanges fixes up infer's default diff, which honours
// `provider:"replaceOnChanges"` only when the changed path is the top-level property
// itself: a change of an element ("triggers[0]") came back as a plain update. Any
// changed path under a replacing input is turned into a replace here.
func replaceOnNestedChanges(inner func(context.Context, p.DiffRequest) (p.DiffResponse, error)) func(context.Context, p.DiffRequest) (p.DiffResponse, error) {
	return func(ctx context.Context, req p.DiffRequest) (p.DiffResponse, error) {
		resp, err := inner(ctx, req)
		if err != nil {
			return resp, err
		}
		roots := replacingInputs[string(req.Urn.Type())]
		for path, d := range resp.DetailedDiff {
			if !underAny(path, roots) {
				continue
			}
			switch d.Kind {
			case p.Add:
				d.Kind = p.AddReplace
			case p.Delete:
				d.Kind = p.DeleteReplace
			case p.Update:
				d.Kind = p.UpdateReplace
			}
			resp.DetailedDiff[path] = d
		}
		return resp, nil
	}
}

func underAny(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+"[") || strings.HasPrefix(path, r+".") {
			return true
		}
	}
	return false
}
