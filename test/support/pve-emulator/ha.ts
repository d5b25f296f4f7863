// High availability: resources (`ct:<id>`), groups (PVE 8) and rules (PVE 9), as /cluster/ha/* answers them.
// Rules from proxmox/pve-ha-manager: src/PVE/API2/HA/{Resources,Groups,Rules}.pm and src/PVE/HA/Config.pm,
// at 4.0.7 (PVE 8.4, commit 53d8e48) and master (PVE 9). The schema (which differs between them) is
// checked before any of this runs.
import { PveError, deleteList, requireArg, route, type ApiRequest, type Route, type RouteContext } from "./api";
import { digestOf, type ConfigMap, type EmulatorState } from "./state";

const RESOURCE_KEYS = ["state", "comment", "group", "max_restart", "max_relocate", "failback"];
const INTEGER_KEYS = new Set(["max_restart", "max_relocate", "failback", "restricted", "nofailback", "strict", "disable"]);
const GROUP_KEYS = ["nodes", "restricted", "nofailback", "comment"];
const RULE_KEYS = ["resources", "nodes", "strict", "affinity", "disable", "comment"];

function store(target: ConfigMap, key: string, value: string): void {
    if (value === "") delete target[key];
    else target[key] = INTEGER_KEYS.has(key) ? Number(value) : value;
}

/**
 * PVE::HA::Config::lock_ha_domain: `die "$errmsg: $err"` turns whatever failed inside into a plain
 * 500, an exception stringified the way PVE::Exception does (its code first, then its field errors).
 */
export function locked<T>(what: string, code: () => T): T {
    try {
        return code();
    } catch (error) {
        if (!(error instanceof PveError)) throw error;
        throw new PveError(500, `${what}: ${stringifyException(error)}`);
    }
}

/** PVE::Exception::stringify, without the final newline. */
export function stringifyException(error: PveError): string {
    const head = error.status === 500 && !error.errors ? error.message : `${error.status} ${error.message}`;
    const fields = Object.entries(error.errors ?? {}).map(([k, v]) => `\n${k}: ${v}`);
    return `${head}${fields.join("")}`;
}

/** PVE::HA::Config::parse_sid: `100` is resolved through the cluster's guest list; `type:name` is taken as it is. */
function parseSid(state: EmulatorState, sid: string): { sid: string; type: string; name: string } {
    if (/^\d+$/.test(sid)) {
        if (!state.containers.has(Number(sid))) throw new PveError(500, `unable to detect SID from VMID - VM/CT ${sid} does not exist`);
        return { sid: `ct:${sid}`, type: "ct", name: sid };
    }
    const match = /^(\S+):(\S+)$/.exec(sid);
    if (!match) throw new PveError(500, `unable to parse service id '${sid}'`);
    return { sid, type: match[1] ?? "", name: match[2] ?? "" };
}

/** PVE 9's HA config: groups count as migrated to rules once none is left (PVE::HA::Config::have_groups_been_migrated). */
function groupsMigrated(state: EmulatorState): boolean {
    return state.major >= 9 && state.haGroups.size === 0;
}

function applyGuestState(state: EmulatorState, sid: string, requested: string): void {
    const match = /^ct:(\d+)$/.exec(sid);
    const ct = match ? state.containers.get(Number(match[1])) : undefined;
    if (!ct) return;
    // The HA manager starts or stops the guest to match the requested state.
    if ((requested === "started" || requested === "enabled") && ct.status !== "running") {
        ct.status = "running";
        ct.startedAt = Math.floor(Date.now() / 1000);
    } else if ((requested === "stopped" || requested === "disabled") && ct.status === "running") {
        ct.status = "stopped";
    }
}

/** Resources.pm create: sid parsed, types agree, no group once groups are migrated, the guest exists, not defined yet. */
function createResource(req: ApiRequest, { state }: RouteContext): null {
    const { sid, type, name } = parseSid(state, requireArg(req.args, "sid"));
    if (req.args["type"] && req.args["type"] !== type) throw new PveError(500, "types does not match");
    if (req.args["group"] !== undefined && groupsMigrated(state)) {
        throw new PveError(500, "invalid parameter 'group': ha groups have been migrated to rules");
    }
    // PVE::HA::Resources::PVECT::exists (only containers are emulated)
    const guest = state.containers.get(Number(name));
    if (type !== "ct" || !guest) throw new PveError(500, `resource '${type}:${name}' does not exist in cluster`);
    return locked("create resource failed", () => {
        if (state.haResources.has(sid)) throw new PveError(500, `resource ID '${sid}' already defined`);
        const resource: ConfigMap = { sid, type, state: "started" };
        for (const key of RESOURCE_KEYS) if (req.args[key] !== undefined) store(resource, key, req.args[key] ?? "");
        state.haResources.set(sid, resource);
        applyGuestState(state, sid, String(resource["state"]));
        return null;
    });
}

/** Resources.pm read (api_copy_config): in PVE 9 without the `group` key once groups are migrated. */
function resourceData(state: EmulatorState, resource: ConfigMap): ConfigMap {
    const copy: ConfigMap = { ...resource, digest: digestOf([...state.haResources.values()]) };
    if (groupsMigrated(state)) delete copy["group"];
    return copy;
}

function resourceAt(state: EmulatorState, sidText: string): ConfigMap {
    const { sid } = parseSid(state, sidText);
    const resource = state.haResources.get(sid);
    if (!resource) throw new PveError(500, `no such resource '${sid}'`);
    return resource;
}

/** Resources.pm update: a named group must exist (and, in PVE 9, groups must not be migrated yet). */
function updateResource(req: ApiRequest, { state }: RouteContext): null {
    const { sid, type } = parseSid(state, req.params["sid"] ?? "");
    if (req.args["type"] && req.args["type"] !== type) throw new PveError(500, "types does not match");
    const group = req.args["group"];
    if (group) {
        if (groupsMigrated(state)) throw new PveError(500, "invalid parameter 'group': ha groups have been migrated to rules");
        if (!state.haGroups.has(group)) throw new PveError(500, `HA group '${group}' does not exist`);
    }
    return locked("update resources config failed", () => {
        const resource = state.haResources.get(sid);
        if (!resource) throw new PveError(500, `no such resource '${sid}'`);
        if (req.args["digest"] && req.args["digest"] !== digestOf([...state.haResources.values()])) {
            throw new PveError(500, "detected modified configuration - file changed by other user? Try again.");
        }
        for (const key of RESOURCE_KEYS) if (req.args[key] !== undefined) store(resource, key, req.args[key] ?? "");
        for (const key of deleteList(req.args)) {
            if (!RESOURCE_KEYS.includes(key)) throw new PveError(500, `no such option '${key}'`);
            delete resource[key];
        }
        applyGuestState(state, sid, String(resource["state"]));
        return null;
    });
}

/**
 * PVE::HA::Config::delete_service_from_config. In PVE 9 with `purge` (the API's default), the
 * resource also leaves every rule that names it, and a rule left without resources is deleted.
 */
export function deleteHaResource(state: EmulatorState, sid: string, purge: boolean): void {
    state.haResources.delete(sid);
    if (!purge || state.major < 9) return;
    for (const [name, rule] of state.haRules) {
        const rest = String(rule["resources"]).split(",").filter((r) => r !== sid);
        if (rest.length === 0) state.haRules.delete(name);
        else rule["resources"] = rest.join(",");
    }
}

/** Resources.pm delete: a sid that HA does not manage is refused, not ignored. */
function deleteResource(req: ApiRequest, { state }: RouteContext): null {
    const { sid } = parseSid(state, req.params["sid"] ?? "");
    if (!state.haResources.has(sid)) throw new PveError(500, `cannot delete service '${sid}', not HA managed!`);
    deleteHaResource(state, sid, req.args["purge"] !== "0");
    return null;
}

/** Groups.pm: in PVE 9 every call fails once groups are migrated (there are none), with the call's own verb. */
function checkGroupsAvailable(state: EmulatorState, verb: string): void {
    if (groupsMigrated(state)) throw new PveError(500, `cannot ${verb}: ha groups have been migrated to rules`);
}

function createGroup(req: ApiRequest, { state }: RouteContext): null {
    checkGroupsAvailable(state, "create group");
    const group = requireArg(req.args, "group");
    if (req.args["type"] && req.args["type"] !== "group") throw new PveError(500, "types does not match");
    return locked("create ha group failed", () => {
        if (state.haGroups.has(group)) throw new PveError(500, `ha group ID '${group}' already defined`);
        const data: ConfigMap = { group, type: "group" };
        for (const key of GROUP_KEYS) if (req.args[key] !== undefined) store(data, key, req.args[key] ?? "");
        state.haGroups.set(group, data);
        return null;
    });
}

function groupAt(state: EmulatorState, group: string): ConfigMap {
    const data = state.haGroups.get(group);
    if (!data) throw new PveError(500, `no such ha group '${group}'`);
    return data;
}

function updateGroup(req: ApiRequest, { state }: RouteContext): null {
    checkGroupsAvailable(state, "update group");
    return locked("update ha group failed", () => {
        const data = groupAt(state, req.params["group"] ?? "");
        for (const key of GROUP_KEYS) if (req.args[key] !== undefined) store(data, key, req.args[key] ?? "");
        for (const key of deleteList(req.args)) {
            if (!GROUP_KEYS.includes(key)) throw new PveError(500, `no such option '${key}'`);
            if (key === "nodes") throw new PveError(500, `unable to delete required option '${key}'`);
            delete data[key];
        }
        return null;
    });
}

function deleteGroup(req: ApiRequest, { state }: RouteContext): null {
    checkGroupsAvailable(state, "delete group");
    return locked("delete ha group failed", () => {
        const group = String(groupAt(state, req.params["group"] ?? "")["group"]);
        const user = [...state.haResources.values()].find((r) => r["group"] === group);
        if (user) throw new PveError(500, `ha group is used by service '${String(user["sid"])}'`);
        state.haGroups.delete(group);
        return null;
    });
}

function ruleResources(rule: ConfigMap): string[] {
    return String(rule["resources"] ?? "").split(",").filter((r) => r !== "");
}

/**
 * Rules.pm: every resource must be HA-managed, every node must exist, and the rule set must stay
 * feasible (PVE::HA::Rules::NodeAffinity check_single_resource_reference: a resource is in at most
 * one enabled node-affinity rule). Infeasibility is a 400 with the reasons per parameter.
 */
function checkRule(state: EmulatorState, name: string, rule: ConfigMap, rules: Map<string, ConfigMap>): void {
    const resources = ruleResources(rule);
    if (resources.length === 0) throw new PveError(500, "no resources were specified");
    const unmanaged = [...resources].sort().filter((sid) => !state.haResources.has(sid));
    if (unmanaged.length > 0) throw new PveError(500, `cannot use unmanaged resource(s) ${unmanaged.join(", ")}.`);
    if (rule["nodes"] !== undefined) {
        const nodes = String(rule["nodes"]).split(",").map((entry) => entry.split(":")[0] ?? "").filter((n) => n !== "");
        if (nodes.length === 0) throw new PveError(500, "no nodes were specified");
        const missing = [...nodes].sort().filter((node) => !state.nodes.includes(node));
        if (missing.length > 0) throw new PveError(500, `cannot use non-existent node(s) ${missing.join(", ")}.`);
    }
    if (rule["type"] !== "node-affinity" || rule["disable"] === 1) return;
    const taken = resources.filter((sid) =>
        [...rules].some(([other, r]) => other !== name && r["type"] === "node-affinity" && r["disable"] !== 1 && ruleResources(r).includes(sid)),
    );
    if (taken.length > 0) {
        const reasons = [...taken].sort().map((sid) => `resource '${sid}' is already used in another node affinity rule`).join(", ");
        throw new PveError(400, `Rule '${name}' is invalid.`, { resources: reasons });
    }
}

function checkRulesAvailable(state: EmulatorState, verb: string): void {
    if (!groupsMigrated(state)) throw new PveError(500, `cannot ${verb} ha rule: ha groups have not been migrated yet`);
}

function createRule(req: ApiRequest, { state }: RouteContext): null {
    checkRulesAvailable(state, "create");
    const name = requireArg(req.args, "rule");
    const rule: ConfigMap = { rule: name, type: requireArg(req.args, "type") };
    for (const key of RULE_KEYS) if (req.args[key] !== undefined) store(rule, key, req.args[key] ?? "");
    // `delete $param->{disable} if !$param->{disable}`
    if (rule["disable"] === 0) delete rule["disable"];
    return locked("create ha rule failed", () => {
        if (state.haRules.has(name)) throw new PveError(500, `HA rule '${name}' already defined`);
        checkRule(state, name, rule, state.haRules);
        state.haRules.set(name, rule);
        return null;
    });
}

function updateRule(req: ApiRequest, { state }: RouteContext): null {
    checkRulesAvailable(state, "update");
    const name = req.params["rule"] ?? "";
    return locked("update HA rules failed", () => {
        if (req.args["digest"] && req.args["digest"] !== digestOf([...state.haRules.values()])) {
            throw new PveError(500, "detected modified configuration - file changed by other user? Try again.");
        }
        const rule = state.haRules.get(name);
        if (!rule) throw new PveError(500, `HA rule '${name}' does not exist`);
        const next: ConfigMap = { ...rule };
        for (const key of RULE_KEYS) if (req.args[key] !== undefined) store(next, key, req.args[key] ?? "");
        if (next["disable"] === 0) delete next["disable"];
        for (const key of deleteList(req.args)) delete next[key];
        checkRule(state, name, next, state.haRules);
        state.haRules.set(name, next);
        return null;
    });
}

/** Rules.pm `$get_api_ha_rule`: the rule with its id, the config's digest and its order. */
function ruleData(state: EmulatorState, name: string): ConfigMap {
    const rule = state.haRules.get(name);
    if (!rule) throw new PveError(500, `no such ha rule '${name}'`);
    const order = [...state.haRules.keys()].indexOf(name) + 1;
    return { ...rule, rule: name, digest: digestOf([...state.haRules.values()]), order };
}

export function haRoutes(): Route[] {
    return [
        route("GET", "cluster/ha", () => [{ id: "status" }, { id: "resources" }, { id: "groups" }, { id: "rules" }]),
        route("GET", "cluster/ha/resources", (req, { state }) =>
            [...state.haResources.values()].filter((r) => !req.args["type"] || r["type"] === req.args["type"]).map((r) => resourceData(state, r)),
        ),
        route("POST", "cluster/ha/resources", createResource),
        route("GET", "cluster/ha/resources/{sid}", (req, { state }) => resourceData(state, resourceAt(state, req.params["sid"] ?? ""))),
        route("PUT", "cluster/ha/resources/{sid}", updateResource),
        route("DELETE", "cluster/ha/resources/{sid}", deleteResource),
        route("GET", "cluster/ha/groups", (_req, { state }) => {
            checkGroupsAvailable(state, "index groups");
            return [...state.haGroups.values()].map((g) => ({ ...g, digest: digestOf([...state.haGroups.values()]) }));
        }),
        route("POST", "cluster/ha/groups", createGroup),
        route("GET", "cluster/ha/groups/{group}", (req, { state }) => {
            checkGroupsAvailable(state, "read group");
            return { ...groupAt(state, req.params["group"] ?? ""), digest: digestOf([...state.haGroups.values()]) };
        }),
        route("PUT", "cluster/ha/groups/{group}", updateGroup),
        route("DELETE", "cluster/ha/groups/{group}", deleteGroup),
        route("GET", "cluster/ha/rules", (req, { state }) =>
            [...state.haRules.keys()]
                .map((name) => ruleData(state, name))
                .filter((r) => (!req.args["type"] || r["type"] === req.args["type"]) && (!req.args["resource"] || ruleResources(r).includes(req.args["resource"]))),
        ),
        route("POST", "cluster/ha/rules", createRule),
        route("GET", "cluster/ha/rules/{rule}", (req, { state }) => ruleData(state, req.params["rule"] ?? "")),
        route("PUT", "cluster/ha/rules/{rule}", updateRule),
        // Rules.pm delete_rule deletes whatever is there: an unknown rule is no error.
        route("DELETE", "cluster/ha/rules/{rule}", (req, { state }) => {
            state.haRules.delete(req.params["rule"] ?? "");
            return null;
        }),
    ];
}
