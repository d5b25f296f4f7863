// Approvals of a pull request: each reviewer's latest verdict.

/** `GET /repos/{owner}/{repo}/pulls/{n}/reviews`, the fields read here. */
export interface GitHubReview {
    id?: number;
    user?: { login?: string } | null;
    state?: string;
    submitted_at?: string | null;
    /** The commit the review was made on (the pull request's head then). */
    commit_id?: string | null;
}

/** Review states that set a reviewer's verdict; COMMENTED and PENDING leave it as it was (as on GitHub). */
const VERDICTS = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/**
 * Each reviewer's latest verdict (APPROVED, CHANGES_REQUESTED, DISMISSED) as the review that set
 * it. Reviews are taken in the order of their `submitted_at` (GitHub lists them oldest first; the
 * order is kept for equal times), so a later "changes requested" or a dismissal withdraws an
 * earlier approval, and a later comment does not.
 */
export function latestVerdicts(reviews: readonly GitHubReview[]): Map<string, GitHubReview> {
    const ordered = reviews
        .map((review, index) => {
            const at = Date.parse(review.submitted_at ?? "");
            // Unsubmitted (pending) reviews carry no time; they set no verdict either.
            return { review, index, at: Number.isNaN(at) ? -Infinity : at };
        })
        .sort((a, b) => (a.at === b.at ? a.index - b.index : a.at - b.at));
    const verdict = new Map<string, GitHubReview>();
    for (const { review } of ordered) {
        const login = review.user?.login;
        const state = (review.state ?? "").toUpperCase();
        if (login && VERDICTS.has(state)) verdict.set(login, review);
    }
    return verdict;
}

/** The latest approving review of each reviewer whose latest verdict is APPROVED, sorted by login. */
export function approvingReviews(reviews: readonly GitHubReview[]): { login: string; review: GitHubReview }[] {
    return [...latestVerdicts(reviews).entries()]
        .filter(([, review]) => (review.state ?? "").toUpperCase() === "APPROVED")
        .map(([login, review]) => ({ login, review }))
        .sort((a, b) => (a.login < b.login ? -1 : a.login > b.login ? 1 : 0));
}

/** The reviewers whose latest verdict is APPROVED, sorted. */
export function approversOf(reviews: readonly GitHubReview[]): string[] {
    return approvingReviews(reviews).map((a) => a.login);
}

/** `GET /repos/{owner}/{repo}/collaborators/{username}/permission`, the fields read here. */
export interface GitHubPermission {
    permission?: string;
    role_name?: string;
}

/** Roles that may push to the repository: only their approvals count. */
const WRITE_ROLES = new Set(["admin", "maintain", "write"]);

/** Whether a collaborator's permission is write access or more (admin, maintain, write; not triage or read). */
export function canWrite(permission: GitHubPermission): boolean {
    return WRITE_ROLES.has((permission.role_name ?? "").toLowerCase()) || WRITE_ROLES.has((permission.permission ?? "").toLowerCase());
}

export interface CountedApprovals {
    approvers: string[];
    notCounted: { login: string; reason: string }[];
}

/**
 * The approvals that count for a release of a pull request whose head is `headSha`: the latest
 * approving review of each reviewer, made on that head commit (an approval of an earlier push does
 * not cover what was pushed after it), by someone with write access (`permissionOf`).
 */
export async function countApprovals(
    reviews: readonly GitHubReview[],
    headSha: string,
    permissionOf: (login: string) => Promise<GitHubPermission>,
): Promise<CountedApprovals> {
    const approvers: string[] = [];
    const notCounted: CountedApprovals["notCounted"] = [];
    for (const { login, review } of approvingReviews(reviews)) {
        const on = (review.commit_id ?? "").toLowerCase();
        if (on !== headSha.toLowerCase()) {
            notCounted.push({ login, reason: on ? `approved ${on.slice(0, 12)}, not the head ${headSha.slice(0, 12)} that was merged` : "the review names no commit" });
            continue;
        }
        const permission = await permissionOf(login);
        if (!canWrite(permission)) {
            notCounted.push({ login, reason: `has ${permission.role_name ?? permission.permission ?? "no"} access to the repository, not write` });
            continue;
        }
        approvers.push(login);
    }
    return { approvers, notCounted };
}
