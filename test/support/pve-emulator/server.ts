// The emulator itself: an HTTPS server on loopback that answers /api2/json like a Proxmox VE cluster would.
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { PveError, type ApiRequest, type Route, type RouteContext } from "./api";
import { generateSelfSignedCertificate } from "./certificate";
import { clusterRoutes } from "./cluster";
import { containerRoutes } from "./containers";
import { firewallRoutes } from "./firewall";
import { haRoutes } from "./ha";
import { EmulatorState, type SerializedState } from "./state";

export interface PveEmulatorOptions {
    /** Cluster nodes; requests naming another node fail like an unreachable node. Default pve1..pve3. */
    nodes?: string[];
    /** What `GET /version` reports (the provider sends `host-managed` from 9.1 on). Default 9.1.2. */
    version?: string;
    /** Default 0: a free port. */
    port?: number;
    host?: string;
    /** Accepted API tokens (`user@realm!id=secret`); default: any well-formed token. */
    tokens?: string[];
    /** How many status polls a task answers `running` before `stopped` (exercises the provider's polling). Default 1. */
    taskRunningPolls?: number;
    /** Load the cluster from this JSON file and save it after every change (the standalone server for `npm start`). */
    stateFile?: string;
}

export interface LoggedRequest {
    seq: number;
    method: string;
    /** Below /api2/json, without the query string. */
    path: string;
    /** Query string and form body. */
    args: Record<string, string>;
    status: number;
    /** The error message, for answers that are not 2xx. */
    error?: string;
}

/** `PVEAPIToken=user@realm!tokenid=secret`, the header bpg's provider sends for token auth. */
const TOKEN_HEADER = /^PVEAPIToken=(\S+@\S+!\S+?)=([A-Za-z0-9-]+)$/;

export class PveEmulator {
    readonly state: EmulatorState;
    /** Every request in arrival order, with its answer's status. */
    readonly requests: LoggedRequest[] = [];
    private readonly routes: Route[];
    private readonly options: PveEmulatorOptions;
    private server: https.Server | undefined;
    private nextPid = 0x1000;

    private constructor(state: EmulatorState, options: PveEmulatorOptions) {
        this.state = state;
        this.options = options;
        this.routes = [...clusterRoutes(), ...containerRoutes(), ...haRoutes(), ...firewallRoutes()];
    }

    /** Starts a fresh emulator (or the persisted one from `stateFile`) and resolves once it listens. */
    static async start(options: PveEmulatorOptions = {}): Promise<PveEmulator> {
        const version = options.version ?? "9.1.2";
        const state =
            options.stateFile && fs.existsSync(options.stateFile)
                ? EmulatorState.fromJSON(JSON.parse(fs.readFileSync(options.stateFile, "utf8")) as SerializedState)
                : new EmulatorState(options.nodes ?? ["pve1", "pve2", "pve3"], {
                      version,
                      release: version.split(".").slice(0, 2).join("."),
                      repoid: "0000000000000000",
                  });
        const emulator = new PveEmulator(state, options);
        await emulator.listen();
        return emulator;
    }

    private async listen(): Promise<void> {
        const { key, cert } = generateSelfSignedCertificate();
        const server = https.createServer({ key, cert }, (req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (chunk: Buffer) => chunks.push(chunk));
            req.on("end", () => this.respond(req.method ?? "GET", req.url ?? "/", req.headers, Buffer.concat(chunks).toString("utf8"), res));
        });
        server.keepAliveTimeout = 60_000;
        await new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
        });
        // A test process must be able to exit while the emulator still listens.
        server.unref();
        this.server = server;
    }

    get port(): number {
        return (this.server?.address() as AddressInfo).port;
    }

    /** What `cluster.endpoint` points at. */
    get endpoint(): string {
        return `https://${this.options.host ?? "127.0.0.1"}:${this.port}`;
    }

    /** Requests that change something (anything but GET). */
    mutations(): LoggedRequest[] {
        return this.requests.filter((r) => r.method !== "GET");
    }

    clearLog(): void {
        this.requests.length = 0;
    }

    async stop(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        if (!server) return;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    private respond(method: string, rawUrl: string, headers: NodeJS.Dict<string | string[]>, body: string, res: import("node:http").ServerResponse): void {
        const url = new URL(rawUrl, "https://pve.invalid");
        const prefix = "/api2/json/";
        const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length).replace(/\/+$/, "") : url.pathname;
        const args: Record<string, string> = Object.fromEntries(url.searchParams);
        const type = String(headers["content-type"] ?? "");
        if (body !== "" && type.startsWith("application/x-www-form-urlencoded")) Object.assign(args, Object.fromEntries(new URLSearchParams(body)));
        else if (body !== "" && type.startsWith("application/json")) Object.assign(args, JSON.parse(body) as Record<string, string>);
        const entry: LoggedRequest = { seq: this.requests.length + 1, method, path, args, status: 0 };
        this.requests.push(entry);

        let status = 200;
        let payload: unknown;
        let message: string | undefined;
        let errors: Record<string, string> | undefined;
        try {
            if (!url.pathname.startsWith(prefix)) throw new PveError(501, `Unexpected content for method '${method}'`);
            const user = this.authenticate(headers["authorization"]);
            payload = { data: this.dispatch({ method, path, params: {}, args, user }) ?? null };
            if (method !== "GET") this.persist();
        } catch (error) {
            const pveError = error instanceof PveError ? error : new PveError(500, (error as Error).message);
            status = pveError.status;
            message = pveError.message;
            errors = pveError.errors;
            payload = { data: null, ...(errors ? { errors } : {}) };
        }
        entry.status = status;
        if (message !== undefined) entry.error = errors ? `${message} ${JSON.stringify(errors)}` : message;
        const text = JSON.stringify(payload);
        // PVE puts the error text in the status line; that is where the provider looks for "does not exist".
        res.statusCode = status;
        if (message !== undefined) res.statusMessage = message.replace(/[^\x20-\x7e]/g, " ");
        res.setHeader("Content-Type", "application/json;charset=UTF-8");
        res.setHeader("Content-Length", Buffer.byteLength(text));
        res.end(text);
    }

    private authenticate(header: string | string[] | undefined): string {
        const value = Array.isArray(header) ? header[0] : header;
        const match = value === undefined ? null : TOKEN_HEADER.exec(value);
        if (!match) throw new PveError(401, "No ticket");
        const token = `${match[1] ?? ""}=${match[2] ?? ""}`;
        if (this.options.tokens && !this.options.tokens.includes(token)) throw new PveError(401, "invalid token value!");
        return match[1] ?? "";
    }

    private dispatch(request: ApiRequest): unknown {
        let pathMatched = false;
        for (const candidate of this.routes) {
            const match = candidate.pattern.exec(request.path);
            if (!match) continue;
            pathMatched = true;
            if (candidate.method !== request.method) continue;
            const params: Record<string, string> = {};
            for (const [key, value] of Object.entries(match.groups ?? {})) params[key] = decodeURIComponent(value);
            return candidate.handler({ ...request, params }, this.context());
        }
        if (pathMatched) throw new PveError(501, `Method '${request.method} /${request.path}' not implemented`);
        throw new PveError(501, `Method '${request.method} /${request.path}' not implemented`);
    }

    private context(): RouteContext {
        return {
            state: this.state,
            task: (node, type, id, user, log = []) => {
                const starttime = Math.floor(Date.now() / 1000);
                const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, "0");
                const upid = `UPID:${node}:${hex(this.nextPid++)}:${hex(0x5678)}:${hex(starttime)}:${type}:${id}:${user}:`;
                this.state.tasks.set(upid, {
                    upid, node, type, id, user, starttime,
                    runningPolls: this.options.taskRunningPolls ?? 1,
                    exitstatus: "OK",
                    log,
                });
                return upid;
            },
        };
    }

    private persist(): void {
        if (this.options.stateFile) fs.writeFileSync(this.options.stateFile, JSON.stringify(this.state, null, 2));
    }
}
