// A local stand-in for GitHub's REST API, over HTTPS with a certificate of the local test CA (the
// collector verifies it like api.github.com's): it answers the requests the evidence collector makes
// for one repository the way GitHub answers them for a merged pull request, and counts the token.
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { localServerCertificate } from "./pve-emulator/certificate";

export interface StandInReview {
    login: string;
    state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED";
    /** The commit the review was made on. */
    commit: string;
    at: string;
}

/** One commit that landed on main through a pull request, and what GitHub knows about it. */
export interface StandInCommit {
    sha: string;
    pullRequest: number;
    /** The pull request's head when it was merged. */
    head: string;
    reviews: StandInReview[];
    /** The CI workflow run of the commit on main. */
    ciRun: { id: number; conclusion: "success" | "failure" };
}

export class GitHubStandIn {
    readonly token = "ghs_rehearsal-token-0123456789";
    readonly repository: string;
    readonly commits = new Map<string, StandInCommit>();
    /** Repository permission per login (`write`, `read`, ...); others are no collaborators (404). */
    readonly permissions = new Map<string, string>();
    /** Open high/critical Dependabot alerts. */
    dependabot: unknown[] = [];
    /** Workflow runs in progress (the deploy runs collecting evidence). */
    readonly running = new Set<number>();
    readonly requests: string[] = [];

    private constructor(
        private readonly server: https.Server,
        repository: string,
    ) {
        this.repository = repository;
    }

    static async start(repository: string): Promise<GitHubStandIn> {
        const server = https.createServer(localServerCertificate("github-standin"));
        const standIn = new GitHubStandIn(server, repository);
        server.on("request", (req, res) => {
            const url = req.url ?? "";
            standIn.requests.push(url);
            const reply = (status: number, body: unknown) => {
                res.writeHead(status, { "content-type": "application/json" });
                res.end(JSON.stringify(body));
            };
            if (req.headers.authorization !== `Bearer ${standIn.token}`) return reply(401, { message: "Bad credentials" });
            const found = standIn.answer(url);
            return found === undefined ? reply(404, { message: "Not Found" }) : reply(200, found);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        return standIn;
    }

    get apiUrl(): string {
        return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    }

    close(): Promise<void> {
        return new Promise((resolve) => this.server.close(() => resolve()));
    }

    private ciRunOf(id: number): StandInCommit | undefined {
        return [...this.commits.values()].find((c) => c.ciRun.id === id);
    }

    /** GitHub's answer to a GET, or undefined for a 404. */
    private answer(url: string): unknown {
        const base = `/repos/${this.repository}`;
        if (!url.startsWith(`${base}/`)) return undefined;
        const route = url.slice(base.length);
        let m: RegExpExecArray | null;
        if ((m = /^\/commits\/([0-9a-f]{40})\/status\?per_page=100$/.exec(route))) {
            return this.commits.has(m[1] ?? "") ? { state: "pending", total_count: 0, statuses: [] } : undefined;
        }
        if ((m = /^\/commits\/([0-9a-f]{40})\/check-runs\?per_page=100$/.exec(route))) {
            const commit = this.commits.get(m[1] ?? "");
            if (!commit) return undefined;
            const check = (name: string, job: number) => ({
                name,
                status: "completed",
                conclusion: commit.ciRun.conclusion,
                html_url: `https://github.com/${this.repository}/actions/runs/${commit.ciRun.id}/job/${job}`,
                details_url: `https://github.com/${this.repository}/actions/runs/${commit.ciRun.id}/job/${job}`,
            });
            return { total_count: 1, check_runs: [check("Unit and policy tests", 1)] };
        }
        if ((m = /^\/commits\/([0-9a-f]{40})\/pulls$/.exec(route))) {
            const commit = this.commits.get(m[1] ?? "");
            return commit ? [{ number: commit.pullRequest, state: "closed", merge_commit_sha: commit.sha, head: { sha: commit.head } }] : [];
        }
        if ((m = /^\/pulls\/(\d+)$/.exec(route))) {
            const commit = [...this.commits.values()].find((c) => c.pullRequest === Number(m?.[1]));
            return commit ? { number: commit.pullRequest, merged: true, merge_commit_sha: commit.sha, head: { sha: commit.head } } : undefined;
        }
        if ((m = /^\/pulls\/(\d+)\/reviews\?per_page=100$/.exec(route))) {
            const commit = [...this.commits.values()].find((c) => c.pullRequest === Number(m?.[1]));
            return commit?.reviews.map((r, i) => ({ id: i + 1, user: { login: r.login }, state: r.state, submitted_at: r.at, commit_id: r.commit }));
        }
        if ((m = /^\/collaborators\/([^/]+)\/permission$/.exec(route))) {
            const permission = this.permissions.get(decodeURIComponent(m[1] ?? ""));
            return permission === undefined ? undefined : { permission: permission === "maintain" ? "write" : permission, role_name: permission };
        }
        if (route === "/dependabot/alerts?state=open&severity=high,critical&per_page=100") return this.dependabot;
        if (route === "/code-scanning/alerts?state=open&per_page=100") return [];
        if ((m = /^\/actions\/runs\/(\d+)$/.exec(route))) {
            const id = Number(m[1]);
            const ci = this.ciRunOf(id);
            if (ci) return { id, name: "CI", event: "push", status: "completed", conclusion: ci.ciRun.conclusion, head_sha: ci.sha, html_url: `https://github.com/${this.repository}/actions/runs/${id}` };
            if (this.running.has(id)) {
                return { id, name: "Deploy", event: "workflow_run", status: "in_progress", conclusion: null, html_url: `https://github.com/${this.repository}/actions/runs/${id}`, repository: { full_name: this.repository } };
            }
            return undefined;
        }
        return undefined;
    }
}
