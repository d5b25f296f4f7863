// What `pulumi preview --json` and its engine event log (`--event-log`) hold, read defensively.
//
// The `--json` digest carries the steps, the config (secrets blinded) and the diagnostics, but the
// CLI leaves policy events out of it ("we don't handle policy events in JSON serialization",
// pkg/backend/display/json.go); they come from the event log's `policyEvent` lines.

/** One resource as the digest shows it (apitype.ResourceV3). */
export interface PreviewResourceState {
    urn?: string;
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
}

export interface PreviewStep {
    op: string;
    urn: string;
    provider?: string;
    oldState?: PreviewResourceState;
    newState?: PreviewResourceState;
    diffReasons?: string[];
    replaceReasons?: string[];
    detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }> | null;
}

export interface PreviewDiagnostic {
    urn?: string;
    message?: string;
    severity?: string;
}

/** `pulumi preview --json` (display.PreviewDigest). */
export interface PreviewDigest {
    /** Stack config as `key -> string` (objects as JSON text); secrets are blinded by the CLI. */
    config?: Record<string, string>;
    steps?: PreviewStep[];
    diagnostics?: PreviewDiagnostic[];
    /** Nanoseconds. */
    duration?: number;
    changeSummary?: Record<string, number>;
}

export type EnforcementLevel = "mandatory" | "advisory" | "remediate" | "disabled";

/** A policy violation as the engine reported it (apitype.PolicyEvent). */
export interface PolicyViolation {
    policyPack: string;
    policyPackVersion: string;
    policy: string;
    level: EnforcementLevel;
    severity?: string;
    message: string;
    /** The resource it concerns; absent for a stack policy's violation without one. */
    urn?: string;
}

/** Reads the digest; a text that is not one (a CLI that failed before printing it) throws with its start. */
export function parsePreviewDigest(text: string): PreviewDigest {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch {
        throw new Error(`not a pulumi preview --json output: ${JSON.stringify(text.trim().slice(0, 200))}`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a pulumi preview --json output: not a JSON object");
    const digest = value as PreviewDigest;
    if (digest.steps !== undefined && !Array.isArray(digest.steps)) throw new Error("not a pulumi preview --json output: steps is not a list");
    return digest;
}

interface EngineEventLine {
    policyEvent?: {
        resourceUrn?: string;
        message?: string;
        policyName?: string;
        policyPackName?: string;
        policyPackVersion?: string;
        enforcementLevel?: string;
        severity?: string;
    };
}

/** The engine says "warning" for advisory. */
function enforcementLevel(value: string | undefined): EnforcementLevel {
    switch (value) {
        case "mandatory":
        case "remediate":
        case "disabled":
            return value;
        default:
            return "advisory";
    }
}

/** The policy violations of an engine event log (one JSON event per line; other events are skipped). */
export function parsePolicyViolations(eventLog: string): PolicyViolation[] {
    const violations: PolicyViolation[] = [];
    for (const line of eventLog.split("\n")) {
        if (!line.includes('"policyEvent"')) continue;
        let event: EngineEventLine;
        try {
            event = JSON.parse(line) as EngineEventLine;
        } catch {
            continue; // a line cut off by a killed CLI
        }
        const p = event.policyEvent;
        if (p === undefined) continue;
        violations.push({
            policyPack: p.policyPackName ?? "",
            policyPackVersion: p.policyPackVersion ?? "",
            policy: p.policyName ?? "",
            level: enforcementLevel(p.enforcementLevel),
            ...(p.severity ? { severity: p.severity } : {}),
            message: (p.message ?? "").trim(),
            ...(p.resourceUrn ? { urn: p.resourceUrn } : {}),
        });
    }
    return violations;
}

/** `urn:pulumi:<stack>::<project>::<parent types $ type>::<name>` taken apart. */
export interface UrnParts {
    stack: string;
    project: string;
    /** The parent chain's types, outermost first, the resource's own type last. */
    typeChain: string[];
    type: string;
    name: string;
}

export function parseUrn(urn: string): UrnParts {
    const [prefix = "", project = "", types = "", ...nameParts] = urn.split("::");
    const typeChain = types.split("$").filter((t) => t !== "");
    return {
        stack: prefix.replace(/^urn:pulumi:/, ""),
        project,
        typeChain,
        type: typeChain[typeChain.length - 1] ?? "",
        // A name may itself contain "::".
        name: nameParts.join("::"),
    };
}

/** Whether a value is one the CLI blinded or wrapped as a secret. */
export function isSecretValue(value: unknown): boolean {
    if (value === "[secret]") return true;
    if (value === null || typeof value !== "object") return false;
    return (value as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270";
}
