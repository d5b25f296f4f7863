package main

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// nodeHost implements pulumirpc.LanguageRuntimeServer. The RPCs live in one file per concern
// (run.go, runplugin.go, packages.go, install.go, dependencies.go); this file holds the state and
// the small informational RPCs. Code generation RPCs (GenerateProgram, GenerateProject,
// GeneratePackage, Pack, Link) are answered "Unimplemented" by the embedded type.
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	tracing           string // forwarded to node as --tracing
	typescriptDefault bool   // value of the 'typescript' option when Pulumi.yaml does not set it

	// ctx ends when the host shuts down or the engine sends Cancel; every node process we start
	// is tied to it, so Cancel interrupts running programs and plugins.
	ctx      context.Context
	cancel   context.CancelFunc
	shutdown func() // stops the gRPC server; used when the engine disappears

	mu            sync.Mutex
	engineAddress string
	healthStarted bool
}

func newHost(ctx context.Context, engineAddress, tracing string, typescriptDefault bool, shutdown func()) *nodeHost {
	hctx, cancel := context.WithCancel(ctx)
	h := &nodeHost{
		tracing:           tracing,
		typescriptDefault: typescriptDefault,
		ctx:               hctx,
		cancel:            cancel,
		shutdown:          shutdown,
	}
	h.setEngine(engineAddress)
	return h
}

// setEngine records the engine address and starts watching the engine's health once, so that an
// orphaned language host exits instead of lingering after the CLI died.
func (h *nodeHost) setEngine(addr string) {
	if addr == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.engineAddress = addr
	if h.healthStarted {
		return
	}
	if err := rpcutil.Healthcheck(h.ctx, addr, 5*time.Minute, h.shutdown); err != nil {
		logging.V(3).Infof("could not start engine health check: %v", err)
		return
	}
	h.healthStarted = true
}

func (h *nodeHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake is the engine's first call; it carries the engine address (also given on the command
// line by current CLIs, but not when the engine attaches to an already running host).
func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.setEngine(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: pluginVersion()}, nil
}

// Cancel interrupts every node process this host started (they get SIGINT, then SIGKILL).
func (h *nodeHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

// About reports node's path and version and the package manager, for `pulumi about`.
func (h *nodeHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := findNode()
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.AboutResponse{Executable: nodeBin, Metadata: map[string]string{}}
	if out, err := exec.CommandContext(ctx, nodeBin, "--version").Output(); err == nil {
		resp.Version = strings.TrimSpace(string(out))
	}
	opts, err := parseOptions(req.GetInfo().GetOptions().AsMap(), h.typescriptDefault)
	if err != nil {
		return nil, err
	}
	pm := choosePackageManager(opts.packageManager, req.GetInfo().GetProgramDirectory())
	resp.Metadata["packagemanager"] = pm
	if out, err := exec.CommandContext(ctx, pm, "--version").Output(); err == nil {
		resp.Metadata["packagemanagerVersion"] = strings.TrimSpace(string(out))
	}
	return resp, nil
}

// RuntimeOptionsPrompts would let `pulumi new` ask for runtime options; we have none to ask.
func (h *nodeHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// Template lets a language post-process a new project template; Node.js templates need nothing.
func (h *nodeHost) Template(context.Context, *pulumirpc.TemplateRequest) (*pulumirpc.TemplateResponse, error) {
	return &pulumirpc.TemplateResponse{}, nil
}
