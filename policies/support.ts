// What the policy modules share: the policy shape, per-policy config with defaults, the injected clock, the release gate's inputs.
import type {
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
} from "@pulumi/policy";
import { RELEASE_GATE_TYPE, type ReleaseGateInputs } from "../components/release/gate-inputs";
import type { ReleaseEvidence } from "../components/release/evidence";

export type PlatformPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** What every policy of the pack states about itself (the README's table is made from it). */
export interface PolicyMeta {
    /** `<domain>-<what>`, kebab-case. */
    name: string;
    /** What it checks, as full sentences. */
    description: string;
    severity: Severity;
    /** How to fix a violation. */
    remediationSteps: string;
    configSchema?: PolicyConfigSchema;
}

/**
 * A resource policy, mandatory unless a stack's policy config says otherwise. With `onlyType`,
 * `validateResource` is marked as looking at resources of that type alone, as
 * `validateResourceOfType` does for SDK classes (the release gate and other dynamic resources have
 * no static type): the policy server then skips every other resource before it deserializes its
 * properties, which it otherwise does once per policy and resource on the preview's critical path.
 * `validateResource` still checks the type itself.
 */
export function resourcePolicy(
    meta: PolicyMeta,
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => void,
    onlyType?: string,
): ResourceValidationPolicy {
    return { ...meta, enforcementLevel: "mandatory", validateResource: onlyType === undefined ? validateResource : Object.assign(validateResource, { __pulumiType: onlyType }) };
}

/** Any object with the policy config accessor (resource and stack args both have it). */
interface ConfigSource {
    getConfig<T extends object>(): T;
}

/**
 * The policy's config with its defaults filled in. The engine validates the values against the
 * policy's `configSchema` but passes on only what the config file sets.
 */
export function policyConfig<T extends object>(args: ConfigSource, defaults: T): T {
    return { ...defaults, ...args.getConfig<Partial<T>>() };
}

/** The config property every time-dependent policy has, so tests (and a dry run "as of") can set the clock. */
export const NOW_PROPERTY: PolicyConfigSchema["properties"] = {
    now: { type: "string", format: "date-time", description: "The time the policy takes as now (ISO 8601); the wall clock when unset." },
};

/** The injected clock: `now` from the policy config, else the wall clock. */
export function nowFrom(config: { now?: string }): Date {
    if (config.now === undefined) return new Date();
    const now = new Date(config.now);
    if (Number.isNaN(now.getTime())) throw new Error(`policy config now: ${JSON.stringify(config.now)} is not an ISO 8601 date-time`);
    return now;
}

/** The top-level fields the policies read; a gate without them comes from another version of the program. */
const GATE_FIELDS = ["stack", "requirements", "databases", "release", "cluster"] as const;

/**
 * The release gate's inputs, or undefined for any other resource. A gate whose inputs lack a
 * field the policies read is reported (once per policy) instead of failing the whole pack.
 */
export function gateInputs(args: ResourceValidationArgs, report: ReportViolation): ReleaseGateInputs | undefined {
    if (args.type !== RELEASE_GATE_TYPE) return undefined;
    const props = args.props as Partial<Record<string, unknown>>;
    const missing = GATE_FIELDS.filter((field) => props[field] === undefined || props[field] === null);
    if (missing.length > 0) {
        report(`the release gate ${args.name} has no ${missing.join(", ")}: the program and the policy pack come from different commits; preview from one checkout`);
        return undefined;
    }
    return args.props as ReleaseGateInputs;
}

/** A resource policy on the release gate: runs before any release step, because every step depends on the gate. */
export function gatePolicy(meta: PolicyMeta, check: (gate: ReleaseGateInputs, args: ResourceValidationArgs, report: ReportViolation) => void): ResourceValidationPolicy {
    return resourcePolicy(
        meta,
        (args, report) => {
            const gate = gateInputs(args, report);
            if (gate) check(gate, args, report);
        },
        RELEASE_GATE_TYPE,
    );
}

/** The gate's evidence; when there is none, reports what to run and returns undefined. */
export function gateEvidence(gate: ReleaseGateInputs, report: ReportViolation): ReleaseEvidence | undefined {
    if (gate.evidence) return gate.evidence;
    report(
        `no release evidence for stack ${gate.stack} (${gate.evidenceFile}: ${gate.evidenceProblem ?? "missing"}): ` +
            `run \`npm run evidence -- --stack ${gate.stack}\`, then preview again`,
    );
    return undefined;
}

/** `a, b and c` for messages. */
export function listed(items: readonly string[]): string {
    if (items.length <= 1) return items.join("");
    return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1] ?? ""}`;
}
