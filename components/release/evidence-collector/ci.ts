// A commit's CI status: GitHub's combined status and its check runs reduced to one state.
import type { CiState, ReleaseEvidence } from "../evidence";

/** `GET /repos/{owner}/{repo}/commits/{ref}/status`, the fields read here. */
export interface GitHubCombinedStatus {
    state?: string;
    total_count?: number;
    statuses?: { context?: string; state?: string; target_url?: string | null }[];
}

/** `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`, the fields read here. */
export interface GitHubCheckRuns {
    total_count?: number;
    check_runs?: { name?: string; status?: string; conclusion?: string | null; html_url?: string | null; details_url?: string | null }[];
}

export type CiCheck = ReleaseEvidence["ci"]["checks"][number];

/** A commit status (success, pending, failure, error) as our state; anything else is unknown. */
export function statusState(state: string | undefined): CiState {
    return state === "success" || state === "pending" || state === "failure" || state === "error" ? state : "unknown";
}

/**
 * A check run as our state: not completed yet is pending; completed counts as success only when
 * its conclusion is success, neutral or skipped (what branch protection accepts). Cancelled,
 * timed out, action required, stale and failure all fail.
 */
export function checkRunState(status: string | undefined, conclusion: string | null | undefined): CiState {
    if (status !== "completed") return status === undefined ? "unknown" : "pending";
    if (conclusion === "success" || conclusion === "neutral" || conclusion === "skipped") return "success";
    if (conclusion === null || conclusion === undefined) return "unknown";
    return "failure";
}

/** Whether a check run is a job of the workflow run `runId` (its details link points into that run). */
export function isJobOfRun(run: { details_url?: string | null }, runId: string | undefined): boolean {
    return runId !== undefined && runId !== "" && (run.details_url ?? "").includes(`/actions/runs/${runId}/`);
}

/**
 * Every status and check run as one list of checks, in the order GitHub gave them. The jobs of
 * `ownRunId` (GITHUB_RUN_ID: the workflow run collecting the evidence) are left out: the
 * collecting job is one of them and still running, and the jobs it needs have passed, or it
 * would not run.
 */
export function ciChecks(status: GitHubCombinedStatus | undefined, runs: GitHubCheckRuns | undefined, ownRunId?: string): CiCheck[] {
    const checks: CiCheck[] = [];
    for (const s of status?.statuses ?? []) {
        checks.push({ name: s.context ?? "(status without context)", state: statusState(s.state), ...(s.target_url ? { url: s.target_url } : {}) });
    }
    for (const run of (runs?.check_runs ?? []).filter((r) => !isJobOfRun(r, ownRunId))) {
        checks.push({ name: run.name ?? "(unnamed check run)", state: checkRunState(run.status, run.conclusion), ...(run.html_url ? { url: run.html_url } : {}) });
    }
    return checks;
}

/** The worst first: one failing check fails the commit, one running check keeps it pending. */
const PRECEDENCE: readonly CiState[] = ["failure", "error", "pending", "unknown", "success"];

/**
 * One state for the commit: the worst of its checks; `unknown` when it has none. The combined
 * status's own `state` is not used: GitHub reports `pending` for a commit without any status,
 * even when all its check runs passed.
 */
export function reduceCiState(checks: readonly CiCheck[]): CiState {
    if (checks.length === 0) return "unknown";
    for (const state of PRECEDENCE) if (checks.some((c) => c.state === state)) return state;
    return "unknown";
}
