// Package provider holds our own Pulumi mapping of the upstream Terraform random provider
// (Plugin Framework) for the pulumi-terraform-bridge. It serves the resource type tokens and
// property names that the @pulumi/random npm SDK sends.
package provider

import (
	"context"
	"fmt"
	"strings"

	pftfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Package is the Pulumi package name (the plugin is pulumi-resource-random).
const Package = "random"

// Version is set at link time: -X <module>/provider.Version=<ver>.
var Version = "0.0.0-dev"

// Resources maps each Terraform resource type to the Pulumi type name the npm SDK uses.
// Every token is "random:index/<camelName>:<Name>". Property names are not listed: the bridge
// derives them from the Terraform attribute names (snake_case -> camelCase), which is exactly
// what the SDK sends (byte_length -> byteLength, override_special -> overrideSpecial, ...).
var Resources = map[string]string{
	"random_bytes":    "RandomBytes",
	"random_id":       "RandomId",
	"random_integer":  "RandomInteger",
	"random_password": "RandomPassword",
	"random_pet":      "RandomPet",
	"random_shuffle":  "RandomShuffle",
	"random_string":   "RandomString",
	"random_uuid":     "RandomUuid",
	"random_uuid4":    "RandomUuid4",
	"random_uuid7":    "RandomUuid7",
}

// Token returns the Pulumi type token for a Pulumi type name such as "RandomPassword".
func Token(name string) tokens.Type {
	module := strings.ToLower(name[:1]) + name[1:] // RandomPassword -> randomPassword
	return tokens.Type(fmt.Sprintf("%s:index/%s:%s", Package, module, name))
}

// Provider returns the bridge ProviderInfo for the random provider.
func Provider() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:           pftfbridge.ShimProvider(shim.NewProvider()),
		Name:        Package,
		Version:     Version,
		Description: "A Pulumi package to safely use randomness in Pulumi programs (offline build).",
		Keywords:    []string{"pulumi", "random"},
		License:     "Apache-2.0",
		Homepage:    "https://pulumi.io",
		Repository:  "https://github.com/pulumi/pulumi-random",
		GitHubOrg:   "terraform-providers",
		Resources:   map[string]*tfbridge.ResourceInfo{},
		// The pf bridge insists on bridge metadata. Official builds fill it at tfgen time with
		// auto-aliasing history for renamed resources; we map no renames, so it stays empty.
		MetadataInfo: tfbridge.NewProviderMetadata([]byte("{}")),
		JavaScript:   &tfbridge.JavaScriptInfo{RespectSchemaVersion: true},
		// Same bridge behaviour switches as the official random plugin.
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	for tf, name := range Resources {
		info.Resources[tf] = &tfbridge.ResourceInfo{Tok: Token(name)}
	}
	// random_bytes has no "id" attribute: use its base64 value as the Pulumi ID.
	info.Resources["random_bytes"].ComputeID = idFromProperty("base64")
	return info
}

// idFromProperty uses a (possibly secret) string property of the state as the resource ID.
func idFromProperty(key resource.PropertyKey) tfbridge.ComputeID {
	return func(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
		v, ok := state[key]
		if !ok {
			return "", fmt.Errorf("state has no %q property to use as the ID", key)
		}
		for v.IsSecret() || v.IsOutput() {
			if v.IsSecret() {
				v = v.SecretValue().Element
			} else {
				v = v.OutputValue().Element
			}
		}
		if !v.IsString() {
			return "", fmt.Errorf("property %q is %s, want a string", key, v.TypeString())
		}
		return resource.ID(v.StringValue()), nil
	}
}
