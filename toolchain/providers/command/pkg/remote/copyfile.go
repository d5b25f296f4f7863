package remote

import (
	"context"
	"fmt"
	"os"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// CopyFile is the deprecated command:remote:CopyFile: one local file to a remote
// path. It has no update, so any change replaces it.
type CopyFile struct{}

// CopyFileInputs are the resource's inputs.
type CopyFileInputs struct {
	Connection *Connection `pulumi:"connection" provider:"secret"`
	Triggers   *[]any      `pulumi:"triggers,optional"`
	LocalPath  string      `pulumi:"localPath"`
	RemotePath string      `pulumi:"remotePath"`
}

// Annotate documents the inputs.
func (c *CopyFileInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Connection, "The parameters with which to connect to the remote host.")
	a.Describe(&c.Triggers, "Trigger replacements on changes to this input.")
	a.Describe(&c.LocalPath, "The path of the file to be copied.")
	a.Describe(&c.RemotePath, "The destination path in the remote host.")
}

// CopyFileOutputs are the resource's state.
type CopyFileOutputs struct {
	CopyFileInputs
}

// Annotate documents the resource.
func (c *CopyFile) Annotate(a infer.Annotator) {
	a.Describe(&c, "Copy a local file to a remote host.")
	a.Deprecate(&c, "This resource is deprecated and will be removed in a future release. Please use the `CopyToRemote` resource instead.")
}

// Create copies the file (nothing during preview).
func (*CopyFile) Create(ctx context.Context, req infer.CreateRequest[CopyFileInputs]) (infer.CreateResponse[CopyFileOutputs], error) {
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return infer.CreateResponse[CopyFileOutputs]{}, err
	}
	out := CopyFileOutputs{req.Inputs}
	if req.DryRun {
		return infer.CreateResponse[CopyFileOutputs]{ID: id, Output: out}, nil
	}
	client, closeConn, err := req.Inputs.Connection.Dial(ctx)
	if err != nil {
		return infer.CreateResponse[CopyFileOutputs]{}, err
	}
	defer closeConn()
	sc, err := sftp.NewClient(client)
	if err != nil {
		return infer.CreateResponse[CopyFileOutputs]{}, fmt.Errorf("starting sftp: %w", err)
	}
	defer sc.Close()
	fi, err := os.Stat(req.Inputs.LocalPath)
	if err != nil {
		return infer.CreateResponse[CopyFileOutputs]{}, err
	}
	if err := copyFile(sc, req.Inputs.LocalPath, req.Inputs.RemotePath, fi.Mode()); err != nil {
		return infer.CreateResponse[CopyFileOutputs]{}, err
	}
	return infer.CreateResponse[CopyFileOutputs]{ID: id, Output: out}, nil
}
