package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// GetProgramDependencies lists the program's npm dependencies with their installed versions, for
// `pulumi about`. Direct ones come from package.json (version read from the installed package,
// else the declared range); transitive ones from package-lock.json, whatever package manager
// installed them, since that is the one lock format we can read without running anything.
func (h *nodeHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	var (
		deps []dependency
		err  error
	)
	if req.GetTransitiveDependencies() {
		deps, err = lockedDependencies(dir)
	} else {
		deps, err = directDependencies(dir)
	}
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, d := range deps {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: d.name, Version: d.version})
	}
	return resp, nil
}

type dependency struct{ name, version string }

// directDependencies reads the nearest package.json at or above dir.
func directDependencies(dir string) ([]dependency, error) {
	manifest := searchUp(dir, "package.json")
	if manifest == "" {
		return nil, fmt.Errorf("no package.json found at or above %s", dir)
	}
	var pj packageJSON
	if err := readJSON(manifest, &pj); err != nil {
		return nil, err
	}
	declared := map[string]string{}
	for name, v := range pj.DevDependencies {
		declared[name] = v
	}
	for name, v := range pj.Dependencies {
		declared[name] = v
	}
	deps := make([]dependency, 0, len(declared))
	for name, rng := range declared {
		deps = append(deps, dependency{name: name, version: installedVersion(filepath.Dir(manifest), name, rng)})
	}
	sortDependencies(deps)
	return deps, nil
}

// installedVersion finds the package the way node would from dir (node_modules here or above)
// and returns its version, or fallback when it is not installed.
func installedVersion(dir, name, fallback string) string {
	for d := dir; ; d = filepath.Dir(d) {
		var pj packageJSON
		if readJSON(filepath.Join(d, "node_modules", name, "package.json"), &pj) == nil && pj.Version != "" {
			return pj.Version
		}
		if filepath.Dir(d) == d {
			return fallback
		}
	}
}

// lockedDependencies lists every package in the nearest package-lock.json (lockfileVersion 2+).
func lockedDependencies(dir string) ([]dependency, error) {
	lock := searchUp(dir, "package-lock.json")
	if lock == "" {
		return nil, fmt.Errorf("no package-lock.json found at or above %s; transitive dependencies "+
			"can only be listed for npm lock files", dir)
	}
	var lf struct {
		Packages map[string]struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Link    bool   `json:"link"`
		} `json:"packages"`
	}
	if err := readJSON(lock, &lf); err != nil {
		return nil, err
	}
	seen := map[dependency]bool{}
	var deps []dependency
	for path, p := range lf.Packages {
		// Keys are install paths: "" is the project itself, "node_modules/a/node_modules/@s/b"
		// a nested package whose name is what follows the last "node_modules/".
		i := strings.LastIndex(path, "node_modules/")
		if i < 0 || p.Link {
			continue
		}
		name := p.Name
		if name == "" {
			name = path[i+len("node_modules/"):]
		}
		d := dependency{name: name, version: p.Version}
		if !seen[d] {
			seen[d] = true
			deps = append(deps, d)
		}
	}
	sortDependencies(deps)
	return deps, nil
}

func sortDependencies(deps []dependency) {
	sort.Slice(deps, func(i, j int) bool {
		if deps[i].name != deps[j].name {
			return deps[i].name < deps[j].name
		}
		return deps[i].version < deps[j].version
	})
}

// searchUp returns the path of name in dir or its nearest ancestor that has one, or "".
func searchUp(dir, name string) string {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
