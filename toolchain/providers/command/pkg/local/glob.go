package local

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/gobwas/glob"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

type globRule struct {
	exclude bool
	g       glob.Glob
}

func compileRules(patterns []string) ([]globRule, error) {
	rules := make([]globRule, 0, len(patterns))
	for _, p := range patterns {
		r := globRule{}
		if strings.HasPrefix(p, "!") {
			r.exclude = true
			p = p[1:]
		}
		g, err := glob.Compile(p, '/')
		if err != nil {
			return nil, fmt.Errorf("invalid glob %q: %w", p, err)
		}
		r.g = g
		rules = append(rules, r)
	}
	return rules, nil
}

// matchPaths returns the files (not directories) under dir, as '/'-separated paths
// relative to dir, that the rules select. Rules apply in order: an include rule
// selects a path it matches, an exclude rule ("!pattern") deselects it.
func matchPaths(dir string, patterns []string) ([]string, error) {
	rules, err := compileRules(patterns)
	if err != nil {
		return nil, err
	}
	var matched []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		selected := false
		for _, r := range rules {
			if r.g.Match(rel) {
				selected = !r.exclude
			}
		}
		if selected {
			matched = append(matched, rel)
		}
		return nil
	})
	return matched, err
}

func collectAssets(dir string, patterns []string) (map[string]*resource.Asset, error) {
	paths, err := matchPaths(dir, patterns)
	if err != nil {
		return nil, err
	}
	assets := make(map[string]*resource.Asset, len(paths))
	for _, rel := range paths {
		a, err := resource.NewPathAsset(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		assets[rel] = a
	}
	return assets, nil
}
