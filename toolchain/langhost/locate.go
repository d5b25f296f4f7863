package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// The entry points inside the program's own @pulumi/pulumi package that do the real work.
const (
	runModule        = "@pulumi/pulumi/cmd/run"
	runPolicyModule  = "@pulumi/pulumi/cmd/run-policy-pack"
	runPluginModule  = "@pulumi/pulumi/cmd/run-plugin"
	sdkMissingAdvice = "It looks like the Pulumi SDK has not been installed. Have you run %s?"
)

// findNode returns the node executable on $PATH.
func findNode() (string, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return "", errNodeNotFound(err)
	}
	return nodeBin, nil
}

func errNodeNotFound(err error) error {
	return fmt.Errorf("could not find node on the $PATH (Node.js is needed to run Pulumi Node.js code): %w", err)
}

// resolveModule asks node itself to resolve module from dir. Node's resolver is the authority
// (hoisted workspaces, pnpm symlinks, NODE_PATH, package "exports"), and the program must use the
// @pulumi/pulumi it depends on, not one we carry. The module name goes in as an argument, never
// spliced into the script.
func resolveModule(ctx context.Context, nodeBin, dir, module, installHint string) (string, error) {
	const script = `try { console.log(require.resolve(process.argv[1])) } catch (e) {` +
		` console.error(e.code === "MODULE_NOT_FOUND" ? "MODULE_NOT_FOUND" : e.message); process.exit(1) }`
	cmd := exec.CommandContext(ctx, nodeBin, "-e", script, module)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || msg == "" {
			return "", fmt.Errorf("resolving %s from %s: %w", module, dir, err)
		}
		if msg == "MODULE_NOT_FOUND" {
			return "", fmt.Errorf("could not find %s from %s. "+sdkMissingAdvice, module, dir, installHint)
		}
		return "", fmt.Errorf("resolving %s from %s: %s", module, dir, msg)
	}
	return strings.TrimSpace(string(out)), nil
}
