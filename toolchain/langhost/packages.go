package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// GetRequiredPackages tells the CLI which resource plugins to have ready before Run: every npm
// package under the program's node_modules trees whose package.json says
// `"pulumi": {"resource": true}`. Unreadable or odd package.json files are logged and skipped,
// as a missing plugin is still installed on demand when the program registers a resource.
func (h *nodeHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	found, err := scanPulumiPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		logging.V(3).Infof("problems while looking for Pulumi packages: %v", err)
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range found {
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Name:             p.name,
			Kind:             "resource",
			Version:          p.version,
			Server:           p.server,
			Parameterization: p.parameterization,
		})
	}
	return resp, nil
}

// GetRequiredPlugins is the deprecated predecessor of GetRequiredPackages, kept for older CLIs.
// Parameterized packages have no representation here and are left out.
func (h *nodeHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetProgram() //nolint:staticcheck // what old CLIs send
	}
	found, err := scanPulumiPackages(dir)
	if err != nil {
		logging.V(3).Infof("problems while looking for Pulumi packages: %v", err)
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, p := range found {
		if p.parameterization != nil {
			continue
		}
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Name: p.name, Kind: "resource", Version: p.version, Server: p.server,
		})
	}
	return resp, nil
}

// pulumiPackage is one resource plugin requirement found in node_modules.
type pulumiPackage struct {
	name, version, server string
	parameterization      *pulumirpc.PackageParameterization
}

func (p pulumiPackage) key() string {
	k := p.name + "@" + p.version + " " + p.server
	if pp := p.parameterization; pp != nil {
		k += fmt.Sprintf(" %s@%s %x", pp.Name, pp.Version, pp.Value)
	}
	return k
}

// packageJSON holds the parts of a package.json this host reads.
type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          struct {
		Resource         bool   `json:"resource"`
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   []byte `json:"value"` // base64 in JSON
		} `json:"parameterization"`
	} `json:"pulumi"`
}

// scanPulumiPackages walks dir and every directory below it (following symlinks, each real
// directory once) and reads the package.json files that sit inside a node_modules tree. Nested
// policy packs (a directory with PulumiPolicy.yaml) are skipped: their plugins are not the
// program's. The result is sorted and de-duplicated; the error joins every problem met.
func scanPulumiPackages(dir string) ([]pulumiPackage, error) {
	s := &scanner{seen: map[string]bool{}, found: map[string]pulumiPackage{}}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s.walk(root, false)

	out := make([]pulumiPackage, 0, len(s.found))
	for _, p := range s.found {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].version < out[j].version
	})
	return out, errors.Join(s.errs...)
}

type scanner struct {
	seen  map[string]bool          // real paths already walked (symlink loops, pnpm stores)
	found map[string]pulumiPackage // by key(), so copies of one package count once
	errs  []error
}

func (s *scanner) walk(dir string, inNodeModules bool) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		s.errs = append(s.errs, err)
		return
	}
	if s.seen[real] {
		return
	}
	s.seen[real] = true

	entries, err := os.ReadDir(dir)
	if err != nil {
		s.errs = append(s.errs, err)
		return
	}
	// Children of a node_modules directory (at any depth) are installed packages.
	childInNodeModules := inNodeModules || filepath.Base(dir) == "node_modules"
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			fi, err := os.Stat(path)
			if err != nil {
				s.errs = append(s.errs, err)
				continue
			}
			isDir = fi.IsDir()
		}
		switch {
		case isDir:
			if _, err := os.Stat(filepath.Join(path, "PulumiPolicy.yaml")); err == nil {
				continue
			}
			s.walk(path, childInNodeModules)
		case inNodeModules && e.Name() == "package.json":
			p, ok, err := readPulumiPackage(path)
			if err != nil {
				s.errs = append(s.errs, err)
			} else if ok {
				s.found[p.key()] = p
			}
		}
	}
}

// readPulumiPackage reads one package.json and reports whether it declares a resource plugin.
func readPulumiPackage(path string) (pulumiPackage, bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pulumiPackage{}, false, err
	}
	var pj packageJSON
	if err := json.Unmarshal(b, &pj); err != nil {
		return pulumiPackage{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if !pj.Pulumi.Resource {
		return pulumiPackage{}, false, nil
	}
	p, err := pluginOf(pj)
	if err != nil {
		return pulumiPackage{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return p, true, nil
}

// pluginOf derives the plugin requirement of a resource package: the name from pulumi.name, else
// the npm name without its scope (@pulumi/aws -> aws); the version from pulumi.version, else the
// package version, always with a leading "v"; pulumi.server as the download URL.
func pluginOf(pj packageJSON) (pulumiPackage, error) {
	name := pj.Pulumi.Name
	if name == "" {
		name = pj.Name
		if i := strings.LastIndexByte(name, '/'); strings.HasPrefix(name, "@") && i >= 0 {
			name = name[i+1:]
		}
	}
	if name == "" {
		return pulumiPackage{}, errors.New(`resource package has no "name"`)
	}
	version := pj.Pulumi.Version
	if version == "" {
		version = pj.Version
	}
	if version == "" {
		return pulumiPackage{}, fmt.Errorf(`resource package %q has no "version"`, name)
	}
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	p := pulumiPackage{name: name, version: version, server: pj.Pulumi.Server}
	if pp := pj.Pulumi.Parameterization; pp != nil {
		p.parameterization = &pulumirpc.PackageParameterization{Name: pp.Name, Version: pp.Version, Value: pp.Value}
	}
	return p, nil
}
