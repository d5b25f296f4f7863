// Benchmarks of what a pull request waits for (`npm run bench`): the production preview with and
// without the policy pack (real CLI and plugins, no network), the same preview of a production
// config ten times larger, the floor (the cheapest program the CLI can preview, set up alike), and
// the policy pack's own cost per resource. Prints figures and the ratios of issue 17 against their
// targets, all from figures of this run; BENCH_RUNS sets the repetitions (default 3). The warm test
// time comes from BENCH_TEST_SECONDS, or from a vitest JSON report named by BENCH_TEST_REPORT.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { allPolicies } from "../policies/registry";
import { ISOLATED_NETWORK, Workspace, type PreviewJson } from "../test/support/workspace";
import { FloorProject } from "./floor";
import { scaleConfig } from "./scale-config";

const RUNS = Number(process.env.BENCH_RUNS ?? "3");
const STACK = "production";
/** How much larger the scaled config is (bench/scale-config.ts). */
const SCALE = 10;
/** Width of the label column. */
const LABEL_WIDTH = 50;

/** Issue 17's targets. */
const TARGETS = { previewPerFloor: 2, packOverheadPercent: 20, scaledPerNormal: 2.5 } as const;

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function line(label: string, values: readonly number[], unit: string): void {
    const shown = values.map((v) => v.toFixed(unit === "s" ? 1 : 2)).join(", ");
    console.log(`${label.padEnd(LABEL_WIDTH)} median ${median(values).toFixed(unit === "s" ? 1 : 2)} ${unit}  (runs: ${shown})`);
}

function figure(label: string, value: string): void {
    console.log(`${label.padEnd(LABEL_WIDTH)} ${value}`);
}

/**
 * The warm test time: BENCH_TEST_SECONDS as given, or from a vitest JSON report (BENCH_TEST_REPORT,
 * `vitest run --reporter=json --outputFile=...`): its start to the end of its last test file.
 */
function warmTestTime(): string {
    const given = process.env.BENCH_TEST_SECONDS;
    if (given !== undefined && given !== "") {
        const seconds = Number(given);
        if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`BENCH_TEST_SECONDS must be a number of seconds, not ${JSON.stringify(given)}`);
        return `${seconds.toFixed(1)} s (BENCH_TEST_SECONDS)`;
    }
    const file = process.env.BENCH_TEST_REPORT;
    if (file === undefined || file === "") return "not measured (set BENCH_TEST_REPORT=<vitest json>)";
    const report = JSON.parse(fs.readFileSync(file, "utf8")) as { numTotalTests?: number; startTime?: number; testResults?: { endTime?: number }[] };
    const ends = (report.testResults ?? []).map((r) => r.endTime).filter((t): t is number => typeof t === "number");
    if (typeof report.startTime !== "number" || ends.length === 0) throw new Error(`${file}: not a vitest JSON report (startTime, testResults[].endTime)`);
    const seconds = (Math.max(...ends) - report.startTime) / 1000;
    return `${seconds.toFixed(1)} s (${report.numTotalTests ?? "?"} tests, ${file})`;
}

/** The planned inputs of every resource of a preview, as the policy engine hands them to resource policies. */
function resourceArgsOf(preview: PreviewJson): ResourceValidationArgs[] {
    return preview.steps.flatMap((step) => {
        const state = step.newState;
        if (state === undefined) return [];
        const name = step.urn.split("::").pop() ?? step.urn;
        return [
            {
                type: state.type,
                name,
                urn: step.urn,
                props: state.inputs ?? {},
                opts: { protect: false, ignoreChanges: [], deleteBeforeReplace: true, aliases: [], additionalSecretOutputs: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 } },
                stackTags: new Map(),
                isType: () => false,
                asType: () => undefined,
                getConfig: <T extends object>() => ({}) as T,
                notApplicable: (reason?: string): never => {
                    throw new Error(`not applicable: ${reason ?? ""}`);
                },
            },
        ];
    });
}

/** Runs every resource policy of the pack over `resources` once; returns the violations found (so the work is not optimised away). */
function evaluatePack(resources: readonly ResourceValidationArgs[]): number {
    let violations = 0;
    for (const policy of allPolicies) {
        const validate = (policy as ResourceValidationPolicy).validateResource;
        if (validate === undefined) continue;
        for (const validation of Array.isArray(validate) ? validate : [validate]) {
            for (const args of resources) void validation(args, () => (violations += 1));
        }
    }
    return violations;
}

async function main(): Promise<void> {
    console.log(`[bench] ${STACK} preview, ${RUNS} runs each, in a network namespace with loopback only`);
    // scripts/setup.sh puts a file where the CLI would write its automatic logs (a large share of its CPU).
    const autoLogs = path.join(process.env.PULUMI_HOME ?? "", "logs");
    console.log(`[bench] the CLI's automatic logs: ${fs.existsSync(autoLogs) && fs.statSync(autoLogs).isFile() ? "off" : "ON"} (${autoLogs})`);
    // Read first: a wrong BENCH_TEST_SECONDS or report fails before the minutes of previews.
    const testTime = warmTestTime();
    const cleanups: (() => void)[] = [];
    try {
        const floor = await FloorProject.create(ISOLATED_NETWORK);
        cleanups.push(() => floor.remove());
        const ws = await Workspace.create("bench", { stack: STACK, commandPrefix: ISOLATED_NETWORK });
        cleanups.push(() => ws.remove());
        // The same stack with SCALE times the database servers, databases, containers and services.
        const scaled = await Workspace.create(`bench-${SCALE}x`, {
            stack: STACK,
            commandPrefix: ISOLATED_NETWORK,
            editConfig: (config) => {
                const larger = scaleConfig(config, SCALE);
                for (const key of Object.keys(config)) delete config[key];
                Object.assign(config, larger);
            },
        });
        cleanups.push(() => scaled.remove());
        await ws.setLocalSecrets();
        await scaled.setLocalSecrets();
        const plainArgs = ["preview", ...ws.stackArgs()];
        const packArgs = [...plainArgs, "--policy-pack", "policies", "--policy-pack-config", `policies/config/${STACK}.json`];
        // Warm-ups, one each, not counted: plugin processes and the compile caches. The floor's and
        // the scaled stack's are `--json` previews, which also count their steps.
        const floorSteps = await floor.steps();
        await ws.run(plainArgs);
        const scaledSteps = (await scaled.previewJson()).steps.length;
        const floored: number[] = [];
        const plain: number[] = [];
        const packed: number[] = [];
        const large: number[] = [];
        // Interleaved, so load on the machine falls on every figure alike.
        for (let i = 0; i < RUNS; i++) {
            floored.push((await floor.preview()).seconds);
            plain.push((await ws.run(plainArgs)).seconds);
            // Without release evidence the gates refuse (non-zero exit); the work is the same.
            packed.push((await ws.run(packArgs, { allowFailure: true })).seconds);
            large.push((await scaled.run(plainArgs)).seconds);
        }
        line(`floor: one component in plain JavaScript (${floorSteps} steps)`, floored, "s");
        line("pulumi preview", plain, "s");
        line(`pulumi preview --policy-pack (${allPolicies.length} policies)`, packed, "s");
        line(`pulumi preview, ${SCALE}x config`, large, "s");
        figure("ratio with pack / without", `${(median(packed) / median(plain)).toFixed(2)}x`);

        const preview = await ws.previewJson();
        const steps = preview.steps.length;
        const perFloor = median(plain) / median(floored);
        const overhead = ((median(packed) - median(plain)) / median(plain)) * 100;
        const perNormal = median(large) / median(plain);
        figure("production preview / floor", `${perFloor.toFixed(2)}x (target <= ${TARGETS.previewPerFloor}x)`);
        figure("policy pack overhead", `${overhead.toFixed(0)} % (target <= ${TARGETS.packOverheadPercent} %)`);
        figure(`${SCALE}x config (${scaledSteps} steps) / 1x config (${steps} steps)`, `${perNormal.toFixed(2)}x (target <= ${TARGETS.scaledPerNormal}x)`);

        const resources = resourceArgsOf(preview);
        const rounds = 200;
        evaluatePack(resources);
        const timings: number[] = [];
        for (let run = 0; run < RUNS; run++) {
            const started = performance.now();
            for (let i = 0; i < rounds; i++) evaluatePack(resources);
            timings.push((performance.now() - started) / rounds);
        }
        line(`policy evaluation, ${resources.length} resources (in process)`, timings, "ms");
        const perResource = (median(timings) * 1000) / Math.max(1, resources.length);
        figure("per resource, all resource policies", `${perResource.toFixed(1)} µs`);
        figure("share of the pack's overhead", `${((median(timings) / 1000 / Math.max(1e-9, median(packed) - median(plain))) * 100).toFixed(2)} %`);
        console.log(`warm test time: ${testTime}`);

        const targets: [string, boolean][] = [
            [`preview/floor <= ${TARGETS.previewPerFloor}x`, perFloor <= TARGETS.previewPerFloor],
            [`pack overhead <= ${TARGETS.packOverheadPercent} %`, overhead <= TARGETS.packOverheadPercent],
            [`${SCALE}x/1x <= ${TARGETS.scaledPerNormal}x`, perNormal <= TARGETS.scaledPerNormal],
        ];
        const met = targets.filter(([, ok]) => ok).map(([name]) => name);
        const missed = targets.filter(([, ok]) => !ok).map(([name]) => name);
        console.log(`targets met: ${met.length} of ${targets.length}${met.length > 0 ? ` (${met.join(", ")})` : ""}; not met: ${missed.length > 0 ? missed.join(", ") : "none"}`);
    } finally {
        for (const cleanup of cleanups) cleanup();
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
