package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDirectDependencies(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "package.json",
		`{"dependencies":{"@pulumi/pulumi":"^3.0.0","left-pad":"1.3.0"},"devDependencies":{"typescript":"~5.9.0"}}`)
	writeFile(t, root, "node_modules/@pulumi/pulumi/package.json", `{"name":"@pulumi/pulumi","version":"3.270.0"}`)
	writeFile(t, root, "node_modules/typescript/package.json", `{"name":"typescript","version":"5.9.3"}`)

	// Asked from a sub-directory (Pulumi.yaml `main: src/`), the nearest package.json is used.
	if err := os.MkdirAll(filepath.Join(root, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := directDependencies(filepath.Join(root, "src"))
	if err != nil {
		t.Fatal(err)
	}
	want := []dependency{
		{"@pulumi/pulumi", "3.270.0"},
		{"left-pad", "1.3.0"}, // not installed: the declared range
		{"typescript", "5.9.3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestLockedDependencies(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "package-lock.json", `{
		"lockfileVersion": 3,
		"packages": {
			"": {"name": "prog", "version": "1.0.0"},
			"node_modules/@pulumi/pulumi": {"version": "3.270.0"},
			"node_modules/a": {"version": "1.0.0"},
			"node_modules/b/node_modules/a": {"version": "2.0.0"},
			"node_modules/c/node_modules/a": {"version": "2.0.0"},
			"node_modules/alias": {"name": "real-name", "version": "4.0.0"},
			"node_modules/linked": {"resolved": "packages/linked", "link": true},
			"packages/linked": {"name": "linked", "version": "0.0.1"}
		}
	}`)
	got, err := lockedDependencies(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []dependency{
		{"@pulumi/pulumi", "3.270.0"},
		{"a", "1.0.0"},
		{"a", "2.0.0"},
		{"real-name", "4.0.0"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	if _, err := lockedDependencies(t.TempDir()); err == nil {
		t.Error("expected an error without a package-lock.json")
	}
}
