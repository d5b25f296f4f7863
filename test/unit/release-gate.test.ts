// The release gate's pure parts: its diff (volatile fields ignored), the inputs builder, the evidence file and commit as the program reads them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { guardRecordOf } from "../../components/cluster/guard";
import { parsePlatformConfig, type PlatformSpec } from "../../components/config";
import type { ReleaseEvidence } from "../../components/release/evidence";
import { canonicalJson, checkGateInputs, gateChanges, releaseGateProvider } from "../../components/release/gate";
import { parseGuardRecord } from "../../components/cluster/guard";
import { gateInputs, parseEvidenceText, RELEASE_SERVICES_OUTPUT, releaseFingerprint, releaseGateSummary, type ReleaseGateContext } from "../../components/release/gate-builder";
import { programDigest, readReleaseGateContext, releaseCommit } from "../../components/release/gate-context";
import type { ReleaseGateInputs } from "../../components/release/gate-inputs";
import { deployedServiceVersions, parseServicesOutput } from "../../components/release/service-versions";
import { readStackConfig } from "../../scripts/local-secrets";

const ROOT = path.resolve(__dirname, "..", "..");
const SHA = "0123456789abcdef0123456789abcdef01234567";

function specOf(stack: string): PlatformSpec {
    return parsePlatformConfig(readStackConfig(path.join(ROOT, `Pulumi.${stack}.yaml`)));
}

function evidence(edit: (e: ReleaseEvidence) => void = () => undefined): ReleaseEvidence {
    const e: ReleaseEvidence = {
        format: 1,
        stack: "production",
        collectedAt: "2026-03-02T10:00:00.000Z",
        commit: { sha: SHA, ref: "refs/heads/main" },
        ci: { state: "success", source: "github", checks: [{ name: "test", state: "success" }] },
        alerts: { source: "github", openHighCritical: 0, items: [] },
        reviews: { source: "github", pullRequest: 42, approvals: 1, approvers: ["alice"] },
        backups: [
            { server: "plesk", database: "mo_main", time: "2026-03-02T06:00:00Z", ageHours: 4, file: "/var/backups/a.sql" },
            { server: "plesk", database: "mo_votes", time: null, ageHours: null },
        ],
        staging: { stack: "staging", source: "stack", services: { api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 0, green: 100 } } } },
    };
    edit(e);
    return e;
}

function context(read: ReleaseGateContext["read"], commit = SHA): ReleaseGateContext {
    return { stack: "production", evidenceFile: ".release-evidence/production.json", read, commit };
}

function inputsWith(edit: (i: ReleaseGateInputs) => void = () => undefined, spec = specOf("production")): ReleaseGateInputs {
    const inputs = gateInputs({ spec, context: context({ evidence: evidence() }), previousServices: undefined, previousGuard: undefined });
    edit(inputs);
    return inputs;
}

describe("the gate's diff", () => {
    test("the same inputs, through a JSON round trip (the state), are no change", () => {
        const inputs = inputsWith();
        expect(gateChanges(JSON.parse(JSON.stringify(inputs)) as ReleaseGateInputs, inputs)).toEqual([]);
    });

    test.each<[string, (i: ReleaseGateInputs) => void]>([
        ["collection time", (i) => void (i.evidence!.collectedAt = "2026-03-02T11:30:00.000Z")],
        ["backup ages", (i) => i.evidence!.backups.forEach((b) => (b.ageHours = b.ageHours === null ? null : b.ageHours + 1.5))],
        ["a backup taken since (time and file)", (i) => Object.assign(i.evidence!.backups[1]!, { time: "2026-03-02T11:00:00Z", ageHours: 0.5, file: "/x" })],
        ["what the last deployment recorded", (i) => void (i.release.deployed = { api: { blue: "1.0.0", green: "1.0.0", weights: { blue: 100, green: 0 } } })],
        ["the cluster's last record", (i) => void (i.cluster.deployed = {})],
        ["the key order", (i) => void (i.requirements = Object.fromEntries(Object.entries(i.requirements).reverse()) as ReleaseGateInputs["requirements"])],
    ])("volatile only (%s): no change", (_what, edit) => {
        expect(gateChanges(inputsWith(), inputsWith(edit))).toEqual([]);
    });

    test.each<[string, (i: ReleaseGateInputs) => void, (keyof ReleaseGateInputs)[]]>([
        ["the commit", (i) => void (i.commit = "f".repeat(40)), ["commit"]],
        ["the CI state", (i) => void (i.evidence!.ci.state = "failure"), ["evidence"]],
        ["a new alert", (i) => void (i.evidence!.alerts = { source: "github", openHighCritical: 1, items: [{ id: "dependabot-1", severity: "high", summary: "x" }] }), ["evidence"]],
        ["an approval", (i) => void (i.evidence!.reviews.approvals = 2), ["evidence"]],
        ["staging's version", (i) => void (i.evidence!.staging!.services.api!.green = "1.2.0"), ["evidence"]],
        ["the databases backed up", (i) => void i.evidence!.backups.pop(), ["evidence"]],
        ["the evidence gone missing", (i) => Object.assign(i, { evidence: null, evidenceProblem: "missing" }), ["evidence", "evidenceProblem"]],
        ["a requirement", (i) => void (i.requirements.minApprovals = 2), ["requirements"]],
        ["the desired weights", (i) => void (i.release.services.api!.weights = { blue: 90, green: 10 }), ["release"]],
        ["the ladder", (i) => void (i.release.ladder = [0, 50, 100]), ["release"]],
        ["a database", (i) => void i.databases.pop(), ["databases"]],
        ["the cluster's desired record", (i) => void (i.cluster.desired["psa-redis"]!.diskGiB = 99), ["cluster"]],
    ])("%s: an update of %j", (_what, edit, keys) => {
        expect(gateChanges(inputsWith(), inputsWith(edit))).toEqual(keys);
    });

    test("the provider: no change for volatile fields, an in-place update otherwise, never a replacement", async () => {
        const diff = releaseGateProvider.diff!;
        expect(await diff("id", inputsWith(), inputsWith((i) => void (i.evidence!.collectedAt = "2026-03-03T00:00:00Z")))).toEqual({
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        expect(await diff("id", inputsWith(), inputsWith((i) => void (i.commit = "f".repeat(40))))).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
        const created = await releaseGateProvider.create!(inputsWith());
        expect(created.id).toBe("production-release-gate");
        expect(created.outs).toEqual(inputsWith());
    });

    test("canonical JSON: sorted keys, null and undefined members alike", () => {
        expect(canonicalJson({ b: 1, a: { d: null, c: [1, undefined] } })).toBe(canonicalJson({ a: { c: [1, null] }, b: 1, e: undefined }));
        expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
    });

    test("check: missing evidence must say why", () => {
        expect(checkGateInputs(inputsWith((i) => Object.assign(i, { evidence: null })))).toEqual([
            { property: "evidenceProblem", reason: "the evidence is missing and nothing says why" },
        ]);
        expect(checkGateInputs(inputsWith())).toEqual([]);
    });
});

describe("the gate's inputs", () => {
    test("production: requirements from release.gates, every database with its server's limit, desired versions per service, the cluster guard", () => {
        const spec = specOf("production");
        const inputs = gateInputs({ spec, context: context({ evidence: evidence() }), previousServices: undefined, previousGuard: undefined });
        expect(inputs.requirements).toEqual({
            maxBackupAgeHours: 24,
            minApprovals: 1,
            maxOpenHighCriticalAlerts: 0,
            minCoveragePercent: 80,
            requireStagingFirst: true,
            changeWindow: { days: ["mon", "tue", "wed", "thu"], start: "09:00", end: "15:00", timezone: "Europe/Vienna" },
        });
        expect(inputs.databases).toHaveLength(17);
        expect(inputs.databases).toContainEqual({ server: "plesk", engine: "mariadb", database: "mo_main", maxDatabasesOnServer: 5 });
        expect(inputs.databases.filter((d) => d.engine === "postgresql").length).toBeGreaterThan(0);
        expect(Object.keys(inputs.release.services)).toEqual(["api", "crm", "frontend", "games", "admin", "website", "n8n"]);
        expect(inputs.release.services.api).toEqual({ blue: "1.0.0", green: "1.0.0", weights: { blue: 100, green: 0 }, commands: { migration: "alembic upgrade head" } });
        // A service behind nginx records nginx's test and reload commands too: a change of one is a release.
        expect(inputs.release.services.frontend?.commands).toEqual({ nginxTest: "nginx -t", nginxReload: "nginx -s reload" });
        expect(inputs.servers).toEqual([
            { name: "mariadb-ext", engine: "mariadb", firewall: "ufw" },
            { name: "plesk", engine: "mariadb", firewall: "plesk" },
            { name: "postgres-ext", engine: "postgresql", firewall: "ufw" },
        ]);
        expect(inputs.release).toMatchObject({ ladder: [0, 10, 50, 100], deployed: null });
        expect(inputs.cluster).toEqual({ desired: guardRecordOf(spec.cluster), deployed: null });
        expect(Object.keys(inputs.cluster.desired).length).toBeGreaterThan(0);
        expect(inputs).toMatchObject({ stack: "production", environment: "production", commit: SHA, evidenceFile: ".release-evidence/production.json" });
        expect("evidenceProblem" in inputs).toBe(false);
    });

    test("the local stack has no change window (and no limit on a server without maxDatabases)", () => {
        const inputs = gateInputs({ spec: specOf("local"), context: context({ evidence: null, problem: "missing" }), previousServices: {}, previousGuard: {} });
        expect(inputs.requirements.changeWindow).toBeUndefined();
        expect("changeWindow" in inputs.requirements).toBe(false);
        expect(inputs).toMatchObject({ evidence: null, evidenceProblem: "missing", release: { deployed: {} }, cluster: { deployed: {} } });
    });

    test("the last deployment's records: parsed; an entry of another shape left out", () => {
        const services = {
            api: { backend: "haproxy", blue: { version: "1.0.0", address: "a:1", weight: 50 }, green: { version: "1.1.0", address: "a:2", weight: 50 } },
            broken: { backend: "nginx", blue: { version: "1.0.0" } },
        };
        expect(deployedServiceVersions(services)).toEqual({ api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 50, green: 50 } } });
        expect(deployedServiceVersions(undefined)).toBeNull();
        expect(deployedServiceVersions("text")).toBeNull();
        const guard = { db: { vmId: 200, node: "pve2", unprivileged: true, datastore: "local-lvm", diskGiB: 32, template: "t" }, junk: { vmId: "x" } };
        expect(parseGuardRecord(guard)).toEqual({ db: { vmId: 200, node: "pve2", unprivileged: true, datastore: "local-lvm", diskGiB: 32, template: "t", mountPoints: [] } });
        expect(parseGuardRecord(null)).toBeNull();
    });

    test("a services output of the wrong shape is an error naming the service and field (evidence of staging)", () => {
        expect(() => parseServicesOutput({ api: { blue: { version: "1" }, green: { version: "1", weight: 0 } } }, "staging services")).toThrow(
            /^staging services\.api\.blue\.weight: /,
        );
        expect(() => parseServicesOutput([], "staging services")).toThrow("staging services: expected an object of services, got a list");
    });

    test(`index.ts exports the services as ${RELEASE_SERVICES_OUTPUT} (what the next gate reads back) and the gate summary as releaseGate`, () => {
        const source = fs.readFileSync(path.join(ROOT, "index.ts"), "utf8");
        expect(source).toMatch(new RegExp(`^export const ${RELEASE_SERVICES_OUTPUT} = platform\\.release\\.services;$`, "m"));
        expect(source).toMatch(/^export const releaseGate = platform\.releaseGateSummary;$/m);
    });

    test("the stack output summary names the commit and the evidence", () => {
        expect(releaseGateSummary(context({ evidence: evidence() }))).toEqual({
            commit: SHA,
            evidenceFile: ".release-evidence/production.json",
            evidenceCollectedAt: "2026-03-02T10:00:00.000Z",
        });
    });
});

describe("the evidence file as the program reads it", () => {
    const text = (e: unknown) => JSON.stringify(e);

    test.each<[string, string | undefined, RegExp]>([
        ["missing", undefined, /^missing$/],
        ["not JSON", "{", /^invalid: f\.json is not JSON/],
        ["a bad CI state", text({ ...evidence(), ci: { ...evidence().ci, state: "green" } }), /^invalid: f\.json: evidence\.ci\.state: /],
        ["a short sha", text({ ...evidence(), commit: { sha: "abc" } }), /^invalid: f\.json: evidence\.commit\.sha: /],
        ["another stack's", text({ ...evidence(), stack: "staging" }), /^invalid: f\.json was collected for stack staging, not production/],
    ])("%s: evidence null with the problem", (_what, content, problem) => {
        const read = parseEvidenceText(content, "production", "f.json");
        expect(read.evidence).toBeNull();
        expect(read.problem).toMatch(problem);
    });

    test("valid evidence is taken as is", () => {
        expect(parseEvidenceText(text(evidence()), "production", "f.json")).toEqual({ evidence: evidence() });
    });

    const dirs: string[] = [];
    afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const tempDir = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-gate-"));
        dirs.push(dir);
        return dir;
    };

    test("RELEASE_EVIDENCE_FILE, else .release-evidence/<stack>.json in the project directory", () => {
        const dir = tempDir();
        fs.mkdirSync(path.join(dir, ".release-evidence"));
        fs.writeFileSync(path.join(dir, ".release-evidence", "production.json"), text(evidence()));
        fs.writeFileSync(path.join(dir, "other.json"), text(evidence((e) => (e.collectedAt = "2026-03-03T00:00:00Z"))));
        const byDefault = readReleaseGateContext("production", dir, { RELEASE_COMMIT: SHA });
        expect(byDefault).toEqual({ stack: "production", evidenceFile: ".release-evidence/production.json", read: { evidence: evidence() }, commit: SHA, commitFrom: "RELEASE_COMMIT", programDigest: programDigest(dir) });
        const fromEnv = readReleaseGateContext("production", dir, { RELEASE_COMMIT: SHA, RELEASE_EVIDENCE_FILE: "other.json" });
        expect(fromEnv.read.evidence?.collectedAt).toBe("2026-03-03T00:00:00Z");
        expect(readReleaseGateContext("staging", dir, { RELEASE_COMMIT: SHA }).read.problem).toBe("missing");
    });

    test("the program digest changes with any source of the program, and only with it", () => {
        const dir = tempDir();
        fs.mkdirSync(path.join(dir, "components", "release"), { recursive: true });
        fs.writeFileSync(path.join(dir, "index.ts"), "export {};\n");
        fs.writeFileSync(path.join(dir, "components", "release", "a.ts"), "export const a = 1;\n");
        const before = programDigest(dir);
        expect(before).toMatch(/^[0-9a-f]{64}$/);
        fs.writeFileSync(path.join(dir, "Pulumi.production.yaml"), "config: {}\n"); // not the program
        expect(programDigest(dir)).toBe(before);
        fs.writeFileSync(path.join(dir, "components", "release", "a.ts"), "export const a = 2;\n");
        expect(programDigest(dir)).not.toBe(before);
    });

    test("the release fingerprint: the weights do not count, anything else does", () => {
        const spec = specOf("production");
        const base = releaseFingerprint(spec, "p");
        const weighted = structuredClone(spec);
        weighted.services[0]!.weights = { blue: 50, green: 50 };
        expect(releaseFingerprint(weighted, "p")).toBe(base);
        const firewallOff = structuredClone(spec);
        firewallOff.databases.servers[0]!.firewall = "none";
        expect(releaseFingerprint(firewallOff, "p")).not.toBe(base);
        expect(releaseFingerprint(spec, "another program")).not.toBe(base);
    });

    test("the commit: RELEASE_COMMIT (recorded as the override it is), else git HEAD, else GITHUB_SHA, else empty", () => {
        const outside = tempDir();
        expect(releaseCommit({ RELEASE_COMMIT: SHA.toUpperCase(), GITHUB_SHA: "f".repeat(40) }, outside)).toEqual({ sha: SHA, from: "RELEASE_COMMIT" });
        expect(releaseCommit({ GITHUB_SHA: "f".repeat(40) }, outside)).toEqual({ sha: "f".repeat(40), from: "GITHUB_SHA" });
        expect(releaseCommit({}, outside)).toEqual({ sha: "", from: "none" });
        const repo = tempDir();
        const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo, encoding: "utf8" }).trim();
        git("init", "-q");
        git("commit", "-q", "--allow-empty", "-m", "x");
        // The checkout's own commit wins over GITHUB_SHA (a workflow_run's GITHUB_SHA is the branch tip, not what was checked out).
        expect(releaseCommit({ GITHUB_SHA: "f".repeat(40) }, repo)).toEqual({ sha: git("rev-parse", "HEAD"), from: "git" });
    });
});
