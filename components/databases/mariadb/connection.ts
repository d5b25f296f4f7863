// How the MariaDB dynamic providers reach a server: the admin connection, opened per operation.
import type { Connection } from "mariadb";

/** Admin connection to one MariaDB server. The password arrives as a Pulumi secret. */
export interface MariaDbAdminConnection {
    host: string;
    port: number;
    user: string;
    password: string;
    /** `disable`, or `require`/`verify-ca`/`verify-full` for TLS to the server. */
    tls?: string;
}

/** Seconds to wait for a server before an operation fails (a down server must not hang `up`). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Runs `work` on a fresh admin connection and always closes it. Dynamic providers are serialized
 * into the state, so they require the driver here, at call time, rather than capturing it.
 */
export async function withAdminConnection<T>(conn: MariaDbAdminConnection, work: (c: Connection) => Promise<T>): Promise<T> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mariadb = require("mariadb") as typeof import("mariadb");
    const tls = conn.tls ?? "disable";
    const c = await mariadb.createConnection({
        host: conn.host,
        port: conn.port,
        user: conn.user,
        password: conn.password,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ssl: tls === "disable" ? undefined : { rejectUnauthorized: tls !== "require" },
        // Never let the driver echo statements or parameters (they may hold passwords) into errors.
        logParam: false,
    });
    try {
        return await work(c);
    } finally {
        await c.end();
    }
}
