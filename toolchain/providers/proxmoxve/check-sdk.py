#!/usr/bin/env python3
"""Compare a generated Pulumi schema with the @muhlba91/pulumi-proxmoxve npm SDK (JS + d.ts).

Usage: python3 check-sdk.py node_modules/@muhlba91/pulumi-proxmoxve <outdir>/proxmoxve-schema.json
(or a schema from `pulumi package get-schema proxmoxve@8.6.0`). Checks tokens, property names
(resources, invokes, provider config, nested types) and required inputs.
"""
import json, os, re, sys
sdk, schema_path = sys.argv[1], sys.argv[2]
schema = json.load(open(schema_path))
problems = []

def parse_dts(path):
    """-> {(ns_tuple, iface): {prop: optional}}"""
    out = {}; stack = []; cur = None; depth = 0
    for line in open(path):
        s = line.strip()
        m = re.match(r'(export\s+)?(declare\s+)?namespace\s+(\w+)\s*\{', s)
        if m and cur is None:
            stack.append((m.group(3), depth)); depth += 1; continue
        m = re.match(r'(?:export\s+)?interface\s+(\w+)\s*\{', s)
        if m and cur is None:
            cur = (tuple(n for n, _ in stack), m.group(1)); out[cur] = {}; depth += 1; idepth = depth
            if s.endswith('}'):
                depth -= 1; cur = None
            continue
        if cur is not None:
            if depth == idepth:
                pm = re.match(r'(readonly\s+)?(\w+)(\??):', s)
                if pm: out[cur][pm.group(2)] = pm.group(3) == '?'
            depth += s.count('{') - s.count('}')
            if s.count('/*') == 0 and depth < idepth:
                cur = None
            continue
        depth += s.count('{') - s.count('}')
        while stack and depth <= stack[-1][1]:
            stack.pop()
    return out

inputs_d = parse_dts(os.path.join(sdk, 'types/input.d.ts'))
outputs_d = parse_dts(os.path.join(sdk, 'types/output.d.ts'))

def tok_parts(tok):
    pkg, mod, name = tok.split(':')
    mod = mod.rsplit('/', 1)[0]
    ns = () if mod == 'index' else tuple(mod.split('/'))
    return ns, name

# resources
js_res = {}
for root, _, files in os.walk(sdk):
    if 'node_modules' in os.path.relpath(root, sdk): continue
    for f in files:
        if not f.endswith('.js'): continue
        src = open(os.path.join(root, f)).read()
        m = re.search(r"__pulumiType = '([^']+)'", src)
        if m and m.group(1) != 'proxmoxve':
            ins = set(re.findall(r'resourceInputs\["(\w+)"\] = (?:args\?\.|args \? args\.|pulumi\.output\(args\?\.)', src))
            # also secret-wrapped inputs: resourceInputs["x"] = args?.x ? pulumi.secret(args.x)
            ins |= set(re.findall(r'resourceInputs\["(\w+)"\] = args\?\.\w+ \?', src))
            st = set(re.findall(r'resourceInputs\["(\w+)"\] = state\?\.|resourceInputs\["(\w+)"\] = state \? state\.', src))
            st = {a or b for a, b in st} if st and isinstance(next(iter(st)), tuple) else st
            outs_only = set(re.findall(r'resourceInputs\["(\w+)"\] = undefined /\*out\*/', src))
            js_res[m.group(1)] = (ins, st, outs_only)
        for m in re.finditer(r'invoke\("([^"]+)", \{(.*?)\}, opts', src, re.S):
            args = set(re.findall(r'"(\w+)": args', m.group(2)))
            js_res['fn:' + m.group(1)] = (args, set(), set())

for tok, spec in sorted(schema['resources'].items()):
    if tok not in js_res:
        problems.append(f'resource {tok}: not in SDK'); continue
    ins, st, outs = js_res[tok]
    sins = set(spec.get('inputProperties', {}))
    sprops = set(spec.get('properties', {}))
    if ins != sins:
        problems.append(f'resource {tok}: inputs SDK-only={sorted(ins-sins)} schema-only={sorted(sins-ins)}')
    if st and st != sprops:
        problems.append(f'resource {tok}: state props SDK-only={sorted(st-sprops)} schema-only={sorted(sprops-st)}')
    req_sdk = None
for tok in js_res:
    if tok.startswith('fn:'):
        t = tok[3:]
        if t not in schema['functions']:
            problems.append(f'function {t}: not in schema'); continue
        sargs = set(schema['functions'][t].get('inputs', {}).get('properties', {}))
        if js_res[tok][0] != sargs:
            problems.append(f'function {t}: args SDK-only={sorted(js_res[tok][0]-sargs)} schema-only={sorted(sargs-js_res[tok][0])}')
    elif tok not in schema['resources']:
        problems.append(f'resource {tok}: in SDK, not in schema')

# nested types
checked = 0
for tok, spec in sorted(schema['types'].items()):
    ns, name = tok_parts(tok)
    if ns == ('config',):
        ns, name = (), 'Provider' + name[0].upper() + name[1:]
    name = name[0].upper() + name[1:]
    props = set(spec.get('properties', {}))
    found = False
    for d, label in ((inputs_d, 'input'), (outputs_d, 'output')):
        for key in ((ns, name), (ns, name + 'Args')):
            if key in d:
                found = True; checked += 1
                if set(d[key]) != props:
                    problems.append(f'type {tok} ({label}): SDK-only={sorted(set(d[key])-props)} schema-only={sorted(props-set(d[key]))}')
    if not found:
        problems.append(f'type {tok}: not found in SDK d.ts')

# provider config
pjs = open(os.path.join(sdk, 'provider.js')).read()
pins = set(re.findall(r'resourceInputs\["(\w+)"\]', pjs))
pcfg = set(schema['provider'].get('inputProperties', {}))
if pins != pcfg:
    problems.append(f'provider inputs SDK-only={sorted(pins-pcfg)} schema-only={sorted(pcfg-pins)}')

print(f"resources in schema: {len(schema['resources'])}, functions: {len(schema['functions'])}, types: {len(schema['types'])}, types checked against d.ts: {checked}")
print(f"provider inputs: {sorted(pcfg)}")
print(f"{len(problems)} problems")
for p in problems: print(' -', p)

# requiredness: resource Args interfaces and input types
req_problems = []
nreq_checked = []
for root, _, files in os.walk(sdk):
    if 'node_modules' in os.path.relpath(root, sdk) or '/types' in root: continue
    for f in files:
        if not f.endswith('.d.ts') or f.startswith('get') or f in ('index.d.ts', 'utilities.d.ts'): continue
        js = os.path.join(root, f[:-5] + '.js')
        if not os.path.exists(js): continue
        m = re.search(r"__pulumiType = '([^']+)'", open(js).read())
        if not m: continue
        tok = m.group(1)
        d = parse_dts(os.path.join(root, f))
        name = 'Provider' if tok == 'proxmoxve' else tok.split(':')[-1]
        a = d.get(((), name + 'Args'))
        if a is None: continue
        nreq_checked.append(tok)
        if tok == 'proxmoxve':
            sreq = set(schema['provider'].get('requiredInputs', []))
        else:
            sreq = set(schema['resources'][tok].get('requiredInputs', []))
        dreq = {k for k, opt in a.items() if not opt}
        if dreq != sreq:
            req_problems.append(f'required {tok}: SDK-only={sorted(dreq-sreq)} schema-only={sorted(sreq-dreq)}')
for tok, spec in sorted(schema['types'].items()):
    ns, name = tok_parts(tok)
    if ns == ('config',):
        ns, name = (), 'Provider' + name[0].upper() + name[1:]
    name = name[0].upper() + name[1:]
    for key in ((ns, name), (ns, name + 'Args')):
        if key in inputs_d:
            dreq = {k for k, opt in inputs_d[key].items() if not opt}
            sreq = set(spec.get('required', []))
            if dreq != sreq:
                req_problems.append(f'required type {tok}: SDK-only={sorted(dreq-sreq)} schema-only={sorted(sreq-dreq)}')
print(f"requiredness checked for {len(nreq_checked)} resources (incl. provider: {'proxmoxve' in nreq_checked}); {len(req_problems)} requiredness problems")
for p in req_problems: print(' -', p)
