// HAProxy's runtime API in text: the commands that move weights and the `show servers state` read-back.
import { COLOURS, type Colour, type Weights } from "../ladder";

/** Backend and server names HAProxy accepts (and that need no quoting on its command line). */
const HAPROXY_NAME = /^[A-Za-z0-9_.:-]+$/;

/** HAProxy's weight range; we use 0 to 100 (percent) within it. */
export const MAX_HAPROXY_WEIGHT = 256;

function checkName(kind: string, name: string): void {
    if (!HAPROXY_NAME.test(name)) throw new Error(`invalid HAProxy ${kind} name ${JSON.stringify(name)}`);
}

/** `set weight api/green 10`: the weight a server gets from now on, for new requests. */
export function setWeightCommand(backend: string, server: string, weight: number): string {
    checkName("backend", backend);
    checkName("server", server);
    if (!Number.isInteger(weight) || weight < 0 || weight > MAX_HAPROXY_WEIGHT) {
        throw new Error(`HAProxy weight must be a whole number from 0 to ${MAX_HAPROXY_WEIGHT}, not ${weight}`);
    }
    return `set weight ${backend}/${server} ${weight}`;
}

/** `show servers state` of one backend, or of all. */
export function showServersStateCommand(backend?: string): string {
    if (backend === undefined) return "show servers state";
    checkName("backend", backend);
    return `show servers state ${backend}`;
}

/**
 * The commands that take a backend's colours to `to`: the rising colour first, then the falling
 * one, so that between the two commands both colours have weight and no request finds the
 * backend without a server (all weights 0 answers 503).
 */
export function weightChangeCommands(backend: string, servers: Readonly<Record<Colour, string>>, to: Weights, from?: Weights): string[] {
    const rising = COLOURS.filter((c) => from === undefined || to[c] > from[c]);
    const rest = COLOURS.filter((c) => !rising.includes(c));
    return [...rising, ...rest].map((colour) => setWeightCommand(backend, servers[colour], to[colour]));
}

/** One line of `show servers state` (format version 1), the fields we use named. */
export interface ServerState {
    backendId: number;
    backend: string;
    serverId: number;
    server: string;
    address: string;
    /** 0 stopped, 1 starting, 2 running, 3 stopping. */
    opState: number;
    /** Bit field; 0 is ready, 1 forced maintenance, 8 drain. */
    adminState: number;
    /** The weight in effect (set at runtime or restored from the state file). */
    weight: number;
    /** The weight from the config file. */
    initialWeight: number;
    port: number | undefined;
    /** Every column by its header name, as text. */
    fields: Record<string, string>;
}

/**
 * Something HAProxy said instead of the answer, e.g. `No such server.` or `Unknown command`.
 * A plain Error, not a subclass: dynamic providers are serialized, and a serialized Error
 * subclass loses its message on the way to the engine.
 */
export function haproxyRuntimeError(message: string): Error {
    const error = new Error(message);
    error.name = "HaproxyRuntimeError";
    return error;
}

function numberField(fields: Record<string, string>, name: string, line: string): number {
    const value = Number(fields[name]);
    if (fields[name] === undefined || !Number.isFinite(value)) throw haproxyRuntimeError(`show servers state: no number in ${name} of ${JSON.stringify(line)}`);
    return value;
}

/**
 * Parses `show servers state` (also what a server-state file holds). Columns are matched by the
 * header line, so versions that add columns still parse. Anything that is not the format is an
 * error that carries HAProxy's text.
 */
export function parseServersState(text: string): ServerState[] {
    const lines = text.split("\n").map((line) => line.trim()).filter((line) => line.length > 0);
    const [version, header, ...rows] = lines;
    if (version !== "1" || header === undefined || !header.startsWith("# ")) {
        throw haproxyRuntimeError(`show servers state did not answer in format 1: ${JSON.stringify(text.slice(0, 200))}`);
    }
    const names = header.slice(2).split(/\s+/);
    return rows.map((line) => {
        const values = line.split(/\s+/);
        const fields: Record<string, string> = {};
        names.forEach((name, index) => {
            fields[name] = values[index] ?? "";
        });
        const port = Number(fields["srv_port"]);
        return {
            backendId: numberField(fields, "be_id", line),
            backend: fields["be_name"] ?? "",
            serverId: numberField(fields, "srv_id", line),
            server: fields["srv_name"] ?? "",
            address: fields["srv_addr"] ?? "",
            opState: numberField(fields, "srv_op_state", line),
            adminState: numberField(fields, "srv_admin_state", line),
            weight: numberField(fields, "srv_uweight", line),
            initialWeight: numberField(fields, "srv_iweight", line),
            port: Number.isInteger(port) && port > 0 ? port : undefined,
            fields,
        };
    });
}

/** The weights of a backend's blue and green servers; names the missing ones. */
export function colourWeights(states: readonly ServerState[], backend: string, servers: Readonly<Record<Colour, string>>): Weights {
    const find = (colour: Colour): ServerState => {
        const state = states.find((s) => s.backend === backend && s.server === servers[colour]);
        if (!state) {
            const known = states.filter((s) => s.backend === backend).map((s) => s.server);
            throw haproxyRuntimeError(
                known.length === 0
                    ? `HAProxy has no backend ${backend}`
                    : `HAProxy backend ${backend} has no server ${servers[colour]} (has ${known.join(", ")})`,
            );
        }
        return state;
    };
    return { blue: find("blue").weight, green: find("green").weight };
}

/** An answer to a command that should print nothing (`set weight`): any text is HAProxy's complaint. */
export function expectEmptyAnswer(command: string, answer: string): void {
    const text = answer.trim();
    if (text.length > 0) throw haproxyRuntimeError(`HAProxy refused \`${command}\`: ${text}`);
}
