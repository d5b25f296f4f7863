package common

import "github.com/pulumi/pulumi-go-provider/infer"

// ResourceInputs are the lifecycle inputs shared by local.Command and remote.Command.
// Only triggers force a replacement; any other change is an update, which runs
// `update` when set and `create` otherwise (upstream semantics).
type ResourceInputs struct {
	Triggers *[]any  `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Create   *string `pulumi:"create,optional"`
	Update   *string `pulumi:"update,optional"`
	Delete   *string `pulumi:"delete,optional"`
}

// Annotate documents the fields in the schema.
func (c *ResourceInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Triggers, "Trigger a resource replacement on changes to any of these values. The\n"+
		"trigger values can be of any type. If a value is different in the current update compared to the\n"+
		"previous update, the resource will be replaced, i.e., the \"create\" command will be re-run.")
	a.Describe(&c.Create, "The command to run once on resource creation.\n\n"+
		"If an `update` command isn't provided, then `create` will also be run when the resource's inputs are modified.")
	a.Describe(&c.Update, "The command to run when the resource is updated. If empty, the create command will be executed instead.\n"+
		"The environment variables PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR are set to the stdout and stderr\n"+
		"properties of the Command resource from previous create or update steps.")
	a.Describe(&c.Delete, "The command to run on resource deletion. The environment variables PULUMI_COMMAND_STDOUT\n"+
		"and PULUMI_COMMAND_STDERR are set to the stdout and stderr properties of the\n"+
		"Command resource from previous create or update steps.")
}

// UpdateCommand picks the command an update runs: update if set, else create.
func (c *ResourceInputs) UpdateCommand() *string {
	if c.Update != nil {
		return c.Update
	}
	return c.Create
}
