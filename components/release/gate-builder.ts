// Assembles the release gate's inputs from the spec, the evidence file and what the last deployment recorded (pure).
import * as crypto from "node:crypto";
import { guardRecordOf, parseGuardRecord } from "../cluster/guard";
import type { PlatformSpec } from "../config";
import { releaseEvidenceSchema, type ReleaseEvidence } from "./evidence";
import { canonicalJson } from "./gate";
import type { CommitSource, GateRequirements, ReleaseGateInputs } from "./gate-inputs";
import { deployedServiceVersions, desiredServiceVersions } from "./service-versions";

/** The stack output the release records per service (index.ts exports it under this name); the gate reads the last one. */
export const RELEASE_SERVICES_OUTPUT = "services";

/** The evidence as the program found it: parsed, or null with the reason. */
export interface EvidenceRead {
    evidence: ReleaseEvidence | null;
    problem?: string;
}

/** What the program knows beside the spec: the stack, the evidence file, the commit it runs from. */
export interface ReleaseGateContext {
    stack: string;
    /** As given (project-relative by default). */
    evidenceFile: string;
    read: EvidenceRead;
    /** "" when unknown. */
    commit: string;
    /** Where `commit` came from (components/release/gate-context.ts `releaseCommit`). */
    commitFrom?: CommitSource;
    /** sha256 of the program's sources (index.ts and components/), "" when unknown: a rollback changes none of them. */
    programDigest?: string;
}

/** The stack output the next deployment reads its fingerprint back from (see `releaseFingerprint`). */
export const RELEASE_FINGERPRINT_OUTPUT = "releaseFingerprint";

/**
 * What an update brings besides traffic weights: the whole platform spec with every service's
 * weights taken out, and the program's sources. Two deployments with the same fingerprint differ
 * in weights at most, so only such an update can be a rollback (policies/gates.ts `isRollback`).
 */
export function releaseFingerprint(spec: PlatformSpec, programDigest: string): string {
    const withoutWeights = { ...spec, services: spec.services.map(({ weights: _weights, ...rest }) => rest) };
    return crypto.createHash("sha256").update(canonicalJson({ spec: withoutWeights, program: programDigest })).digest("hex");
}

/** The default evidence file of a stack, relative to the project directory. */
export function defaultEvidenceFile(stack: string): string {
    return `.release-evidence/${stack}.json`;
}

/** No evidence file: the policies say what to run (`npm run evidence -- --stack <stack>`). */
export const MISSING_EVIDENCE = "missing";

/**
 * The evidence file's text (undefined when there is none) checked against the schema; a
 * problem names the field. Evidence collected for another stack is refused too.
 */
export function parseEvidenceText(text: string | undefined, stack: string, file: string): EvidenceRead {
    if (text === undefined) return { evidence: null, problem: MISSING_EVIDENCE };
    let raw: unknown;
    try {
        raw = JSON.parse(text);
    } catch (error) {
        return { evidence: null, problem: `invalid: ${file} is not JSON (${(error as Error).message})` };
    }
    const parsed = releaseEvidenceSchema.safeParse(raw);
    if (!parsed.success) {
        const issues = parsed.error.issues.map((issue) => `${["evidence", ...issue.path.map(String)].join(".")}: ${issue.message}`);
        return { evidence: null, problem: `invalid: ${file}: ${issues.join("; ")}` };
    }
    if (parsed.data.stack !== stack) {
        return { evidence: null, problem: `invalid: ${file} was collected for stack ${parsed.data.stack}, not ${stack}: run \`npm run evidence -- --stack ${stack}\`` };
    }
    return { evidence: parsed.data };
}

/** What the stack config asks of a release (`release.gates`); the change window only where set. */
export function gateRequirements(gates: PlatformSpec["release"]["gates"]): GateRequirements {
    return {
        maxBackupAgeHours: gates.maxBackupAgeHours,
        minApprovals: gates.minApprovals,
        maxOpenHighCriticalAlerts: gates.maxOpenHighCriticalAlerts,
        minCoveragePercent: gates.minCoveragePercent,
        requireStagingFirst: gates.requireStagingFirst,
        ...(gates.changeWindow
            ? { changeWindow: { days: [...gates.changeWindow.days], start: gates.changeWindow.start, end: gates.changeWindow.end, timezone: gates.changeWindow.timezone } }
            : {}),
    };
}

/** Every database of the stack, with its server's limit where one is set. */
export function gateDatabases(spec: PlatformSpec): ReleaseGateInputs["databases"] {
    return spec.databases.servers.flatMap((server) =>
        server.databases.map((db) => ({
            server: server.name,
            engine: server.engine,
            database: db.database,
            ...(server.maxDatabases === undefined ? {} : { maxDatabasesOnServer: server.maxDatabases }),
        })),
    );
}

export interface GateInputsArgs {
    spec: PlatformSpec;
    context: ReleaseGateContext;
    /** The stack's own previous outputs, as the StackReference reads them (undefined on the first deployment). */
    previousServices: unknown;
    previousGuard: unknown;
    /** The last deployment's `releaseFingerprint` output (undefined on the first). */
    previousFingerprint?: unknown;
}

/** The gate's inputs: plain values only, every one of them known at preview. */
export function gateInputs({ spec, context, previousServices, previousGuard, previousFingerprint }: GateInputsArgs): ReleaseGateInputs {
    return {
        stack: context.stack,
        environment: spec.environment,
        commit: context.commit,
        commitFrom: context.commitFrom ?? (context.commit === "" ? "none" : "git"),
        evidenceFile: context.evidenceFile,
        evidence: context.read.evidence,
        ...(context.read.evidence === null ? { evidenceProblem: context.read.problem ?? MISSING_EVIDENCE } : {}),
        requirements: gateRequirements(spec.release.gates),
        databases: gateDatabases(spec),
        servers: spec.databases.servers.map((server) => ({ name: server.name, engine: server.engine, firewall: server.firewall })),
        release: {
            ladder: [...spec.release.ladder],
            services: desiredServiceVersions(spec.services, spec.release.traffic),
            deployed: deployedServiceVersions(previousServices),
            fingerprint: {
                desired: releaseFingerprint(spec, context.programDigest ?? ""),
                deployed: typeof previousFingerprint === "string" && /^[0-9a-f]{64}$/.test(previousFingerprint) ? previousFingerprint : null,
            },
        },
        cluster: {
            desired: guardRecordOf(spec.cluster),
            deployed: parseGuardRecord(previousGuard),
        },
    };
}

/** The stack output `releaseGate`: which commit and evidence this `up` was gated on. */
export interface ReleaseGateSummary {
    commit: string;
    evidenceFile: string;
    evidenceCollectedAt: string | null;
    evidenceProblem?: string;
}

export function releaseGateSummary(context: ReleaseGateContext): ReleaseGateSummary {
    return {
        commit: context.commit,
        evidenceFile: context.evidenceFile,
        evidenceCollectedAt: context.read.evidence?.collectedAt ?? null,
        ...(context.read.evidence === null ? { evidenceProblem: context.read.problem ?? MISSING_EVIDENCE } : {}),
    };
}
