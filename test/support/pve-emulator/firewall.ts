// Firewall at cluster, node and container level: options, rules (insert at top, moveto), IP sets, aliases.
// The schema checks keys, types and formats; the rest follows proxmox/pve-firewall's
// src/PVE/API2/Firewall/{Rules,IPSet,Aliases}.pm and src/PVE/Firewall.pm (verify_rule, copy_list_with_digest).
import { createHash } from "node:crypto";
import { PveError, deleteList, parameterError, requireArg, route, type ApiRequest, type Route, type RouteContext } from "./api";
import { assertNotModified, containerAt } from "./containers";
import { ICMP_TYPE_NAMES, ICMPV6_TYPE_NAMES, IPSET_NAME_PATTERN, parseAddressList } from "./formats";
import { apiSchema } from "./schema";
import { digestOf, type ConfigMap, type EmulatorState, type FirewallScope } from "./state";

/** The keys of a rule (PVE::Firewall's $rule_properties, without `pos` and `digest`, which are not stored). */
const RULE_KEYS = ["type", "action", "enable", "proto", "dport", "sport", "source", "dest", "iface", "macro", "log", "comment", "icmp-type"];
/** PVE::Firewall's $PROTOCOLS_WITH_PORTS */
const PROTOCOLS_WITH_PORTS = new Set(["udp", "17", "udplite", "136", "tcp", "6", "dccp", "33", "sctp", "132"]);
/** The macro names of PVE::Firewall's $pve_fw_macros (matched case-insensitively, stored in this spelling). */
const MACROS = [
    "Amanda", "Auth", "BGP", "BitTorrent", "BitTorrent32", "Ceph", "CVS", "Citrix", "DAAP", "DCC", "DHCPfwd", "DNS", "Distcc",
    "FTP", "Finger", "GNUnet", "GRE", "Git", "HKP", "HTTP", "HTTPS", "ICPV2", "ICQ", "IMAP", "IMAPS", "IPIP", "IPsec", "IPsecah",
    "IPsecnat", "IRC", "Jetdirect", "L2TP", "LDAP", "LDAPS", "MSNP", "MSSQL", "Mail", "MDNS", "Munin", "MySQL", "NNTP", "NNTPS",
    "NTP", "OSPF", "OpenVPN", "PCA", "PMG", "POP3", "POP3S", "PPtP", "Ping", "PostgreSQL", "Printer", "RDP", "RIP", "RNDC",
    "Razor", "Rdate", "Rsync", "SANE", "SMB", "SMBswat", "SMTP", "SMTPS", "SNMP", "SPAMD", "SSH", "SVN", "SixXS", "SPICEproxy",
    "Squid", "Submission", "Syslog", "TFTP", "Telnet", "Telnets", "Time", "Trcrt", "VNC", "VNCL", "Web", "Webcache", "Webmin", "Whois",
];

type Kind = "cluster" | "host" | "ct";

interface Base {
    template: string;
    kind: Kind;
    /** The scope key in the state, after checking that the node or guest exists. */
    scope(req: ApiRequest, state: EmulatorState): string;
}

const BASES: Base[] = [
    { template: "cluster", kind: "cluster", scope: () => "cluster" },
    // The node's existence was checked with the proxy step (server.ts).
    { template: "nodes/{node}", kind: "host", scope: (req) => `nodes/${req.params["node"] ?? ""}` },
    {
        template: "nodes/{node}/lxc/{vmid}",
        kind: "ct",
        scope: (req, state) => state.containerFirewallScope(containerAt(state, req.params["node"] ?? "", req.params["vmid"] ?? "")),
    },
];

/** Rule types per rule_env ($rule_env_direction_lookup). */
const RULE_TYPES: Record<Kind, string[]> = { ct: ["in", "out", "group"], cluster: ["in", "out", "forward", "group"], host: ["in", "out", "forward", "group"] };

/** copy_list_with_digest: one SHA-1 over every rule's `key:value` lines, handed out with each rule. */
function listDigest(rules: ConfigMap[]): string {
    const sha = createHash("sha1");
    for (const rule of rules) for (const key of Object.keys(rule).sort()) sha.update(`${key}:${String(rule[key])}\n`);
    return sha.digest("hex");
}

function optionsUpdate(base: Base, req: ApiRequest, state: EmulatorState): null {
    const scope = state.firewallScope(base.scope(req, state));
    assertNotModified(req.args["digest"], digestOf(scope.options));
    const properties = apiSchema(state.major).endpoints[`PUT /${base.template}/firewall/options`]?.parameters.properties ?? {};
    for (const key of deleteList(req.args)) delete scope.options[key];
    for (const [key, value] of Object.entries(req.args)) {
        if (["delete", "digest", "node", "vmid"].includes(key)) continue;
        const type = properties[key]?.type;
        // An empty value leaves the option at its default (nothing is written for it).
        if (value === "") delete scope.options[key];
        else scope.options[key] = type === "boolean" || type === "integer" ? Number(value) : value;
    }
    return null;
}

/**
 * PVE::Firewall::verify_rule for a guest or cluster rule: type and action, `iface` as netN on a
 * guest, a known macro, ports only with a protocol that has them, addresses that parse and name
 * existing IP sets and aliases, one IP version throughout. The first problem is raised (400).
 */
function verifyRule(rule: ConfigMap, kind: Kind, state: EmulatorState, scope: FirewallScope): void {
    const fail = (param: string, message: string): never => {
        throw parameterError({ [param]: message });
    };
    const type = rule["type"] === undefined ? undefined : String(rule["type"]);
    const action = rule["action"] === undefined ? undefined : String(rule["action"]);
    if (!type) fail("type", "missing property");
    if (!action) fail("action", "missing property");
    if (type && !RULE_TYPES[kind].includes(type)) fail("type", `invalid rule type '${type}' for rule_env '${kind}'`);
    if (type === "in" || type === "out" || type === "forward") {
        if (type === "forward" && action === "REJECT") fail("action", "cannot define REJECT rules on forward chain");
        if (action && !/^(ACCEPT|DROP|REJECT)$/.test(action)) fail("action", `unknown action '${action}'`);
    } else if (type === "group" && action && !/^[A-Za-z][A-Za-z0-9\-_]+$/.test(action)) {
        fail("action", "invalid characters in security group name");
    }
    const iface = rule["iface"] === undefined ? undefined : String(rule["iface"]);
    if (iface && kind === "ct" && !/^net(\d+)$/.test(iface)) fail("iface", "value does not match the regex pattern 'net\\d+'");
    if (rule["macro"] !== undefined) {
        const macro = MACROS.find((m) => m.toLowerCase() === String(rule["macro"]).toLowerCase());
        if (!macro) fail("macro", `unknown macro '${String(rule["macro"])}'`);
        else rule["macro"] = macro;
    }
    let version: number | undefined;
    const setVersion = (next: number | undefined, param: string): void => {
        if (next === undefined) return;
        if (version !== undefined && version !== next) fail(param, "detected mixed ipv4/ipv6 addresses in rule");
        version = next;
    };
    const proto = rule["proto"] === undefined ? undefined : String(rule["proto"]);
    const icmp = proto === "icmp" || proto === "icmpv6" || proto === "ipv6-icmp";
    if (proto === "icmp") setVersion(4, "proto");
    if (proto === "icmpv6" || proto === "ipv6-icmp") setVersion(6, "proto");
    for (const port of ["dport", "sport"] as const) {
        if (rule[port] === undefined) continue;
        if (!proto) fail("proto", `missing property - '${port}' requires this property`);
        if (!PROTOCOLS_WITH_PORTS.has(proto ?? "") && !(port === "dport" && icmp)) fail(port, `protocol '${proto ?? ""}' does not support ports`);
    }
    const icmpType = rule["icmp-type"] === undefined ? undefined : String(rule["icmp-type"]);
    if (icmpType) {
        if (!icmp) fail("proto", "missing property - 'icmp-type' requires this property");
        if (rule["dport"] !== undefined) fail("icmp-type", "'icmp-type' cannot be specified together with 'dport'");
        if (proto === "icmp" && !ICMP_TYPE_NAMES.has(icmpType)) fail("icmp-type", `invalid icmp-type '${icmpType}' for proto 'icmp'`);
        if (proto !== "icmp" && !ICMPV6_TYPE_NAMES.has(icmpType)) fail("icmp-type", `invalid icmp-type '${icmpType}' for proto '${proto ?? ""}'`);
    }
    const cluster = state.firewallScope("cluster");
    for (const param of ["source", "dest"] as const) {
        const value = rule[param] === undefined ? undefined : String(rule[param]);
        if (!value) continue;
        setVersion(parseAddressList(value), param);
        if (value.startsWith("+")) {
            const match = new RegExp(`^\\+(guest/|dc/|sdn/)?(${IPSET_NAME_PATTERN})$`).exec(value);
            if (!match) fail(param, `invalid ipset name '${value}'`);
            const name = match?.[2] ?? "";
            if (!cluster.ipsets[name] && !scope.ipsets[name]) fail(param, `no such ipset '${name}'`);
        } else {
            const alias = /^(guest\/|dc\/)?([A-Za-z][A-Za-z0-9\-_]+)$/.exec(value);
            if (alias) {
                const name = (alias[2] ?? "").toLowerCase();
                const found = alias[1] === "dc/" ? cluster.aliases[name] : (scope.aliases[name] ?? (alias[1] === "guest/" ? undefined : cluster.aliases[name]));
                if (!cluster.aliases[name] && !scope.aliases[name]) fail(param, `no such alias '${value}'`);
                if (found) setVersion(found.cidr.includes(":") ? 6 : 4, param);
            }
        }
    }
    if (version !== undefined) rule["ipversion"] = version;
    else delete rule["ipversion"];
}

/** copy_rule_data: a given value is stored, an empty one (or `-`) removes the key. */
function copyRuleData(rule: ConfigMap, args: Record<string, string>): ConfigMap {
    for (const key of RULE_KEYS) {
        const value = args[key];
        if (value === undefined) continue;
        if (value === "" || value === "-") delete rule[key];
        else rule[key] = key === "enable" ? Number(value) : value;
    }
    return rule;
}

function noRule(pos: string): PveError {
    return new PveError(500, `no rule at position ${pos}`);
}

function ruleData(rule: ConfigMap, pos: number | string, digest: string): ConfigMap {
    return { ...rule, pos, digest };
}

/** Rules.pm create_rule: always inserted at the top (`unshift`), `enable` 0 unless given. */
function createRule(base: Base, req: ApiRequest, state: EmulatorState): null {
    const scope = state.firewallScope(base.scope(req, state));
    const rule = copyRuleData({}, req.args);
    verifyRule(rule, base.kind, state, scope);
    if (req.args["enable"] === undefined || req.args["enable"] === "") rule["enable"] = 0;
    scope.rules.unshift(rule);
    return null;
}

/** Rules.pm update_rule: `moveto` moves the rule before the one at that index (or last) and ignores the rest. */
function updateRule(base: Base, req: ApiRequest, state: EmulatorState): null {
    const scope = state.firewallScope(base.scope(req, state));
    assertNotModified(req.args["digest"], listDigest(scope.rules));
    const pos = Number(req.params["pos"]);
    const rule = scope.rules[pos];
    if (!rule) throw noRule(req.params["pos"] ?? "");
    const movetoText = req.args["moveto"];
    const moveto = movetoText === undefined || movetoText === "" ? undefined : Number(movetoText);
    if (moveto !== undefined && moveto !== pos) {
        const moved: ConfigMap[] = [];
        scope.rules.forEach((other, index) => {
            if (index === pos) return;
            if (index === moveto) moved.push(rule);
            moved.push(other);
        });
        if (moveto >= scope.rules.length) moved.push(rule);
        scope.rules.splice(0, scope.rules.length, ...moved);
        return null;
    }
    const next = copyRuleData({ ...rule }, req.args);
    for (const key of deleteList(req.args)) {
        if (!RULE_KEYS.includes(key) && key !== "pos") throw parameterError({ delete: `no such property ('${key}')` });
        if (key === "type" || key === "action") throw parameterError({ delete: `unable to delete required property '${key}'` });
        delete next[key];
    }
    verifyRule(next, base.kind, state, scope);
    scope.rules[pos] = next;
    return null;
}

function ipsetRoutes(base: Base): Route[] {
    const at = `${base.template}/firewall/ipset`;
    const set = (req: ApiRequest, state: EmulatorState): FirewallScope["ipsets"][string] => {
        const name = req.params["name"] ?? "";
        const found = state.firewallScope(base.scope(req, state)).ipsets[name];
        if (!found) throw new PveError(500, `no such IPSet '${name}'`);
        return found;
    };
    return [
        route("GET", at, (req, { state }) =>
            Object.entries(state.firewallScope(base.scope(req, state)).ipsets).map(([name, s]) => ({ name, ...(s.comment ? { comment: s.comment } : {}), digest: digestOf(s) })),
        ),
        route("POST", at, (req, { state }) => {
            const scope = state.firewallScope(base.scope(req, state));
            const name = requireArg(req.args, "name");
            if (scope.ipsets[name]) throw parameterError({ name: `IPSet '${name}' already exists` });
            scope.ipsets[name] = { ...(req.args["comment"] ? { comment: req.args["comment"] } : {}), entries: [] };
            return null;
        }),
        route("GET", `${at}/{name}`, (req, { state }) => {
            const entries = set(req, state).entries;
            return entries.map((e) => ({ ...e, digest: digestOf(entries) }));
        }),
        route("POST", `${at}/{name}`, (req, { state }) => {
            const entries = set(req, state).entries;
            const cidr = requireArg(req.args, "cidr");
            if (entries.some((e) => e.cidr === cidr)) throw parameterError({ cidr: `address '${cidr}' already exists` });
            if (/\/0+$/.test(cidr)) throw parameterError({ cidr: "a zero prefix is not allowed in ipset entries" });
            entries.unshift({ cidr, ...(req.args["nomatch"] === "1" ? { nomatch: 1 } : {}), ...(req.args["comment"] ? { comment: req.args["comment"] } : {}) });
            return null;
        }),
        route("DELETE", `${at}/{name}`, (req, { state }) => {
            const entries = set(req, state).entries;
            if (entries.length > 0 && req.args["force"] !== "1") throw new PveError(500, `IPSet '${req.params["name"] ?? ""}' is not empty`);
            delete state.firewallScope(base.scope(req, state)).ipsets[req.params["name"] ?? ""];
            return null;
        }),
        route("DELETE", `${at}/{name}/{cidr}`, (req, { state }) => {
            const entries = set(req, state).entries;
            const index = entries.findIndex((e) => e.cidr === req.params["cidr"]);
            if (index < 0) throw parameterError({ cidr: "no such IP/Network" });
            entries.splice(index, 1);
            return null;
        }),
    ];
}

function aliasRoutes(base: Base): Route[] {
    const at = `${base.template}/firewall/aliases`;
    // Aliases.pm keys aliases by their lowercased name.
    const aliasAt = (req: ApiRequest, state: EmulatorState): { cidr: string; comment?: string } => {
        const found = state.firewallScope(base.scope(req, state)).aliases[(req.params["name"] ?? "").toLowerCase()];
        if (!found) throw parameterError({ name: "no such alias" });
        return found;
    };
    return [
        route("GET", at, (req, { state }) =>
            Object.entries(state.firewallScope(base.scope(req, state)).aliases).map(([name, a]) => ({ name, ...a, ipversion: a.cidr.includes(":") ? 6 : 4, digest: digestOf(a) })),
        ),
        route("POST", at, (req, { state }) => {
            const scope = state.firewallScope(base.scope(req, state));
            const name = requireArg(req.args, "name");
            if (scope.aliases[name.toLowerCase()]) throw parameterError({ name: `alias '${name}' already exists` });
            scope.aliases[name.toLowerCase()] = { cidr: requireArg(req.args, "cidr"), ...(req.args["comment"] ? { comment: req.args["comment"] } : {}) };
            return null;
        }),
        route("GET", `${at}/{name}`, (req, { state }) => {
            const alias = aliasAt(req, state);
            return { name: (req.params["name"] ?? "").toLowerCase(), ...alias, ipversion: alias.cidr.includes(":") ? 6 : 4, digest: digestOf(alias) };
        }),
        route("PUT", `${at}/{name}`, (req, { state }) => {
            const alias = aliasAt(req, state);
            alias.cidr = requireArg(req.args, "cidr");
            if (req.args["comment"] !== undefined) alias.comment = req.args["comment"] || undefined;
            return null;
        }),
        route("DELETE", `${at}/{name}`, (req, { state }) => {
            delete state.firewallScope(base.scope(req, state)).aliases[(req.params["name"] ?? "").toLowerCase()];
            return null;
        }),
    ];
}

export function firewallRoutes(): Route[] {
    return BASES.flatMap((base) => {
        const at = `${base.template}/firewall`;
        return [
            route("GET", `${at}/options`, (req, { state }) => {
                const options = state.firewallScope(base.scope(req, state)).options;
                return { ...options, digest: digestOf(options) };
            }),
            route("PUT", `${at}/options`, (req, ctx: RouteContext) => optionsUpdate(base, req, ctx.state)),
            route("GET", `${at}/rules`, (req, { state }) => {
                const rules = state.firewallScope(base.scope(req, state)).rules;
                const digest = listDigest(rules);
                return rules.map((rule, pos) => ruleData(rule, pos, digest));
            }),
            route("POST", `${at}/rules`, (req, { state }) => createRule(base, req, state)),
            // get_rule echoes the position from the URL (a string), which bpg's struct expects.
            route("GET", `${at}/rules/{pos}`, (req, { state }) => {
                const rules = state.firewallScope(base.scope(req, state)).rules;
                const rule = rules[Number(req.params["pos"])];
                if (!rule) throw noRule(req.params["pos"] ?? "");
                return ruleData(rule, req.params["pos"] ?? "", listDigest(rules));
            }),
            route("PUT", `${at}/rules/{pos}`, (req, { state }) => updateRule(base, req, state)),
            route("DELETE", `${at}/rules/{pos}`, (req, { state }) => {
                const rules = state.firewallScope(base.scope(req, state)).rules;
                assertNotModified(req.args["digest"], listDigest(rules));
                if (!rules[Number(req.params["pos"])]) throw noRule(req.params["pos"] ?? "");
                rules.splice(Number(req.params["pos"]), 1);
                return null;
            }),
            // PVE has IP sets and aliases at cluster and guest level only.
            ...(base.kind === "host" ? [] : [...ipsetRoutes(base), ...aliasRoutes(base)]),
            ...(base.kind === "cluster" ? [route("GET", "cluster/firewall/groups", () => [])] : []),
        ];
    });
}
