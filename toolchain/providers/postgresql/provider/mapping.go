// Package provider holds our own Pulumi mapping of the archived Terraform PostgreSQL provider
// (github.com/terraform-providers/terraform-provider-postgresql v1.7.1, Terraform plugin SDK v1)
// for the pulumi-terraform-bridge. It serves the type tokens and property names that the
// @pulumi/postgresql npm SDK sends, as far as that old provider has them (see README.md).
package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/helper/schema"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv1 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v1"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	upstream "github.com/terraform-providers/terraform-provider-postgresql/postgresql"
)

// Package is the Pulumi package name (the plugin is pulumi-resource-postgresql).
const Package = "postgresql"

// Version is set at link time: -X <module>/provider.Version=<ver>.
var Version = "0.0.0-dev"

// Resources maps each Terraform resource type to the Pulumi type name the npm SDK uses; every
// token is "postgresql:index/<camelName>:<Name>". Property names are not listed: the bridge
// derives them from the Terraform names (snake_case -> camelCase, lists pluralised), which is
// what the SDK sends (connect_timeout -> connectTimeout, search_path -> searchPaths, ...).
var Resources = map[string]string{
	"postgresql_database":           "Database",
	"postgresql_role":               "Role",
	"postgresql_grant":              "Grant",
	"postgresql_schema":             "Schema",
	"postgresql_extension":          "Extension",
	"postgresql_default_privileges": "DefaultPrivileges",
	// The SDK still ships the old misspelt DefaultPrivileg class; serve it with the same code.
	legacyDefaultPrivileg: "DefaultPrivileg",
}

const legacyDefaultPrivileg = "postgresql_default_privileg"

// Token returns the Pulumi type token for a Pulumi type name such as "Role".
func Token(name string) tokens.Type {
	module := strings.ToLower(name[:1]) + name[1:]
	return tokens.Type(fmt.Sprintf("%s:index/%s:%s", Package, module, name))
}

// Upstream returns the Terraform provider with our additions (see public.go).
func Upstream() *schema.Provider {
	p := upstream.Provider().(*schema.Provider)
	p.ResourcesMap[legacyDefaultPrivileg] = p.ResourcesMap["postgresql_default_privileges"]
	extendGrant(p.ResourcesMap["postgresql_grant"])
	return p
}

// Provider returns the bridge ProviderInfo for the postgresql provider.
func Provider() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:           shimv1.NewProvider(Upstream()),
		Name:        Package,
		Version:     Version,
		Description: "A Pulumi package for creating and managing postgresql cloud resources (offline build over terraform-provider-postgresql v1.7.1).",
		Keywords:    []string{"pulumi", "postgresql"},
		License:     "Apache-2.0",
		Homepage:    "https://pulumi.io",
		Repository:  "https://github.com/pulumi/pulumi-postgresql",
		GitHubOrg:   "terraform-providers",
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
		JavaScript:  &tfbridge.JavaScriptInfo{},
	}
	for tf, name := range Resources {
		info.Resources[tf] = &tfbridge.ResourceInfo{Tok: Token(name)}
	}
	return info
}
