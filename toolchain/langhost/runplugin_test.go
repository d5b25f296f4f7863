package main

import (
	"reflect"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestPluginArgs(t *testing.T) {
	req := &pulumirpc.RunPluginRequest{
		Args: []string{"--logtostderr", "-v=9", "127.0.0.1:5"},
		Info: &pulumirpc.ProgramInfo{ProgramDirectory: "/packs/p"},
	}
	// run-policy-pack wants <engine> <dir>: the directory goes after the CLI's arguments.
	got := pluginArgs(req, "run-policy-pack.js", true)
	want := []string{"run-policy-pack.js", "--logtostderr", "-v=9", "127.0.0.1:5", "/packs/p"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("policy: %q, want %q", got, want)
	}
	// run-plugin wants the directory first.
	got = pluginArgs(req, "run-plugin.js", false)
	want = []string{"run-plugin.js", "/packs/p", "--logtostderr", "-v=9", "127.0.0.1:5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plugin: %q, want %q", got, want)
	}
}

func TestPolicyEnv(t *testing.T) {
	env, err := policyEnv([]string{"A=1"}, &pulumirpc.AnalyzerStackConfigureRequest{
		Organization:     "org",
		Project:          "proj",
		Stack:            "dev",
		DryRun:           true,
		Config:           map[string]string{"proj:pw": "x"},
		ConfigSecretKeys: []string{"proj:pw"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"A=1",
		"PULUMI_NODEJS_ORGANIZATION=org",
		"PULUMI_NODEJS_PROJECT=proj",
		"PULUMI_NODEJS_STACK=dev",
		"PULUMI_NODEJS_DRY_RUN=true",
		`PULUMI_CONFIG={"proj:pw":"x"}`,
		`PULUMI_CONFIG_SECRET_KEYS=["proj:pw"]`,
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %q, want %q", env, want)
	}

	// No ConfigureStack (e.g. `pulumi policy publish`): nothing is added.
	env, err = policyEnv([]string{"A=1"}, nil)
	if err != nil || !reflect.DeepEqual(env, []string{"A=1"}) {
		t.Errorf("nil stack: %q %v", env, err)
	}
}
