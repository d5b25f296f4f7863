// The release gate's inputs: the contract between the program (components/release/gate.ts) and the
// policy pack (policies/gates.ts, release.ts, databases.ts, cluster.ts), which reads them before any
// release step runs. Plain values only: a value unknown at preview would downgrade a gate to advisory.
import type { GuardRecord } from "../cluster/guard";
import type { Environment, ReleaseSpec, Weekday } from "../config";
import type { ReleaseEvidence, ServiceVersions } from "./evidence";

/** Where the program's commit came from (components/release/gate-context.ts `releaseCommit`). */
export type CommitSource = "git" | "GITHUB_SHA" | "RELEASE_COMMIT" | "none";

/** The type token the engine records (dynamic resources live under `pulumi-nodejs:dynamic/`). */
export const RELEASE_GATE_TYPE = "pulumi-nodejs:dynamic/release:ReleaseGate";

/** What the stack config asks of a release (`release.gates`). */
export interface GateRequirements {
    maxBackupAgeHours: number;
    minApprovals: number;
    maxOpenHighCriticalAlerts: number;
    minCoveragePercent: number;
    requireStagingFirst: boolean;
    changeWindow?: { days: Weekday[]; start: string; end: string; timezone: string };
}

export type ReleaseGatesSpec = ReleaseSpec["gates"];

export interface ReleaseGateInputs {
    stack: string;
    environment: Environment;
    /** The commit the program runs from (`git rev-parse HEAD`, else GITHUB_SHA; RELEASE_COMMIT overrides both); "" when unknown. */
    commit: string;
    /** Where `commit` came from: an override (`RELEASE_COMMIT`) is for the local stack only. */
    commitFrom: CommitSource;
    /** The evidence file read (project-relative or absolute). */
    evidenceFile: string;
    /** The evidence as collected; null when the file is missing or invalid (see evidenceProblem). */
    evidence: ReleaseEvidence | null;
    /** Why `evidence` is null: "missing" or the validation error. */
    evidenceProblem?: string;
    requirements: GateRequirements;
    /** Every database of the stack. */
    databases: { server: string; engine: string; database: string; maxDatabasesOnServer?: number }[];
    /** Every database server, with the kind of its host firewall (`databases.servers.<name>.firewall`). */
    servers: { name: string; engine: string; firewall: string }[];
    release: {
        ladder: number[];
        /** What the config asks for now, per service. */
        services: Record<string, ServiceVersions>;
        /** What the last deployment of this stack recorded (its `services` output); null on the first. */
        deployed: Record<string, ServiceVersions> | null;
        /**
         * Everything but the weights (`releaseFingerprint`): as the config and the program ask now,
         * and as the last deployment recorded it (null on the first, or before it was recorded).
         */
        fingerprint: { desired: string; deployed: string | null };
    };
    cluster: {
        /** The guarded fields of every data-holding container as the config asks for them now. */
        desired: GuardRecord;
        /** As the last deployment recorded them; null on the first. */
        deployed: GuardRecord | null;
    };
}
