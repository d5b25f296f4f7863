// Firewall at cluster, node and container level: options, rules (insert at top, moveto), IP sets, aliases.
import { PveError, deleteList, intArg, parameterError, requireArg, route, type ApiRequest, type Route, type RouteContext } from "./api";
import { checkNode, containerAt } from "./containers";
import { digestOf, type ConfigMap, type EmulatorState, type FirewallScope } from "./state";

const POLICIES = ["ACCEPT", "REJECT", "DROP"];
const LOG_LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog"];

const OPTION_KEYS: Record<"cluster" | "node" | "guest", Record<string, "bool" | "policy" | "log" | "string">> = {
    cluster: { enable: "bool", ebtables: "bool", policy_in: "policy", policy_out: "policy", policy_forward: "policy", log_ratelimit: "string" },
    node: { enable: "bool", log_level_in: "log", log_level_out: "log", log_level_forward: "log", nosmurfs: "bool", tcpflags: "bool", ndp: "bool" },
    guest: {
        enable: "bool", dhcp: "bool", ipfilter: "bool", macfilter: "bool", ndp: "bool", radv: "bool",
        policy_in: "policy", policy_out: "policy", log_level_in: "log", log_level_out: "log",
    },
};

const RULE_KEYS = ["type", "action", "enable", "proto", "dport", "sport", "source", "dest", "iface", "macro", "log", "comment", "icmp-type"];
const RULE_TYPES = ["in", "out", "forward", "group"];

type Kind = keyof typeof OPTION_KEYS;

interface Base {
    template: string;
    kind: Kind;
    /** The scope key in the state, after checking that the node or guest exists. */
    scope(req: ApiRequest, state: EmulatorState): string;
}

const BASES: Base[] = [
    { template: "cluster", kind: "cluster", scope: () => "cluster" },
    {
        template: "nodes/{node}",
        kind: "node",
        scope: (req, state) => {
            checkNode(state, req.params["node"] ?? "");
            return `nodes/${req.params["node"] ?? ""}`;
        },
    },
    {
        template: "nodes/{node}/lxc/{vmid}",
        kind: "guest",
        scope: (req, state) => state.containerFirewallScope(containerAt(state, req.params["node"] ?? "", req.params["vmid"] ?? "")),
    },
];

function checkValue(key: string, kind: "bool" | "policy" | "log" | "string", value: string): string | number {
    if (kind === "bool") {
        if (!["0", "1"].includes(value)) throw parameterError({ [key]: `type check ('boolean') failed - got '${value}'` });
        return Number(value);
    }
    if (kind === "policy" && !POLICIES.includes(value)) {
        throw parameterError({ [key]: `value '${value}' does not have a value in the enumeration '${POLICIES.join(", ")}'` });
    }
    if (kind === "log" && !LOG_LEVELS.includes(value)) {
        throw parameterError({ [key]: `value '${value}' does not have a value in the enumeration '${LOG_LEVELS.join(", ")}'` });
    }
    return value;
}

function setOptions(base: Base, req: ApiRequest, state: EmulatorState): null {
    const scope = state.firewallScope(base.scope(req, state));
    const allowed = OPTION_KEYS[base.kind];
    if (req.args["digest"] && req.args["digest"] !== digestOf(scope.options)) {
        throw new PveError(500, "detected modified configuration - file changed by other user? Try again.");
    }
    for (const key of deleteList(req.args)) delete scope.options[key];
    for (const [key, value] of Object.entries(req.args)) {
        if (key === "delete" || key === "digest") continue;
        const kind = allowed[key];
        if (!kind) throw parameterError({ [key]: "property is not defined in schema and the schema does not allow additional properties" });
        // An empty value leaves the option at its default (nothing is written for it).
        if (value === "") delete scope.options[key];
        else scope.options[key] = checkValue(key, kind, value);
    }
    return null;
}

/** Addresses, CIDRs, ranges, comma lists, `+ipset` and alias names, as PVE's `source`/`dest` accept them. */
function checkAddressList(key: string, value: string): void {
    const item = /^(\+[A-Za-z][\w-]*|[A-Za-z][\w-]*|\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?(-\d{1,3}(\.\d{1,3}){3})?)$/;
    for (const part of value.split(",")) {
        if (!item.test(part.trim())) throw parameterError({ [key]: `invalid IP address or alias '${part}'` });
    }
    if (value.length > 512) throw parameterError({ [key]: "value may only be 512 characters long" });
}

function ruleFromArgs(args: Record<string, string>, into: ConfigMap): ConfigMap {
    for (const key of RULE_KEYS) {
        const value = args[key];
        if (value === undefined) continue;
        if (value === "") {
            delete into[key];
            continue;
        }
        if (key === "enable") into[key] = checkValue(key, "bool", value);
        else if (key === "type" && !RULE_TYPES.includes(value)) {
            throw parameterError({ type: `value '${value}' does not have a value in the enumeration '${RULE_TYPES.join(", ")}'` });
        } else {
            if ((key === "source" || key === "dest") && value !== "") checkAddressList(key, value);
            if ((key === "dport" || key === "sport") && !/^[\w:,-]+$/.test(value)) throw parameterError({ [key]: `invalid port '${value}'` });
            into[key] = value;
        }
    }
    if (into["type"] !== "group" && into["action"] !== undefined && !POLICIES.includes(String(into["action"]))) {
        throw parameterError({ action: `value '${String(into["action"])}' does not have a value in the enumeration '${POLICIES.join(", ")}'` });
    }
    return into;
}

function ruleAt(scope: FirewallScope, posText: string): ConfigMap {
    const pos = Number(posText);
    const rule = Number.isInteger(pos) ? scope.rules[pos] : undefined;
    if (!rule) throw new PveError(400, `no rule at position ${posText}`);
    return rule;
}

function ruleData(rule: ConfigMap, pos: number | string): ConfigMap {
    return { ...rule, pos, enable: rule["enable"] ?? 0, ipversion: 4, digest: digestOf(rule) };
}

function createRule(base: Base, req: ApiRequest, state: EmulatorState): null {
    const scope = state.firewallScope(base.scope(req, state));
    requireArg(req.args, "type");
    requireArg(req.args, "action");
    const rule = ruleFromArgs(req.args, {});
    // PVE inserts a new rule at the top unless a position is given.
    const pos = intArg(req.args, "pos") ?? 0;
    scope.rules.splice(Math.min(Math.max(pos, 0), scope.rules.length), 0, rule);
    return null;
}

function updateRule(base: Base, req: ApiRequest, state: EmulatorState): null {
    const scope = state.firewallScope(base.scope(req, state));
    const pos = Number(req.params["pos"]);
    const rule = ruleAt(scope, req.params["pos"] ?? "");
    if (req.args["digest"] && req.args["digest"] !== digestOf(rule)) {
        throw new PveError(500, "detected modified configuration - file changed by other user? Try again.");
    }
    const moveto = intArg(req.args, "moveto");
    if (moveto !== undefined) {
        // PVE's algorithm: the rule lands before the rule that was at `moveto`, or last.
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
    const next: ConfigMap = { ...rule };
    for (const key of deleteList(req.args)) delete next[key];
    scope.rules[pos] = ruleFromArgs(req.args, next);
    return null;
}

function ipsetRoutes(base: Base): Route[] {
    const at = `${base.template}/firewall/ipset`;
    const set = (req: ApiRequest, state: EmulatorState): FirewallScope["ipsets"][string] => {
        const scope = state.firewallScope(base.scope(req, state));
        const name = req.params["name"] ?? "";
        const found = scope.ipsets[name];
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
            if (scope.ipsets[name]) throw new PveError(500, `IPSet '${name}' already exists`);
            scope.ipsets[name] = { ...(req.args["comment"] ? { comment: req.args["comment"] } : {}), entries: [] };
            return null;
        }),
        route("GET", `${at}/{name}`, (req, { state }) => set(req, state).entries.map((e) => ({ ...e, digest: digestOf(e) }))),
        route("POST", `${at}/{name}`, (req, { state }) => {
            const entries = set(req, state).entries;
            const cidr = requireArg(req.args, "cidr");
            checkAddressList("cidr", cidr);
            if (entries.some((e) => e.cidr === cidr)) throw new PveError(500, `entry '${cidr}' already exists`);
            entries.push({ cidr, ...(req.args["nomatch"] === "1" ? { nomatch: 1 } : {}), ...(req.args["comment"] ? { comment: req.args["comment"] } : {}) });
            return null;
        }),
        route("DELETE", `${at}/{name}`, (req, { state }) => {
            const scope = state.firewallScope(base.scope(req, state));
            const name = req.params["name"] ?? "";
            if ((scope.ipsets[name]?.entries.length ?? 0) > 0 && req.args["force"] !== "1") throw new PveError(500, `IPSet '${name}' is not empty`);
            delete scope.ipsets[name];
            return null;
        }),
        route("DELETE", `${at}/{name}/{cidr}`, (req, { state }) => {
            const entries = set(req, state).entries;
            const cidr = req.params["cidr"] ?? "";
            const index = entries.findIndex((e) => e.cidr === cidr);
            if (index < 0) throw new PveError(500, `no such IP/Network '${cidr}'`);
            entries.splice(index, 1);
            return null;
        }),
    ];
}

function aliasRoutes(base: Base): Route[] {
    const at = `${base.template}/firewall/aliases`;
    const aliasAt = (req: ApiRequest, state: EmulatorState): { cidr: string; comment?: string } => {
        const found = state.firewallScope(base.scope(req, state)).aliases[req.params["name"] ?? ""];
        if (!found) throw new PveError(500, `no such alias '${req.params["name"] ?? ""}'`);
        return found;
    };
    return [
        route("GET", at, (req, { state }) =>
            Object.entries(state.firewallScope(base.scope(req, state)).aliases).map(([name, a]) => ({ name, ...a, ipversion: 4, digest: digestOf(a) })),
        ),
        route("POST", at, (req, { state }) => {
            const scope = state.firewallScope(base.scope(req, state));
            const name = requireArg(req.args, "name");
            if (scope.aliases[name]) throw new PveError(500, `alias '${name}' already exists`);
            const cidr = requireArg(req.args, "cidr");
            checkAddressList("cidr", cidr);
            scope.aliases[name] = { cidr, ...(req.args["comment"] ? { comment: req.args["comment"] } : {}) };
            return null;
        }),
        route("GET", `${at}/{name}`, (req, { state }) => {
            const alias = aliasAt(req, state);
            return { name: req.params["name"], ...alias, ipversion: 4, digest: digestOf(alias) };
        }),
        route("PUT", `${at}/{name}`, (req, { state }) => {
            const alias = aliasAt(req, state);
            if (req.args["cidr"]) alias.cidr = req.args["cidr"];
            if (req.args["comment"] !== undefined) alias.comment = req.args["comment"] || undefined;
            return null;
        }),
        route("DELETE", `${at}/{name}`, (req, { state }) => {
            aliasAt(req, state);
            delete state.firewallScope(base.scope(req, state)).aliases[req.params["name"] ?? ""];
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
            route("PUT", `${at}/options`, (req, ctx: RouteContext) => setOptions(base, req, ctx.state)),
            route("GET", `${at}/rules`, (req, { state }) => state.firewallScope(base.scope(req, state)).rules.map((rule, pos) => ruleData(rule, pos))),
            route("POST", `${at}/rules`, (req, { state }) => createRule(base, req, state)),
            // PVE echoes the position from the URL, so single-rule reads carry it as a string.
            route("GET", `${at}/rules/{pos}`, (req, { state }) =>
                ruleData(ruleAt(state.firewallScope(base.scope(req, state)), req.params["pos"] ?? ""), req.params["pos"] ?? ""),
            ),
            route("PUT", `${at}/rules/{pos}`, (req, { state }) => updateRule(base, req, state)),
            route("DELETE", `${at}/rules/{pos}`, (req, { state }) => {
                const scope = state.firewallScope(base.scope(req, state));
                ruleAt(scope, req.params["pos"] ?? "");
                scope.rules.splice(Number(req.params["pos"]), 1);
                return null;
            }),
            ...ipsetRoutes(base),
            ...aliasRoutes(base),
            ...(base.kind === "cluster" ? [route("GET", "cluster/firewall/groups", () => [])] : []),
        ];
    });
}
