// The emulator's in-memory cluster: what tests inspect, and what the standalone server persists.
import { createHash } from "node:crypto";

export type ConfigValue = string | number;
export type ConfigMap = Record<string, ConfigValue>;

export interface EmulatedContainer {
    vmid: number;
    node: string;
    /** Exactly the keys PVE's `GET …/config` returns (property strings stay strings), without `digest`. */
    config: ConfigMap;
    status: "running" | "stopped";
    /** Epoch seconds of the last start, for `uptime`. */
    startedAt?: number;
}

export interface IpSetEntry {
    cidr: string;
    nomatch?: number;
    comment?: string;
}

export interface FirewallScope {
    options: ConfigMap;
    /** In PVE order: position 0 first. */
    rules: ConfigMap[];
    ipsets: Record<string, { comment?: string; entries: IpSetEntry[] }>;
    aliases: Record<string, { cidr: string; comment?: string }>;
}

export interface EmulatedTask {
    upid: string;
    node: string;
    type: string;
    id: string;
    user: string;
    starttime: number;
    /** How many more status polls answer `running`. */
    runningPolls: number;
    exitstatus: string;
    log: string[];
}

export interface PoolState {
    comment?: string;
    vms: number[];
    storage: string[];
}

export interface VersionInfo {
    version: string;
    release: string;
    repoid: string;
}

/** The whole emulated cluster. Plain maps, so tests can read and seed it directly. */
export class EmulatorState {
    nodes: string[];
    version: VersionInfo;
    readonly containers = new Map<number, EmulatedContainer>();
    /** By sid (`ct:100`): sid, type, state and the optional keys as PVE stores them. */
    readonly haResources = new Map<string, ConfigMap>();
    readonly haGroups = new Map<string, ConfigMap>();
    readonly haRules = new Map<string, ConfigMap>();
    /** By scope: `cluster`, `nodes/<n>`, `nodes/<n>/lxc/<id>`. */
    readonly firewall = new Map<string, FirewallScope>();
    readonly pools = new Map<string, PoolState>();
    readonly tasks = new Map<string, EmulatedTask>();

    constructor(nodes: string[], version: VersionInfo) {
        this.nodes = [...nodes];
        this.version = version;
    }

    /** The major release (8 or 9): which vendored schema and which version-bound rules apply. */
    get major(): number {
        return Number(this.version.version.split(".")[0]);
    }

    /** Whether this is at least PVE `major.minor`. */
    atLeast(major: number, minor: number): boolean {
        const [ma = 0, mi = 0] = this.version.version.split(".").map(Number);
        return ma > major || (ma === major && mi >= minor);
    }

    /** The firewall scope, created empty on first use (PVE answers empty lists for a new guest). */
    firewallScope(scope: string): FirewallScope {
        let found = this.firewall.get(scope);
        if (!found) {
            found = { options: {}, rules: [], ipsets: {}, aliases: {} };
            this.firewall.set(scope, found);
        }
        return found;
    }

    containerFirewallScope(container: EmulatedContainer): string {
        return `nodes/${container.node}/lxc/${container.vmid}`;
    }

    toJSON(): SerializedState {
        return {
            nodes: this.nodes,
            version: this.version,
            containers: [...this.containers.values()],
            haResources: Object.fromEntries(this.haResources),
            haGroups: Object.fromEntries(this.haGroups),
            haRules: Object.fromEntries(this.haRules),
            firewall: Object.fromEntries(this.firewall),
            pools: Object.fromEntries(this.pools),
        };
    }

    static fromJSON(data: SerializedState): EmulatorState {
        const state = new EmulatorState(data.nodes, data.version);
        for (const ct of data.containers) state.containers.set(ct.vmid, ct);
        for (const [k, v] of Object.entries(data.haResources)) state.haResources.set(k, v);
        for (const [k, v] of Object.entries(data.haGroups)) state.haGroups.set(k, v);
        for (const [k, v] of Object.entries(data.haRules)) state.haRules.set(k, v);
        for (const [k, v] of Object.entries(data.firewall)) state.firewall.set(k, v);
        for (const [k, v] of Object.entries(data.pools)) state.pools.set(k, v);
        return state;
    }
}

export interface SerializedState {
    nodes: string[];
    version: VersionInfo;
    containers: EmulatedContainer[];
    haResources: Record<string, ConfigMap>;
    haGroups: Record<string, ConfigMap>;
    haRules: Record<string, ConfigMap>;
    firewall: Record<string, FirewallScope>;
    pools: Record<string, PoolState>;
}

/** PVE's `digest`: a SHA-1 over the stored config, so any change gives a new one. */
export function digestOf(value: unknown): string {
    const canonical = JSON.stringify(value, (_key, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : v,
    );
    return createHash("sha1").update(canonical).digest("hex");
}
