package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// InstallDependencies runs the package manager's install in the program (or plugin / policy
// pack) directory, for `pulumi install`, `pulumi new` and `pulumi policy` commands, streaming its
// output back. Not supported: npm/yarn workspace roots (we install in the directory itself),
// UseLanguageVersionTools (fnm), and a pseudo-terminal for colours.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // what old CLIs send
	}
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap(), h.typescriptDefault)
	if err != nil {
		return err
	}
	if req.GetUseLanguageVersionTools() {
		logging.V(3).Infof("UseLanguageVersionTools is not supported; using the node on $PATH")
	}

	stdout, stderr, _ := streamWriters(func(isStdout bool, b []byte) error {
		if isStdout {
			return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
		}
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	})

	pm := choosePackageManager(opts.packageManager, dir)
	bin, err := exec.LookPath(pm)
	if err != nil {
		return fmt.Errorf("could not find %s on the $PATH: %w", pm, err)
	}
	fmt.Fprintf(stdout, "Installing dependencies with %s...\n\n", pm)

	cmd, release := h.command(server.Context(), bin, installArgs(pm))
	defer release()
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s install failed in %s: %w", pm, dir, err)
	}
	// A "successful" install without node_modules (e.g. a missing package.json) would only fail
	// later, with a worse message.
	if searchUp(dir, "node_modules") == "" {
		return fmt.Errorf("%s install reported success, but there is no node_modules directory at or above %s", pm, dir)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return nil
}

// choosePackageManager resolves the 'packagemanager' option; "auto" picks by lock file, as the
// official host does, and falls back to npm.
func choosePackageManager(option, dir string) string {
	if option != "" && option != "auto" {
		return option
	}
	for _, c := range []struct{ lock, pm string }{
		{"yarn.lock", "yarn"},
		{"pnpm-lock.yaml", "pnpm"},
		{"bun.lock", "bun"},
		{"bun.lockb", "bun"},
	} {
		if _, err := os.Stat(filepath.Join(dir, c.lock)); err == nil {
			return c.pm
		}
	}
	return "npm"
}

// installArgs is the install command line per package manager. npm gets `install` (not `ci`,
// which deletes node_modules and refuses a lock file out of step with package.json), with
// warnings about package.json metadata silenced.
func installArgs(pm string) []string {
	if pm == "npm" {
		return []string{"install", "--loglevel=error"}
	}
	return []string{"install"}
}
