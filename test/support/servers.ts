// Direct access to the local database servers, to assert on real effects and to clean up after a test.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as mariadb from "mariadb";
import { pgHbaMarkers } from "../../components/databases/postgres/hba";

export interface MariaDbTarget {
    host: string;
    port: number;
    user: string;
    password?: string;
}

/** Where scripts/local-servers.sh keeps server state: the PostgreSQL test CA, the local sshd. */
export const LOCAL_SERVER_STATE = process.env.RP_SERVER_STATE ?? "/var/lib/release-platform";
/** The local test CA: it signed the certificates of the local PostgreSQL and MariaDB servers (verify-full). */
export const TEST_CA_FILE = process.env.RP_TEST_CA_FILE ?? `${LOCAL_SERVER_STATE}/tls/ca.crt`;

export const PLESK_STANDIN: MariaDbTarget = { host: "127.0.0.1", port: 3306, user: "root" };
export const EXTERNAL_MARIADB_STANDIN: MariaDbTarget = { host: "127.0.0.1", port: 3307, user: "root" };

export async function mariaQuery<T = Record<string, unknown>>(target: MariaDbTarget, sql: string, params: unknown[] = []): Promise<T[]> {
    const conn = await mariadb.createConnection({ ...target, connectTimeout: 5000 });
    try {
        return (await conn.query(sql, params)) as T[];
    } finally {
        await conn.end();
    }
}

export async function mariaDatabases(target: MariaDbTarget, like: string): Promise<{ name: string; charset: string; collation: string }[]> {
    return mariaQuery(
        target,
        "SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY SCHEMA_NAME",
        [like],
    );
}

/** Runs SQL as the local PostgreSQL superuser through psql; returns rows as arrays of strings. */
export function pgQuery(sql: string, database = "postgres"): string[][] {
    const out = execFileSync("psql", ["-h", "127.0.0.1", "-U", "postgres", "-d", database, "-AtX", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql], {
        encoding: "utf8",
    });
    return out
        .split("\n")
        .filter((line) => line.length > 0)
        .map((line) => line.split("\t"));
}

/** Drops test databases and roles by prefix on all three local servers (test data only). */
export async function dropTestObjects(prefix: string): Promise<void> {
    if (!/^[a-z][a-z0-9_]*$/.test(prefix)) throw new Error(`unsafe prefix ${prefix}`);
    for (const target of [PLESK_STANDIN, EXTERNAL_MARIADB_STANDIN]) {
        for (const db of await mariaDatabases(target, `mo_${prefix}%`)) {
            await mariaQuery(target, `DROP DATABASE \`${db.name}\``);
        }
        for (const user of await mariaQuery<{ User: string; Host: string }>(target, "SELECT User, Host FROM mysql.user WHERE User LIKE ?", [`svc_${prefix}%`])) {
            await mariaQuery(target, "DROP USER ?@?", [user.User, user.Host]);
        }
    }
    for (const [db] of pgQuery(`SELECT datname FROM pg_database WHERE datname LIKE 'mo_${prefix}%'`)) {
        pgQuery(`DROP DATABASE "${db}" WITH (FORCE)`);
    }
    for (const [role] of pgQuery(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'svc_${prefix}%'`)) {
        pgQuery(`DROP ROLE "${role}"`);
    }
}

/**
 * Takes a stack's managed blocks (whatever their block ids) out of the local pg_hba.conf and reloads,
 * for a test whose destroy stopped early. No block: nothing changes.
 */
export function removePgHbaBlock(stack: string, server = "postgres-ext"): void {
    const { begin, end } = pgHbaMarkers(stack, server);
    const file = pgQuery("SHOW hba_file")[0]?.[0] ?? "";
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const kept: string[] = [];
    let inside = false;
    for (const line of lines) {
        if (line === begin || line.startsWith(`${begin}, block `)) inside = true;
        else if (inside && (line === end || line.startsWith(`${end}, block `))) inside = false;
        else if (!inside) kept.push(line);
    }
    if (kept.length === lines.length) return;
    fs.writeFileSync(file, kept.join("\n"));
    pgQuery("SELECT pg_reload_conf()");
}
