// Cluster-wide endpoints: version, nodes, next free id, resource pools, and the task status/log of UPIDs.
import { PveError, boolArg, intArg, parameterError, requireArg, route, type ApiRequest, type Route } from "./api";
import { checkNode } from "./containers";
import { splitList } from "./formats";
import { locked } from "./ha";
import type { EmulatorState, PoolState } from "./state";

// Pools follow pve-manager's PVE/API2/Pool.pm: its errors come out of lock_user_config, prefixed with what failed.
function poolAt(state: EmulatorState, id: string): PoolState {
    const pool = state.pools.get(id);
    if (!pool) throw new PveError(500, `pool '${id}' does not exist`);
    return pool;
}

/** index with `poolid` (and read_pool): members of guests that still exist, then storage. */
function poolData(state: EmulatorState, id: string, type?: string): Record<string, unknown> {
    const pool = poolAt(state, id);
    const members = pool.vms.flatMap((vmid) => {
        const ct = state.containers.get(vmid);
        if (!ct || (type !== undefined && type !== "lxc")) return [];
        return [{ id: `lxc/${vmid}`, vmid, node: ct.node, type: "lxc", name: ct.config["hostname"], status: ct.status }];
    });
    const storage = type === undefined || type === "storage" ? pool.storage.map((s) => ({ id: `storage/${state.nodes[0] ?? "pve"}/${s}`, storage: s, node: state.nodes[0], type: "storage" })) : [];
    return { ...(pool.comment !== undefined ? { comment: pool.comment } : {}), members: [...members, ...storage], poolid: id };
}

function createPool(state: EmulatorState, id: string, comment: string | undefined): null {
    return locked("create pool failed", () => {
        if (state.pools.has(id)) throw new PveError(500, `pool '${id}' already exists`);
        const parent = /^(.*)\/([^/]+)$/.exec(id);
        if (parent && !state.pools.has(parent[1] ?? "")) throw new PveError(500, `parent '${parent[1] ?? ""}' of pool '${id}' does not exist`);
        if (state.major >= 9 && !/^[A-Za-z]/.test(parent?.[2] ?? id)) throw new PveError(500, "pool name must start with a letter");
        state.pools.set(id, { ...(comment ? { comment } : {}), vms: [], storage: [] });
        return null;
    });
}

/** update_pool: adding a member twice, or removing one that is not there, is an error; a guest in another pool needs `allow-move`. */
function updatePool(state: EmulatorState, id: string, args: Record<string, string>): null {
    return locked("update pools failed", () => {
        const pool = poolAt(state, id);
        const removing = boolArg(args, "delete") === true;
        if (args["comment"] !== undefined) pool.comment = args["comment"];
        for (const vmid of splitList(args["vms"] ?? "").map(Number)) {
            if (removing) {
                if (!pool.vms.includes(vmid)) throw new PveError(500, `VM ${vmid} is not a pool member`);
                pool.vms = pool.vms.filter((v) => v !== vmid);
                continue;
            }
            if (pool.vms.includes(vmid)) throw new PveError(500, `VM ${vmid} is already a pool member`);
            const other = [...state.pools.entries()].find(([name, p]) => name !== id && p.vms.includes(vmid));
            if (other) {
                if (boolArg(args, "allow-move") !== true) throw new PveError(500, `VM ${vmid} belongs already to pool '${other[0]}' and 'allow-move' is not set`);
                other[1].vms = other[1].vms.filter((v) => v !== vmid);
            }
            pool.vms.push(vmid);
        }
        for (const storage of splitList(args["storage"] ?? "")) {
            if (removing) {
                if (!pool.storage.includes(storage)) throw new PveError(500, `Storage '${storage}' is not a pool member`);
                pool.storage = pool.storage.filter((x) => x !== storage);
            } else {
                if (pool.storage.includes(storage)) throw new PveError(500, `Storage '${storage}' is already a pool member`);
                pool.storage.push(storage);
            }
        }
        return null;
    });
}

/** delete_pool: only an empty pool (members that are guests no longer existing do not count). */
function deletePool(state: EmulatorState, id: string): null {
    return locked("delete pool failed", () => {
        const pool = poolAt(state, id);
        const sub = [...state.pools.keys()].find((name) => name.startsWith(`${id}/`));
        if (sub) throw new PveError(500, `pool '${id}' is not empty (contains pool '${sub}')`);
        const vmid = [...pool.vms].sort((a, b) => a - b).find((v) => state.containers.has(v));
        if (vmid !== undefined) throw new PveError(500, `pool '${id}' is not empty (contains VM ${vmid})`);
        if (pool.storage.length > 0) throw new PveError(500, `pool '${id}' is not empty (contains storage '${[...pool.storage].sort()[0] ?? ""}')`);
        state.pools.delete(id);
        return null;
    });
}

function taskAt(req: ApiRequest, state: EmulatorState): NonNullable<ReturnType<EmulatorState["tasks"]["get"]>> {
    const task = state.tasks.get(req.params["upid"] ?? "");
    if (!task || task.node !== req.params["node"]) throw new PveError(400, `no such task`);
    return task;
}

export function clusterRoutes(): Route[] {
    return [
        route("GET", "version", (_req, { state }) => ({ ...state.version, console: "xtermjs" })),
        route("GET", "nodes", (_req, { state }) => state.nodes.map((node) => ({ node, status: "online", type: "node", id: `node/${node}` }))),
        route("GET", "cluster/status", (_req, { state }) => state.nodes.map((node, i) => ({ name: node, type: "node", online: 1, nodeid: i + 1, id: `node/${node}` }))),
        route("GET", "cluster/nextid", (req, { state }) => {
            const wanted = intArg(req.args, "vmid");
            if (wanted !== undefined) {
                if (state.containers.has(wanted)) throw parameterError({ vmid: `VM ${wanted} already exists` });
                return String(wanted);
            }
            let id = 100;
            while (state.containers.has(id)) id++;
            return String(id);
        }),
        route("GET", "pools", (req, { state }) => {
            const id = req.args["poolid"];
            if (id) return [poolData(state, id, req.args["type"])];
            return [...state.pools.keys()].sort().map((poolid) => {
                const comment = state.pools.get(poolid)?.comment;
                return { poolid, ...(comment !== undefined ? { comment } : {}) };
            });
        }),
        route("POST", "pools", (req, { state }) => createPool(state, requireArg(req.args, "poolid"), req.args["comment"])),
        route("PUT", "pools", (req, { state }) => updatePool(state, requireArg(req.args, "poolid"), req.args)),
        route("DELETE", "pools", (req, { state }) => deletePool(state, requireArg(req.args, "poolid"))),
        // read_pool is index's first entry (its `returns` has no `poolid`, its answer does).
        route("GET", "pools/{poolid}", (req, { state }) => poolData(state, req.params["poolid"] ?? "", req.args["type"])),
        route("PUT", "pools/{poolid}", (req, { state }) => updatePool(state, req.params["poolid"] ?? "", req.args)),
        route("DELETE", "pools/{poolid}", (req, { state }) => deletePool(state, req.params["poolid"] ?? "")),
        route("GET", "nodes/{node}/tasks/{upid}/status", (req, { state }) => {
            checkNode(state, req.params["node"] ?? "");
            const task = taskAt(req, state);
            const running = task.runningPolls > 0;
            if (running) task.runningPolls--;
            return {
                upid: task.upid, node: task.node, type: task.type, id: task.id, user: task.user, starttime: task.starttime,
                pid: 4660, pstart: 22136, status: running ? "running" : "stopped", ...(running ? {} : { exitstatus: task.exitstatus }),
            };
        }),
        route("GET", "nodes/{node}/tasks/{upid}/log", (req, { state }) => {
            const task = taskAt(req, state);
            return [...task.log, `TASK ${task.exitstatus}`].map((t, i) => ({ n: i + 1, t }));
        }),
    ];
}
