package remote

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pkg/sftp"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi-go-provider/infer/types"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// CopyToRemote is command:remote:CopyToRemote: it uploads a file or directory
// (a path-based asset or archive, or a text asset) over SFTP.
type CopyToRemote struct{}

// CopyToRemoteInputs are the resource's inputs.
type CopyToRemoteInputs struct {
	Connection *Connection          `pulumi:"connection" provider:"secret"`
	Triggers   *[]any               `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Source     types.AssetOrArchive `pulumi:"source"`
	RemotePath string               `pulumi:"remotePath"`
}

// Annotate documents the inputs.
func (c *CopyToRemoteInputs) Annotate(a infer.Annotator) {
	a.Describe(&c.Connection, "The parameters with which to connect to the remote host.")
	a.Describe(&c.Triggers, "Trigger replacements on changes to this input.")
	a.Describe(&c.Source, "An asset or an archive to upload as the source of the copy. It must be path-based "+
		"(a FileAsset or a FileArchive) or a StringAsset. Archives like .tgz are copied as-is, not unpacked. "+
		"Directories are copied recursively, overwriting existing files.")
	a.Describe(&c.RemotePath, "The destination path on the remote host. The last element of the path will be created "+
		"if it doesn't exist but it's an error when additional elements don't exist. When the remote path is an "+
		"existing directory, the source file or directory will be copied into that directory. When the source is a "+
		"file and the remote path is an existing file, that file will be overwritten. When the source is a directory "+
		"and the remote path an existing file, the copy will fail.")
}

// CopyToRemoteOutputs are the resource's state (its inputs).
type CopyToRemoteOutputs struct {
	CopyToRemoteInputs
}

var (
	_ infer.CustomResource[CopyToRemoteInputs, CopyToRemoteOutputs] = (*CopyToRemote)(nil)
	_ infer.CustomCheck[CopyToRemoteInputs]                         = (*CopyToRemote)(nil)
	_ infer.CustomUpdate[CopyToRemoteInputs, CopyToRemoteOutputs]   = (*CopyToRemote)(nil)
)

// Annotate documents the resource.
func (c *CopyToRemote) Annotate(a infer.Annotator) {
	a.Describe(&c, "Copy an Asset or Archive to a remote host.")
}

// Check validates the source.
func (c *CopyToRemote) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[CopyToRemoteInputs], error) {
	in, failures, err := infer.DefaultCheck[CopyToRemoteInputs](ctx, req.NewInputs)
	if err != nil {
		return infer.CheckResponse[CopyToRemoteInputs]{Inputs: in, Failures: failures}, err
	}
	if len(failures) > 0 || req.NewInputs.Get("source").HasComputed() {
		// Nothing to validate yet: already failed, or the source is unknown in a preview.
		return infer.CheckResponse[CopyToRemoteInputs]{Inputs: in, Failures: failures}, nil
	}
	failures = append(failures, validateSource(in.Source)...)
	return infer.CheckResponse[CopyToRemoteInputs]{Inputs: in, Failures: failures}, nil
}

func validateSource(s types.AssetOrArchive) []p.CheckFailure {
	var f []p.CheckFailure
	switch {
	case s.Asset != nil && s.Archive != nil:
		f = append(f, p.CheckFailure{Property: "source", Reason: "only one of asset or archive can be set"})
	case s.Asset == nil && s.Archive == nil:
		f = append(f, p.CheckFailure{Property: "source", Reason: "either an asset or an archive must be set"})
	case s.Asset != nil && !s.Asset.IsPath() && !s.Asset.IsText():
		f = append(f, p.CheckFailure{Property: "source", Reason: "asset must be a path-based file asset or a text asset"})
	case s.Archive != nil && !s.Archive.IsPath():
		f = append(f, p.CheckFailure{Property: "source", Reason: "archive must be a path to a file or directory"})
	}
	return f
}

// Create uploads the source (nothing during preview).
func (*CopyToRemote) Create(ctx context.Context, req infer.CreateRequest[CopyToRemoteInputs]) (infer.CreateResponse[CopyToRemoteOutputs], error) {
	out := CopyToRemoteOutputs{req.Inputs}
	id, err := resource.NewUniqueHex(req.Name, 8, 0)
	if err != nil {
		return infer.CreateResponse[CopyToRemoteOutputs]{}, err
	}
	if req.DryRun {
		return infer.CreateResponse[CopyToRemoteOutputs]{ID: id, Output: out}, nil
	}
	if err := upload(ctx, req.Inputs); err != nil {
		return infer.CreateResponse[CopyToRemoteOutputs]{}, err
	}
	return infer.CreateResponse[CopyToRemoteOutputs]{ID: id, Output: out}, nil
}

// Update uploads again when the source's content hash or the remote path changed.
func (*CopyToRemote) Update(ctx context.Context, req infer.UpdateRequest[CopyToRemoteInputs, CopyToRemoteOutputs]) (infer.UpdateResponse[CopyToRemoteOutputs], error) {
	out := CopyToRemoteOutputs{req.Inputs}
	if req.DryRun {
		return infer.UpdateResponse[CopyToRemoteOutputs]{Output: out}, nil
	}
	if sourceHash(req.Inputs.Source) != sourceHash(req.State.Source) || req.Inputs.RemotePath != req.State.RemotePath {
		if err := upload(ctx, req.Inputs); err != nil {
			return infer.UpdateResponse[CopyToRemoteOutputs]{Output: CopyToRemoteOutputs{req.State.CopyToRemoteInputs}}, err
		}
	}
	return infer.UpdateResponse[CopyToRemoteOutputs]{Output: out}, nil
}

func sourceHash(s types.AssetOrArchive) string {
	if s.Archive != nil {
		return s.Archive.Hash
	}
	if s.Asset != nil {
		return s.Asset.Hash
	}
	return ""
}

func upload(ctx context.Context, in CopyToRemoteInputs) error {
	client, closeConn, err := in.Connection.Dial(ctx)
	if err != nil {
		return err
	}
	defer closeConn()
	sc, err := sftp.NewClient(client)
	if err != nil {
		return fmt.Errorf("starting sftp: %w", err)
	}
	defer sc.Close()

	if in.Source.Asset != nil && in.Source.Asset.IsText() {
		p.GetLogger(ctx).Debugf("copying text asset to %s", in.RemotePath)
		return copyText(sc, in.Source.Asset.Text, in.RemotePath)
	}
	src := ""
	if in.Source.Asset != nil {
		src = in.Source.Asset.Path
	} else if in.Source.Archive != nil {
		src = in.Source.Archive.Path
	}
	if src == "" {
		return errors.New("source must be a path-based asset or archive, or a text asset")
	}
	p.GetLogger(ctx).Debugf("copying %s to %s", src, in.RemotePath)
	return copyPath(sc, src, in.RemotePath)
}

func remoteStat(sc *sftp.Client, p string) (fs.FileInfo, error) {
	fi, err := sc.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("stat %s on remote: %w", p, err)
	}
	return fi, nil
}

func copyText(sc *sftp.Client, text, dest string) error {
	fi, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if fi != nil && fi.IsDir() {
		return fmt.Errorf("remote path %s is a directory; with a text asset, remotePath must be a file path", dest)
	}
	f, err := sc.Create(dest)
	if err != nil {
		return fmt.Errorf("creating remote file %s: %w", dest, err)
	}
	if _, err := f.Write([]byte(text)); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing remote file %s: %w", dest, err)
	}
	return f.Close()
}

// copyPath copies a local file or directory (dest is created when missing):
//
//	source | dest is a dir or missing | dest is a file
//	dir    | dest/<base(dir)>/...     | error
//	dir/   | dest/...                 | error
//	file   | dest/<base(file)> (dir)  | dest (overwritten); missing: dest
func copyPath(sc *sftp.Client, src, dest string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	destInfo, err := remoteStat(sc, dest)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		if destInfo != nil && destInfo.IsDir() {
			dest = path.Join(dest, filepath.Base(src))
		}
		return copyFile(sc, src, dest, info.Mode())
	}
	if destInfo != nil && !destInfo.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dest)
	}
	if destInfo == nil {
		if err := sc.Mkdir(dest); err != nil {
			return fmt.Errorf("creating remote directory %s: %w", dest, err)
		}
	}
	if !strings.HasSuffix(src, "/") {
		dest = path.Join(dest, filepath.Base(src))
	}
	return fs.WalkDir(os.DirFS(src), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := path.Join(dest, rel)
		if !d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			return copyFile(sc, filepath.Join(src, filepath.FromSlash(rel)), target, fi.Mode())
		}
		ti, err := remoteStat(sc, target)
		if err != nil {
			return err
		}
		if ti == nil {
			if err := sc.Mkdir(target); err != nil {
				return fmt.Errorf("creating remote directory %s: %w", target, err)
			}
		} else if !ti.IsDir() {
			return fmt.Errorf("remote path %s exists but is not a directory", target)
		}
		return nil
	})
}

func copyFile(sc *sftp.Client, src, dest string, mode fs.FileMode) error {
	local, err := os.Open(src)
	if err != nil {
		return err
	}
	defer local.Close()
	remote, err := sc.Create(dest)
	if err != nil {
		return fmt.Errorf("creating remote file %s: %w", dest, err)
	}
	if _, err := remote.ReadFrom(local); err != nil {
		_ = remote.Close()
		return fmt.Errorf("copying %s to remote %s: %w", src, dest, err)
	}
	if err := remote.Close(); err != nil {
		return err
	}
	// Keep the executable bits, like scp does.
	if mode&0o111 != 0 {
		_ = sc.Chmod(dest, mode.Perm())
	}
	return nil
}
