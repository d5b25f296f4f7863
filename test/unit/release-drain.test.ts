// The drain time in a real traffic provider: nginx's, on this machine, with its upstream file in a temp dir,
// `true` as test and reload commands, and a real health endpoint for the gate.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Weights } from "../../components/release/ladder";
import { parseUpstreamWeights, renderUpstreamBlock } from "../../components/release/nginx/upstream";
import { nginxWeightsProvider, type NginxWeightsInputs, type NginxWeightsOutputs } from "../../components/release/nginx/weights";

let health: http.Server;
let port = 0;
let dir = "";

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-drain-"));
    health = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "healthy", version: "1.0.0" }));
    });
    await new Promise<void>((resolve) => health.listen(0, "127.0.0.1", resolve));
    port = (health.address() as AddressInfo).port;
});

afterAll(async () => {
    await new Promise<void>((resolve) => health.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
});

function inputs(file: string, weights: Weights, drainSeconds: number): NginxWeightsInputs {
    // Both colours answer on the one health server; the upstream addresses only go into the file.
    const target = (offset: number) => ({ version: "1.0.0", address: `127.0.0.1:${port + offset}`, healthUrl: `http://127.0.0.1:${port}/health` });
    return {
        service: "frontend",
        upstream: "frontend",
        upstreamFile: file,
        testCommand: "true",
        reloadCommand: "true",
        blue: target(0),
        green: target(1),
        weights,
        ladder: [0, 10, 50, 100],
        healthGate: { timeoutSeconds: 5, intervalSeconds: 1, retries: 1 },
        drainSeconds,
    };
}

/** An upstream file holding `weights`, and the provider's state for it. */
function deployed(name: string, weights: Weights, drainSeconds: number): NginxWeightsOutputs {
    const file = path.join(dir, `${name}.conf`);
    const olds = inputs(file, weights, drainSeconds);
    fs.writeFileSync(file, `${renderUpstreamBlock({ name: "frontend", blue: olds.blue, green: olds.green, weights })}\n`);
    return { ...olds, observed: weights };
}

async function timedUpdate(olds: NginxWeightsOutputs, weights: Weights, drainSeconds: number): Promise<{ ms: number; observed: Weights }> {
    const started = performance.now();
    const { outs } = await nginxWeightsProvider.update!("id", olds, inputs(olds.upstreamFile, weights, drainSeconds));
    return { ms: performance.now() - started, observed: (outs as NginxWeightsOutputs).observed };
}

describe("the drain time in the nginx provider", () => {
    test("a rollback (green 100 -> 0) returns only after green's drain time", async () => {
        const olds = deployed("rollback", { blue: 0, green: 100 }, 1);
        const { ms, observed } = await timedUpdate(olds, { blue: 100, green: 0 }, 1);
        expect(observed).toEqual({ blue: 100, green: 0 });
        expect(parseUpstreamWeights(fs.readFileSync(olds.upstreamFile, "utf8"), "frontend")).toEqual({ blue: 100, green: 0 });
        expect(ms).toBeGreaterThanOrEqual(1000);
    });

    test("a step forward that leaves both colours with traffic does not wait", async () => {
        const olds = deployed("forward", { blue: 100, green: 0 }, 2);
        const { ms, observed } = await timedUpdate(olds, { blue: 90, green: 10 }, 2);
        expect(observed).toEqual({ blue: 90, green: 10 });
        expect(ms).toBeLessThan(1500);
    });

    test("the last step (blue 50 -> 0) waits for blue", async () => {
        const olds = deployed("last", { blue: 50, green: 50 }, 1);
        const { ms } = await timedUpdate(olds, { blue: 0, green: 100 }, 1);
        expect(ms).toBeGreaterThanOrEqual(1000);
    });
});

describe("a failed nginx reload", () => {
    test("puts the previous file back, so the retry sees the weights in force and opens the health gate again", async () => {
        const olds = deployed("reload-fails", { blue: 100, green: 0 }, 0);
        const before = fs.readFileSync(olds.upstreamFile, "utf8");
        const failing = { ...inputs(olds.upstreamFile, { blue: 90, green: 10 }, 0), reloadCommand: "echo 'nginx: [emerg] bind() failed' >&2; exit 1" };
        await expect(nginxWeightsProvider.update!("id", olds, failing)).rejects.toThrow(
            /reloading nginx .* failed \(exit 1\) for frontend; the previous file is back and passes the test: nginx: \[emerg\] bind\(\) failed/,
        );
        expect(fs.readFileSync(olds.upstreamFile, "utf8")).toBe(before);
        expect(parseUpstreamWeights(before, "frontend")).toEqual({ blue: 100, green: 0 });
        // The retry (reload fixed) moves green from what is in force, through its health gate.
        let asked = 0;
        health.on("request", () => (asked += 1));
        const { outs } = await nginxWeightsProvider.update!("id", olds, inputs(olds.upstreamFile, { blue: 90, green: 10 }, 0));
        expect((outs as NginxWeightsOutputs).observed).toEqual({ blue: 90, green: 10 });
        expect(asked).toBeGreaterThan(0);
    });
});
