// The merge path, rehearsed end to end on this machine (`npm run rehearse`): a staging and a
// production-shaped stack (production's gates, levels and floor; the local environment's loopback
// servers), a stand-in for GitHub's API that answers like GitHub for merged pull requests, and the
// Deploy workflow's own jobs run step by step from .github/workflows/deploy.yml: collect evidence,
// staging preview + up, production preview, production evidence + preview + up. Three compliant
// merges release api's green all the way (0 -> 10 -> 50 -> 100) through every gate; then each way
// around the gates is tried and refused with the policy's own message, with state, weights and
// databases unchanged. A one-screen summary lists every step, its gates and its time.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Weights } from "../../components/release/ladder";
import { GitHubStandIn, type StandInCommit } from "../support/github-standin";
import { freshReleaseSite, haproxyWeights, isolateRelease, localRelease, releaseCommand, tearDownLocalStack, type IsolatedRelease } from "../support/release-env";
import { dropTestObjects, mariaQuery, pgQuery, PLESK_STANDIN } from "../support/servers";
import { prefixDatabaseNames, useProductionGates } from "../support/stack-config";
import { readWorkflow, runCommand, runJob, type StepRun } from "../support/workflow-runner";
import { PROJECT_ROOT, Workspace, type StackConfigMap } from "../support/workspace";

const REPO = "acme/release-platform";
const PREFIX = "it9";
/** The change window's clock for the rehearsal: a Wednesday, 11:00 in Vienna (the other gates read the wall clock). */
const WINDOW_NOW = "2026-03-04T10:00:00Z";
const DEPLOY = readWorkflow("deploy.yml");
/** The Deploy workflow's jobs, in the order their `needs` chain them. */
const DEPLOY_JOBS = ["staging", "production-preview", "production"] as const;

interface RawService {
    green: { version: string };
    weights: Weights;
    migrationCommand?: string;
}

const hex = (n: number, digit: string) => `${digit}${String(n).padStart(3, "0")}`.repeat(10).slice(0, 40);

/** The local stack, renamed and isolated, with production's release gates where asked. */
function stackConfig(prefix: string, site: { runDir: string; portBase: number }, gates: "production" | "staging", out: { env?: IsolatedRelease }) {
    return (config: StackConfigMap): void => {
        prefixDatabaseNames(config, prefix);
        (config["release-platform:cluster"] as { containers: unknown[] }).containers = [];
        if (gates === "production") useProductionGates(config);
        out.env = isolateRelease(config, site.runDir, site.portBase);
    };
}

/**
 * policies/config/<stack>.json as the repository has it, for stacks of the local environment on
 * loopback servers: the floor's environment is local, the host firewall policy off (the loopback
 * servers have none), the drain at the local stack's 1 s, the trusted repository named, and the
 * change window's clock injected. Every other level and setting is the repository's.
 */
function rehearsalPolicyConfig(stack: "staging" | "production"): Record<string, unknown> {
    const config = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policies", "config", `${stack}.json`), "utf8")) as Record<string, unknown>;
    const entry = (name: string): Record<string, unknown> => {
        const value = config[name];
        const object = typeof value === "string" ? { enforcementLevel: value } : { enforcementLevel: "mandatory", ...(value as Record<string, unknown> | undefined) };
        config[name] = object;
        return object;
    };
    entry("gates-requirements-floor").environment = "local";
    entry("databases-host-firewall").enforcementLevel = "disabled";
    entry("release-drain-losing-colour").minDrainSeconds = 1;
    entry("gates-evidence-trusted").repository = REPO;
    entry("gates-change-window").now = WINDOW_NOW;
    return config;
}

describe("rehearsal of the merge path: Deploy workflow, GitHub stand-in, staging and production", () => {
    let github: GitHubStandIn;
    let staging: Workspace;
    let production: Workspace;
    const sites: { runDir: string; portBase: number }[] = [];
    const envs: { staging?: IsolatedRelease; production?: IsolatedRelease } = {};
    const summary: string[] = [];
    let runIds = 9000;
    let merges = 0;

    const api = (config: StackConfigMap) => (config["release-platform:services"] as Record<string, RawService>)["api"]!;
    const frontend = (config: StackConfigMap) => (config["release-platform:services"] as Record<string, RawService>)["frontend"]!;
    const workspaceOf = (job: string) => (job === "staging" ? staging : production);

    /** A pull request merged to main: its commit, the head that was merged, alice's approval of it, and CI's run. */
    function merge(reviews?: StandInCommit["reviews"], conclusion: "success" | "failure" = "success"): StandInCommit {
        merges += 1;
        const commit: StandInCommit = {
            sha: hex(merges, "a"),
            pullRequest: 100 + merges,
            head: hex(merges, "b"),
            reviews: reviews ?? [{ login: "alice", state: "APPROVED", commit: hex(merges, "b"), at: new Date(Date.now() - 3_600_000).toISOString() }],
            ciRun: { id: 8000 + merges, conclusion },
        };
        github.commits.set(commit.sha, commit);
        return commit;
    }

    /** The runner's environment for one job of a Deploy run (what GitHub Actions sets), on the stack's workspace. */
    function runnerEnv(ws: Workspace, commit: StandInCommit, runId: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
        const eventFile = path.join(ws.dir, `.workflow-run-${runId}.json`);
        fs.writeFileSync(eventFile, JSON.stringify({ workflow_run: { id: commit.ciRun.id, head_sha: commit.sha, conclusion: commit.ciRun.conclusion } }));
        const clean = Object.fromEntries(Object.entries(ws.env).filter(([key]) => !key.startsWith("GITHUB_") && !key.startsWith("RELEASE_")));
        return {
            ...clean,
            GITHUB_ACTIONS: "true",
            GITHUB_API_URL: github.apiUrl,
            GITHUB_REPOSITORY: REPO,
            GITHUB_RUN_ID: String(runId),
            GITHUB_EVENT_NAME: "workflow_run",
            GITHUB_EVENT_PATH: eventFile,
            // A workflow_run's GITHUB_SHA is main's tip; the checkout is the commit CI tested.
            GITHUB_SHA: commit.sha,
            GITHUB_STEP_SUMMARY: path.join(ws.dir, `.step-summary-${runId}.md`),
            ...extra,
        };
    }

    /** One job of the Deploy workflow for `commit`, as GitHub would run it; every step goes into the summary. */
    async function deployJob(job: (typeof DEPLOY_JOBS)[number], commit: StandInCommit, label: string, extra: Record<string, string> = {}) {
        const ws = workspaceOf(job);
        fs.rmSync(path.join(ws.dir, ".release-report"), { recursive: true, force: true });
        const runId = ++runIds;
        github.running.add(runId);
        try {
            const result = await runJob(DEPLOY, job, {
                cwd: ws.dir,
                env: runnerEnv(ws, commit, runId, extra),
                expressions: {
                    "secrets.PULUMI_BACKEND_URL": ws.env.PULUMI_BACKEND_URL ?? "",
                    "secrets.PULUMI_CONFIG_PASSPHRASE": ws.env.PULUMI_CONFIG_PASSPHRASE ?? "",
                    "secrets.PULUMI_ACCESS_TOKEN": "",
                    "secrets.AWS_ACCESS_KEY_ID": "",
                    "secrets.AWS_SECRET_ACCESS_KEY": "",
                    "vars.AWS_REGION": "",
                    "github.server_url": "https://github.com",
                    "github.repository": REPO,
                    "github.run_id": String(runId),
                    "github.event.workflow_run.head_sha": commit.sha,
                    "github.event.workflow_run.id": String(commit.ciRun.id),
                    "github.event.workflow_run.conclusion == 'success' && vars.RP_DEPLOYS != 'pulumi-deployments'": String(commit.ciRun.conclusion === "success"),
                    "secrets.RELEASE_EVIDENCE_TOKEN || github.token": github.token,
                    "github.token": github.token,
                    "vars.RP_TOOLCHAIN || 'official'": "official",
                },
                action: (uses, inputs) => {
                    if (uses.startsWith("actions/checkout@")) return `the workspace is the checkout of ${inputs.ref ?? "?"}`;
                    if (uses === "./.github/actions/setup") return "the workspace is set up (npm run setup)";
                    if (uses.startsWith("actions/download-artifact@")) {
                        // The artifact CI's test run uploaded: the coverage its `npm run test:coverage` measured.
                        expect(inputs).toMatchObject({ name: "coverage-summary", "run-id": String(commit.ciRun.id) });
                        const dir = path.join(ws.dir, inputs.path ?? "");
                        fs.mkdirSync(dir, { recursive: true });
                        fs.writeFileSync(path.join(dir, "coverage-summary.json"), JSON.stringify({ total: { lines: { total: 2598, covered: 2318, skipped: 0, pct: 89.22 } } }));
                        return `coverage-summary of CI run ${inputs["run-id"]}`;
                    }
                    throw new Error(`the rehearsal cannot run the action ${uses}: teach it, or keep the workflow to the actions it knows`);
                },
            });
            // The report step writes the preview's policy violations into the report; its output is the report.
            const reportFile = path.join(ws.dir, ".release-report", `${job === "staging" ? "staging" : "production"}.md`);
            for (const step of result.steps) {
                if (step.command.startsWith("npm run report") && fs.existsSync(reportFile)) step.output += `\n${fs.readFileSync(reportFile, "utf8")}`;
            }
            summary.push(describeJob(label, job, result.steps));
            return result;
        } finally {
            github.running.delete(runId);
        }
    }

    /** The whole Deploy run for a merge: its jobs in order, each only after the one before it succeeded. */
    async function deployRun(commit: StandInCommit, label: string): Promise<{ ok: boolean; steps: StepRun[] }> {
        const steps: StepRun[] = [];
        for (const job of DEPLOY_JOBS) {
            const result = await deployJob(job, commit, label);
            steps.push(...result.steps);
            if (!result.ok) return { ok: false, steps };
        }
        return { ok: true, steps };
    }

    /** What a refused attempt must leave as it was: production's state, its traffic, its databases. */
    async function snapshot(): Promise<string> {
        const state = JSON.parse(await production.exportedState()) as { deployment: { resources?: { urn: string; outputs?: unknown }[] } };
        const resources = (state.deployment.resources ?? []).map((r) => [r.urn, r.outputs]);
        const env = envs.production!;
        const databases = await mariaQuery<{ name: string }>(PLESK_STANDIN, "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'mo\\_it9p\\_%' ORDER BY 1");
        return JSON.stringify({
            resources,
            api: await haproxyWeights(env.admin, "api"),
            frontend: fs.readFileSync(env.upstreamFile, "utf8"),
            databases,
            postgres: pgQuery("SELECT datname FROM pg_database WHERE datname LIKE 'mo_it9p_%' ORDER BY 1"),
        });
    }

    /** One line: what was tried, where, and each command's verdict and time; the gates that refused, if any. */
    function line(label: string, where: string, parts: string[], refused: string[]): string {
        return `${label.padEnd(32)} ${where.padEnd(18)} ${parts.join(", ")}${refused.length > 0 ? `  -> refused by ${refused.join(", ")}` : ""}`;
    }

    /** A Deploy job as one line: evidence, preview with the pack (its gates), up. */
    function describeJob(label: string, job: string, steps: StepRun[]): string {
        const named = (prefix: string, name: string) => {
            const step = steps.find((s) => s.command.startsWith(prefix));
            return step === undefined ? [] : [`${name} ${step.code === 0 ? "ok" : `exit ${step.code}`} ${step.seconds.toFixed(1)} s`];
        };
        const refused = [...new Set(steps.flatMap((s) => refusingPolicies(s.output)))];
        const parts = [...named("npm run evidence", "evidence"), ...named("npm run report", refused.length === 0 ? "preview+pack, gates passed," : "preview+pack"), ...named("npm run pulumi -- up", "up")];
        return line(label, job, parts.length > 0 ? parts : ["not started (CI did not pass)"], refused);
    }

    const editBoth = (edit: (config: StackConfigMap) => void) => {
        staging.editConfig(edit);
        production.editConfig(edit);
    };

    beforeAll(async () => {
        await dropTestObjects(`${PREFIX}s_`);
        await dropTestObjects(`${PREFIX}p_`);
        github = await GitHubStandIn.start(REPO);
        github.permissions.set("alice", "write");
        github.permissions.set("bob", "maintain");
        github.permissions.set("mallory", "read");
        const stagingSite = await freshReleaseSite("rehearse-staging");
        const productionSite = await freshReleaseSite("rehearse-production");
        sites.push(stagingSite, productionSite);
        const stagingEnv: { env?: IsolatedRelease } = {};
        const productionEnv: { env?: IsolatedRelease } = {};
        staging = await Workspace.create("rehearse-staging", {
            stack: "staging",
            stackConfig: path.join(PROJECT_ROOT, "Pulumi.local.yaml"),
            editConfig: stackConfig(`${PREFIX}s_`, stagingSite, "staging", stagingEnv),
        });
        // One backend for both stacks, as in the Deploy workflow: production's evidence reads staging's outputs.
        production = await Workspace.create("rehearse-production", {
            stack: "production",
            stackConfig: path.join(PROJECT_ROOT, "Pulumi.local.yaml"),
            env: { PULUMI_BACKEND_URL: staging.env.PULUMI_BACKEND_URL ?? "" },
            editConfig: stackConfig(`${PREFIX}p_`, productionSite, "production", productionEnv),
        });
        envs.staging = stagingEnv.env;
        envs.production = productionEnv.env;
        for (const [ws, stack] of [[staging, "staging"], [production, "production"]] as const) {
            // A checkout has the scripts the workflow's steps run (npm run evidence, report, pulumi).
            fs.cpSync(path.join(PROJECT_ROOT, "scripts"), path.join(ws.dir, "scripts"), { recursive: true });
            fs.mkdirSync(path.join(ws.dir, "toolchain"), { recursive: true });
            fs.copyFileSync(path.join(PROJECT_ROOT, "toolchain", "versions.env"), path.join(ws.dir, "toolchain", "versions.env"));
            fs.writeFileSync(path.join(ws.dir, "policies", "config", `${stack}.json`), JSON.stringify(rehearsalPolicyConfig(stack), null, 2));
            await ws.setLocalSecrets();
            localRelease(ws.configFile, "start");
            // The platform as it runs before the rehearsal: blue 1.0.0 everywhere, deployed once.
            await ws.up();
        }
        // The scheduled backup job of production (its systemd timer): every database, recorded for the evidence.
        const backup = await releaseCommand(production, "backup", ["--stack", "production", "--verify"]);
        expect(backup.code, backup.output).toBe(0);
        summary.push(line("backup job (its timer)", "production", [`npm run backup --verify ok ${backup.seconds.toFixed(1)} s`], []));
    });

    afterAll(async () => {
        if (summary.length > 0) console.log(["rehearsal of the merge path: each Deploy job or command, its steps' verdicts and times, the gates that refused it", ...summary].join("\n"));
        await github?.close();
        await tearDownLocalStack(production, sites[1], "production", `${PREFIX}p_`);
        await tearDownLocalStack(staging, sites[0], "staging", `${PREFIX}s_`);
    });

    test("the rehearsal runs the Deploy workflow's jobs, in its order, with its commands", () => {
        expect(Object.keys(DEPLOY.jobs)).toEqual([...DEPLOY_JOBS]);
        expect(DEPLOY.jobs["production-preview"]?.needs).toBe("staging");
        expect(DEPLOY.jobs.production?.needs).toBe("production-preview");
        const runs = (job: string) => (DEPLOY.jobs[job]?.steps ?? []).flatMap((s) => (s.run ? [s.run.trim().split(" ")[0] === "npm" ? s.run.trim().split(" ").slice(0, 3).join(" ") : "shell"] : []));
        expect(runs("staging")).toEqual(["npm run evidence", "npm run report", "shell", "npm run pulumi"]);
        expect(runs("production-preview")).toEqual(["npm run evidence", "npm run report", "shell"]);
        expect(runs("production")).toEqual(["npm run evidence", "npm run report", "shell", "npm run pulumi"]);
    });

    test("three compliant merges release api's green 0 -> 10 -> 50 -> 100 through every gate", async () => {
        for (const [step, weights] of [[1, { blue: 90, green: 10 }], [2, { blue: 50, green: 50 }], [3, { blue: 0, green: 100 }]] as const) {
            editBoth((config) => {
                api(config).green.version = "1.1.0";
                api(config).weights = weights;
            });
            const commit = merge();
            const run = await deployRun(commit, `merge ${step}: api green ${weights.green} %`);
            const failed = run.steps.filter((s) => s.code !== 0);
            expect(failed.map((s) => `${s.job} ${s.step}:\n${s.output.slice(-3000)}`)).toEqual([]);
            expect(run.ok).toBe(true);
            // Every gate ran and none refused: the production up passed the whole pack.
            const up = run.steps.filter((s) => s.job === "production" && s.command.includes("pulumi -- up"));
            expect(up).toHaveLength(1);
            expect(up[0]?.command).toContain("--policy-pack policies");
            expect(up[0]?.code).toBe(0);
            expect(up[0]?.output).not.toMatch(/\[(mandatory|advisory)\]/);
            expect(await haproxyWeights(envs.production!.admin, "api")).toEqual(weights);
            expect(await haproxyWeights(envs.staging!.admin, "api")).toEqual(weights);
        }
        const evidence = JSON.parse(fs.readFileSync(path.join(production.dir, ".release-evidence", "production.json"), "utf8")) as {
            run: { status: string; repository: string };
            ci: { source: string; coveragePercent: number; workflowRun: { conclusion: string } };
            reviews: { approvers: string[] };
            backups: { ageHours: number | null }[];
        };
        expect(evidence.run).toMatchObject({ status: "in_progress", repository: REPO });
        expect(evidence.ci).toMatchObject({ source: "github", coveragePercent: 89.22, workflowRun: { conclusion: "success" } });
        expect(evidence.reviews.approvers).toEqual(["alice"]);
        // The backup job's records give every database a real age.
        expect(evidence.backups.length).toBeGreaterThan(0);
        expect(evidence.backups.every((b) => b.ageHours !== null && b.ageHours < 1)).toBe(true);
    });

    /** The next release tried in each case: frontend's green gets its first 10 % (a version staging runs). */
    const frontendStep = (config: StackConfigMap) => void (frontend(config).weights = { blue: 90, green: 10 });
    const frontendBack = (config: StackConfigMap) => void (frontend(config).weights = { blue: 100, green: 0 });

    async function refusedJob(label: string, commit: StandInCommit, policy: string, message: string | RegExp, extra: Record<string, string> = {}) {
        const before = await snapshot();
        const result = await deployJob("production", commit, label, extra);
        expect(result.ok).toBe(false);
        const report = result.steps.find((s) => s.command.startsWith("npm run report"));
        expect(report?.code).not.toBe(0);
        expect(refusingPolicies(report?.output ?? "")).toContain(policy);
        if (typeof message === "string") expect(report?.output).toContain(message);
        else expect(report?.output).toMatch(message);
        // The up never ran.
        expect(result.steps.some((s) => s.command.includes("pulumi -- up"))).toBe(false);
        expect(await snapshot()).toEqual(before);
    }

    test("evidence typed in by hand, through release:next --up: refused by gates-evidence-trusted", async () => {
        const before = await snapshot();
        // A person at a terminal: GitHub's answers saved as files (source: file), no workflow run.
        const inputs = path.join(production.dir, ".typed-inputs");
        fs.mkdirSync(inputs, { recursive: true });
        fs.writeFileSync(path.join(inputs, "check-runs.json"), JSON.stringify({ total_count: 1, check_runs: [{ name: "Unit and policy tests", status: "completed", conclusion: "success" }] }));
        fs.writeFileSync(path.join(inputs, "reviews.json"), JSON.stringify([{ user: { login: "alice" }, state: "APPROVED", submitted_at: new Date().toISOString() }]));
        fs.writeFileSync(path.join(inputs, "coverage-summary.json"), JSON.stringify({ total: { lines: { pct: 99 } } }));
        fs.writeFileSync(path.join(inputs, "dependabot-alerts.json"), "[]");
        fs.writeFileSync(path.join(inputs, "code-scanning-alerts.json"), "[]");
        const typed = await releaseCommand(production, "evidence", ["--stack", "production", "--inputs", inputs, "--commit", hex(merges, "a")]);
        expect(typed.code, typed.output).toBe(0);
        try {
            const result = await releaseCommand(production, "release-next", ["--stack", "production", "--service", "frontend", "--up"]);
            summary.push(line("walk-around: typed evidence", "terminal", [`release:next --up exit ${result.code} ${result.seconds.toFixed(1)} s`], refusingPolicies(result.output)));
            expect(result.code).not.toBe(0);
            expect(refusingPolicies(result.output)).toContain("gates-evidence-trusted");
            expect(result.output).toContain("the release evidence is not from a workflow run: ");
            expect(result.output).toContain("evidence.ci comes from file, not from GitHub's API");
            expect(result.output).toContain("the evidence was not collected inside a GitHub Actions workflow run (no evidence.run)");
        } finally {
            production.editConfig(frontendBack);
        }
        expect(await snapshot()).toEqual(before);
    });

    test("RELEASE_COMMIT set to pass the evidence of another commit: refused by gates-evidence-trusted", async () => {
        production.editConfig(frontendStep);
        try {
            await refusedJob("walk-around: RELEASE_COMMIT", merge(), "gates-evidence-trusted", /the program's commit [0-9a-f]{12} was set by RELEASE_COMMIT, an override for the local stack/, {
                RELEASE_COMMIT: hex(merges, "a"),
            });
        } finally {
            production.editConfig(frontendBack);
        }
    });

    test("approvals by a reader and of an earlier push: refused by gates-approvals", async () => {
        production.editConfig(frontendStep);
        try {
            const at = new Date(Date.now() - 1_800_000).toISOString();
            const commit = merge([
                { login: "mallory", state: "APPROVED", commit: hex(merges + 1, "b"), at },
                { login: "bob", state: "APPROVED", commit: "c".repeat(40), at },
            ]);
            await refusedJob("walk-around: approvals", commit, "gates-approvals", `pull request #${commit.pullRequest} has 0 approving reviews, at least 1 needed`);
        } finally {
            production.editConfig(frontendBack);
        }
    });

    test("a red CI run: Deploy does not start, and its steps run by hand are refused by gates-ci-green", async () => {
        production.editConfig(frontendStep);
        try {
            const commit = merge(undefined, "failure");
            const skipped = await deployJob("staging", commit, "walk-around: red CI");
            expect(skipped).toEqual({ ok: false, steps: [] });
            await refusedJob("walk-around: red CI, by hand", commit, "gates-ci-green", /CI is failure for commit [0-9a-f]{12} \(Unit and policy tests: failure, workflow CI \(run \d+\): failure\)/);
        } finally {
            production.editConfig(frontendBack);
        }
    });

    test("a change window of the whole week in the stack file: refused by gates-requirements-floor", async () => {
        production.editConfig((config) => {
            frontendStep(config);
            (config["release-platform:release"] as { gates: { changeWindow: unknown } }).gates.changeWindow = {
                days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:01", end: "00:00", timezone: "Europe/Vienna",
            };
        });
        try {
            await refusedJob("walk-around: change window", merge(), "gates-requirements-floor", "changeWindow must lie inside the policy's window: it is open on mon at 00:01, outside mon, tue, wed, thu 09:00-15:00");
        } finally {
            production.editConfig((config) => {
                frontendBack(config);
                (config["release-platform:release"] as { gates: { changeWindow: unknown } }).gates.changeWindow = { days: ["mon", "tue", "wed", "thu"], start: "09:00", end: "15:00", timezone: "Europe/Vienna" };
            });
        }
    });

    test("a rollback that carries a new migration command is a release: without evidence, refused; the pure rollback passes", async () => {
        fs.rmSync(path.join(production.dir, ".release-evidence", "production.json"), { force: true });
        const before = await snapshot();
        production.editConfig((config) => {
            api(config).weights = { blue: 50, green: 50 };
            api(config).migrationCommand = "echo migrate";
        });
        const preview = ["npm", "run", "preview", "--", "--stack", "production"];
        try {
            const carried = await releaseShell(production, preview);
            summary.push(line("walk-around: rollback + command", "terminal", [`npm run preview exit ${carried.code} ${carried.seconds.toFixed(1)} s`], refusingPolicies(carried.output)));
            expect(carried.code).not.toBe(0);
            expect(refusingPolicies(carried.output)).toContain("gates-evidence-current");
            expect(carried.output).toContain("no release evidence for stack production");
            production.editConfig((config) => void delete api(config).migrationCommand);
            const pure = await releaseShell(production, preview);
            summary.push(line("the pure rollback (weights only)", "terminal", [`npm run preview ${pure.code === 0 ? "ok, gates passed," : `exit ${pure.code}`} ${pure.seconds.toFixed(1)} s`], refusingPolicies(pure.output)));
            expect(pure.code, pure.output).toBe(0);
            expect(pure.output).not.toMatch(/\[mandatory\]/);
        } finally {
            production.editConfig((config) => {
                api(config).weights = { blue: 0, green: 100 };
                delete api(config).migrationCommand;
            });
        }
        expect(await snapshot()).toEqual(before);
    });
});

/**
 * The policies that refused, as the CLI prints them (`[mandatory] [severity: x]  <policy>  (...)`, in
 * a preview and an up) and as the release report lists them (`**mandatory, x** \`<policy>\`, ...`).
 */
function refusingPolicies(output: string): string[] {
    const cli = [...output.matchAll(/\[mandatory\] \[severity: [a-z]+\]\s+(\S+)\s/g)].map((m) => m[1] ?? "");
    const report = [...output.matchAll(/^- 🛑 \*\*mandatory[^*]*\*\* ((?:`[^`]+`(?:, )?)+) on /gm)].flatMap((m) => [...(m[1] ?? "").matchAll(/`([^`]+)`/g)].map((p) => p[1] ?? ""));
    return [...new Set([...cli, ...report])].sort();
}

/** A command in the workspace with its environment (as a person at a terminal), its output and time. */
function releaseShell(ws: Workspace, argv: string[]): Promise<{ code: number; output: string; seconds: number }> {
    const env = Object.fromEntries(Object.entries(ws.env).filter(([key]) => !key.startsWith("GITHUB_") && !key.startsWith("RELEASE_")));
    return runCommand(argv[0] ?? "npm", argv.slice(1), ws.dir, env);
}
