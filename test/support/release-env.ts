// The local release environment for integration tests: an isolated copy (own run dir and ports)
// of what `npm start` runs, driven through scripts/local-release.sh, and HAProxy read directly.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { colourWeights, parseServersState } from "../../components/release/haproxy/runtime";
import { HAPROXY_SERVERS } from "../../components/release/haproxy/weights";
import type { Weights } from "../../components/release/ladder";
import { haproxyRuntime } from "../../components/remote/transport";
import { dropTestObjects, removePgHbaBlock } from "./servers";
import { compiledScript, PROJECT_ROOT, type StackConfigMap, type Workspace } from "./workspace";

export interface IsolatedRelease {
    runDir: string;
    /** databases.backups.location */
    backupDir: string;
    /** HAProxy runtime API socket. */
    admin: string;
    serverStateFile: string;
    /** host:port of HAProxy's frontend (`/<service>/...`). */
    haproxyFrontend: string;
    /** host:port of nginx (`/<service>/...`). */
    nginxListen: string;
    upstreamFile: string;
}

interface RawService {
    blue: { version: string; address: string };
    green: { version: string; address: string };
    weights?: Weights;
    databases?: string[];
    dependsOn?: string[];
}

/**
 * Moves the local stack's release onto its own run dir and ports (`portBase`+0.. for the apps,
 * `portBase`+80.. for HAProxy and nginx), so a test never touches what `npm start` runs.
 */
export function isolateRelease(config: StackConfigMap, runDir: string, portBase: number): IsolatedRelease {
    const services = config["release-platform:services"] as Record<string, RawService>;
    Object.values(services).forEach((service, index) => {
        service.blue.address = `127.0.0.1:${portBase + index * 10}`;
        service.green.address = `127.0.0.1:${portBase + index * 10 + 1}`;
    });
    const env: IsolatedRelease = {
        runDir,
        backupDir: `${runDir}/backups`,
        admin: `${runDir}/haproxy/admin.sock`,
        serverStateFile: `${runDir}/haproxy/server-state`,
        haproxyFrontend: `127.0.0.1:${portBase + 80}`,
        nginxListen: `127.0.0.1:${portBase + 81}`,
        upstreamFile: `${runDir}/nginx/upstreams.conf`,
    };
    const release = config["release-platform:release"] as { traffic: Record<string, unknown> };
    release.traffic = {
        haproxy: { admin: env.admin, serverStateFile: env.serverStateFile },
        nginx: {
            upstreamFile: env.upstreamFile,
            testCommand: `nginx -q -t -c ${runDir}/nginx/nginx.conf`,
            reloadCommand: `nginx -c ${runDir}/nginx/nginx.conf -s reload`,
        },
    };
    const databases = config["release-platform:databases"] as { backups?: Record<string, unknown> };
    databases.backups = { ...databases.backups, location: `${runDir}/backups` };
    config["release-platform:local"] = {
        runDir,
        haproxy: { frontendAddress: env.haproxyFrontend, statsAddress: `127.0.0.1:${portBase + 82}` },
        nginx: { listenAddress: env.nginxListen },
    };
    return env;
}

/** Leaves only the release: no databases (the fleet has its own tests) and no containers. */
export function releaseOnly(config: StackConfigMap): void {
    const databases = config["release-platform:databases"] as { servers: Record<string, unknown> };
    databases.servers = {};
    const cluster = config["release-platform:cluster"] as { containers: unknown[] };
    cluster.containers = [];
    for (const service of Object.values(config["release-platform:services"] as Record<string, RawService>)) service.databases = [];
}

/** Runs scripts/local-release.sh with the given stack file; throws with its output on failure. */
export function localRelease(configFile: string, ...args: string[]): string {
    const result = spawnSync("bash", [path.join(PROJECT_ROOT, "scripts", "local-release.sh"), ...args, "--config", configFile], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`local-release.sh ${args.join(" ")} exited ${String(result.status)}:\n${result.stdout}${result.stderr}`);
    return result.stdout;
}

/** What HAProxy's runtime API reports for a backend right now. */
export async function haproxyWeights(admin: string, backend: string): Promise<Weights> {
    const [text = ""] = await haproxyRuntime(undefined, admin, ["show servers state"]);
    return colourWeights(parseServersState(text), backend, HAPROXY_SERVERS);
}

export interface ScriptResult {
    code: number;
    output: string;
    seconds: number;
}

/** Runs one of our release commands (scripts/<name>.ts) in the workspace, with its backend and passphrase. */
export function releaseCommand(ws: Workspace, script: "release-next" | "rollback" | "db-restore" | "backup" | "evidence", args: string[]): Promise<ScriptResult> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [compiledScript(script), ...args], { cwd: ws.dir, env: ws.env });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, output, seconds: (performance.now() - started) / 1000 }));
    });
}

/**
 * Polls HAProxy's weights of a backend every `everyMs` until stopped; remembers when they first
 * equalled `target` (on the caller's clock).
 */
export function watchWeights(admin: string, backend: string, target: Weights, clock: () => number, everyMs = 50): { stop(): Promise<number | undefined> } {
    let seenAt: number | undefined;
    let stopped = false;
    const loop = (async () => {
        while (!stopped && seenAt === undefined) {
            const at = clock();
            try {
                const now = await haproxyWeights(admin, backend);
                if (now.blue === target.blue && now.green === target.green) seenAt = at;
            } catch {
                // HAProxy restarting: try again.
            }
            await new Promise((resolve) => setTimeout(resolve, everyMs));
        }
    })();
    return {
        async stop() {
            stopped = true;
            await loop;
            return seenAt;
        },
    };
}

/** The ports `isolateRelease` uses from a base: two per service (up to 8 services), HAProxy, nginx, stats. */
const OFFSETS = [...Array.from({ length: 8 }, (_, i) => [i * 10, i * 10 + 1]).flat(), 80, 81, 82];

function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
}

/**
 * A run dir and a port base of its own, so that two test runs on one machine (two `npm test`s)
 * never share processes, sockets or ports.
 */
export async function freshReleaseSite(name: string): Promise<{ runDir: string; portBase: number }> {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `rp-${name}-`));
    for (let attempt = 0; attempt < 50; attempt++) {
        const portBase = 20_000 + 100 * Math.floor(Math.random() * 300);
        const free = await Promise.all(OFFSETS.map((offset) => portFree(portBase + offset)));
        if (free.every(Boolean)) return { runDir, portBase };
    }
    throw new Error("no free block of loopback ports found for the release environment");
}

/** Stops processes a crashed earlier run left in `runDir` (by their pid files only), then removes the dir. */
export function clearRunDir(runDir: string): void {
    const walk = (dir: string): string[] =>
        fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)])) : [];
    const signal = (pid: number, sig: NodeJS.Signals | 0): boolean => {
        try {
            process.kill(pid, sig);
            return true;
        } catch {
            return false; // gone
        }
    };
    const pids = walk(runDir)
        .filter((f) => f.endsWith(".pid"))
        .map((f) => Number(fs.readFileSync(f, "utf8").trim()))
        .filter((pid) => Number.isInteger(pid) && pid > 1 && signal(pid, "SIGTERM"));
    for (let i = 0; i < 50 && pids.some((pid) => signal(pid, 0)); i++) spawnSync("sleep", ["0.1"]);
    fs.rmSync(runDir, { recursive: true, force: true });
}

/**
 * Teardown of a test stack of the local config with its own release site: the platform's
 * resources are protected and retained on delete, so unprotect and destroy, stop the release's
 * processes, then remove by hand what an early stop of the destroy left (run dir, the stack's
 * pg_hba block, the prefixed databases and users).
 */
export async function tearDownLocalStack(ws: Workspace | undefined, site: { runDir: string } | undefined, stack: string, prefix: string): Promise<void> {
    if (ws) {
        await ws.unprotectAndDestroy();
        localRelease(ws.configFile, "stop");
        ws.remove();
    }
    if (site) clearRunDir(site.runDir);
    removePgHbaBlock(stack);
    await dropTestObjects(prefix);
}
