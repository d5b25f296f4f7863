package local

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestMatchPaths(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"assets/logos/logo.svg", "src/index.js", "src/secret.js", "top.txt", "src/deep/x.js"} {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		rules []string
		want  []string
	}{
		{[]string{"assets/**", "src/**.js", "!**secret.*"}, []string{"assets/logos/logo.svg", "src/deep/x.js", "src/index.js"}},
		{[]string{"*.txt"}, []string{"top.txt"}},
		{[]string{"src/*.js"}, []string{"src/index.js", "src/secret.js"}},
		{[]string{"!top.txt", "*.txt"}, []string{"top.txt"}},
	}
	for _, c := range cases {
		got, err := matchPaths(dir, c.rules)
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: got %v want %v", c.rules, got, c.want)
		}
	}
	if _, err := matchPaths(dir, []string{"["}); err == nil {
		t.Error("bad glob must fail")
	}
}
