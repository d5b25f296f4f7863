// nginx upstreams of a blue/green service: rendered as a marked block of the shared upstream file.
import type { Colour, Weights } from "../ladder";

export interface UpstreamColour {
    /** host:port */
    address: string;
    version: string;
}

export interface UpstreamSpec {
    /** Upstream name (a service's `traffic.name`); `<name>_blue` and `<name>_green` reach one colour. */
    name: string;
    blue: UpstreamColour;
    green: UpstreamColour;
    weights: Weights;
}

const NGINX_NAME = /^[a-z][a-z0-9_-]*$/;
const ADDRESS = /^[^\s;{}#]+:\d{1,5}$/;

const beginMarker = (name: string): string => `# BEGIN release-platform upstream ${name} (managed by Pulumi, do not edit)`;
const endMarker = (name: string): string => `# END release-platform upstream ${name}`;

function serverLine(colour: Colour, target: UpstreamColour, weight: number): string {
    // nginx weights start at 1; a colour without traffic is `down` (in-flight requests finish).
    const share = weight > 0 ? `weight=${weight}` : "down";
    return `    server ${target.address} ${share}; # ${colour} ${target.version}`;
}

/** The block for one service: the weighted upstream and one upstream per colour. */
export function renderUpstreamBlock(spec: UpstreamSpec): string {
    if (!NGINX_NAME.test(spec.name)) throw new Error(`invalid nginx upstream name ${JSON.stringify(spec.name)}`);
    for (const colour of ["blue", "green"] as const) {
        const target = spec[colour];
        if (!ADDRESS.test(target.address)) throw new Error(`invalid ${colour} address ${JSON.stringify(target.address)} for upstream ${spec.name}`);
        if (/[\n#]/.test(target.version)) throw new Error(`invalid ${colour} version ${JSON.stringify(target.version)}`);
        const weight = spec.weights[colour];
        if (!Number.isInteger(weight) || weight < 0 || weight > 100) throw new Error(`${colour} weight must be 0 to 100, not ${weight}`);
    }
    if (spec.weights.blue + spec.weights.green === 0) throw new Error(`upstream ${spec.name} needs a colour with weight`);
    return [
        beginMarker(spec.name),
        `upstream ${spec.name} {`,
        serverLine("blue", spec.blue, spec.weights.blue),
        serverLine("green", spec.green, spec.weights.green),
        "}",
        `upstream ${spec.name}_blue { server ${spec.blue.address}; }`,
        `upstream ${spec.name}_green { server ${spec.green.address}; }`,
        endMarker(spec.name),
    ].join("\n");
}

function blockRange(text: string, name: string): { start: number; end: number } | undefined {
    const start = text.indexOf(beginMarker(name));
    if (start === -1) return undefined;
    const endAt = text.indexOf(endMarker(name), start);
    if (endAt === -1) throw new Error(`the upstream file has the start of ${name}'s block but not its end (${endMarker(name)})`);
    return { start, end: endAt + endMarker(name).length };
}

/** The file with `name`'s block replaced by `block` (appended when it had none); other blocks stay as they are. */
export function replaceUpstreamBlock(text: string, name: string, block: string): string {
    const range = blockRange(text, name);
    if (range === undefined) {
        const base = text.length === 0 || text.endsWith("\n") ? text : `${text}\n`;
        return `${base}${block}\n`;
    }
    return text.slice(0, range.start) + block + text.slice(range.end);
}

/** The weights of `name`'s weighted upstream in the file, or undefined when it has no block. */
export function parseUpstreamWeights(text: string, name: string): Weights | undefined {
    const range = blockRange(text, name);
    if (range === undefined) return undefined;
    const block = text.slice(range.start, range.end);
    const weights: Partial<Weights> = {};
    for (const match of block.matchAll(/^\s*server\s+\S+\s+(weight=(\d+)|down);\s*#\s*(blue|green)\b/gm)) {
        const colour = match[3] as Colour;
        weights[colour] = match[2] !== undefined ? Number(match[2]) : 0;
    }
    if (weights.blue === undefined || weights.green === undefined) throw new Error(`upstream ${name}'s block has no blue and green server lines`);
    return { blue: weights.blue, green: weights.green };
}

export interface LocalNginxConfig {
    runDir: string;
    listenAddress: string;
    upstreamFile: string;
    /** Upstream names; `/<name>/` is proxied to the weighted upstream. */
    upstreams: readonly string[];
}

/** nginx.conf of the local stack: everything under `runDir`, one location per service. */
export function renderLocalNginxConfig(config: LocalNginxConfig): string {
    const temp = (name: string): string => `${config.runDir}/tmp/${name}`;
    return [
        "# Rendered by scripts/local-release.sh from the stack config; the upstream file is Pulumi's.",
        "worker_processes 1;",
        `pid ${config.runDir}/nginx.pid;`,
        `error_log ${config.runDir}/error.log warn;`,
        "events { worker_connections 512; }",
        "http {",
        "    access_log off;",
        `    client_body_temp_path ${temp("body")};`,
        `    proxy_temp_path ${temp("proxy")};`,
        `    fastcgi_temp_path ${temp("fastcgi")};`,
        `    uwsgi_temp_path ${temp("uwsgi")};`,
        `    scgi_temp_path ${temp("scgi")};`,
        `    include ${config.upstreamFile};`,
        "    server {",
        `        listen ${config.listenAddress};`,
        ...config.upstreams.map((name) => `        location /${name}/ { proxy_pass http://${name}/; proxy_next_upstream error timeout http_502; }`),
        "    }",
        "}",
        "",
    ].join("\n");
}
