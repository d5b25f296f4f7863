package main

import (
	"reflect"
	"testing"
)

func TestParseOptions(t *testing.T) {
	opts, err := parseOptions(nil, true)
	if err != nil || !opts.typescript || opts.packageManager != "auto" {
		t.Fatalf("defaults: %+v %v", opts, err)
	}

	opts, err = parseOptions(map[string]any{
		"typescript":     false,
		"tsconfig":       "tsconfig.pulumi.json",
		"nodeargs":       "--max-old-space-size=4096 --require ./setup.js",
		"packagemanager": "pnpm",
	}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := nodeOptions{
		typescript:     false,
		tsconfig:       "tsconfig.pulumi.json",
		nodeArgs:       []string{"--max-old-space-size=4096", "--require", "./setup.js"},
		packageManager: "pnpm",
	}
	if !reflect.DeepEqual(opts, want) {
		t.Fatalf("got %+v, want %+v", opts, want)
	}

	for _, bad := range []map[string]any{
		{"typescript": "yes"},
		{"tsconfig": 1.0},
		{"nodeargs": true},
		{"nodeargs": `"unterminated`},
		{"packagemanager": "maven"},
	} {
		if _, err := parseOptions(bad, true); err == nil {
			t.Errorf("expected an error for %v", bad)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	cases := map[string][]string{
		"":                          nil,
		"  --a   --b=1 ":            {"--a", "--b=1"},
		`--title "two words" x`:     {"--title", "two words", "x"},
		`--x='single "quoted"'`:     {`--x=single "quoted"`},
		`a\ b c`:                    {"a b", "c"},
		`--empty ""`:                {"--empty", ""},
		`--inspect=0.0.0.0:9229 -r`: {"--inspect=0.0.0.0:9229", "-r"},
	}
	for in, want := range cases {
		got, err := splitArgs(in)
		if err != nil {
			t.Errorf("splitArgs(%q): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("splitArgs(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := splitArgs(`a 'b`); err == nil {
		t.Error("expected an error for an unterminated quote")
	}
}
