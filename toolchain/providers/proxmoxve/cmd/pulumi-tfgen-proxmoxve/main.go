// Command pulumi-tfgen-proxmoxve generates, at build time, the Pulumi schema and the bridge
// metadata (muxer dispatch table, autonaming) that the plugin embeds.
//
//	pulumi-tfgen-proxmoxve -out DIR -version 8.6.0
//
// writes DIR/schema.json, DIR/bridge-metadata.json (from the bridge's tfgen, docs and
// examples skipped) and DIR/schema-embed.json (schema.json, compact, with "version" set).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	proxmoxve "toolchain/providers/proxmoxve"
)

func main() {
	out := flag.String("out", "", "output directory")
	ver := flag.String("version", "", "plugin version written into schema-embed.json")
	flag.Parse()
	if *out == "" || *ver == "" {
		fmt.Fprintln(os.Stderr, "usage: pulumi-tfgen-proxmoxve -out DIR -version VERSION")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*out)
	if err != nil {
		fail(err)
	}

	// The bridge's tfgen CLI parses os.Args itself.
	os.Args = []string{os.Args[0], "schema", "--out", abs, "--skip-docs", "--skip-examples", "--quiet"}
	pftfgen.MainWithMuxer(proxmoxve.PackageName, proxmoxve.Provider())

	raw, err := os.ReadFile(filepath.Join(abs, "schema.json"))
	if err != nil {
		fail(err)
	}
	var spec map[string]json.RawMessage
	if err := json.Unmarshal(raw, &spec); err != nil {
		fail(err)
	}
	v, _ := json.Marshal(strings.TrimPrefix(*ver, "v"))
	spec["version"] = v
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(spec); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(abs, "schema-embed.json"), bytes.TrimSpace(buf.Bytes()), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pulumi-tfgen-proxmoxve:", err)
	os.Exit(1)
}
