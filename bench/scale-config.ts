// A stack's `config:` map made N times larger, for the bench's 10x preview (`npm run bench`): N copies
// of every database server with its databases, of every container and of every service, each copy
// valid on its own and unique where the config loader demands it (components/config/validate.ts).
import { MAX_DATABASE_SHORT_NAME_LENGTH, MAX_CT_ID } from "../components/config/schema";

/** A stack file's `config:` map: `release-platform:<section>` keys to plain values. */
export type ConfigMap = Record<string, unknown>;

const NAMESPACE = "release-platform";
const IPV4_IN_TEXT = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
/** Container names are host names: at most 63 characters. */
const MAX_CONTAINER_NAME_LENGTH = 63;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function toNumber(ip: string): number {
    return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function toAddress(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** Every IPv4 address written anywhere in `value` (container ips, gateways, hosts, DNS servers, subnets). */
function addressesIn(value: unknown, into: Set<number>): void {
    if (typeof value === "string") for (const match of value.match(IPV4_IN_TEXT) ?? []) into.add(toNumber(match));
    else if (Array.isArray(value)) for (const item of value) addressesIn(item, into);
    else if (isObject(value)) for (const item of Object.values(value)) addressesIn(item, into);
}

/**
 * Hands out addresses no one uses yet, each in the network of the address it replaces: the next
 * free host address after it, wrapping around inside the network (never its network or broadcast
 * address).
 */
class AddressPool {
    private readonly used = new Set<number>();

    constructor(
        config: unknown,
        /** Networks (`a.b.c.d/n`) whose prefix applies to the addresses inside them; others are taken as /24. */
        private readonly networks: readonly string[],
    ) {
        addressesIn(config, this.used);
    }

    private prefixOf(address: number, explicit: number | undefined): number {
        if (explicit !== undefined) return explicit;
        for (const network of this.networks) {
            const [base = "", bits = "32"] = network.split("/");
            const size = 2 ** (32 - Number(bits));
            if (Math.floor(toNumber(base) / size) === Math.floor(address / size)) return Number(bits);
        }
        return 24;
    }

    /** A fresh address in the network of `address`; `prefix` when the address carries one (a container's `ip`). */
    next(address: string, prefix?: number): string {
        const start = toNumber(address);
        const size = 2 ** (32 - this.prefixOf(start, prefix));
        const network = Math.floor(start / size) * size;
        for (let step = 1; step < size; step++) {
            const candidate = network + ((start - network + step) % size);
            const isEdge = size > 2 && (candidate === network || candidate === network + size - 1);
            if (!isEdge && !this.used.has(candidate)) {
                this.used.add(candidate);
                return toAddress(candidate);
            }
        }
        throw new Error(`scale-config: no free address left in the network of ${address}/${this.prefixOf(start, prefix)}`);
    }
}

/** `name` with `suffix`, the name shortened first if the whole would exceed `max` characters. */
function suffixed(name: string, suffix: string, max: number): string {
    if (name.length + suffix.length <= max) return name + suffix;
    return name.slice(0, Math.max(1, max - suffix.length)).replace(/[-_]+$/, "") + suffix;
}

/** The smallest power of ten above `n`: copies of numbers (CT-IDs, ports) shifted by it stay apart and readable. */
function strideAbove(n: number): number {
    return 10 ** Math.max(1, Math.ceil(Math.log10(n + 1)));
}

/** `host` for copy `k`: a fresh address in the same network for an IPv4 address, else `<first label>-c<k>.<rest>`. */
function copyHost(host: string, k: number, pool: AddressPool, hosts: Map<string, string>): string {
    const known = hosts.get(host);
    if (known !== undefined) return known;
    const [first = host, ...rest] = host.split(".");
    const copy = IPV4.test(host) ? pool.next(host) : [`${first}-c${k}`, ...rest].join(".");
    hosts.set(host, copy);
    return copy;
}

/** Renames for one copy: database short names and service names, original to copy. */
interface CopyNames {
    databases: Map<string, string>;
    services: Map<string, string>;
}

function scaleDatabases(databases: Json, factor: number, pool: AddressPool, names: CopyNames[]): void {
    const servers = isObject(databases.servers) ? databases.servers : {};
    const copies: Json = { ...servers };
    for (let k = 1; k < factor; k++) {
        const rename = names[k - 1]?.databases ?? new Map<string, string>();
        for (const [serverName, server] of Object.entries(servers)) {
            if (!isObject(server)) continue;
            const copy = structuredClone(server);
            // Each copy of a server is a host of its own; admin and ssh on one host stay on one host.
            const hosts = new Map<string, string>();
            if (isObject(copy.admin) && typeof copy.admin.host === "string") copy.admin.host = copyHost(copy.admin.host, k, pool, hosts);
            if (isObject(copy.ssh) && typeof copy.ssh.host === "string") copy.ssh.host = copyHost(copy.ssh.host, k, pool, hosts);
            const entries = Array.isArray(copy.databases) ? copy.databases : [];
            copy.databases = entries.map((entry: unknown) => {
                if (!isObject(entry) || typeof entry.name !== "string") return entry;
                const name = suffixed(entry.name, `_c${k}`, MAX_DATABASE_SHORT_NAME_LENGTH);
                rename.set(entry.name, name);
                const renamed: Json = { ...entry, name };
                if (entry.database !== undefined) renamed.database = `mo_${name}`;
                if (entry.user !== undefined) renamed.user = `svc_${name}`;
                return renamed;
            });
            copies[`${serverName}-c${k}`] = copy;
        }
    }
    databases.servers = copies;
}

function scaleCluster(cluster: Json, factor: number, pool: AddressPool): void {
    const containers = (Array.isArray(cluster.containers) ? cluster.containers : []).filter(isObject);
    const vmIdStride = strideAbove(Math.max(0, ...containers.map((c) => (typeof c.vmId === "number" ? c.vmId : 0))));
    const copies: unknown[] = [...containers];
    for (let k = 1; k < factor; k++) {
        for (const container of containers) {
            const copy = structuredClone(container);
            // Same node, role, gateway and sizes: the cluster keeps its 3 nodes, each carries N times the containers.
            if (typeof copy.vmId === "number") {
                copy.vmId += k * vmIdStride;
                if (copy.vmId > MAX_CT_ID) throw new Error(`scale-config: CT-ID ${copy.vmId} is above ${MAX_CT_ID}`);
            }
            if (typeof copy.name === "string") copy.name = suffixed(copy.name, `-c${k}`, MAX_CONTAINER_NAME_LENGTH);
            if (typeof copy.ip === "string") {
                const [address = "", prefix] = copy.ip.split("/");
                copy.ip = `${pool.next(address, prefix === undefined ? undefined : Number(prefix))}${prefix === undefined ? "" : `/${prefix}`}`;
            }
            copies.push(copy);
        }
    }
    cluster.containers = copies;
}

function portOf(address: unknown): number | undefined {
    if (typeof address !== "string") return undefined;
    const port = Number(address.slice(address.lastIndexOf(":") + 1));
    return Number.isInteger(port) ? port : undefined;
}

function scaleServices(services: Json, factor: number, names: CopyNames[]): void {
    const originals = Object.entries(services).filter((entry): entry is [string, Json] => isObject(entry[1]));
    // Every copy's services listen on their own ports of the app host (3000 -> 3100 -> 3200 ...).
    const ports = originals.flatMap(([, s]) => ["blue", "green"].map((colour) => portOf(isObject(s[colour]) ? s[colour].address : undefined))).filter((p): p is number => p !== undefined);
    const portStride = ports.length === 0 ? 0 : strideAbove(Math.max(...ports) - Math.min(...ports));
    if (ports.length > 0 && Math.max(...ports) + (factor - 1) * portStride > 65535) throw new Error("scale-config: the copies' ports would exceed 65535");
    for (let k = 1; k < factor; k++) {
        const rename = names[k - 1] ?? { databases: new Map<string, string>(), services: new Map<string, string>() };
        for (const [name] of originals) rename.services.set(name, `${name}-c${k}`);
        for (const [name, service] of originals) {
            const copy = structuredClone(service);
            for (const colour of ["blue", "green"]) {
                const target = copy[colour];
                const port = portOf(isObject(target) ? target.address : undefined);
                if (isObject(target) && typeof target.address === "string" && port !== undefined) {
                    target.address = `${target.address.slice(0, target.address.lastIndexOf(":"))}:${port + k * portStride}`;
                }
            }
            // Dependencies point into the same copy, so each copy has the original's dependency graph.
            if (Array.isArray(copy.dependsOn)) copy.dependsOn = copy.dependsOn.map((d: unknown) => (typeof d === "string" ? (rename.services.get(d) ?? d) : d));
            if (Array.isArray(copy.databases)) copy.databases = copy.databases.map((d: unknown) => (typeof d === "string" ? (rename.databases.get(d) ?? d) : d));
            if (isObject(copy.traffic)) copy.traffic.name = `${typeof copy.traffic.name === "string" ? copy.traffic.name : name}-c${k}`;
            services[`${name}-c${k}`] = copy;
        }
    }
}

/**
 * `config` (a stack file's `config:` map, e.g. Pulumi.production.yaml's) with `factor` times the
 * resources: the original plus `factor - 1` copies, copy k named `<name>-c<k>` (database short
 * names `<name>_c<k>`) of
 *  - every database server with all its databases, on a fresh address in its network (and its
 *    admin and ssh host the same one where they were), same engine, limits (maxDatabases) and pins;
 *  - every container: CT-ID + k * (power of ten above the highest), a fresh address in its subnet,
 *    same node, role and gateway;
 *  - every service: ports + k * (power of ten above their spread), its dependencies and databases
 *    those of the same copy, its traffic name suffixed; release.order lists each copy after the last.
 * Cluster, traffic backends, gates and secrets keys stay as they are (the copies' secrets follow from
 * the server names). Pure: `config` is not changed.
 */
export function scaleConfig(config: Readonly<ConfigMap>, factor: number): ConfigMap {
    if (!Number.isInteger(factor) || factor < 1) throw new Error(`scale-config: factor must be a whole number from 1, not ${factor}`);
    const scaled = structuredClone(config) as ConfigMap;
    const section = (name: string): Json | undefined => {
        const value = scaled[`${NAMESPACE}:${name}`];
        return isObject(value) ? value : undefined;
    };
    const cluster = section("cluster");
    const subnets = cluster && isObject(cluster.subnets) ? Object.values(cluster.subnets).filter((s): s is string => typeof s === "string") : [];
    const pool = new AddressPool(config, subnets);
    const names: CopyNames[] = Array.from({ length: factor - 1 }, () => ({ databases: new Map(), services: new Map() }));

    const databases = section("databases");
    if (databases) scaleDatabases(databases, factor, pool, names);
    if (cluster) scaleCluster(cluster, factor, pool);
    const services = section("services");
    if (services) scaleServices(services, factor, names);
    const release = section("release");
    if (release && Array.isArray(release.order)) {
        const order = release.order as unknown[];
        release.order = [...order, ...names.flatMap((copy) => order.map((name) => (typeof name === "string" ? (copy.services.get(name) ?? name) : name)))];
    }
    return scaled;
}
