package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeFile creates path (and its directories) under root with the given content.
func writeFile(t *testing.T, root, path, content string) {
	t.Helper()
	full := filepath.Join(root, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScanPulumiPackages(t *testing.T) {
	root := t.TempDir()
	// The program's own package.json is not a dependency, even when it looks like a provider.
	writeFile(t, root, "package.json", `{"name":"@pulumi/self","version":"1.0.0","pulumi":{"resource":true}}`)
	// Scoped @pulumi package: name from the npm name, version from "version", with a "v".
	writeFile(t, root, "node_modules/@pulumi/random/package.json",
		`{"name":"@pulumi/random","version":"4.21.2","pulumi":{"resource":true}}`)
	// Third-party package: everything from the "pulumi" section.
	writeFile(t, root, "node_modules/@muhlba91/pulumi-proxmoxve/package.json",
		`{"name":"@muhlba91/pulumi-proxmoxve","version":"9.9.9","pulumi":{"resource":true,"name":"proxmoxve",`+
			`"version":"v8.6.0","server":"github://api.github.com/muhlba91/pulumi-proxmoxve"}}`)
	// The same package nested again under another package counts once.
	writeFile(t, root, "node_modules/other/package.json", `{"name":"other","version":"1.0.0"}`)
	writeFile(t, root, "node_modules/other/node_modules/@pulumi/random/package.json",
		`{"name":"@pulumi/random","version":"4.21.2","pulumi":{"resource":true}}`)
	// A different version nested deeper is its own requirement.
	writeFile(t, root, "node_modules/other/node_modules/@pulumi/command/package.json",
		`{"name":"@pulumi/command","version":"1.2.1","pulumi":{"resource":true}}`)
	// Packages without "pulumi.resource" are not plugins.
	writeFile(t, root, "node_modules/@pulumi/pulumi/package.json", `{"name":"@pulumi/pulumi","version":"3.270.0"}`)
	writeFile(t, root, "node_modules/@pulumi/policy/package.json",
		`{"name":"@pulumi/policy","version":"1.21.0","pulumi":{"resource":false}}`)
	// Parameterized package.
	writeFile(t, root, "node_modules/@acme/param/package.json",
		`{"name":"@acme/param","version":"0.1.0","pulumi":{"resource":true,"name":"terraform-provider",`+
			`"version":"0.8.0","parameterization":{"name":"acme","version":"0.1.0","value":"aGVsbG8="}}}`)
	// A nested policy pack brings its own dependencies, which are not the program's.
	writeFile(t, root, "policy/PulumiPolicy.yaml", "runtime: nodejs\n")
	writeFile(t, root, "policy/node_modules/@pulumi/aws/package.json",
		`{"name":"@pulumi/aws","version":"7.0.0","pulumi":{"resource":true}}`)
	// A broken package.json is reported but does not hide the others.
	writeFile(t, root, "node_modules/broken/package.json", `{not json`)
	// A symlink loop must not make the walk run forever.
	if err := os.Symlink(filepath.Join(root, "node_modules"), filepath.Join(root, "node_modules", "other", "loop")); err != nil {
		t.Fatal(err)
	}

	got, err := scanPulumiPackages(root)
	if err == nil {
		t.Errorf("expected the broken package.json to be reported")
	}
	var names []string
	for _, p := range got {
		names = append(names, p.name+"@"+p.version)
	}
	want := []string{"command@v1.2.1", "proxmoxve@v8.6.0", "random@v4.21.2", "terraform-provider@v0.8.0"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("packages = %v, want %v", names, want)
	}
	if got[1].server != "github://api.github.com/muhlba91/pulumi-proxmoxve" {
		t.Errorf("server = %q", got[1].server)
	}
	pp := got[3].parameterization
	if pp == nil || pp.Name != "acme" || pp.Version != "0.1.0" || string(pp.Value) != "hello" {
		t.Errorf("parameterization = %+v", pp)
	}
}

func TestScanPulumiPackagesFollowsSymlinkedNodeModules(t *testing.T) {
	store := t.TempDir()
	writeFile(t, store, "node_modules/@pulumi/random/package.json",
		`{"name":"@pulumi/random","version":"4.21.2","pulumi":{"resource":true}}`)
	prog := t.TempDir()
	if err := os.Symlink(filepath.Join(store, "node_modules"), filepath.Join(prog, "node_modules")); err != nil {
		t.Fatal(err)
	}
	got, err := scanPulumiPackages(prog)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].name != "random" {
		t.Fatalf("got %+v", got)
	}
}

func TestPluginOf(t *testing.T) {
	cases := []struct {
		name, json, wantName, wantVersion string
		wantErr                           bool
	}{
		{"pulumi scope", `{"name":"@pulumi/aws","version":"6.0.0"}`, "aws", "v6.0.0", false},
		{"other scope", `{"name":"@acme/widgets","version":"1.0.0"}`, "widgets", "v1.0.0", false},
		{"no scope", `{"name":"widgets","version":"v1.0.0"}`, "widgets", "v1.0.0", false},
		{"pulumi section wins", `{"name":"@acme/x","version":"1.0.0","pulumi":{"name":"y","version":"2.0.0"}}`,
			"y", "v2.0.0", false},
		{"no version", `{"name":"@pulumi/aws"}`, "", "", true},
		{"no name", `{"version":"1.0.0"}`, "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "package.json", c.json)
			var pj packageJSON
			if err := readJSON(filepath.Join(dir, "package.json"), &pj); err != nil {
				t.Fatal(err)
			}
			p, err := pluginOf(pj)
			if c.wantErr {
				if err == nil {
					t.Fatalf("expected an error, got %+v", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.name != c.wantName || p.version != c.wantVersion {
				t.Errorf("got %s %s, want %s %s", p.name, p.version, c.wantName, c.wantVersion)
			}
		})
	}
}
