// MariaDB service users through the real CLI on both local MariaDB servers: create, access, drift and its repair, secrets.
import * as fs from "node:fs";
import * as net from "node:net";
import * as mariadb from "mariadb";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MARIADB_DATABASE_TYPE } from "../../components/databases/mariadb/database";
import { nativePasswordHash } from "../../components/databases/mariadb/password";
import { MARIADB_SERVICE_USER_TYPE } from "../../components/databases/mariadb/user";
import { tlsClientOptions } from "../../components/databases/tls";
import { dropTestObjects, EXTERNAL_MARIADB_STANDIN, mariaQuery, PLESK_STANDIN, TEST_CA_FILE, type MariaDbTarget } from "../support/servers";
import { changingSteps, Workspace, type CliResult, type StackConfigMap } from "../support/workspace";
import { prefixDatabaseNames } from "../support/stack-config";

/** Test objects get their own names (mo_it3_*, svc_it3_*), so a local stack brought up by `npm start` is never touched. */
const PREFIX = "it3_";
const APP_HOST = "127.0.0.1";
/** Another loopback address: the servers see connections from it as coming from a host other than the app host. */
const OTHER_HOST = "127.0.0.2";

interface RawDatabases {
    servers: Record<string, { engine: string; databases: { name: string }[] }>;
}

/** Only the two MariaDB servers, with prefixed database names; services keep only databases that remain. */
function mariaDbOnly(config: StackConfigMap): void {
    prefixDatabaseNames(config, PREFIX, (server) => server.engine === "mariadb");
}

const SERVERS: Record<string, MariaDbTarget> = { plesk: PLESK_STANDIN, "mariadb-ext": EXTERNAL_MARIADB_STANDIN };
const DATABASES: Record<string, string[]> = { plesk: ["main", "votes"], "mariadb-ext": ["crm", "games"] };
const ALL = Object.entries(DATABASES).flatMap(([server, names]) => names.map((name) => ({ server, name, target: SERVERS[server]! })));

const db = (name: string): string => `mo_${PREFIX}${name}`;
const svc = (name: string): string => `svc_${PREFIX}${name}`;

/** SHOW GRANTS as the server prints it, with the password hash masked (the test compares structure, not hashes). */
async function showGrants(target: MariaDbTarget, name: string): Promise<string[]> {
    const rows = await mariaQuery<Record<string, string>>(target, `SHOW GRANTS FOR '${svc(name)}'@'${APP_HOST}'`);
    return rows.map((r) => (Object.values(r)[0] ?? "").replace(/PASSWORD '\*[0-9A-F]{40}'/, "PASSWORD '<hash>'")).sort();
}

function declaredGrants(name: string): string[] {
    const account = `\`${svc(name)}\`@\`${APP_HOST}\``;
    return [
        `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON \`${db(name).replace(/_/g, "\\_")}\`.* TO ${account}`,
        `GRANT USAGE ON *.* TO ${account} IDENTIFIED BY PASSWORD '<hash>' REQUIRE SSL`,
    ];
}

/**
 * Connects as a service user over TLS verified with the test CA (or without TLS), optionally from a
 * given local address; resolves to `SELECT 1` or rejects with the server's refusal.
 */
async function selectOneAs(target: MariaDbTarget, user: string, password: string, database: string, localAddress?: string, tls = true): Promise<number> {
    const conn = await mariadb.createConnection({
        host: target.host,
        port: target.port,
        user,
        password,
        database,
        connectTimeout: 5000,
        ssl: tls ? (tlsClientOptions(target.host, "verify-full", TEST_CA_FILE, (file) => fs.readFileSync(file, "utf8")) as mariadb.ConnectionConfig["ssl"]) : undefined,
        ...(localAddress ? { stream: () => net.connect({ host: target.host, port: target.port, localAddress }) } : {}),
    });
    try {
        const rows = (await conn.query("SELECT 1 AS one")) as { one: number }[];
        return Number(rows[0]?.one);
    } finally {
        await conn.end();
    }
}

/** The `(update)` block of one resource in `preview --diff` output: from its URN line to the next resource. */
function updateBlock(output: string, name: string): string {
    const lines = output.split("\n");
    const isHeader = (line: string): boolean => /^\s*[~+-]?\s*[\w-]+:[\w/:-]+:\s+\(/.test(line);
    const start = lines.findIndex((line, i) => /\(update\)/.test(line) && lines.slice(i + 1, i + 4).some((l) => l.includes(`::${name}]`)));
    if (start === -1) throw new Error(`no update of ${name} in:\n${output}`);
    const end = lines.findIndex((line, i) => i > start && (isHeader(line) || /^Resources:/.test(line)));
    return lines.slice(start, end === -1 ? undefined : end).join("\n");
}

async function refusal(promise: Promise<unknown>): Promise<{ errno?: number; message: string }> {
    try {
        await promise;
    } catch (error) {
        const e = error as { errno?: number; message: string };
        return { errno: e.errno, message: e.message };
    }
    throw new Error("expected the server to refuse the connection");
}

describe("MariaDB service users, real CLI", () => {
    let ws: Workspace;
    /** The declared passwords, by short name (read once with --show-secrets; that one output is not scanned). */
    const passwords = new Map<string, string>();
    /** Every other CLI output of this file, scanned for plaintext passwords at the end. */
    const outputs: string[] = [];
    const HAND_PASSWORD = "changed-by-hand-9f3b";

    async function cli(run: Promise<CliResult>): Promise<CliResult> {
        const result = await run;
        outputs.push(result.output);
        return result;
    }

    beforeAll(async () => {
        await dropTestObjects(PREFIX);
        ws = await Workspace.create("mariadb-users", { editConfig: mariaDbOnly });
        await ws.setLocalSecrets();
    });

    afterAll(async () => {
        // Users and databases are protected: unprotect, destroy (drops the users, retains the databases), then drop by hand.
        if (ws) {
            await ws.unprotectAndDestroy();
            ws.remove();
        }
        await dropTestObjects(PREFIX);
    });

    test("up from empty creates databases, users and grants on both servers; a second preview shows no changes", async () => {
        const preview = await ws.previewJson();
        const types = changingSteps(preview).map((s) => s.newState?.type);
        expect(types.filter((t) => t === MARIADB_DATABASE_TYPE)).toHaveLength(4);
        expect(types.filter((t) => t === MARIADB_SERVICE_USER_TYPE)).toHaveLength(4);

        await cli(ws.up());
        for (const [server, target] of Object.entries(SERVERS)) {
            const users = await mariaQuery<{ User: string; Host: string; ssl_type: string }>(
                target,
                "SELECT User, Host, ssl_type FROM mysql.user WHERE User LIKE ? ORDER BY User",
                [`svc\\_${PREFIX.replace("_", "\\_")}%`],
            );
            // Bound to the app host only, never '%'; the servers have TLS (the admin connects with verify-full), so it is required.
            expect(users).toEqual(DATABASES[server]!.map((name) => ({ User: svc(name), Host: APP_HOST, ssl_type: "ANY" })).sort((a, b) => (a.User < b.User ? -1 : 1)));
        }

        const again = await ws.previewJson();
        expect(changingSteps(again)).toEqual([]);

        const shown = (await ws.outputs(true)).databases as { database: string; password: string }[];
        for (const { name } of ALL) {
            const password = shown.find((d) => d.database === db(name))?.password;
            expect(password).toMatch(/^.{32}$/);
            passwords.set(name, password!);
        }
    });

    test("SHOW GRANTS is exactly the declared set", async () => {
        for (const { name, target } of ALL) expect(await showGrants(target, name)).toEqual(declaredGrants(name));
    });

    test("each service user can SELECT 1 on its own database and is refused on every other", async () => {
        for (const { name, target } of ALL) {
            expect(await selectOneAs(target, svc(name), passwords.get(name)!, db(name))).toBe(1);
            for (const other of ALL.filter((o) => o.name !== name)) {
                const refused = await refusal(selectOneAs(other.target, svc(name), passwords.get(name)!, db(other.name)));
                // Same server: the account exists but has no access there (1044); the other server has no such account (1045).
                expect(refused.errno, `${svc(name)} on ${db(other.name)}: ${refused.message}`).toBe(other.server === ALL.find((a) => a.name === name)!.server ? 1044 : 1045);
            }
        }
    });

    test("a connection from a host other than the app host is refused", async () => {
        for (const { name, target } of ALL) {
            // The same connection code from the app host's address works, so the refusal is about the address.
            expect(await selectOneAs(target, svc(name), passwords.get(name)!, db(name), APP_HOST)).toBe(1);
            const refused = await refusal(selectOneAs(target, svc(name), passwords.get(name)!, db(name), OTHER_HOST));
            expect(refused.message).toMatch(new RegExp(`Host '${OTHER_HOST.replace(/\./g, "\\.")}' is not allowed to connect|Access denied for user '${svc(name)}'@'${OTHER_HOST.replace(/\./g, "\\.")}'`));
        }
    });

    test("drift by hand (privilege revoked, privileges added, password changed, TLS no longer required) shows in preview --refresh; up repairs it", async () => {
        await mariaQuery(PLESK_STANDIN, `REVOKE INDEX ON \`${db("main").replace(/_/g, "\\_")}\`.* FROM '${svc("main")}'@'${APP_HOST}'`);
        await mariaQuery(EXTERNAL_MARIADB_STANDIN, `GRANT DROP ON \`${db("crm").replace(/_/g, "\\_")}\`.* TO '${svc("crm")}'@'${APP_HOST}'`);
        await mariaQuery(EXTERNAL_MARIADB_STANDIN, `GRANT PROCESS ON *.* TO '${svc("crm")}'@'${APP_HOST}'`);
        await mariaQuery(EXTERNAL_MARIADB_STANDIN, `GRANT SELECT ON \`${db("games")}\`.* TO '${svc("crm")}'@'${APP_HOST}'`);
        await mariaQuery(PLESK_STANDIN, `ALTER USER '${svc("votes")}'@'${APP_HOST}' IDENTIFIED BY ?`, [HAND_PASSWORD]);
        await mariaQuery(EXTERNAL_MARIADB_STANDIN, `ALTER USER '${svc("games")}'@'${APP_HOST}' REQUIRE NONE`);
        expect(await selectOneAs(PLESK_STANDIN, svc("votes"), HAND_PASSWORD, db("votes"))).toBe(1);

        // Without --refresh the state does not know: the preview is clean.
        expect(changingSteps(await ws.previewJson())).toEqual([]);

        const drift = await ws.previewJson(["--refresh"]);
        const updates = changingSteps(drift).filter((step) => step.op === "update" && step.newState?.type === MARIADB_SERVICE_USER_TYPE);
        const read = new Map(updates.map((step) => [step.urn.split("::").pop(), (step.oldState as { outputs?: Record<string, unknown> } | undefined)?.outputs ?? {}]));
        expect([...read.keys()].sort()).toEqual(["mariadb-ext-it3_crm-user", "mariadb-ext-it3_games-user", "plesk-it3_main-user", "plesk-it3_votes-user"]);
        // What the refresh read back is exactly what was done by hand.
        expect(read.get("plesk-it3_main-user")).toMatchObject({ privileges: ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "REFERENCES", "ALTER"], extraGrants: [] });
        expect(read.get("mariadb-ext-it3_crm-user")).toMatchObject({
            privileges: ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES", "INDEX", "ALTER"],
            extraGrants: ["PROCESS ON *.*", `SELECT ON \`${db("games")}\`.*`],
        });
        expect(read.get("plesk-it3_votes-user")).toMatchObject({ passwordState: "changed outside Pulumi", extraGrants: [] });
        expect(read.get("mariadb-ext-it3_games-user")).toMatchObject({ tls: "NONE", passwordState: "as declared" });
        // Nothing is replaced or deleted to repair drift, and the databases are untouched.
        expect(changingSteps(drift).filter((step) => step.op !== "update" && step.op !== "refresh")).toEqual([]);

        // The human-readable preview names each resource and the field that drifted.
        const shown = await cli(ws.preview(["--refresh"]));
        expect(updateBlock(shown.output, "plesk-it3_main-user")).toMatch(/~ privileges\s*:[\s\S]*"INDEX"/);
        expect(updateBlock(shown.output, "mariadb-ext-it3_crm-user")).toMatch(/~ extraGrants\s*: \[\s*- \[0\]: "PROCESS ON \*\.\*"/);
        expect(updateBlock(shown.output, "mariadb-ext-it3_crm-user")).toMatch(/~ privileges\s*:[\s\S]*"DROP" =>/);
        expect(updateBlock(shown.output, "plesk-it3_votes-user")).toMatch(/~ passwordState\s*: "changed outside Pulumi" => "as declared"/);
        expect(updateBlock(shown.output, "mariadb-ext-it3_games-user")).toMatch(/~ tls\s*: "NONE" => "SSL"/);

        const up = await cli(ws.up(["--refresh"]));
        expect(up.output).toMatch(/4 updated/);
        expect(up.output).not.toMatch(/created|replaced|deleted/);

        for (const { name, target } of ALL) expect(await showGrants(target, name)).toEqual(declaredGrants(name));
        expect(await selectOneAs(PLESK_STANDIN, svc("votes"), passwords.get("votes")!, db("votes"))).toBe(1);
        expect((await refusal(selectOneAs(PLESK_STANDIN, svc("votes"), HAND_PASSWORD, db("votes")))).errno).toBe(1045);
        expect(await mariaQuery(EXTERNAL_MARIADB_STANDIN, "SELECT ssl_type FROM mysql.user WHERE User = ?", [svc("games")])).toEqual([{ ssl_type: "ANY" }]);
        // Required again: the same login without TLS is refused.
        expect((await refusal(selectOneAs(EXTERNAL_MARIADB_STANDIN, svc("games"), passwords.get("games")!, db("games"), undefined, false))).errno).toBe(1045);
        expect(await selectOneAs(EXTERNAL_MARIADB_STANDIN, svc("games"), passwords.get("games")!, db("games"))).toBe(1);

        expect(changingSteps(await ws.previewJson(["--refresh"])).filter((s) => s.op !== "refresh")).toEqual([]);
    });

    test("a user dropped by hand is recreated with its grants by up --refresh", async () => {
        await mariaQuery(PLESK_STANDIN, `DROP USER '${svc("main")}'@'${APP_HOST}'`);
        const up = await cli(ws.up(["--refresh"]));
        expect(up.output).toMatch(/\+ pulumi-nodejs:dynamic\/databases:MariaDbServiceUser: \(create\)[^\n]*\n\s*\[urn=[^\]]*::plesk-it3_main-user\]/);
        expect(up.output).toMatch(/\+ 1 created/);
        expect(await showGrants(PLESK_STANDIN, "main")).toEqual(declaredGrants("main"));
        expect(await selectOneAs(PLESK_STANDIN, svc("main"), passwords.get("main")!, db("main"))).toBe(1);
    });

    test("removing a database from config is refused for its user too; the user still logs in", async () => {
        let removed: { name: string }[] = [];
        ws.editConfig((config) => {
            const plesk = (config["release-platform:databases"] as RawDatabases).servers["plesk"]!;
            removed = plesk.databases.filter((d) => d.name === `${PREFIX}votes`);
            plesk.databases = plesk.databases.filter((d) => d.name !== `${PREFIX}votes`);
        });
        try {
            const result = await cli(ws.preview([], { allowFailure: true }));
            expect(result.code).not.toBe(0);
            expect(result.output).toMatch(/plesk-it3_votes-user[\s\S]*protect|protect[\s\S]*plesk-it3_votes-user/);
        } finally {
            ws.editConfig((config) => (config["release-platform:databases"] as RawDatabases).servers["plesk"]!.databases.push(...removed));
        }
        expect(await selectOneAs(PLESK_STANDIN, svc("votes"), passwords.get("votes")!, db("votes"))).toBe(1);
    });

    test("an app host change is an update: the account moves to the new host with its grants, the old one is gone", async () => {
        const NEW_HOST = "127.0.0.3";
        ws.editConfig((config) => {
            (config["release-platform:databases"] as RawDatabases & { servers: Record<string, { appHost: string }> }).servers["mariadb-ext"]!.appHost = NEW_HOST;
        });
        const preview = await ws.previewJson();
        const steps = changingSteps(preview);
        expect(steps.map((step) => [step.op, step.urn.split("::").pop()]).sort()).toEqual([
            ["replace", "release-record"],
            ["update", "mariadb-ext-it3_crm-user"],
            ["update", "mariadb-ext-it3_games-user"],
            // The release gate follows the changed config; a new release record holds its fingerprint.
            ["update", "release-gate"],
        ]);

        const up = await cli(ws.up());
        // The two accounts and the release gate; the release record is replaced (the changed config's fingerprint).
        expect(up.output).toMatch(/3 updated/);
        expect(up.output).toMatch(/1 replaced/);
        expect(up.output).not.toMatch(/created|deleted/);
        for (const name of DATABASES["mariadb-ext"]!) {
            expect(await mariaQuery(EXTERNAL_MARIADB_STANDIN, "SELECT Host FROM mysql.user WHERE User = ?", [svc(name)])).toEqual([{ Host: NEW_HOST }]);
            const grants = await mariaQuery<Record<string, string>>(EXTERNAL_MARIADB_STANDIN, `SHOW GRANTS FOR '${svc(name)}'@'${NEW_HOST}'`);
            expect(grants.map((r) => Object.values(r)[0])).toContain(
                `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON \`${db(name).replace(/_/g, "\\_")}\`.* TO \`${svc(name)}\`@\`${NEW_HOST}\``,
            );
            expect(await selectOneAs(EXTERNAL_MARIADB_STANDIN, svc(name), passwords.get(name)!, db(name), NEW_HOST)).toBe(1);
            expect((await refusal(selectOneAs(EXTERNAL_MARIADB_STANDIN, svc(name), passwords.get(name)!, db(name), APP_HOST))).message).toMatch(/not allowed to connect|Access denied/);
        }
        expect(changingSteps(await ws.previewJson(["--refresh"])).filter((step) => step.op !== "refresh")).toEqual([]);
    });

    test("no plaintext password (nor its hash) in the exported state or any CLI output of this file", async () => {
        const state = await cli(ws.run(["stack", "export", ...ws.stackArgs()]));
        expect(passwords.size).toBe(4);
        const haystack = outputs.join("\n");
        for (const password of [...passwords.values(), HAND_PASSWORD]) {
            expect(state.stdout).not.toContain(password);
            expect(haystack).not.toContain(password);
            expect(haystack).not.toContain(nativePasswordHash(password));
        }
        expect(state.stdout).not.toMatch(/\*[0-9A-F]{40}/);
        // The service users' state entries carry the password only as a secret.
        // (also after the refreshes above, which rewrote both inputs and outputs from what the provider read).
        type StateResource = { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
        const deployment = JSON.parse(state.stdout) as { deployment: { resources: StateResource[] } };
        const users = deployment.deployment.resources.filter((r) => r.type === MARIADB_SERVICE_USER_TYPE);
        expect(users).toHaveLength(4);
        for (const user of users) {
            for (const field of [user.inputs?.password, user.outputs?.password, user.inputs?.connection, user.outputs?.connection]) {
                expect(field).toMatchObject({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: expect.any(String) });
            }
        }
    });
});
