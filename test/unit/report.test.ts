// The release report on previews recorded from the local stack (test/fixtures/previews, recorded by
// test/integration/report-recording.test.ts with RECORD_PREVIEWS=1), and its pure parts on tables.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parseReportArgs } from "../../scripts/report";
import { compiledScript } from "../support/workspace";
import {
    describeCounts,
    formatDuration,
    parsePolicyViolations,
    parsePreviewDigest,
    parseUrn,
    platformPartOf,
    renderReleaseOrderMermaid,
    renderReleaseReport,
    renderViolations,
    reportMarker,
    summarizeRelease,
    worstCaseRollback,
    type PolicyViolation,
    type PreviewDigest,
    type PreviewStep,
} from "../../scripts/release-report";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "previews");

function recorded(name: string) {
    const file = (suffix: string) => fs.readFileSync(path.join(FIXTURES, `${name}${suffix}`), "utf8");
    const digest = parsePreviewDigest(file(".json"));
    const violations = parsePolicyViolations(file(".policy-events.jsonl"));
    const exitCode = Number(file(".exit-code").trim());
    const summary = summarizeRelease({ stack: "local", digest, violations, exitCode });
    return { digest, violations, exitCode, summary, markdown: renderReleaseReport(summary) };
}

const lines = (markdown: string) => markdown.split("\n");
const mermaidOf = (markdown: string) => markdown.split("```mermaid\n")[1]?.split("```")[0] ?? "";

describe("report of a recorded release step (api: green 1.1.0, 0 -> 10 %)", () => {
    const { summary, markdown, exitCode } = recorded("local-release-step");

    test("the recording is the preview the report relies on: it passed, and changed only the release", () => {
        expect(exitCode).toBe(0);
        // The release's steps, and a new release record (the changed config's fingerprint).
        expect(summary.changeSummary).toMatchObject({ update: 4, replace: 1 });
        expect(summary.changes.cluster).toEqual([]);
        expect(summary.changes.databases).toEqual([]);
    });

    test("summary first: the marker, the verdict, the counts, the policies and the rollback time in two lines", () => {
        expect(lines(markdown).slice(0, 4)).toEqual([
            "<!-- release-report:local -->",
            "## Release report: `local`",
            "",
            "✅ **preview passed** · 4 to update, 1 to replace · policies: 0 mandatory, 4 advisory · worst-case rollback **26 s**",
        ]);
        expect(markdown).toContain("| cluster | no change |\n| databases | no change |\n| release | 4 to update, 1 to replace |\n");
    });

    test("weights before and after per service, with the versions and the ladder step", () => {
        expect(markdown).toContain(
            [
                "| service | backend | blue % | green % | versions | step |",
                "|---|---|---|---|---|---|",
                "| **api** | haproxy | 100 → 90 | 0 → 10 | blue 1.0.0, green 1.0.0 → 1.1.0 | one step forward |",
                "| frontend | nginx | 100 | 0 | blue 1.0.0, green 1.0.0 | no move |",
            ].join("\n"),
        );
    });

    test("the backups and the migration that will run, in the order they run", () => {
        expect(markdown).toContain(
            [
                "### Backups and migrations that will run",
                "",
                "- backup of `mo_it7_idp` on postgres-ext for api 1.1.0",
                "- backup of `mo_it7_main` on plesk for api 1.1.0",
                '- migration for api 1.1.0: `echo "migrating api to $VERSION"`',
            ].join("\n"),
        );
    });

    test("worst-case rollback: the update's overhead plus api's gate timeout and drain (frontend keeps green at 0)", () => {
        expect(summary.rollback).toEqual({ totalSeconds: 26, overheadSeconds: 15, services: [{ service: "api", gateSeconds: 10, drainSeconds: 1 }] });
        expect(markdown).toContain("api 10 s + 1 s");
    });

    test("the release order as Mermaid: gate -> api's backups -> its migration -> api -> frontend (dependsOn)", () => {
        const mermaid = lines(mermaidOf(markdown)).map((l) => l.trim());
        expect(mermaid[0]).toBe("flowchart LR");
        for (const edge of ["gate --> backup_api", "backup_api --> migrate_api", "migrate_api --> svc_api", "svc_api --> svc_frontend"]) {
            expect(mermaid).toContain(edge);
        }
        expect(mermaid).toContain('svc_api["api: green 0 → 10 % · 1.0.0 → 1.1.0"]');
        expect(mermaid).toContain("class svc_api changed");
        expect(mermaid).not.toContain("class svc_frontend changed");
    });

    test("the advisory gate violations (no evidence in the test workspace) read as one line naming each policy", () => {
        const violationLines = lines(markdown).filter((l) => l.startsWith("- ⚠️") || l.startsWith("- 🛑"));
        expect(violationLines).toEqual([
            "- ⚠️ **advisory, critical** `gates-backups-fresh`, `gates-ci-green`, `gates-evidence-current`, `gates-no-open-alerts` on `release-gate` (ReleaseGate): " +
                "no release evidence for stack reportrec (.release-evidence/reportrec.json: missing): run `npm run evidence -- --stack reportrec`, then preview again",
        ]);
    });

    test("changes per part name the resources and what changes on them", () => {
        expect(markdown).toContain("- update HaproxyWeights `release-api-traffic` (green, weights)");
        expect(markdown).toContain("- update DataChange `release-api-data` (version)");
    });
});

describe("report of a recorded preview with policy violations (drain of 0 s)", () => {
    const { summary, markdown, exitCode, violations } = recorded("local-policy-violations");

    test("the preview failed because of them", () => {
        expect(exitCode).toBe(1);
        expect(violations.filter((v) => v.level === "mandatory")).toHaveLength(2);
        expect(lines(markdown)[3]).toBe("❌ **blocked by policy** (exit 1) · 5 to update, 1 to replace · policies: 2 mandatory, 4 advisory · worst-case rollback **25 s**");
        // The CLI's closing "preview failed" says nothing the violations do not.
        expect(summary.errors).toEqual([]);
        expect(markdown).not.toContain("### Errors");
    });

    test("mandatory violations first, each with its resource and the policy's own message", () => {
        const section = markdown.split("### Policy violations\n\n")[1]?.split("\n\n")[0] ?? "";
        expect(lines(section)).toEqual([
            "- 🛑 **mandatory, medium** `release-drain-losing-colour` on `release-api-traffic` (HaproxyWeights): api drains for 0 s, at least 1 s needed for in-flight requests: raise release.drainSeconds",
            "- 🛑 **mandatory, medium** `release-drain-losing-colour` on `release-frontend-traffic` (NginxWeights): frontend drains for 0 s, at least 1 s needed for in-flight requests: raise release.drainSeconds",
            expect.stringMatching(/^- ⚠️ \*\*advisory, critical\*\* `gates-backups-fresh`, `gates-ci-green`, `gates-evidence-current`, `gates-no-open-alerts` on `release-gate`/),
        ]);
    });
});

describe("recordings", () => {
    test.each(["local-release-step", "local-policy-violations"])("%s holds no secret and no temp path", (name) => {
        const text = fs.readFileSync(path.join(FIXTURES, `${name}.json`), "utf8") + fs.readFileSync(path.join(FIXTURES, `${name}.policy-events.jsonl`), "utf8");
        expect(text).not.toContain("PRIVATE KEY");
        expect(text).not.toContain("test-passphrase-not-a-secret");
        expect(text).not.toMatch(/\/tmp\/rp-report-[A-Za-z0-9]{6}/); // a mkdtemp dir of the recording run
        // The data change's databases (with their admin passwords) are in the recording, blinded.
        expect(text).toMatch(/"databases": "\[secret\]"/);
    });
});

describe("pure parts", () => {
    test.each([
        ["urn:pulumi:s::p::platform:index:Platform$platform:cluster:Cluster$proxmoxve:index/containerLegacy:ContainerLegacy::ct-100", "cluster"],
        ["urn:pulumi:s::p::platform:index:Platform$platform:databases:DatabaseFleet$pulumi-nodejs:dynamic/databases:MariaDbDatabase::db", "databases"],
        ["urn:pulumi:s::p::platform:index:Platform$platform:release:Release$platform:release:Service$command:local:Command::x-backup-main", "release"],
        ["urn:pulumi:s::p::platform:index:Platform$pulumi-nodejs:dynamic/release:ReleaseGate::release-gate", "release"],
        ["urn:pulumi:s::p::pulumi:providers:proxmoxve::default_8_6_0", "other"],
    ])("platformPartOf(%s) = %s", (urn, part) => {
        expect(platformPartOf(urn)).toBe(part);
    });

    test("parseUrn keeps a name that contains ::", () => {
        expect(parseUrn("urn:pulumi:prod::release-platform::a:b:C$d:e:F::name::with::colons")).toEqual({
            stack: "prod",
            project: "release-platform",
            typeChain: ["a:b:C", "d:e:F"],
            type: "d:e:F",
            name: "name::with::colons",
        });
    });

    test.each([
        [{}, "no change"],
        [{ same: 40, read: 1 }, "no change"],
        [{ delete: 1, create: 2, update: 3 }, "2 to create, 3 to update, 1 to delete"],
        [{ replace: 1, "create-replacement": 1 }, "2 to replace"],
    ])("describeCounts(%j) = %s", (counts, text) => {
        expect(describeCounts(counts)).toBe(text);
    });

    test.each([
        [0, "0 s"],
        [59.6, "1 min"],
        [95, "1 min 35 s"],
        [3600, "60 min"],
    ])("formatDuration(%d) = %s", (seconds, text) => {
        expect(formatDuration(seconds)).toBe(text);
    });

    test("worst-case rollback sums gate and drain of each service with traffic on green, plus the update's overhead", () => {
        const gate = (timeoutSeconds: number) => ({ timeoutSeconds, intervalSeconds: 5, retries: 5 });
        expect(
            worstCaseRollback([
                { service: "api", green: { weight: { after: 50 } }, healthGate: gate(60), drainSeconds: 30 },
                { service: "crm", green: { weight: { after: 0 } }, healthGate: gate(60), drainSeconds: 30 },
                { service: "frontend", green: { weight: { after: 100 } }, healthGate: gate(120), drainSeconds: 30 },
            ]).totalSeconds,
        ).toBe(15 + 60 + 30 + 120 + 30);
        expect(worstCaseRollback([{ service: "api", green: { weight: { after: 0 } }, healthGate: gate(60), drainSeconds: 30 }])).toEqual({
            totalSeconds: 0,
            overheadSeconds: 0,
            services: [],
        });
    });

    test("policy events: the engine's levels, other events skipped, a cut-off line ignored", () => {
        const log = [
            JSON.stringify({ sequence: 1, resourcePreEvent: { metadata: { urn: "u" } } }),
            JSON.stringify({ policyEvent: { policyName: "a", policyPackName: "p", policyPackVersion: "1", enforcementLevel: "warning", message: "desc\nwhy", resourceUrn: "urn:pulumi:s::p::t:m:T::r" } }),
            JSON.stringify({ policyEvent: { policyName: "b", policyPackName: "p", policyPackVersion: "1", enforcementLevel: "mandatory", severity: "high", message: "only" } }),
            '{"policyEvent": {"policyName": "c", "mess',
        ].join("\n");
        expect(parsePolicyViolations(log)).toEqual([
            { policyPack: "p", policyPackVersion: "1", policy: "a", level: "advisory", message: "desc\nwhy", urn: "urn:pulumi:s::p::t:m:T::r" },
            { policyPack: "p", policyPackVersion: "1", policy: "b", level: "mandatory", severity: "high", message: "only" },
        ]);
    });

    test("violations: the description line is dropped, a stack policy's violation names the stack, pipes cannot break the list", () => {
        const v = (policy: string, message: string, urn?: string): PolicyViolation => ({ policyPack: "p", policyPackVersion: "1", policy, level: "mandatory", message, ...(urn ? { urn } : {}) });
        expect(renderViolations([v("x", "The description.\nthe reason | with a pipe"), v("y", "one line", "urn:pulumi:s::p::a:b:Thing::it")])).toEqual([
            "- 🛑 **mandatory** `x` on the stack: the reason \\| with a pipe",
            "- 🛑 **mandatory** `y` on `it` (Thing): one line",
        ]);
        expect(renderViolations([])).toEqual(["None."]);
    });

    test("parseReportArgs: own flags, and what follows -- goes to the preview", () => {
        expect(parseReportArgs(["--stack", "production", "--out", "r.md", "--", "--refresh", "--diff"])).toEqual({
            stack: "production",
            out: "r.md",
            extra: ["--refresh", "--diff"],
        });
        expect(() => parseReportArgs(["--out", "r.md"])).toThrow("usage: npm run report");
        expect(() => parseReportArgs(["--stack", "s", "--events", "e.jsonl"])).toThrow("--events needs --preview");
        expect(() => parseReportArgs(["--stack", "s", "--exit-code", "one"])).toThrow("--exit-code must be a whole number");
    });
});

/** A synthetic preview: one traffic step and the services' config, as the digest carries them. */
function digestWith(steps: PreviewStep[], services: Record<string, unknown>, release: Record<string, unknown> = {}): PreviewDigest {
    return {
        config: { "release-platform:services": JSON.stringify(services), "release-platform:release": JSON.stringify(release) },
        steps,
        changeSummary: { update: steps.length },
    };
}

const service = (green: string, weights: { blue: number; green: number }, extra: Record<string, unknown> = {}) => ({
    blue: { version: "1.0.0", address: "10.0.0.1:3000" },
    green: { version: green, address: "10.0.0.2:3000" },
    weights,
    traffic: { backend: "haproxy" },
    ...extra,
});

function trafficStep(name: string, before: { blue: number; green: number } | undefined, after: { blue: number; green: number }): PreviewStep {
    const inputs = (weights: { blue: number; green: number }, green = "2.0.0") => ({
        service: name,
        weights,
        ladder: [0, 10, 50, 100],
        blue: { version: "1.0.0" },
        green: { version: green },
        healthGate: { timeoutSeconds: 30, intervalSeconds: 5, retries: 2 },
        drainSeconds: 20,
    });
    return {
        op: before === undefined ? "create" : "update",
        urn: `urn:pulumi:s::release-platform::platform:index:Platform$platform:release:Release$platform:release:Service$pulumi-nodejs:dynamic/release:HaproxyWeights::release-${name}-traffic`,
        // Before, green ran the old version.
        ...(before ? { oldState: { type: "pulumi-nodejs:dynamic/release:HaproxyWeights", inputs: inputs(before, "1.0.0") } } : {}),
        newState: { type: "pulumi-nodejs:dynamic/release:HaproxyWeights", inputs: inputs(after) },
    };
}

describe("summaries of synthetic previews", () => {
    const services = {
        api: service("2.0.0", { blue: 50, green: 50 }),
        crm: service("2.0.0", { blue: 100, green: 0 }, { dependsOn: ["api"] }),
        admin: service("1.0.0", { blue: 100, green: 0 }),
    };

    test("a jump over a ladder step is shown refused with the ladder's reason; a new resource is a first deployment; an unchanged service comes from the config", () => {
        const summary = summarizeRelease({
            stack: "production",
            digest: digestWith([trafficStep("api", { blue: 100, green: 0 }, { blue: 50, green: 50 }), trafficStep("crm", undefined, { blue: 100, green: 0 })], services, { order: ["api", "crm", "admin"] }),
        });
        expect(summary.order).toEqual(["api", "crm", "admin"]);
        expect(summary.services.map((s) => [s.service, s.step, s.refusedBecause ?? ""])).toEqual([
            ["api", "refused", "green moves one ladder step per up (0, 10, 50, 100): from 0 the next step is 10, not 50"],
            ["crm", "first", ""],
            ["admin", "none", ""],
        ]);
        const markdown = renderReleaseReport(summary);
        expect(markdown).toContain("| **api** | haproxy | 100 → 50 | 0 → 50 | blue 1.0.0, green 1.0.0 → 2.0.0 | refused: green moves one ladder step per up (0, 10, 50, 100): from 0 the next step is 10, not 50 |");
        expect(markdown).toContain("| **crm** | haproxy | 100 | 0 | blue 1.0.0, green 2.0.0 | first deployment |");
        expect(markdown).toContain("| admin | haproxy | 100 | 0 | blue 1.0.0, green 1.0.0 | no move |");
        // api has traffic on green afterwards: 15 s + its gate (30 s) + its drain (20 s).
        expect(summary.rollback.totalSeconds).toBe(65);
    });

    test("the Mermaid order: dependsOn as solid arrows, one-at-a-time order as dotted ones, a refused step marked", () => {
        const summary = summarizeRelease({
            stack: "production",
            digest: digestWith([trafficStep("api", { blue: 100, green: 0 }, { blue: 50, green: 50 })], services, { order: ["api", "crm", "admin"] }),
        });
        const mermaid = renderReleaseOrderMermaid(summary).map((l) => l.trim());
        expect(mermaid).toEqual(
            expect.arrayContaining(["gate --> svc_api", "svc_api --> svc_crm", "svc_crm -.-> svc_admin", "class svc_api refused", 'gate{{"release gate"}}']),
        );
        expect(mermaid.filter((l) => l.includes("-->") || l.includes("-.->"))).toHaveLength(3);
    });

    test("a long report is cut in its details, never in its summary, and stays under the limit", () => {
        const many: PreviewStep[] = Array.from({ length: 400 }, (_, i) => ({
            op: "update",
            urn: `urn:pulumi:s::p::platform:index:Platform$platform:cluster:Cluster$proxmoxve:index/containerLegacy:ContainerLegacy::container-with-a-long-name-${i}`,
            diffReasons: ["description", "tags"],
        }));
        const summary = summarizeRelease({ stack: "production", digest: digestWith(many, services) });
        const markdown = renderReleaseReport(summary, { maxChars: 8000 });
        expect(markdown.length).toBeLessThanOrEqual(8000);
        expect(markdown.startsWith(reportMarker("production"))).toBe(true);
        expect(markdown).toContain("| cluster | 400 to update |");
        expect(markdown).toMatch(/- … and \d+ more \(the job log has the full preview\)/);
    });
});

describe("a preview that failed before its plan", () => {
    test("says so in its first line and shows the errors, and nothing that would pretend there is no change", () => {
        const summary = summarizeRelease({
            stack: "staging",
            digest: { diagnostics: [{ severity: "error", message: "error: missing secret: pulumi config set --secret dbAdminPassword.plesk\n" }, { severity: "error", message: "error: preview failed\n" }] },
            exitCode: 255,
        });
        expect(summary.errors).toEqual(["missing secret: pulumi config set --secret dbAdminPassword.plesk"]);
        expect(renderReleaseReport(summary)).toBe(
            [
                "<!-- release-report:staging -->",
                "## Release report: `staging`",
                "",
                "❌ **preview failed** (exit 255) · no plan",
                "",
                "### Errors",
                "",
                "- missing secret: pulumi config set --secret dbAdminPassword.plesk",
                "",
                "### Policy violations",
                "",
                "None.",
                "",
            ].join("\n"),
        );
    });
});

describe("npm run report on a recording", () => {
    test("writes the report and exits with the preview's exit code", () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rp-report-test-")), "report.md");
        try {
            const name = "local-policy-violations";
            const result = spawnSync(
                process.execPath,
                [compiledScript("report"), "--stack", "local",
                    "--preview", path.join(FIXTURES, `${name}.json`), "--events", path.join(FIXTURES, `${name}.policy-events.jsonl`), "--exit-code", "1", "--out", out],
                { encoding: "utf8", cwd: ROOT },
            );
            expect(result.status, result.stderr).toBe(1);
            expect(fs.readFileSync(out, "utf8")).toContain("❌ **blocked by policy** (exit 1)");
        } finally {
            fs.rmSync(path.dirname(out), { recursive: true, force: true });
        }
    });
});
