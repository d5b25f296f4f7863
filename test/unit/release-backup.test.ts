// Backups in text: the dump script per engine (run here against stand-in dump tools), the record, the restore plan.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { databaseInUseCall, parseBackupRecord, releaseTargetVersion, renderBackupScript, restorePlan } from "../../components/release";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "rp-backup-unit-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Stand-ins for mysqldump and pg_dump that record their arguments and write a known dump. */
function fakeTools(): string {
    const bin = path.join(scratch, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "mysqldump"), '#!/bin/sh\necho "$@" > "$ARGS_FILE"\nprintf -- "-- MariaDB dump of %s\\n" "$DB"\n', { mode: 0o755 });
    fs.writeFileSync(
        path.join(bin, "pg_dump"),
        '#!/bin/sh\necho "$@" > "$ARGS_FILE"\nfor a in "$@"; do case "$a" in --file=*) printf PGDMP > "${a#--file=}";; esac; done\n',
        { mode: 0o755 },
    );
    return bin;
}

function runScript(engine: "mariadb" | "postgresql", tls: "disable" | "require" | "verify-full") {
    const bin = fakeTools();
    const argsFile = path.join(scratch, `${engine}-${tls}.args`);
    const stdout = execFileSync("/bin/sh", ["-c", renderBackupScript(engine, tls)], {
        encoding: "utf8",
        env: {
            PATH: `${bin}:${process.env.PATH ?? ""}`,
            ARGS_FILE: argsFile,
            SERVER: "plesk",
            HOST: "127.0.0.1",
            PORT: "3306",
            USER: "root",
            DB: "mo_main",
            DIR: path.join(scratch, "dumps"),
            SERVICE: "api",
            VERSION: "1.1.0",
            MYSQL_PWD: "secret-not-on-the-command-line",
            CA_FILE: "/etc/ssl/ca.pem",
        },
    });
    return { stdout, args: fs.readFileSync(argsFile, "utf8").trim() };
}

describe("backup script", () => {
    test.each([
        ["disable", "--single-transaction --routines --triggers --host=127.0.0.1 --port=3306 --user=root mo_main"],
        ["require", "--single-transaction --routines --triggers --ssl --host=127.0.0.1 --port=3306 --user=root mo_main"],
        ["verify-full", "--single-transaction --routines --triggers --ssl --ssl-verify-server-cert --ssl-ca=/etc/ssl/ca.pem --host=127.0.0.1 --port=3306 --user=root mo_main"],
    ] as const)("MariaDB with TLS %s: mysqldump %s, and a record of the file", (tls, args) => {
        const { stdout, args: called } = runScript("mariadb", tls);
        expect(called).toBe(args);
        expect(called).not.toContain("secret");
        const record = parseBackupRecord(stdout);
        expect(record).toMatchObject({ server: "plesk", engine: "mariadb", database: "mo_main", service: "api", version: "1.1.0" });
        expect(record.file).toMatch(new RegExp(`^${scratch}/dumps/plesk-mo_main-1\\.1\\.0-\\d{8}T\\d{6}Z\\.sql$`));
        const content = fs.readFileSync(record.file);
        expect(record.bytes).toBe(content.length);
        expect(record.sha256).toBe(crypto.createHash("sha256").update(content).digest("hex"));
        expect(Math.abs(Date.parse(record.time) - Date.now())).toBeLessThan(60_000);
        expect(fs.existsSync(`${record.file}.partial`)).toBe(false);
    });

    test("PostgreSQL: pg_dump -Fc into the file, recorded", () => {
        const { stdout, args } = runScript("postgresql", "require");
        const record = parseBackupRecord(stdout);
        expect(args).toBe(`-Fc --host=127.0.0.1 --port=3306 --username=root --dbname=mo_main --file=${record.file}.partial`);
        expect(record.file.endsWith(".dump")).toBe(true);
        expect(fs.readFileSync(record.file, "utf8")).toBe("PGDMP");
        expect(record.bytes).toBe(5);
    });

    test("a failing dump leaves no file and no record", () => {
        const bin = fakeTools();
        fs.writeFileSync(path.join(bin, "mysqldump"), "#!/bin/sh\necho 'Access denied' >&2\nexit 2\n", { mode: 0o755 });
        const dir = path.join(scratch, "failed");
        expect(() =>
            execFileSync("/bin/sh", ["-c", renderBackupScript("mariadb", "disable")], {
                stdio: "pipe",
                env: { PATH: `${bin}:${process.env.PATH ?? ""}`, SERVER: "s", HOST: "h", PORT: "1", USER: "u", DB: "d", DIR: dir, SERVICE: "x", VERSION: "1" },
            }),
        ).toThrow(/Access denied/);
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    test.each([
        ["", "a backup printed no record"],
        ["mysqldump: error", "a backup printed no record"],
        ['{"server":"plesk"}', "a backup record lacks engine, database"],
        ['{"server":"s","engine":"mariadb","database":"d","service":"x","version":"1","file":"/f","time":"t","bytes":1,"sha256":"nothex"}', "a valid sha256 or size"],
    ])("refuses %j as a record", (stdout, message) => {
        expect(() => parseBackupRecord(stdout)).toThrow(message);
    });

    test("the release's target version is green's: new versions land on green", () => {
        expect(releaseTargetVersion({ green: { version: "2.0.0" } })).toBe("2.0.0");
    });
});

describe("restore plan", () => {
    const maria = { engine: "mariadb" as const, host: "10.0.0.5", port: 3306, user: "admin", tls: "require" as const };
    const pg = { engine: "postgresql" as const, host: "10.0.0.6", port: 5432, user: "postgres", tls: "verify-full" as const, caFile: "/ca.pem" };

    test("MariaDB: create the database, then feed the dump to the client", () => {
        expect(restorePlan(maria, "mo_main_scratch", "/b/x.sql")).toEqual([
            {
                command: "mysql",
                args: ["--ssl", "--host=10.0.0.5", "--port=3306", "--user=admin", "--execute", "CREATE DATABASE IF NOT EXISTS `mo_main_scratch` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"],
                env: {},
            },
            { command: "mysql", args: ["--ssl", "--host=10.0.0.5", "--port=3306", "--user=admin", "mo_main_scratch"], env: {}, stdinFile: "/b/x.sql" },
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
