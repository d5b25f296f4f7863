// The release gate: a dynamic resource that records the release's evidence and requirements, so the
// policy pack checks them (resource policies read its inputs) before any release step, which all depend on it.
import * as pulumi from "@pulumi/pulumi";
import type { ReleaseGateInputs } from "./gate-inputs";

/** The top-level inputs the gate compares; `__provider` (the serialized provider) is left out. */
export const GATE_COMPARED_KEYS: readonly (keyof ReleaseGateInputs)[] = [
    "stack", "environment", "commit", "commitFrom", "evidenceFile", "evidence", "evidenceProblem", "requirements", "databases", "servers", "release", "cluster",
];

/**
 * The inputs without what changes on its own: when the evidence was collected, how old the
 * backups are and which backups they are (each release takes new ones), and what the last
 * deployment recorded (the release itself changes it). Comparing this view makes a second `up`
 * with the same evidence a no-op, while a new commit, CI result, alert, approval, staging
 * version, requirement, desired release or database list is an update.
 */
export function stableGateView(inputs: Partial<ReleaseGateInputs>): Partial<Record<keyof ReleaseGateInputs, unknown>> {
    const view: Partial<Record<keyof ReleaseGateInputs, unknown>> = {};
    for (const key of GATE_COMPARED_KEYS) view[key] = inputs[key];
    if (inputs.evidence) {
        view.evidence = { ...without(inputs.evidence, "collectedAt"), backups: (inputs.evidence.backups ?? []).map((b) => ({ server: b.server, database: b.database })) };
    }
    // What the last deployment recorded changes with every deployment: only the desired fingerprint counts.
    if (inputs.release) view.release = { ...without(inputs.release, "deployed"), fingerprint: inputs.release.fingerprint?.desired };
    if (inputs.cluster) view.cluster = without(inputs.cluster, "deployed");
    return view;
}

/** A shallow copy without one member. */
function without<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
    const copy: Partial<T> = { ...value };
    delete copy[key];
    return copy as Omit<T, K>;
}

/** JSON with object keys sorted and null or undefined members left out, so state round trips compare equal. */
export function canonicalJson(value: unknown): string {
    const normal = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map((item) => (item === undefined ? null : normal(item)));
        if (v !== null && typeof v === "object") {
            const out: Record<string, unknown> = {};
            for (const key of Object.keys(v).sort()) {
                const member = (v as Record<string, unknown>)[key];
                if (member !== undefined && member !== null) out[key] = normal(member);
            }
            return out;
        }
        return v;
    };
    return JSON.stringify(normal(value)) ?? "null";
}

/** The top-level inputs whose stable view differs: what an update of the gate would record. */
export function gateChanges(olds: Partial<ReleaseGateInputs>, news: Partial<ReleaseGateInputs>): (keyof ReleaseGateInputs)[] {
    const before = stableGateView(olds);
    const after = stableGateView(news);
    return GATE_COMPARED_KEYS.filter((key) => canonicalJson(before[key]) !== canonicalJson(after[key]));
}

/** Input checks: the evidence is either there or explained. */
export function checkGateInputs(news: Partial<ReleaseGateInputs>): { property: string; reason: string }[] {
    const failures: { property: string; reason: string }[] = [];
    if (!news.stack) failures.push({ property: "stack", reason: "the stack name is required" });
    if ((news.evidence === null || news.evidence === undefined) && !news.evidenceProblem) {
        failures.push({ property: "evidenceProblem", reason: "the evidence is missing and nothing says why" });
    }
    return failures;
}

/** The id of a stack's gate (one per stack). */
export function releaseGateId(stack: string): string {
    return `${stack}-release-gate`;
}

/** Stores its inputs; an update records new evidence, nothing is ever replaced or touched outside the state. */
export const releaseGateProvider: pulumi.dynamic.ResourceProvider<ReleaseGateInputs, ReleaseGateInputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: checkGateInputs(news) };
    },

    async diff(_id, olds, news) {
        return { changes: gateChanges(olds, news).length > 0, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs) {
        return { id: releaseGateId(inputs.stack), outs: inputs };
    },

    async update(_id, _olds, news) {
        return { outs: news };
    },

    async read(id, props) {
        return { id, props };
    },

    async delete() {},
};

export const RELEASE_GATE_MODULE = "release";
export const RELEASE_GATE_NAME = "ReleaseGate";

/** The gate of one stack's release. Every release step passes it in `dependsOn`. */
export class ReleaseGate extends pulumi.dynamic.Resource {
    public declare readonly commit: pulumi.Output<string>;
    public declare readonly evidenceFile: pulumi.Output<string>;
    public declare readonly release: pulumi.Output<ReleaseGateInputs["release"]>;

    /** `inputs` must be known at preview (plain values, or Outputs of a StackReference): the policies read them then. */
    constructor(name: string, inputs: pulumi.Input<ReleaseGateInputs>, opts?: pulumi.CustomResourceOptions) {
        const all = pulumi.output(inputs);
        const props: Record<string, pulumi.Input<unknown>> = {};
        for (const key of GATE_COMPARED_KEYS) props[key] = all.apply((i) => i[key]);
        super(releaseGateProvider, name, props, opts, RELEASE_GATE_MODULE, RELEASE_GATE_NAME);
    }
}
