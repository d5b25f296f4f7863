// The release's pure core: ladder, order, health verdicts and the health gate's retries, shift checks.
import * as path from "node:path";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, parsePlatformConfig } from "../../components/config";
import {
    checkShiftInputs,
    checkWeightMove,
    coloursToGate,
    DependencyCycleError,
    drainingColours,
    judgeHealthResponse,
    nextWeightStep,
    previousWeightStep,
    releaseDependencies,
    releaseOrder,
    risingColours,
    waitForDrain,
    waitUntilHealthy,
    weightsForGreen,
    type Clock,
    type ShiftInputs,
    type Weights,
} from "../../components/release";

const LADDER = [0, 10, 50, 100];

describe("weight ladder", () => {
    test.each([
        [0, 10],
        [10, 50],
        [50, 100],
        [100, undefined],
        [5, 10], // off the ladder (adopted by hand): the next step up
        [75, 100],
    ])("after %s comes %s", (current, next) => {
        expect(nextWeightStep(LADDER, current)).toBe(next);
    });

    test.each([
        [100, 50],
        [50, 10],
        [10, 0],
        [0, undefined],
    ])("before %s comes %s", (current, previous) => {
        expect(previousWeightStep(LADDER, current)).toBe(previous);
    });

    test("an unsorted ladder is read in order", () => {
        expect(nextWeightStep([100, 0, 50, 10], 10)).toBe(50);
    });

    test.each([
        [0, 0, "none"],
        [0, 10, "forward"],
        [10, 50, "forward"],
        [50, 100, "forward"],
        [100, 50, "back"],
        [50, 10, "back"],
        [10, 0, "rollback"],
        [50, 0, "rollback"],
        [100, 0, "rollback"],
    ])("green %s -> %s is allowed (%s)", (from, to, kind) => {
        expect(checkWeightMove(LADDER, from, to)).toEqual({ ok: true, kind });
    });

    test.each([
        [0, 50, "green moves one ladder step per up (0, 10, 50, 100): from 0 the next step is 10, not 50"],
        [0, 100, "green moves one ladder step per up (0, 10, 50, 100): from 0 the next step is 10, not 100"],
        [10, 100, "green moves one ladder step per up (0, 10, 50, 100): from 10 the next step is 50, not 100"],
        [100, 10, "green moves one ladder step per up (0, 10, 50, 100): from 100 the step back is 50 (or 0 to roll back), not 10"],
        [10, 20, "20 is not a step of the ladder (0, 10, 50, 100)"],
    ])("green %s -> %s is refused", (from, to, reason) => {
        expect(checkWeightMove(LADDER, from, to)).toEqual({ ok: false, reason });
    });

    test.each<[Weights | undefined, number, string[]]>([
        [undefined, 0, ["blue"]],
        [undefined, 10, ["blue", "green"]],
        [{ blue: 100, green: 0 }, 10, ["green"]],
        [{ blue: 90, green: 10 }, 50, ["green"]],
        [{ blue: 0, green: 100 }, 0, ["blue"]],
        [{ blue: 50, green: 50 }, 50, []],
    ])("from %j to green %s, rising: %j", (from, green, rising) => {
        expect(risingColours(from, weightsForGreen(green))).toEqual(rising);
    });
});

function stackSpec(stack: string) {
    const doc = parseYaml(readFileSync(path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(
        Object.entries(doc.config)
            .filter(([key]) => key.startsWith(`${CONFIG_NAMESPACE}:`))
            .map(([key, value]) => [key.slice(CONFIG_NAMESPACE.length + 1), value]),
    );
    return parsePlatformConfig(raw);
}

describe("release order", () => {
    test("production releases in the inventory's order", () => {
        const spec = stackSpec("production");
        expect(releaseOrder(spec.services, spec.release.order)).toEqual(["api", "crm", "frontend", "games", "admin", "website", "n8n"]);
    });

    test("without a preferred order, ties break by name and dependencies still come first", () => {
        const spec = stackSpec("production");
        const order = releaseOrder(spec.services);
        expect(order[0]).toBe("api");
        expect(order.at(-1)).toBe("n8n");
        for (const service of spec.services) {
            for (const dep of service.dependsOn) expect(order.indexOf(dep), `${dep} before ${service.name}`).toBeLessThan(order.indexOf(service.name));
        }
    });

    test.each([
        [{ a: [], b: ["a"], c: ["b"] }, ["a", "b", "c"]],
        [{ c: ["b"], b: ["a"], a: [] }, ["a", "b", "c"]],
        [{ web: ["api"], api: [], crm: ["api"] }, ["api", "crm", "web"]],
        [{ x: ["unknown"] }, ["x"]],
    ])("%j is released as %j", (graph, order) => {
        expect(releaseOrder(Object.entries(graph).map(([name, dependsOn]) => ({ name, dependsOn })))).toEqual(order);
    });

    test.each([
        [{ api: ["crm"], crm: ["api"] }, "services cannot be ordered: dependency cycle api -> crm -> api"],
        [{ a: ["b"], b: ["c"], c: ["a"], d: [] }, "services cannot be ordered: dependency cycle a -> b -> c -> a"],
        [{ a: ["a"] }, "services cannot be ordered: dependency cycle a -> a"],
    ])("a cycle in %j is refused with its path", (graph, message) => {
        const services = Object.entries(graph).map(([name, dependsOn]) => ({ name, dependsOn }));
        expect(() => releaseOrder(services)).toThrow(DependencyCycleError);
        expect(() => releaseOrder(services)).toThrow(message);
    });

    test("each service waits for its dependencies only", () => {
        const spec = stackSpec("production");
        const deps = releaseDependencies(spec.services, spec.release.order);
        expect(Object.fromEntries(deps)).toEqual({
            api: [],
            crm: ["api"],
            frontend: ["api"],
            games: ["api"],
            admin: ["api"],
            website: ["api", "crm"],
            n8n: ["api", "crm", "frontend", "games", "admin", "website"],
        });
    });
});

describe("health contract", () => {
    const ok = (version: string) => JSON.stringify({ status: "healthy", version, database: "connected", timestamp: "2026-01-01T00:00:00Z" });

    test.each([
        [200, ok("1.1.0"), "1.1.0", { healthy: true, version: "1.1.0" }],
        [200, ok("1.0.9"), "1.1.0", { healthy: false, reason: "reports version 1.0.9, expected 1.1.0" }],
        [500, ok("1.1.0"), "1.1.0", { healthy: false, reason: "answered HTTP 500" }],
        [503, "", "1.1.0", { healthy: false, reason: "answered HTTP 503" }],
        [200, "OK", "1.1.0", { healthy: false, reason: 'answered 200 with a body that is not JSON: "OK"' }],
        [200, "[1]", "1.1.0", { healthy: false, reason: "answered 200 with JSON that is not an object" }],
        [200, JSON.stringify({ status: "degraded", version: "1.1.0" }), "1.1.0", { healthy: false, reason: 'reports status "degraded", not "healthy"' }],
        [200, JSON.stringify({ status: "healthy" }), "1.1.0", { healthy: false, reason: "reports no version" }],
        [200, JSON.stringify({ status: "healthy", version: 1.1 }), "1.1", { healthy: false, reason: "reports no version" }],
    ])("HTTP %s %s, expecting %s: %j", (status, body, expected, verdict) => {
        expect(judgeHealthResponse(status, body, expected)).toEqual(verdict);
    });
});

/** A clock that only moves when the gate sleeps or a probe takes time. */
function fakeClock(): Clock & { sleeps: number[] } {
    let now = 0;
    const sleeps: number[] = [];
    return {
        sleeps,
        now: () => now,
        sleep: async (ms) => {
            sleeps.push(ms);
            now += ms;
        },
    };
}

describe("health gate", () => {
    const settings = { timeoutSeconds: 10, intervalSeconds: 1, retries: 3 };
    const healthy = { status: 200, body: JSON.stringify({ status: "healthy", version: "2.0.0" }) };

    test("opens at the first good answer", async () => {
        const clock = fakeClock();
        const result = await waitUntilHealthy("http://x/health", "2.0.0", settings, async () => healthy, clock);
        expect(result).toEqual({ healthy: true, attempts: 1, version: "2.0.0" });
        expect(clock.sleeps).toEqual([]);
    });

    test("retries until the colour is ready", async () => {
        const clock = fakeClock();
        const answers = [{ status: 503, body: "" }, { status: 200, body: JSON.stringify({ status: "healthy", version: "1.0.0" }) }, healthy];
        const result = await waitUntilHealthy("http://x/health", "2.0.0", settings, async () => answers.shift() ?? healthy, clock);
        expect(result).toEqual({ healthy: true, attempts: 3, version: "2.0.0" });
        expect(clock.sleeps).toEqual([1000, 1000]);
    });

    test.each([
        [{ status: 500, body: "" }, "answered HTTP 500"],
        [{ status: 200, body: JSON.stringify({ status: "healthy", version: "1.9.9" }) }, "reports version 1.9.9, expected 2.0.0"],
    ])("stays closed after retries + 1 attempts: %j", async (answer, reason) => {
        const clock = fakeClock();
        const result = await waitUntilHealthy("http://x/health", "2.0.0", settings, async () => answer, clock);
        expect(result).toEqual({ healthy: false, attempts: 4, reason });
        expect(clock.sleeps).toEqual([1000, 1000, 1000]);
    });

    test("a network error is a failed attempt with its message", async () => {
        const result = await waitUntilHealthy("http://x/health", "2.0.0", { ...settings, retries: 0 }, async () => {
            throw new Error("connect ECONNREFUSED 127.0.0.1:3001");
        }, fakeClock());
        expect(result).toEqual({ healthy: false, attempts: 1, reason: "did not answer (connect ECONNREFUSED 127.0.0.1:3001)" });
    });

    test("the timeout bounds the whole gate and shares it among the attempts", async () => {
        const clock = fakeClock();
        const timeouts: number[] = [];
        const slow = async (_url: string, timeoutMs: number) => {
            timeouts.push(timeoutMs);
            await clock.sleep(timeoutMs);
            throw new Error("timeout");
        };
        const result = await waitUntilHealthy("http://x/health", "2.0.0", { timeoutSeconds: 4, intervalSeconds: 1, retries: 9 }, slow, clock);
        expect(result.healthy).toBe(false);
        expect(clock.now()).toBeLessThanOrEqual(4000);
        expect(timeouts.every((t) => t <= 400)).toBe(true);
    });
});

describe("shift checks (preview, no server contacted)", () => {
    const inputs = (green: number, greenVersion = "1.1.0"): ShiftInputs => ({
        service: "api",
        blue: { version: "1.0.0", address: "127.0.0.1:3000", healthUrl: "http://127.0.0.1:3000/health" },
        green: { version: greenVersion, address: "127.0.0.1:3001", healthUrl: "http://127.0.0.1:3001/health" },
        weights: weightsForGreen(green),
        ladder: LADDER,
        healthGate: { timeoutSeconds: 10, intervalSeconds: 1, retries: 3 },
        drainSeconds: 1,
    });

    test.each([
        [undefined, 0, []],
        [undefined, 50, []],
        [0, 10, []],
        [100, 0, []],
        [0, 50, ["api: green moves one ladder step per up (0, 10, 50, 100): from 0 the next step is 10, not 50"]],
        [undefined, 30, ["api: green 30 is not a step of the ladder (0, 10, 50, 100)"]],
    ])("from green %s to %s: %j", (from, to, reasons) => {
        const olds = from === undefined ? {} : inputs(from);
        expect(checkShiftInputs(olds, inputs(to)).map((f) => f.reason)).toEqual(reasons);
    });

    test.each([[-1], [1.5], [Number.NaN]])("drainSeconds %s is refused", (drainSeconds) => {
        expect(checkShiftInputs({}, { ...inputs(0), drainSeconds })).toContainEqual({
            property: "drainSeconds",
            reason: `must be a whole number of seconds, 0 or more (${drainSeconds})`,
        });
    });

    test("blue + green must be 100", () => {
        expect(checkShiftInputs({}, { ...inputs(10), weights: { blue: 50, green: 10 } })).toContainEqual({ property: "weights", reason: "blue + green must be 100 (50 + 10)" });
    });

    test.each<[Weights | undefined, ShiftInputs | undefined, ShiftInputs, string[]]>([
        [undefined, undefined, inputs(0), ["blue"]],
        [{ blue: 100, green: 0 }, inputs(0, "1.0.0"), inputs(0), []], // green's new version: no traffic yet, no gate
        [{ blue: 100, green: 0 }, inputs(0), inputs(10), ["green"]],
        [{ blue: 90, green: 10 }, inputs(10), inputs(50), ["green"]],
        [{ blue: 0, green: 100 }, inputs(100), inputs(0), ["blue"]], // rollback: blue must answer
        [{ blue: 50, green: 50 }, inputs(50, "1.0.9"), inputs(50), ["green"]], // new version under traffic
        [{ blue: 100, green: 0 }, inputs(10), inputs(10), ["green"]], // drifted by hand: gate on what HAProxy has
    ])("gates from %j (olds %#) to the new weights: %j", (current, olds, news, colours) => {
        expect(coloursToGate(current, olds, news)).toEqual(colours);
    });
});

describe("drain time", () => {
    test.each<[Weights | undefined, Weights, string[]]>([
        [undefined, { blue: 100, green: 0 }, []], // nothing served before
        [{ blue: 100, green: 0 }, { blue: 100, green: 0 }, []],
        [{ blue: 100, green: 0 }, { blue: 90, green: 10 }, []], // green rises, blue keeps traffic
        [{ blue: 50, green: 50 }, { blue: 0, green: 100 }, ["blue"]], // the last step: blue drains
        [{ blue: 0, green: 100 }, { blue: 100, green: 0 }, ["green"]], // rollback: green drains
        [{ blue: 0, green: 0 }, { blue: 100, green: 0 }, []], // green had nothing to drain
    ])("from %j to %j drains %j", (from, to, colours) => {
        expect(drainingColours(from, to)).toEqual(colours);
    });

    const fakeClock = () => {
        const slept: number[] = [];
        return { slept, clock: { now: () => 0, sleep: async (ms: number) => void slept.push(ms) } };
    };

    test("waits the drain time once when a colour loses its last traffic", async () => {
        const { slept, clock } = fakeClock();
        expect(await waitForDrain({ blue: 0, green: 100 }, { blue: 100, green: 0 }, 30, clock)).toEqual(["green"]);
        expect(slept).toEqual([30_000]);
    });

    test.each<[Weights | undefined, Weights, number]>([
        [{ blue: 100, green: 0 }, { blue: 90, green: 10 }, 30], // no colour loses all its traffic
        [undefined, { blue: 100, green: 0 }, 30], // first shift
        [{ blue: 0, green: 100 }, { blue: 100, green: 0 }, 0], // a drain time of 0
    ])("from %j to %j with %s s: no wait", async (from, to, seconds) => {
        const { slept, clock } = fakeClock();
        await waitForDrain(from, to, seconds, clock);
        expect(slept).toEqual([]);
    });

    test("the real clock really waits (local drain time: 1 s)", async () => {
        const started = Date.now();
        await waitForDrain({ blue: 50, green: 50 }, { blue: 0, green: 100 }, 1);
        expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    });
});
