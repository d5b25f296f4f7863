// Who may reach a database port: the one rule both firewall renderers (nftables, ufw) express.
import { isIPv4 } from "node:net";
import type { DatabaseEngine, DatabaseServerSpec } from "../../config";

/** The validated facts a host firewall is rendered from. */
export interface DbPortAccess {
    /** The server's name (config key), e.g. `mariadb-ext`. */
    server: string;
    engine: DatabaseEngine;
    /** The database port (tcp), from `admin.port`. */
    port: number;
    /** The only remote address allowed to connect to `port`. */
    appHost: string;
}

const ENGINE_LABEL: Record<DatabaseEngine, string> = { mariadb: "MariaDB", postgresql: "PostgreSQL" };

export function engineLabel(engine: DatabaseEngine): string {
    return ENGINE_LABEL[engine];
}

/** Server names become nft identifiers and file names: only what the config schema allows. */
const SERVER_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Checks what the firewall will open, again, at the last moment before it reaches a host: the
 * config schema already refuses these, but a rule that opened the port to everyone would fail
 * silently, so the renderers never trust that the check ran.
 */
export function dbPortAccess(server: DatabaseServerSpec): DbPortAccess {
    const at = `databases.servers.${server.name}`;
    if (!SERVER_NAME.test(server.name)) {
        throw new Error(`databases.servers: ${JSON.stringify(server.name)} is not a valid server name (lowercase letters, digits and "-")`);
    }
    const appHost = server.appHost;
    if (appHost.includes("%") || appHost.includes("*") || appHost.startsWith("0.0.0.0") || appHost.includes("/")) {
        throw new Error(
            `${at}.appHost: the firewall opens the database port to one address only, never a wildcard or a network ("%", "*", 0.0.0.0/0, CIDR); got ${JSON.stringify(appHost)}`,
        );
    }
    if (!isIPv4(appHost) || appHost === "255.255.255.255") {
        throw new Error(`${at}.appHost: must be the app host's IPv4 address; got ${JSON.stringify(appHost)}`);
    }
    const port = server.admin.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(`${at}.admin.port: must be a tcp port (1-65535); got ${JSON.stringify(port)}`);
    }
    return { server: server.name, engine: server.engine, port, appHost };
}
