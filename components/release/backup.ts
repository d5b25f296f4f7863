// Backups before migrations: the dump script per engine, and the record each backup leaves.
import type { DatabaseEngine, TlsMode } from "../config";
import { SCRATCH_DATABASE, tableDigestQuery } from "./backup-job";

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

/** The client flags for the server's TLS mode (the MariaDB client's names; verify-ca is refused for MariaDB by the loader). */
function mariadbTlsFlags(mode: TlsMode): string {
    switch (mode) {
        case "disable":
            return "";
        default:
            return '--ssl --ssl-verify-server-cert --ssl-ca="$CA_FILE"';
    }
}

/**
 * The shell script that dumps one database, checks the dump, and prints `file<TAB>bytes<TAB>sha256<TAB>time`
 * on its last line (the record itself is built in Node: no value is ever pasted into JSON by hand).
 * It reads everything from the environment (HOST PORT USER DB SERVER DIR VERSION RETENTION_DAYS, the
 * password in MYSQL_PWD or PGPASSWORD, PGSSLMODE/PGSSLROOTCERT or CA_FILE), so no value is part of the
 * command line or the log. MariaDB: `mysqldump --single-transaction --routines --triggers` of the one
 * database (no CREATE DATABASE, so it restores into any name), checked for mysqldump's closing line;
 * PostgreSQL: `pg_dump -Fc`, checked by reading its table of contents (`pg_restore --list`).
 * Dumps are private (0600 in a 0700 directory); after a good dump, this database's dumps older than
 * RETENTION_DAYS are removed, and so are partial files an interrupted run left.
 */
export function renderBackupScript(engine: DatabaseEngine, tls: TlsMode): string {
    const extension = engine === "mariadb" ? "sql" : "dump";
    const dump =
        engine === "mariadb"
            ? ["mysqldump --single-transaction --routines --triggers", mariadbTlsFlags(tls), '--host="$HOST" --port="$PORT" --user="$USER" "$DB" > "$file.partial"']
                  .filter((part) => part !== "")
                  .join(" ")
            : 'pg_dump -Fc --host="$HOST" --port="$PORT" --username="$USER" --dbname="$DB" --file="$file.partial"';
    const check =
        engine === "mariadb"
            ? 'tail -n 1 "$file.partial" | grep -q "^-- Dump completed" || { echo "the dump of $DB did not complete (no closing line)" >&2; exit 4; }'
            : 'pg_restore --list "$file.partial" > /dev/null || { echo "the dump of $DB does not read back (pg_restore --list)" >&2; exit 4; }';
    return [
        "set -eu",
        "umask 077",
        'mkdir -p "$DIR"',
        'chmod 700 "$DIR"',
        "stamp=$(date -u +%Y%m%dT%H%M%SZ)",
        'time=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
        `file="$DIR/$SERVER-$DB-$VERSION-$stamp.${extension}"`,
        // A failed dump leaves nothing behind that could pass for a backup.
        'trap \'rm -f "$file.partial"\' EXIT',
        dump,
        check,
        'mv "$file.partial" "$file"',
        'bytes=$(stat -c %s "$file")',
        'sha=$(sha256sum "$file" | cut -d" " -f1)',
        // Retention: only this server's and database's own dumps, only after this one succeeded.
        `find "$DIR" -maxdepth 1 -type f -name "$SERVER-$DB-*.${extension}" -mtime +"$RETENTION_DAYS" ! -path "$file" -delete`,
        `find "$DIR" -maxdepth 1 -type f -name "$SERVER-$DB-*.${extension}.partial" -mmin +60 -delete`,
        `printf '%s\\t%s\\t%s\\t%s\\n' "$file" "$bytes" "$sha" "$time"`,
    ].join("\n");
}

/** What a backup is of: fills the record around the line the script printed. */
export interface BackupSubject {
    server: string;
    engine: DatabaseEngine;
    database: string;
    service: string;
    version: string;
}

/** Builds the record from the script's last line; anything else is an error with (the start of) the text. */
export function parseBackupRecord(stdout: string, subject: BackupSubject): BackupRecord {
    const line = stdout.trim().split("\n").pop() ?? "";
    const [file = "", bytes = "", sha256 = "", time = "", ...rest] = line.split("\t");
    if (rest.length > 0 || !file.startsWith("/") || !/^\d+$/.test(bytes) || !/^[0-9a-f]{64}$/.test(sha256) || Number.isNaN(Date.parse(time))) {
        throw new Error(`a backup printed no record (file, size, sha256, time): ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    return { ...subject, file, time, bytes: Number(bytes), sha256 };
}

/** One database to back up, with how to reach its server (the password stays apart until the call). */
export interface BackupTarget extends BackupSubject {
    host: string;
    port: number;
    user: string;
    tls: TlsMode;
    caFile?: string;
}

/** The environment of one backup run: exactly what the script reads, nothing of the caller's. */
export function backupEnvironment(target: BackupTarget, password: string, location: string, retentionDays: number): Record<string, string> {
    const credentials =
        target.engine === "mariadb"
            ? { MYSQL_PWD: password, ...(target.caFile ? { CA_FILE: target.caFile } : {}) }
            : { PGPASSWORD: password, PGSSLMODE: target.tls, ...(target.caFile ? { PGSSLROOTCERT: target.caFile } : {}) };
    return {
        SERVER: target.server,
        HOST: target.host,
        PORT: String(target.port),
        USER: target.user,
        DB: target.database,
        DIR: location,
        VERSION: target.version,
        RETENTION_DAYS: String(retentionDays),
        ...credentials,
    };
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
    const tls = target.tls === "disable" ? [] : ["--ssl", "--ssl-verify-server-cert", ...(target.caFile ? [`--ssl-ca=${target.caFile}`] : [])];
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

/** The client call that prints `tableDigestQuery` of one database (the restore check compares two). */
export function digestCall(target: RestoreTarget, database: string): ClientCall {
    const sql = tableDigestQuery(target.engine, database);
    if (target.engine === "mariadb") return { command: "mysql", args: [...mariadbArgs(target), "--batch", "--skip-column-names", "--execute", sql], env: {} };
    return {
        command: "psql",
        args: [`--host=${target.host}`, `--port=${target.port}`, `--username=${target.user}`, `--dbname=${database}`, "-AtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        env: clientEnv(target),
    };
}

/** Drops a scratch database of the restore check; any other name is refused here, whatever the caller passes. */
export function dropScratchCall(target: RestoreTarget, database: string): ClientCall {
    if (!SCRATCH_DATABASE.test(database)) throw new Error(`refusing to drop ${JSON.stringify(database)}: only a restore check's scratch database is dropped`);
    if (target.engine === "mariadb") return { command: "mysql", args: [...mariadbArgs(target), "--execute", `DROP DATABASE IF EXISTS \`${database}\``], env: {} };
    return { command: "dropdb", args: [`--host=${target.host}`, `--port=${target.port}`, `--username=${target.user}`, "--if-exists", database], env: clientEnv(target) };
}
