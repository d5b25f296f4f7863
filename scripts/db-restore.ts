// `npm run db:restore -- --stack X --file <dump> --database <new name>`: loads a release backup into a
// new database, after checking the file against its record (size and sha256) in the stack outputs.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { CONFIG_NAMESPACE, databasesSchema } from "../components/config";
import { databaseInUseCall, restorePlan, type BackupRecord, type RestoreTarget } from "../components/release/backup";
import { RECORDS_FILE } from "../components/release/backup-job";
import { readRecords } from "./backup";
import { runClient } from "./db-client";
import { fail, pulumi } from "./release-cli";

const USAGE = "npm run db:restore -- --stack <stack> --file <backup file> --database <new database> [--config-file <file>]";

function option(argv: string[], name: string): string | undefined {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? undefined : argv[at + 1];
}

function main(): void {
    const started = process.hrtime.bigint();
    const argv = process.argv.slice(2);
    const stack = option(argv, "stack");
    const file = option(argv, "file");
    const database = option(argv, "database");
    if (stack === undefined || file === undefined || database === undefined) throw new Error(`usage: ${USAGE}`);
    const args = { stack, service: undefined, configFile: option(argv, "config-file"), up: false };
    if (stack === "local" && process.env.PULUMI_CONFIG_PASSPHRASE === undefined) process.env.PULUMI_CONFIG_PASSPHRASE = "local-stack";

    const all = JSON.parse(pulumi(args, ["config", "--json"])) as Record<string, { objectValue?: unknown }>;
    const fleet = databasesSchema.parse(all[`${CONFIG_NAMESPACE}:databases`]?.objectValue);

    // The record says what the file is; a file that changed since the backup is not restored. A
    // release's backups are in the stack's `backups` output, the backup job's in its records file.
    const released = JSON.parse(pulumi(args, ["stack", "output", "backups", "--json"])) as BackupRecord[] | null;
    const records = [...(released ?? []), ...readRecords(fleet.backups.location)];
    const record = records.find((r) => r.file === file);
    if (record === undefined) {
        throw new Error(`${file} is not a backup of stack ${stack} (its output \`backups\` and ${fleet.backups.location}/${RECORDS_FILE} list ${records.length} files)`);
    }
    const content = fs.readFileSync(file);
    const sha256 = crypto.createHash("sha256").update(content).digest("hex");
    if (content.length !== record.bytes || sha256 !== record.sha256) {
        throw new Error(`${file} does not match its backup record (${content.length} bytes, sha256 ${sha256}; recorded ${record.bytes} bytes, ${record.sha256}): refusing to restore`);
    }

    const server = fleet.servers[record.server];
    if (server === undefined) throw new Error(`the backup's server ${record.server} is not in stack ${stack}'s config`);
    const password = pulumi(args, ["config", "get", `${CONFIG_NAMESPACE}:dbAdminPassword.${record.server}`]).replace(/\n$/, "");
    const target: RestoreTarget = { engine: server.engine, host: server.admin.host, port: server.admin.port, user: server.admin.user, tls: server.admin.tls.mode, caFile: server.admin.tls.caFile };

    if (Number(runClient(databaseInUseCall(target, database), password).trim()) !== 0) {
        throw new Error(`${database} on ${record.server} already exists${server.engine === "mariadb" ? " with tables" : ""}: a backup is restored into a new database only`);
    }
    for (const call of restorePlan(target, database, file)) runClient(call, password);
    const seconds = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(1);
    console.log(`restored ${file} (${record.database} of ${record.service} ${record.version}, ${record.time}; ${record.bytes} bytes, sha256 ok) into ${database} on ${record.server} in ${seconds} s`);
}

try {
    main();
} catch (error) {
    fail(error);
}
