// `npm run db:check -- --stack X`: connects as every service user of the stack and runs SELECT 1.
// Run it from the app host: the databases accept their service users from there only.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as mariadb from "mariadb";
import { Client } from "pg";
import { tlsClientOptions } from "../components/databases/tls";

export interface DatabaseOutput {
    server: string;
    engine: "mariadb" | "postgresql";
    host: string;
    port: number;
    database: string;
    user: string;
    password: string;
    /** How the server is verified (absent in the outputs of stacks from before it was recorded: then TLS without verification is refused). */
    tls?: { mode: string; caFile?: string };
}

export interface CheckResult {
    db: DatabaseOutput;
    ok: boolean;
    ms: number;
    detail: string;
}

const TIMEOUT_MS = 5_000;

/** A service user connects the way the admin does: TLS verified against the server's CA (service users are REQUIRE SSL / hostssl). */
function serviceUserTls(db: DatabaseOutput) {
    const mode = db.tls?.mode ?? "verify-full";
    return tlsClientOptions(db.host, mode, db.tls?.caFile, (file) => readFileSync(file, "utf8"));
}

async function selectOne(db: DatabaseOutput): Promise<void> {
    const ssl = serviceUserTls(db);
    if (db.engine === "mariadb") {
        const conn = await mariadb.createConnection({
            host: db.host,
            port: db.port,
            user: db.user,
            password: db.password,
            database: db.database,
            connectTimeout: TIMEOUT_MS,
            ssl: ssl as mariadb.ConnectionConfig["ssl"],
        });
        try {
            await conn.query("SELECT 1");
        } finally {
            await conn.end();
        }
        return;
    }
    const client = new Client({
        host: db.host,
        port: db.port,
        user: db.user,
        password: db.password,
        database: db.database,
        connectionTimeoutMillis: TIMEOUT_MS,
        ssl: ssl ?? false,
    });
    await client.connect();
    try {
        await client.query("SELECT 1");
    } finally {
        await client.end();
    }
}

/** Checks every database; never throws, and never puts a password into a result. */
export async function checkDatabases(dbs: DatabaseOutput[]): Promise<CheckResult[]> {
    return Promise.all(
        dbs.map(async (db) => {
            const started = performance.now();
            try {
                await selectOne(db);
                return { db, ok: true, ms: Math.round(performance.now() - started), detail: "SELECT 1 ok" };
            } catch (error) {
                const message = ((error as Error).message ?? String(error)).split(db.password).join("***");
                return { db, ok: false, ms: Math.round(performance.now() - started), detail: message.split("\n")[0] ?? "" };
            }
        }),
    );
}

/** One line per database, aligned, sorted by server then database. */
export function formatCheckTable(results: CheckResult[]): string {
    const rows = [...results]
        .sort((a, b) => a.db.server.localeCompare(b.db.server) || a.db.database.localeCompare(b.db.database))
        .map((r) => [r.ok ? "ok" : "FAIL", r.db.server, r.db.database, r.db.user, `${r.db.host}:${r.db.port}`, `${r.ms} ms`, r.detail]);
    const header = ["", "server", "database", "user", "address", "time", "result"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
    return [line(header), ...rows.map(line)].join("\n");
}

function parseArgs(argv: string[]): { stack: string } {
    const i = argv.indexOf("--stack");
    const stack = i >= 0 ? argv[i + 1] : undefined;
    if (!stack) throw new Error("usage: npm run db:check -- --stack <stack>");
    return { stack };
}

async function main(): Promise<void> {
    const { stack } = parseArgs(process.argv.slice(2));
    // The local stack's passphrase is not a secret (see scripts/start-local.sh); other stacks bring theirs.
    if (stack === "local") process.env.PULUMI_CONFIG_PASSPHRASE ??= "local-stack";
    // The secret outputs are decrypted in memory only; nothing of them is printed.
    const raw = execFileSync("pulumi", ["stack", "output", "databases", "--json", "--show-secrets", "--stack", stack], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
    const results = await checkDatabases(JSON.parse(raw) as DatabaseOutput[]);
    console.log(formatCheckTable(results));
    const failed = results.filter((r) => !r.ok).length;
    console.log(`${results.length - failed} of ${results.length} databases answer SELECT 1 as their service user`);
    if (failed > 0) process.exitCode = 1;
}

if (require.main === module) {
    main().catch((error: unknown) => {
        console.error((error as Error).message);
        process.exitCode = 1;
    });
}
