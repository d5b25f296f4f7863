// Backups before migrations, through the real CLI: a service's target version change dumps each of its
// databases (mysqldump, pg_dump -Fc) and runs its migration once, in one step, before the deploy and
// the traffic; the engine's event log shows that order; a failed backup leaves green's version where
// it was; a backup restores into a new database and matches the original.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parsePlatformConfig } from "../../components/config";
import type { BackupRecord } from "../../components/release/backup";
import { scheduledTargets } from "../../components/release/backup-job";
import { verifyRestoreOf } from "../../scripts/backup";
import { readStackConfig } from "../../scripts/local-secrets";
import { freshReleaseSite, isolateRelease, localRelease, releaseCommand, tearDownLocalStack } from "../support/release-env";
import { dropTestObjects, mariaQuery, pgQuery, PLESK_STANDIN } from "../support/servers";
import { changingSteps, Workspace, type PreviewStep, type StackConfigMap } from "../support/workspace";

const PREFIX = "it5_";
const STACK = "relbackup";
const MAIN = `mo_${PREFIX}main`;
const IDP = `mo_${PREFIX}idp`;

/** A migration with a visible effect: one row per run, with the version it ran for. */
const MIGRATION =
    `mysql -h127.0.0.1 -P3306 -uroot ${MAIN} -e "CREATE TABLE IF NOT EXISTS schema_versions ` +
    `(version VARCHAR(32) PRIMARY KEY, at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)); INSERT INTO schema_versions (version) VALUES ('$VERSION')"`;

/** The local config with api's two databases only (plesk: main, postgres-ext: idp) and no containers. */
function backupConfig(config: StackConfigMap): void {
    const databases = config["release-platform:databases"] as { servers: Record<string, { databases: { name: string; description: string }[] }> };
    const plesk = databases.servers["plesk"];
    const postgres = databases.servers["postgres-ext"];
    if (!plesk || !postgres) throw new Error("the local config lost plesk or postgres-ext");
    plesk.databases = [{ name: `${PREFIX}main`, description: "Website (WordPress)" }];
    postgres.databases = [{ name: `${PREFIX}idp`, description: "Keycloak IdP" }];
    databases.servers = { plesk, "postgres-ext": postgres };
    (config["release-platform:cluster"] as { containers: unknown[] }).containers = [];
    const services = config["release-platform:services"] as Record<string, { databases?: string[]; migrationCommand?: string }>;
    for (const service of Object.values(services)) service.databases = [];
    const api = services["api"];
    if (!api) throw new Error("the local config has no api");
    api.databases = [`${PREFIX}main`, `${PREFIX}idp`];
    api.migrationCommand = MIGRATION;
}

interface EngineEvent {
    sequence: number;
    resourcePreEvent?: { metadata: { urn: string; op: string } };
    resOutputsEvent?: { metadata: { urn: string; op: string } };
}

/** The steps that bring a resource to its new state (a replacement's old copy is deleted later, at the end). */
const FORWARD_OPS = ["create", "create-replacement", "update", "same"];

/**
 * `pulumi up --event-log`: per resource name, the event sequence numbers at which its step
 * towards the new state started and finished.
 */
function readEventLog(file: string): Map<string, { started?: number; finished?: number }> {
    const steps = new Map<string, { started?: number; finished?: number }>();
    for (const line of fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "")) {
        const event = JSON.parse(line) as EngineEvent;
        const pre = event.resourcePreEvent?.metadata;
        const done = event.resOutputsEvent?.metadata;
        const meta = pre ?? done;
        if (!meta || !FORWARD_OPS.includes(meta.op)) continue;
        const name = meta.urn.split("::").pop() ?? "";
        const step = steps.get(name) ?? {};
        if (pre) step.started ??= event.sequence;
        if (done) step.finished ??= event.sequence;
        steps.set(name, step);
    }
    return steps;
}

function describeStep(step: PreviewStep): string {
    return `${step.op} ${step.urn.split("::").pop() ?? ""}`;
}

const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("backups before migrations, real CLI", () => {
    let ws: Workspace;
    let site!: { runDir: string; portBase: number };
    let backups: BackupRecord[] = [];

    const up = async (label: string) => {
        const log = path.join(site.runDir, `events-${label}.jsonl`);
        await ws.up(["--event-log", log]);
        return readEventLog(log);
    };
    const schemaVersions = async () =>
        (await mariaQuery<{ version: string }>(PLESK_STANDIN, `SELECT version FROM \`${MAIN}\`.schema_versions ORDER BY at`)).map((r) => r.version);

    beforeAll(async () => {
        await dropTestObjects(PREFIX);
        site = await freshReleaseSite("it-backup");
        ws = await Workspace.create("backup", {
            stack: STACK,
            // `up --event-log` is one of the CLI's debug flags.
            env: { PULUMI_DEBUG_COMMANDS: "true" },
            stackConfig: path.join(path.resolve(__dirname, "..", ".."), "Pulumi.local.yaml"),
            editConfig: (config) => {
                backupConfig(config);
                isolateRelease(config, site.runDir, site.portBase);
            },
        });
        await ws.setLocalSecrets();
        localRelease(ws.configFile, "start");
    });

    afterAll(async () => {
        await tearDownLocalStack(ws, site, STACK, PREFIX);
    });

    const greenVersionFile = () => fs.readFileSync(`${site.runDir}/apps/api-green.version`, "utf8").trim();

    test("first up: api's databases are created, backed up and migrated once in one step, then deployed, then its traffic is set", async () => {
        const steps = await up("first");
        const at = (name: string) => steps.get(`release-api-${name}`);
        expect(at("data")?.finished, "backups and migration done before the deploy starts").toBeLessThan(at("green-deploy")?.started ?? 0);
        expect(at("green-deploy")?.finished, "deploy done before traffic").toBeLessThan(at("traffic")?.started ?? 0);
        expect(await schemaVersions()).toEqual(["1.0.0"]);

        backups = (await ws.outputs()).backups as BackupRecord[];
        expect(backups.map((b) => [b.server, b.engine, b.database, b.service, b.version])).toEqual([
            ["plesk", "mariadb", MAIN, "api", "1.0.0"],
            ["postgres-ext", "postgresql", IDP, "api", "1.0.0"],
        ]);
        for (const b of backups) {
            expect(path.dirname(b.file)).toBe(`${site.runDir}/backups`);
            expect(fs.statSync(b.file).size).toBe(b.bytes);
            expect(sha256(b.file)).toBe(b.sha256);
            expect(Date.now() - Date.parse(b.time)).toBeLessThan(10 * 60_000);
            // Private: readable by the user who runs Pulumi only.
            expect(fs.statSync(b.file).mode & 0o777).toBe(0o600);
        }
        expect(fs.statSync(`${site.runDir}/backups`).mode & 0o777).toBe(0o700);
        expect(fs.readFileSync(backups[0]?.file ?? "", "utf8")).toMatch(/^-- (MySQL|MariaDB) dump/m);
        expect(fs.readFileSync(backups[1]?.file ?? "").subarray(0, 5).toString()).toBe("PGDMP");
    });

    test("a version change: backup and migration, then deploy, then traffic, in the event log; once per version", async () => {
        // Data worth keeping, in both databases.
        await mariaQuery(PLESK_STANDIN, `CREATE TABLE \`${MAIN}\`.notes (id INT PRIMARY KEY, body TEXT)`);
        await mariaQuery(PLESK_STANDIN, `INSERT INTO \`${MAIN}\`.notes VALUES (1, 'ä first'), (2, 'second'), (3, NULL)`);
        pgQuery("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'ä first'), (2, 'second'), (3, NULL)", IDP);

        await ws.run(["config", "set", "--path", "release-platform:services.api.green.version", "1.1.0", "--type", "string", ...ws.stackArgs()]);
        const planned = changingSteps(await ws.previewJson()).map(describeStep).sort();
        expect(planned).toEqual(
            [
                "update release-api-data",
                "update release-api-green-deploy",
                "update release-api-traffic",
                "update release-gate", // it records the desired versions
                "replace release-record", // the new fingerprint, once everything applied
            ].sort(),
        );
        const steps = await up("version");
        const at = (name: string) => steps.get(`release-api-${name}`);
        expect(at("data")?.finished, "backups and migration done before the deploy").toBeLessThan(at("green-deploy")?.started ?? 0);
        expect(at("green-deploy")?.finished, "deploy done before traffic").toBeLessThan(at("traffic")?.started ?? 0);
        expect(await schemaVersions()).toEqual(["1.0.0", "1.1.0"]);
        expect(greenVersionFile()).toBe("1.1.0");

        backups = (await ws.outputs()).backups as BackupRecord[];
        expect(backups.map((b) => `${b.database} ${b.version}`)).toEqual([`${MAIN} 1.1.0`, `${IDP} 1.1.0`]);
        expect(fs.readdirSync(`${site.runDir}/backups`)).toHaveLength(4); // both versions' dumps are kept

        // A weight step runs neither backups nor the migration.
        await ws.run(["config", "set", "--path", "release-platform:services.api.weights.green", "10", "--type", "int", ...ws.stackArgs()]);
        await ws.run(["config", "set", "--path", "release-platform:services.api.weights.blue", "90", "--type", "int", ...ws.stackArgs()]);
        expect(changingSteps(await ws.previewJson()).map(describeStep).sort()).toEqual(["update release-api-traffic", "update release-gate"]);
        await ws.up();
        expect(await schemaVersions()).toEqual(["1.0.0", "1.1.0"]);
        expect(fs.readdirSync(`${site.runDir}/backups`)).toHaveLength(4);

        // A new migration command for the same version is shown and recorded, but runs only with the next version.
        await ws.run(["config", "set", "--path", "release-platform:services.api.migrationCommand", `${MIGRATION} # edited`, ...ws.stackArgs()]);
        expect(changingSteps(await ws.previewJson()).map(describeStep).sort()).toEqual(["replace release-record", "update release-api-data", "update release-gate"]);
        await ws.up();
        expect(await schemaVersions()).toEqual(["1.0.0", "1.1.0"]);
        expect(fs.readdirSync(`${site.runDir}/backups`)).toHaveLength(4);
    });

    test("a failed backup stops the release there: no migration, green keeps its version, the traffic stays", async () => {
        const weights = (await ws.outputs()).services as Record<string, { green: { weight: number } }>;
        await ws.run(["config", "set", "--path", "release-platform:services.api.green.version", "1.2.0", "--type", "string", ...ws.stackArgs()]);
        // Nowhere to write the dumps: every backup fails.
        await ws.run(["config", "set", "--path", "release-platform:databases.backups.location", "/dev/null/backups", ...ws.stackArgs()]);
        const failed = await ws.run(["up", "--yes", "--skip-preview", ...ws.stackArgs()], { allowFailure: true });
        expect(failed.code).not.toBe(0);
        expect(failed.output).toMatch(/backup of mo_it5_main on plesk failed/);
        expect(await schemaVersions()).toEqual(["1.0.0", "1.1.0"]);
        expect(greenVersionFile()).toBe("1.1.0");
        expect(((await ws.outputs()).services as typeof weights).api?.green.weight).toBe(weights.api?.green.weight);

        // With a place for the dumps again, the same up goes through: backups, migration, deploy.
        await ws.run(["config", "set", "--path", "release-platform:databases.backups.location", `${site.runDir}/backups`, ...ws.stackArgs()]);
        await ws.up();
        expect(await schemaVersions()).toEqual(["1.0.0", "1.1.0", "1.2.0"]);
        expect(greenVersionFile()).toBe("1.2.0");
        backups = (await ws.outputs()).backups as BackupRecord[];
        expect(backups.map((b) => `${b.database} ${b.version}`)).toEqual([`${MAIN} 1.2.0`, `${IDP} 1.2.0`]);
    });

    test("a backup restores into a new database and matches; a changed file or a database in use is refused", async () => {
        const [main, idp] = backups;
        if (!main || !idp) throw new Error("no backups recorded");

        const restoreMain = await releaseCommand(ws, "db-restore", ["--stack", STACK, "--file", main.file, "--database", `${MAIN}_scratch`]);
        expect(restoreMain.code, restoreMain.output).toBe(0);
        expect(restoreMain.output).toMatch(new RegExp(`restored .* into ${MAIN}_scratch on plesk in \\d+\\.\\d s`));
        const checksum = async (db: string) => (await mariaQuery<{ Checksum: number }>(PLESK_STANDIN, `CHECKSUM TABLE \`${db}\`.notes`))[0]?.Checksum;
        expect(await checksum(`${MAIN}_scratch`)).toBe(await checksum(MAIN));
        expect(await mariaQuery(PLESK_STANDIN, `SELECT * FROM \`${MAIN}_scratch\`.notes ORDER BY id`)).toEqual(
            await mariaQuery(PLESK_STANDIN, `SELECT * FROM \`${MAIN}\`.notes ORDER BY id`),
        );

        const restoreIdp = await releaseCommand(ws, "db-restore", ["--stack", STACK, "--file", idp.file, "--database", `${IDP}_scratch`]);
        expect(restoreIdp.code, restoreIdp.output).toBe(0);
        const digest = (db: string) => pgQuery("SELECT md5(string_agg(n::text, '|' ORDER BY id)) FROM notes n", db);
        expect(digest(`${IDP}_scratch`)).toEqual(digest(IDP));

        // Into a database that has tables: refused.
        const inUse = await releaseCommand(ws, "db-restore", ["--stack", STACK, "--file", main.file, "--database", `${MAIN}_scratch`]);
        expect(inUse.code).not.toBe(0);
        expect(inUse.output).toContain(`${MAIN}_scratch on plesk already exists with tables: a backup is restored into a new database only`);

        // A file changed since its backup: refused before anything is touched.
        fs.appendFileSync(main.file, "-- changed\n");
        const changed = await releaseCommand(ws, "db-restore", ["--stack", STACK, "--file", main.file, "--database", `${MAIN}_other`]);
        expect(changed.code).not.toBe(0);
        expect(changed.output).toContain("does not match its backup record");
        expect(await mariaQuery(PLESK_STANDIN, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [`${MAIN}_other`])).toEqual([]);
    });

    test("the scheduled backup job: every database, its records where the evidence reads them, retention, and a restore check per engine", async () => {
        const location = `${site.runDir}/backups`;
        const recordsFile = path.join(location, "backup-records.json");
        // A dump of main from 40 days ago, on record: the retention (30 days) removes it, and its record with it.
        const old = path.join(location, `plesk-${MAIN}-scheduled-20200101T000000Z.sql`);
        fs.writeFileSync(old, "-- old dump\n", { mode: 0o600 });
        fs.utimesSync(old, new Date(Date.now() - 40 * 86_400_000), new Date(Date.now() - 40 * 86_400_000));
        const before = fs.existsSync(recordsFile) ? (JSON.parse(fs.readFileSync(recordsFile, "utf8")) as BackupRecord[]) : [];
        const stale: BackupRecord = { server: "plesk", engine: "mariadb", database: MAIN, service: "scheduled", version: "scheduled", file: old, time: "2020-01-01T00:00:00Z", bytes: 12, sha256: "0".repeat(64) };
        fs.writeFileSync(recordsFile, JSON.stringify([...before, stale]), { mode: 0o600 });

        const job = await releaseCommand(ws, "backup", ["--stack", STACK, "--verify"]);
        expect(job.code, job.output).toBe(0);
        expect(job.output).toMatch(/2 of 2 databases backed up into .* in \d+\.\d s; \d+ backups on record \(backup-records\.json\)/);
        expect(job.output).toMatch(new RegExp(`restore check mariadb: plesk-${MAIN}-scheduled-\\d{8}T\\d{6}Z\\.sql restored into rp_restore_check_m_\\d{8}_\\d{6}: 2 tables, rows and checksums equal to plesk/${MAIN}`));
        expect(job.output).toMatch(new RegExp(`restore check postgresql: postgres-ext-${IDP}-scheduled-\\d{8}T\\d{6}Z\\.dump restored into rp_restore_check_p_\\d{8}_\\d{6}: 1 table, rows and checksums equal to postgres-ext/${IDP}`));

        // The records: private, every file on disk as recorded, the old dump and its record gone.
        expect(fs.statSync(recordsFile).mode & 0o777).toBe(0o600);
        const records = JSON.parse(fs.readFileSync(recordsFile, "utf8")) as BackupRecord[];
        expect(fs.existsSync(old)).toBe(false);
        expect(records.map((r) => r.file)).not.toContain(old);
        const scheduled = records.filter((r) => r.service === "scheduled");
        expect(scheduled.map((r) => `${r.server}/${r.database}`).sort()).toEqual([`plesk/${MAIN}`, `postgres-ext/${IDP}`]);
        for (const record of records) {
            expect(fs.statSync(record.file).size).toBe(record.bytes);
            expect(sha256(record.file)).toBe(record.sha256);
        }
        // The scratch databases are gone again.
        expect(await mariaQuery(PLESK_STANDIN, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'rp\\_restore\\_check\\_%'")).toEqual([]);
        expect(pgQuery("SELECT count(*) FROM pg_database WHERE datname LIKE 'rp_restore_check_%'", "postgres")).toEqual([["0"]]);
    });

    test("the restore check finds a copy that differs from its source", async () => {
        // A row written after the dump: the check names the table and both digests, and still drops its scratch database.
        const job = await releaseCommand(ws, "backup", ["--stack", STACK]);
        expect(job.code, job.output).toBe(0);
        await mariaQuery(PLESK_STANDIN, `INSERT INTO \`${MAIN}\`.notes (id, body) VALUES (99, 'after the dump')`);
        const records = JSON.parse(fs.readFileSync(path.join(site.runDir, "backups", "backup-records.json"), "utf8")) as BackupRecord[];
        const latest = records.filter((r) => r.database === MAIN).sort((a, b) => a.time.localeCompare(b.time)).pop();
        expect(latest).toBeDefined();
        const target = scheduledTargets(parsePlatformConfig(readStackConfig(ws.configFile))).find((t) => t.database === MAIN)!;
        const password = (await ws.run(["config", "get", "release-platform:dbAdminPassword.plesk", ...ws.stackArgs()])).stdout.replace(/\n$/, "");
        expect(() => verifyRestoreOf(latest!, target, password, new Date())).toThrow(/differs from .*: notes: source \d+ \d+, restored \d+ \d+/);
        expect(await mariaQuery(PLESK_STANDIN, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'rp\\_restore\\_check\\_%'")).toEqual([]);
    });
});
