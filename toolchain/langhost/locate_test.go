package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// These tests need a real node on $PATH; node's resolver is what we rely on.
func TestResolveModule(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on $PATH")
	}
	root := t.TempDir()
	writeFile(t, root, "node_modules/@pulumi/pulumi/package.json", `{"name":"@pulumi/pulumi","version":"3.270.0"}`)
	writeFile(t, root, "node_modules/@pulumi/pulumi/cmd/run/index.js", "")
	writeFile(t, root, "src/index.ts", "")

	// Resolved from a sub-directory: node walks up to the node_modules above it.
	got, err := resolveModule(context.Background(), nodeBin, filepath.Join(root, "src"), runModule, "pulumi install")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "node_modules/@pulumi/pulumi/cmd/run/index.js")
	if real, _ := filepath.EvalSymlinks(want); got != want && got != real {
		t.Errorf("got %s, want %s", got, want)
	}

	_, err = resolveModule(context.Background(), nodeBin, root, runPolicyModule, "npm install in /x")
	if err == nil || !strings.Contains(err.Error(), "npm install in /x") {
		t.Errorf("missing module: %v", err)
	}
}
