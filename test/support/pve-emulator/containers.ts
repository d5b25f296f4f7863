// LXC containers: create, config (property strings with digest), status, start/shutdown/reboot, resize, interfaces, delete.
import { PveError, deleteList, intArg, parameterError, requireArg, route, type ApiRequest, type Route, type RouteContext } from "./api";
import { formatDiskSize, formatPropertyString, parseDiskSize, parsePropertyString, setProperty, type PropertyList } from "./property-string";
import { digestOf, type ConfigMap, type ConfigValue, type EmulatedContainer, type EmulatorState } from "./state";

const INTEGER_KEYS = new Set(["console", "cores", "cpuunits", "memory", "swap", "onboot", "protection", "template", "tty", "unprivileged", "debug"]);
const NUMBER_KEYS = new Set(["cpulimit"]);
const STRING_KEYS = new Set([
    "arch", "cmode", "description", "features", "hookscript", "hostname", "lock", "nameserver", "ostype",
    "searchdomain", "startup", "tags", "timezone", "entrypoint", "env",
]);
/** Parameters of `POST nodes/{node}/lxc` that steer the creation and are not stored. */
const CREATE_ONLY = new Set([
    "ostemplate", "vmid", "storage", "password", "ssh-public-keys", "start", "restore", "force", "unique", "pool",
    "ignore-unpack-errors", "bwlimit", "ha-managed",
]);
const NUMBERED = /^(net|mp|dev|unused)(\d+)$/;
/** Feature flags a token that is not root@pam may set (PVE: "changing feature flags (except nesting) is only allowed for root@pam"). */
const NON_ROOT_FEATURES = new Set(["nesting"]);

export function notFound(node: string, vmid: number | string): PveError {
    return new PveError(500, `Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist`);
}

/** The container at `node`/`vmid`; a container on another node is "not there" as far as that node knows. */
export function containerAt(state: EmulatorState, node: string, vmidText: string): EmulatedContainer {
    checkNode(state, node);
    const ct = state.containers.get(Number(vmidText));
    if (!ct || ct.node !== node) throw notFound(node, vmidText);
    return ct;
}

export function checkNode(state: EmulatorState, node: string): void {
    if (!state.nodes.includes(node)) {
        throw new PveError(595, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
    }
}

function macFor(vmid: number, index: number): string {
    const hex = (n: number): string => n.toString(16).padStart(2, "0").toUpperCase();
    return ["BC", "24", "11", hex((vmid >> 8) & 0xff), hex(vmid & 0xff), hex(index & 0xff)].join(":");
}

function sizeFromAllocation(volume: string): { storage: string; size: number } | undefined {
    // `store:16` asks PVE to allocate a new 16 GiB volume; `store:vm-100-disk-0` names an existing one.
    const match = /^([^:]+):(\d+(?:\.\d+)?)$/.exec(volume);
    return match ? { storage: match[1] ?? "", size: Number(match[2]) * 1024 ** 3 } : undefined;
}

function nextDiskIndex(ct: EmulatedContainer): number {
    let max = -1;
    for (const value of Object.values(ct.config)) {
        const match = /vm-\d+-disk-(\d+)/.exec(String(value));
        if (match) max = Math.max(max, Number(match[1]));
    }
    return max + 1;
}

/** rootfs / mpN: allocate `store:N` into a named volume with `size=`, or merge options into the existing one. */
function normalizeVolume(ct: EmulatedContainer, key: string, value: string, creating: boolean): string {
    const pairs = parsePropertyString(value, "volume");
    const volume = pairs.find(([k]) => k === "volume")?.[1];
    if (volume === undefined) throw parameterError({ [key]: "missing volume" });
    const existing = ct.config[key];
    const allocation = sizeFromAllocation(volume);
    let result: PropertyList = pairs.filter(([k]) => k !== "size" && k !== "volume");
    if (existing !== undefined && !creating) {
        const old = parsePropertyString(String(existing), "volume");
        const oldVolume = old.find(([k]) => k === "volume")?.[1] ?? "";
        if (allocation === undefined && volume !== oldVolume) {
            throw parameterError({ [key]: `unable to replace volume ${oldVolume} with ${volume} - use 'move_volume'` });
        }
        const oldSize = old.find(([k]) => k === "size")?.[1];
        result = [["volume", oldVolume], ...result];
        if (oldSize !== undefined) result = setProperty(result, "size", oldSize);
        return formatPropertyString(result, "volume");
    }
    if (allocation === undefined) throw parameterError({ [key]: `volume ${volume} does not exist` });
    const index = key === "rootfs" ? 0 : nextDiskIndex(ct);
    result = [["volume", `${allocation.storage}:vm-${ct.vmid}-disk-${index}`], ...result, ["size", formatDiskSize(allocation.size)]];
    return formatPropertyString(result, "volume");
}

function normalizeNetwork(ct: EmulatedContainer, key: string, value: string, index: number): string {
    const pairs = parsePropertyString(value);
    const map = new Map(pairs);
    if (!map.get("name")) throw parameterError({ [key]: "missing property - 'name'" });
    const previous = ct.config[key] === undefined ? undefined : new Map(parsePropertyString(String(ct.config[key])));
    if (!map.has("hwaddr")) map.set("hwaddr", previous?.get("hwaddr") ?? macFor(ct.vmid, index));
    if (!map.has("type")) map.set("type", "veth");
    const name = map.get("name") ?? "";
    map.delete("name");
    const sorted: PropertyList = [["name", name], ...[...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1))];
    return formatPropertyString(sorted);
}

/** PVE keeps tags unique, lowercased in practice and sorted, joined with `;`. */
export function normalizeTags(value: string): string {
    const tags = value.split(/[;,\s]+/).map((t) => t.trim().toLowerCase()).filter((t) => t !== "");
    return [...new Set(tags)].sort().join(";");
}

function featureFlags(value: ConfigValue | undefined): Map<string, string> {
    return new Map(value === undefined ? [] : parsePropertyString(String(value)));
}

function checkFeaturePermission(user: string, before: ConfigValue | undefined, after: string): void {
    if (user.split("!")[0] === "root@pam" && !user.includes("!")) return;
    const old = featureFlags(before);
    const next = featureFlags(after);
    for (const flag of new Set([...old.keys(), ...next.keys()])) {
        if (NON_ROOT_FEATURES.has(flag)) continue;
        const was = old.get(flag) ?? "0";
        const will = next.get(flag) ?? "0";
        if (was !== will && !(flag === "mount" && was === "" && will === "0")) {
            throw new PveError(403, "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)");
        }
    }
}

/** Validates and stores one config key the way PVE writes it into the container's .conf. */
function applyConfigKey(ct: EmulatedContainer, key: string, value: string, creating: boolean, user: string): void {
    const numbered = NUMBERED.exec(key);
    if (key === "rootfs" || numbered?.[1] === "mp") {
        ct.config[key] = normalizeVolume(ct, key, value, creating);
    } else if (numbered?.[1] === "net") {
        ct.config[key] = normalizeNetwork(ct, key, value, Number(numbered[2]));
    } else if (numbered) {
        ct.config[key] = value;
    } else if (INTEGER_KEYS.has(key)) {
        if (!/^-?\d+$/.test(value)) throw parameterError({ [key]: `type check ('integer') failed - got '${value}'` });
        ct.config[key] = Number(value);
    } else if (NUMBER_KEYS.has(key)) {
        if (Number.isNaN(Number(value))) throw parameterError({ [key]: `type check ('number') failed - got '${value}'` });
        ct.config[key] = Number(value);
    } else if (key === "description") {
        // PVE keeps the description as comment lines, so it always comes back with a final newline.
        ct.config[key] = `${value.replace(/\r\n/g, "\n").replace(/\n+$/, "")}\n`;
    } else if (key === "tags") {
        ct.config[key] = normalizeTags(value);
    } else if (key === "features") {
        checkFeaturePermission(user, ct.config[key], value);
        ct.config[key] = value;
    } else if (STRING_KEYS.has(key)) {
        ct.config[key] = value;
    } else {
        throw parameterError({ [key]: "property is not defined in schema and the schema does not allow additional properties" });
    }
}

function configData(ct: EmulatedContainer): ConfigMap {
    return { ...ct.config, digest: digestOf(ct.config) };
}

function diskBytes(ct: EmulatedContainer): number {
    const size = parsePropertyString(String(ct.config["rootfs"] ?? ""), "volume").find(([k]) => k === "size")?.[1];
    return size === undefined ? 0 : parseDiskSize(size);
}

function statusData(ct: EmulatedContainer, state: EmulatorState): Record<string, unknown> {
    const memory = Number(ct.config["memory"] ?? 512);
    const swap = Number(ct.config["swap"] ?? 512);
    const data: Record<string, unknown> = {
        vmid: ct.vmid,
        name: String(ct.config["hostname"] ?? `CT${ct.vmid}`),
        status: ct.status,
        type: "lxc",
        maxmem: memory * 1024 * 1024,
        maxswap: swap * 1024 * 1024,
        maxdisk: diskBytes(ct),
        cpus: Number(ct.config["cores"] ?? 1),
        uptime: ct.status === "running" && ct.startedAt !== undefined ? Math.max(0, Math.floor(Date.now() / 1000) - ct.startedAt) : 0,
        ha: { managed: state.haResources.has(`ct:${ct.vmid}`) ? 1 : 0 },
    };
    if (ct.config["tags"] !== undefined) data["tags"] = ct.config["tags"];
    if (ct.config["lock"] !== undefined) data["lock"] = ct.config["lock"];
    return data;
}

function interfacesData(ct: EmulatedContainer): unknown[] {
    if (ct.status !== "running") throw new PveError(500, `CT ${ct.vmid} not running`);
    const list: unknown[] = [
        {
            name: "lo",
            hwaddr: "00:00:00:00:00:00",
            "hardware-address": "00:00:00:00:00:00",
            inet: "127.0.0.1/8",
            "ip-addresses": [{ "ip-address": "127.0.0.1", prefix: 8, "ip-address-type": "inet" }],
        },
    ];
    const nets = Object.keys(ct.config).filter((k) => /^net\d+$/.test(k)).sort();
    for (const key of nets) {
        const net = new Map(parsePropertyString(String(ct.config[key])));
        const mac = net.get("hwaddr") ?? "";
        const ip = net.get("ip");
        // A static address is what the guest reports; "dhcp" gets a made-up lease so reads never wait.
        const cidr = ip === undefined || ip === "manual" ? undefined : ip === "dhcp" ? `192.0.2.${ct.vmid % 250}/24` : ip;
        const [address = "", prefix = "32"] = cidr?.split("/") ?? [];
        list.push({
            name: net.get("name") ?? key,
            hwaddr: mac,
            "hardware-address": mac,
            ...(cidr ? { inet: cidr } : {}),
            "ip-addresses": cidr ? [{ "ip-address": address, prefix: Number(prefix), "ip-address-type": "inet" }] : [],
        });
    }
    return list;
}

function createContainer(req: ApiRequest, ctx: RouteContext): string {
    const { state } = ctx;
    const node = req.params["node"] ?? "";
    checkNode(state, node);
    const vmid = intArg(req.args, "vmid");
    if (vmid === undefined) throw parameterError({ vmid: "property is missing and it is not optional" });
    requireArg(req.args, "ostemplate");
    const existing = state.containers.get(vmid);
    if (existing) throw new PveError(500, `CT ${vmid} already exists on node '${existing.node}'`);
    const poolId = req.args["pool"];
    if (poolId && !state.pools.has(poolId)) throw new PveError(500, `pool '${poolId}' does not exist`);

    const ct: EmulatedContainer = { vmid, node, config: {}, status: "stopped" };
    const storage = req.args["storage"] || "local";
    for (const [key, value] of Object.entries(req.args)) {
        if (CREATE_ONLY.has(key) || value === "") continue;
        applyConfigKey(ct, key, value, true, req.user);
    }
    if (ct.config["rootfs"] === undefined) applyConfigKey(ct, "rootfs", `${storage}:4`, true, req.user);
    ct.config["arch"] ??= "amd64";
    ct.config["hostname"] ??= `CT${vmid}`;
    ct.config["memory"] ??= 512;
    ct.config["swap"] ??= 512;
    ct.config["ostype"] ??= "debian";
    state.containers.set(vmid, ct);
    if (poolId) state.pools.get(poolId)?.vms.push(vmid);
    if (req.args["start"] === "1") {
        ct.status = "running";
        ct.startedAt = Math.floor(Date.now() / 1000);
    }
    return ctx.task(node, "vzcreate", String(vmid), req.user, [`extracting archive '${req.args["ostemplate"] ?? ""}'`, "Total bytes read: 1"]);
}

function updateConfig(req: ApiRequest, ctx: RouteContext): null {
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    const digest = req.args["digest"];
    if (digest && digest !== digestOf(ct.config)) {
        throw new PveError(500, "detected modified configuration - file changed by other user? Try again.");
    }
    const updates = Object.entries(req.args).filter(([key]) => !["delete", "digest", "revert"].includes(key));
    const removals = deleteList(req.args);
    if (updates.length === 0 && removals.length === 0) throw new PveError(500, "no options specified");
    for (const key of removals) {
        if (key === "rootfs") throw parameterError({ delete: "unable to delete required option 'rootfs'" });
        delete ct.config[key];
    }
    for (const [key, value] of updates) {
        if (CREATE_ONLY.has(key)) throw parameterError({ [key]: "property is not defined in schema and the schema does not allow additional properties" });
        if (value === "") {
            delete ct.config[key];
            continue;
        }
        applyConfigKey(ct, key, value, false, req.user);
    }
    return null;
}

function resize(req: ApiRequest, ctx: RouteContext): string {
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    const disk = requireArg(req.args, "disk");
    const sizeText = requireArg(req.args, "size");
    const current = ct.config[disk];
    if (current === undefined) throw parameterError({ disk: `unable to parse volume ID '${disk}'` });
    const pairs = parsePropertyString(String(current), "volume");
    const oldBytes = parseDiskSize(pairs.find(([k]) => k === "size")?.[1] ?? "0");
    const relative = sizeText.startsWith("+");
    const requested = parseDiskSize(relative ? sizeText.slice(1) : sizeText);
    const newBytes = relative ? oldBytes + requested : requested;
    if (newBytes < oldBytes) throw new PveError(500, "unable to shrink disk size");
    ct.config[disk] = formatPropertyString(setProperty(pairs, "size", formatDiskSize(newBytes)), "volume");
    return ctx.task(ct.node, "resize", String(ct.vmid), req.user);
}

function start(req: ApiRequest, ctx: RouteContext): string {
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    if (ct.status === "running") throw new PveError(500, `CT ${ct.vmid} already running`);
    ct.status = "running";
    ct.startedAt = Math.floor(Date.now() / 1000);
    return ctx.task(ct.node, "vzstart", String(ct.vmid), req.user);
}

function stopLike(type: string) {
    return (req: ApiRequest, ctx: RouteContext): string => {
        const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
        if (ct.status !== "running") throw new PveError(500, `CT ${ct.vmid} not running`);
        ct.status = "stopped";
        ct.startedAt = undefined;
        return ctx.task(ct.node, type, String(ct.vmid), req.user);
    };
}

function reboot(req: ApiRequest, ctx: RouteContext): string {
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    if (ct.status !== "running") throw new PveError(500, `CT ${ct.vmid} not running`);
    ct.startedAt = Math.floor(Date.now() / 1000);
    return ctx.task(ct.node, "vzreboot", String(ct.vmid), req.user);
}

function destroy(req: ApiRequest, ctx: RouteContext): string {
    const { state } = ctx;
    const ct = containerAt(state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    const sid = `ct:${ct.vmid}`;
    if (ct.config["protection"] === 1) throw new PveError(500, `can't remove CT ${ct.vmid} - protection mode enabled`);
    if (ct.status === "running") throw new PveError(500, `CT ${ct.vmid} is running - destroy failed`);
    const purge = req.args["purge"] === "1";
    if (state.haResources.has(sid) && !purge) {
        throw new PveError(500, `unable to remove CT ${ct.vmid} - used in HA resources and purge parameter not set.`);
    }
    state.containers.delete(ct.vmid);
    state.firewall.delete(state.containerFirewallScope(ct));
    for (const pool of state.pools.values()) pool.vms = pool.vms.filter((id) => id !== ct.vmid);
    if (purge) state.haResources.delete(sid);
    return ctx.task(ct.node, "vzdestroy", String(ct.vmid), req.user);
}

function listContainers(req: ApiRequest, ctx: RouteContext): unknown[] {
    const node = req.params["node"] ?? "";
    checkNode(ctx.state, node);
    return [...ctx.state.containers.values()]
        .filter((ct) => ct.node === node)
        .map((ct) => ({ vmid: ct.vmid, name: ct.config["hostname"], status: ct.status, tags: ct.config["tags"], type: "lxc" }));
}

export function containerRoutes(): Route[] {
    const ct = "nodes/{node}/lxc/{vmid}";
    return [
        route("GET", "nodes/{node}/lxc", listContainers),
        route("POST", "nodes/{node}/lxc", createContainer),
        route("GET", `${ct}/config`, (req, ctx) => configData(containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? ""))),
        route("PUT", `${ct}/config`, updateConfig),
        route("GET", `${ct}/status/current`, (req, ctx) =>
            statusData(containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? ""), ctx.state),
        ),
        route("POST", `${ct}/status/start`, start),
        route("POST", `${ct}/status/shutdown`, stopLike("vzshutdown")),
        route("POST", `${ct}/status/stop`, stopLike("vzstop")),
        route("POST", `${ct}/status/reboot`, reboot),
        route("PUT", `${ct}/resize`, resize),
        route("GET", `${ct}/interfaces`, (req, ctx) => interfacesData(containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? ""))),
        route("DELETE", ct, destroy),
        route("GET", ct, (req, ctx) => {
            containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
            return [{ subdir: "config" }, { subdir: "status" }, { subdir: "firewall" }, { subdir: "interfaces" }];
        }),
    ];
}
