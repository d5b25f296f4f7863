// `npm run evidence` end to end on files: the script spawned as npm runs it, its JSON checked against the schema.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { releaseEvidenceSchema } from "../../components/release/evidence";
import { compiledScript } from "../support/workspace";

const ROOT = path.resolve(__dirname, "..", "..");
const SHA = "fedcba9876543210fedcba9876543210fedcba98";
const TOKEN = "ghp_secret-token-must-not-leak";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-evidence-cli-"));
    dirs.push(dir);
    return dir;
}

/** The environment without anything of a CI run (GITHUB_*), so the files are the only source unless a test adds one. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("GITHUB_") && !key.startsWith("RELEASE_")));
    return { ...env, ...extra };
}

function evidenceCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
    const result = spawnSync(process.execPath, [compiledScript("evidence"), ...args], { cwd: ROOT, env, encoding: "utf8", timeout: 60_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run evidence, on files", () => {
    test("the local stack: every database's latest backup, the inputs, staging from a file; one summary line per gate input", () => {
        const dir = tempDir();
        const inputs = path.join(dir, "inputs");
        fs.mkdirSync(inputs);
        fs.writeFileSync(path.join(inputs, "check-runs.json"), JSON.stringify({ total_count: 1, check_runs: [{ name: "npm test", status: "completed", conclusion: "success" }] }));
        fs.writeFileSync(path.join(inputs, "reviews.json"), JSON.stringify([{ user: { login: "alice" }, state: "APPROVED", submitted_at: "2026-03-02T08:00:00Z" }]));
        fs.writeFileSync(path.join(inputs, "coverage-summary.json"), JSON.stringify({ total: { lines: { total: 10, covered: 9, pct: 90 } } }));
        const backups = path.join(dir, "backups.json");
        const record = (server: string, database: string, time: string) => ({ server, engine: "mariadb", database, service: "api", version: "1.1.0", file: `/b/${database}-${time}.sql`, time, bytes: 10, sha256: "0".repeat(64) });
        fs.writeFileSync(
            backups,
            JSON.stringify([record("plesk", "mo_main", "2026-03-01T10:00:00Z"), record("plesk", "mo_main", "2026-03-02T06:00:00Z"), record("postgres-ext", "mo_idp", "2026-03-02T09:00:00Z")]),
        );
        const staging = path.join(dir, "staging.json");
        fs.writeFileSync(
            staging,
            JSON.stringify({ api: { backend: "haproxy", blue: { version: "1.0.0", address: "10.0.0.1:3000", weight: 0 }, green: { version: "1.1.0", address: "10.0.0.1:3001", weight: 100 } } }),
        );
        const out = path.join(dir, "out", "local.json");
        // The local config with a backup location of its own, where the backup job recorded mo_games.
        const location = path.join(dir, "backups");
        fs.mkdirSync(location);
        const config = path.join(dir, "Pulumi.local.yaml");
        fs.writeFileSync(config, fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8").replace("location: /tmp/release-platform/backups", `location: ${location}`));
        fs.writeFileSync(path.join(location, "backup-records.json"), JSON.stringify([{ ...record("mariadb-ext", "mo_games", "2026-03-02T11:00:00Z"), service: "scheduled", version: "scheduled" }]));

        const result = evidenceCli([
            "--stack", "local",
            "--config-file", config,
            "--inputs", inputs,
            "--backups-file", backups,
            "--staging-file", staging,
            "--pr", "12",
            "--now", "2026-03-02T12:00:00Z",
            "--commit", SHA,
            "--out", out,
        ], cleanEnv({ GITHUB_TOKEN: TOKEN })); // an explicit --inputs wins over a token
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);

        const evidence = releaseEvidenceSchema.parse(JSON.parse(fs.readFileSync(out, "utf8")));
        expect(evidence).toMatchObject({
            format: 1,
            stack: "local",
            collectedAt: "2026-03-02T12:00:00.000Z",
            commit: { sha: SHA },
            ci: { state: "success", source: "file", checks: [{ name: "npm test", state: "success" }], coveragePercent: 90 },
            alerts: { source: "none", openHighCritical: 0, items: [] },
            reviews: { source: "file", pullRequest: 12, approvals: 1, approvers: ["alice"] },
            staging: { stack: "staging", source: "file", services: { api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 0, green: 100 } } } },
        });
        // Every database of the local config, in its order; the releases' and the backup job's records together; none of the others has a backup.
        expect(evidence.backups).toEqual([
            { server: "mariadb-ext", database: "mo_crm", time: null, ageHours: null },
            { server: "mariadb-ext", database: "mo_games", time: "2026-03-02T11:00:00Z", ageHours: 1, file: "/b/mo_games-2026-03-02T11:00:00Z.sql" },
            { server: "plesk", database: "mo_main", time: "2026-03-02T06:00:00Z", ageHours: 6, file: "/b/mo_main-2026-03-02T06:00:00Z.sql" },
            { server: "plesk", database: "mo_votes", time: null, ageHours: null },
            { server: "postgres-ext", database: "mo_idp", time: "2026-03-02T09:00:00Z", ageHours: 3, file: "/b/mo_idp-2026-03-02T09:00:00Z.sql" },
        ]);

        const lines = result.stdout.trim().split("\n");
        expect(lines[0]).toBe(`release evidence for local (from files in ${inputs}) written to ${path.relative(ROOT, out)}`);
        expect(lines.slice(1, 9).map((l) => l.trim().split(/\s+/)[0])).toEqual(["commit", "ci", "alerts", "reviews", "backups", "staging", "run", "collected"]);
        expect(result.stdout).toContain("backups    3 of 5 databases backed up, oldest plesk/mo_main 6.0 h; none for mariadb-ext/mo_crm, plesk/mo_votes");
        expect(result.stdout).toContain("note: ");
        expect(result.stdout + fs.readFileSync(out, "utf8")).not.toContain(TOKEN);
    });

    test("the local stack without staging: staging null, no pulumi call needed", () => {
        const dir = tempDir();
        const backups = path.join(dir, "backups.json");
        fs.writeFileSync(backups, "[]");
        const out = path.join(dir, "local.json");
        const result = evidenceCli(["--stack", "local", "--config-file", "Pulumi.local.yaml", "--inputs", dir, "--backups-file", backups, "--commit", SHA, "--out", out]);
        expect(result.code, result.stderr).toBe(0);
        const evidence = releaseEvidenceSchema.parse(JSON.parse(fs.readFileSync(out, "utf8")));
        expect(evidence.staging).toBeNull();
        expect(evidence.ci).toEqual({ state: "unknown", source: "none", checks: [] });
        expect(Math.abs(Date.parse(evidence.collectedAt) - Date.now())).toBeLessThan(60_000);
    });

    test.each<[string, string[], Record<string, string>, RegExp]>([
        ["no stack", [], {}, /^evidence: --stack is required/],
        ["a bad commit", ["--stack", "local", "--commit", "HEAD"], {}, /--commit: expected a full 40-character commit sha/],
        ["a stack without a config file", ["--stack", "nosuch", "--commit", SHA], {}, /no config for stack nosuch: .*Pulumi\.nosuch\.yaml does not exist/],
        ["a token without a repository", ["--stack", "local", "--config-file", "Pulumi.local.yaml", "--commit", SHA], { GITHUB_TOKEN: TOKEN }, /GITHUB_TOKEN is set but the repository is unknown: pass --repo owner\/name or set GITHUB_REPOSITORY/],
    ])("%s: exit 2 with a message naming the input, nothing written", (_what, args, extra, message) => {
        const dir = tempDir();
        const out = path.join(dir, "x.json");
        const result = evidenceCli([...args, "--out", out], cleanEnv(extra));
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stdout + result.stderr).not.toContain(TOKEN);
        expect(fs.existsSync(out)).toBe(false);
    });
});
