// A minimal Proxmox VE API client for the two changes the bridged provider cannot make through a token
// (see container-settings.ts): token auth, form bodies, `{data}` answers, task polling.
// Dynamic providers are serialized into the state with the functions they call, so node:https is
// required at call time (a captured module object would be serialized by value and fail).
/* eslint-disable @typescript-eslint/no-require-imports -- see above */

/** Where and how to reach the PVE API: `cluster.endpoint` and the secret token. Its certificate is always verified. */
export interface PveConnection {
    endpoint: string;
    /** `user@realm!tokenid=secret`. */
    apiToken: string;
}

export class PveApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "PveApiError";
    }
}

/** One call below /api2/json; resolves to `data`, rejects with PVE's message (the status line, or the body's `message`). */
export function pveRequest(connection: PveConnection, method: "GET" | "PUT" | "POST", path: string, args: Record<string, string> = {}): Promise<unknown> {
    const form = new URLSearchParams(args).toString();
    const query = method === "GET" && form !== "" ? `?${form}` : "";
    const url = `${connection.endpoint.replace(/\/+$/, "")}/api2/json/${path}${query}`;
    const https = require("node:https") as typeof import("node:https");
    return new Promise((resolve, reject) => {
        const request = https.request(
            url,
            {
                method,
                rejectUnauthorized: true,
                headers: {
                    Accept: "application/json",
                    Authorization: `PVEAPIToken=${connection.apiToken}`,
                    ...(method !== "GET" ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
                },
            },
            (response) => {
                let body = "";
                response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
                response.on("end", () => {
                    const status = response.statusCode ?? 0;
                    let parsed: { data?: unknown; message?: string; errors?: Record<string, string> } = {};
                    try {
                        parsed = JSON.parse(body) as typeof parsed;
                    } catch {
                        // A proxy's HTML page: the status line says enough.
                    }
                    if (status >= 200 && status < 300) return resolve(parsed.data ?? null);
                    const fields = Object.entries(parsed.errors ?? {}).map(([k, v]) => `; ${k}: ${v.trim()}`).join("");
                    const text = (parsed.message ?? response.statusMessage ?? "").trim();
                    reject(new PveApiError(status, `${method} /${path}: ${status} ${text}${fields}`));
                });
            },
        );
        request.on("error", reject);
        request.end(method === "GET" ? undefined : form);
    });
}

/** Waits for a task (`UPID:…`) to stop; rejects unless it ended `OK`. */
export async function waitForTask(connection: PveConnection, node: string, upid: string, timeoutMs = 10 * 60_000, pollMs = 500): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const status = (await pveRequest(connection, "GET", `nodes/${node}/tasks/${encodeURIComponent(upid)}/status`)) as { status?: string; exitstatus?: string };
        if (status.status === "stopped") {
            if (status.exitstatus !== "OK") throw new Error(`task ${upid} failed: ${status.exitstatus ?? "no exit status"}`);
            return;
        }
        if (Date.now() > deadline) throw new Error(`task ${upid} still running after ${Math.round(timeoutMs / 1000)} s`);
        await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
}
