// Benchmarks of what a pull request waits for (`npm run bench`): the production preview with and
// without the policy pack (real CLI and plugins, no network), and the policy pack's own cost per
// resource. Prints figures and ratios; BENCH_RUNS sets the repetitions (default 3).
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { performance } from "node:perf_hooks";
import { allPolicies } from "../policies/registry";
import { ISOLATED_NETWORK, Workspace, type PreviewJson } from "../test/support/workspace";

const RUNS = Number(process.env.BENCH_RUNS ?? "3");
const STACK = "production";

function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function line(label: string, values: readonly number[], unit: string): void {
    const shown = values.map((v) => v.toFixed(unit === "s" ? 1 : 2)).join(", ");
    console.log(`${label.padEnd(44)} median ${median(values).toFixed(unit === "s" ? 1 : 2)} ${unit}  (runs: ${shown})`);
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
    const ws = await Workspace.create("bench", { stack: STACK, commandPrefix: ISOLATED_NETWORK });
    try {
        await ws.setLocalSecrets();
        const plainArgs = ["preview", ...ws.stackArgs()];
        const packArgs = [...plainArgs, "--policy-pack", "policies", "--policy-pack-config", `policies/config/${STACK}.json`];
        await ws.run(plainArgs); // warm-up: plugin processes and the TypeScript compile cache
        const plain: number[] = [];
        const packed: number[] = [];
        for (let i = 0; i < RUNS; i++) {
            plain.push((await ws.run(plainArgs)).seconds);
            // Without release evidence the gates refuse (non-zero exit); the work is the same.
            packed.push((await ws.run(packArgs, { allowFailure: true })).seconds);
        }
        line("pulumi preview", plain, "s");
        line(`pulumi preview --policy-pack (${allPolicies.length} policies)`, packed, "s");
        console.log(`${"ratio with pack / without".padEnd(44)} ${(median(packed) / median(plain)).toFixed(2)}x`);

        const preview = await ws.previewJson();
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
        console.log(`${"per resource, all resource policies".padEnd(44)} ${perResource.toFixed(1)} µs`);
        console.log(`${"share of the pack's overhead".padEnd(44)} ${((median(timings) / 1000 / Math.max(1e-9, median(packed) - median(plain))) * 100).toFixed(2)} %`);
    } finally {
        ws.remove();
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
