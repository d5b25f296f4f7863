// Local shim module. Its path sits under the upstream random provider's module path so that it
// may import that module's internal/provider package (Go's internal-package rule compares import
// paths, not module origins). The wrapper replaces it with this directory.
module github.com/terraform-providers/terraform-provider-random/shim

go 1.25.8

require (
	github.com/hashicorp/terraform-plugin-framework v1.19.0
	github.com/terraform-providers/terraform-provider-random v1.3.2-0.20260513075824-f8d869dc98d9
)
