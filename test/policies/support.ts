// Fake policy args (with notApplicable and stackTags, as @pulumi/policy 1.21 needs) and a passing release gate, for every policy test.
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { ReleaseEvidence } from "../../components/release/evidence";
import { RELEASE_GATE_TYPE, type ReleaseGateInputs } from "../../components/release/gate-inputs";
import type { PlatformPolicy } from "../../policies/support";

/** A Tuesday: 12:00 in Europe/Vienna (summer time), inside production's change window. */
export const NOW = "2025-06-03T10:00:00.000Z";

export function hoursBefore(hours: number, from = NOW): string {
    return new Date(Date.parse(from) - hours * 3_600_000).toISOString();
}

export const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function options(opts: Partial<PolicyResourceOptions>): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...opts,
    };
}

function notApplicable(reason?: string): never {
    throw new Error(`not applicable: ${reason ?? ""}`);
}

export interface ResourceCase {
    type: string;
    name?: string;
    props?: Record<string, unknown>;
    opts?: Partial<PolicyResourceOptions>;
    /** The policy config (what a stack's policy config file sets for the policy). */
    config?: Record<string, unknown>;
}

export function resourceArgs({ type, name = "test-resource", props = {}, opts = {}, config = {} }: ResourceCase): ResourceValidationArgs {
    return {
        type,
        name,
        urn: `urn:pulumi:test::release-platform::${type}::${name}`,
        props,
        opts: options(opts),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable,
    };
}

/** The messages a resource policy reports for `args`. */
export async function resourceViolations(policy: PlatformPolicy, args: ResourceValidationArgs): Promise<string[]> {
    const validations = (policy as ResourceValidationPolicy).validateResource;
    if (validations === undefined) throw new Error(`${policy.name} is not a resource policy`);
    const found: string[] = [];
    for (const validate of Array.isArray(validations) ? validations : [validations]) {
        await validate(args, (message) => found.push(message));
    }
    return found;
}

/** Policy config by policy name, as a stack's policy config file holds it. */
export type PolicyConfigs = Record<string, Record<string, unknown>>;

/**
 * The messages of every resource policy of `policies`, each prefixed with the policy's name. A
 * policy named in `configs` gets that config, the others the config of `args`.
 */
export async function allResourceViolations(policies: readonly PlatformPolicy[], args: ResourceValidationArgs, configs: PolicyConfigs = {}): Promise<string[]> {
    const found: string[] = [];
    for (const policy of policies) {
        if ((policy as ResourceValidationPolicy).validateResource === undefined) continue;
        const config = configs[policy.name];
        const policyArgs = config === undefined ? args : { ...args, getConfig: <T extends object>() => ({ ...config }) as T };
        for (const message of await resourceViolations(policy, policyArgs)) found.push(`${policy.name}: ${message}`);
    }
    return found;
}

export interface StackResourceCase {
    type: string;
    name: string;
    /** The resource's outputs. */
    props: Record<string, unknown>;
}

export function stackArgs(resources: StackResourceCase[], config: Record<string, unknown> = {}): StackValidationArgs {
    return {
        resources: resources.map(
            ({ type, name, props }): PolicyResource => ({
                type,
                name,
                props,
                urn: `urn:pulumi:test::release-platform::${type}::${name}`,
                opts: options({}),
                dependencies: [],
                propertyDependencies: {},
                isType: () => false,
                asType: () => undefined,
            }),
        ),
        stackTags: new Map(),
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable,
    };
}

/** The messages (and the URN they name) a stack policy reports. */
export async function stackViolations(policy: PlatformPolicy, args: StackValidationArgs): Promise<{ message: string; urn?: string }[]> {
    const validate = (policy as StackValidationPolicy).validateStack;
    if (validate === undefined) throw new Error(`${policy.name} is not a stack policy`);
    const found: { message: string; urn?: string }[] = [];
    await validate(args, (message, urn) => found.push(urn === undefined ? { message } : { message, urn }));
    return found;
}

/** Evidence that passes every gate at NOW. */
export function passingEvidence(): ReleaseEvidence {
    return {
        format: 1,
        stack: "production",
        collectedAt: hoursBefore(0.5),
        commit: { sha: COMMIT, ref: "refs/heads/main" },
        run: { repository: "acme/platform", id: 9001, workflow: "Deploy", event: "workflow_run", status: "in_progress" },
        ci: { state: "success", source: "github", checks: [{ name: "test", state: "success" }], coveragePercent: 86.5 },
        alerts: { source: "github", openHighCritical: 0, items: [] },
        reviews: { source: "github", pullRequest: 42, approvals: 1, approvers: ["alice"] },
        backups: [
            { server: "plesk", database: "mo_main", time: hoursBefore(2), ageHours: 2 },
            { server: "postgres-ext", database: "mo_idp", time: hoursBefore(23), ageHours: 23 },
        ],
        staging: {
            stack: "staging",
            source: "stack",
            services: {
                api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 0, green: 100 } },
                frontend: { blue: "2.0.0", green: "2.0.0", weights: { blue: 100, green: 0 } },
            },
        },
    };
}

/** A production release gate that passes every policy at NOW: api's green (1.1.0) moves 10 -> 50. */
export function passingGate(): ReleaseGateInputs {
    return {
        stack: "production",
        environment: "production",
        commit: COMMIT,
        commitFrom: "git",
        evidenceFile: ".release-evidence/production.json",
        evidence: passingEvidence(),
        requirements: {
            maxBackupAgeHours: 24,
            minApprovals: 1,
            maxOpenHighCriticalAlerts: 0,
            minCoveragePercent: 80,
            requireStagingFirst: true,
            changeWindow: { days: ["mon", "tue", "wed", "thu"], start: "09:00", end: "15:00", timezone: "Europe/Vienna" },
        },
        databases: [
            { server: "plesk", engine: "mariadb", database: "mo_main", maxDatabasesOnServer: 5 },
            { server: "postgres-ext", engine: "postgresql", database: "mo_idp" },
        ],
        servers: [
            { name: "plesk", engine: "mariadb", firewall: "plesk" },
            { name: "postgres-ext", engine: "postgresql", firewall: "ufw" },
        ],
        release: {
            ladder: [0, 10, 50, 100],
            services: {
                api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 50, green: 50 } },
                frontend: { blue: "2.0.0", green: "2.0.0", weights: { blue: 100, green: 0 } },
            },
            deployed: {
                api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 90, green: 10 } },
                frontend: { blue: "2.0.0", green: "2.0.0", weights: { blue: 100, green: 0 } },
            },
            // Only the weights change (releaseFingerprint): the rest is as the last deployment recorded it.
            fingerprint: { desired: "f".repeat(64), deployed: "f".repeat(64) },
        },
        cluster: {
            desired: {
                "psa-db-master": { vmId: 200, node: "pve1", unprivileged: true, datastore: "local-lvm", diskGiB: 100, template: "debian-12", mountPoints: [] },
            },
            deployed: {
                "psa-db-master": { vmId: 200, node: "pve1", unprivileged: true, datastore: "local-lvm", diskGiB: 100, template: "debian-12", mountPoints: [] },
            },
        },
    };
}

/** The clock of every time-dependent policy set to NOW. */
export const AT_NOW: PolicyConfigs = {
    "gates-evidence-current": { now: NOW },
    "gates-backups-fresh": { now: NOW },
    "gates-change-window": { now: NOW },
};

/** The passing gate with one change applied, as the args of a resource policy. */
export function gateArgs(change: (gate: ReleaseGateInputs) => void = () => {}): ResourceValidationArgs {
    const gate = passingGate();
    change(gate);
    return resourceArgs({ type: RELEASE_GATE_TYPE, name: "release-gate", props: gate as unknown as Record<string, unknown> });
}

/** The gate's evidence, for a change that needs it to be there. */
export function evidenceOf(gate: ReleaseGateInputs): ReleaseEvidence {
    if (!gate.evidence) throw new Error("the passing gate has evidence");
    return gate.evidence;
}
