// A service's data change as one resource: a fresh, verified backup of every database it uses, then its migration.
/* eslint-disable @typescript-eslint/no-require-imports -- dynamic providers require Node's modules at call time (see remote/transport.ts) */
import * as pulumi from "@pulumi/pulumi";
import { assertMatches, VERSION } from "../config/patterns";
import { outputTail, runShell } from "../remote/transport";
import { backupEnvironment, parseBackupRecord, renderBackupScript, type BackupRecord, type BackupTarget } from "./backup";

/** One database of the service, with its admin password (a secret input). */
export interface DataChangeDatabase extends BackupTarget {
    password: string;
}

export interface DataChangeInputs {
    service: string;
    /** The version the change is for (green's): backups and migration run once per version. */
    version: string;
    databases: DataChangeDatabase[];
    /** The same databases without their connections (not secret): what previews and reports show. */
    targets: { server: string; database: string }[];
    /** Where the dumps go (on the machine that runs `pulumi up`), and how long they are kept. */
    backupLocation: string;
    retentionDays: number;
    /** Run after the backups, with SERVICE VERSION COLOUR ADDRESS in its environment and nothing else of ours. */
    migrationCommand?: string;
    /** The colour the migration runs against (green) and its address. */
    colour: string;
    address: string;
}

export interface DataChangeOutputs extends DataChangeInputs {
    /** The backups taken for `version`, one per database, each verified. */
    backups: BackupRecord[];
    /** The version whose migration ran (undefined without a migration command). */
    migratedVersion?: string;
}

/**
 * Dumps one database and checks the file against what the script reported (size and sha256 read
 * back here): a backup counts only once it is on disk as recorded.
 */
export async function takeBackup(db: DataChangeDatabase, location: string, retentionDays: number): Promise<BackupRecord> {
    const fs = require("node:fs") as typeof import("node:fs");
    const crypto = require("node:crypto") as typeof import("node:crypto");
    assertMatches(VERSION, db.version, `the backup of ${db.database}: version`);
    const result = await runShell(undefined, renderBackupScript(db.engine, db.tls), "", backupEnvironment(db, db.password, location, retentionDays));
    if (result.code !== 0) {
        const reason = outputTail(result).split(db.password).join("***");
        throw new Error(`backup of ${db.database} on ${db.server} failed (exit ${result.code}): ${reason}`);
    }
    const record = parseBackupRecord(result.stdout, { server: db.server, engine: db.engine, database: db.database, service: db.service, version: db.version });
    const content = fs.readFileSync(record.file);
    const sha256 = crypto.createHash("sha256").update(content).digest("hex");
    if (content.length !== record.bytes || sha256 !== record.sha256 || content.length === 0) {
        throw new Error(`backup of ${db.database} on ${db.server}: ${record.file} does not match what the dump reported (${content.length} bytes, sha256 ${sha256})`);
    }
    return record;
}

/** Backups of every database (one at a time: a dump loads its server), then the migration; throws at the first failure. */
export async function applyDataChange(news: DataChangeInputs): Promise<DataChangeOutputs> {
    const backups: BackupRecord[] = [];
    for (const db of news.databases) backups.push(await takeBackup(db, news.backupLocation, news.retentionDays));
    if (news.migrationCommand === undefined) return { ...news, backups };
    const result = await runShell(undefined, news.migrationCommand, "", { SERVICE: news.service, VERSION: news.version, COLOUR: news.colour, ADDRESS: news.address });
    if (result.code !== 0) {
        throw new Error(`the migration of ${news.service} to ${news.version} failed (exit ${result.code}) after its backups (${backups.map((b) => b.file).join(", ") || "none"}): ${outputTail(result)}`);
    }
    return { ...news, backups, migratedVersion: news.version };
}

/** The inputs that change what a run would do; the passwords are compared too (a rotated password is an update). */
const COMPARED: readonly (keyof DataChangeInputs)[] = ["service", "version", "databases", "targets", "backupLocation", "retentionDays", "migrationCommand", "colour", "address"];

/**
 * Runs once per version: a create, or an update to another version, takes the backups and then
 * migrates, in one step, so a migration never runs without fresh backups taken for it. Any other
 * change (a new migration command, another address) is recorded, and runs nothing until the next
 * version: the preview shows it, and the policy pack gates it like a release.
 */
export const dataChangeProvider: pulumi.dynamic.ResourceProvider<DataChangeInputs, DataChangeOutputs> = {
    async check(_olds, news) {
        const failures: { property: string; reason: string }[] = [];
        if (!VERSION.test(news.version)) failures.push({ property: "version", reason: `${JSON.stringify(news.version)}: ${VERSION.rule}` });
        if (!Number.isInteger(news.retentionDays) || news.retentionDays < 1) failures.push({ property: "retentionDays", reason: "must be a whole number of days, 1 or more" });
        return { inputs: news, failures };
    },
    async diff(_id, olds, news) {
        const changed = COMPARED.some((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
        return { changes: changed, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs) {
        return { id: `${inputs.service}`, outs: await applyDataChange(inputs) };
    },
    async update(_id, olds, news) {
        if (olds.version === news.version) return { outs: { ...news, backups: olds.backups, migratedVersion: olds.migratedVersion } };
        return { outs: await applyDataChange(news) };
    },
    async delete() {
        // The dumps stay where they are: a removed service's backups are still data.
    },
};

export interface DataChangeArgs {
    service: string;
    version: string;
    databases: pulumi.Input<pulumi.Input<DataChangeDatabase>[]>;
    targets: { server: string; database: string }[];
    backupLocation: string;
    retentionDays: number;
    migrationCommand?: string;
    colour: string;
    address: string;
}

export const DATA_CHANGE_TYPE = "pulumi-nodejs:dynamic/release:DataChange";

/** Backups, then the migration, of one service's target version: one step, once per version. */
export class DataChange extends pulumi.dynamic.Resource {
    public declare readonly backups: pulumi.Output<BackupRecord[]>;
    public declare readonly migratedVersion: pulumi.Output<string | undefined>;

    constructor(name: string, args: DataChangeArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dataChangeProvider,
            name,
            { ...args, databases: pulumi.secret(args.databases), backups: undefined, migratedVersion: undefined },
            // The admin passwords stay secret in the state's outputs too; the backup records are not secret.
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["databases"] }),
            "release",
            "DataChange",
        );
    }
}
