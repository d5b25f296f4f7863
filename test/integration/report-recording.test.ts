// The release report on real previews of the local stack (real CLI, plugins, policy pack): a release
// step (api's green gets 1.1.0 and 10 % of the traffic) and the same step with a drain time the
// policy pack refuses. With RECORD_PREVIEWS=1 it (re)writes the recordings in test/fixtures/previews/
// that test/unit/report.test.ts reads, scrubbed of temp paths and checked for secrets; otherwise it
// checks that a fresh preview still reads the way those recordings do.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parsePlatformConfig } from "../../components/config";
import { localSecretValues, readStackConfig } from "../../scripts/local-secrets";
import { parsePolicyViolations, parsePreviewDigest, renderReleaseReport, summarizeRelease, type ReleaseSummary } from "../../scripts/release-report";
import { freshReleaseSite, isolateRelease, localRelease, tearDownLocalStack } from "../support/release-env";
import { dropTestObjects } from "../support/servers";
import { PROJECT_ROOT, RP_CACHE, TEST_PASSPHRASE, Workspace, type StackConfigMap } from "../support/workspace";
import { prefixDatabaseNames } from "../support/stack-config";

const PREFIX = "it7_";
const STACK = "reportrec";
const RECORD = process.env.RECORD_PREVIEWS === "1";
const FIXTURES = path.join(PROJECT_ROOT, "test", "fixtures", "previews");
/** What the recordings say instead of this run's temp paths and ports. */
const WORKSPACE_PLACEHOLDER = "/tmp/rp-report-workspace";
const RUN_DIR_PLACEHOLDER = "/tmp/rp-report-site";
/** api's migration: visible in the report as "will run" when green's version changes. */
const MIGRATION = 'echo "migrating api to $VERSION"';

interface RawService {
    green: { version: string };
    weights: { blue: number; green: number };
    databases?: string[];
    migrationCommand?: string;
}

function prepareConfig(config: StackConfigMap, runDir: string, portBase: number): void {
    // Databases of their own (mo_it7_*), so a local stack from `npm start` is never touched.
    prefixDatabaseNames(config, PREFIX);
    const services = config["release-platform:services"] as Record<string, RawService>;
    const api = services["api"];
    if (!api) throw new Error("the local config lost its api service");
    api.migrationCommand = MIGRATION;
    isolateRelease(config, runDir, portBase);
}

/** api: green runs 1.1.0 and takes its first ladder step (blue 90, green 10). */
function releaseStep(config: StackConfigMap): void {
    const api = (config["release-platform:services"] as Record<string, RawService>)["api"];
    if (!api) throw new Error("no api");
    api.green.version = "1.1.0";
    api.weights = { blue: 90, green: 10 };
}

interface Recorded {
    preview: string;
    /** The event log's policy events only (what the report reads of it). */
    policyEvents: string;
    exitCode: number;
}

describe("release report on real previews of the local stack", () => {
    let ws: Workspace;
    let site: { runDir: string; portBase: number } | undefined;
    let secrets: string[] = [];
    let generatedPasswords: string[] = [];
    const recorded = new Map<string, Recorded>();

    /** `pulumi preview --json` with the policy pack and the engine's event log, as `npm run report` runs it. */
    async function previewWithPolicies(label: string): Promise<Recorded> {
        const events = path.join(ws.dir, `${label}.events.jsonl`);
        const result = await ws.run(
            ["preview", "--json", "--event-log", events, "--policy-pack", "policies", "--policy-pack-config", "policies/config/local.json", ...ws.stackArgs()],
            { allowFailure: true },
        );
        const policyEvents = fs
            .readFileSync(events, "utf8")
            .split("\n")
            .filter((line) => line.includes('"policyEvent"'))
            .join("\n");
        const scrub = (text: string) => text.split(ws.dir).join(WORKSPACE_PLACEHOLDER).split(site?.runDir ?? "\u0000").join(RUN_DIR_PLACEHOLDER);
        const entry = { preview: scrub(result.stdout), policyEvents: scrub(policyEvents), exitCode: result.code };
        recorded.set(label, entry);
        return entry;
    }

    function report(entry: Recorded): { summary: ReleaseSummary; markdown: string } {
        const summary = summarizeRelease({
            stack: "local",
            digest: parsePreviewDigest(entry.preview),
            violations: parsePolicyViolations(entry.policyEvents),
            exitCode: entry.exitCode,
        });
        return { summary, markdown: renderReleaseReport(summary) };
    }

    beforeAll(async () => {
        await dropTestObjects(PREFIX);
        const fresh = await freshReleaseSite("it-report");
        site = fresh;
        ws = await Workspace.create("report", {
            stack: STACK,
            // `--event-log` is one of the CLI's debug flags.
            env: { PULUMI_DEBUG_COMMANDS: "true" },
            stackConfig: path.join(PROJECT_ROOT, "Pulumi.local.yaml"),
            editConfig: (config) => prepareConfig(config, fresh.runDir, fresh.portBase),
        });
        const spec = parsePlatformConfig(readStackConfig(ws.configFile));
        secrets = [...localSecretValues(spec, RP_CACHE).values(), TEST_PASSPHRASE];
        await ws.setLocalSecrets();
        localRelease(ws.configFile, "start");
        await ws.up();
        // The generated service-user passwords are secrets too.
        const outputs = await ws.outputs(true);
        const databases = (outputs.databases ?? []) as { password?: string }[];
        generatedPasswords = databases.flatMap((d) => (d.password ? [d.password] : []));
        secrets.push(...generatedPasswords);
    });

    afterAll(async () => {
        await tearDownLocalStack(ws, site, STACK, PREFIX);
    });

    test("a release step: api's green to 1.1.0 and 0 -> 10 %, backups and the migration first", async () => {
        ws.editConfig(releaseStep);
        const entry = await previewWithPolicies("local-release-step");
        expect(entry.exitCode, entry.preview.slice(0, 2000)).toBe(0);
        const { summary, markdown } = report(entry);

        expect(summary.services.map((s) => [s.service, s.step, s.green.weight.before, s.green.weight.after, s.green.version.after])).toEqual([
            ["api", "forward", 0, 10, "1.1.0"],
            ["frontend", "none", 0, 0, "1.0.0"],
        ]);
        expect(markdown).toContain("| **api** | haproxy | 100 → 90 | 0 → 10 | blue 1.0.0, green 1.0.0 → 1.1.0 | one step forward |");
        expect(summary.commands.map((c) => `${c.kind} ${c.database ?? c.command ?? ""} ${c.version ?? ""}`)).toEqual([
            `backup mo_${PREFIX}idp 1.1.0`,
            `backup mo_${PREFIX}main 1.1.0`,
            `migration ${MIGRATION} 1.1.0`,
        ]);
        expect(summary.violations.filter((v) => v.level === "mandatory")).toEqual([]);
        expect(markdown).toContain("```mermaid");
        expect(summary.changes.cluster).toEqual([]);
        expect(summary.changes.databases).toEqual([]);
    });

    test("the same step with a drain of 0 s: the policy pack refuses it, mandatory, for each traffic resource", async () => {
        ws.editConfig((config) => {
            (config["release-platform:release"] as { drainSeconds: number }).drainSeconds = 0;
        });
        const entry = await previewWithPolicies("local-policy-violations");
        expect(entry.exitCode).not.toBe(0);
        const { summary, markdown } = report(entry);
        const mandatory = summary.violations.filter((v) => v.level === "mandatory");
        expect(mandatory.map((v) => [v.policy, v.urn?.split("::").pop()])).toEqual([
            ["release-drain-losing-colour", "release-api-traffic"],
            ["release-drain-losing-colour", "release-frontend-traffic"],
        ]);
        expect(markdown).toContain("❌ **blocked by policy** (exit 1)");
        expect(markdown).toMatch(/policies: 2 mandatory, \d+ advisory/);
    });

    test("the recordings hold no secret and no temp path of this run", () => {
        expect(recorded.size).toBe(2);
        // What is looked for: the loopback admins' token and key, the passphrase, and each service user's generated password.
        expect(generatedPasswords).toHaveLength(5);
        expect(secrets.some((s) => s.includes("PRIVATE KEY"))).toBe(true);
        for (const [label, entry] of recorded) {
            const text = entry.preview + entry.policyEvents;
            for (const secret of secrets.filter((s) => s.length >= 8)) {
                expect(text.includes(secret), `${label} holds a secret`).toBe(false);
                expect(text.includes(JSON.stringify(secret).slice(1, -1)), `${label} holds a secret (JSON-escaped)`).toBe(false);
            }
            expect(text).not.toContain("PRIVATE KEY");
            expect(text).not.toContain(ws.dir);
        }
        if (!RECORD) return;
        fs.mkdirSync(FIXTURES, { recursive: true });
        for (const [label, entry] of recorded) {
            fs.writeFileSync(path.join(FIXTURES, `${label}.json`), entry.preview.endsWith("\n") ? entry.preview : `${entry.preview}\n`);
            fs.writeFileSync(path.join(FIXTURES, `${label}.policy-events.jsonl`), `${entry.policyEvents}\n`);
            fs.writeFileSync(path.join(FIXTURES, `${label}.exit-code`), `${entry.exitCode}\n`);
        }
    });
});
