// A small client for GitHub's REST API: token in the header only, pages followed, errors that name the request.

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

export interface GitHubRepo {
    owner: string;
    name: string;
}

/** `owner/name`; throws naming the input it came from. */
export function parseRepo(text: string, from: string): GitHubRepo {
    const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(text.trim());
    if (!match?.[1] || !match[2]) throw new Error(`${from}: expected owner/name, got ${JSON.stringify(text)}`);
    return { owner: match[1], name: match[2] };
}

/** A request GitHub answered with an error status. */
export class GitHubApiError extends Error {
    constructor(
        readonly status: number,
        readonly path: string,
        readonly detail: string,
    ) {
        super(`GitHub GET ${path} answered ${status}${detail ? `: ${detail}` : ""}`);
        this.name = "GitHubApiError";
    }

    /**
     * The feature is off for the repository or the token may not see it (Dependabot alerts
     * disabled, no code scanning analysis, GitHub Advanced Security missing). A rate limit is not that.
     */
    get notEnabled(): boolean {
        return (this.status === 403 || this.status === 404) && !/rate limit/i.test(this.detail);
    }
}

export interface GitHubClientOptions {
    /** `GITHUB_API_URL` (GitHub Enterprise: `https://host/api/v3`). */
    apiUrl: string;
    token: string;
    /** Per request. */
    timeoutMs?: number;
    /** At most this many pages per list (100 items each). */
    maxPages?: number;
}

/** The next page from a `Link` header, if any. */
export function nextPageUrl(link: string | null): string | undefined {
    if (!link) return undefined;
    for (const part of link.split(",")) {
        const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
        if (match?.[1]) return match[1];
    }
    return undefined;
}

export class GitHubClient {
    private readonly base: URL;

    constructor(private readonly options: GitHubClientOptions) {
        this.base = new URL(options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`);
    }

    /** Absolute URL of an API path (`/repos/...`), below the base (which may have a path of its own). */
    private urlOf(path: string): URL {
        return new URL(path.replace(/^\//, ""), this.base);
    }

    /** Never sends the token anywhere but the API's own origin. */
    private async request(url: URL, path: string): Promise<{ body: unknown; link: string | null }> {
        if (url.origin !== this.base.origin) throw new Error(`GitHub GET ${path}: refusing to follow a link to another host (${url.origin})`);
        let response: Response;
        try {
            response = await fetch(url, {
                headers: {
                    Accept: "application/vnd.github+json",
                    Authorization: `Bearer ${this.options.token}`,
                    "X-GitHub-Api-Version": "2022-11-28",
                    "User-Agent": "release-platform-evidence",
                },
                signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
            });
        } catch (error) {
            throw new Error(this.redact(`GitHub GET ${path} failed: ${(error as Error).message}`));
        }
        const text = await response.text();
        if (!response.ok) {
            let detail = text.slice(0, 300);
            try {
                detail = String((JSON.parse(text) as { message?: unknown }).message ?? detail);
            } catch {
                // not JSON: keep the text
            }
            throw new GitHubApiError(response.status, path, this.redact(detail));
        }
        try {
            return { body: JSON.parse(text) as unknown, link: response.headers.get("link") };
        } catch {
            throw new Error(`GitHub GET ${path} answered ${response.status} with a body that is not JSON`);
        }
    }

    private redact(text: string): string {
        return this.options.token === "" ? text : text.split(this.options.token).join("***");
    }

    async get<T>(path: string): Promise<T> {
        return (await this.request(this.urlOf(path), path)).body as T;
    }

    /** Every item of a paginated list; `items` picks them out of a page (a page is the list itself by default). */
    async list<T>(path: string, items: (page: unknown) => T[] = (page) => page as T[]): Promise<T[]> {
        const out: T[] = [];
        let url: URL | undefined = this.urlOf(path);
        for (let page = 0; url !== undefined; page++) {
            if (page >= (this.options.maxPages ?? 20)) throw new Error(`GitHub GET ${path}: more than ${this.options.maxPages ?? 20} pages`);
            const { body, link } = await this.request(url, path);
            const pageItems = items(body);
            if (!Array.isArray(pageItems)) throw new Error(`GitHub GET ${path} answered with an unexpected shape (no list)`);
            out.push(...pageItems);
            const next = nextPageUrl(link);
            url = next === undefined ? undefined : new URL(next);
        }
        return out;
    }
}
