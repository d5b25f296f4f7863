// The health gate: a colour takes more traffic only once its `/health` reports the expected version.

/**
 * The contract of every service (inventory, section 3): `GET /health` answers 200 with
 * `{"status":"healthy","version":"<v>","database":"connected","timestamp":"<iso>"}`.
 */
export interface HealthReport {
    status: string;
    version: string;
    [key: string]: unknown;
}

export type HealthVerdict = { healthy: true; version: string } | { healthy: false; reason: string };

/** Judges one answer of a health endpoint against the version the colour should run. */
export function judgeHealthResponse(statusCode: number, body: string, expectedVersion: string): HealthVerdict {
    if (statusCode !== 200) return { healthy: false, reason: `answered HTTP ${statusCode}` };
    let report: unknown;
    try {
        report = JSON.parse(body);
    } catch {
        return { healthy: false, reason: `answered 200 with a body that is not JSON: ${JSON.stringify(body.slice(0, 80))}` };
    }
    if (report === null || typeof report !== "object" || Array.isArray(report)) {
        return { healthy: false, reason: "answered 200 with JSON that is not an object" };
    }
    const { status, version } = report as Partial<Record<string, unknown>>;
    if (status !== "healthy") return { healthy: false, reason: `reports status ${JSON.stringify(status)}, not "healthy"` };
    if (typeof version !== "string") return { healthy: false, reason: "reports no version" };
    if (version !== expectedVersion) return { healthy: false, reason: `reports version ${version}, expected ${expectedVersion}` };
    return { healthy: true, version };
}

export interface HealthGateSettings {
    /** The whole gate's budget. */
    timeoutSeconds: number;
    /** Pause between a failed attempt and the next. */
    intervalSeconds: number;
    /** Attempts after the first one. */
    retries: number;
}

/** One GET; resolves with whatever the server answered, rejects on a network error or timeout. */
export type HealthProbe = (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type HealthGateResult =
    | { healthy: true; attempts: number; version: string }
    | { healthy: false; attempts: number; reason: string };

/**
 * Asks `url` until it reports `expectedVersion`, at most `retries + 1` times and within
 * `timeoutSeconds`. Each attempt may take an equal share of the budget, so one hanging
 * request cannot use it all up.
 */
export async function waitUntilHealthy(
    url: string,
    expectedVersion: string,
    settings: HealthGateSettings,
    probe: HealthProbe,
    clock: Clock = REAL_CLOCK,
): Promise<HealthGateResult> {
    const attemptsAllowed = settings.retries + 1;
    const deadline = clock.now() + settings.timeoutSeconds * 1000;
    const share = Math.max(1, Math.floor((settings.timeoutSeconds * 1000) / attemptsAllowed));
    let reason = "was not asked";
    let attempts = 0;
    while (attempts < attemptsAllowed) {
        const remaining = deadline - clock.now();
        if (remaining <= 0) break;
        attempts += 1;
        try {
            const answer = await probe(url, Math.min(share, remaining));
            const verdict = judgeHealthResponse(answer.status, answer.body, expectedVersion);
            if (verdict.healthy) return { healthy: true, attempts, version: verdict.version };
            reason = verdict.reason;
        } catch (error) {
            reason = `did not answer (${(error as Error).message})`;
        }
        if (attempts < attemptsAllowed) {
            const pause = Math.min(settings.intervalSeconds * 1000, deadline - clock.now());
            if (pause <= 0) break;
            await clock.sleep(pause);
        }
    }
    return { healthy: false, attempts, reason };
}

/** The message an `up` fails with when a gate stays closed. */
export function healthGateFailure(what: string, url: string, expectedVersion: string, settings: HealthGateSettings, result: { attempts: number; reason: string }): string {
    const tries = result.attempts === 1 ? "1 attempt" : `${result.attempts} attempts`;
    return (
        `health gate closed for ${what}: ${url} ${result.reason} ` +
        `(expected version ${expectedVersion}; ${tries} within ${settings.timeoutSeconds} s); weights left as they were`
    );
}
