// Package proxmoxve maps the bpg/terraform-provider-proxmox Terraform provider (a muxed
// SDKv2 + Plugin-Framework provider) to Pulumi, with type tokens and property names equal
// to the ones the npm SDK @muhlba91/pulumi-proxmoxve 8.x sends.
//
// Token rule (what the 8.x SDK uses):
//
//	proxmox_virtual_environment_<a>_<b>_<c>  ->  proxmoxve:<a>/<b>/<c>Legacy:<C>Legacy
//	proxmox_<a>_<b>_<c>                      ->  proxmoxve:<a>/<b>/<c>:<C>
//	a single word <w> (after the prefix)    ->  proxmoxve:index/<w>[Legacy]:<W>[Legacy]
//
// Data sources get the same module and a "get" prefix on the member name.
package proxmoxve

import (
	"context"
	_ "embed" // bridge metadata and schema are embedded
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/bpg/terraform-provider-proxmox/fwprovider"
	sdkprovider "github.com/bpg/terraform-provider-proxmox/proxmoxtf/provider"
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"toolchain/providers/proxmoxve/pkg/version"
)

const (
	// PackageName is the Pulumi package (and plugin) name.
	PackageName = "proxmoxve"
	indexModule = "index"

	legacyPrefix = "proxmox_virtual_environment_"
	shortPrefix  = "proxmox_"
)

// Written by the build (build.sh runs pulumi-tfgen-proxmoxve first); empty placeholders
// are enough to compile the generator itself.
//
//go:embed generated/bridge-metadata.json
var bridgeMetadata []byte

//go:embed generated/schema-embed.json
var schemaEmbed []byte

// Schema returns the embedded Pulumi package schema (with the version set by build.sh).
func Schema() []byte { return schemaEmbed }

// splitTFName turns a Terraform type name into a Pulumi module path and a member name.
func splitTFName(tfName string) (module, name string, err error) {
	legacy := false
	rest := ""
	switch {
	case strings.HasPrefix(tfName, legacyPrefix):
		legacy = true
		rest = strings.TrimPrefix(tfName, legacyPrefix)
	case strings.HasPrefix(tfName, shortPrefix):
		rest = strings.TrimPrefix(tfName, shortPrefix)
	default:
		return "", "", fmt.Errorf("unexpected Terraform type name %q", tfName)
	}
	parts := strings.Split(rest, "_")
	for _, p := range parts {
		if p == "" {
			return "", "", fmt.Errorf("empty name segment in %q", tfName)
		}
	}
	last := parts[len(parts)-1]
	if len(parts) == 1 {
		module = indexModule
	} else {
		module = strings.Join(parts[:len(parts)-1], "/")
	}
	if unicode.IsDigit(rune(module[0])) || unicode.IsDigit(rune(last[0])) {
		return "", "", fmt.Errorf("name segment starts with a digit in %q", tfName)
	}
	if legacy {
		last += "Legacy"
	}
	name = strings.ToUpper(last[:1]) + last[1:]
	return module, name, nil
}

func resourceToken(tfName string) (tokens.Type, error) {
	mod, name, err := splitTFName(tfName)
	if err != nil {
		return "", err
	}
	return tfbridge.MakeResource(PackageName, mod, name), nil
}

func dataSourceToken(tfName string) (tokens.ModuleMember, error) {
	mod, name, err := splitTFName(tfName)
	if err != nil {
		return "", err
	}
	return tfbridge.MakeDataSource(PackageName, mod, "get"+name), nil
}

// tokenStrategy fills in the token of every resource and data source not mapped explicitly.
func tokenStrategy() tfbridge.Strategy {
	return tfbridge.Strategy{
		Resource: func(tfToken string, elem *tfbridge.ResourceInfo) error {
			if elem.Tok != "" {
				return nil
			}
			tok, err := resourceToken(tfToken)
			if err != nil {
				return err
			}
			elem.Tok = tok
			return nil
		},
		DataSource: func(tfToken string, elem *tfbridge.DataSourceInfo) error {
			if elem.Tok != "" {
				return nil
			}
			tok, err := dataSourceToken(tfToken)
			if err != nil {
				return err
			}
			elem.Tok = tok
			return nil
		},
	}
}

// computeIDFrom gives the Pulumi ID of resources whose Terraform "id" attribute is
// user-settable (or not a string): Pulumi reserves "id", so the attribute is exposed under
// another name (usually "resourceId", as the 8.x SDK names it) and the resource ID is its
// value as a string.
func computeIDFrom(field string) tfbridge.ComputeID {
	return func(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
		return idFromState(state, resource.PropertyKey(field))
	}
}

func idFromState(state resource.PropertyMap, field resource.PropertyKey) (resource.ID, error) {
	for _, key := range []resource.PropertyKey{field, "id"} {
		v, ok := state[key]
		if !ok {
			continue
		}
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		if v.IsOutput() {
			v = v.OutputValue().Element
		}
		switch {
		case v.IsString() && v.StringValue() != "":
			return resource.ID(v.StringValue()), nil
		case v.IsNumber():
			f := v.NumberValue()
			if f == math.Trunc(f) {
				return resource.ID(strconv.FormatInt(int64(f), 10)), nil
			}
			return resource.ID(strconv.FormatFloat(f, 'f', -1, 64)), nil
		}
	}
	return "", fmt.Errorf("resource has no usable %q in its state", field)
}

// fieldsWithCSharpNames keeps the 8.x SDK's C# renames (they change no TS/JS name, but keep
// the generated schema equal to upstream's).
var fieldsWithCSharpNames = map[string]map[string]string{
	"proxmox_virtual_environment_acme_certificate":   {"certificate": "certificatePem"},
	"proxmox_acme_certificate":                       {"certificate": "certificatePem"},
	"proxmox_virtual_environment_acme_dns_plugin":    {"plugin": "pluginName"},
	"proxmox_acme_dns_plugin":                        {"plugin": "pluginName"},
	"proxmox_virtual_environment_network_linux_vlan": {"vlan": "vlanId"},
	"proxmox_network_linux_vlan":                     {"vlan": "vlanId"},
	"proxmox_virtual_environment_metrics_server":     {"server": "serverAddress"},
	"proxmox_metrics_server":                         {"server": "serverAddress"},
}

// idFieldNames overrides the Pulumi name of a Plugin-Framework "id" input where the 8.x SDK
// does not call it "resourceId".
var idFieldNames = map[string]string{
	"proxmox_sdn_controller_evpn": "sdnControllerEvpnId",
}

// needsResourceID reports whether a Plugin-Framework resource has an "id" attribute Pulumi
// cannot use as its ID directly (an input, or not a string).
func needsResourceID(r shim.Resource) bool {
	idSchema, ok := r.Schema().GetOk("id")
	if !ok {
		return false
	}
	isInput := !(idSchema.Computed() && !idSchema.Optional())
	return isInput || idSchema.Type() != shim.TypeString
}

// Provider returns the bridge mapping.
func Provider() tfbridge.ProviderInfo {
	ctx := context.Background()
	sdkProv := sdkprovider.ProxmoxVirtualEnvironment()
	sdkResources := map[string]bool{}
	for name := range sdkProv.ResourcesMap {
		sdkResources[name] = true
	}

	p := pfbridge.MuxShimWithPF(ctx, shimv2.NewProvider(sdkProv), fwprovider.New(version.Version)())

	resources := map[string]*tfbridge.ResourceInfo{}
	p.ResourcesMap().Range(func(name string, r shim.Resource) bool {
		if sdkResources[name] || !needsResourceID(r) {
			return true
		}
		idName := "resourceId"
		if n, ok := idFieldNames[name]; ok {
			idName = n
		}
		resources[name] = &tfbridge.ResourceInfo{
			Fields: map[string]*tfbridge.SchemaInfo{
				"id": {Name: idName, Type: "string"},
			},
			ComputeID: computeIDFrom(idName),
		}
		return true
	})
	for name, renames := range fieldsWithCSharpNames {
		if _, ok := p.ResourcesMap().GetOk(name); !ok {
			continue
		}
		ri := resources[name]
		if ri == nil {
			ri = &tfbridge.ResourceInfo{}
			resources[name] = ri
		}
		if ri.Fields == nil {
			ri.Fields = map[string]*tfbridge.SchemaInfo{}
		}
		for field, csName := range renames {
			ri.Fields[field] = &tfbridge.SchemaInfo{CSharpName: csName}
		}
	}

	info := tfbridge.ProviderInfo{
		P:                 p,
		Name:              "proxmox", // the Terraform provider name (resource prefix)
		DisplayName:       "Proxmox Virtual Environment (Proxmox VE)",
		Description:       "Locally built bridge of bpg/terraform-provider-proxmox serving the @muhlba91/pulumi-proxmoxve 8.x API.",
		Keywords:          []string{"proxmox", "proxmoxve", "category/infrastructure"},
		License:           "Apache-2.0",
		Homepage:          "https://github.com/bpg/terraform-provider-proxmox",
		Repository:        "https://github.com/bpg/terraform-provider-proxmox",
		GitHubOrg:         "bpg",
		PluginDownloadURL: "github://api.github.com/muhlba91/pulumi-proxmoxve",
		Version:           version.Version,
		Config:            map[string]*tfbridge.SchemaInfo{},
		Resources:         resources,
		DataSources:       map[string]*tfbridge.DataSourceInfo{},
		JavaScript: &tfbridge.JavaScriptInfo{
			PackageName:          "@muhlba91/pulumi-proxmoxve",
			RespectSchemaVersion: true,
			Dependencies:         map[string]string{"@pulumi/pulumi": "^3.0.0"},
		},
		MetadataInfo: tfbridge.NewProviderMetadata(bridgeMetadata),
	}
	info.MustComputeTokens(tokenStrategy())
	info.SetAutonaming(255, "-")
	return info
}
