// A tiny stand-in for one colour of a service: answers `/health` with the version it runs, and can be told to fail.
//
//   node scripts/apps/health-app.ts --service api --colour green --listen 127.0.0.1:3001 --state-dir /tmp/release-platform/apps
//
// It reads two files in --state-dir (again at most every 100 ms, so changes apply at once):
//   <service>-<colour>.version   the version it runs (written by the release's deploy step)
//   <service>-<colour>.fault     optional: `500` answers every request with HTTP 500,
//                                `version <v>` reports <v> instead of the deployed version
// Every answer carries `x-colour` and `x-version`, so a load generator can tell who served it.
// Runs on Node's type stripping: no imports beyond Node, no TypeScript-only syntax.
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

interface Options {
    service: string;
    colour: string;
    host: string;
    port: number;
    stateDir: string;
    version: string;
}

function parseOptions(argv: string[]): Options {
    const values = new Map<string, string>();
    for (let i = 0; i < argv.length; i += 2) {
        const key = argv[i] ?? "";
        const value = argv[i + 1];
        if (!key.startsWith("--") || value === undefined) throw new Error(`usage: health-app.ts --service S --colour C --listen HOST:PORT --state-dir DIR [--version V] (at ${key})`);
        values.set(key.slice(2), value);
    }
    const need = (name: string): string => {
        const value = values.get(name);
        if (value === undefined) throw new Error(`health-app: --${name} is required`);
        return value;
    };
    const listen = need("listen");
    const colon = listen.lastIndexOf(":");
    return {
        service: need("service"),
        colour: need("colour"),
        host: listen.slice(0, colon),
        port: Number(listen.slice(colon + 1)),
        stateDir: need("state-dir"),
        version: values.get("version") ?? "0.0.0",
    };
}

type Fault = { kind: "none" } | { kind: "status"; status: number } | { kind: "version"; version: string };

function readFirstLine(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8").split("\n")[0]?.trim();
    } catch {
        return undefined;
    }
}

export function parseFault(text: string | undefined): Fault {
    const value = (text ?? "").trim();
    if (value === "") return { kind: "none" };
    if (/^\d{3}$/.test(value)) return { kind: "status", status: Number(value) };
    const version = /^version\s+(\S+)$/.exec(value);
    if (version?.[1] !== undefined) return { kind: "version", version: version[1] };
    return { kind: "status", status: 500 };
}

function main(): void {
    const options = parseOptions(process.argv.slice(2));
    const base = path.join(options.stateDir, `${options.service}-${options.colour}`);
    let readAt = 0;
    let version = options.version;
    let fault: Fault = { kind: "none" };
    const current = (): { version: string; fault: Fault } => {
        const now = Date.now();
        if (now - readAt >= 100) {
            readAt = now;
            version = readFirstLine(`${base}.version`) || options.version;
            fault = parseFault(readFirstLine(`${base}.fault`));
        }
        return { version, fault };
    };

    const server = http.createServer((req, res) => {
        const state = current();
        const reported = state.fault.kind === "version" ? state.fault.version : state.version;
        const status = state.fault.kind === "status" ? state.fault.status : 200;
        const url = req.url ?? "/";
        const body =
            url === "/health" || url.startsWith("/health?")
                ? {
                      status: status === 200 ? "healthy" : "unhealthy",
                      version: reported,
                      database: "connected",
                      timestamp: new Date().toISOString(),
                      service: options.service,
                      colour: options.colour,
                  }
                : { service: options.service, colour: options.colour, version: reported, path: url };
        const text = JSON.stringify(body);
        res.writeHead(status, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(text),
            "x-colour": options.colour,
            "x-version": reported,
        });
        res.end(text);
    });
    // Longer than HAProxy's and nginx's idle times, so the proxy always closes an idle connection first.
    server.keepAliveTimeout = 75_000;
    server.headersTimeout = 76_000;
    server.listen(options.port, options.host, () => {
        console.log(`${options.service} ${options.colour} listening on ${options.host}:${options.port}`);
    });
    const stop = (): void => {
        server.close(() => process.exit(0));
        server.closeIdleConnections();
        setTimeout(() => process.exit(0), 2000).unref();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
}

if (process.argv[1] !== undefined && /health-app\.ts$/.test(process.argv[1])) main();
