// Request and error shapes shared by the emulator's route handlers.
import type { EmulatorState } from "./state";

/**
 * An API error as PVE sends it: the message in the HTTP status line and in `message` (with the final
 * newline of the Perl `die`), field errors in `errors`.
 */
export class PveError extends Error {
    constructor(
        public readonly status: number,
        message: string,
        public readonly errors?: Record<string, string>,
    ) {
        super(message);
        this.name = "PveError";
    }
}

/** 400 "Parameter verification failed." with one message per field, as PVE's schema check answers. */
export function parameterError(errors: Record<string, string>): PveError {
    return new PveError(400, "Parameter verification failed.", errors);
}

export interface ApiRequest {
    method: string;
    /** Below /api2/json, without the query string, e.g. `nodes/pve1/lxc/100/config`. */
    path: string;
    /** Path parameters from the route pattern, URL-decoded. */
    params: Record<string, string>;
    /** Query string and form body merged (PVE reads both the same way), already checked against the schema. */
    args: Record<string, string>;
    /** `user@realm!tokenid` of the API token. */
    user: string;
}

export interface RouteContext {
    state: EmulatorState;
    /** Starts a task on `node` and returns its UPID (the operation itself has already been applied). */
    task(node: string, type: string, id: string, user: string, log?: string[]): string;
}

export type Handler = (req: ApiRequest, ctx: RouteContext) => unknown;

export interface Route {
    /** The schema's endpoint key, e.g. `GET /nodes/{node}/lxc`. */
    key: string;
    handler: Handler;
}

/** The handler of `method` on the schema path `template` (written without the leading slash). */
export function route(method: string, template: string, handler: Handler): Route {
    return { key: `${method} /${template}`, handler };
}

export function requireArg(args: Record<string, string>, name: string): string {
    const value = args[name];
    if (value === undefined || value === "") throw parameterError({ [name]: "property is missing and it is not optional" });
    return value;
}

export function intArg(args: Record<string, string>, name: string): number | undefined {
    const value = args[name];
    if (value === undefined || value === "") return undefined;
    if (!/^-?\d+$/.test(value)) throw parameterError({ [name]: `type check ('integer') failed - got '${value}'` });
    return Number(value);
}

export function boolArg(args: Record<string, string>, name: string): boolean | undefined {
    const value = args[name];
    if (value === undefined || value === "") return undefined;
    if (!["0", "1"].includes(value)) throw parameterError({ [name]: `type check ('boolean') failed - got '${value}'` });
    return value === "1";
}

/** PVE's `delete` parameter: a comma- (or space/semicolon-) separated list of keys. */
export function deleteList(args: Record<string, string>): string[] {
    return (args["delete"] ?? "").split(/[,;\s]+/).filter((k) => k !== "");
}
