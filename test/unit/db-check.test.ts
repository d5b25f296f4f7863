// The connection check's table and its failure reporting (no password may reach the output).
import { describe, expect, test } from "vitest";
import { checkDatabases, formatCheckTable, type CheckResult, type DatabaseOutput } from "../../scripts/db-check";

const db = (server: string, name: string, engine: DatabaseOutput["engine"] = "mariadb"): DatabaseOutput => ({
    server,
    engine,
    host: "127.0.0.1",
    port: 1, // nothing listens on port 1: every check fails fast
    database: `mo_${name}`,
    user: `svc_${name}`,
    password: `pw-${name}-Zq9!`,
});

describe("formatCheckTable", () => {
    test("one aligned line per database, sorted by server then database, plus a header", () => {
        const results: CheckResult[] = [
            { db: db("plesk", "votes"), ok: true, ms: 3, detail: "SELECT 1 ok" },
            { db: db("mariadb-ext", "crm"), ok: false, ms: 12, detail: "Access denied" },
            { db: db("plesk", "main"), ok: true, ms: 4, detail: "SELECT 1 ok" },
        ];
        const lines = formatCheckTable(results).split("\n");
        expect(lines).toHaveLength(4);
        expect(lines[1]).toMatch(/^FAIL\s+mariadb-ext\s+mo_crm\s+svc_crm\s+127\.0\.0\.1:1\s+12 ms\s+Access denied$/);
        expect(lines[2]).toMatch(/^ok\s+plesk\s+mo_main\s/);
        expect(lines[3]).toMatch(/^ok\s+plesk\s+mo_votes\s/);
        // Columns line up: the database column starts at the same offset on every line.
        const offsets = lines.slice(1).map((l) => l.indexOf("mo_"));
        expect(new Set(offsets).size).toBe(1);
    });
});

describe("checkDatabases", () => {
    test("reports an unreachable server per database without throwing and without the password", async () => {
        const dbs = [db("plesk", "main"), db("postgres-ext", "idp", "postgresql")];
        const results = await checkDatabases(dbs);
        expect(results.map((r) => r.ok)).toEqual([false, false]);
        for (const r of results) {
            expect(r.detail).not.toBe("");
            expect(r.detail).not.toContain(r.db.password);
        }
        expect(formatCheckTable(results)).not.toMatch(/pw-/);
    });
});
