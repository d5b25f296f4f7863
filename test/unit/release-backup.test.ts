// Backups in text: the dump script per engine (run here against stand-in dump tools), the record, the restore plan.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { applyDataChange, databaseInUseCall, dataChangeProvider, parseBackupRecord, releaseTargetVersion, renderBackupScript, restorePlan } from "../../components/release";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "rp-backup-unit-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Where the stand-in mysqldump writes the environment it was given. */
const DUMP_ENV = path.join(scratch, "last-dump.env");

/** Stand-ins for mysqldump, pg_dump and pg_restore that record their arguments and environment and write a known dump. */
function fakeTools(): string {
    const bin = path.join(scratch, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
        path.join(bin, "mysqldump"),
        `#!/bin/sh\n[ -z "\${ARGS_FILE:-}" ] || echo "$@" > "$ARGS_FILE"\nenv > ${DUMP_ENV}\nprintf -- "-- MariaDB dump of %s\\n-- Dump completed on 2026-12-06\\n" "$DB"\n`,
        { mode: 0o755 },
    );
    fs.writeFileSync(
        path.join(bin, "pg_dump"),
        '#!/bin/sh\n[ -z "${ARGS_FILE:-}" ] || echo "$@" > "$ARGS_FILE"\nfor a in "$@"; do case "$a" in --file=*) printf PGDMP > "${a#--file=}";; esac; done\n',
        { mode: 0o755 },
    );
    fs.writeFileSync(path.join(bin, "pg_restore"), '#!/bin/sh\n[ "$(head -c 5 "$2")" = PGDMP ]\n', { mode: 0o755 });
    return bin;
}

const SUBJECT = { server: "plesk", engine: "mariadb", database: "mo_main", service: "api", version: "1.1.0" } as const;

function scriptEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
        PATH: `${fakeTools()}:${process.env.PATH ?? ""}`,
        SERVER: "plesk",
        HOST: "127.0.0.1",
        PORT: "3306",
        USER: "root",
        DB: "mo_main",
        DIR: path.join(scratch, "dumps"),
        VERSION: "1.1.0",
        RETENTION_DAYS: "30",
        MYSQL_PWD: "secret-not-on-the-command-line",
        CA_FILE: "/etc/ssl/ca.pem",
        ...extra,
    };
}

function runScript(engine: "mariadb" | "postgresql", tls: "disable" | "verify-full", extra: Record<string, string> = {}) {
    const argsFile = path.join(scratch, `${engine}-${tls}.args`);
    const stdout = execFileSync("/bin/sh", ["-c", renderBackupScript(engine, tls)], { encoding: "utf8", env: scriptEnv({ ARGS_FILE: argsFile, ...extra }) });
    return { stdout, args: fs.readFileSync(argsFile, "utf8").trim() };
}

describe("backup script", () => {
    test.each([
        ["disable", "--single-transaction --routines --triggers --host=127.0.0.1 --port=3306 --user=root mo_main"],
        ["verify-full", "--single-transaction --routines --triggers --ssl --ssl-verify-server-cert --ssl-ca=/etc/ssl/ca.pem --host=127.0.0.1 --port=3306 --user=root mo_main"],
    ] as const)("MariaDB with TLS %s: mysqldump %s, and a record of the file", (tls, args) => {
        const { stdout, args: called } = runScript("mariadb", tls);
        expect(called).toBe(args);
        expect(called).not.toContain("secret");
        const record = parseBackupRecord(stdout, SUBJECT);
        expect(record).toMatchObject(SUBJECT);
        expect(record.file).toMatch(new RegExp(`^${scratch}/dumps/plesk-mo_main-1\\.1\\.0-\\d{8}T\\d{6}Z\\.sql$`));
        const content = fs.readFileSync(record.file);
        expect(record.bytes).toBe(content.length);
        expect(record.sha256).toBe(crypto.createHash("sha256").update(content).digest("hex"));
        expect(Math.abs(Date.parse(record.time) - Date.now())).toBeLessThan(60_000);
        expect(fs.existsSync(`${record.file}.partial`)).toBe(false);
    });

    test("dumps are private: 0600 files in a 0700 directory, whatever the caller's umask", () => {
        const dir = path.join(scratch, "private");
        fs.mkdirSync(dir, { mode: 0o755 });
        const { stdout } = runScript("mariadb", "disable", { DIR: dir });
        const record = parseBackupRecord(stdout, SUBJECT);
        expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
        expect(fs.statSync(record.file).mode & 0o777).toBe(0o600);
    });

    test("retention: this database's dumps older than RETENTION_DAYS go, nothing else does", () => {
        const dir = path.join(scratch, "retention");
        fs.mkdirSync(dir, { recursive: true });
        const old = (name: string, days: number) => {
            const file = path.join(dir, name);
            fs.writeFileSync(file, "x");
            const when = new Date(Date.now() - days * 86_400_000);
            fs.utimesSync(file, when, when);
            return name;
        };
        const expired = old("plesk-mo_main-1.0.0-20261001T000000Z.sql", 40);
        const kept = old("plesk-mo_main-1.0.5-20261120T000000Z.sql", 10);
        const otherDatabase = old("plesk-mo_main2-1.0.0-20261001T000000Z.sql", 40);
        const otherServer = old("ext-mo_main-1.0.0-20261001T000000Z.sql", 40);
        const stalePartial = old("plesk-mo_main-1.0.9-20261205T000000Z.sql.partial", 1);
        const { stdout } = runScript("mariadb", "disable", { DIR: dir, RETENTION_DAYS: "30" });
        const record = parseBackupRecord(stdout, SUBJECT);
        expect(fs.readdirSync(dir).sort()).toEqual([kept, otherDatabase, otherServer, path.basename(record.file)].sort());
        expect(fs.readdirSync(dir)).not.toContain(expired);
        expect(fs.readdirSync(dir)).not.toContain(stalePartial);
    });

    test("PostgreSQL: pg_dump -Fc into the file, read back with pg_restore --list, recorded", () => {
        const { stdout, args } = runScript("postgresql", "verify-full");
        const record = parseBackupRecord(stdout, { ...SUBJECT, engine: "postgresql" });
        expect(args).toBe(`-Fc --host=127.0.0.1 --port=3306 --username=root --dbname=mo_main --file=${record.file}.partial`);
        expect(record.file.endsWith(".dump")).toBe(true);
        expect(fs.readFileSync(record.file, "utf8")).toBe("PGDMP");
        expect(record.bytes).toBe(5);
    });

    test.each([
        ["a failing dump", "#!/bin/sh\necho 'Access denied' >&2\nexit 2\n", /Access denied/],
        ["a dump cut short (no closing line)", "#!/bin/sh\nprintf -- '-- MariaDB dump\\nCREATE TABLE t (\\n'\n", /did not complete/],
    ])("%s leaves no file and no record", (_name, tool, message) => {
        const env = scriptEnv({ DIR: path.join(scratch, `failed-${_name.length}`) });
        fs.writeFileSync(path.join(env.PATH?.split(":")[0] ?? "", "mysqldump"), tool, { mode: 0o755 });
        expect(() => execFileSync("/bin/sh", ["-c", renderBackupScript("mariadb", "disable")], { stdio: "pipe", env })).toThrow(message);
        expect(fs.readdirSync(env.DIR ?? "")).toEqual([]);
    });

    test.each([
        ["", "a backup printed no record"],
        ["mysqldump: error", "a backup printed no record"],
        ["/f\t12\tnothex\t2026-12-06T10:00:00Z", "a backup printed no record"],
        ["/f\tmany\t" + "a".repeat(64) + "\t2026-12-06T10:00:00Z", "a backup printed no record"],
    ])("refuses %j as a record", (stdout, message) => {
        expect(() => parseBackupRecord(stdout, SUBJECT)).toThrow(message);
    });

    test("the record is built from fields, never pasted JSON", () => {
        const record = parseBackupRecord(`noise\n/b/plesk-mo_main-1.1.0-x.sql\t12\t${"a".repeat(64)}\t2026-12-06T10:00:00Z\n`, SUBJECT);
        expect(JSON.parse(JSON.stringify(record))).toEqual({ ...SUBJECT, file: "/b/plesk-mo_main-1.1.0-x.sql", bytes: 12, sha256: "a".repeat(64), time: "2026-12-06T10:00:00Z" });
    });

    test("the release's target version is green's: new versions land on green", () => {
        expect(releaseTargetVersion({ green: { version: "2.0.0" } })).toBe("2.0.0");
    });
});

describe("the data change: backups, then the migration, with an explicit environment", () => {
    const db = (name: string) => ({
        ...SUBJECT,
        database: name,
        host: "127.0.0.1",
        port: 3306,
        user: "root",
        tls: "disable" as const,
        password: "admin-password-secret",
    });

    test("no backup or migration sees the caller's environment (passphrase, tokens, cloud credentials)", async () => {
        const leaks = { PULUMI_CONFIG_PASSPHRASE: "passphrase-leak", PULUMI_ACCESS_TOKEN: "token-leak", AWS_SECRET_ACCESS_KEY: "aws-leak", GITHUB_TOKEN: "gh-leak" };
        const saved = { PATH: process.env.PATH, ...Object.fromEntries(Object.keys(leaks).map((k) => [k, process.env[k]])) };
        Object.assign(process.env, leaks, { PATH: `${fakeTools()}:${process.env.PATH ?? ""}` });
        const argsFile = path.join(scratch, "env-check.args");
        const migrationEnv = path.join(scratch, "migration.env");
        try {
            process.env.ARGS_FILE = argsFile;
            const out = await applyDataChange({
                service: "api",
                version: "1.2.0",
                databases: [{ ...db("mo_main"), version: "1.2.0" }],
                targets: [{ server: "plesk", database: "mo_main" }],
                backupLocation: path.join(scratch, "dc"),
                retentionDays: 30,
                migrationCommand: `env > ${migrationEnv}`,
                colour: "green",
                address: "127.0.0.1:3001",
            });
            expect(out.backups).toHaveLength(1);
            expect(out.migratedVersion).toBe("1.2.0");
        } finally {
            for (const [key, value] of Object.entries(saved)) {
                if (value === undefined) delete process.env[key];
                else process.env[key] = value;
            }
            delete process.env.ARGS_FILE;
        }
        const migration = fs.readFileSync(migrationEnv, "utf8");
        expect(migration).toMatch(/^VERSION=1\.2\.0$/m);
        expect(migration).toMatch(/^ADDRESS=127\.0\.0\.1:3001$/m);
        for (const value of Object.values(leaks)) expect(migration).not.toContain(value);
        expect(migration).not.toContain("admin-password-secret");
        // The dump tool got its password (MYSQL_PWD) and nothing of ours; ARGS_FILE did not pass either.
        const dumpEnv = fs.readFileSync(DUMP_ENV, "utf8");
        expect(dumpEnv).toMatch(/^MYSQL_PWD=admin-password-secret$/m);
        for (const value of Object.values(leaks)) expect(dumpEnv).not.toContain(value);
        expect(dumpEnv).not.toMatch(/^ARGS_FILE=/m);
        expect(fs.existsSync(argsFile)).toBe(false);
    });

    test("a failed backup stops before the migration, and the password never shows in the error", async () => {
        const marker = path.join(scratch, "migrated-anyway");
        const bin = fakeTools();
        fs.writeFileSync(path.join(bin, "mysqldump"), "#!/bin/sh\necho \"denied for $MYSQL_PWD\" >&2\nexit 2\n", { mode: 0o755 });
        const saved = process.env.PATH;
        process.env.PATH = `${bin}:${saved ?? ""}`;
        try {
            await expect(
                applyDataChange({
                    service: "api",
                    version: "1.3.0",
                    databases: [{ ...db("mo_main"), version: "1.3.0" }],
                    targets: [{ server: "plesk", database: "mo_main" }],
                    backupLocation: path.join(scratch, "dc-failed"),
                    retentionDays: 30,
                    migrationCommand: `touch ${marker}`,
                    colour: "green",
                    address: "127.0.0.1:3001",
                }),
            ).rejects.toThrow(/backup of mo_main on plesk failed \(exit 2\): denied for \*\*\*/);
        } finally {
            process.env.PATH = saved;
        }
        expect(fs.existsSync(marker)).toBe(false);
    });

    test("once per version: an update with the same version runs nothing, another version runs both", async () => {
        const base = {
            service: "api",
            version: "2.0.0",
            databases: [],
            targets: [],
            backupLocation: path.join(scratch, "dc-once"),
            retentionDays: 30,
            colour: "green",
            address: "127.0.0.1:3001",
        };
        const counter = path.join(scratch, "migrations");
        const olds = { ...base, migrationCommand: `echo "$VERSION" >> ${counter}`, backups: [], migratedVersion: "2.0.0" };
        const sameVersion = await dataChangeProvider.update?.("api", olds, { ...base, migrationCommand: `echo changed >> ${counter}` });
        expect(sameVersion?.outs?.migratedVersion).toBe("2.0.0");
        expect(fs.existsSync(counter)).toBe(false);
        await dataChangeProvider.update?.("api", olds, { ...base, version: "2.1.0", migrationCommand: `echo "$VERSION" >> ${counter}` });
        expect(fs.readFileSync(counter, "utf8")).toBe("2.1.0\n");
        expect((await dataChangeProvider.diff?.("api", olds, { ...base, migrationCommand: "other" }))?.changes).toBe(true);
        expect((await dataChangeProvider.check?.(olds, { ...base, version: 'v"1' }))?.failures).toEqual([
            { property: "version", reason: expect.stringContaining("semantic version") as unknown as string },
        ]);
    });
});

describe("restore plan", () => {
    const maria = { engine: "mariadb" as const, host: "10.0.0.5", port: 3306, user: "admin", tls: "verify-full" as const, caFile: "/ca.pem" };
    const pg = { engine: "postgresql" as const, host: "10.0.0.6", port: 5432, user: "postgres", tls: "verify-full" as const, caFile: "/ca.pem" };

    test("MariaDB: create the database, then feed the dump to the client", () => {
        expect(restorePlan(maria, "mo_main_scratch", "/b/x.sql")).toEqual([
            {
                command: "mysql",
                args: ["--ssl", "--ssl-verify-server-cert", "--ssl-ca=/ca.pem", "--host=10.0.0.5", "--port=3306", "--user=admin", "--execute", "CREATE DATABASE IF NOT EXISTS `mo_main_scratch` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"],
                env: {},
            },
            { command: "mysql", args: ["--ssl", "--ssl-verify-server-cert", "--ssl-ca=/ca.pem", "--host=10.0.0.5", "--port=3306", "--user=admin", "mo_main_scratch"], env: {}, stdinFile: "/b/x.sql" },
        ]);
    });

    test("PostgreSQL: createdb, then pg_restore without owners or privileges, over verified TLS", () => {
        const plan = restorePlan(pg, "mo_idp_scratch", "/b/x.dump");
        expect(plan.map((c) => [c.command, ...c.args].join(" "))).toEqual([
            "createdb --host=10.0.0.6 --port=5432 --username=postgres mo_idp_scratch",
            "pg_restore --host=10.0.0.6 --port=5432 --username=postgres --no-owner --no-privileges --exit-on-error --dbname=mo_idp_scratch /b/x.dump",
        ]);
        expect(plan[1]?.env).toEqual({ PGSSLMODE: "verify-full", PGSSLROOTCERT: "/ca.pem" });
    });

    test.each(["mo_x; DROP DATABASE y", "mo-x", "", "mo_x`"])("refuses the database name %j", (name) => {
        expect(() => restorePlan(maria, name, "/b/x.sql")).toThrow("invalid database name");
        expect(() => databaseInUseCall(pg, name)).toThrow("invalid database name");
    });

    test("a database in use: tables in MariaDB, existence in PostgreSQL", () => {
        expect(databaseInUseCall(maria, "mo_s").args.at(-1)).toBe("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mo_s'");
        expect(databaseInUseCall(pg, "mo_s").args.at(-1)).toBe("SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_database WHERE datname = 'mo_s') THEN 1 ELSE 0 END");
    });
});
