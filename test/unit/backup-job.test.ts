// The scheduled backup job's decisions: what it backs up (every database of the stack: 17 in
// production), the records file the evidence reads, retention of records, the restore check's
// scratch names and comparison. The job itself runs against the real servers in
// test/integration/release-backup.test.ts.
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parsePlatformConfig, type PlatformSpec } from "../../components/config";
import { dropScratchCall, type BackupRecord } from "../../components/release/backup";
import {
    digestDifferences,
    digestLines,
    latestPerEngine,
    mergeRecords,
    parseRecordsFile,
    SCHEDULED,
    scheduledTargets,
    scratchDatabaseName,
    SCRATCH_DATABASE,
    tableDigestQuery,
} from "../../components/release/backup-job";
import { latestBackups, parseBackupRecords } from "../../components/release/evidence-collector";
import { readStackConfig } from "../../scripts/local-secrets";

const ROOT = path.resolve(__dirname, "..", "..");
const spec = (stack: string): PlatformSpec => parsePlatformConfig(readStackConfig(path.join(ROOT, `Pulumi.${stack}.yaml`)));

function record(server: string, database: string, time: string, engine: BackupRecord["engine"] = "mariadb"): BackupRecord {
    return { server, engine, database, service: SCHEDULED, version: SCHEDULED, file: `/backups/${server}-${database}-${time}.sql`, time, bytes: 100, sha256: "a".repeat(64) };
}

describe("the scheduled backup job", () => {
    test("backs up every database of production, 17 in all, each from its server's admin connection", () => {
        const production = spec("production");
        const targets = scheduledTargets(production);
        const all = production.databases.servers.flatMap((server) => server.databases.map((db) => `${server.name}/${db.database}`));
        expect(all).toHaveLength(17);
        expect(targets.map((t) => `${t.server}/${t.database}`)).toEqual(all);
        // Those that belong to no service are backed up too (a release never touches them).
        for (const name of ["mo_api_stg", "mo_admin_stg", "mo_nextcloud", "mo_idp", "mo_grafana", "mo_discourse"]) {
            expect(targets.map((t) => t.database)).toContain(name);
        }
        for (const target of targets) {
            const server = production.databases.servers.find((s) => s.name === target.server)!;
            expect(target).toMatchObject({ engine: server.engine, host: server.admin.host, port: server.admin.port, user: server.admin.user, tls: server.admin.tls.mode, service: SCHEDULED });
        }
    });

    test("one run's records give the release gate a real age for all 17 production databases", () => {
        const production = spec("production");
        const now = new Date("2026-03-02T12:00:00Z");
        const records = scheduledTargets(production).map((t) => record(t.server, t.database, "2026-03-02T02:30:00Z", t.engine));
        // Written as the job writes them, read as the collector reads them.
        const read = parseBackupRecords(parseRecordsFile(JSON.stringify(records), "backup-records.json"));
        const databases = production.databases.servers.flatMap((server) => server.databases.map((db) => ({ server: server.name, database: db.database })));
        const evidence = latestBackups(databases, read, now);
        expect(evidence).toHaveLength(17);
        expect(evidence.every((b) => b.ageHours === 9.5)).toBe(true);
    });

    test("the records file: a list of records, or an error naming the file and the entry", () => {
        expect(parseRecordsFile("[]", "f.json")).toEqual([]);
        expect(() => parseRecordsFile("{", "f.json")).toThrow(/^f\.json: not JSON/);
        expect(() => parseRecordsFile("{}", "f.json")).toThrow("f.json: expected a list of backup records");
        expect(() => parseRecordsFile(JSON.stringify([record("a", "b", "2026-01-01T00:00:00Z"), { file: "x" }]), "f.json")).toThrow(
            "f.json[1]: not a backup record (server, database, file, time, bytes, sha256)",
        );
    });

    test("records of files that are gone leave the list; the new ones join it once", () => {
        const old = record("plesk", "mo_main", "2026-01-01T00:00:00Z");
        const kept = record("plesk", "mo_main", "2026-02-01T00:00:00Z");
        const fresh = record("plesk", "mo_main", "2026-03-01T00:00:00Z");
        const onDisk = new Set([kept.file, fresh.file]);
        expect(mergeRecords([old, kept], [fresh, fresh], (file) => onDisk.has(file))).toEqual([kept, fresh]);
    });

    test("the restore check takes the newest backup of each engine", () => {
        const a = record("plesk", "mo_main", "2026-03-01T00:00:00Z");
        const b = record("plesk", "mo_votes", "2026-03-01T01:00:00Z");
        const c = record("postgres-ext", "mo_idp", "2026-03-01T00:30:00Z", "postgresql");
        expect(latestPerEngine([a, b, c])).toEqual([b, c]);
    });

    test("scratch databases: generated names only, and only those may be dropped", () => {
        const now = new Date("2026-03-02T02:30:07.123Z");
        expect(scratchDatabaseName(now, "mariadb")).toBe("rp_restore_check_m_20260302_023007");
        expect(scratchDatabaseName(now, "postgresql")).toBe("rp_restore_check_p_20260302_023007");
        expect(SCRATCH_DATABASE.test(scratchDatabaseName(now, "mariadb"))).toBe(true);
        const target = { engine: "mariadb" as const, host: "db", port: 3306, user: "root", tls: "verify-full" as const, caFile: "/ca.crt" };
        expect(dropScratchCall(target, "rp_restore_check_m_20260302_023007").args).toContain("DROP DATABASE IF EXISTS `rp_restore_check_m_20260302_023007`");
        for (const name of ["mo_main", "rp_restore_check_m_x", "rp_restore_check_m_20260302_023007`; DROP DATABASE mo_main; --"]) {
            expect(() => dropScratchCall(target, name)).toThrow(/^refusing to drop/);
            expect(() => dropScratchCall({ ...target, engine: "postgresql" }, name)).toThrow(/^refusing to drop/);
        }
    });

    test("the comparison names each table that differs, with both digests", () => {
        const source = digestLines("notes\t3\t111\nusers\t2\t222\n\n");
        expect(digestDifferences(source, digestLines("users\t2\t222\nnotes\t3\t111"))).toEqual([]);
        expect(digestDifferences(source, digestLines("notes\t4\t999\nextra\t1\t5"))).toEqual([
            "extra: source missing, restored 1 5",
            "notes: source 3 111, restored 4 999",
            "users: source 2 222, restored missing",
        ]);
        expect(() => tableDigestQuery("mariadb", "x`; DROP")).toThrow(/invalid database name/);
    });
});
