// Package shim exposes the upstream random provider's Plugin-Framework provider, which lives in
// an internal package, to the wrapper module.
package shim

import (
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"

	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns a fresh instance of the upstream random provider.
func NewProvider() fwprovider.Provider {
	return upstream.New()
}
