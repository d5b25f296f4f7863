package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// analyzerKind is the RunPluginRequest.Kind of policy packs.
const analyzerKind = "analyzer"

// RunPlugin runs a plugin written in Node.js and streams its output back; the CLI reads the
// plugin's gRPC port from that stdout. Policy packs (kind "analyzer", used by CLI >= 3.221 for
// `--policy-pack` dirs whose PulumiPolicy.yaml says `runtime: nodejs`) go through
// @pulumi/pulumi/cmd/run-policy-pack, every other kind through cmd/run-plugin.
func (h *nodeHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	isPolicy := req.GetKind() == analyzerKind
	logging.V(5).Infof("running %s plugin in %s", req.GetKind(), dir)

	stdout, stderr, locked := streamWriters(func(isStdout bool, b []byte) error {
		if isStdout {
			return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
		}
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	})

	opts, err := parseOptions(info.GetOptions().AsMap(), h.typescriptDefault)
	if err != nil {
		return err
	}
	nodeBin, err := findNode()
	if err != nil {
		return err
	}
	module := runPluginModule
	if isPolicy {
		module = runPolicyModule
	}
	entry, err := resolveModule(ctx, nodeBin, dir, module, "npm install in "+dir)
	if err != nil {
		return err
	}

	// The CLI passes its whole environment in req.Env; the plugin gets exactly that plus ours.
	env := append(append([]string{}, req.GetEnv()...), typescriptEnv(opts)...)
	var pluginStdout io.Writer = stdout
	var proxy *sdk.PolicyProxy
	if isPolicy {
		// The CLI talks to a policy pack as an Analyzer and sends the stack (org, project, stack,
		// config, dry-run) in ConfigureStack, but @pulumi/policy reads those from the environment
		// at start-up. The sdk's PolicyProxy bridges the two: it serves the Analyzer service
		// (printing its own port on our stdout), waits for ConfigureStack, and once we have
		// started node with that environment it reads node's port from node's stdout and
		// forwards every further call to it.
		proxy, pluginStdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the policy pack's stack configuration: %w", err)
		}
		if env, err = policyEnv(env, stack); err != nil {
			return err
		}
	}

	cmd, release := h.command(ctx, nodeBin, append(opts.nodeArgs, pluginArgs(req, entry, isPolicy)...))
	defer release()
	// Policy packs have always run from their own directory; other plugins from the CLI's.
	cmd.Dir = req.GetPwd()
	if isPolicy || cmd.Dir == "" {
		cmd.Dir = dir
	}
	cmd.Env = env
	cmd.Stdout = pluginStdout
	cmd.Stderr = stderr
	logging.V(5).Infof("running plugin: %s", cmd)

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start the plugin with node: %w", err)
	}
	if proxy != nil {
		err = proxy.Attach(ctx, cmd) // waits for node to exit
	} else {
		err = cmd.Wait()
	}

	code := int32(0)
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = int32(exitErr.ExitCode())
	case err != nil:
		return err
	}
	// Reporting the exit code (rather than failing the RPC) lets the CLI show the plugin's own
	// stderr and then "exit status N", as for any other plugin process.
	return locked(func() error {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
	})
}

// pluginArgs is the node command line for a plugin (after any nodeargs). run-policy-pack expects
// `<engine-address> <policy-pack-dir>`, and the engine address is the last of the CLI's args (the
// logging/tracing flags before it are parsed away by minimist), so the directory goes last.
// run-plugin expects the plugin directory first, then the CLI's args.
func pluginArgs(req *pulumirpc.RunPluginRequest, entry string, isPolicy bool) []string {
	dir := req.GetInfo().GetProgramDirectory()
	args := []string{entry}
	if isPolicy {
		args = append(args, req.GetArgs()...)
		return append(args, dir)
	}
	args = append(args, dir)
	return append(args, req.GetArgs()...)
}

// policyEnv adds the stack information @pulumi/pulumi's settings module reads in a policy pack.
// A nil request means the CLI never configured a stack (e.g. `pulumi policy publish`).
func policyEnv(env []string, stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if stack == nil {
		return env, nil
	}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
	add("PULUMI_NODEJS_PROJECT", stack.GetProject())
	add("PULUMI_NODEJS_STACK", stack.GetStack())
	add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
	if cfg := stack.GetConfig(); cfg != nil {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("could not serialise the stack configuration: %w", err)
		}
		add("PULUMI_CONFIG", string(b))
	}
	if keys := stack.GetConfigSecretKeys(); len(keys) > 0 {
		b, err := json.Marshal(keys)
		if err != nil {
			return nil, err
		}
		add("PULUMI_CONFIG_SECRET_KEYS", string(b))
	}
	return env, nil
}
