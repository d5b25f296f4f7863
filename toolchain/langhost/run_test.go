package main

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestRunArgs(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1",
		Organization:   "org",
		Project:        "proj",
		Stack:          "dev",
		DryRun:         true,
		Parallel:       16,
		Args:           []string{"extra", "--flag"},
		Info: &pulumirpc.ProgramInfo{
			RootDirectory:    "/p",
			ProgramDirectory: "/p/src",
			EntryPoint:       "main.ts",
		},
	}
	got := runArgs(req, "/p/node_modules/@pulumi/pulumi/cmd/run/index.js", "127.0.0.1:2", "http://zipkin")
	want := []string{
		"/p/node_modules/@pulumi/pulumi/cmd/run/index.js",
		"--monitor", "127.0.0.1:1",
		"--engine", "127.0.0.1:2",
		"--organization", "org",
		"--project", "proj",
		"--root-directory", "/p",
		"--stack", "dev",
		"--pwd", "/p/src",
		"--dry-run",
		"--parallel", "16",
		"--tracing", "http://zipkin",
		"main.ts", "extra", "--flag",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runArgs =\n%q\nwant\n%q", got, want)
	}
}

func TestRunArgsMinimal(t *testing.T) {
	req := &pulumirpc.RunRequest{MonitorAddress: "m", Info: &pulumirpc.ProgramInfo{ProgramDirectory: "/p"}}
	got := runArgs(req, "run.js", "", "")
	// No engine, no dry run, no tracing; the entry point defaults to the program directory.
	want := []string{"run.js", "--monitor", "m", "--pwd", "/p", "--parallel", "0", "."}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runArgs = %q, want %q", got, want)
	}
}

func TestRunEnv(t *testing.T) {
	req := &pulumirpc.RunRequest{
		Config:           map[string]string{"proj:pw": "s3cr3t", "aws:region": "eu-west-1"},
		ConfigSecretKeys: []string{"proj:pw"},
	}
	env, err := runEnv([]string{"PATH=/bin"}, req, nodeOptions{typescript: true, tsconfig: "tsconfig.pulumi.json"})
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var cfg map[string]string
	if err := json.Unmarshal([]byte(vars["PULUMI_CONFIG"]), &cfg); err != nil {
		t.Fatal(err)
	}
	wantCfg := map[string]string{"proj:config:pw": "s3cr3t", "aws:config:region": "eu-west-1"}
	if !reflect.DeepEqual(cfg, wantCfg) {
		t.Errorf("PULUMI_CONFIG = %v, want %v", cfg, wantCfg)
	}
	if vars["PULUMI_CONFIG_SECRET_KEYS"] != `["proj:pw"]` {
		t.Errorf("PULUMI_CONFIG_SECRET_KEYS = %s", vars["PULUMI_CONFIG_SECRET_KEYS"])
	}
	if vars["PULUMI_NODEJS_TYPESCRIPT"] != "true" || vars["PULUMI_NODEJS_TSCONFIG_PATH"] != "tsconfig.pulumi.json" {
		t.Errorf("typescript env missing: %v", env)
	}
	if vars["PATH"] != "/bin" {
		t.Errorf("base environment lost: %v", env)
	}
}

func TestRunEnvEmptyAndPlainJS(t *testing.T) {
	env, err := runEnv(nil, &pulumirpc.RunRequest{}, nodeOptions{typescript: false})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PULUMI_CONFIG={}", "PULUMI_CONFIG_SECRET_KEYS=[]"}
	if !reflect.DeepEqual(env, want) {
		t.Fatalf("env = %q, want %q", env, want)
	}
}

func TestRunEnvRejectsBadConfigKey(t *testing.T) {
	_, err := runEnv(nil, &pulumirpc.RunRequest{Config: map[string]string{"nonamespace": "x"}}, nodeOptions{})
	if err == nil {
		t.Fatal("expected an error for a config key without a namespace")
	}
}

func TestRunResult(t *testing.T) {
	exit := func(code string) error { return exec.Command("sh", "-c", "exit "+code).Run() }

	if r := runResult(nil); r.Error != "" || r.Bail {
		t.Errorf("success: %+v", r)
	}
	// 32: the program already reported its error to the engine; bail without another message.
	if r := runResult(exit("32")); r.Error != "" || !r.Bail {
		t.Errorf("exit 32: %+v", r)
	}
	if r := runResult(exit("3")); r.Bail || r.Error != "Program exited with non-zero exit code: 3" {
		t.Errorf("exit 3: %+v", r)
	}
	if r := runResult(exec.Command("/nonexistent/node").Run()); r.Bail || !strings.Contains(r.Error, "could not run") {
		t.Errorf("start failure: %+v", r)
	}
	if r := runResult(exec.Command("sh", "-c", "kill -KILL $$").Run()); !strings.Contains(r.Error, "unexpectedly") {
		t.Errorf("killed: %+v", r)
	}
}
