// Backups before migrations: the dump script per engine, and the record each backup leaves.
import type { DatabaseEngine, TlsMode } from "../config";

/**
 * What a backup leaves behind, as the stack output `backups` lists it for the gates (a backup
 * younger than 24 h before a production release).
 */
export interface BackupRecord {
    server: string;
    engine: DatabaseEngine;
    database: string;
    /** The service whose version change took it, and that version. */
    service: string;
    version: string;
    /** Absolute path of the dump. */
    file: string;
    /** ISO 8601, UTC. */
    time: string;
    bytes: number;
    sha256: string;
}

/** The client flags for the server's TLS mode (the MariaDB client's names). */
function mariadbTlsFlags(mode: TlsMode): string {
    switch (mode) {
        case "disable":
            return "";
        case "require":
            return "--ssl";
        default:
            return '--ssl --ssl-verify-server-cert ${CA_FILE:+--ssl-ca="$CA_FILE"}';
    }
}

/**
 * The shell script that dumps one database and prints its record as one JSON line. It reads
 * everything from the environment (HOST PORT USER DB SERVER DIR SERVICE VERSION, the password in
 * MYSQL_PWD or PGPASSWORD, PGSSLMODE), so no value is ever part of the command line or the log.
 * MariaDB: `mysqldump --single-transaction --routines --triggers` of the one database (no CREATE
 * DATABASE, so it restores into any name); PostgreSQL: `pg_dump -Fc`.
 */
export function renderBackupScript(engine: DatabaseEngine, tls: TlsMode): string {
    const extension = engine === "mariadb" ? "sql" : "dump";
    const dump =
        engine === "mariadb"
            ? ["mysqldump --single-transaction --routines --triggers", mariadbTlsFlags(tls), '--host="$HOST" --port="$PORT" --user="$USER" "$DB" > "$file.partial"']
                  .filter((part) => part !== "")
                  .join(" ")
            : 'pg_dump -Fc --host="$HOST" --port="$PORT" --username="$USER" --dbname="$DB" --file="$file.partial"';
    return [
        "set -eu",
        'mkdir -p "$DIR"',
        "stamp=$(date -u +%Y%m%dT%H%M%SZ)",
        'time=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
        `file="$DIR/$SERVER-$DB-$VERSION-$stamp.${extension}"`,
        // A failed dump leaves nothing behind that could pass for a backup.
        'trap \'rm -f "$file.partial"\' EXIT',
        dump,
        'mv "$file.partial" "$file"',
        'bytes=$(stat -c %s "$file")',
        'sha=$(sha256sum "$file" | cut -d" " -f1)',
        `printf '{"server":"%s","engine":"${engine}","database":"%s","service":"%s","version":"%s","file":"%s","time":"%s","bytes":%s,"sha256":"%s"}\\n' "$SERVER" "$DB" "$SERVICE" "$VERSION" "$file" "$time" "$bytes" "$sha"`,
    ].join("\n");
}

/** Parses the line a backup script printed; anything else is an error with the text. */
export function parseBackupRecord(stdout: string): BackupRecord {
    const line = stdout.trim().split("\n").pop() ?? "";
    let value: unknown;
    try {
        value = JSON.parse(line);
    } catch {
        throw new Error(`a backup printed no record: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    const record = value as Partial<BackupRecord>;
    const fields: (keyof BackupRecord)[] = ["server", "engine", "database", "service", "version", "file", "time", "bytes", "sha256"];
    const missing = fields.filter((field) => record[field] === undefined || record[field] === "");
    if (missing.length > 0 || !/^[0-9a-f]{64}$/.test(String(record.sha256)) || typeof record.bytes !== "number") {
        throw new Error(`a backup record lacks ${missing.join(", ") || "a valid sha256 or size"}: ${line}`);
    }
    return record as BackupRecord;
}

/** The version whose arrival takes backups and runs migrations: green's (new versions land on green). */
export function releaseTargetVersion(service: { green: { version: string } }): string {
    return service.green.version;
}

/** An admin connection as the restore needs it (the password apart, in the environment). */
export interface RestoreTarget {
    engine: DatabaseEngine;
    host: string;
    port: number;
    user: string;
    tls: TlsMode;
    caFile?: string;
}

export interface ClientCall {
    command: string;
    args: string[];
    /** Environment beside the password (which the caller adds: MYSQL_PWD or PGPASSWORD). */
    env: Record<string, string>;
    /** File for stdin, if any. */
    stdinFile?: string;
}

function clientEnv(target: RestoreTarget): Record<string, string> {
    if (target.engine === "mariadb") return {};
    return { PGSSLMODE: target.tls, ...(target.caFile ? { PGSSLROOTCERT: target.caFile } : {}) };
}

function mariadbArgs(target: RestoreTarget): string[] {
    const tls = target.tls === "disable" ? [] : target.tls === "require" ? ["--ssl"] : ["--ssl", "--ssl-verify-server-cert", ...(target.caFile ? [`--ssl-ca=${target.caFile}`] : [])];
    return [...tls, `--host=${target.host}`, `--port=${target.port}`, `--user=${target.user}`];
}

const SAFE_DATABASE = /^[A-Za-z0-9_]+$/;

/** The client calls that create `database` (if missing) and load `file` into it. */
export function restorePlan(target: RestoreTarget, database: string, file: string): ClientCall[] {
    if (!SAFE_DATABASE.test(database)) throw new Error(`invalid database name ${JSON.stringify(database)} (letters, digits, _)`);
    const env = clientEnv(target);
    if (target.engine === "mariadb") {
        return [
            { command: "mysql", args: [...mariadbArgs(target), "--execute", `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`], env },
            { command: "mysql", args: [...mariadbArgs(target), database], env, stdinFile: file },
        ];
    }
    const connection = [`--host=${target.host}`, `--port=${target.port}`, `--username=${target.user}`];
    return [
        { command: "createdb", args: [...connection, database], env },
        { command: "pg_restore", args: [...connection, "--no-owner", "--no-privileges", "--exit-on-error", `--dbname=${database}`, file], env },
    ];
}

/**
 * A call that prints a number, not 0 when `database` is in use: a MariaDB database with tables,
 * or any existing PostgreSQL database. A restore goes only into a new (or empty) database.
 */
export function databaseInUseCall(target: RestoreTarget, database: string): ClientCall {
    if (!SAFE_DATABASE.test(database)) throw new Error(`invalid database name ${JSON.stringify(database)} (letters, digits, _)`);
    const env = clientEnv(target);
    if (target.engine === "mariadb") {
        return {
            command: "mysql",
            args: [...mariadbArgs(target), "--batch", "--skip-column-names", "--execute", `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${database}'`],
            env,
        };
    }
    return {
        command: "psql",
        args: [`--host=${target.host}`, `--port=${target.port}`, `--username=${target.user}`, "--dbname=postgres", "-AtX", "-c",
            `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_database WHERE datname = '${database}') THEN 1 ELSE 0 END`],
        env,
    };
}
