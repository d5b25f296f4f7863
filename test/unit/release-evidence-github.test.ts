// The evidence collector against GitHub's REST API, played by a real HTTP server on 127.0.0.1 that
// serves recorded-shape answers, checks the token header and pages like GitHub.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { releaseEvidenceSchema } from "../../components/release/evidence";
import { collectEvidence, GitHubApiError, GitHubClient, githubSources, type EvidenceSources } from "../../components/release/evidence-collector";

const TOKEN = "ghs_test-token-0123456789abcdef";
const SHA = "89abcdef0123456789abcdef0123456789abcdef";
const REPO = "/repos/acme/platform";
/** The pull request's head when it was merged as SHA. */
const HEAD = "1".repeat(40);

interface Reply {
    status?: number;
    body: unknown;
    /** Next page: served at `${path}&page=2`. */
    next?: unknown;
    /** A Link header of its own (instead of the one to the next page). */
    link?: string;
}

/** What the fake GitHub answers, per path and query; tests change it. */
let routes: Record<string, Reply> = {};
const requests: { url: string; authorization: string | undefined; accept: string | undefined }[] = [];
let server: http.Server;
let apiUrl = "";

function githubRoutes(): Record<string, Reply> {
    return {
        [`${REPO}/commits/${SHA}/status?per_page=100`]: {
            body: {
                state: "success",
                total_count: 1,
                statuses: [{ context: "ci/jenkins", state: "success", target_url: "https://jenkins/1" }],
            },
        },
        [`${REPO}/commits/${SHA}/check-runs?per_page=100`]: {
            body: { total_count: 2, check_runs: [{ name: "unit", status: "completed", conclusion: "success", html_url: "https://gh/run/1" }] },
            next: { total_count: 2, check_runs: [{ name: "integration", status: "completed", conclusion: "skipped", html_url: "https://gh/run/2" }] },
        },
        [`${REPO}/dependabot/alerts?state=open&severity=high,critical&per_page=100`]: {
            body: [
                {
                    number: 11,
                    state: "open",
                    html_url: "https://gh/alerts/11",
                    security_advisory: { ghsa_id: "GHSA-aaaa", severity: "high", summary: "ReDoS in parser" },
                    security_vulnerability: { severity: "high", package: { ecosystem: "npm", name: "semver" } },
                },
            ],
        },
        [`${REPO}/code-scanning/alerts?state=open&per_page=100`]: {
            body: [
                { number: 5, state: "open", rule: { id: "js/xss", severity: "error", security_severity_level: "critical", description: "Reflected XSS" }, tool: { name: "CodeQL" } },
                { number: 6, state: "open", rule: { id: "js/unused-var", severity: "note", security_severity_level: null }, tool: { name: "CodeQL" } },
            ],
        },
        [`${REPO}/commits/${SHA}/pulls`]: { body: [{ number: 41, state: "closed", merge_commit_sha: SHA, head: { sha: HEAD } }] },
        [`${REPO}/pulls/41`]: { body: { number: 41, merged: true, merge_commit_sha: SHA, head: { sha: HEAD } } },
        [`${REPO}/pulls/41/reviews?per_page=100`]: {
            body: [
                { id: 1, user: { login: "alice" }, state: "APPROVED", submitted_at: "2026-03-01T09:00:00Z", commit_id: HEAD },
                { id: 2, user: { login: "bob" }, state: "CHANGES_REQUESTED", submitted_at: "2026-03-01T09:30:00Z", commit_id: HEAD },
            ],
            next: [
                { id: 3, user: { login: "bob" }, state: "APPROVED", submitted_at: "2026-03-01T10:00:00Z", commit_id: HEAD },
                { id: 4, user: { login: "carol" }, state: "COMMENTED", submitted_at: "2026-03-01T10:30:00Z", commit_id: HEAD },
            ],
        },
        [`${REPO}/collaborators/alice/permission`]: { body: { permission: "write", role_name: "write" } },
        [`${REPO}/collaborators/bob/permission`]: { body: { permission: "admin", role_name: "maintain" } },
    };
}

beforeAll(async () => {
    server = http.createServer((req, res) => {
        const url = req.url ?? "";
        requests.push({ url, authorization: req.headers.authorization, accept: req.headers.accept });
        const reply = (status: number, body: unknown, link?: string) => {
            res.writeHead(status, { "content-type": "application/json", ...(link ? { link } : {}) });
            res.end(JSON.stringify(body));
        };
        if (req.headers.authorization !== `Bearer ${TOKEN}`) return reply(401, { message: "Bad credentials" });
        // The API lives under a path prefix, as on GitHub Enterprise (`https://host/api/v3`).
        const route = url.replace(/^\/api\/v3/, "");
        const second = route.endsWith("&page=2") ? routes[route.slice(0, -"&page=2".length)] : undefined;
        if (second?.next !== undefined) return reply(200, second.next);
        const found = routes[route];
        if (!found) return reply(404, { message: "Not Found" });
        const link = found.link ?? (found.next === undefined ? undefined : `<${apiUrl}${route}&page=2>; rel="next", <${apiUrl}${route}&page=2>; rel="last"`);
        reply(found.status ?? 200, found.body, link);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
    routes = githubRoutes();
    requests.length = 0;
});

function sources(options: { allowMissingAlerts?: boolean; token?: string; ownRunId?: string; followsRunId?: number } = {}): EvidenceSources {
    const client = new GitHubClient({ apiUrl, token: options.token ?? TOKEN });
    const { allowMissingAlerts = false, ownRunId, followsRunId } = options;
    return githubSources(client, { owner: "acme", name: "platform" }, { allowMissingAlerts, ownRunId, ...(followsRunId === undefined ? {} : { followsRunId }) });
}

const collect = (s: EvidenceSources, pullRequest?: number) =>
    collectEvidence({
        stack: "production",
        now: new Date("2026-03-02T12:00:00Z"),
        commit: { sha: SHA },
        pullRequest,
        sources: s,
        databases: [],
        backupRecords: [],
        staging: null,
    });

describe("evidence from GitHub's REST API (a local server in its place)", () => {
    test("CI, alerts and reviews, every page followed, the token sent as a bearer header to every request", async () => {
        const { evidence, notes } = await collect(sources());
        expect(releaseEvidenceSchema.parse(evidence)).toEqual(evidence);
        expect(evidence.ci).toEqual({
            state: "success",
            source: "github",
            checks: [
                { name: "ci/jenkins", state: "success", url: "https://jenkins/1" },
                { name: "unit", state: "success", url: "https://gh/run/1" },
                { name: "integration", state: "success", url: "https://gh/run/2" },
            ],
        });
        expect(evidence.alerts).toEqual({
            source: "github",
            openHighCritical: 2,
            items: [
                { id: "dependabot-11", severity: "high", summary: "semver: ReDoS in parser", url: "https://gh/alerts/11" },
                { id: "code-scanning-5", severity: "critical", summary: "CodeQL: Reflected XSS" },
            ],
        });
        // The pull request looked up by commit; bob approved after requesting changes, carol only commented.
        expect(evidence.reviews).toEqual({ source: "github", pullRequest: 41, approvals: 2, approvers: ["alice", "bob"] });
        expect(evidence.run).toBeUndefined();
        expect(notes).toEqual(["not inside a GitHub Actions run (no GITHUB_RUN_ID): no run recorded"]);

        // status, 2 pages of check runs, 2 scanners, the commit's pulls, the pull request, 2 pages of reviews, 2 permissions
        expect(requests.length).toBe(11);
        expect(requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
        expect(requests.every((r) => r.accept === "application/vnd.github+json")).toBe(true);
        expect(JSON.stringify(evidence)).not.toContain(TOKEN);
    });

    test("a pull request given skips the lookup by commit", async () => {
        await collect(sources(), 41);
        expect(requests.map((r) => r.url)).not.toContain(`/api/v3${REPO}/commits/${SHA}/pulls`);
    });

    test("no pull request for the commit: no approvals, and a note saying so", async () => {
        routes[`${REPO}/commits/${SHA}/pulls`] = { body: [] };
        const { evidence, notes } = await collect(sources());
        expect(evidence.reviews).toEqual({ source: "github", approvals: 0, approvers: [] });
        expect(notes).toContain(`no pull request found for ${SHA}`);
    });

    test("approvals count only on the merged head, and only by people with write access", async () => {
        routes[`${REPO}/pulls/41/reviews?per_page=100`] = {
            body: [
                // alice approved an earlier push; the head that was merged came after it.
                { id: 1, user: { login: "alice" }, state: "APPROVED", submitted_at: "2026-03-01T09:00:00Z", commit_id: "2".repeat(40) },
                { id: 2, user: { login: "bob" }, state: "APPROVED", submitted_at: "2026-03-01T09:30:00Z", commit_id: HEAD },
                // dave may only read; eve is no collaborator (any more).
                { id: 3, user: { login: "dave" }, state: "APPROVED", submitted_at: "2026-03-01T10:00:00Z", commit_id: HEAD },
                { id: 4, user: { login: "eve" }, state: "APPROVED", submitted_at: "2026-03-01T10:30:00Z", commit_id: HEAD },
            ],
        };
        routes[`${REPO}/collaborators/dave/permission`] = { body: { permission: "read", role_name: "triage" } };
        const { evidence, notes } = await collect(sources());
        expect(evidence.reviews).toEqual({
            source: "github",
            pullRequest: 41,
            approvals: 1,
            approvers: ["bob"],
            notCounted: [
                { login: "alice", reason: "approved 222222222222, not the head 111111111111 that was merged" },
                { login: "dave", reason: "has triage access to the repository, not write" },
                { login: "eve", reason: "has none access to the repository, not write" },
            ],
        });
        expect(notes).toContain("approval by alice not counted: approved 222222222222, not the head 111111111111 that was merged");
        // alice's permission is never asked: her approval is out on the commit already.
        expect(requests.map((r) => r.url)).not.toContain(`/api/v3${REPO}/collaborators/alice/permission`);
    });

    test("a pull request given that is not the commit's own counts no approval", async () => {
        routes[`${REPO}/pulls/7`] = { body: { number: 7, merged: true, merge_commit_sha: "3".repeat(40), head: { sha: "4".repeat(40) } } };
        const { evidence, notes } = await collect(sources(), 7);
        expect(evidence.reviews).toEqual({ source: "github", pullRequest: 7, approvals: 0, approvers: [] });
        expect(notes).toContain(`pull request #7 neither has ${SHA} as its head nor was merged as it: its reviews do not count for this commit`);
    });

    test("inside a workflow run: the run as GitHub reports it, and the CI run a deployment follows", async () => {
        routes[`${REPO}/actions/runs/9001`] = {
            body: { id: 9001, name: "Deploy", event: "workflow_run", status: "in_progress", conclusion: null, head_sha: SHA, html_url: "https://gh/runs/9001", repository: { full_name: "acme/platform" } },
        };
        routes[`${REPO}/actions/runs/8000`] = {
            body: { id: 8000, name: "CI", event: "push", status: "completed", conclusion: "success", head_sha: SHA, html_url: "https://gh/runs/8000" },
        };
        const { evidence } = await collect(sources({ ownRunId: "9001", followsRunId: 8000 }));
        expect(evidence.run).toEqual({ repository: "acme/platform", id: 9001, workflow: "Deploy", event: "workflow_run", status: "in_progress", url: "https://gh/runs/9001" });
        expect(evidence.ci.workflowRun).toEqual({ id: 8000, name: "CI", headSha: SHA, conclusion: "success", url: "https://gh/runs/8000" });
        expect(evidence.ci.checks).toContainEqual({ name: "workflow CI (run 8000)", state: "success", url: "https://gh/runs/8000" });
        expect(evidence.ci.state).toBe("success");

        // A CI run that failed, or ran for another commit, fails CI.
        routes[`${REPO}/actions/runs/8000`] = { body: { id: 8000, name: "CI", status: "completed", conclusion: "failure", head_sha: SHA } };
        expect((await collect(sources({ ownRunId: "9001", followsRunId: 8000 }))).evidence.ci.state).toBe("failure");
        routes[`${REPO}/actions/runs/8000`] = { body: { id: 8000, name: "CI", status: "completed", conclusion: "success", head_sha: "5".repeat(40) } };
        const other = await collect(sources({ ownRunId: "9001", followsRunId: 8000 }));
        expect(other.evidence.ci.state).toBe("failure");
        expect(other.notes).toContain(`workflow run 8000 ran for ${"5".repeat(40)}, not ${SHA}`);
    });

    test("a failing check run and one still running: failure wins", async () => {
        routes[`${REPO}/commits/${SHA}/check-runs?per_page=100`] = {
            body: { check_runs: [{ name: "unit", status: "completed", conclusion: "failure" }, { name: "e2e", status: "in_progress", conclusion: null }] },
        };
        expect((await collect(sources())).evidence.ci.state).toBe("failure");
    });

    test("code scanning not enabled (403) fails loudly, naming the way out; the token never shows", async () => {
        routes[`${REPO}/code-scanning/alerts?state=open&per_page=100`] = { status: 403, body: { message: "Advanced Security must be enabled for this repository to use code scanning." } };
        const failure = await collect(sources()).then(
            () => undefined,
            (error: unknown) => error as Error,
        );
        expect(failure?.message).toMatch(/GitHub GET \/repos\/acme\/platform\/code-scanning\/alerts\?state=open&per_page=100 answered 403: Advanced Security must be enabled/);
        expect(failure?.message).toMatch(/code scanning alerts could not be read for acme\/platform: enable it .* or pass --allow-missing-alerts/);
        expect(failure?.message).not.toContain(TOKEN);
    });

    test("with --allow-missing-alerts: the scanner is left out with a note; both missing is source none", async () => {
        routes[`${REPO}/code-scanning/alerts?state=open&per_page=100`] = { status: 404, body: { message: "no analysis found" } };
        const one = await collect(sources({ allowMissingAlerts: true }));
        expect(one.evidence.alerts).toMatchObject({ source: "github", openHighCritical: 1 });
        expect(one.notes).toContain("code scanning alerts not available (404: no analysis found); left out (--allow-missing-alerts)");

        routes[`${REPO}/dependabot/alerts?state=open&severity=high,critical&per_page=100`] = { status: 403, body: { message: "Dependabot alerts are disabled for this repository." } };
        const none = await collect(sources({ allowMissingAlerts: true }));
        expect(none.evidence.alerts).toEqual({ source: "none", openHighCritical: 0, items: [] });
    });

    test("a rate limit is an error even with --allow-missing-alerts", async () => {
        routes[`${REPO}/dependabot/alerts?state=open&severity=high,critical&per_page=100`] = { status: 403, body: { message: "API rate limit exceeded for installation." } };
        await expect(collect(sources({ allowMissingAlerts: true }))).rejects.toThrow(/answered 403: API rate limit exceeded/);
    });

    test("a wrong token: the error says 401, never the token", async () => {
        const error = await sources({ token: "ghs_wrong" })
            .ci(SHA)
            .catch((e: unknown) => e as GitHubApiError);
        expect(error).toBeInstanceOf(GitHubApiError);
        expect((error as GitHubApiError).status).toBe(401);
        expect((error as GitHubApiError).message).toBe(`GitHub GET ${REPO}/commits/${SHA}/status?per_page=100 answered 401: Bad credentials`);
    });

    test("a next-page link to another host is not followed with the token", async () => {
        const elsewhere: string[] = [];
        const other = http.createServer((req, res) => (elsewhere.push(String(req.headers.authorization)), res.end("[]")));
        await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
        const port = (other.address() as AddressInfo).port;
        routes[`${REPO}/pulls/41/reviews?per_page=100`] = { body: [], link: `<http://localhost:${port}/steal?page=2>; rel="next"` };
        try {
            await expect(sources().reviews(SHA, 41)).rejects.toThrow(/refusing to follow a link to another host \(http:\/\/localhost:\d+\)/);
            expect(elsewhere).toEqual([]);
        } finally {
            await new Promise<void>((resolve) => other.close(() => resolve()));
        }
    });
});
