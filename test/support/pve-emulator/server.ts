// The emulator itself: an HTTPS server on loopback that answers /api2/json like a Proxmox VE cluster would.
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { parameterError, PveError, type Handler, type RouteContext } from "./api";
import { emulatorCertificate, generateSelfSignedCertificate } from "./certificate";
import { clusterRoutes } from "./cluster";
import { checkNode, containerRoutes } from "./containers";
import { firewallRoutes } from "./firewall";
import { haRoutes } from "./ha";
import { apiSchema, findEndpoint, parameterErrors, resultErrors } from "./schema";
import { EmulatorState, type SerializedState } from "./state";

export interface PveEmulatorOptions {
    /** Cluster nodes; requests naming another node fail like an unreachable node. Default pve1..pve3. */
    nodes?: string[];
    /**
     * What `GET /version` reports, and so which API it serves: 8.x the PVE 8.4 schema and rules (HA
     * groups, no /cluster/ha/rules), 9.x the PVE 9 ones (HA rules; the provider sends `host-managed`
     * from 9.1 on). Default 9.1.2.
     */
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
    /** The certificate it serves: the one the local test CA signed (default), or a throwaway self-signed one (an impostor). */
    certificate?: "test-ca" | "self-signed";
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
    /** Handlers by the schema's endpoint key (`GET /nodes/{node}/lxc`). */
    private readonly handlers: Map<string, Handler>;
    private readonly options: PveEmulatorOptions;
    private server: https.Server | undefined;
    private nextPid = 0x1000;

    private constructor(state: EmulatorState, options: PveEmulatorOptions) {
        this.state = state;
        this.options = options;
        this.handlers = new Map([...clusterRoutes(), ...containerRoutes(), ...haRoutes(), ...firewallRoutes()].map((r) => [r.key, r.handler]));
    }

    /** Starts a fresh emulator (or the persisted one from `stateFile`) and resolves once it listens. */
    static async start(options: PveEmulatorOptions = {}): Promise<PveEmulator> {
        // A stack names `8.4`; /version reports a full `8.4.0`, as PVE does.
        const version = (options.version ?? "9.1.2").split(".").concat(["0", "0"]).slice(0, 3).join(".");
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
        const { key, cert } = this.options.certificate === "self-signed" ? generateSelfSignedCertificate() : emulatorCertificate();
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
        // Still URL-encoded: a path parameter may hold an encoded `/` (an IP set entry's CIDR).
        const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length).replace(/\/+$/, "") : url.pathname;
        const readable = safeDecode(path);
        const args: Record<string, string> = Object.fromEntries(url.searchParams);
        const type = String(headers["content-type"] ?? "");
        if (body !== "" && type.startsWith("application/x-www-form-urlencoded")) Object.assign(args, Object.fromEntries(new URLSearchParams(body)));
        else if (body !== "" && type.startsWith("application/json")) Object.assign(args, jsonArgs(body));
        const entry: LoggedRequest = { seq: this.requests.length + 1, method, path: readable, args, status: 0 };
        this.requests.push(entry);

        let status = 200;
        let payload: Record<string, unknown>;
        try {
            if (!url.pathname.startsWith(prefix)) throw new PveError(501, `Unexpected content for method '${method}'`);
            const user = this.authenticate(headers["authorization"]);
            payload = { data: this.dispatch(method, path, readable, args, user) ?? null };
            if (method !== "GET") this.persist();
        } catch (error) {
            const pveError = error instanceof PveError ? error : new PveError(500, (error as Error).message);
            status = pveError.status;
            entry.error = pveError.errors ? `${pveError.message} ${JSON.stringify(pveError.errors)}` : pveError.message;
            // PVE::APIServer::Formatter::Standard: `data` null, the `die` text (with its newline) as `message`, field errors as `errors`.
            payload = { data: null, message: `${pveError.message}\n`, ...(pveError.errors ? { errors: pveError.errors } : {}) };
        }
        entry.status = status;
        const text = JSON.stringify(payload);
        // pveproxy puts the first line of the error text in the status line; that is where the provider looks for "does not exist".
        res.statusCode = status;
        if (typeof payload["message"] === "string") res.statusMessage = (payload["message"].split("\n")[0] ?? "").replace(/[^\x20-\x7e]/g, " ");
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

    /**
     * pveproxy's order: find the handler (501), check the token may use it (403), proxy to the node
     * (595 for an unknown one), validate the parameters against the schema (400), run the handler
     * (its runtime rules), and, as PVE's optional result verification would, check the answer
     * against `returns`: an answer that does not match is an emulator bug, reported as one.
     */
    private dispatch(method: string, path: string, readable: string, args: Record<string, string>, user: string): unknown {
        const notImplemented = new PveError(501, `Method '${method} /${readable}' not implemented`);
        const matched = findEndpoint(apiSchema(this.state.major), method, path);
        if (!matched) throw notImplemented;
        const handler = this.handlers.get(matched.key);
        if (!handler) throw notImplemented;
        if (!matched.endpoint.allowtoken) {
            throw new PveError(403, `Permission check failed (URI '/${path}' not available with API token, need proper ticket.)`);
        }
        for (const [key, value] of Object.entries(args)) {
            if (matched.params[key] !== undefined && matched.params[key] !== value) {
                throw parameterError({ [key]: "duplicate parameter (already defined in URI) with conflicting values!" });
            }
        }
        if (matched.params["node"] !== undefined) checkNode(this.state, matched.params["node"]);
        // `key=` arrives as an undefined value in pve-http-server's decode_urlencoded: absent for the schema.
        const present = Object.fromEntries(Object.entries({ ...args, ...matched.params }).filter(([, v]) => v !== ""));
        const errors = parameterErrors(matched.endpoint, present);
        if (Object.keys(errors).length > 0) throw parameterError(errors);
        const result = handler({ method, path: readable, params: matched.params, args, user }, this.context());
        const wrong = resultErrors(matched.endpoint, result ?? null);
        if (Object.keys(wrong).length > 0) {
            throw new Error(`pve-emulator bug: the answer to ${matched.key} does not match the schema's returns: ${JSON.stringify(wrong)}`);
        }
        return result;
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

/** A path for logs and messages; one that does not decode stays as it came. */
function safeDecode(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}

/** A JSON body's values as the form values they stand for (PVE's JSON bodies are typed; bpg sends forms). */
function jsonArgs(body: string): Record<string, string> {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    return Object.fromEntries(
        Object.entries(parsed).map(([k, v]) => [k, typeof v === "boolean" ? (v ? "1" : "0") : typeof v === "object" ? JSON.stringify(v) : String(v)]),
    );
}
