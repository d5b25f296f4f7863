package main

import (
	"fmt"
	"strings"
)

// nodeOptions are the `runtime.options` of a Pulumi.yaml / PulumiPolicy.yaml / PulumiPlugin.yaml
// for the nodejs runtime, as documented for the official host.
type nodeOptions struct {
	typescript     bool     // run .ts sources through ts-node (PULUMI_NODEJS_TYPESCRIPT=true)
	tsconfig       string   // alternative tsconfig.json path (PULUMI_NODEJS_TSCONFIG_PATH)
	nodeArgs       []string // extra arguments for the node executable, e.g. --max-old-space-size=4096
	packageManager string   // auto, npm, yarn, pnpm or bun
}

func parseOptions(raw map[string]any, typescriptDefault bool) (nodeOptions, error) {
	opts := nodeOptions{typescript: typescriptDefault, packageManager: "auto"}

	if v, ok := raw["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, fmt.Errorf("runtime option 'typescript' must be a boolean, got %v", v)
		}
		opts.typescript = b
	}
	if v, ok := raw["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, fmt.Errorf("runtime option 'tsconfig' must be a string, got %v", v)
		}
		opts.tsconfig = s
	}
	if v, ok := raw["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, fmt.Errorf("runtime option 'nodeargs' must be a string, got %v", v)
		}
		args, err := splitArgs(s)
		if err != nil {
			return opts, fmt.Errorf("runtime option 'nodeargs': %w", err)
		}
		opts.nodeArgs = args
	}
	if v, ok := raw["packagemanager"]; ok {
		s, isString := v.(string)
		switch {
		case !isString:
			return opts, fmt.Errorf("runtime option 'packagemanager' must be a string, got %v", v)
		case s == "auto" || s == "npm" || s == "yarn" || s == "pnpm" || s == "bun":
			opts.packageManager = s
		default:
			return opts, fmt.Errorf("runtime option 'packagemanager' must be one of auto, npm, yarn, pnpm or bun, got %q", s)
		}
	}
	return opts, nil
}

// splitArgs splits a command line the way a POSIX shell would for the simple cases people put in
// `nodeargs`: whitespace separates words, single and double quotes group, backslash escapes.
func splitArgs(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unterminated quote or escape in %q", s)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
