// The local stack through the real CLI, language host and plugins: preview, up, re-up, bad config, secrets.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MARIADB_DATABASE_TYPE } from "../../components/databases/mariadb/database";
import { releaseEvidenceSchema, type ReleaseEvidence } from "../../components/release/evidence";
import { RELEASE_GATE_TYPE, type ReleaseGateInputs } from "../../components/release/gate-inputs";
import { dropTestObjects, EXTERNAL_MARIADB_STANDIN, mariaDatabases, pgQuery, PLESK_STANDIN } from "../support/servers";
import { freshReleaseSite, isolateRelease, localRelease, tearDownLocalStack } from "../support/release-env";
import { changingSteps, compiledScript, PROJECT_ROOT, Workspace, type PreviewStep, LOCAL_POLICY_PACK } from "../support/workspace";
import { prefixDatabaseNames } from "../support/stack-config";

/** Test databases get their own names (mo_it1_*), so a local stack brought up by `npm start` is never touched. */
const PREFIX = "it1_";
const STACK = "itlocal";
const COMMIT = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";

/**
 * `npm run evidence` for the workspace's stack, as `npm start` runs it for the local one: offline
 * (an empty inputs folder), the backups from the stack's own `backups` output through the CLI.
 */
function collectEvidence(ws: Workspace): ReleaseEvidence {
    const inputs = path.join(ws.dir, ".release-evidence", "inputs");
    fs.mkdirSync(inputs, { recursive: true });
    const env = Object.fromEntries(Object.entries(ws.env).filter(([key]) => !key.startsWith("GITHUB_")));
    const result = spawnSync(process.execPath, [compiledScript("evidence"), "--stack", ws.stack, "--config-file", ws.configFile, "--inputs", inputs, "--commit", COMMIT], {
        cwd: ws.dir,
        env,
        encoding: "utf8",
    });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    return releaseEvidenceSchema.parse(JSON.parse(fs.readFileSync(path.join(ws.dir, ".release-evidence", `${ws.stack}.json`), "utf8")));
}

const gateStep = (preview: { steps: PreviewStep[] }) => preview.steps.find((s) => (s.newState ?? s.oldState)?.type === RELEASE_GATE_TYPE);

interface RawServer {
    databases: { name: string; description?: string }[];
}
interface RawDatabases {
    servers: Record<string, RawServer>;
}

describe("local stack, real CLI", () => {
    let ws: Workspace;
    let releaseSite: { runDir: string; portBase: number } | undefined;

    beforeAll(async () => {
        await dropTestObjects(PREFIX);
        // The release gets its own HAProxy, nginx and app processes (run dir and ports), like the databases their prefix.
        const site = await freshReleaseSite("it-local-stack");
        releaseSite = site;
        // Its own stack name: the pg_hba block is named after the stack, and a `npm start` stack called
        // `local` on the same machine must keep its block when this test cleans up.
        ws = await Workspace.create("local", { stack: STACK, stackConfig: path.join(PROJECT_ROOT, "Pulumi.local.yaml"), editConfig: (config) => (prefixDatabaseNames(config, PREFIX), isolateRelease(config, site.runDir, site.portBase)) });
        await ws.setLocalSecrets();
        localRelease(ws.configFile, "start");
    });

    afterAll(async () => {
        // Platform databases are protected and retained on delete: unprotect, forget, then drop by hand.
        await tearDownLocalStack(ws, releaseSite, STACK, PREFIX);
    });

    test("preview of an empty stack plans the databases and touches nothing", async () => {
        // The evidence of a stack never deployed: no backups yet.
        const evidence = collectEvidence(ws);
        expect(evidence.backups.map((b) => [b.database, b.time])).toEqual(
            ["crm", "games", "main", "votes", "idp"].map((n) => [`mo_${PREFIX}${n}`, null]),
        );
        const preview = await ws.previewJson();
        const creates = changingSteps(preview).filter((s) => s.op === "create");
        const types = creates.map((s) => s.newState?.type);
        expect(types.filter((t) => t === MARIADB_DATABASE_TYPE)).toHaveLength(4);
        expect(types.filter((t) => t === "postgresql:index/database:Database")).toHaveLength(1);
        expect(types.filter((t) => t === "postgresql:index/role:Role")).toHaveLength(1);
        expect(types.filter((t) => t === "postgresql:index/grant:Grant")).toHaveLength(1); // PUBLIC's CONNECT revoked
        expect(creates.filter((s) => s.urn.endsWith("databases:PgHbaBlock::postgres-ext-pg-hba"))).toHaveLength(1); // the pg_hba.conf block
        expect(types.filter((t) => t === "random:index/randomPassword:RandomPassword")).toHaveLength(5);
        expect(types.filter((t) => t === RELEASE_GATE_TYPE)).toHaveLength(1);
        // The gate's inputs are all known at preview (the policies read them then): no unknown marker anywhere.
        const gate = gateStep(preview)?.newState?.inputs as unknown as ReleaseGateInputs;
        expect(JSON.stringify(gate)).not.toContain(pulumi.runtime.unknownValue);
        expect(gate).toMatchObject({
            stack: STACK,
            environment: "local",
            evidenceFile: `.release-evidence/${STACK}.json`,
            evidence: { stack: STACK, commit: { sha: COMMIT }, ci: { state: "unknown", source: "none" } },
            release: { deployed: null, services: { api: { blue: "1.0.0", green: "1.0.0", weights: { blue: 100, green: 0 } } } },
            cluster: { deployed: null },
        });
        expect(await mariaDatabases(PLESK_STANDIN, `mo_${PREFIX}%`)).toEqual([]);
        expect(pgQuery(`SELECT datname FROM pg_database WHERE datname LIKE 'mo_${PREFIX}%'`)).toEqual([]);
    });

    test("up creates the databases on the real servers", async () => {
        // From the TypeScript sources: the next test's up runs the compiled program (dist/) and must find nothing to change.
        ws.runFromSources(true);
        const result = await ws.up().finally(() => ws.runFromSources(false));
        expect(result.output).toMatch(/\+ \d+ created/); // what is created is counted per type in the preview test
        expect(await mariaDatabases(PLESK_STANDIN, `mo_${PREFIX}%`)).toEqual([
            { name: `mo_${PREFIX}main`, charset: "utf8mb4", collation: "utf8mb4_unicode_ci" },
            { name: `mo_${PREFIX}votes`, charset: "utf8mb4", collation: "utf8mb4_unicode_ci" },
        ]);
        expect((await mariaDatabases(EXTERNAL_MARIADB_STANDIN, `mo_${PREFIX}%`)).map((d) => d.name)).toEqual([`mo_${PREFIX}crm`, `mo_${PREFIX}games`]);
        expect(pgQuery(`SELECT datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database WHERE datname LIKE 'mo_${PREFIX}%'`)).toEqual([
            [`mo_${PREFIX}idp`, `svc_${PREFIX}idp`, "UTF8"],
        ]);
    });

    test("a second up, of the compiled program, changes nothing, with the evidence collected again (as npm start does)", async () => {
        // The first up took backups of api's databases: the new evidence has them, and the gate sees it
        // (its inputs), yet records no change: backup times and ages, like the collection time, are volatile.
        const evidence = collectEvidence(ws);
        const backedUp = evidence.backups.filter((b) => b.time !== null).map((b) => b.database);
        expect(backedUp.sort()).toEqual([`mo_${PREFIX}idp`, `mo_${PREFIX}main`]);
        // --show-sames: the JSON lists unchanged resources too, with their inputs.
        const preview = await ws.previewJson(["--show-sames"]);
        expect(changingSteps(preview)).toEqual([]);
        const gate = gateStep(preview);
        expect(gate?.op).toBe("same");
        const inputs = gate?.newState?.inputs as unknown as ReleaseGateInputs;
        expect(inputs.evidence?.collectedAt).toBe(evidence.collectedAt);
        expect(inputs.release.deployed).toEqual(inputs.release.services);
        expect(JSON.stringify(inputs)).not.toContain(pulumi.runtime.unknownValue);
        const result = await ws.up();
        expect(result.output).toMatch(/\d+ unchanged/);
        expect(result.output).not.toMatch(/created|updated|replaced|deleted/);
    });

    test("the stack output releaseGate names the evidence the last up was gated on", async () => {
        const evidence = releaseEvidenceSchema.parse(JSON.parse(fs.readFileSync(path.join(ws.dir, ".release-evidence", `${STACK}.json`), "utf8")));
        expect((await ws.outputs()).releaseGate).toMatchObject({ evidenceFile: `.release-evidence/${STACK}.json`, evidenceCollectedAt: evidence.collectedAt });
    });

    test("stack outputs list each database; passwords are secrets and nowhere in the state or CLI output", async () => {
        const shown = (await ws.outputs(true)).databases as { database: string; user: string; password: string }[];
        expect(shown.map((d) => d.database).sort()).toEqual(["crm", "games", "idp", "main", "votes"].map((n) => `mo_${PREFIX}${n}`));
        for (const db of shown) expect(db.password).toMatch(/^[A-Za-z0-9!#%&*()\-_=+[\]{}<>:?]{32}$/);

        const hidden = await ws.run(["stack", "output", "--json", ...ws.stackArgs()]);
        const state = await ws.exportedState();
        const up = await ws.up();
        for (const db of shown) {
            expect(hidden.stdout).not.toContain(db.password);
            expect(state).not.toContain(db.password);
            expect(up.output).not.toContain(db.password);
        }
        expect(state).not.toContain("OPENSSH PRIVATE KEY");
    });

    test("removing a database from config is refused: it is protected", async () => {
        let removed: RawServer["databases"] = [];
        ws.editConfig((config) => {
            const plesk = (config["release-platform:databases"] as RawDatabases).servers["plesk"]!;
            removed = plesk.databases.filter((d) => d.name === `${PREFIX}votes`);
            plesk.databases = plesk.databases.filter((d) => d.name !== `${PREFIX}votes`);
        });
        const result = await ws.preview([], { allowFailure: true });
        expect(result.code).not.toBe(0);
        expect(result.output).toMatch(/plesk-it1_votes.*cannot be deleted|cannot be deleted.*plesk-it1_votes|protected/s);
        ws.editConfig((config) => {
            const databases = config["release-platform:databases"] as RawDatabases;
            databases.servers["plesk"]!.databases.push(...removed);
        });
        expect((await mariaDatabases(PLESK_STANDIN, `mo_${PREFIX}votes`)).length).toBe(1);
    });

    test("the policy pack loads and runs with a preview", async () => {
        const result = await ws.preview(LOCAL_POLICY_PACK);
        expect(result.output).toMatch(/release-platform/);
        expect(result.output).toMatch(/Policies:|policy pack|Policy Packs run/i);
    });
});

describe("a config with mistakes, real CLI", () => {
    test("fails with one line per mistake, each naming its path, and touches nothing", async () => {
        await dropTestObjects("it2_");
        const ws = await Workspace.create("badconfig", {
            editConfig: (config) => {
                const databases = config["release-platform:databases"] as RawDatabases & Record<string, unknown>;
                const plesk = databases.servers["plesk"]!;
                plesk.databases = ["main", "votes", "support", "newsletter", "forum", "extra"].map((n) => ({ name: `it2_${n}`, description: n }));
                databases["colour"] = "blue"; // unknown key
                const cluster = config["release-platform:cluster"] as { containers: { vmId: number }[] };
                cluster.containers[1]!.vmId = cluster.containers[0]!.vmId; // duplicate CT-ID
                const services = config["release-platform:services"] as Record<string, { weights: unknown; dependsOn?: string[]; databases?: string[] }>;
                services["api"]!.weights = { blue: 60, green: 60 };
                services["api"]!.dependsOn = ["frontend"]; // frontend already depends on api
                services["api"]!.databases = ["it2_main"];
            },
        });
        try {
            await ws.setLocalSecrets().catch(() => undefined); // the config is invalid; secrets do not matter
            const result = await ws.preview([], { allowFailure: true });
            expect(result.code).not.toBe(0);
            const lines = result.output.split("\n").filter((l) => l.includes("release-platform:") && /: /.test(l));
            const expected = [
                /release-platform:databases(\.colour)?.*(unknown|unrecognized).*colour|release-platform:databases\.colour/,
                /release-platform:cluster\.containers\[1\]\.vmId: .*(duplicate|unique|already)/i,
                /release-platform:databases\.servers\.plesk\.databases\[5\]: .*at most 5/,
                /release-platform:services\.api\.weights: .*100/,
                /release-platform:services\.(api|frontend)\.dependsOn: dependency cycle (api -> frontend -> api|frontend -> api -> frontend)/,
            ];
            for (const pattern of expected) expect(lines.some((l) => pattern.test(l)), `${pattern} in:\n${lines.join("\n")}`).toBe(true);
            // Only the stack's own root is ever registered: the program stops before any resource.
            expect(result.output).not.toMatch(/MariaDbDatabase|postgresql:index|random:index|platform:(index|databases):/);
            expect(await mariaDatabases(PLESK_STANDIN, "mo_it2_%")).toEqual([]);
        } finally {
            ws.remove();
        }
    });
});
