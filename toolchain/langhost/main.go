// pulumi-language-nodejs is this repository's own Node.js language host for the Pulumi CLI.
//
// The CLI starts it as `pulumi-language-nodejs [--logtostderr] [-v=N] [--tracing URL] <engine-address>`,
// reads the gRPC port from the first line of stdout, and then drives it through the
// pulumirpc.LanguageRuntime service. Everything that actually runs JavaScript/TypeScript is
// delegated to the entry points shipped inside the program's own @pulumi/pulumi package
// (cmd/run, cmd/run-policy-pack, cmd/run-plugin); this binary only prepares arguments and
// environment, starts `node` and reports the outcome. See README.md for why it exists.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

func main() {
	// --logtostderr and -v are registered by the sdk's logging package (the CLI forwards them with
	// --logflow); the flags below are ours. -root and -typescript were passed by older CLIs: they
	// are accepted so such a CLI can still start us, and -typescript only sets the default for
	// programs whose Pulumi.yaml does not say.
	tracing := flag.String("tracing", "", "Zipkin-compatible endpoint to send traces to (forwarded to node)")
	showVersion := flag.Bool("version", false, "Print the plugin version and exit")
	flag.String("root", "", "Ignored; accepted for compatibility with older CLIs")
	typescriptDefault := flag.Bool("typescript", true, "Default for the 'typescript' runtime option")
	flag.Parse()

	if *showVersion {
		fmt.Println(pluginVersion())
		return
	}
	logging.InitLogging(false, 0, false)

	// The only positional argument is the engine's gRPC address; Handshake may supply it later.
	engineAddress := flag.Arg(0)

	// The CLI starts plugins in their own process group and stops them with SIGINT to that group,
	// so node gets it too. We stop serving gracefully, letting a running RPC report how node ended.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	host := newHost(ctx, engineAddress, *tracing, *typescriptDefault, stop)
	if err := serve(ctx, host); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

// serve registers the language runtime service, prints the port as the CLI expects and blocks
// until the server stops (ctx cancelled, e.g. by a signal or a failed engine health check).
func serve(ctx context.Context, host *nodeHost) error {
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancel)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("could not start the language host gRPC server: %w", err)
	}

	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		return fmt.Errorf("language host stopped serving: %w", err)
	}
	return nil
}
