// The evidence collector's pure parts: CI state, alerts, approvals, backup ages, the files source, the summary, the arguments.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { releaseEvidenceSchema, type CiState } from "../../components/release/evidence";
import {
    approversOf,
    checkRunState,
    ciChecks,
    codeScanningAlertItems,
    collectEvidence,
    coverageFromSummary,
    dependabotAlertItems,
    evidenceSummary,
    fileSources,
    latestBackups,
    nextPageUrl,
    parseBackupRecords,
    parseRepo,
    pullRequestOfCommit,
    reduceCiState,
    type CiCheck,
    type GitHubReview,
} from "../../components/release/evidence-collector";
import { parseEvidenceArgs, pullRequestFromEnv, resolveCommit } from "../../scripts/evidence";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const NOW = new Date("2026-03-02T12:00:00Z");

describe("CI state", () => {
    test.each<[string | undefined, string | null | undefined, CiState]>([
        ["completed", "success", "success"],
        ["completed", "neutral", "success"],
        ["completed", "skipped", "success"],
        ["completed", "failure", "failure"],
        ["completed", "timed_out", "failure"],
        ["completed", "cancelled", "failure"],
        ["completed", "action_required", "failure"],
        ["completed", null, "unknown"],
        ["in_progress", null, "pending"],
        ["queued", null, "pending"],
        [undefined, undefined, "unknown"],
    ])("a check run %s / %s is %s", (status, conclusion, state) => {
        expect(checkRunState(status, conclusion)).toBe(state);
    });

    const checks = (...states: CiState[]): CiCheck[] => states.map((state, i) => ({ name: `c${i}`, state }));

    test.each<[CiState[], CiState]>([
        [[], "unknown"],
        [["success"], "success"],
        [["success", "success"], "success"],
        [["success", "pending"], "pending"],
        [["pending", "failure", "success"], "failure"],
        [["error", "pending"], "error"],
        [["failure", "error"], "failure"],
        [["success", "unknown"], "unknown"],
        [["pending", "unknown"], "pending"],
    ])("checks %j reduce to %s", (states, state) => {
        expect(reduceCiState(checks(...states))).toBe(state);
    });

    test("statuses and check runs become one list; the combined state's own 'pending' (no statuses) is not used", () => {
        const list = ciChecks(
            { state: "pending", total_count: 0, statuses: [] },
            { total_count: 2, check_runs: [{ name: "unit", status: "completed", conclusion: "success", html_url: "https://ci/1" }, { name: "lint", status: "completed", conclusion: "neutral" }] },
        );
        expect(list).toEqual([
            { name: "unit", state: "success", url: "https://ci/1" },
            { name: "lint", state: "success" },
        ]);
        expect(reduceCiState(list)).toBe("success");
        const mixed = ciChecks({ state: "failure", statuses: [{ context: "ci/jenkins", state: "failure", target_url: "https://j/1" }] }, { check_runs: [{ name: "unit", status: "completed", conclusion: "success" }] });
        expect(mixed[0]).toEqual({ name: "ci/jenkins", state: "failure", url: "https://j/1" });
        expect(reduceCiState(mixed)).toBe("failure");
    });

    test("the jobs of the workflow run collecting the evidence are left out (the collecting job is still running)", () => {
        const runs = {
            check_runs: [
                { name: "Unit and policy tests", status: "completed", conclusion: "success", details_url: "https://github.com/o/r/actions/runs/77/job/1" },
                { name: "Preview production", status: "in_progress", conclusion: null, details_url: "https://github.com/o/r/actions/runs/77/job/2" },
                { name: "codeql", status: "completed", conclusion: "success", details_url: "https://github.com/o/r/actions/runs/70/job/9" },
            ],
        };
        expect(ciChecks(undefined, runs, "77").map((c) => c.name)).toEqual(["codeql"]);
        expect(reduceCiState(ciChecks(undefined, runs, "77"))).toBe("success");
        // Outside a workflow run every check counts, the running one too.
        expect(reduceCiState(ciChecks(undefined, runs))).toBe("pending");
        // Run 7 is not run 77.
        expect(ciChecks(undefined, runs, "7")).toHaveLength(3);
    });
});

describe("security alerts", () => {
    test("Dependabot: open high and critical only, with package and advisory", () => {
        const items = dependabotAlertItems([
            { number: 1, state: "open", html_url: "https://gh/1", security_advisory: { severity: "high", summary: "Prototype pollution" }, security_vulnerability: { package: { name: "lodash" } } },
            { number: 2, state: "open", security_advisory: { severity: "critical", ghsa_id: "GHSA-x" }, dependency: { package: { name: "pg" } } },
            { number: 3, state: "open", security_advisory: { severity: "medium", summary: "m" } },
            { number: 4, state: "fixed", security_advisory: { severity: "critical", summary: "c" } },
            { number: 5, state: "open", security_vulnerability: { severity: "HIGH" } },
        ]);
        expect(items).toEqual([
            { id: "dependabot-1", severity: "high", summary: "lodash: Prototype pollution", url: "https://gh/1" },
            { id: "dependabot-2", severity: "critical", summary: "pg: GHSA-x" },
            { id: "dependabot-5", severity: "high", summary: "advisory" },
        ]);
    });

    test("code scanning: by the rule's security severity, not its plain severity", () => {
        const items = codeScanningAlertItems([
            { number: 7, state: "open", rule: { id: "js/sql-injection", severity: "error", security_severity_level: "critical", description: "SQL injection" }, tool: { name: "CodeQL" }, most_recent_instance: { location: { path: "a.ts" } } },
            { number: 8, state: "open", rule: { id: "js/unused", severity: "error", security_severity_level: null } },
            { number: 9, state: "open", rule: { id: "js/x", security_severity_level: "medium" } },
            { number: 10, state: "dismissed", rule: { id: "js/y", security_severity_level: "high" } },
        ]);
        expect(items).toEqual([{ id: "code-scanning-7", severity: "critical", summary: "CodeQL: SQL injection (a.ts)" }]);
    });
});

describe("approvals: each reviewer's latest verdict", () => {
    const review = (login: string, state: string, at: string): GitHubReview => ({ user: { login }, state, submitted_at: `2026-03-01T${at}:00Z` });

    test.each<[string, GitHubReview[], string[]]>([
        ["none", [], []],
        ["one approval", [review("alice", "APPROVED", "10:00")], ["alice"]],
        ["approved twice by one reviewer counts once", [review("alice", "APPROVED", "10:00"), review("alice", "APPROVED", "11:00")], ["alice"]],
        ["changes requested after the approval withdraw it", [review("alice", "APPROVED", "10:00"), review("alice", "CHANGES_REQUESTED", "11:00")], []],
        ["approved after requesting changes", [review("bob", "CHANGES_REQUESTED", "10:00"), review("bob", "APPROVED", "11:00")], ["bob"]],
        ["a later comment keeps the approval", [review("alice", "APPROVED", "10:00"), review("alice", "COMMENTED", "11:00")], ["alice"]],
        ["a dismissed approval", [review("alice", "APPROVED", "10:00"), review("alice", "DISMISSED", "11:00")], []],
        ["by time, not by list order", [review("carol", "CHANGES_REQUESTED", "12:00"), review("carol", "APPROVED", "09:00")], []],
        ["several reviewers, sorted", [review("zoe", "APPROVED", "10:00"), review("bob", "APPROVED", "10:05"), review("eve", "COMMENTED", "10:10")], ["bob", "zoe"]],
        ["a pending review sets nothing", [{ user: { login: "dan" }, state: "PENDING" }], []],
    ])("%s", (_what, reviews, approvers) => {
        expect(approversOf(reviews)).toEqual(approvers);
    });

    test("the pull request of a commit: merged by it, else headed by it, else the first", () => {
        expect(pullRequestOfCommit([{ number: 1, head: { sha: SHA } }, { number: 2, merge_commit_sha: SHA }], SHA)).toBe(2);
        expect(pullRequestOfCommit([{ number: 1, head: { sha: "x" } }, { number: 3, head: { sha: SHA } }], SHA)).toBe(3);
        expect(pullRequestOfCommit([{ number: 4 }], SHA)).toBe(4);
        expect(pullRequestOfCommit([], SHA)).toBeUndefined();
    });
});

describe("backup ages", () => {
    const databases = [
        { server: "plesk", database: "mo_main" },
        { server: "postgres-ext", database: "mo_idp" },
        { server: "plesk", database: "mo_votes" },
    ];
    const record = (server: string, database: string, time: string, file = `/b/${database}-${time}`) => ({ server, database, time, file });

    test("the latest per database, its age in hours; a database without a backup gets null; others ignored", () => {
        const records = [
            record("plesk", "mo_main", "2026-03-01T12:00:00Z"),
            record("plesk", "mo_main", "2026-03-02T09:00:00Z"),
            record("plesk", "mo_main", "2026-02-28T12:00:00Z"),
            record("postgres-ext", "mo_idp", "2026-03-02T11:30:00+01:00"), // 10:30Z
            record("mariadb-ext", "mo_main", "2026-03-02T11:59:00Z"), // same name, other server
            record("plesk", "mo_gone", "2026-03-02T11:00:00Z"), // not a database of the stack
        ];
        expect(latestBackups(databases, records, NOW)).toEqual([
            { server: "plesk", database: "mo_main", time: "2026-03-02T09:00:00Z", ageHours: 3, file: "/b/mo_main-2026-03-02T09:00:00Z" },
            { server: "postgres-ext", database: "mo_idp", time: "2026-03-02T11:30:00+01:00", ageHours: 1.5, file: "/b/mo_idp-2026-03-02T11:30:00+01:00" },
            { server: "plesk", database: "mo_votes", time: null, ageHours: null },
        ]);
    });

    test("ages to two decimals", () => {
        expect(latestBackups([databases[0]!], [record("plesk", "mo_main", "2026-03-01T11:40:00Z")], NOW)[0]?.ageHours).toBe(24.33);
    });

    test("records are checked; the error names the record and field", () => {
        expect(parseBackupRecords(undefined)).toEqual([]);
        expect(() => parseBackupRecords([{ server: "plesk", database: "mo_main", time: "yesterday" }], "backups.json")).toThrow(/^backups\.json\[0\]\.time: /);
        expect(() => parseBackupRecords({}, "out")).toThrow("out: expected a list of backup records");
    });
});

describe("the files source", () => {
    const dirs: string[] = [];
    afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    const inputs = (files: Record<string, unknown>) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-evidence-"));
        dirs.push(dir);
        for (const [name, value] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), typeof value === "string" ? value : JSON.stringify(value));
        return dir;
    };

    test("an empty folder: CI unknown, no alerts known, no approvals, each source none", async () => {
        const { evidence, notes } = await collectEvidence({
            stack: "local",
            now: NOW,
            commit: { sha: SHA },
            sources: fileSources(inputs({})),
            databases: [{ server: "plesk", database: "mo_main" }],
            backupRecords: [],
            staging: null,
        });
        expect(evidence.ci).toEqual({ state: "unknown", source: "none", checks: [] });
        expect(evidence.alerts).toEqual({ source: "none", openHighCritical: 0, items: [] });
        expect(evidence.reviews).toEqual({ source: "none", approvals: 0, approvers: [] });
        expect(evidence.backups).toEqual([{ server: "plesk", database: "mo_main", time: null, ageHours: null }]);
        expect(notes.length).toBe(4); // ci, two scanners, reviews
        expect(releaseEvidenceSchema.parse(evidence)).toEqual(evidence);
    });

    test("GitHub's shapes in files: one parser for both sources", async () => {
        const dir = inputs({
            "ci-status.json": { state: "success", statuses: [{ context: "ci/build", state: "success" }] },
            "check-runs.json": { total_count: 1, check_runs: [{ name: "test", status: "in_progress", conclusion: null }] },
            "dependabot-alerts.json": [{ number: 3, state: "open", security_advisory: { severity: "critical", summary: "RCE" }, security_vulnerability: { package: { name: "x" } } }],
            "reviews.json": [{ user: { login: "alice" }, state: "APPROVED", submitted_at: "2026-03-01T10:00:00Z" }],
        });
        const { evidence } = await collectEvidence({
            stack: "production",
            now: NOW,
            commit: { sha: SHA, ref: "refs/heads/main" },
            pullRequest: 12,
            sources: fileSources(dir),
            databases: [],
            backupRecords: [],
            staging: null,
            coveragePercent: 91.5,
        });
        expect(evidence.ci).toEqual({
            state: "pending",
            source: "file",
            checks: [
                { name: "ci/build", state: "success" },
                { name: "test", state: "pending" },
            ],
            coveragePercent: 91.5,
        });
        expect(evidence.alerts).toEqual({ source: "file", openHighCritical: 1, items: [{ id: "dependabot-3", severity: "critical", summary: "x: RCE" }] });
        expect(evidence.reviews).toEqual({ source: "file", pullRequest: 12, approvals: 1, approvers: ["alice"] });
    });

    test("a file of the wrong shape or not JSON is an error naming it", async () => {
        await expect(fileSources(inputs({ "reviews.json": { reviews: [] } })).reviews(SHA, undefined)).rejects.toThrow(/reviews\.json: expected a list, as GitHub answers it/);
        await expect(fileSources(inputs({ "ci-status.json": "{" })).ci(SHA)).rejects.toThrow(/ci-status\.json: not JSON/);
    });

    test("evidence that breaks the schema is refused, naming the field", async () => {
        await expect(
            collectEvidence({ stack: "local", now: NOW, commit: { sha: "abc" }, sources: fileSources(inputs({})), databases: [], backupRecords: [], staging: null }),
        ).rejects.toThrow(/evidence\.commit\.sha: /);
    });
});

describe("summary, coverage, repo and paging helpers", () => {
    test("one line per gate input", async () => {
        const { evidence } = await collectEvidence({
            stack: "production",
            now: NOW,
            commit: { sha: SHA },
            sources: fileSources(os.tmpdir() + "/rp-no-such-dir"),
            databases: [
                { server: "plesk", database: "mo_main" },
                { server: "plesk", database: "mo_votes" },
            ],
            backupRecords: [{ server: "plesk", database: "mo_main", time: "2026-03-01T12:00:00Z" }],
            staging: { stack: "staging", source: "stack", services: { api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 0, green: 100 } } } },
        });
        const lines = evidenceSummary(evidence);
        expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(["commit", "ci", "alerts", "reviews", "backups", "staging", "run", "collected"]);
        expect(lines[4]).toBe("backups    1 of 2 databases backed up, oldest plesk/mo_main 24.0 h; none for plesk/mo_votes");
        expect(lines[5]).toBe("staging    staging (stack): api blue 1.0.0 (0 %) green 1.1.0 (100 %)");
    });

    test("coverage from istanbul's json-summary", () => {
        expect(coverageFromSummary({ total: { lines: { pct: 83.2 } } }, "c.json")).toBe(83.2);
        expect(() => coverageFromSummary({ total: {} }, "c.json")).toThrow("c.json: expected total.lines.pct");
    });

    test("repo and Link header", () => {
        expect(parseRepo("acme/release-platform", "--repo")).toEqual({ owner: "acme", name: "release-platform" });
        expect(() => parseRepo("acme", "GITHUB_REPOSITORY")).toThrow('GITHUB_REPOSITORY: expected owner/name, got "acme"');
        expect(nextPageUrl('<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"')).toBe("https://api.github.com/x?page=2");
        expect(nextPageUrl('<https://api.github.com/x?page=1>; rel="prev"')).toBeUndefined();
        expect(nextPageUrl(null)).toBeUndefined();
    });
});

describe("the command line", () => {
    test("flags, in both spellings", () => {
        expect(parseEvidenceArgs(["--stack", "production", `--commit=${SHA.toUpperCase()}`, "--pr", "7", "--allow-missing-alerts", "--now", "2026-03-02T10:00:00Z"])).toMatchObject({
            stack: "production",
            commit: SHA,
            pr: 7,
            allowMissingAlerts: true,
            now: new Date("2026-03-02T10:00:00Z"),
        });
    });

    test.each<[string[], RegExp]>([
        [[], /--stack is required/],
        [["--stack"], /--stack needs a value/],
        [["--stack", "--out", "x"], /--stack needs a value/],
        [["--stack", "org/proj/production"], /--stack: expected a stack name/],
        [["--stack", "p", "--commit", "abc"], /--commit: expected a full 40-character commit sha/],
        [["--stack", "p", "--pr", "0"], /--pr: expected a pull request number/],
        [["--stack", "p", "--now", "yesterday"], /--now: expected an ISO 8601 time/],
        [["--stack", "p", "--now", "2026-03-02T10:00:00"], /--now: expected an ISO 8601 time with a zone/],
        [["--stack", "p", "--repo", "nope"], /--repo: expected owner\/name/],
        [["--stack", "p", "--colour", "blue"], /unknown argument "--colour"/],
        [["--stack", "p", "--stack", "q"], /--stack given twice/],
    ])("%j is refused: %s", (argv, message) => {
        expect(() => parseEvidenceArgs(argv)).toThrow(message);
    });

    test("the pull request from the CI environment", () => {
        expect(pullRequestFromEnv({ GITHUB_PR_NUMBER: "15" })).toBe(15);
        expect(() => pullRequestFromEnv({ GITHUB_PR_NUMBER: "x" })).toThrow("GITHUB_PR_NUMBER: expected a pull request number");
        expect(pullRequestFromEnv({ GITHUB_EVENT_PATH: "/e.json" }, () => JSON.stringify({ pull_request: { number: 9 } }))).toBe(9);
        expect(pullRequestFromEnv({ GITHUB_EVENT_PATH: "/e.json" }, () => JSON.stringify({ ref: "refs/heads/main" }))).toBeUndefined();
        expect(pullRequestFromEnv({})).toBeUndefined();
    });

    test("the commit: --commit, else GITHUB_SHA (with GITHUB_REF), else git", () => {
        const args = parseEvidenceArgs(["--stack", "p"]);
        expect(resolveCommit({ ...args, commit: SHA }, { GITHUB_SHA: "f".repeat(40), GITHUB_REF: "refs/pull/1/merge" }, os.tmpdir())).toEqual({ sha: SHA });
        expect(resolveCommit(args, { GITHUB_SHA: "f".repeat(40), GITHUB_REF: "refs/pull/1/merge" }, os.tmpdir())).toEqual({ sha: "f".repeat(40), ref: "refs/pull/1/merge" });
        expect(() => resolveCommit(args, {}, os.tmpdir())).toThrow("cannot tell the commit: pass --commit SHA");
        expect(() => resolveCommit(args, { GITHUB_SHA: "main" }, os.tmpdir())).toThrow('GITHUB_SHA: expected a full commit sha, got "main"');
    });
});
