package provider

// Remote tests against a real sshd. They run when CMD_TEST_SSH_HOST is set, e.g.
//   eval "$(./testsshd.sh start)"; go test ./...; ./testsshd.sh stop
// The sshd is expected to be on this machine (files written remotely are checked
// locally) and to AcceptEnv CMDTEST_* and PULUMI_COMMAND_*.

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"golang.org/x/crypto/ssh"
)

type sshEnv struct {
	host, user, key, keyPW, pwKey, hostKey string
	port                                   float64
}

func sshFromEnv(t *testing.T) sshEnv {
	t.Helper()
	host := os.Getenv("CMD_TEST_SSH_HOST")
	if host == "" {
		t.Skip("CMD_TEST_SSH_HOST not set: start ./testsshd.sh for the remote tests")
	}
	read := func(name string) string {
		path := os.Getenv(name)
		if path == "" {
			t.Fatalf("%s not set", name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	port, err := strconv.ParseFloat(os.Getenv("CMD_TEST_SSH_PORT"), 64)
	if err != nil {
		t.Fatal(err)
	}
	return sshEnv{
		host: host, port: port, user: os.Getenv("CMD_TEST_SSH_USER"),
		key:     read("CMD_TEST_SSH_KEY"),
		pwKey:   read("CMD_TEST_SSH_KEY_WITH_PASSPHRASE"),
		keyPW:   strings.TrimSpace(read("CMD_TEST_SSH_KEY_PASSPHRASE_FILE")),
		hostKey: strings.TrimSpace(read("CMD_TEST_SSH_HOSTKEY")),
	}
}

// conn builds a connection the way the SDK sends it: the whole object secret.
func (e sshEnv) conn(extra map[string]property.Value) property.Value {
	m := map[string]property.Value{
		"host":       str(e.host),
		"port":       property.New(e.port),
		"user":       str(e.user),
		"privateKey": str(e.key),
	}
	for k, v := range extra {
		if v.IsNull() {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return obj(m).WithSecret(true)
}

func workDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "cmdprov-remote-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestRemoteCommandLifecycle(t *testing.T) {
	e := sshFromEnv(t)
	s := server(t)
	u := urn("remote", "Command", "r")
	dir := workDir(t)
	marker := filepath.Join(dir, "deleted")
	deleteCmd := str("echo \"deleted after: $PULUMI_COMMAND_STDOUT\" > " + marker)

	in := check(t, s, u, map[string]property.Value{
		"connection":  e.conn(nil),
		"create":      str("echo hi-$CMDTEST_NAME; echo to-stderr >&2"),
		"delete":      deleteCmd,
		"environment": obj(map[string]property.Value{"CMDTEST_NAME": str("one")}),
	})
	c := in.Get("connection")
	if !c.Secret() {
		t.Fatal("connection must be secret after Check")
	}
	if cm := c.AsMap(); cm.Get("dialErrorLimit").AsNumber() != 10 || cm.Get("perDialTimeout").AsNumber() != 15 {
		t.Fatalf("connection defaults not applied: %v", cm)
	}

	prev, err := s.Create(p.CreateRequest{Urn: u, Properties: in, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if so := prev.Properties.Get("stdout"); !so.IsComputed() || so.Secret() {
		t.Fatalf("preview stdout should be unknown and not secret: %v", so)
	}

	created, err := s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	st := created.Properties
	if got := st.Get("stdout"); got.AsString() != "hi-one" || got.Secret() {
		t.Fatalf("stdout %v (want public \"hi-one\")", got)
	}
	if got := st.Get("stderr").AsString(); got != "to-stderr" {
		t.Fatalf("stderr %q", got)
	}
	if !st.Get("connection").Secret() {
		t.Fatal("connection must stay secret in state")
	}

	// No update command: create re-runs, with the previous stdout in the environment.
	in2 := check(t, s, u, map[string]property.Value{
		"connection":  e.conn(nil),
		"create":      str("echo again prev=$PULUMI_COMMAND_STDOUT"),
		"delete":      deleteCmd,
		"environment": obj(map[string]property.Value{"CMDTEST_NAME": str("two")}),
	})
	upd, err := s.Update(p.UpdateRequest{ID: created.ID, Urn: u, State: st, Inputs: in2, OldInputs: in})
	if err != nil {
		t.Fatal(err)
	}
	if got := upd.Properties.Get("stdout").AsString(); got != "again prev=hi-one" {
		t.Fatalf("update stdout %q", got)
	}

	// addPreviousOutputInEnv=false: no PULUMI_COMMAND_STDOUT.
	in3 := check(t, s, u, map[string]property.Value{
		"connection":             e.conn(nil),
		"create":                 str("echo again prev=$PULUMI_COMMAND_STDOUT"),
		"update":                 str("echo updated prev=${PULUMI_COMMAND_STDOUT:-none}"),
		"delete":                 deleteCmd,
		"addPreviousOutputInEnv": property.New(false),
	})
	upd3, err := s.Update(p.UpdateRequest{ID: created.ID, Urn: u, State: upd.Properties, Inputs: in3, OldInputs: in2})
	if err != nil {
		t.Fatal(err)
	}
	if got := upd3.Properties.Get("stdout").AsString(); got != "updated prev=none" {
		t.Fatalf("update cmd stdout %q", got)
	}

	// Back on: the update command sees the previous stdout.
	in4 := check(t, s, u, map[string]property.Value{
		"connection": e.conn(nil),
		"create":     str("echo again"),
		"update":     str("echo updated prev=${PULUMI_COMMAND_STDOUT:-none}"),
		"delete":     deleteCmd,
	})
	upd4, err := s.Update(p.UpdateRequest{ID: created.ID, Urn: u, State: upd3.Properties, Inputs: in4, OldInputs: in3})
	if err != nil {
		t.Fatal(err)
	}
	if got := upd4.Properties.Get("stdout").AsString(); got != "updated prev=updated prev=none" {
		t.Fatalf("update cmd stdout %q", got)
	}

	if err := s.Delete(p.DeleteRequest{ID: created.ID, Urn: u, Properties: upd4.Properties}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "deleted after: updated prev=updated prev=none" {
		t.Fatalf("delete saw %q", got)
	}
}

func TestRemoteSecretsAndStdin(t *testing.T) {
	e := sshFromEnv(t)
	s := server(t)
	u := urn("remote", "Command", "sec")
	in := check(t, s, u, map[string]property.Value{
		"connection": e.conn(nil),
		"create":     str("cat; echo").WithSecret(true),
		"stdin":      str("from-stdin"),
	})
	created, err := s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	so := created.Properties.Get("stdout")
	if !so.Secret() || so.AsString() != "from-stdin" {
		t.Fatalf("stdout %v: should be secret \"from-stdin\"", so)
	}
	if !created.Properties.Get("create").Secret() {
		t.Fatal("create stays secret")
	}

	in = check(t, s, u, map[string]property.Value{
		"connection":  e.conn(nil),
		"create":      str("echo $CMDTEST_TOKEN | wc -c"),
		"environment": obj(map[string]property.Value{"CMDTEST_TOKEN": str("hunter2").WithSecret(true)}),
		"logging":     str("none"),
	})
	created, err = s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	if !created.Properties.Get("stdout").Secret() || !created.Properties.Get("environment").HasSecrets() {
		t.Fatalf("secret environment value must make stdout secret and stay secret: %v", created.Properties)
	}
	if strings.TrimSpace(created.Properties.Get("stdout").AsString()) != "8" {
		t.Fatalf("env not passed: %v", created.Properties.Get("stdout"))
	}
}

func TestRemoteEnvironmentRefused(t *testing.T) {
	e := sshFromEnv(t)
	s := server(t)
	u := urn("remote", "Command", "env")
	in := check(t, s, u, map[string]property.Value{
		"connection":  e.conn(nil),
		"create":      str("true"),
		"environment": obj(map[string]property.Value{"NOT_ACCEPTED": str("x")}),
	})
	_, err := s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err == nil || !strings.Contains(err.Error(), "NOT_ACCEPTED") {
		t.Fatalf("a variable the server does not AcceptEnv must fail (as upstream): %v", err)
	}
}

func create(t *testing.T, s integration.Server, mod, typ string, in map[string]property.Value) (p.CreateResponse, error) {
	t.Helper()
	u := urn(mod, typ, "x")
	return s.Create(p.CreateRequest{Urn: u, Properties: check(t, s, u, in)})
}

func TestRemoteAuthAndHostKey(t *testing.T) {
	e := sshFromEnv(t)
	s := server(t)
	run := func(conn property.Value) (string, error) {
		r, err := create(t, s, "remote", "Command", map[string]property.Value{"connection": conn, "create": str("echo ok")})
		if err != nil {
			return "", err
		}
		return r.Properties.Get("stdout").AsString(), nil
	}
	// Pinned host key (the server's ed25519 .pub line).
	if out, err := run(e.conn(map[string]property.Value{"hostKey": str(e.hostKey)})); err != nil || out != "ok" {
		t.Fatalf("pinned host key: %q %v", out, err)
	}
	// The RSA host key too: the client must ask for that key type.
	rsaPub, err := os.ReadFile(strings.Replace(os.Getenv("CMD_TEST_SSH_HOSTKEY"), "ed25519", "rsa", 1))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(e.conn(map[string]property.Value{"hostKey": str(string(rsaPub))})); err != nil || out != "ok" {
		t.Fatalf("pinned rsa host key: %q %v", out, err)
	}
	// A different pinned key is refused at once, not retried.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	wrong := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other)))
	start := time.Now()
	_, err = run(e.conn(map[string]property.Value{"hostKey": str(wrong)}))
	if err == nil || !strings.Contains(err.Error(), "host key mismatch") {
		t.Fatalf("wrong host key: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("host key mismatch was retried (%v)", time.Since(start))
	}
	// Passphrase-protected RSA key.
	if out, err := run(e.conn(map[string]property.Value{
		"privateKey": str(e.pwKey), "privateKeyPassword": str(e.keyPW),
	})); err != nil || out != "ok" {
		t.Fatalf("passphrase key: %q %v", out, err)
	}
	// Refused login: fails after dialErrorLimit attempts.
	t.Setenv("SSH_AUTH_SOCK", "")
	_, err = run(e.conn(map[string]property.Value{"user": str("nobody-here"), "dialErrorLimit": property.New(1.0)}))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("bad user: %v", err)
	}
	// Through a bastion (the same sshd, forwarding to itself).
	proxy := obj(map[string]property.Value{
		"host": str(e.host), "port": property.New(e.port), "user": str(e.user), "privateKey": str(e.key),
		"hostKey": str(e.hostKey),
	})
	if out, err := run(e.conn(map[string]property.Value{"proxy": proxy})); err != nil || out != "ok" {
		t.Fatalf("via proxy: %q %v", out, err)
	}
}

func TestCopyToRemote(t *testing.T) {
	e := sshFromEnv(t)
	s := server(t)
	local := t.TempDir()
	remote := workDir(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(local, "file.txt"), []byte("file-content"), 0o644))
	must(os.MkdirAll(filepath.Join(local, "tree", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(local, "tree", "a.txt"), []byte("A"), 0o644))
	must(os.WriteFile(filepath.Join(local, "tree", "sub", "run.sh"), []byte("#!/bin/sh\n"), 0o755))

	fileAsset, err := resource.NewPathAsset(filepath.Join(local, "file.txt"))
	must(err)
	_, err = create(t, s, "remote", "CopyToRemote", map[string]property.Value{
		"connection": e.conn(nil), "source": property.New(fileAsset), "remotePath": str(remote),
	})
	must(err)
	b, err := os.ReadFile(filepath.Join(remote, "file.txt"))
	if err != nil || string(b) != "file-content" {
		t.Fatalf("file into existing dir: %q %v", b, err)
	}

	treeArchive, err := resource.NewPathArchive(filepath.Join(local, "tree"))
	must(err)
	_, err = create(t, s, "remote", "CopyToRemote", map[string]property.Value{
		"connection": e.conn(nil), "source": property.New(treeArchive), "remotePath": str(filepath.Join(remote, "dest")),
	})
	must(err)
	b, err = os.ReadFile(filepath.Join(remote, "dest", "tree", "a.txt"))
	if err != nil || string(b) != "A" {
		t.Fatalf("dir copy: %q %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(remote, "dest", "tree", "sub", "run.sh"))
	if err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Fatalf("nested executable: %v %v", fi, err)
	}

	text, err := resource.NewTextAsset("text-content")
	must(err)
	_, err = create(t, s, "remote", "CopyToRemote", map[string]property.Value{
		"connection": e.conn(nil), "source": property.New(text), "remotePath": str(filepath.Join(remote, "t.txt")),
	})
	must(err)
	b, err = os.ReadFile(filepath.Join(remote, "t.txt"))
	if err != nil || string(b) != "text-content" {
		t.Fatalf("text asset: %q %v", b, err)
	}

	// Update re-copies only when the content hash or the path changed.
	u := urn("remote", "CopyToRemote", "x")
	oldIn := check(t, s, u, map[string]property.Value{"connection": e.conn(nil), "source": property.New(text), "remotePath": str(filepath.Join(remote, "t.txt"))})
	created, err := s.Create(p.CreateRequest{Urn: u, Properties: oldIn})
	must(err)
	text2, err := resource.NewTextAsset("changed")
	must(err)
	newIn := check(t, s, u, map[string]property.Value{"connection": e.conn(nil), "source": property.New(text2), "remotePath": str(filepath.Join(remote, "t.txt"))})
	_, err = s.Update(p.UpdateRequest{ID: created.ID, Urn: u, State: created.Properties, Inputs: newIn, OldInputs: oldIn})
	must(err)
	b, _ = os.ReadFile(filepath.Join(remote, "t.txt"))
	if string(b) != "changed" {
		t.Fatalf("update did not re-copy: %q", b)
	}

	// A source that is neither path-based nor text is refused by Check.
	bad := map[string]property.Value{"connection": e.conn(nil), "source": str("not-an-asset"), "remotePath": str(remote)}
	resp, err := s.Check(p.CheckRequest{Urn: u, Inputs: property.NewMap(bad)})
	if err == nil && len(resp.Failures) == 0 {
		t.Fatal("a string source must be refused")
	}
}
