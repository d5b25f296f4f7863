// The local release environment: blue/green app processes per service, HAProxy and nginx in front,
// all on loopback, rendered from a stack config. Driven by scripts/local-release.sh.
//
//   local-release.ts start  [--config Pulumi.local.yaml]          start what is not running (idempotent)
//   local-release.ts stop   [haproxy|nginx|apps] [--config ...]   stop everything, or one part
//   local-release.ts status [--config ...]                        what answers, and HAProxy's weights
//   local-release.ts fault  <service> <colour> <500|version V|clear> [--config ...]
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { compiledProjectRoot } from "../components/compiled";
import { parsePlatformConfig, type PlatformSpec, type ServiceSpec } from "../components/config";
import { renderLocalHaproxyConfig } from "../components/release/haproxy/config";
import { colourWeights, parseServersState } from "../components/release/haproxy/runtime";
import { HAPROXY_SERVERS } from "../components/release/haproxy/weights";
import { COLOURS, type Colour } from "../components/release/ladder";
import { renderLocalNginxConfig, renderUpstreamBlock, replaceUpstreamBlock } from "../components/release/nginx/upstream";
import { haproxyRuntime } from "../components/remote/transport";
import { readStackConfig } from "./local-secrets";

// The project root, whether this runs compiled (dist/scripts/) or as a source through ts-node.
const ROOT = compiledProjectRoot(__filename) ?? path.resolve(__dirname, "..");
const APP = path.join(ROOT, "scripts", "apps", "health-app.ts");

function log(message: string): void {
    console.log(`[local-release] ${message}`);
}

/** Everything the environment needs, derived from the stack config. */
export interface LocalReleasePlan {
    runDir: string;
    appsDir: string;
    apps: { service: string; colour: Colour; host: string; port: number; version: string; healthPath: string }[];
    haproxy:
        | { dir: string; config: string; configFile: string; pidFile: string; admin: string; stateFile: string; frontend: string; backends: string[] }
        | undefined;
    nginx: { dir: string; config: string; configFile: string; pidFile: string; upstreamFile: string; listen: string; services: ServiceSpec[] } | undefined;
}

export function planLocalRelease(spec: PlatformSpec): LocalReleasePlan {
    if (spec.environment !== "local" || spec.local === undefined) {
        throw new Error(`the local release environment is only for the local stack (this config is ${spec.environment})`);
    }
    const { runDir } = spec.local;
    const appsDir = path.join(runDir, "apps");
    const apps = spec.services.flatMap((s) =>
        COLOURS.map((colour) => ({ service: s.name, colour, host: s[colour].host, port: s[colour].port, version: s[colour].version, healthPath: s.healthPath })),
    );

    const haproxyServices = spec.services.filter((s) => s.traffic.backend === "haproxy");
    const haproxyConfig = spec.release.traffic.haproxy;
    let haproxy: LocalReleasePlan["haproxy"];
    if (haproxyServices.length > 0 && haproxyConfig) {
        if (!haproxyConfig.admin.startsWith("/")) throw new Error("release.traffic.haproxy.admin: the local HAProxy's runtime API is a unix socket path");
        const dir = path.join(runDir, "haproxy");
        const stateFile = haproxyConfig.serverStateFile ?? path.join(dir, "server-state");
        const pidFile = path.join(dir, "haproxy.pid");
        haproxy = {
            dir,
            configFile: path.join(dir, "haproxy.cfg"),
            pidFile,
            admin: haproxyConfig.admin,
            stateFile,
            frontend: spec.local.haproxy.frontendAddress,
            backends: haproxyServices.map((s) => s.traffic.name),
            config: renderLocalHaproxyConfig({
                adminSocket: haproxyConfig.admin,
                serverStateFile: stateFile,
                frontendAddress: spec.local.haproxy.frontendAddress,
                statsAddress: spec.local.haproxy.statsAddress,
                pidFile,
                backends: haproxyServices.map((s) => ({ name: s.traffic.name, blue: s.blue.address, green: s.green.address, healthPath: s.healthPath })),
            }),
        };
    }

    const nginxServices = spec.services.filter((s) => s.traffic.backend === "nginx");
    const nginxConfig = spec.release.traffic.nginx;
    let nginx: LocalReleasePlan["nginx"];
    if (nginxServices.length > 0 && nginxConfig) {
        const dir = path.join(runDir, "nginx");
        nginx = {
            dir,
            configFile: path.join(dir, "nginx.conf"),
            pidFile: path.join(dir, "nginx.pid"),
            upstreamFile: nginxConfig.upstreamFile,
            listen: spec.local.nginx.listenAddress,
            services: nginxServices,
            config: renderLocalNginxConfig({
                runDir: dir,
                listenAddress: spec.local.nginx.listenAddress,
                upstreamFile: nginxConfig.upstreamFile,
                upstreams: nginxServices.map((s) => s.traffic.name),
            }),
        };
    }
    return { runDir, appsDir, apps, haproxy, nginx };
}

// ---------------------------------------------------------------------------------------------
// Processes, by pid file only (never by name: other stacks may run the same programs).
// ---------------------------------------------------------------------------------------------

function readPid(file: string): number | undefined {
    try {
        const pid = Number(fs.readFileSync(file, "utf8").trim().split(/\s+/)[0]);
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

function alive(pid: number | undefined): pid is number {
    if (pid === undefined) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function connects(host: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.createConnection({ host, port });
        socket.setTimeout(1000, () => socket.destroy());
        socket.on("connect", () => (socket.end(), resolve(true)));
        socket.on("error", () => resolve(false));
        socket.on("close", () => resolve(false));
    });
}

function socketAnswers(file: string): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.createConnection({ path: file });
        socket.setTimeout(1000, () => socket.destroy());
        socket.on("connect", () => (socket.end(), resolve(true)));
        socket.on("error", () => resolve(false));
        socket.on("close", () => resolve(false));
    });
}

async function waitFor(what: string, check: () => Promise<boolean>, seconds = 15): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
        if (await check()) return;
        await sleep(100);
    }
    throw new Error(`${what} did not come up within ${seconds} s`);
}

async function stopPid(what: string, pidFile: string): Promise<void> {
    const pid = readPid(pidFile);
    if (!alive(pid)) {
        fs.rmSync(pidFile, { force: true });
        return;
    }
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    if (alive(pid)) process.kill(pid, "SIGKILL");
    fs.rmSync(pidFile, { force: true });
    log(`${what}: stopped (pid ${pid})`);
}

function run(file: string, args: string[], what: string): string {
    const result = spawnSync(file, args, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${what} failed (${file} ${args.join(" ")}):\n${result.stderr}${result.stdout}`);
    return result.stdout;
}

/** Writes a file only when its content changes; says whether it did. */
function writeIfChanged(file: string, content: string): boolean {
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === content) return false;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, content);
    fs.renameSync(`${file}.tmp`, file);
    return true;
}

// ---------------------------------------------------------------------------------------------
// start / stop / status
// ---------------------------------------------------------------------------------------------

async function startApps(plan: LocalReleasePlan): Promise<void> {
    fs.mkdirSync(plan.appsDir, { recursive: true });
    for (const app of plan.apps) {
        const name = `${app.service}-${app.colour}`;
        const pidFile = path.join(plan.appsDir, `${name}.pid`);
        const versionFile = path.join(plan.appsDir, `${name}.version`);
        // The deploy step of the stack owns this file; until it ran, the colour runs its configured version.
        if (!fs.existsSync(versionFile)) fs.writeFileSync(versionFile, `${app.version}\n`);
        if (alive(readPid(pidFile))) {
            log(`${name}: running on ${app.host}:${app.port}`);
            continue;
        }
        if (await connects(app.host, app.port)) throw new Error(`${name}: ${app.host}:${app.port} is taken by another process`);
        const out = fs.openSync(path.join(plan.appsDir, `${name}.log`), "a");
        const child = spawn(
            process.execPath,
            ["--disable-warning=MODULE_TYPELESS_PACKAGE_JSON", APP, "--service", app.service, "--colour", app.colour,
                "--listen", `${app.host}:${app.port}`, "--state-dir", plan.appsDir, "--version", app.version],
            { detached: true, stdio: ["ignore", out, out] },
        );
        child.unref();
        fs.writeFileSync(pidFile, `${child.pid}\n`);
        await waitFor(`${name} on ${app.host}:${app.port}`, () => connects(app.host, app.port));
        log(`${name}: started on ${app.host}:${app.port} (pid ${child.pid})`);
    }
}

async function startHaproxy(plan: NonNullable<LocalReleasePlan["haproxy"]>): Promise<void> {
    fs.mkdirSync(plan.dir, { recursive: true });
    fs.mkdirSync(path.dirname(plan.admin), { recursive: true });
    const changed = writeIfChanged(plan.configFile, plan.config);
    run("haproxy", ["-c", "-q", "-f", plan.configFile], "haproxy config check");
    const pid = readPid(plan.pidFile);
    if (alive(pid)) {
        if (!changed) {
            log(`haproxy: running (pid ${pid}), frontend ${plan.frontend}`);
            return;
        }
        // Save the weights in effect first, so the new process starts from them.
        const [state = ""] = await haproxyRuntime(undefined, plan.admin, ["show servers state"]);
        writeIfChanged(plan.stateFile, state);
        run("haproxy", ["-D", "-q", "-f", plan.configFile, "-p", plan.pidFile, "-sf", String(pid)], "haproxy reload");
        log(`haproxy: reloaded with the new config (was pid ${pid})`);
    } else {
        fs.rmSync(plan.admin, { force: true });
        run("haproxy", ["-D", "-q", "-f", plan.configFile, "-p", plan.pidFile], "haproxy start");
        log(`haproxy: started, frontend ${plan.frontend}, runtime API ${plan.admin}`);
    }
    await waitFor("haproxy runtime API", () => socketAnswers(plan.admin));
}

async function startNginx(plan: NonNullable<LocalReleasePlan["nginx"]>): Promise<void> {
    for (const dir of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) fs.mkdirSync(path.join(plan.dir, "tmp", dir), { recursive: true });
    // Upstreams the stack has not written yet start from the config; the stack's blocks stay as they are.
    let upstreams = fs.existsSync(plan.upstreamFile) ? fs.readFileSync(plan.upstreamFile, "utf8") : "";
    for (const s of plan.services) {
        if (upstreams.includes(`upstream ${s.traffic.name} {`)) continue;
        const block = renderUpstreamBlock({ name: s.traffic.name, blue: s.blue, green: s.green, weights: s.weights });
        upstreams = replaceUpstreamBlock(upstreams, s.traffic.name, block);
    }
    writeIfChanged(plan.upstreamFile, upstreams);
    const changed = writeIfChanged(plan.configFile, plan.config);
    run("nginx", ["-q", "-t", "-c", plan.configFile], "nginx config check");
    const pid = readPid(plan.pidFile);
    if (alive(pid)) {
        if (changed) {
            run("nginx", ["-c", plan.configFile, "-s", "reload"], "nginx reload");
            log(`nginx: reloaded with the new config (pid ${pid})`);
        } else {
            log(`nginx: running (pid ${pid}), listening on ${plan.listen}`);
        }
        return;
    }
    run("nginx", ["-c", plan.configFile], "nginx start");
    const colon = plan.listen.lastIndexOf(":");
    await waitFor("nginx", () => connects(plan.listen.slice(0, colon), Number(plan.listen.slice(colon + 1))));
    log(`nginx: started, listening on ${plan.listen}`);
}

async function start(plan: LocalReleasePlan): Promise<void> {
    await startApps(plan);
    if (plan.haproxy) await startHaproxy(plan.haproxy);
    if (plan.nginx) await startNginx(plan.nginx);
}

async function stop(plan: LocalReleasePlan, part: string | undefined): Promise<void> {
    if ((part === undefined || part === "haproxy") && plan.haproxy) await stopPid("haproxy", plan.haproxy.pidFile);
    if ((part === undefined || part === "nginx") && plan.nginx) await stopPid("nginx", plan.nginx.pidFile);
    if (part === undefined || part === "apps") {
        for (const app of plan.apps) await stopPid(`${app.service}-${app.colour}`, path.join(plan.appsDir, `${app.service}-${app.colour}.pid`));
    }
}

async function status(plan: LocalReleasePlan): Promise<boolean> {
    let up = true;
    for (const app of plan.apps) {
        const answers = await connects(app.host, app.port);
        up &&= answers;
        const version = fs.existsSync(path.join(plan.appsDir, `${app.service}-${app.colour}.version`))
            ? fs.readFileSync(path.join(plan.appsDir, `${app.service}-${app.colour}.version`), "utf8").trim()
            : "?";
        log(`${app.service}-${app.colour}: ${answers ? "up" : "DOWN"} on ${app.host}:${app.port}, version ${version}`);
    }
    if (plan.haproxy) {
        const answers = await socketAnswers(plan.haproxy.admin);
        up &&= answers;
        if (!answers) log(`haproxy: DOWN (${plan.haproxy.admin})`);
        else {
            const [text = ""] = await haproxyRuntime(undefined, plan.haproxy.admin, ["show servers state"]);
            const states = parseServersState(text);
            for (const backend of plan.haproxy.backends) {
                const w = colourWeights(states, backend, HAPROXY_SERVERS);
                log(`haproxy: backend ${backend} blue ${w.blue} / green ${w.green}`);
            }
        }
    }
    if (plan.nginx) {
        const answers = alive(readPid(plan.nginx.pidFile));
        up &&= answers;
        log(`nginx: ${answers ? "up" : "DOWN"} on ${plan.nginx.listen}`);
    }
    return up;
}

function fault(plan: LocalReleasePlan, service: string | undefined, colour: string | undefined, what: string[]): void {
    const app = plan.apps.find((a) => a.service === service && a.colour === colour);
    if (!app) throw new Error(`no app ${String(service)} ${String(colour)} (have ${plan.apps.map((a) => `${a.service} ${a.colour}`).join(", ")})`);
    const file = path.join(plan.appsDir, `${app.service}-${app.colour}.fault`);
    const text = what.join(" ");
    if (text === "clear" || text === "") fs.rmSync(file, { force: true });
    else if (/^\d{3}$/.test(text) || /^version \S+$/.test(text)) fs.writeFileSync(file, `${text}\n`);
    else throw new Error("a fault is `500` (any status), `version <v>` or `clear`");
    log(`${app.service}-${app.colour}: fault ${text}`);
}

async function main(argv: string[]): Promise<number> {
    const args = [...argv];
    const at = args.indexOf("--config");
    const configFile = at === -1 ? path.join(ROOT, "Pulumi.local.yaml") : args.splice(at, 2)[1];
    if (configFile === undefined) throw new Error("--config needs a stack file");
    const [commandName = "start", ...rest] = args;
    const plan = planLocalRelease(parsePlatformConfig(readStackConfig(configFile)));
    switch (commandName) {
        case "start":
            await start(plan);
            return (await status(plan)) ? 0 : 1;
        case "stop":
            await stop(plan, rest[0]);
            return 0;
        case "status":
            return (await status(plan)) ? 0 : 3;
        case "fault":
            fault(plan, rest[0], rest[1], rest.slice(2));
            return 0;
        default:
            throw new Error(`unknown command ${commandName} (start, stop, status, fault)`);
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            console.error(`[local-release] ${(error as Error).message}`);
            process.exit(1);
        },
    );
}
