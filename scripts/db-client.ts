// Runs the database command-line clients (mysql, psql, createdb, pg_restore, dropdb) for the
// scripts beside the program: an explicit environment with the password only, never ours.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import type { ClientCall } from "../components/release/backup";
import { childEnvironment } from "../components/remote/transport";

/** The password variable of a client: MariaDB's clients read MYSQL_PWD, PostgreSQL's PGPASSWORD. */
function passwordVariable(command: string): "MYSQL_PWD" | "PGPASSWORD" {
    return command === "mysql" || command === "mysqldump" ? "MYSQL_PWD" : "PGPASSWORD";
}

/** Runs one client call and returns its stdout; a failure throws with its stderr (the password never in it). */
export function runClient(call: ClientCall, password: string): string {
    // The client gets what it needs, never our environment (a passphrase or token there is not its business).
    const env = childEnvironment({ ...call.env, [passwordVariable(call.command)]: password });
    const input = call.stdinFile === undefined ? "ignore" : fs.openSync(call.stdinFile, "r");
    try {
        const result = spawnSync(call.command, call.args, { env, stdio: [input, "pipe", "pipe"], encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        if (result.error) throw new Error(`${call.command} could not run: ${result.error.message}`);
        if (result.status !== 0) {
            const text = (result.stderr || result.stdout).trim();
            throw new Error(`${call.command} failed (exit ${String(result.status)}): ${password === "" ? text : text.split(password).join("***")}`);
        }
        return result.stdout;
    } finally {
        if (typeof input === "number") fs.closeSync(input);
    }
}
