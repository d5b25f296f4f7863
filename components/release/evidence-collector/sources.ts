// Where the evidence about a commit comes from: GitHub's REST API, or files of the same shapes (offline, tests).
import * as fs from "node:fs";
import * as path from "node:path";
import type { ReleaseEvidence } from "../evidence";
import { codeScanningAlertItems, dependabotAlertItems, type AlertItem, type GitHubCodeScanningAlert, type GitHubDependabotAlert } from "./alerts";
import { checkRunState, ciChecks, reduceCiState, type GitHubCheckRuns, type GitHubCombinedStatus } from "./ci";
import { GitHubApiError, type GitHubClient, type GitHubRepo } from "./github";
import { approversOf, countApprovals, type GitHubPermission, type GitHubReview } from "./reviews";

/** A piece of evidence, and what the person collecting it should know about how it was found. */
export interface Sourced<T> {
    value: T;
    notes: string[];
}

export type CiEvidence = Omit<ReleaseEvidence["ci"], "coveragePercent">;
export type AlertsEvidence = ReleaseEvidence["alerts"];
export type ReviewsEvidence = ReleaseEvidence["reviews"];
export type RunEvidence = NonNullable<ReleaseEvidence["run"]>;

export interface EvidenceSources {
    /** Where the commit's evidence comes from, for the summary. */
    readonly description: string;
    ci(sha: string): Promise<Sourced<CiEvidence>>;
    alerts(): Promise<Sourced<AlertsEvidence>>;
    /** `pullRequest`: the pull request that brought the commit, when known; GitHub can look it up. */
    reviews(sha: string, pullRequest: number | undefined): Promise<Sourced<ReviewsEvidence>>;
    /** The workflow run collecting the evidence, as GitHub reports it; undefined outside one. */
    run(): Promise<Sourced<RunEvidence | undefined>>;
}

/** The file names of the offline source, in GitHub's response shapes. */
export const EVIDENCE_INPUT_FILES = {
    ciStatus: "ci-status.json",
    checkRuns: "check-runs.json",
    dependabotAlerts: "dependabot-alerts.json",
    codeScanningAlerts: "code-scanning-alerts.json",
    reviews: "reviews.json",
} as const;

/** A pull request as `GET /repos/{owner}/{repo}/commits/{sha}/pulls` lists it. */
interface GitHubPull {
    number?: number;
    state?: string;
    merge_commit_sha?: string | null;
    head?: { sha?: string } | null;
}

/** The pull request a commit came from: the one it is the merge commit of, else the one it heads, else the first listed. */
export function pullRequestOfCommit(pulls: readonly GitHubPull[], sha: string): number | undefined {
    const pick = pulls.find((p) => p.merge_commit_sha === sha) ?? pulls.find((p) => p.head?.sha === sha) ?? pulls[0];
    return pick?.number;
}

export interface GitHubSourceOptions {
    /** Record the alerts without a scanner that is not enabled (403/404), instead of failing. */
    allowMissingAlerts: boolean;
    /** GITHUB_RUN_ID of the workflow run collecting the evidence: its own jobs are not the commit's CI (see `ciChecks`); recorded as `run`. */
    ownRunId?: string;
    /** The id of the CI workflow run a deployment follows (the `workflow_run` event's run): recorded with its conclusion. */
    followsRunId?: number;
}

/** `GET /repos/{owner}/{repo}/actions/runs/{id}`, the fields read here. */
interface GitHubWorkflowRun {
    id?: number;
    name?: string | null;
    event?: string;
    status?: string | null;
    conclusion?: string | null;
    head_sha?: string;
    html_url?: string;
    repository?: { full_name?: string } | null;
}

/** A pull request as `GET /repos/{owner}/{repo}/pulls/{n}` answers it, the fields read here. */
interface GitHubPullDetail {
    number?: number;
    merged?: boolean;
    merge_commit_sha?: string | null;
    head?: { sha?: string } | null;
}

export function githubSources(client: GitHubClient, repo: GitHubRepo, options: GitHubSourceOptions): EvidenceSources {
    const base = `/repos/${encodeURIComponent(repo.owner)}/${encodeURIComponent(repo.name)}`;

    /** One scanner's alerts; undefined when it is not enabled and that is allowed. */
    const scanner = async <T>(label: string, pathAndQuery: string, notes: string[]): Promise<T[] | undefined> => {
        try {
            return await client.list<T>(`${base}${pathAndQuery}`);
        } catch (error) {
            if (!(error instanceof GitHubApiError) || !error.notEnabled) throw error;
            if (!options.allowMissingAlerts) {
                throw new Error(
                    `${error.message}\n${label} could not be read for ${repo.owner}/${repo.name}: enable it (and give the token security_events / Dependabot alerts read access), ` +
                        "or pass --allow-missing-alerts to record the alerts without it",
                );
            }
            notes.push(`${label} not available (${error.status}: ${error.detail}); left out (--allow-missing-alerts)`);
            return undefined;
        }
    };

    return {
        description: `GitHub ${repo.owner}/${repo.name}`,

        async ci(sha) {
            const status = await client.get<GitHubCombinedStatus>(`${base}/commits/${sha}/status?per_page=100`);
            const runs = await client.list<NonNullable<GitHubCheckRuns["check_runs"]>[number]>(
                `${base}/commits/${sha}/check-runs?per_page=100`,
                (page) => (page as GitHubCheckRuns).check_runs ?? [],
            );
            const checks = ciChecks(status, { check_runs: runs }, options.ownRunId);
            const notes: string[] = [];
            let workflowRun: CiEvidence["workflowRun"];
            if (options.followsRunId !== undefined) {
                // The CI run this deployment follows: finished, successful, and for this very commit.
                const followed = await client.get<GitHubWorkflowRun>(`${base}/actions/runs/${options.followsRunId}`);
                workflowRun = {
                    id: options.followsRunId,
                    name: followed.name ?? "(unnamed workflow)",
                    headSha: followed.head_sha ?? "",
                    conclusion: followed.conclusion ?? null,
                    ...(followed.html_url ? { url: followed.html_url } : {}),
                };
                const state = followed.head_sha !== sha ? "failure" : checkRunState(followed.status ?? undefined, followed.conclusion);
                if (followed.head_sha !== sha) notes.push(`workflow run ${options.followsRunId} ran for ${followed.head_sha ?? "?"}, not ${sha}`);
                checks.push({ name: `workflow ${workflowRun.name} (run ${options.followsRunId})`, state, ...(followed.html_url ? { url: followed.html_url } : {}) });
            }
            return { value: { state: reduceCiState(checks), source: "github", checks, ...(workflowRun ? { workflowRun } : {}) }, notes };
        },

        async run() {
            if (options.ownRunId === undefined || options.ownRunId === "") return { value: undefined, notes: ["not inside a GitHub Actions run (no GITHUB_RUN_ID): no run recorded"] };
            const own = await client.get<GitHubWorkflowRun>(`${base}/actions/runs/${encodeURIComponent(options.ownRunId)}`);
            return {
                value: {
                    repository: own.repository?.full_name ?? `${repo.owner}/${repo.name}`,
                    id: own.id ?? Number(options.ownRunId),
                    workflow: own.name ?? "(unnamed workflow)",
                    event: own.event ?? "unknown",
                    status: own.status ?? "unknown",
                    ...(own.html_url ? { url: own.html_url } : {}),
                },
                notes: [],
            };
        },

        async alerts() {
            const notes: string[] = [];
            const dependabot = await scanner<GitHubDependabotAlert>("Dependabot alerts", "/dependabot/alerts?state=open&severity=high,critical&per_page=100", notes);
            const codeScanning = await scanner<GitHubCodeScanningAlert>("code scanning alerts", "/code-scanning/alerts?state=open&per_page=100", notes);
            return { value: alertsEvidence("github", dependabot, codeScanning), notes };
        },

        async reviews(sha, pullRequest) {
            let number = pullRequest;
            if (number === undefined) {
                number = pullRequestOfCommit(await client.get<GitHubPull[]>(`${base}/commits/${sha}/pulls`), sha);
                if (number === undefined) return { value: { source: "github", approvals: 0, approvers: [] }, notes: [`no pull request found for ${sha}`] };
            }
            // The pull request must be the commit's own: headed by it, or merged as it.
            const pull = await client.get<GitHubPullDetail>(`${base}/pulls/${number}`);
            const head = pull.head?.sha ?? "";
            if (head !== sha && pull.merge_commit_sha !== sha) {
                return {
                    value: { source: "github", pullRequest: number, approvals: 0, approvers: [] },
                    notes: [`pull request #${number} neither has ${sha} as its head nor was merged as it: its reviews do not count for this commit`],
                };
            }
            const reviews = await client.list<GitHubReview>(`${base}/pulls/${number}/reviews?per_page=100`);
            const counted = await countApprovals(reviews, head, async (login) => {
                try {
                    return await client.get<GitHubPermission>(`${base}/collaborators/${encodeURIComponent(login)}/permission`);
                } catch (error) {
                    // Not a collaborator (any more): no access.
                    if (error instanceof GitHubApiError && error.status === 404) return { permission: "none" };
                    throw error;
                }
            });
            return {
                value: {
                    source: "github",
                    pullRequest: number,
                    approvals: counted.approvers.length,
                    approvers: counted.approvers,
                    ...(counted.notCounted.length > 0 ? { notCounted: counted.notCounted } : {}),
                },
                notes: counted.notCounted.map((n) => `approval by ${n.login} not counted: ${n.reason}`),
            };
        },
    };
}

/** Alerts of the scanners that could be read; source none when neither could. */
function alertsEvidence(source: "github" | "file", dependabot: GitHubDependabotAlert[] | undefined, codeScanning: GitHubCodeScanningAlert[] | undefined): AlertsEvidence {
    if (dependabot === undefined && codeScanning === undefined) return { source: "none", openHighCritical: 0, items: [] };
    const items: AlertItem[] = [...dependabotAlertItems(dependabot ?? []), ...codeScanningAlertItems(codeScanning ?? [])];
    return { source, openHighCritical: items.length, items };
}

/** A JSON file of the inputs folder; undefined when it does not exist. */
function readInput(dir: string, name: string): unknown {
    const file = path.join(dir, name);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw new Error(`${file}: ${(error as Error).message}`);
    }
    try {
        return JSON.parse(text) as unknown;
    } catch (error) {
        throw new Error(`${file}: not JSON (${(error as Error).message})`);
    }
}

function listInput<T>(dir: string, name: string): T[] | undefined {
    const value = readInput(dir, name);
    if (value !== undefined && !Array.isArray(value)) throw new Error(`${path.join(dir, name)}: expected a list, as GitHub answers it`);
    return value as T[] | undefined;
}

function objectInput<T>(dir: string, name: string): T | undefined {
    const value = readInput(dir, name);
    if (value !== undefined && (value === null || typeof value !== "object" || Array.isArray(value))) {
        throw new Error(`${path.join(dir, name)}: expected an object, as GitHub answers it`);
    }
    return value as T | undefined;
}

/**
 * The offline source: GitHub's responses saved as files in `dir` (EVIDENCE_INPUT_FILES). A missing
 * file is a source of `none`: CI unknown, no approvals, no alerts known.
 */
export function fileSources(dir: string): EvidenceSources {
    const missing = (name: string) => `${path.join(dir, name)} not found`;
    return {
        description: `files in ${dir}`,

        async ci() {
            const status = objectInput<GitHubCombinedStatus>(dir, EVIDENCE_INPUT_FILES.ciStatus);
            const runs = objectInput<GitHubCheckRuns>(dir, EVIDENCE_INPUT_FILES.checkRuns);
            if (status === undefined && runs === undefined) {
                return { value: { state: "unknown", source: "none", checks: [] }, notes: [`${missing(EVIDENCE_INPUT_FILES.ciStatus)}, nor ${EVIDENCE_INPUT_FILES.checkRuns}`] };
            }
            const checks = ciChecks(status, runs);
            return { value: { state: reduceCiState(checks), source: "file", checks }, notes: [] };
        },

        async alerts() {
            const dependabot = listInput<GitHubDependabotAlert>(dir, EVIDENCE_INPUT_FILES.dependabotAlerts);
            const codeScanning = listInput<GitHubCodeScanningAlert>(dir, EVIDENCE_INPUT_FILES.codeScanningAlerts);
            const notes = [
                ...(dependabot === undefined ? [missing(EVIDENCE_INPUT_FILES.dependabotAlerts)] : []),
                ...(codeScanning === undefined ? [missing(EVIDENCE_INPUT_FILES.codeScanningAlerts)] : []),
            ];
            return { value: alertsEvidence("file", dependabot, codeScanning), notes };
        },

        async run() {
            return { value: undefined, notes: [] };
        },

        async reviews(_sha, pullRequest) {
            const reviews = listInput<GitHubReview>(dir, EVIDENCE_INPUT_FILES.reviews);
            if (reviews === undefined) return { value: { source: "none", approvals: 0, approvers: [] }, notes: [missing(EVIDENCE_INPUT_FILES.reviews)] };
            const approvers = approversOf(reviews);
            return {
                value: { source: "file", ...(pullRequest === undefined ? {} : { pullRequest }), approvals: approvers.length, approvers },
                notes: [],
            };
        },
    };
}
