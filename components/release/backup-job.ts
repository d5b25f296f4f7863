// The scheduled backup job (`npm run backup`): every database of a stack, on a timer, apart from any
// release. What it backs up, the records file the evidence collector reads, and the restore check.
import type { DatabaseEngine, PlatformSpec } from "../config";
import type { BackupRecord, BackupTarget, RestoreTarget } from "./backup";

/** What a scheduled backup records as its service and version (a release records its own). */
export const SCHEDULED = "scheduled";

/** The records file in the backup location: a JSON list of `BackupRecord`, rewritten whole (atomically) on every run. */
export const RECORDS_FILE = "backup-records.json";

/** One database of the stack to back up, with its server's name for the password lookup (`dbAdminPassword.<server>`). */
export type ScheduledTarget = BackupTarget;

/** Every database of every server of the stack, in config order, as the backup script takes them. */
export function scheduledTargets(spec: PlatformSpec): ScheduledTarget[] {
    return spec.databases.servers.flatMap((server) =>
        server.databases.map((db) => ({
            server: server.name,
            engine: server.engine,
            database: db.database,
            service: SCHEDULED,
            version: SCHEDULED,
            host: server.admin.host,
            port: server.admin.port,
            user: server.admin.user,
            tls: server.admin.tls.mode,
            ...(server.admin.tls.caFile === undefined ? {} : { caFile: server.admin.tls.caFile }),
        })),
    );
}

/** The admin connection of a target, as the restore and the comparison need it. */
export function restoreTargetOf(target: ScheduledTarget): RestoreTarget {
    return { engine: target.engine, host: target.host, port: target.port, user: target.user, tls: target.tls, ...(target.caFile ? { caFile: target.caFile } : {}) };
}

function isRecord(value: unknown): value is BackupRecord {
    const r = value as Partial<BackupRecord> | null;
    return (
        typeof r === "object" && r !== null &&
        typeof r.server === "string" && typeof r.database === "string" && typeof r.file === "string" && r.file.startsWith("/") &&
        typeof r.time === "string" && !Number.isNaN(Date.parse(r.time)) && typeof r.bytes === "number" && typeof r.sha256 === "string"
    );
}

/** The records file's text as a list; throws naming the file and the entry that is not a record. */
export function parseRecordsFile(text: string, file: string): BackupRecord[] {
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (error) {
        throw new Error(`${file}: not JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(raw)) throw new Error(`${file}: expected a list of backup records`);
    raw.forEach((entry, index) => {
        if (!isRecord(entry)) throw new Error(`${file}[${index}]: not a backup record (server, database, file, time, bytes, sha256)`);
    });
    return raw as BackupRecord[];
}

/**
 * The records after a run: the ones before, then the new ones, without those whose file is gone
 * (the retention of the backup script removed it, or a person did): the list says what can be
 * restored, nothing else.
 */
export function mergeRecords(before: readonly BackupRecord[], added: readonly BackupRecord[], exists: (file: string) => boolean): BackupRecord[] {
    const seen = new Set<string>();
    const out: BackupRecord[] = [];
    for (const record of [...before, ...added]) {
        if (seen.has(record.file) || !exists(record.file)) continue;
        seen.add(record.file);
        out.push(record);
    }
    return out;
}

/** The newest record of each engine among `records` (the restore check restores one per engine). */
export function latestPerEngine(records: readonly BackupRecord[]): BackupRecord[] {
    const latest = new Map<DatabaseEngine, BackupRecord>();
    for (const record of records) {
        const had = latest.get(record.engine);
        if (had === undefined || Date.parse(record.time) >= Date.parse(had.time)) latest.set(record.engine, record);
    }
    return [...latest.values()];
}

/** The scratch database a restore check loads into: generated here, never taken from config. */
export function scratchDatabaseName(now: Date, engine: DatabaseEngine): string {
    const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "").replace("T", "_").toLowerCase();
    return `rp_restore_check_${engine === "mariadb" ? "m" : "p"}_${stamp}`;
}

/** Only a name `scratchDatabaseName` made may be dropped by the restore check. */
export const SCRATCH_DATABASE = /^rp_restore_check_[mp]_\d{8}_\d{6}$/;

/**
 * The query that lists each table of `database` with its row count and a checksum of its content,
 * one `table<TAB>rows<TAB>checksum` line per table, sorted: run against the source and the restored
 * copy, equal output means an equal copy. MariaDB sums a CRC32 over every row's columns and their
 * NULL flags (one statement built from the table list, prepared); PostgreSQL takes an md5 over every
 * row's text, in order.
 */
export function tableDigestQuery(engine: DatabaseEngine, database: string): string {
    if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`invalid database name ${JSON.stringify(database)} (letters, digits, _)`);
    if (engine === "mariadb") {
        // Per table: SELECT '<table>', COUNT(*), SUM(CRC32(CONCAT_WS('|', col, ISNULL(col), ...))) FROM `db`.`<table>`,
        // one statement for all tables (UNION ALL), built from information_schema and prepared.
        const perTable =
            `CONCAT('SELECT ''', t.TABLE_NAME, ''', COUNT(*), COALESCE(SUM(CRC32(CONCAT_WS(''|'', ', per_table.cols, '))), 0) FROM \`${database}\`.\`', t.TABLE_NAME, '\`')`;
        const columns =
            "SELECT c.TABLE_NAME, GROUP_CONCAT(CONCAT('`', c.COLUMN_NAME, '`, ISNULL(`', c.COLUMN_NAME, '`)') ORDER BY c.ORDINAL_POSITION) AS cols " +
            `FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = '${database}' GROUP BY c.TABLE_NAME`;
        return [
            "SET SESSION group_concat_max_len = 1048576;",
            `SELECT GROUP_CONCAT(${perTable} ORDER BY t.TABLE_NAME SEPARATOR ' UNION ALL ') INTO @q`,
            `  FROM information_schema.TABLES t JOIN (${columns}) per_table ON per_table.TABLE_NAME = t.TABLE_NAME`,
            `  WHERE t.TABLE_SCHEMA = '${database}' AND t.TABLE_TYPE = 'BASE TABLE';`,
            "SET @q = COALESCE(@q, 'SELECT 1 FROM DUAL WHERE FALSE');",
            "PREPARE digest FROM @q;",
            "EXECUTE digest;",
            "DEALLOCATE PREPARE digest;",
        ].join("\n");
    }
    return [
        "SELECT table_name || E'\\t' ||",
        "  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text || E'\\t' ||",
        "  (xpath('/row/c/text()', query_to_xml(format('SELECT md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) AS c FROM %I.%I t', table_schema, table_name), false, true, '')))[1]::text",
        "FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    ].join("\n");
}

/** The digest output as sorted lines (blank lines dropped), for comparison and for the message. */
export function digestLines(output: string): string[] {
    return output
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "")
        .sort();
}

/** Where two digests differ, as `table: source … , restored …` lines; empty when the copy is equal. */
export function digestDifferences(source: readonly string[], restored: readonly string[]): string[] {
    const byTable = (lines: readonly string[]) => new Map(lines.map((line) => [line.split("\t")[0] ?? "", line] as const));
    const a = byTable(source);
    const b = byTable(restored);
    return [...new Set([...a.keys(), ...b.keys()])]
        .sort()
        .filter((table) => a.get(table) !== b.get(table))
        .map((table) => `${table}: source ${a.get(table)?.split("\t").slice(1).join(" ") ?? "missing"}, restored ${b.get(table)?.split("\t").slice(1).join(" ") ?? "missing"}`);
}
