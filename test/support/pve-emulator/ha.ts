// High availability: resources (`ct:<id>`), groups (PVE 8) and rules (PVE 9), as /cluster/ha/* answers them.
import { PveError, deleteList, parameterError, requireArg, route, type ApiRequest, type Route, type RouteContext } from "./api";
import { digestOf, type ConfigMap, type EmulatorState } from "./state";

const RESOURCE_STATES = ["started", "stopped", "enabled", "disabled", "ignored"];
const RESOURCE_KEYS = ["state", "comment", "group", "max_restart", "max_relocate", "failback"];
const INTEGER_KEYS = new Set(["max_restart", "max_relocate", "failback", "restricted", "nofailback", "strict", "disable"]);
const GROUP_KEYS = ["nodes", "restricted", "nofailback", "comment"];
const RULE_KEYS = ["resources", "nodes", "strict", "affinity", "disable", "comment"];

function store(target: ConfigMap, key: string, value: string): void {
    if (value === "") delete target[key];
    else target[key] = INTEGER_KEYS.has(key) ? Number(value) : value;
}

/** `100` means `vm:100` in PVE; we only emulate containers, so anything else is refused. */
function parseSid(sid: string): { type: string; id: number } {
    const match = /^(?:(vm|ct):)?(\d+)$/.exec(sid);
    if (!match) throw parameterError({ sid: `unable to parse service id '${sid}'` });
    return { type: match[1] ?? "vm", id: Number(match[2]) };
}

function applyGuestState(state: EmulatorState, sid: string, requested: string): void {
    const { type, id } = parseSid(sid);
    const ct = type === "ct" ? state.containers.get(id) : undefined;
    if (!ct) return;
    // The HA manager starts or stops the guest to match the requested state.
    if ((requested === "started" || requested === "enabled") && ct.status !== "running") {
        ct.status = "running";
        ct.startedAt = Math.floor(Date.now() / 1000);
    } else if ((requested === "stopped" || requested === "disabled") && ct.status === "running") {
        ct.status = "stopped";
    }
}

function checkResourceKeys(state: EmulatorState, args: Record<string, string>): void {
    const requested = args["state"];
    if (requested && !RESOURCE_STATES.includes(requested)) {
        throw parameterError({ state: `value '${requested}' does not have a value in the enumeration '${RESOURCE_STATES.join(", ")}'` });
    }
    const group = args["group"];
    if (group && !state.haGroups.has(group)) throw new PveError(500, `ha group '${group}' does not exist`);
}

function createResource(req: ApiRequest, { state }: RouteContext): null {
    const sid = requireArg(req.args, "sid");
    const { type, id } = parseSid(sid);
    const canonical = `${type}:${id}`;
    if (req.args["type"] && req.args["type"] !== type) throw parameterError({ type: `type mismatch - '${req.args["type"]}' != '${type}'` });
    if (state.haResources.has(canonical)) throw new PveError(500, `resource ID '${canonical}' already defined`);
    if (type !== "ct" || !state.containers.has(id)) throw new PveError(500, `unable to find guest for service '${canonical}' - no such guest`);
    checkResourceKeys(state, req.args);
    const resource: ConfigMap = { sid: canonical, type, state: "started" };
    for (const key of RESOURCE_KEYS) if (req.args[key] !== undefined) store(resource, key, req.args[key] ?? "");
    state.haResources.set(canonical, resource);
    applyGuestState(state, canonical, String(resource["state"]));
    return null;
}

function resourceAt(state: EmulatorState, sid: string): ConfigMap {
    const { type, id } = parseSid(sid);
    const resource = state.haResources.get(`${type}:${id}`);
    if (!resource) throw new PveError(500, `no such resource '${type}:${id}'`);
    return resource;
}

function updateResource(req: ApiRequest, { state }: RouteContext): null {
    const resource = resourceAt(state, req.params["sid"] ?? "");
    checkResourceKeys(state, req.args);
    for (const key of deleteList(req.args)) delete resource[key];
    for (const key of RESOURCE_KEYS) if (req.args[key] !== undefined) store(resource, key, req.args[key] ?? "");
    applyGuestState(state, String(resource["sid"]), String(resource["state"]));
    return null;
}

function deleteResource(req: ApiRequest, { state }: RouteContext): null {
    const resource = resourceAt(state, req.params["sid"] ?? "");
    const sid = String(resource["sid"]);
    state.haResources.delete(sid);
    // PVE 9 (purge defaults to 1): drop the resource from rules, and a rule left empty with it.
    if (req.args["purge"] !== "0") {
        for (const [name, rule] of state.haRules) {
            const rest = String(rule["resources"]).split(",").filter((r) => r !== sid);
            if (rest.length === 0) state.haRules.delete(name);
            else rule["resources"] = rest.join(",");
        }
    }
    return null;
}

function createGroup(req: ApiRequest, { state }: RouteContext): null {
    const group = requireArg(req.args, "group");
    requireArg(req.args, "nodes");
    if (state.haGroups.has(group)) throw new PveError(500, `ha group '${group}' already defined`);
    const data: ConfigMap = { group, type: "group" };
    for (const key of GROUP_KEYS) if (req.args[key] !== undefined) store(data, key, req.args[key] ?? "");
    state.haGroups.set(group, data);
    return null;
}

function groupAt(state: EmulatorState, group: string): ConfigMap {
    const data = state.haGroups.get(group);
    if (!data) throw new PveError(500, `no such ha group '${group}'`);
    return data;
}

function deleteGroup(req: ApiRequest, { state }: RouteContext): null {
    const group = String(groupAt(state, req.params["group"] ?? "")["group"]);
    const users = [...state.haResources.values()].filter((r) => r["group"] === group).map((r) => String(r["sid"]));
    if (users.length > 0) throw new PveError(500, `ha group '${group}' is used by ${users.join(", ")}`);
    state.haGroups.delete(group);
    return null;
}

function checkRule(state: EmulatorState, rule: ConfigMap): void {
    const type = String(rule["type"]);
    if (type !== "node-affinity" && type !== "resource-affinity") {
        throw parameterError({ type: `value '${type}' does not have a value in the enumeration 'node-affinity, resource-affinity'` });
    }
    const resources = String(rule["resources"] ?? "").split(",").filter((r) => r !== "");
    if (resources.length === 0) throw parameterError({ resources: "property is missing and it is not optional" });
    for (const sid of resources) {
        // Stricter than PVE, on purpose: a rule naming a guest that is not (yet) HA-managed means an ordering bug.
        if (!state.haResources.has(sid)) throw new PveError(500, `cannot use resource '${sid}' in rule - not an HA resource`);
    }
    if (type === "node-affinity" && !rule["nodes"]) throw parameterError({ nodes: "property is missing and it is not optional" });
    if (type === "node-affinity") {
        for (const entry of String(rule["nodes"]).split(",")) {
            const node = entry.split(":")[0] ?? "";
            if (!state.nodes.includes(node)) throw parameterError({ nodes: `no such node '${node}'` });
        }
    }
    if (type === "resource-affinity" && !["positive", "negative"].includes(String(rule["affinity"] ?? ""))) {
        throw parameterError({ affinity: "property is missing and it is not optional" });
    }
}

function createRule(req: ApiRequest, { state }: RouteContext): null {
    const name = requireArg(req.args, "rule");
    if (state.haRules.has(name)) throw new PveError(500, `ha rule '${name}' already defined`);
    const rule: ConfigMap = { rule: name, type: requireArg(req.args, "type") };
    for (const key of RULE_KEYS) if (req.args[key] !== undefined) store(rule, key, req.args[key] ?? "");
    checkRule(state, rule);
    state.haRules.set(name, rule);
    return null;
}

function ruleAt(state: EmulatorState, name: string): ConfigMap {
    const rule = state.haRules.get(name);
    if (!rule) throw new PveError(500, `no such ha rule '${name}'`);
    return rule;
}

function updateRule(req: ApiRequest, { state }: RouteContext): null {
    const rule = ruleAt(state, req.params["rule"] ?? "");
    if (req.args["type"] && req.args["type"] !== rule["type"]) throw parameterError({ type: "rule type cannot be changed" });
    const next: ConfigMap = { ...rule };
    for (const key of deleteList(req.args)) delete next[key];
    for (const key of RULE_KEYS) if (req.args[key] !== undefined) store(next, key, req.args[key] ?? "");
    checkRule(state, next);
    state.haRules.set(String(rule["rule"]), next);
    return null;
}

function withDigest(data: ConfigMap): ConfigMap {
    return { ...data, digest: digestOf(data) };
}

function listRules(state: EmulatorState): ConfigMap[] {
    return [...state.haRules.values()].map((rule, index) => ({ ...withDigest(rule), order: index + 1 }));
}

export function haRoutes(): Route[] {
    return [
        route("GET", "cluster/ha", () => [{ id: "resources" }, { id: "groups" }, { id: "rules" }, { id: "status" }]),
        route("GET", "cluster/ha/resources", (req, { state }) =>
            [...state.haResources.values()].filter((r) => !req.args["type"] || r["type"] === req.args["type"]).map(withDigest),
        ),
        route("POST", "cluster/ha/resources", createResource),
        route("GET", "cluster/ha/resources/{sid}", (req, { state }) => withDigest(resourceAt(state, req.params["sid"] ?? ""))),
        route("PUT", "cluster/ha/resources/{sid}", updateResource),
        route("DELETE", "cluster/ha/resources/{sid}", deleteResource),
        route("GET", "cluster/ha/groups", (_req, { state }) => [...state.haGroups.values()].map(withDigest)),
        route("POST", "cluster/ha/groups", createGroup),
        route("GET", "cluster/ha/groups/{group}", (req, { state }) => withDigest(groupAt(state, req.params["group"] ?? ""))),
        route("PUT", "cluster/ha/groups/{group}", (req, { state }) => {
            const data = groupAt(state, req.params["group"] ?? "");
            for (const key of deleteList(req.args)) delete data[key];
            for (const key of GROUP_KEYS) if (req.args[key] !== undefined) store(data, key, req.args[key] ?? "");
            return null;
        }),
        route("DELETE", "cluster/ha/groups/{group}", deleteGroup),
        route("GET", "cluster/ha/rules", (_req, { state }) => listRules(state)),
        route("POST", "cluster/ha/rules", createRule),
        route("GET", "cluster/ha/rules/{rule}", (req, { state }) => {
            const rule = ruleAt(state, req.params["rule"] ?? "");
            return listRules(state).find((r) => r["rule"] === rule["rule"]);
        }),
        route("PUT", "cluster/ha/rules/{rule}", updateRule),
        route("DELETE", "cluster/ha/rules/{rule}", (req, { state }) => {
            state.haRules.delete(String(ruleAt(state, req.params["rule"] ?? "")["rule"]));
            return null;
        }),
    ];
}
