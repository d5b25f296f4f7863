// How the MariaDB dynamic providers reach a server: the admin connection, opened per operation, verified.
import type { Connection } from "mariadb";
import { tlsClientOptions } from "../tls";

/** Admin connection to one MariaDB server. The password arrives as a Pulumi secret. */
export interface MariaDbAdminConnection {
    host: string;
    port: number;
    user: string;
    password: string;
    /** `disable`, `require` (local stack only: encrypted, not verified), `verify-ca` or `verify-full`. */
    tls?: string;
    /** The CA that signed the server's certificate (verify-ca, verify-full), read when connecting. */
    caFile?: string;
}

/** Seconds to wait for a server before an operation fails (a down server must not hang `up`). */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The authentication plugins the admin connection may answer. Never `mysql_clear_password` (or
 * `dialog`, which sends what it is asked): a server that asks for the password in clear gets an
 * error, not the password, even inside TLS.
 */
export const ALLOWED_AUTH_PLUGINS = ["mysql_native_password", "client_ed25519", "caching_sha2_password"] as const;

/**
 * Runs `work` on a fresh admin connection and always closes it. Dynamic providers are serialized
 * into the state, so they require the driver here, at call time, rather than capturing it.
 */
export async function withAdminConnection<T>(conn: MariaDbAdminConnection, work: (c: Connection) => Promise<T>): Promise<T> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mariadb = require("mariadb") as typeof import("mariadb");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require("node:fs") as typeof import("node:fs");
    // `restrictedAuth` is read by the driver (lib/config/connection-options.js) but missing from its types.
    const options: import("mariadb").ConnectionConfig & { restrictedAuth: string[] } = {
        host: conn.host,
        port: conn.port,
        user: conn.user,
        password: conn.password,
        connectTimeout: CONNECT_TIMEOUT_MS,
        ssl: tlsClientOptions(conn.host, conn.tls ?? "disable", conn.caFile, (file) => fs.readFileSync(file, "utf8")) as import("mariadb").ConnectionConfig["ssl"],
        restrictedAuth: [...ALLOWED_AUTH_PLUGINS],
        // Never let the driver echo statements or parameters (they may hold passwords) into errors.
        logParam: false,
    };
    const c = await mariadb.createConnection(options);
    try {
        return await work(c);
    } finally {
        await c.end();
    }
}
