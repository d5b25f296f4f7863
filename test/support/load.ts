// A bounded load generator on loopback: keep-alive GETs from a few workers, each answer recorded with its colour.
import * as http from "node:http";

export interface LoadSample {
    /** ms since the generator started. */
    start: number;
    end: number;
    /** HTTP status, or 0 for a network error. */
    status: number;
    /** `x-colour` of the answer. */
    colour: string | undefined;
    error?: string;
}

export interface LoadOptions {
    /** Parallel keep-alive connections. */
    concurrency: number;
    /** Stops after this many requests... */
    maxRequests: number;
    /** ...or after this long, whichever comes first. */
    maxSeconds: number;
    /** Pause of each worker between requests, to leave the machine to the CLI. */
    pauseMs: number;
    /**
     * Reuse connections (default). Off: one connection per request, which takes the client's
     * side of a keep-alive race out of the measurement (a server closing an idle connection as
     * the next request is sent on it; browsers retry such an idempotent request, Node does not).
     */
    keepAlive?: boolean;
}

export const DEFAULT_LOAD: LoadOptions = { concurrency: 4, maxRequests: 400_000, maxSeconds: 600, pauseMs: 2, keepAlive: true };

export class LoadGenerator {
    readonly samples: LoadSample[] = [];
    private readonly t0 = performance.now();
    private stopping = false;
    private readonly agent: http.Agent;
    private readonly workers: Promise<void>[] = [];

    constructor(
        private readonly url: string,
        private readonly options: LoadOptions = DEFAULT_LOAD,
    ) {
        this.agent = new http.Agent({ keepAlive: options.keepAlive ?? true, maxSockets: options.concurrency });
    }

    /** ms since the generator started (the samples' clock). */
    now(): number {
        return performance.now() - this.t0;
    }

    start(): this {
        for (let i = 0; i < this.options.concurrency; i++) this.workers.push(this.work());
        return this;
    }

    async stop(): Promise<LoadSample[]> {
        this.stopping = true;
        await Promise.all(this.workers);
        this.agent.destroy();
        return this.samples;
    }

    private done(): boolean {
        return this.stopping || this.samples.length >= this.options.maxRequests || this.now() >= this.options.maxSeconds * 1000;
    }

    private async work(): Promise<void> {
        while (!this.done()) {
            this.samples.push(await this.once());
            if (this.options.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
        }
    }

    private once(): Promise<LoadSample> {
        const start = this.now();
        return new Promise((resolve) => {
            const req = http.get(this.url, { agent: this.agent, timeout: 10_000 }, (res) => {
                res.resume();
                res.on("end", () => {
                    const colour = res.headers["x-colour"];
                    resolve({ start, end: this.now(), status: res.statusCode ?? 0, colour: typeof colour === "string" ? colour : undefined });
                });
            });
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", (error) => resolve({ start, end: this.now(), status: 0, colour: undefined, error: error.message }));
        });
    }
}

export function failures(samples: readonly LoadSample[]): LoadSample[] {
    return samples.filter((s) => s.status !== 200);
}

/** Green's share of the answers that started in [from, to). */
export function greenShare(samples: readonly LoadSample[], from: number, to: number): { count: number; share: number } {
    const inside = samples.filter((s) => s.start >= from && s.start < to && s.status === 200);
    const green = inside.filter((s) => s.colour === "green").length;
    return { count: inside.length, share: inside.length === 0 ? Number.NaN : green / inside.length };
}

/**
 * When traffic had followed a shift to `targetGreen` percent: the first moment after `from` by
 * which the last `window` answers (in start order) held green's target share within `tolerance`
 * (exactly, for 0 and 100). Conservative: it is the start of the window's last answer, so it
 * lags the real switch by up to one window of requests. Undefined when that never happens.
 */
export function shiftTookEffect(samples: readonly LoadSample[], from: number, targetGreen: number, window = 50, tolerance = 0.06): number | undefined {
    const ordered = samples.filter((s) => s.status === 200 && s.start >= from).sort((a, b) => a.start - b.start);
    const target = targetGreen / 100;
    const fits = (share: number): boolean =>
        targetGreen === 0 ? share === 0 : targetGreen === 100 ? share === 1 : Math.abs(share - target) <= tolerance;
    let green = 0;
    for (let i = 0; i < ordered.length; i++) {
        if (ordered[i]?.colour === "green") green += 1;
        if (i >= window) {
            if (ordered[i - window]?.colour === "green") green -= 1;
        }
        if (i >= window - 1 && fits(green / window)) return ordered[i]?.start;
    }
    return undefined;
}
