// Cluster-wide endpoints: version, nodes, next free id, resource pools, and the task status/log of UPIDs.
import { PveError, boolArg, intArg, parameterError, requireArg, route, type ApiRequest, type Route } from "./api";
import { checkNode } from "./containers";
import type { EmulatorState, PoolState } from "./state";

function poolAt(state: EmulatorState, id: string): PoolState {
    const pool = state.pools.get(id);
    if (!pool) throw new PveError(500, `pool '${id}' does not exist`);
    return pool;
}

function poolData(state: EmulatorState, id: string): unknown {
    const pool = poolAt(state, id);
    const members = pool.vms.flatMap((vmid) => {
        const ct = state.containers.get(vmid);
        return ct ? [{ id: `lxc/${vmid}`, vmid, node: ct.node, type: "lxc", name: ct.config["hostname"], status: ct.status }] : [];
    });
    const storage = pool.storage.map((s) => ({ id: `storage/${state.nodes[0] ?? "pve"}/${s}`, storage: s, node: state.nodes[0], type: "storage" }));
    return { poolid: id, ...(pool.comment ? { comment: pool.comment } : {}), members: [...members, ...storage] };
}

function updatePool(state: EmulatorState, id: string, args: Record<string, string>): null {
    const pool = poolAt(state, id);
    const removing = boolArg(args, "delete") === true;
    const vms = (args["vms"] ?? "").split(/[,;\s]+/).filter((v) => v !== "").map(Number);
    const storage = (args["storage"] ?? "").split(/[,;\s]+/).filter((s) => s !== "");
    for (const vmid of vms) {
        if (removing) {
            pool.vms = pool.vms.filter((v) => v !== vmid);
            continue;
        }
        if (!state.containers.has(vmid)) throw new PveError(500, `no such VMID '${vmid}'`);
        const other = [...state.pools.entries()].find(([name, p]) => name !== id && p.vms.includes(vmid));
        if (other) {
            if (boolArg(args, "allow-move") !== true) throw new PveError(500, `VM ${vmid} belongs already to pool '${other[0]}'`);
            other[1].vms = other[1].vms.filter((v) => v !== vmid);
        }
        if (!pool.vms.includes(vmid)) pool.vms.push(vmid);
    }
    for (const s of storage) {
        if (removing) pool.storage = pool.storage.filter((x) => x !== s);
        else if (!pool.storage.includes(s)) pool.storage.push(s);
    }
    if (args["comment"] !== undefined) pool.comment = args["comment"] || undefined;
    return null;
}

function deletePool(state: EmulatorState, id: string): null {
    const pool = poolAt(state, id);
    if (pool.vms.length > 0 || pool.storage.length > 0) throw new PveError(500, `pool '${id}' is not empty`);
    state.pools.delete(id);
    return null;
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
            if (id) return [poolData(state, id)];
            return [...state.pools.entries()].map(([poolid, p]) => ({ poolid, ...(p.comment ? { comment: p.comment } : {}) }));
        }),
        route("POST", "pools", (req, { state }) => {
            const id = requireArg(req.args, "poolid");
            if (state.pools.has(id)) throw new PveError(500, `pool '${id}' already exists`);
            state.pools.set(id, { ...(req.args["comment"] ? { comment: req.args["comment"] } : {}), vms: [], storage: [] });
            return null;
        }),
        route("PUT", "pools", (req, { state }) => updatePool(state, requireArg(req.args, "poolid"), req.args)),
        route("DELETE", "pools", (req, { state }) => deletePool(state, requireArg(req.args, "poolid"))),
        route("GET", "pools/{poolid}", (req, { state }) => poolData(state, req.params["poolid"] ?? "")),
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
