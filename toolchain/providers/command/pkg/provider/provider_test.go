package provider

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

func server(t *testing.T) integration.Server {
	t.Helper()
	prov, err := New()
	if err != nil {
		t.Fatal(err)
	}
	s, err := integration.NewServer(context.Background(), Name, semver.MustParse("1.2.1"), integration.WithProvider(prov))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func urn(mod, typ, name string) presource.URN {
	return presource.NewURN("test", "proj", "", tokens.Type("command:"+mod+":"+typ), name)
}

func str(s string) property.Value { return property.New(s) }

func obj(kv map[string]property.Value) property.Value { return property.New(property.NewMap(kv)) }

// check runs Check like the engine does before Create/Update.
func check(t *testing.T, s integration.Server, u presource.URN, in map[string]property.Value) property.Map {
	t.Helper()
	resp, err := s.Check(p.CheckRequest{Urn: u, Inputs: property.NewMap(in)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Failures) > 0 {
		t.Fatalf("check failures: %+v", resp.Failures)
	}
	return resp.Inputs
}

func TestSchemaServesSDKTokens(t *testing.T) {
	resp, err := server(t).GetSchema(p.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Name      string                    `json:"name"`
		Resources map[string]map[string]any `json:"resources"`
		Functions map[string]any            `json:"functions"`
		Types     map[string]any            `json:"types"`
	}
	if err := json.Unmarshal([]byte(resp.Schema), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Name != "command" {
		t.Fatalf("name %q", spec.Name)
	}
	for _, tk := range []string{"command:local:Command", "command:remote:Command", "command:remote:CopyToRemote", "command:remote:CopyFile"} {
		if _, ok := spec.Resources[tk]; !ok {
			t.Errorf("missing resource %s", tk)
		}
	}
	if _, ok := spec.Functions["command:local:run"]; !ok {
		t.Error("missing function command:local:run")
	}
	for _, tk := range []string{"command:remote:Connection", "command:remote:ProxyConnection", "command:local:Logging", "command:remote:Logging"} {
		if _, ok := spec.Types[tk]; !ok {
			t.Errorf("missing type %s", tk)
		}
	}
	// Property names the SDK sends (node_modules/@pulumi/command/{local,remote}/*.js).
	want := map[string][]string{
		"command:local:Command":       {"addPreviousOutputInEnv", "archivePaths", "assetPaths", "create", "delete", "dir", "environment", "interpreter", "logging", "stdin", "triggers", "update"},
		"command:remote:Command":      {"addPreviousOutputInEnv", "connection", "create", "delete", "environment", "logging", "stdin", "triggers", "update"},
		"command:remote:CopyToRemote": {"connection", "remotePath", "source", "triggers"},
		"command:remote:CopyFile":     {"connection", "localPath", "remotePath", "triggers"},
	}
	for tk, props := range want {
		in, _ := spec.Resources[tk]["inputProperties"].(map[string]any)
		for _, prop := range props {
			if _, ok := in[prop]; !ok {
				t.Errorf("%s lacks input %s", tk, prop)
			}
		}
	}
}

func TestLocalCommandLifecycle(t *testing.T) {
	s := server(t)
	u := urn("local", "Command", "c")
	dir := t.TempDir()
	marker := filepath.Join(dir, "deleted")

	in := check(t, s, u, map[string]property.Value{
		"create":      str("echo created-$NAME; echo warn >&2"),
		"delete":      str("echo \"stdout was: $PULUMI_COMMAND_STDOUT\" > " + marker),
		"environment": obj(map[string]property.Value{"NAME": str("one")}),
		"dir":         str(dir),
	})
	if !in.Get("addPreviousOutputInEnv").AsBool() {
		t.Fatal("addPreviousOutputInEnv defaults to true")
	}

	// Preview: nothing runs, stdout/stderr unknown.
	prev, err := s.Create(p.CreateRequest{Urn: u, Properties: in, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !prev.Properties.Get("stdout").IsComputed() || !prev.Properties.Get("stderr").IsComputed() {
		t.Fatalf("preview outputs should be unknown: %v", prev.Properties)
	}

	created, err := s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	st := created.Properties
	if got := st.Get("stdout").AsString(); got != "created-one" {
		t.Fatalf("stdout %q", got)
	}
	if got := st.Get("stderr").AsString(); got != "warn" {
		t.Fatalf("stderr %q", got)
	}

	// A change of create is an update (upstream): no replace.
	newIn := check(t, s, u, map[string]property.Value{
		"create":      str("echo again-$NAME prev=$PULUMI_COMMAND_STDOUT"),
		"delete":      str("echo \"stdout was: $PULUMI_COMMAND_STDOUT\" > " + marker),
		"environment": obj(map[string]property.Value{"NAME": str("two")}),
		"dir":         str(dir),
	})
	d, err := s.Diff(p.DiffRequest{ID: created.ID, Urn: u, State: st, Inputs: newIn, OldInputs: in})
	if err != nil {
		t.Fatal(err)
	}
	if !d.HasChanges {
		t.Fatal("expected changes")
	}
	for k, v := range d.DetailedDiff {
		if strings.Contains(string(v.Kind), "replace") {
			t.Fatalf("%s should not replace: %v", k, v.Kind)
		}
	}

	// Update without `update` re-runs create, with the previous stdout in the env.
	upd, err := s.Update(p.UpdateRequest{ID: created.ID, Urn: u, State: st, Inputs: newIn, OldInputs: in})
	if err != nil {
		t.Fatal(err)
	}
	if got := upd.Properties.Get("stdout").AsString(); got != "again-two prev=created-one" {
		t.Fatalf("update stdout %q", got)
	}

	// Update with `update` runs update, not create.
	in3 := check(t, s, u, map[string]property.Value{
		"create":      str("echo again-$NAME prev=$PULUMI_COMMAND_STDOUT"),
		"update":      str("echo updated"),
		"delete":      str("echo \"stdout was: $PULUMI_COMMAND_STDOUT\" > " + marker),
		"environment": obj(map[string]property.Value{"NAME": str("two")}),
		"dir":         str(dir),
	})
	upd3, err := s.Update(p.UpdateRequest{ID: created.ID, Urn: u, State: upd.Properties, Inputs: in3, OldInputs: newIn})
	if err != nil {
		t.Fatal(err)
	}
	if got := upd3.Properties.Get("stdout").AsString(); got != "updated" {
		t.Fatalf("update cmd stdout %q", got)
	}

	// Update preview runs nothing and keeps stdout unknown since inputs changed.
	updPrev, err := s.Update(p.UpdateRequest{ID: created.ID, Urn: u, State: upd3.Properties, Inputs: newIn, OldInputs: in3, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !updPrev.Properties.Get("stdout").IsComputed() {
		t.Fatalf("update preview stdout should be unknown: %v", updPrev.Properties.Get("stdout"))
	}

	// Delete runs delete with the last stdout.
	if err := s.Delete(p.DeleteRequest{ID: created.ID, Urn: u, Properties: upd3.Properties}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != "stdout was: updated" {
		t.Fatalf("delete saw %q", b)
	}
}

func TestLocalTriggersReplace(t *testing.T) {
	s := server(t)
	u := urn("local", "Command", "t")
	old := check(t, s, u, map[string]property.Value{
		"create":   str("true"),
		"triggers": property.New(property.NewArray([]property.Value{str("a")})),
	})
	created, err := s.Create(p.CreateRequest{Urn: u, Properties: old})
	if err != nil {
		t.Fatal(err)
	}
	news := check(t, s, u, map[string]property.Value{
		"create":   str("true"),
		"triggers": property.New(property.NewArray([]property.Value{str("b")})),
	})
	d, err := s.Diff(p.DiffRequest{ID: created.ID, Urn: u, State: created.Properties, Inputs: news, OldInputs: old})
	if err != nil {
		t.Fatal(err)
	}
	replace := false
	for _, v := range d.DetailedDiff {
		replace = replace || strings.Contains(string(v.Kind), "replace")
	}
	if !d.HasChanges || !replace {
		t.Fatalf("triggers change must replace: %+v", d)
	}
}

func TestLocalSecretsFlow(t *testing.T) {
	s := server(t)
	u := urn("local", "Command", "s")
	in := check(t, s, u, map[string]property.Value{
		"create":      str("echo $TOKEN"),
		"environment": obj(map[string]property.Value{"TOKEN": str("hunter2").WithSecret(true)}),
	})
	created, err := s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	st := created.Properties
	for _, k := range []string{"stdout", "stderr", "environment"} {
		if !st.Get(k).HasSecrets() {
			t.Errorf("%s should be secret: %v", k, st.Get(k))
		}
	}
	if st.Get("create").HasSecrets() {
		t.Error("create was not secret and should stay public")
	}

	// Nothing secret in: nothing secret out.
	plain := check(t, s, u, map[string]property.Value{"create": str("echo hi")})
	created, err = s.Create(p.CreateRequest{Urn: u, Properties: plain})
	if err != nil {
		t.Fatal(err)
	}
	if created.Properties.Get("stdout").HasSecrets() {
		t.Error("stdout should be public")
	}
}

func TestLocalFailureAndLoggingNone(t *testing.T) {
	s := server(t)
	u := urn("local", "Command", "f")
	in := check(t, s, u, map[string]property.Value{
		"create":  str("echo partial; exit 3"),
		"logging": str("none"),
	})
	_, err := s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "partial") {
		t.Fatalf("want failure with output, got %v", err)
	}
}

func TestLocalInterpreterStdinAssets(t *testing.T) {
	s := server(t)
	u := urn("local", "Command", "a")
	dir := t.TempDir()
	in := check(t, s, u, map[string]property.Value{
		"create":       str("tr a-z A-Z > out.txt; echo ok-$BASH_VERSINFO"),
		"interpreter":  property.New(property.NewArray([]property.Value{str("/bin/bash"), str("-c")})),
		"stdin":        str("abc"),
		"dir":          str(dir),
		"assetPaths":   property.New(property.NewArray([]property.Value{str("*.txt")})),
		"archivePaths": property.New(property.NewArray([]property.Value{str("**")})),
	})
	created, err := s.Create(p.CreateRequest{Urn: u, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	if so := created.Properties.Get("stdout").AsString(); !strings.HasPrefix(so, "ok-") || so == "ok-" {
		t.Fatalf("stdout %v", created.Properties.Get("stdout"))
	}
	assets := created.Properties.Get("assets")
	if !assets.IsMap() || !assets.AsMap().Get("out.txt").IsAsset() {
		t.Fatalf("assets %v", assets)
	}
	if a := assets.AsMap().Get("out.txt").AsAsset(); a.Path == "" || a.Hash == "" {
		t.Fatalf("asset %+v", a)
	}
	if ar := created.Properties.Get("archive"); !ar.IsArchive() || len(ar.AsArchive().Assets) != 1 {
		t.Fatalf("archive %v", ar)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out.txt"))
	if string(b) != "ABC" {
		t.Fatalf("stdin not passed: %q", b)
	}
}

func TestLocalRunInvoke(t *testing.T) {
	resp, err := server(t).Invoke(p.InvokeRequest{
		Token: "command:local:run",
		Args: property.NewMap(map[string]property.Value{
			"command":     str("echo \"Hello, $WHO!\""),
			"environment": obj(map[string]property.Value{"WHO": str("World")}),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Failures) > 0 {
		t.Fatalf("%+v", resp.Failures)
	}
	if got := resp.Return.Get("stdout").AsString(); got != "Hello, World!" {
		t.Fatalf("stdout %q", got)
	}
	if resp.Return.Get("command").AsString() == "" {
		t.Fatal("command echoed back")
	}
}
