package local

import (
	"context"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/infer/types"

	"toolchain.local/providers/command/pkg/common"
)

// Run is the command:local:run invoke: it runs its command on every call,
// previews included.
type Run struct{}

// RunInputs are the invoke's arguments.
type RunInputs struct {
	Command string `pulumi:"command"`
	BaseInputs
}

// Annotate documents the arguments.
func (r *RunInputs) Annotate(a infer.Annotator) {
	a.Describe(&r.Command, "The command to run.")
}

// RunOutputs are the invoke's result: the arguments plus what the run produced.
// (An invoke's result type may not hold resource.Asset directly, hence the
// AssetOrArchive map; on the wire both are plain assets.)
type RunOutputs struct {
	RunInputs
	Stdout  string                           `pulumi:"stdout"`
	Stderr  string                           `pulumi:"stderr"`
	Assets  *map[string]types.AssetOrArchive `pulumi:"assets,optional"`
	Archive *types.AssetOrArchive            `pulumi:"archive,optional"`
}

// Annotate documents the result.
func (r *RunOutputs) Annotate(a infer.Annotator) {
	a.Describe(&r.Stdout, "The standard output of the command's process")
	a.Describe(&r.Stderr, "The standard error of the command's process")
	a.Describe(&r.Assets, "A map of assets found after running the command.\nThe key is the relative path from the command dir")
	a.Describe(&r.Archive, "An archive asset containing files found after running the command.")
}

// Annotate documents the invoke.
func (r *Run) Annotate(a infer.Annotator) {
	a.Describe(&r, "A local command to be executed unconditionally.\n"+
		"This command will always be run on any preview or deployment. "+
		"Use `local.Command` to conditionally execute commands as part of the resource lifecycle.")
}

// Invoke runs the command.
func (*Run) Invoke(ctx context.Context, req infer.FunctionRequest[RunInputs]) (infer.FunctionResponse[RunOutputs], error) {
	var res BaseOutputs
	if err := run(ctx, req.Input.Command, req.Input.BaseInputs, &res, common.EngineSink(ctx)); err != nil {
		return infer.FunctionResponse[RunOutputs]{}, err
	}
	out := RunOutputs{RunInputs: req.Input, Stdout: res.Stdout, Stderr: res.Stderr, Assets: res.Assets, Archive: res.Archive}
	return infer.FunctionResponse[RunOutputs]{Output: out}, nil
}
