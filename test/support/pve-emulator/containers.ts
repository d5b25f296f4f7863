// LXC containers: create, config (property strings with digest), status, start/shutdown/reboot, resize, interfaces, delete.
// The schema has already checked every parameter (schema.ts); what is here are the rules pve-container
// enforces in code, each with the function it mirrors (src/PVE/API2/LXC.pm, API2/LXC/Config.pm,
// API2/LXC/Status.pm, LXC.pm, LXC/Config.pm of proxmox/pve-container).
import { PveError, deleteList, intArg, parameterError, requireArg, route, type ApiRequest, type Route, type RouteContext } from "./api";
import { parseSize } from "./formats";
import { deleteHaResource } from "./ha";
import { formatDiskSize, formatPropertyString, parseDiskSize, parsePropertyString, setProperty, type PropertyList } from "./property-string";
import { apiSchema } from "./schema";
import { digestOf, type ConfigMap, type ConfigValue, type EmulatedContainer, type EmulatorState } from "./state";

/** Parameters of `POST nodes/{node}/lxc` that steer the creation and are not stored (create_vm's extract_param calls). */
const CREATE_ONLY = new Set([
    "node", "ostemplate", "vmid", "storage", "password", "ssh-public-keys", "start", "restore", "force", "unique", "pool",
    "ignore-unpack-errors", "bwlimit", "ha-managed",
]);
/** Parameters of `PUT …/config` that are not config keys. */
const UPDATE_CONTROL = new Set(["node", "vmid", "delete", "digest", "revert"]);
/** update_pct_config: options a delete may not remove. */
const REQUIRED_OPTIONS = new Set(["memory", "rootfs", "ostype"]);
const NUMBERED = /^(net|mp|dev|unused)(\d+)$/;

/** The one user PVE's permission code exempts (check_ct_modify_config_perm: `return 1 if $authuser eq 'root@pam'`). An API token never is. */
const ROOT = "root@pam";

export function notFound(node: string, vmid: number | string): PveError {
    // PVE::AbstractConfig::load_config
    return new PveError(500, `Configuration file 'nodes/${node}/lxc/${vmid}.conf' does not exist`);
}

/** The container at `node`/`vmid`; a container on another node is "not there" as far as that node knows. */
export function containerAt(state: EmulatorState, node: string, vmidText: string): EmulatedContainer {
    checkNode(state, node);
    const ct = state.containers.get(Number(vmidText));
    if (!ct || ct.node !== node) throw notFound(node, vmidText);
    return ct;
}

/** pveproxy resolves `proxyto => 'node'` before anything else; an unknown node cannot be reached. */
export function checkNode(state: EmulatorState, node: string): void {
    if (!state.nodes.includes(node)) {
        throw new PveError(595, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
    }
}

/** PVE::AbstractConfig::check_lock */
function checkLock(ct: EmulatedContainer): void {
    if (ct.config["lock"] !== undefined) throw new PveError(500, `CT is locked (${String(ct.config["lock"])})`);
}

/** PVE::AbstractConfig::check_protection */
function checkProtection(ct: EmulatedContainer, what: string): void {
    if (ct.config["protection"] === 1) throw new PveError(500, `${what} - protection mode enabled`);
}

/** PVE::Tools::assert_if_modified */
export function assertNotModified(digest: string | undefined, current: string): void {
    if (digest && digest !== current) throw new PveError(500, "detected modified configuration - file changed by other user? Try again.");
}

function macFor(vmid: number, index: number): string {
    const hex = (n: number): string => n.toString(16).padStart(2, "0").toUpperCase();
    return ["BC", "24", "11", hex((vmid >> 8) & 0xff), hex(vmid & 0xff), hex(index & 0xff)].join(":");
}

/** `store:16` asks PVE to allocate a new 16 GiB volume ($PVE::LXC::NEW_DISK_RE); `store:vm-100-disk-0` names an existing one. */
function newDisk(volume: string): { storage: string; size: number } | undefined {
    const match = /^([^:\s]+):(\d+(?:\.\d+)?)$/.exec(volume);
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

/** PVE::LXC::Config::classify_mountpoint */
function mountPointType(volume: string): "volume" | "bind" | "device" {
    if (!volume.startsWith("/")) return "volume";
    return volume.startsWith("/dev/") ? "device" : "bind";
}

function volumeOf(value: ConfigValue | string | undefined): string {
    return parsePropertyString(String(value ?? ""), "volume").find(([k]) => k === "volume")?.[1] ?? "";
}

/** rootfs / mpN: allocate `store:N` into a named volume with `size=` (create_disks), or keep an existing volume and its size. */
function storeVolume(ct: EmulatedContainer, key: string, value: string): string {
    const pairs = parsePropertyString(value, "volume");
    const volume = volumeOf(value);
    const allocation = newDisk(volume);
    let result: PropertyList = pairs.filter(([k]) => k !== "size" && k !== "volume");
    const existing = ct.config[key];
    if (allocation === undefined) {
        if (mountPointType(volume) !== "volume") return formatPropertyString([["volume", volume], ...result], "volume");
        if (existing !== undefined && volumeOf(existing) !== volume) {
            throw parameterError({ [key]: `unable to replace volume ${volumeOf(existing)} with ${volume} - use 'move_volume'` });
        }
        // The size is what the storage reports (rescan_volume), never what the request says.
        const size = existing === undefined ? undefined : parsePropertyString(String(existing), "volume").find(([k]) => k === "size")?.[1];
        if (existing === undefined) throw new PveError(500, `volume '${volume}' does not exist`);
        result = [["volume", volume], ...result];
        if (size !== undefined) result = setProperty(result, "size", size);
        return formatPropertyString(result, "volume");
    }
    const index = key === "rootfs" ? 0 : nextDiskIndex(ct);
    result = [["volume", `${allocation.storage}:vm-${ct.vmid}-disk-${index}`], ...result, ["size", formatDiskSize(allocation.size)]];
    return formatPropertyString(result, "volume");
}

function storeNetwork(ct: EmulatedContainer, key: string, value: string, index: number): string {
    const map = new Map(parsePropertyString(value));
    const previous = ct.config[key] === undefined ? undefined : new Map(parsePropertyString(String(ct.config[key])));
    // parse_lxc_network: type is always veth, a missing hwaddr gets a (here: stable) random one.
    if (!map.has("hwaddr")) map.set("hwaddr", previous?.get("hwaddr") ?? macFor(ct.vmid, index));
    map.set("type", "veth");
    const name = map.get("name") ?? "";
    map.delete("name");
    // print_property_string: the required key first, then the optional ones sorted.
    const sorted: PropertyList = [["name", name], ...[...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1))];
    return formatPropertyString(sorted);
}

/** PVE::GuestHelpers::get_unique_tags with the default tag style: lowercased, unique, sorted, joined with `;`. */
export function normalizeTags(value: string): string {
    const tags = value.split(/[;,\s]+/).map((t) => t.trim().toLowerCase()).filter((t) => t !== "");
    return [...new Set(tags)].sort().join(";");
}

/** PVE::LXC::Config->parse_features (booleans read with parse_boolean). */
function parseFeatures(value: ConfigValue | string | undefined): Map<string, string> {
    if (value === undefined || value === "" || value === 0) return new Map();
    return new Map(
        parsePropertyString(String(value)).map(([k, v]): [string, string] => [k, k === "mount" ? v : /^(1|on|yes|true)$/i.test(v) ? "1" : /^(0|off|no|false)$/i.test(v) ? "0" : v]),
    );
}

/**
 * PVE::LXC::check_ct_modify_config_perm for the options whose rule is written in code rather than in
 * privileges: feature flags, hook scripts, device passthrough and non-volume mount points are for
 * root@pam alone. (Privileges from ACLs are not modelled: a token may do everything else.)
 */
function checkModifyPermission(user: string, ct: Pick<EmulatedContainer, "config">, changes: Record<string, string>, deletions: string[], unprivileged: boolean): void {
    if (user === ROOT) return;
    const check = (key: string, deleting: boolean): void => {
        if ((key === "rootfs" || /^mp\d+$/.test(key)) && !deleting) {
            const type = mountPointType(volumeOf(changes[key]));
            if (type !== "volume") throw new PveError(403, `Permission check failed (mount point type ${type} is only allowed for root@pam)`);
        } else if (/^dev\d+$/.test(key)) {
            throw new PveError(403, "Permission check failed (configuring device passthrough is only allowed for root@pam)");
        } else if (key === "hookscript") {
            throw new PveError(403, "Permission check failed (changing the hookscript is only allowed for root@pam)");
        } else if (key === "features") {
            if (!unprivileged) throw new PveError(403, "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)");
            if (otherFeatureChanged(ct.config["features"], deleting ? undefined : changes[key], deleting)) {
                throw new PveError(403, "Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)");
            }
        }
    };
    for (const key of Object.keys(changes)) check(key, false);
    for (const key of deletions) check(key, true);
}

/**
 * The feature-flag half of check_ct_modify_config_perm: on a container with features, any flag
 * other than `nesting` whose value differs counts, where an absent flag is '' and so differs from
 * `0`; without features (a new container), anything but `nesting` alone counts; deleting counts
 * when the old flags were more than `nesting`.
 */
export function otherFeatureChanged(before: ConfigValue | undefined, after: string | undefined, deleting: boolean): boolean {
    const onlyNesting = (flags: Map<string, string>): boolean => flags.size === 0 || (flags.size === 1 && flags.has("nesting"));
    if (deleting) return !onlyNesting(parseFeatures(before));
    const next = parseFeatures(after);
    if (before === undefined || before === "") return !onlyNesting(next);
    const old = parseFeatures(before);
    for (const flag of new Set([...old.keys(), ...next.keys()])) {
        if (flag !== "nesting" && (old.get(flag) ?? "") !== (next.get(flag) ?? "")) return true;
    }
    return false;
}

/** The schema type of a container option, to store integers and booleans the way GET config returns them. */
function optionType(state: EmulatorState, key: string): string | undefined {
    const properties = apiSchema(state.major).endpoints["PUT /nodes/{node}/lxc/{vmid}/config"]?.parameters.properties ?? {};
    const numbered = NUMBERED.exec(key);
    const schema = properties[key] ?? (numbered ? properties[`${numbered[1] ?? ""}[n]`] : undefined);
    const type = schema?.type;
    return Array.isArray(type) ? type[0] : type;
}

/** Stores one (already schema-checked) option the way PVE writes it into the container's .conf. */
function storeOption(state: EmulatorState, ct: EmulatedContainer, key: string, value: string): void {
    const numbered = NUMBERED.exec(key);
    const type = optionType(state, key);
    if (key === "rootfs" || numbered?.[1] === "mp") ct.config[key] = storeVolume(ct, key, value);
    else if (numbered?.[1] === "net") ct.config[key] = storeNetwork(ct, key, value, Number(numbered[2]));
    // The description is kept as comment lines, so it always comes back with a final newline.
    else if (key === "description") ct.config[key] = `${value.replace(/\r\n/g, "\n").replace(/\n+$/, "")}\n`;
    else if (key === "tags") ct.config[key] = normalizeTags(value);
    else if (type === "integer" || type === "boolean" || type === "number") ct.config[key] = Number(value);
    else ct.config[key] = value;
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

/** API2/LXC.pm create_vm (without restore): vmid free, pool exists, permissions, disks allocated, defaults filled in. */
function createContainer(req: ApiRequest, ctx: RouteContext): string {
    const { state } = ctx;
    const node = req.params["node"] ?? "";
    const vmid = intArg(req.args, "vmid") ?? 0;
    // The archive must exist in PVE; a template volume ID is all the emulator can check (the schema did).
    requireArg(req.args, "ostemplate");
    // PVE::Cluster::check_vmid_unused
    const existing = state.containers.get(vmid);
    if (existing) throw new PveError(500, `CT ${vmid} already exists on node '${existing.node}'`);
    const poolId = req.args["pool"];
    // RPCEnvironment::check_pool_exist
    if (poolId && !state.pools.has(poolId)) throw new PveError(403, `Permission check failed (pool '${poolId}' does not exist)`);
    // 'unprivileged' defaults to 1 for a new container (not a restore).
    const unprivileged = req.args["unprivileged"] === undefined || req.args["unprivileged"] === "" ? true : req.args["unprivileged"] === "1";
    const options = Object.fromEntries(Object.entries(req.args).filter(([key, value]) => !CREATE_ONLY.has(key) && value !== ""));
    checkModifyPermission(req.user, { config: {} }, options, [], unprivileged);

    const ct: EmulatedContainer = { vmid, node, config: {}, status: "stopped" };
    for (const [key, value] of Object.entries(options)) {
        if (key === "unprivileged") continue;
        if (key === "rootfs" || /^mp\d+$/.test(key)) {
            // create_disks: only `STORAGE:SIZE` (a new volume) or a bind/device path is allowed on create.
            const volume = volumeOf(value);
            if (newDisk(volume) === undefined && mountPointType(volume) === "volume") throw new PveError(500, `volume '${volume}' does not exist`);
        }
        storeOption(state, ct, key, value);
    }
    // `rootfs` defaults to a 4 GiB volume on `storage` (default `local`).
    if (ct.config["rootfs"] === undefined) storeOption(state, ct, "rootfs", `${req.args["storage"] || "local"}:4`);
    ct.config["unprivileged"] = unprivileged ? 1 : 0;
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

/** API2/LXC/Config.pm update_vm, then PVE::LXC::Config->update_pct_config. */
function updateConfig(req: ApiRequest, ctx: RouteContext): null {
    const changes = Object.fromEntries(Object.entries(req.args).filter(([key]) => !UPDATE_CONTROL.has(key)));
    const removals = deleteList(req.args);
    // Pending changes are not modelled (every change applies at once), so a revert only gets checked.
    const reverts = deleteList({ delete: req.args["revert"] ?? "" });
    if (Object.keys(changes).length === 0 && req.args["delete"] === undefined && req.args["revert"] === undefined) {
        throw new PveError(500, "no options specified");
    }
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    checkLock(ct);
    assertNotModified(req.args["digest"], digestOf(ct.config));
    const unprivileged = ct.config["unprivileged"] === 1;
    checkModifyPermission(req.user, ct, {}, removals, unprivileged);
    checkModifyPermission(req.user, ct, {}, reverts, unprivileged);
    for (const key of reverts) {
        if (optionType(ctx.state, key) === undefined) throw parameterError({ revert: `unknown option '${key}'` });
        if (changes[key] !== undefined) throw parameterError({ revert: `you can't use '-${key}' and '-revert ${key}' at the same time` });
    }
    for (const key of removals) {
        if (optionType(ctx.state, key) === undefined) throw parameterError({ delete: `unknown option '${key}'` });
        if (changes[key] !== undefined) throw parameterError({ delete: `you can't use '-${key}' and -delete ${key}' at the same time` });
        if (reverts.includes(key)) throw parameterError({ delete: `you can't use '-delete ${key}' and '-revert ${key}' at the same time` });
    }
    checkModifyPermission(req.user, ct, changes, [], unprivileged);

    // update_pct_config: deletions first (an option that is not set is only a warning), then the changes in key order.
    for (const key of removals) {
        if (ct.config[key] === undefined) continue;
        if (REQUIRED_OPTIONS.has(key)) throw new PveError(500, `unable to delete required option '${key}'`);
        if (/^(unused|mp)\d+$/.test(key)) checkProtection(ct, `can't remove CT ${ct.vmid} drive '${key}'`);
        if (key === "unprivileged") throw new PveError(500, `unable to delete read-only option: '${key}'`);
    }
    for (const key of Object.keys(changes).sort()) {
        if (key === "rootfs" || /^mp\d+$/.test(key)) checkProtection(ct, `can't update CT ${ct.vmid} drive '${key}'`);
        if (key === "unprivileged") throw new PveError(500, `unable to modify read-only option: '${key}'`);
    }
    for (const key of removals) delete ct.config[key];
    for (const key of Object.keys(changes).sort()) {
        const value = changes[key] ?? "";
        if (value === "") delete ct.config[key];
        else storeOption(ctx.state, ct, key, value);
    }
    return null;
}

/** API2/LXC.pm resize_vm: growing is allowed on a protected container (only config updates of disks are not). */
function resize(req: ApiRequest, ctx: RouteContext): string {
    const sizeText = requireArg(req.args, "size");
    const relative = sizeText.startsWith("+");
    const requested = parseSize(relative ? sizeText.slice(1) : sizeText);
    if (requested === undefined) throw new PveError(500, "invalid size string");
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    checkLock(ct);
    assertNotModified(req.args["digest"], digestOf(ct.config));
    const disk = requireArg(req.args, "disk");
    const current = ct.config[disk];
    if (current === undefined) throw new PveError(500, `parse_volume - unknown type: ${disk}`);
    const pairs = parsePropertyString(String(current), "volume");
    const oldBytes = parseDiskSize(pairs.find(([k]) => k === "size")?.[1] ?? "0");
    const newBytes = Math.floor(relative ? oldBytes + requested : requested);
    if (newBytes < oldBytes) throw new PveError(500, "unable to shrink disk size");
    if (newBytes === oldBytes) throw new PveError(500, "disk is already at specified size");
    ct.config[disk] = formatPropertyString(setProperty(pairs, "size", formatDiskSize(newBytes)), "volume");
    return ctx.task(ct.node, "resize", String(ct.vmid), req.user);
}

/** API2/LXC/Status.pm: a start or stop of an HA-managed container is handed to the HA manager (its requested state changes). */
function haManaged(state: EmulatorState, ct: EmulatedContainer): boolean {
    return state.haResources.has(`ct:${ct.vmid}`);
}

function start(req: ApiRequest, ctx: RouteContext): string {
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    if (ct.status === "running") throw new PveError(500, `CT ${ct.vmid} already running`);
    ct.status = "running";
    ct.startedAt = Math.floor(Date.now() / 1000);
    if (haManaged(ctx.state, ct)) {
        // `ha-manager set ct:N --state started`
        const resource = ctx.state.haResources.get(`ct:${ct.vmid}`);
        if (resource) resource["state"] = "started";
        return ctx.task(ct.node, "hastart", String(ct.vmid), req.user);
    }
    return ctx.task(ct.node, "vzstart", String(ct.vmid), req.user);
}

function stopLike(type: string) {
    return (req: ApiRequest, ctx: RouteContext): string => {
        const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
        if (ct.status !== "running") throw new PveError(500, `CT ${ct.vmid} not running`);
        ct.status = "stopped";
        ct.startedAt = undefined;
        if (haManaged(ctx.state, ct)) {
            // `ha-manager crm-command stop ct:N <timeout>`: HA now keeps it stopped.
            const resource = ctx.state.haResources.get(`ct:${ct.vmid}`);
            if (resource) resource["state"] = "stopped";
            return ctx.task(ct.node, "hastop", String(ct.vmid), req.user);
        }
        return ctx.task(ct.node, type, String(ct.vmid), req.user);
    };
}

function reboot(req: ApiRequest, ctx: RouteContext): string {
    const ct = containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    // vm_reboot's text says VM, not CT.
    if (ct.status !== "running") throw new PveError(500, `VM ${ct.vmid} not running`);
    ct.startedAt = Math.floor(Date.now() / 1000);
    return ctx.task(ct.node, "vzreboot", String(ct.vmid), req.user);
}

/**
 * API2/LXC.pm destroy_vm, in its order: protection, lock, HA without `purge`, running without
 * `force`. Then the container, its firewall config and its pool membership (remove_vm_access) go;
 * with `purge`, its HA resource too (and, in PVE 9, its place in HA rules).
 */
function destroy(req: ApiRequest, ctx: RouteContext): string {
    const { state } = ctx;
    const ct = containerAt(state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    const sid = `ct:${ct.vmid}`;
    const purge = req.args["purge"] === "1";
    checkProtection(ct, `can't remove CT ${ct.vmid}`);
    checkLock(ct);
    if (state.haResources.has(sid) && !purge) {
        throw new PveError(500, `unable to remove CT ${ct.vmid} - used in HA resources and purge parameter not set.`);
    }
    if (ct.status === "running" && req.args["force"] !== "1") throw new PveError(500, `unable to destroy CT ${ct.vmid} - container is running`);
    state.containers.delete(ct.vmid);
    state.firewall.delete(state.containerFirewallScope(ct));
    for (const pool of state.pools.values()) pool.vms = pool.vms.filter((id) => id !== ct.vmid);
    if (purge && state.haResources.has(sid)) deleteHaResource(state, sid, true);
    return ctx.task(ct.node, "vzdestroy", String(ct.vmid), req.user);
}

function listContainers(req: ApiRequest, ctx: RouteContext): unknown[] {
    const node = req.params["node"] ?? "";
    return [...ctx.state.containers.values()]
        .filter((ct) => ct.node === node)
        .map((ct) => ({
            vmid: ct.vmid,
            name: ct.config["hostname"],
            status: ct.status,
            ...(ct.config["tags"] !== undefined ? { tags: ct.config["tags"] } : {}),
            type: "lxc",
        }));
}

export function containerRoutes(): Route[] {
    const ct = "nodes/{node}/lxc/{vmid}";
    const at = (req: ApiRequest, ctx: RouteContext): EmulatedContainer => containerAt(ctx.state, req.params["node"] ?? "", req.params["vmid"] ?? "");
    return [
        route("GET", "nodes/{node}/lxc", listContainers),
        route("POST", "nodes/{node}/lxc", createContainer),
        route("GET", `${ct}/config`, (req, ctx) => configData(at(req, ctx))),
        route("PUT", `${ct}/config`, updateConfig),
        route("GET", `${ct}/status/current`, (req, ctx) => statusData(at(req, ctx), ctx.state)),
        route("POST", `${ct}/status/start`, start),
        route("POST", `${ct}/status/shutdown`, stopLike("vzshutdown")),
        route("POST", `${ct}/status/stop`, stopLike("vzstop")),
        route("POST", `${ct}/status/reboot`, reboot),
        route("PUT", `${ct}/resize`, resize),
        route("GET", `${ct}/interfaces`, (req, ctx) => interfacesData(at(req, ctx))),
        route("DELETE", ct, destroy),
        route("GET", ct, (req, ctx) => {
            at(req, ctx);
            return [{ subdir: "config" }, { subdir: "status" }, { subdir: "firewall" }, { subdir: "interfaces" }];
        }),
    ];
}
