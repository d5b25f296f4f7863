// PostgreSQL access through the real CLI: the managed pg_hba.conf block over SSH, TLS-only SCRAM logins per service user, no CONNECT for PUBLIC.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { pgHbaMarkers, pgHbaScript, renderPgHbaBlock } from "../../components/databases/postgres/hba";
import { PG_HBA_BLOCK_TYPE } from "../../components/databases/postgres/hba-block";
import { runShell } from "../../components/remote/transport";
import { OTHER_HOST_KEY } from "../support/keys";
import { dropTestObjects, LOCAL_SERVER_STATE, TEST_CA_FILE, pgQuery, removePgHbaBlock } from "../support/servers";
import { changingSteps, PROJECT_ROOT, RP_CACHE, Workspace, type CliResult, type PreviewStep, type StackConfigMap } from "../support/workspace";

/** Own names (mo_it4_*) and an own stack name, so its managed block never touches the local stack's. */
const PREFIX = "it4_";
const STACK = "pgaccess";
const SERVER = "postgres-ext";
const NAMES = ["idp", "grafana"].map((n) => PREFIX + n);
const [IDP, GRAFANA] = NAMES as [string, string];

interface RawServer {
    appHost: string;
    admin: { tls: Record<string, unknown> };
    databases: { name: string; description: string }[];
}

/** Only the PostgreSQL server, with two test databases, its admin verifying the server certificate. */
function postgresOnly(config: StackConfigMap): void {
    const databases = config["release-platform:databases"] as { servers: Record<string, RawServer> };
    const pg = databases.servers[SERVER]!;
    databases.servers = { [SERVER]: pg };
    pg.databases = NAMES.map((name) => ({ name, description: `test ${name}` }));
    pg.admin.tls = { mode: "verify-full", caFile: TEST_CA_FILE };
    const services = config["release-platform:services"] as Record<string, { databases?: string[] }>;
    for (const service of Object.values(services)) delete service.databases;
    services["api"]!.databases = [IDP];
}

function expectedBlock(appHost: string): string {
    return renderPgHbaBlock({ name: SERVER, appHost, databases: NAMES.map((n) => ({ database: `mo_${n}`, user: `svc_${n}` })) }, STACK);
}

const hbaFile = (): string => pgQuery("SHOW hba_file")[0]![0]!;

/** The block resource's fields that differ between what the state holds (after a refresh: what was read back) and what the program declares. */
function changedFields(step: PreviewStep): string[] {
    const olds = (step.oldState as { outputs?: Record<string, unknown> } | undefined)?.outputs ?? {};
    const news = (step.newState as { inputs?: Record<string, unknown> } | undefined)?.inputs ?? {};
    return ["block", "port", "server", "stack"].filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
}

/** The block id in this suite's markers in the file (the resource made it at create). */
function blockIds(): string[] {
    const marker = new RegExp(`^# BEGIN release-platform managed: stack ${STACK}, server ${SERVER}, block ([0-9a-f]+)$`, "gm");
    return [...fs.readFileSync(hbaFile(), "utf8").matchAll(marker)].map((m) => m[1]!);
}

/** pg_hba.conf with this suite's block ids taken out of its markers, to compare with what renderPgHbaBlock renders. */
const hbaWithoutIds = (): string =>
    fs.readFileSync(hbaFile(), "utf8").replace(new RegExp(`^(# (BEGIN|END) release-platform managed: stack ${STACK}, server ${SERVER}), block [0-9a-f]+$`, "gm"), "$1");
const confLoadTime = (): string => pgQuery("SELECT pg_conf_load_time()")[0]![0]!;

/** Runs a shell script as root on the local sshd, the way the command provider does, with `input` on stdin. */
function overSsh(script: string, input: string): { status: number | null; stdout: string; stderr: string } {
    const args = ["-p", "2222", "-i", path.join(RP_CACHE, "local-ssh", "id_ed25519"), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"];
    args.push("-o", `UserKnownHostsFile=${path.join(LOCAL_SERVER_STATE, "sshd", "known_hosts")}`, "-o", "StrictHostKeyChecking=yes");
    const r = spawnSync("ssh", [...args, "root@127.0.0.1", script], { input, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Connects as a user over TCP; resolves to the answer of `SELECT 1`, or the server's refusal message. */
async function connectAs(user: string, password: string, database: string, tls: boolean): Promise<string> {
    const client = new Client({
        host: "127.0.0.1",
        port: 5432,
        user,
        password,
        database,
        connectionTimeoutMillis: 10_000,
        ssl: tls ? { ca: fs.readFileSync(TEST_CA_FILE, "utf8") } : false,
    });
    try {
        await client.connect();
    } catch (error) {
        return `refused: ${(error as Error).message}`;
    }
    try {
        const ssl = await client.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        const one = await client.query<{ one: number }>("SELECT 1 AS one");
        return `SELECT 1 = ${one.rows[0]?.one} (tls ${ssl.rows[0]?.ssl})`;
    } finally {
        await client.end();
    }
}

describe("pg_hba.conf edits at the same moment (two stacks, or two updates, on one server)", () => {
    const stacks = Array.from({ length: 6 }, (_, i) => `pgconcurrent${i}`);
    afterAll(() => stacks.forEach((stack) => removePgHbaBlock(stack, SERVER)));

    test("six installs started together all keep their block, and six removals leave none: one edit at a time per file", async () => {
        const blockId = "0123456789ab";
        const edit = (action: "install" | "remove" | "read", stack: string) =>
            runShell(undefined, pgHbaScript(action, { stack, server: SERVER, port: 5432, blockId }), action === "install" ? blockOf(stack, blockId) : "");
        const installs = await Promise.all(stacks.map((stack) => edit("install", stack)));
        expect(installs.map((r) => r.code), installs.map((r) => r.stderr).join("\n")).toEqual(stacks.map(() => 0));
        const read = await Promise.all(stacks.map((stack) => edit("read", stack)));
        expect(read.map((r) => r.stdout)).toEqual(stacks.map((stack) => blockOf(stack, blockId)));
        const removals = await Promise.all(stacks.map((stack) => edit("remove", stack)));
        expect(removals.map((r) => r.code), removals.map((r) => r.stderr).join("\n")).toEqual(stacks.map(() => 0));
        expect((await Promise.all(stacks.map((stack) => edit("read", stack)))).map((r) => r.stdout)).toEqual(stacks.map(() => ""));
    });

    /** A block of one rule that loads (a database and user that need not exist), with its markers. */
    function blockOf(stack: string, blockId: string): string {
        const { begin, end } = pgHbaMarkers(stack, SERVER, blockId);
        return [begin, `hostssl mo_${stack} svc_${stack} 192.0.2.1/32 scram-sha-256`, end, ""].join("\n");
    }
});

describe("PostgreSQL access rules, real CLI, sshd and server", () => {
    let ws: Workspace;
    let original: string;
    let passwords: Record<string, string> = {};
    /** Every CLI result of this suite, checked for plaintext passwords at the end. */
    const outputs: CliResult[] = [];
    const cli = async (run: Promise<CliResult>): Promise<CliResult> => {
        const result = await run;
        outputs.push(result);
        return result;
    };

    beforeAll(async () => {
        await dropTestObjects(PREFIX);
        // A block left behind by an aborted run of this suite goes first.
        removePgHbaBlock(STACK, SERVER);
        original = fs.readFileSync(hbaFile(), "utf8");
        ws = await Workspace.create("pgaccess", { stack: STACK, stackConfig: path.join(PROJECT_ROOT, "Pulumi.local.yaml"), editConfig: postgresOnly });
        await ws.setLocalSecrets();
    });

    afterAll(async () => {
        if (ws) {
            await ws.unprotectAndDestroy();
            ws.remove();
        }
        // Leave pg_hba.conf as found even if a destroy stopped early: take out this suite's block only.
        removePgHbaBlock(STACK, SERVER);
        await dropTestObjects(PREFIX);
    });

    test("up installs the managed block above every other rule, and the server loads it", async () => {
        expect(original).not.toContain("release-platform managed: stack pgaccess");
        const before = confLoadTime();
        await cli(ws.up());

        // The block first (its markers carry the resource's block id), the file as it was below it.
        expect(blockIds()).toHaveLength(1);
        expect(hbaWithoutIds()).toBe(expectedBlock("127.0.0.1") + original);
        expect(confLoadTime()).not.toBe(before);
        expect(pgQuery("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")).toEqual([["0"]]);
        const rules = pgQuery(
            "SELECT type, array_to_string(database, ','), array_to_string(user_name, ','), coalesce(address, ''), coalesce(netmask, ''), auth_method FROM pg_hba_file_rules ORDER BY line_number LIMIT 10",
        );
        const reject = (type: string, db: string, user: string, address = "all") => [type, db, user, type === "local" ? "" : address, "", "reject"];
        expect(rules).toEqual([
            ["hostssl", `mo_${IDP}`, `svc_${IDP}`, "127.0.0.1", "255.255.255.255", "scram-sha-256"],
            ["hostssl", `mo_${GRAFANA}`, `svc_${GRAFANA}`, "127.0.0.1", "255.255.255.255", "scram-sha-256"],
            ...[IDP, GRAFANA].flatMap((n) => [
                reject("host", "all", `svc_${n}`),
                reject("host", "replication", `svc_${n}`),
                reject("local", "all", `svc_${n}`),
                reject("local", "replication", `svc_${n}`),
            ]),
        ]);
        // Roles hold SCRAM verifiers (the server's password_encryption), databases are owned by them.
        expect(pgQuery(`SELECT rolname, rolpassword ~ '^SCRAM-SHA-256\\$' FROM pg_authid WHERE rolname LIKE 'svc_${PREFIX}%' ORDER BY 1`)).toEqual([
            [`svc_${GRAFANA}`, "t"],
            [`svc_${IDP}`, "t"],
        ]);
        expect(pgQuery(`SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'mo_${PREFIX}%' ORDER BY 1`)).toEqual([
            [`mo_${GRAFANA}`, `svc_${GRAFANA}`],
            [`mo_${IDP}`, `svc_${IDP}`],
        ]);
    });

    test("a second preview shows no changes, and up neither rewrites nor reloads", async () => {
        const file = hbaFile();
        const mtime = fs.statSync(file).mtimeMs;
        const loaded = confLoadTime();
        expect(changingSteps(await ws.previewJson())).toEqual([]);
        const up = await cli(ws.up());
        expect(up.output).not.toMatch(/created|updated|replaced|deleted/);
        expect(fs.statSync(file).mtimeMs).toBe(mtime);
        expect(confLoadTime()).toBe(loaded);
    });

    test("a service user gets in with TLS and its password on its own database only", async () => {
        const shown = (await ws.outputs(true)).databases as { database: string; user: string; password: string }[];
        passwords = Object.fromEntries(shown.map((d) => [d.user, d.password]));
        const idp = passwords[`svc_${IDP}`]!;
        expect(await connectAs(`svc_${IDP}`, idp, `mo_${IDP}`, true)).toBe("SELECT 1 = 1 (tls true)");
        expect(await connectAs(`svc_${GRAFANA}`, passwords[`svc_${GRAFANA}`]!, `mo_${GRAFANA}`, true)).toBe("SELECT 1 = 1 (tls true)");

        const rejected = (db: string, tls: "SSL encryption" | "no encryption") =>
            `refused: pg_hba.conf rejects connection for host "127.0.0.1", user "svc_${IDP}", database "${db}", ${tls}`;
        expect(await connectAs(`svc_${IDP}`, idp, `mo_${GRAFANA}`, true)).toBe(rejected(`mo_${GRAFANA}`, "SSL encryption"));
        expect(await connectAs(`svc_${IDP}`, idp, "postgres", true)).toBe(rejected("postgres", "SSL encryption"));
        expect(await connectAs(`svc_${IDP}`, idp, `mo_${IDP}`, false)).toBe(rejected(`mo_${IDP}`, "no encryption"));
        expect(await connectAs(`svc_${IDP}`, `${idp}x`, `mo_${IDP}`, true)).toBe(`refused: password authentication failed for user "svc_${IDP}"`);
    });

    test("PUBLIC has no CONNECT: a role the rules let through is stopped by the database", async () => {
        for (const name of NAMES) {
            const acl = pgQuery(
                `SELECT coalesce(string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' || a.privilege_type, ',' ORDER BY 1), '') FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = 'mo_${name}'`,
            );
            expect(acl[0]![0]!.split(",").filter((e) => e.startsWith("PUBLIC:"))).toEqual([]);
            expect(pgQuery(`SELECT has_database_privilege('public', 'mo_${name}', 'CONNECT')`)).toEqual([["f"]]);
        }
        // svc_it4_probe is no service user of the block: pg_hba's base rules let it in with a password,
        // and only the missing CONNECT privilege keeps it out of the service database.
        const probe = `svc_${PREFIX}probe`;
        const probePassword = `probe-${Date.now()}`;
        pgQuery(`CREATE ROLE ${probe} LOGIN PASSWORD '${probePassword}'`);
        expect(await connectAs(probe, probePassword, "postgres", true)).toBe("SELECT 1 = 1 (tls true)");
        expect(await connectAs(probe, probePassword, `mo_${IDP}`, true)).toMatch(/^refused: permission denied for database "mo_it4_idp"/);
    });

    test("a change of the rules updates the block in place; a block the server cannot load is refused and the file stays", async () => {
        ws.editConfig((config) => {
            (config["release-platform:databases"] as { servers: Record<string, RawServer> }).servers[SERVER]!.appHost = "127.0.0.2";
        });
        const preview = await ws.previewJson();
        // The block is updated in place; the release gate and record follow the changed config (its release fingerprint).
        expect(changingSteps(preview).map((s) => [s.op, s.urn.split("::").at(-1), changedFields(s)]).sort()).toEqual([
            ["replace", "release-record", []],
            ["update", `${SERVER}-pg-hba`, ["block"]],
            ["update", "release-gate", []],
        ]);
        const id = blockIds();
        await cli(ws.up());
        expect(hbaWithoutIds()).toBe(expectedBlock("127.0.0.2") + original);
        expect(blockIds()).toEqual(id);
        expect(await connectAs(`svc_${IDP}`, passwords[`svc_${IDP}`]!, `mo_${IDP}`, true)).toMatch(/^refused: pg_hba.conf rejects connection/);

        ws.editConfig((config) => {
            (config["release-platform:databases"] as { servers: Record<string, RawServer> }).servers[SERVER]!.appHost = "127.0.0.1";
        });
        await cli(ws.up());
        const installed = fs.readFileSync(hbaFile(), "utf8");
        expect(hbaWithoutIds()).toBe(expectedBlock("127.0.0.1") + original);
        const [blockId] = blockIds();
        const scriptArgs = { stack: STACK, server: SERVER, port: 5432, blockId: blockId! };
        const ownMarkers = pgHbaMarkers(STACK, SERVER, blockId);
        const asInstalled = installed.slice(0, installed.indexOf(ownMarkers.end) + ownMarkers.end.length + 1);

        // The same script run by the postgres OS user itself (an SSH user that is not root) finds nothing to do.
        const asPostgres = spawnSync("runuser", ["-u", "postgres", "--", "sh", "-c", pgHbaScript("install", scriptArgs)], {
            input: asInstalled,
            encoding: "utf8",
        });
        expect([asPostgres.status, asPostgres.stdout.trim()]).toEqual([0, `${hbaFile()}: nothing to install, not rewritten or reloaded`]);

        // The same install script, fed a line PostgreSQL cannot parse: validation fails, the file is put back, no reload.
        const loaded = confLoadTime();
        const broken = [ownMarkers.begin, "hostssl mo_x svc_x 127.0.0.1/32 no-such-method", ownMarkers.end, ""].join("\n");
        const result = overSsh(pgHbaScript("install", scriptArgs), broken);
        expect(result.status).not.toBe(0);
        expect(result.stderr).toMatch(/the new rules do not load, the previous file is back in place:\n2: invalid authentication method "no-such-method"/);
        expect(fs.readFileSync(hbaFile(), "utf8")).toBe(installed);
        expect(fs.readdirSync(path.dirname(hbaFile())).filter((f) => f.includes(".rp-"))).toEqual([]);
        expect(confLoadTime()).toBe(loaded);
        expect(await connectAs(`svc_${IDP}`, passwords[`svc_${IDP}`]!, `mo_${IDP}`, true)).toBe("SELECT 1 = 1 (tls true)");
    });

    test("no plaintext password or SSH key in the exported state or any CLI output", async () => {
        const state = await cli(ws.run(["stack", "export", ...ws.stackArgs()]));
        const hidden = await cli(ws.run(["stack", "output", "--json", ...ws.stackArgs()]));
        expect(Object.keys(passwords)).toHaveLength(2);
        const key = fs.readFileSync(path.join(RP_CACHE, "local-ssh", "id_ed25519"), "utf8");
        const keyBody = key.split("\n")[1]!;
        for (const result of [...outputs, state, hidden]) {
            // Booleans, so a failure never prints the secret itself.
            for (const password of Object.values(passwords)) expect(result.output.includes(password), "a password in CLI output").toBe(false);
            expect(result.output.includes(keyBody), "the SSH key in CLI output").toBe(false);
        }
        expect(state.stdout).toMatch(/"secure":|"ciphertext":/);
    });

    test("a block edited or deleted by hand shows in preview --refresh, and up --refresh writes it back", async () => {
        const declared = hbaWithoutIds();
        const file = hbaFile();
        // A hand edit: the service user's line loosened to md5.
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(`hostssl mo_${IDP} svc_${IDP} 127.0.0.1/32 scram-sha-256`, `hostssl mo_${IDP} svc_${IDP} 127.0.0.1/32 md5`));
        expect(changingSteps(await ws.previewJson())).toEqual([]); // the state does not know yet
        const drift = changingSteps(await ws.previewJson(["--refresh"])).filter((s) => s.op !== "refresh");
        expect(drift.map((s) => [s.op, s.urn.split("::").at(-1), changedFields(s)])).toEqual([["update", `${SERVER}-pg-hba`, ["block"]]]);
        await cli(ws.up(["--refresh"]));
        expect(hbaWithoutIds()).toBe(declared);

        // The block deleted by hand (a TLS-only user could then fall through to the base rules).
        const ids = blockIds();
        fs.writeFileSync(file, original);
        pgQuery("SELECT pg_reload_conf()");
        expect(await connectAs(`svc_${IDP}`, passwords[`svc_${IDP}`]!, `mo_${IDP}`, false)).toBe("SELECT 1 = 1 (tls false)");
        const gone = changingSteps(await ws.previewJson(["--refresh"])).filter((s) => s.op !== "refresh");
        expect(gone.map((s) => [s.op, s.urn.split("::").at(-1)])).toEqual([["update", `${SERVER}-pg-hba`]]);
        await cli(ws.up(["--refresh"]));
        expect(hbaWithoutIds()).toBe(declared);
        expect(blockIds()).toEqual(ids);
        expect(await connectAs(`svc_${IDP}`, passwords[`svc_${IDP}`]!, `mo_${IDP}`, false)).toMatch(/^refused: pg_hba.conf rejects connection/);
    });

    test("up --replace of the block ends with exactly one block: the old resource's delete removes only its own id", async () => {
        const declared = hbaWithoutIds();
        const [before] = blockIds();
        const urn = await hbaUrn();
        await cli(ws.up(["--replace", urn]));
        const after = blockIds();
        expect(after).toHaveLength(1);
        expect(after[0]).not.toBe(before);
        expect(hbaWithoutIds()).toBe(declared);
        expect(await connectAs(`svc_${IDP}`, passwords[`svc_${IDP}`]!, `mo_${IDP}`, false)).toMatch(/^refused: pg_hba.conf rejects connection/);
    });

    test("a host that presents another host key than the pinned one gets no script: up fails before the file is touched", async () => {
        const before = fs.readFileSync(hbaFile(), "utf8");
        const pinned = fs.readFileSync(ws.configFile, "utf8");
        ws.editConfig((config) => {
            const server = (config["release-platform:databases"] as { servers: Record<string, { appHost: string; ssh: { hostKey: string } }> }).servers[SERVER]!;
            server.ssh.hostKey = OTHER_HOST_KEY;
            server.appHost = "127.0.0.3";
        });
        const failed = await ws.run(["up", "--yes", "--skip-preview", ...ws.stackArgs()], { allowFailure: true });
        expect(failed.code, failed.output).not.toBe(0);
        expect(failed.output).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
        expect(fs.readFileSync(hbaFile(), "utf8")).toBe(before);
        fs.writeFileSync(ws.configFile, pinned);
    });

    async function hbaUrn(): Promise<string> {
        const state = JSON.parse((await ws.exportedState()).toString()) as { deployment: { resources: { urn: string }[] } };
        const urns = state.deployment.resources.map((r) => r.urn).filter((urn) => urn.endsWith(`${PG_HBA_BLOCK_TYPE}::${SERVER}-pg-hba`));
        expect(urns).toHaveLength(1);
        return urns[0]!;
    }

    test("deleting the rules takes the block out and leaves pg_hba.conf as it was", async () => {
        // Only the pg_hba block and what depends on it (the roles and databases, unprotected and retained
        // on delete): the other parts of the stack have guards of their own.
        const urn = await hbaUrn();
        await ws.run(["state", "unprotect", "--all", "--yes", ...ws.stackArgs()]);
        const destroy = await cli(ws.run(["destroy", "--yes", "--skip-preview", "--target", urn, "--target-dependents", ...ws.stackArgs()]));
        expect(destroy.output).toMatch(/postgres-ext-pg-hba deleted/);
        expect(fs.readFileSync(hbaFile(), "utf8")).toBe(original);
        expect(pgQuery("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")).toEqual([["0"]]);
    });
});
