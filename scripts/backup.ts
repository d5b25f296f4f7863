// `npm run backup -- --stack X [--verify]`: the scheduled backup job. Backs up every database of the
// stack (not only those a release touches), records each backup (file, size, sha256, time) in
// <location>/backup-records.json, where `npm run evidence` reads them, applies the retention, and
// with --verify restores the newest backup of each engine into a scratch database and compares it
// table by table with its source. A systemd timer runs it (deployments/backup/, docs/pipelines.md).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parsePlatformConfig } from "../components/config";
import { digestCall, dropScratchCall, restorePlan, type BackupRecord } from "../components/release/backup";
import {
    digestDifferences,
    digestLines,
    latestPerEngine,
    mergeRecords,
    parseRecordsFile,
    RECORDS_FILE,
    restoreTargetOf,
    scheduledTargets,
    scratchDatabaseName,
    type ScheduledTarget,
} from "../components/release/backup-job";
import { takeBackup } from "../components/release/data-change";
import { runClient } from "./db-client";
import { readStackConfig } from "./local-secrets";
import { defaultConfigFile, pulumi, stackConfigPath, type ReleaseCliArgs } from "./release-cli";

export const USAGE = `usage: npm run backup -- --stack <stack> [--verify] [--config-file <file>]
  --stack NAME        the stack whose databases are backed up (all of them)
  --verify            then restore the newest backup of each engine into a scratch database and compare it with its source
  --config-file FILE  the stack's config (default Pulumi.<stack>.yaml; the local stack's rendered copy)`;

/** The records file of a backup location; an empty list when there is none yet. */
export function readRecords(location: string): BackupRecord[] {
    const file = path.join(location, RECORDS_FILE);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw new Error(`${file}: ${(error as Error).message}`);
    }
    return parseRecordsFile(text, file);
}

/** Writes the records file whole, private (0600), through a temp file and a rename: a reader never sees half of it. */
export function writeRecords(location: string, records: readonly BackupRecord[]): void {
    const file = path.join(location, RECORDS_FILE);
    fs.mkdirSync(location, { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify(records, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(temp, file);
}

interface Options {
    stack: string;
    verify: boolean;
    configFile: string | undefined;
}

function parse(argv: string[]): Options {
    const { values } = parseArgs({
        args: argv,
        options: { stack: { type: "string" }, verify: { type: "boolean", default: false }, "config-file": { type: "string" }, help: { type: "boolean", default: false } },
        strict: true,
        allowPositionals: false,
    });
    if (values.help) {
        console.log(USAGE);
        process.exit(0);
    }
    if (!values.stack || !/^[A-Za-z0-9_.-]+$/.test(values.stack)) throw new Error(`--stack: a stack name is required\n${USAGE}`);
    return { stack: values.stack, verify: values.verify === true, configFile: defaultConfigFile(values.stack, values["config-file"]) };
}

/**
 * Restores `record` into a new scratch database, compares it with its source, and drops the scratch
 * database again. The file must still be what its record says (size and sha256).
 */
export function verifyRestoreOf(record: BackupRecord, target: ScheduledTarget, password: string, now: Date): string {
    const content = fs.readFileSync(record.file);
    const sha256 = crypto.createHash("sha256").update(content).digest("hex");
    if (content.length !== record.bytes || sha256 !== record.sha256) throw new Error(`${record.file} does not match its backup record (${content.length} bytes, sha256 ${sha256})`);
    const connection = restoreTargetOf(target);
    const scratch = scratchDatabaseName(now, record.engine);
    try {
        for (const call of restorePlan(connection, scratch, record.file)) runClient(call, password);
        const source = digestLines(runClient(digestCall(connection, record.database), password));
        const restored = digestLines(runClient(digestCall(connection, scratch), password));
        const differences = digestDifferences(source, restored);
        if (differences.length > 0) {
            throw new Error(
                `the restore of ${path.basename(record.file)} into ${scratch} differs from ${record.database} (writes since the dump also show here): ${differences.join("; ")}`,
            );
        }
        return `${record.engine}: ${path.basename(record.file)} restored into ${scratch}: ${source.length} table${source.length === 1 ? "" : "s"}, rows and checksums equal to ${record.server}/${record.database}`;
    } finally {
        runClient(dropScratchCall(connection, scratch), password);
    }
}

export async function main(argv: string[]): Promise<number> {
    const options = parse(argv);
    if (options.stack === "local" && process.env.PULUMI_CONFIG_PASSPHRASE === undefined) process.env.PULUMI_CONFIG_PASSPHRASE = "local-stack";
    const configFile = stackConfigPath(options.stack, options.configFile);
    if (!fs.existsSync(configFile)) throw new Error(`no config for stack ${options.stack}: ${configFile} does not exist (pass --config-file)`);
    const spec = parsePlatformConfig(readStackConfig(configFile));
    const { location, localRetentionDays } = spec.databases.backups;
    const cli: ReleaseCliArgs = { stack: options.stack, service: undefined, configFile: options.configFile, up: false };

    const passwords = new Map<string, string>();
    const passwordOf = (server: string): string => {
        let password = passwords.get(server);
        if (password === undefined) {
            password = pulumi(cli, ["config", "get", `release-platform:dbAdminPassword.${server}`]).replace(/\n$/, "");
            passwords.set(server, password);
        }
        return password;
    };

    const started = Date.now();
    const targets = scheduledTargets(spec);
    const taken: BackupRecord[] = [];
    const failed: string[] = [];
    for (const target of targets) {
        try {
            const record = await takeBackup({ ...target, password: passwordOf(target.server) }, location, localRetentionDays);
            taken.push(record);
            console.log(`backed up ${target.server}/${target.database}: ${record.file} (${record.bytes} bytes, sha256 ${record.sha256.slice(0, 12)})`);
        } catch (error) {
            failed.push(`${target.server}/${target.database}`);
            console.error(`FAILED ${target.server}/${target.database}: ${(error as Error).message}`);
        }
    }
    // The records list what can be restored: the dumps the retention removed leave it too.
    const records = mergeRecords(readRecords(location), taken, (file) => fs.existsSync(file));
    writeRecords(location, records);
    console.log(`${taken.length} of ${targets.length} databases backed up into ${location} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${records.length} backups on record (${RECORDS_FILE})`);

    if (options.verify) {
        for (const record of latestPerEngine(taken)) {
            const target = targets.find((t) => t.server === record.server && t.database === record.database);
            if (target === undefined) continue;
            try {
                console.log(`restore check ${verifyRestoreOf(record, target, passwordOf(record.server), new Date())}`);
            } catch (error) {
                failed.push(`restore check of ${record.server}/${record.database}`);
                console.error(`FAILED restore check of ${record.server}/${record.database}: ${(error as Error).message}`);
            }
        }
    }
    if (failed.length > 0) {
        console.error(`backup job of ${options.stack} FAILED for ${failed.join(", ")}`);
        return 1;
    }
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            console.error(`backup: ${(error as Error).message}`);
            process.exit(2);
        },
    );
}
