package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// exitCodeAlreadyReported is what @pulumi/pulumi's cmd/run exits with when it has already sent the
// error to the engine as a diagnostic. We then "bail": the CLI fails without printing it again.
const exitCodeAlreadyReported = 32

// Run executes a Pulumi program: `node [nodeargs] <@pulumi/pulumi/cmd/run> --monitor ... <entry>`.
//
// Program failures are not gRPC errors: they go back in RunResponse.Error (shown once by the
// CLI) or as Bail (already shown). A gRPC error would mean the host itself is broken.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	opts, err := parseOptions(info.GetOptions().AsMap(), h.typescriptDefault)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	nodeBin, err := findNode()
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	runPath, err := resolveModule(ctx, nodeBin, info.GetProgramDirectory(), runModule, "pulumi install")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	env, err := runEnv(os.Environ(), req, opts)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if req.GetAttachDebugger() {
		logging.Warningf("attaching a debugger is not supported by this language host; running normally")
	}

	cmd, release := h.command(ctx, nodeBin, append(opts.nodeArgs, runArgs(req, runPath, h.engine(), h.tracing)...))
	defer release()
	cmd.Dir = info.GetProgramDirectory()
	cmd.Env = env
	// Node may switch its stdio to non-blocking mode; handing it our own file descriptors would
	// affect our writes too. Wrapping the writers makes exec copy through pipes instead.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	logging.V(5).Infof("running program: %s", cmd)

	return runResult(cmd.Run()), nil
}

// runArgs is the command line @pulumi/pulumi's cmd/run (index.js) parses with minimist:
// flags first, then the entry point relative to --pwd, then the program's own arguments.
func runArgs(req *pulumirpc.RunRequest, runPath, engineAddress, tracing string) []string {
	args := []string{runPath}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engineAddress)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetInfo().GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", tracing)

	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "." // the program directory: package.json "main"/"exports", else index.{ts,js}
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

// runEnv adds what cmd/run reads from the environment rather than its command line: the stack
// configuration, which keys of it are secret, and the TypeScript settings.
func runEnv(base []string, req *pulumirpc.RunRequest, opts nodeOptions) ([]string, error) {
	cfg, err := configJSON(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(append([]string{}, base...),
		"PULUMI_CONFIG="+cfg,
		"PULUMI_CONFIG_SECRET_KEYS="+string(keys))
	return append(env, typescriptEnv(opts)...), nil
}

// configJSON serialises the stack config for PULUMI_CONFIG. Keys are written in the old
// "<namespace>:config:<name>" form, which every @pulumi/pulumi version understands (newer ones
// strip the ":config" again).
func configJSON(cfg map[string]string) (string, error) {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", fmt.Errorf("invalid config key %q: %w", k, err)
		}
		out[key.Namespace()+":config:"+key.Name()] = v
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func typescriptEnv(opts nodeOptions) []string {
	var env []string
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	return env
}

// runResult turns node's exit into the response the CLI expects.
func runResult(err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the program with node: %v", err)}
	}
	switch code := exitErr.ExitCode(); code {
	case exitCodeAlreadyReported:
		return &pulumirpc.RunResponse{Bail: true}
	case -1: // killed by a signal (e.g. cancelled)
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", exitErr)}
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}
	}
}

// command builds a node invocation that ends with the RPC (ctx) or with the host (Cancel,
// shutdown): node first gets SIGINT so it can flush and exit; SIGKILL follows after a grace
// period. Call release once the command has finished.
func (h *nodeHost) command(ctx context.Context, nodeBin string, args []string) (*exec.Cmd, func()) {
	cmdCtx, cancel := context.WithCancel(h.ctx)
	stop := context.AfterFunc(ctx, cancel)
	cmd := exec.CommandContext(cmdCtx, nodeBin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	return cmd, func() { stop(); cancel() }
}
