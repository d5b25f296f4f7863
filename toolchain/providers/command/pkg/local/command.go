// Package local serves command:local:Command and the command:local:run invoke.
package local

import (
	"context"

	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"toolchain.local/providers/command/pkg/common"
)

// Command is command:local:Command.
type Command struct{}

// CommandInputs are the resource's inputs.
type CommandInputs struct {
	common.ResourceInputs
	BaseInputs
}

// Annotate sets defaults that only the resource has.
func (c *CommandInputs) Annotate(a infer.Annotator) {
	a.SetDefault(&c.AddPreviousOutputInEnv, true)
}

// CommandOutputs are the resource's state: its inputs plus what the run produced.
type CommandOutputs struct {
	CommandInputs
	BaseOutputs
}

var (
	_ infer.CustomResource[CommandInputs, CommandOutputs]       = (*Command)(nil)
	_ infer.CustomUpdate[CommandInputs, CommandOutputs]         = (*Command)(nil)
	_ infer.CustomDelete[CommandOutputs]                        = (*Command)(nil)
	_ infer.ExplicitDependencies[CommandInputs, CommandOutputs] = (*Command)(nil)
)

// Annotate documents the resource.
func (c *Command) Annotate(a infer.Annotator) {
	a.Describe(&c, "A local command to be executed.\n\n"+
		"This command can be inserted into the life cycles of other resources using the `dependsOn` or `parent`\n"+
		"resource options. A command is considered to have failed when it finished with a non-zero exit code.")
}

// WireDependencies makes every output depend on every input, so that a secret
// input (an environment value, say) makes stdout, stderr, assets and archive secret.
// Outputs that merely echo an input keep that input's own secretness.
func (c *Command) WireDependencies(f infer.FieldSelector, args *CommandInputs, state *CommandOutputs) {
	f.OutputField(state).DependsOn(f.InputField(args))
}

// Create runs `create` (nothing during preview).
func (c *Command) Create(ctx context.Context, req infer.CreateRequest[CommandInputs]) (infer.CreateResponse[CommandOutputs], error) {
	state := CommandOutputs{CommandInputs: req.Inputs}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return infer.CreateResponse[CommandOutputs]{}, err
	}
	if req.DryRun || req.Inputs.Create == nil {
		return infer.CreateResponse[CommandOutputs]{ID: id, Output: state}, nil
	}
	err = run(ctx, *req.Inputs.Create, state.BaseInputs, &state.BaseOutputs, common.EngineSink(ctx))
	return infer.CreateResponse[CommandOutputs]{ID: id, Output: state}, err
}

// Update runs `update`, or `create` when no update command is set.
func (c *Command) Update(ctx context.Context, req infer.UpdateRequest[CommandInputs, CommandOutputs]) (infer.UpdateResponse[CommandOutputs], error) {
	state := CommandOutputs{CommandInputs: req.Inputs, BaseOutputs: req.State.BaseOutputs}
	cmd := req.Inputs.UpdateCommand()
	if req.DryRun || cmd == nil {
		return infer.UpdateResponse[CommandOutputs]{Output: state}, nil
	}
	err := run(ctx, *cmd, state.BaseInputs, &state.BaseOutputs, common.EngineSink(ctx))
	return infer.UpdateResponse[CommandOutputs]{Output: state}, err
}

// Delete runs `delete` if set, with the last stdout/stderr in the environment.
func (c *Command) Delete(ctx context.Context, req infer.DeleteRequest[CommandOutputs]) (infer.DeleteResponse, error) {
	st := req.State
	if st.Delete == nil {
		return infer.DeleteResponse{}, nil
	}
	return infer.DeleteResponse{}, run(ctx, *st.Delete, st.BaseInputs, &st.BaseOutputs, common.EngineSink(ctx))
}
