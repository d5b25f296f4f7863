// Approvals of a pull request: each reviewer's latest verdict.

/** `GET /repos/{owner}/{repo}/pulls/{n}/reviews`, the fields read here. */
export interface GitHubReview {
    id?: number;
    user?: { login?: string } | null;
    state?: string;
    submitted_at?: string | null;
}

/** Review states that set a reviewer's verdict; COMMENTED and PENDING leave it as it was (as on GitHub). */
const VERDICTS = new Set(["APPROVED", "CHANGES_REQUESTED", "DISMISSED"]);

/**
 * The reviewers whose latest verdict is APPROVED, sorted. Reviews are taken in the order of
 * their `submitted_at` (GitHub lists them oldest first; the order is kept for equal times), so a
 * later "changes requested" or a dismissal withdraws an earlier approval, and a later comment
 * does not.
 */
export function approversOf(reviews: readonly GitHubReview[]): string[] {
    const ordered = reviews
        .map((review, index) => {
            const at = Date.parse(review.submitted_at ?? "");
            // Unsubmitted (pending) reviews carry no time; they set no verdict either.
            return { review, index, at: Number.isNaN(at) ? -Infinity : at };
        })
        .sort((a, b) => (a.at === b.at ? a.index - b.index : a.at - b.at));
    const verdict = new Map<string, string>();
    for (const { review } of ordered) {
        const login = review.user?.login;
        const state = (review.state ?? "").toUpperCase();
        if (login && VERDICTS.has(state)) verdict.set(login, state);
    }
    return [...verdict.entries()]
        .filter(([, state]) => state === "APPROVED")
        .map(([login]) => login)
        .sort();
}
