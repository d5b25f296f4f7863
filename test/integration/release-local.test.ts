// A release on the local stack through the real CLI: HAProxy and nginx in front of blue/green app
// processes, green deployed, health-gated and shifted one ladder step per `up` under load, rolled back.
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gateChanges } from "../../components/release/gate";
import { RELEASE_GATE_TYPE, type ReleaseGateInputs } from "../../components/release/gate-inputs";
import { parseUpstreamWeights } from "../../components/release/nginx/upstream";
import { weightsForGreen, type Weights } from "../../components/release/ladder";
import { failures, greenShare, LoadGenerator, shiftTookEffect, type LoadSample } from "../support/load";
import {
    clearRunDir,
    freshReleaseSite,
    haproxyWeights,
    isolateRelease,
    localRelease,
    releaseCommand,
    releaseOnly,
    watchWeights,
    type IsolatedRelease,
} from "../support/release-env";
import { localSshdHostKey } from "../../scripts/local-secrets";
import { changingSteps, Workspace, type PreviewStep } from "../support/workspace";


/**
 * `<op> <name> <changed inputs>`. Dynamic providers report no diff keys to the engine, so the
 * inputs are compared here (the serialized provider code aside).
 */
function describeStep(step: PreviewStep): string {
    const olds = step.oldState?.inputs ?? {};
    const news = step.newState?.inputs ?? {};
    // The release gate: what its own diff compares (what the last deployment recorded is volatile).
    const keys = (step.newState ?? step.oldState)?.type === RELEASE_GATE_TYPE
        ? gateChanges(olds as Partial<ReleaseGateInputs>, news as Partial<ReleaseGateInputs>).map(String).sort()
        : [...new Set([...Object.keys(olds), ...Object.keys(news)])]
              .filter((key) => key !== "__provider" && JSON.stringify(olds[key]) !== JSON.stringify(news[key]))
              .sort();
    return `${step.op} ${step.urn.split("::").pop() ?? ""} ${keys.join(",")}`;
}

interface ShiftRecord {
    label: string;
    service: string;
    target: Weights;
    /** On the load generator's clock (ms). */
    upStarted: number;
    upEnded: number;
    /** When HAProxy first reported the new weights (polled every 50 ms). */
    applied: number | undefined;
}

describe("release on the local stack, real CLI", () => {
    let ws: Workspace;
    let env!: IsolatedRelease;
    // Its own run dir and ports (apps base+0.., HAProxy base+80, nginx base+81): `npm start`'s stack
    // and any other test run on this machine are never touched.
    let site!: { runDir: string; portBase: number };
    const address = (offset: number) => `127.0.0.1:${site.portBase + offset}`;
    const report: string[] = [];

    const api = () => haproxyWeights(env.admin, "api");
    const nextStep = async (service: string, expected: RegExp, extra: string[] = []) => {
        const result = await releaseCommand(ws, "release-next", ["--stack", ws.stack, "--service", service, ...extra]);
        expect(result.code, result.output).toBe(0);
        expect(result.output).toMatch(expected);
    };
    const serviceOutputs = async () => (await ws.outputs()).services as Record<string, { blue: { version: string; weight: number }; green: { version: string; weight: number } }>;

    /**
     * The preview of the next `up`: the service's traffic resource, only its weights, and the
     * release gate, which records the desired weights (`release.services`).
     */
    const expectOnlyWeightChange = async (service: string, from: Weights, to: Weights) => {
        const steps = changingSteps(await ws.previewJson());
        expect(steps.map(describeStep).sort()).toEqual(["update release-gate release", `update release-${service}-traffic weights`].sort());
        const traffic = steps.find((s) => s.urn.endsWith(`::release-${service}-traffic`));
        expect(traffic?.oldState?.inputs?.weights).toEqual(from);
        expect(traffic?.newState?.inputs?.weights).toEqual(to);
        const gate = steps.find((s) => s.urn.endsWith("::release-gate"));
        expect((gate?.newState?.inputs?.release as { services: Record<string, { weights: Weights }> }).services[service]?.weights).toEqual(to);
    };

    beforeAll(async () => {
        site = await freshReleaseSite("it-release");
        ws = await Workspace.create("release", {
            editConfig: (config) => {
                releaseOnly(config);
                env = isolateRelease(config, site.runDir, site.portBase);
            },
        });
        await ws.setLocalSecrets();
        localRelease(ws.configFile, "start");
    });

    afterAll(async () => {
        if (report.length > 0) console.log(["release timings and load (local stack):", ...report].join("\n  "));
        if (ws) {
            await ws.run(["destroy", "--yes", "--skip-preview", ...ws.stackArgs()], { allowFailure: true });
            localRelease(ws.configFile, "stop");
            ws.remove();
        }
        if (site) clearRunDir(site.runDir);
    });

    test("first up: each service behind its backend, blue serving, weights read back and persisted", async () => {
        const preview = await ws.previewJson();
        const created = changingSteps(preview).map((s) => `${s.op} ${s.newState?.type ?? ""} ${s.urn.split("::").pop() ?? ""}`);
        expect(created).toEqual(
            expect.arrayContaining([
                "create pulumi-nodejs:dynamic/release:ReleaseGate release-gate",
                "create pulumi-nodejs:dynamic/release:HaproxyWeights release-api-traffic",
                "create pulumi-nodejs:dynamic/release:NginxWeights release-frontend-traffic",
                "create command:local:Command release-api-blue-deploy",
                "create command:local:Command release-api-green-deploy",
                "create platform:release:Service release-api",
                "create platform:release:Service release-frontend",
            ]),
        );
        await ws.up();
        expect(await api()).toEqual({ blue: 100, green: 0 });
        expect(parseUpstreamWeights(fs.readFileSync(env.upstreamFile, "utf8"), "frontend")).toEqual({ blue: 100, green: 0 });
        expect(fs.readFileSync(env.serverStateFile, "utf8")).toMatch(/^\d+ api \d+ green 127\.0\.0\.1 \d+ \d+ 0 0 /m);
        const outputs = await ws.outputs();
        expect(outputs.releaseOrder).toEqual(["api", "frontend"]);
        expect(outputs.services).toEqual({
            api: { backend: "haproxy", blue: { version: "1.0.0", address: address(0), weight: 100 }, green: { version: "1.0.0", address: address(1), weight: 0 }, commands: {} },
            frontend: {
                backend: "nginx",
                blue: { version: "1.0.0", address: address(10), weight: 100 },
                green: { version: "1.0.0", address: address(11), weight: 0 },
                // nginx's test and reload commands run for this service: recorded, so a change to one is a release.
                commands: { nginxTest: `nginx -q -t -c ${env.runDir}/nginx/nginx.conf`, nginxReload: `nginx -c ${env.runDir}/nginx/nginx.conf -s reload` },
            },
        });
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });

    test("a full release of api under load: green 1.1.0 deployed, gated, 0 -> 10 -> 50 -> 100, rolled back; no request fails", async () => {
        const load = new LoadGenerator(`http://${env.haproxyFrontend}/api/work`).start();
        const shifts: ShiftRecord[] = [];
        let samples: LoadSample[] = [];
        try {
            // Deploy green: only its version changes (the deploy step and what the gate will expect).
            await ws.run(["config", "set", "--path", "release-platform:services.api.green.version", "1.1.0", "--type", "string", ...ws.stackArgs()]);
            const deploy = changingSteps(await ws.previewJson());
            expect(deploy.map(describeStep).sort()).toEqual([
                "replace release-record fingerprint",
                // The data change runs for the new version (no databases, no migration here: it records the version).
                "update release-api-data version",
                "update release-api-green-deploy environment",
                "update release-api-traffic green",
                "update release-gate release",
            ]);
            await ws.up();
            expect(await api()).toEqual({ blue: 100, green: 0 });

            for (const [from, to] of [[0, 10], [10, 50], [50, 100]] as const) {
                await nextStep("api", new RegExp(`api: green ${from} -> ${to} %, blue ${100 - from} -> ${100 - to} %`));
                await expectOnlyWeightChange("api", weightsForGreen(from), weightsForGreen(to));
                const target = weightsForGreen(to);
                const watcher = watchWeights(env.admin, "api", target, () => load.now());
                const upStarted = load.now();
                await ws.up();
                const upEnded = load.now();
                shifts.push({ label: `green ${from} -> ${to}`, service: "api", target, upStarted, upEnded, applied: await watcher.stop() });
                expect(await api()).toEqual(target);
                expect((await serviceOutputs()).api?.green).toEqual({ version: "1.1.0", address: address(1), weight: to });
                // Let the new mix be measured before the next step.
                await new Promise((resolve) => setTimeout(resolve, 1500));
            }

            const watcher = watchWeights(env.admin, "api", weightsForGreen(0), () => load.now());
            const upStarted = load.now();
            const rollback = await releaseCommand(ws, "rollback", ["--stack", ws.stack, "--service", "api"]);
            const upEnded = load.now();
            shifts.push({ label: "rollback", service: "api", target: weightsForGreen(0), upStarted, upEnded, applied: await watcher.stop() });
            expect(rollback.code, rollback.output).toBe(0);
            expect(rollback.output).toMatch(/api: blue 0 -> 100 %, green 100 -> 0 %/);
            expect(rollback.output).toMatch(/~ 1 updated/);
            expect(rollback.output).toMatch(/rolled back api to blue in \d+\.\d s/);
            expect(await api()).toEqual({ blue: 100, green: 0 });
            report.push(`rollback command (config set + targeted up): ${rollback.seconds.toFixed(1)} s wall; ${/rolled back .*/.exec(rollback.output)?.[0] ?? ""}`);
            await new Promise((resolve) => setTimeout(resolve, 1500));
        } finally {
            samples = await load.stop();
        }

        const failed = failures(samples);
        report.push(`load through HAProxy: ${samples.length} requests in ${(load.now() / 1000).toFixed(1)} s, ${failed.length} failed`);
        for (const shift of shifts) {
            const effect = shiftTookEffect(samples, shift.upStarted, shift.target.green);
            const after = greenShare(samples, (effect ?? shift.upEnded) + 1, (effect ?? shift.upEnded) + 1001);
            report.push(
                `${shift.label}: up ${((shift.upEnded - shift.upStarted) / 1000).toFixed(1)} s; HAProxy had the weights at +${shift.applied === undefined ? "?" : ((shift.applied - shift.upStarted) / 1000).toFixed(2)} s; ` +
                    `traffic matched by +${effect === undefined ? "never" : ((effect - shift.upStarted) / 1000).toFixed(2)} s ` +
                    `(${effect !== undefined && shift.applied !== undefined ? `${Math.round(effect - shift.applied)} ms after HAProxy`: "?"}); green share then ${(after.share * 100).toFixed(0)} % of ${after.count}`,
            );
            expect(shift.applied, shift.label).toBeDefined();
            expect(effect, shift.label).toBeDefined();
        }
        expect(failed.slice(0, 5)).toEqual([]);
        expect(samples.length).toBeGreaterThan(1000);
        // Before the release only blue answered; at 100 only green; after the rollback only blue again.
        expect(greenShare(samples, 0, shifts[0]?.upStarted ?? 0).share).toBe(0);
    });

    test("a green that reports the wrong version, or 500, blocks the shift: the up fails and the weights stay", async () => {
        expect(await api()).toEqual({ blue: 100, green: 0 });
        await nextStep("api", /api: green 0 -> 10 %/);
        const stateBefore = fs.readFileSync(env.serverStateFile, "utf8");
        const outputsBefore = await serviceOutputs();

        for (const [fault, reason] of [
            [["version", "1.0.9"], "reports version 1.0.9, expected 1.1.0"],
            [["500"], "answered HTTP 500"],
        ] as const) {
            localRelease(ws.configFile, "fault", "api", "green", ...fault);
            const result = await ws.run(["up", "--yes", "--skip-preview", ...ws.stackArgs()], { allowFailure: true });
            expect(result.code).not.toBe(0);
            expect(result.output).toContain(`health gate closed for api green: http://${address(1)}/health ${reason}`);
            expect(result.output).toContain("weights left as they were");
            expect(await api()).toEqual({ blue: 100, green: 0 });
            expect(fs.readFileSync(env.serverStateFile, "utf8")).toBe(stateBefore);
            expect(await serviceOutputs()).toEqual(outputsBefore);
        }

        // Fixed: the same up goes through.
        localRelease(ws.configFile, "fault", "api", "green", "clear");
        await ws.up();
        expect(await api()).toEqual({ blue: 90, green: 10 });
    });

    test("HAProxy restarted between two ups keeps the weights", async () => {
        expect(await api()).toEqual({ blue: 90, green: 10 });
        localRelease(ws.configFile, "stop", "haproxy");
        localRelease(ws.configFile, "start");
        expect(await api()).toEqual({ blue: 90, green: 10 });
        expect(changingSteps(await ws.previewJson())).toEqual([]);

        await nextStep("api", /api: green 10 -> 50 %/);
        await ws.up();
        localRelease(ws.configFile, "stop", "haproxy");
        localRelease(ws.configFile, "start");
        expect(await api()).toEqual({ blue: 50, green: 50 });
        // And the restarted HAProxy serves that mix.
        const load = new LoadGenerator(`http://${env.haproxyFrontend}/api/work`, { concurrency: 2, maxRequests: 400, maxSeconds: 20, pauseMs: 0 }).start();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const samples = await load.stop();
        expect(failures(samples)).toEqual([]);
        expect(greenShare(samples, 0, Infinity).share).toBeCloseTo(0.5, 1);

        const rollback = await releaseCommand(ws, "rollback", ["--stack", ws.stack, "--service", "api"]);
        expect(rollback.code, rollback.output).toBe(0);
        expect(await api()).toEqual({ blue: 100, green: 0 });
    });

    test("nginx: frontend's green shifted through the upstream file with nginx -t and a graceful reload, under load", async () => {
        // A connection per request: nginx's reload closes idle keep-alive connections, and a request
        // sent on one at that instant is for the client to retry (browsers do); this measures nginx.
        const load = new LoadGenerator(`http://${env.nginxListen}/frontend/page`, { concurrency: 2, maxRequests: 200_000, maxSeconds: 300, pauseMs: 5, keepAlive: false }).start();
        const upstream = () => parseUpstreamWeights(fs.readFileSync(env.upstreamFile, "utf8"), "frontend");
        let samples: LoadSample[] = [];
        try {
            await ws.run(["config", "set", "--path", "release-platform:services.frontend.green.version", "1.1.0", "--type", "string", ...ws.stackArgs()]);
            await ws.up();
            for (const [from, to] of [[0, 10], [10, 50]] as const) {
                await nextStep("frontend", new RegExp(`frontend: green ${from} -> ${to} %`));
                await expectOnlyWeightChange("frontend", weightsForGreen(from), weightsForGreen(to));
                await ws.up();
                expect(upstream()).toEqual(weightsForGreen(to));
                await new Promise((resolve) => setTimeout(resolve, 1000));
            }
            const rollback = await releaseCommand(ws, "rollback", ["--stack", ws.stack, "--service", "frontend"]);
            expect(rollback.code, rollback.output).toBe(0);
            expect(upstream()).toEqual({ blue: 100, green: 0 });
            await new Promise((resolve) => setTimeout(resolve, 1000));
        } finally {
            samples = await load.stop();
        }
        const failed = failures(samples);
        report.push(`load through nginx (a connection per request): ${samples.length} requests across 3 reloads, ${failed.length} failed; green answered ${samples.filter((s) => s.colour === "green").length}`);
        expect(failed.slice(0, 5)).toEqual([]);
        expect(samples.some((s) => s.colour === "green")).toBe(true);
        expect(fs.readFileSync(env.upstreamFile, "utf8")).toContain(`server ${address(11)} down; # green 1.1.0`);
    });

    test("a jump of two ladder steps is refused by the preview, before anything is contacted; an unknown backend fails the up", async () => {
        await ws.run(["config", "set", "--path", "release-platform:services.api.weights.green", "50", "--type", "int", ...ws.stackArgs()]);
        await ws.run(["config", "set", "--path", "release-platform:services.api.weights.blue", "50", "--type", "int", ...ws.stackArgs()]);
        const result = await ws.preview([], { allowFailure: true });
        expect(result.code).not.toBe(0);
        expect(result.output).toContain("api: green moves one ladder step per up (0, 10, 50, 100): from 0 the next step is 10, not 50");
        expect(await api()).toEqual({ blue: 100, green: 0 });
        await ws.run(["config", "set", "--path", "release-platform:services.api.weights.green", "0", "--type", "int", ...ws.stackArgs()]);
        await ws.run(["config", "set", "--path", "release-platform:services.api.weights.blue", "100", "--type", "int", ...ws.stackArgs()]);
        // Nothing for the traffic; the gate catches up with frontend's rollback (a targeted up leaves the gate as it was).
        expect(changingSteps(await ws.previewJson()).map(describeStep)).toEqual(["update release-gate release"]);

        // A backend HAProxy does not have: the up fails with HAProxy's answer, touching nothing.
        await ws.run(["config", "set", "--path", "release-platform:services.api.traffic.name", "nope", ...ws.stackArgs()]);
        const missing = await ws.run(["up", "--yes", "--skip-preview", ...ws.stackArgs()], { allowFailure: true });
        expect(missing.code).not.toBe(0);
        expect(missing.output).toContain("HAProxy has no backend nope");
        await ws.run(["config", "set", "--path", "release-platform:services.api.traffic.name", "api", ...ws.stackArgs()]);
        // The failed up recorded the gate for backend nope (its release fingerprint); the gate catches up, nothing else.
        expect(changingSteps(await ws.previewJson()).map(describeStep)).toEqual(["update release-gate release"]);
        await ws.up();
        expect(changingSteps(await ws.previewJson())).toEqual([]);
    });

    test("over ssh: the runtime API (socat), the state file and the health gate (curl) reached from the HAProxy host", async () => {
        // This machine's test sshd (scripts/local-servers.sh) stands in for the HAProxy host.
        ws.editConfig((config) => {
            const release = config["release-platform:release"] as { traffic: { haproxy: Record<string, unknown> } };
            // Pinned like every ssh target: the local sshd's own host key.
            release.traffic.haproxy.ssh = { host: "127.0.0.1", port: 2222, user: "root", hostKey: localSshdHostKey() };
        });
        await ws.setLocalSecrets(); // adds sshPrivateKey.traffic.haproxy
        // The gate records the new config in its release fingerprint; the traffic resource gets the ssh access.
        expect(changingSteps(await ws.previewJson()).map(describeStep).sort()).toEqual(["replace release-record fingerprint", "update release-api-traffic ssh", "update release-gate release"]);
        const stateBefore = fs.statSync(env.serverStateFile).mtimeMs;
        await ws.up();
        expect(fs.statSync(env.serverStateFile).mtimeMs).toBeGreaterThan(stateBefore);

        // `--up` applies the step at once.
        await nextStep("api", /api: green 0 -> 10 %[^]*api: green at 10 % after an up of \d+\.\d s/, ["--up"]);
        expect(await api()).toEqual({ blue: 90, green: 10 });

        // The gate asks from the HAProxy host too: a failing green still blocks.
        localRelease(ws.configFile, "fault", "api", "green", "503");
        await nextStep("api", /api: green 10 -> 50 %/);
        const blocked = await ws.run(["up", "--yes", "--skip-preview", ...ws.stackArgs()], { allowFailure: true });
        expect(blocked.code).not.toBe(0);
        expect(blocked.output).toContain(`health gate closed for api green: http://${address(1)}/health answered HTTP 503`);
        expect(await api()).toEqual({ blue: 90, green: 10 });
        localRelease(ws.configFile, "fault", "api", "green", "clear");

        const rollback = await releaseCommand(ws, "rollback", ["--stack", ws.stack, "--service", "api"]);
        expect(rollback.code, rollback.output).toBe(0);
        expect(await api()).toEqual({ blue: 100, green: 0 });
        report.push(`rollback over ssh: ${/rolled back .*/.exec(rollback.output)?.[0] ?? "?"}`);
        expect(await ws.exportedState()).not.toContain("OPENSSH PRIVATE KEY");
    });
});
