// What a preview means for a release, as plain data: changes per part, weights per service,
// backups and migrations that will run, policy violations, and the worst-case rollback time.
import { releaseSchema, servicesSchema, type ReleaseConfig, type ServicesConfig } from "../../components/config";
import { RELEASE_GATE_TYPE } from "../../components/release/gate-inputs";
import { RELEASE_RECORD_TYPE } from "../../components/release/record";
import { DATA_CHANGE_TYPE } from "../../components/release/data-change";
import { HAPROXY_WEIGHTS_TYPE } from "../../components/release/haproxy/weights";
import type { HealthGateSettings } from "../../components/release/health";
import { checkWeightMove, type Weights } from "../../components/release/ladder";
import { NGINX_WEIGHTS_TYPE } from "../../components/release/nginx/weights";
import { releaseOrder } from "../../components/release/order";
import { isSecretValue, parseUrn, type PolicyViolation, type PreviewDigest, type PreviewStep } from "./preview";
import { worstCaseRollback, type RollbackEstimate } from "./rollback";

export const PLATFORM_PARTS = ["cluster", "databases", "release", "other"] as const;
export type PlatformPart = (typeof PLATFORM_PARTS)[number];

/** Steps that change nothing: the engine's `same`, and reads (the StackReference the cluster guard reads). */
const NO_CHANGE_OPS = new Set(["same", "read", "refresh"]);
/** Steps whose command (a `command:local:Command`) will run: created, replaced, or updated (no `update` script, so `create` runs again). */
const COMMAND_RUNS_OPS = new Set(["create", "update", "replace", "create-replacement"]);

/** The part of the platform a resource belongs to, by the component types above it in its URN. */
export function platformPartOf(urn: string): PlatformPart {
    const { typeChain, type } = parseUrn(urn);
    if (type === RELEASE_GATE_TYPE || type === RELEASE_RECORD_TYPE) return "release";
    for (const part of ["cluster", "databases", "release"] as const) {
        if (typeChain.some((t) => t.startsWith(`platform:${part}:`))) return part;
    }
    return "other";
}

export interface ResourceChange {
    op: string;
    /** The type token's last segment (`HaproxyWeights`, `ContainerLegacy`). */
    kind: string;
    type: string;
    name: string;
    urn: string;
    /** Top-level properties that change (what `--diff` would show). */
    changed: string[];
}

export interface Change<T> {
    /** Absent when the resource is new. */
    before?: T;
    after: T;
}

/** What one `up` does to a service's traffic. */
export type WeightStep = "none" | "forward" | "back" | "rollback" | "first" | "refused";

export interface ServiceRelease {
    service: string;
    backend: string;
    blue: { version: Change<string>; weight: Change<number> };
    green: { version: Change<string>; weight: Change<number> };
    step: WeightStep;
    /** Why a step is refused (the ladder's message). */
    refusedBecause?: string;
    /** Whether its traffic resource changes at all in this preview. */
    changes: boolean;
    healthGate: HealthGateSettings;
    /** How long the resource waits for a colour that just lost its last traffic. */
    drainSeconds: number;
    dependsOn: string[];
}

export interface PlannedCommand {
    kind: "backup" | "migration";
    service: string;
    op: string;
    name: string;
    /** Backups: the database (`mo_x`) and its server. */
    database?: string;
    server?: string;
    /** The version whose arrival runs it (green's). */
    version?: string;
    /** Migrations: the command as configured. */
    command?: string;
}

export interface ReleaseSummary {
    stack: string;
    /** The preview's exit code, when known; non-zero means it failed (mandatory violation or error). */
    exitCode?: number;
    /** The engine's own count per operation (components included). */
    changeSummary: Record<string, number>;
    changes: Record<PlatformPart, ResourceChange[]>;
    /** In release order. */
    services: ServiceRelease[];
    order: string[];
    commands: PlannedCommand[];
    /** Mandatory first, then by policy and resource. */
    violations: PolicyViolation[];
    errors: string[];
    rollback: RollbackEstimate;
    /** What happens to the release gate resource, when the program declares one. */
    gate?: { op: string; name: string };
    /** Whether the preview got as far as a plan (a failure before the program ran has none). */
    planned: boolean;
}

export interface ReleaseSummaryInput {
    stack: string;
    digest: PreviewDigest;
    violations?: PolicyViolation[];
    exitCode?: number;
}

function record(value: unknown): Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function numberOr(value: unknown, fallback: number): number {
    return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function stringOr(value: unknown, fallback: string): string {
    return typeof value === "string" && !isSecretValue(value) ? value : fallback;
}

/** A config section of the digest (objects arrive as JSON text); undefined when absent or unreadable. */
function configSection(digest: PreviewDigest, name: string): unknown {
    const raw = digest.config?.[`release-platform:${name}`];
    if (raw === undefined) return undefined;
    try {
        return JSON.parse(raw);
    } catch {
        return raw;
    }
}

function changedProperties(step: PreviewStep): string[] {
    let paths = step.detailedDiff ? Object.keys(step.detailedDiff) : (step.diffReasons ?? []);
    if (paths.length === 0 && step.oldState?.inputs && step.newState?.inputs) {
        // Dynamic providers report no detailed diff: compare the inputs.
        const olds = step.oldState.inputs;
        const news = step.newState.inputs;
        paths = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
    }
    // `weights.green` and `weights.blue` are one change to `weights`.
    return [...new Set(paths.map((p) => p.split(/[.[]/)[0] ?? p))].sort();
}

function resourceChange(step: PreviewStep): ResourceChange {
    const { type, name } = parseUrn(step.urn);
    return { op: step.op, kind: type.split(/[:/]/).pop() ?? type, type, name, urn: step.urn, changed: changedProperties(step) };
}

/** Whether a step is about a component or the stack itself, which do nothing by themselves. */
function isLogicalOnly(type: string): boolean {
    return type.startsWith("platform:") || type === "pulumi:pulumi:Stack";
}

interface TrafficInputs {
    service?: unknown;
    drainSeconds?: unknown;
    weights?: unknown;
    ladder?: unknown;
    healthGate?: unknown;
    blue?: unknown;
    green?: unknown;
}

function weightsOf(inputs: TrafficInputs | undefined): Weights | undefined {
    const w = record(inputs?.weights);
    return typeof w.blue === "number" && typeof w.green === "number" ? { blue: w.blue, green: w.green } : undefined;
}

function versionOf(inputs: TrafficInputs | undefined, colour: "blue" | "green"): string | undefined {
    const v = record(inputs?.[colour]).version;
    return typeof v === "string" && !isSecretValue(v) ? v : undefined;
}

function change<T>(before: T | undefined, after: T): Change<T> {
    return before === undefined ? { after } : { before, after };
}

function weightStep(ladder: number[], before: number | undefined, after: number): { step: WeightStep; reason?: string } {
    if (before === undefined) return { step: "first" };
    const move = checkWeightMove(ladder, before, after);
    return move.ok ? { step: move.kind } : { step: "refused", reason: move.reason };
}

/** The services of the config (defaults filled in), or none when the digest has no readable services section. */
function servicesOf(digest: PreviewDigest): ServicesConfig {
    const parsed = servicesSchema.safeParse(configSection(digest, "services") ?? {});
    return parsed.success ? parsed.data : {};
}

function releaseOf(digest: PreviewDigest): ReleaseConfig {
    const parsed = releaseSchema.safeParse(configSection(digest, "release") ?? {});
    return parsed.success ? parsed.data : releaseSchema.parse({});
}

function serviceReleases(digest: PreviewDigest, services: ServicesConfig, release: ReleaseConfig, order: string[]): ServiceRelease[] {
    const trafficSteps = new Map<string, PreviewStep>();
    for (const step of digest.steps ?? []) {
        const type = step.newState?.type ?? step.oldState?.type ?? parseUrn(step.urn).type;
        if (type !== HAPROXY_WEIGHTS_TYPE && type !== NGINX_WEIGHTS_TYPE) continue;
        const inputs = (step.newState?.inputs ?? step.oldState?.inputs) as TrafficInputs | undefined;
        const service = stringOr(inputs?.service, parseUrn(step.urn).name);
        trafficSteps.set(service, step);
    }
    const names = [...order, ...[...trafficSteps.keys()].filter((name) => !order.includes(name))];
    return names.map((service) => {
        const config = services[service];
        const step = trafficSteps.get(service);
        const before = step?.op === "create" ? undefined : ((step?.oldState?.inputs ?? undefined) as TrafficInputs | undefined);
        const after = (step?.newState?.inputs ?? undefined) as TrafficInputs | undefined;
        // Without a step of its own (an unchanged resource the digest leaves out), the config is both.
        const afterWeights = weightsOf(after) ?? config?.weights ?? { blue: 100, green: 0 };
        const beforeWeights = step === undefined ? afterWeights : weightsOf(before);
        const ladderInput = record(after).ladder;
        const ladder = Array.isArray(ladderInput) && ladderInput.every((n) => typeof n === "number") ? (ladderInput as number[]) : release.ladder;
        const gate = record(after?.healthGate);
        const { step: kind, reason } = weightStep(ladder, beforeWeights?.green, afterWeights.green);
        const colour = (c: "blue" | "green") => {
            const afterVersion = versionOf(after, c) ?? config?.[c].version ?? "?";
            const beforeVersion = step === undefined ? afterVersion : versionOf(before, c);
            return { version: change(beforeVersion, afterVersion), weight: change(beforeWeights?.[c], afterWeights[c]) };
        };
        const type = step?.newState?.type ?? step?.oldState?.type;
        return {
            service,
            backend: type === HAPROXY_WEIGHTS_TYPE ? "haproxy" : type === NGINX_WEIGHTS_TYPE ? "nginx" : (config?.traffic.backend ?? "?"),
            blue: colour("blue"),
            green: colour("green"),
            step: kind,
            ...(reason !== undefined ? { refusedBecause: reason } : {}),
            changes: step !== undefined && !NO_CHANGE_OPS.has(step.op),
            healthGate: {
                timeoutSeconds: numberOr(gate.timeoutSeconds, release.healthGate.timeoutSeconds),
                intervalSeconds: numberOr(gate.intervalSeconds, release.healthGate.intervalSeconds),
                retries: numberOr(gate.retries, release.healthGate.retries),
            },
            drainSeconds: numberOr(after?.drainSeconds, release.drainSeconds),
            dependsOn: config?.dependsOn ?? [],
        };
    });
}

/**
 * What the data changes of the preview will run: per service whose target version arrives (a
 * create, or an update to another version), a backup of each of its databases, then its migration.
 * A data change updated for the same version runs nothing (it records a new command for the next).
 */
function plannedCommands(digest: PreviewDigest, serviceNames: string[]): PlannedCommand[] {
    const commands: PlannedCommand[] = [];
    for (const step of digest.steps ?? []) {
        const { type, name } = parseUrn(step.urn);
        if (type !== DATA_CHANGE_TYPE || !COMMAND_RUNS_OPS.has(step.op)) continue;
        const inputs = record(step.newState?.inputs);
        const before = record(step.oldState?.inputs);
        const version = stringOr(inputs.version, "");
        if (step.op === "update" && before.version === version) continue;
        const service = stringOr(inputs.service, name.replace(/-data$/, ""));
        const targets = Array.isArray(inputs.targets) ? inputs.targets.map(record) : [];
        for (const target of targets) {
            commands.push({ kind: "backup", service, op: step.op, name, database: stringOr(target.database, ""), server: stringOr(target.server, ""), version });
        }
        if (typeof inputs.migrationCommand === "string") commands.push({ kind: "migration", service, op: step.op, name, version, command: inputs.migrationCommand });
    }
    // In release order; per service its backups (by database) before its migration, the order they run in.
    const rank = (c: PlannedCommand) => (serviceNames.indexOf(c.service) + 1 || serviceNames.length + 1) * 2 + (c.kind === "migration" ? 1 : 0);
    return commands.sort((a, b) => rank(a) - rank(b) || (a.database ?? a.name).localeCompare(b.database ?? b.name));
}

const LEVEL_RANK: Record<string, number> = { mandatory: 0, remediate: 1, advisory: 2, disabled: 3 };

function sortViolations(violations: PolicyViolation[]): PolicyViolation[] {
    const key = (v: PolicyViolation) => `${v.policy}\u0000${v.urn ?? ""}\u0000${v.message}`;
    const seen = new Set<string>();
    return [...violations]
        .filter((v) => {
            // The engine reports a resource policy once per resource; a re-run may repeat it in the log.
            const k = `${v.level}\u0000${key(v)}`;
            if (seen.has(k)) return false;
            seen.add(k);
            return true;
        })
        .sort((a, b) => (LEVEL_RANK[a.level] ?? 9) - (LEVEL_RANK[b.level] ?? 9) || key(a).localeCompare(key(b)));
}

/** The CLI's closing line after a failed preview: it says nothing the violations or other errors do not. */
const PREVIEW_FAILED = "preview failed";

/** The error diagnostics, each once; the closing "preview failed" only when nothing else explains the failure. */
function errorsOf(digest: PreviewDigest, violations: PolicyViolation[]): string[] {
    const errors = [
        ...new Set(
            (digest.diagnostics ?? [])
                .filter((d) => d.severity === "error")
                .map((d) => (d.message ?? "").replace(/^error: /, "").trim())
                .filter((m) => m !== ""),
        ),
    ];
    const explained = errors.some((e) => e !== PREVIEW_FAILED) || violations.some((v) => v.level === "mandatory" || v.level === "remediate");
    return explained ? errors.filter((e) => e !== PREVIEW_FAILED) : errors;
}

export function summarizeRelease(input: ReleaseSummaryInput): ReleaseSummary {
    const { digest } = input;
    const services = servicesOf(digest);
    const release = releaseOf(digest);
    let order: string[];
    try {
        order = releaseOrder(
            Object.entries(services).map(([name, s]) => ({ name, dependsOn: s.dependsOn })),
            release.order ?? [],
        );
    } catch {
        order = Object.keys(services); // a cycle: the preview itself reports it as an error
    }

    const changes = Object.fromEntries(PLATFORM_PARTS.map((part) => [part, [] as ResourceChange[]])) as Record<PlatformPart, ResourceChange[]>;
    let gate: ReleaseSummary["gate"];
    for (const step of digest.steps ?? []) {
        const { type, name } = parseUrn(step.urn);
        if (type === RELEASE_GATE_TYPE) gate = { op: step.op, name };
        if (NO_CHANGE_OPS.has(step.op) || isLogicalOnly(type)) continue;
        changes[platformPartOf(step.urn)].push(resourceChange(step));
    }

    const released = serviceReleases(digest, services, release, order);
    return {
        stack: input.stack,
        ...(input.exitCode !== undefined ? { exitCode: input.exitCode } : {}),
        changeSummary: { ...(digest.changeSummary ?? {}) },
        changes,
        services: released,
        order: released.map((s) => s.service),
        commands: plannedCommands(digest, released.map((s) => s.service)),
        violations: sortViolations(input.violations ?? []),
        errors: errorsOf(digest, input.violations ?? []),
        rollback: worstCaseRollback(released),
        ...(gate ? { gate } : {}),
        planned: (digest.steps ?? []).length > 0,
    };
}
