// Release evidence: what machines know about a release candidate, as `npm run evidence` writes it
// and the program records it on the release gate. Nothing here is typed by hand.
import { z } from "zod";

export const EVIDENCE_FORMAT = 1;

/** Where a piece of evidence came from: GitHub's API, a local file (offline, tests), or nowhere. */
export const EVIDENCE_SOURCES = ["github", "file", "stack", "none"] as const;
const source = z.enum(EVIDENCE_SOURCES);

/** A commit status as GitHub's combined status and check runs reduce to it. */
export const CI_STATES = ["success", "failure", "pending", "error", "unknown"] as const;
export type CiState = (typeof CI_STATES)[number];

const isoTime = z.iso.datetime({ offset: true });

const versionsSchema = z.strictObject({
    blue: z.string(),
    green: z.string(),
    weights: z.strictObject({ blue: z.number(), green: z.number() }),
    /** The commands the release runs for the service by design (migration, nginx test and reload), by name. */
    commands: z.record(z.string(), z.string()).optional(),
});

export const releaseEvidenceSchema = z.strictObject({
    format: z.literal(EVIDENCE_FORMAT),
    /** The stack the evidence was collected for. */
    stack: z.string().min(1),
    /** When it was collected (UTC, ISO 8601). */
    collectedAt: isoTime,
    /** The commit being released (`GITHUB_SHA` or `git rev-parse HEAD`). */
    commit: z.strictObject({ sha: z.string().regex(/^[0-9a-f]{40}$/), ref: z.string().optional() }),
    /**
     * The GitHub Actions run that collected the evidence, as GitHub's API reported it while it ran
     * (`GET /actions/runs/{id}`); absent outside a workflow run. Staging and production require it
     * (gates-evidence-trusted).
     */
    run: z
        .strictObject({
            repository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/),
            id: z.number().int().min(1),
            workflow: z.string(),
            event: z.string(),
            status: z.string(),
            url: z.string().optional(),
        })
        .optional(),
    /** The CI status of that commit: combined status and check runs. */
    ci: z.strictObject({
        state: z.enum(CI_STATES),
        source,
        /** Each status or check run with its own state, for the message when the state is not success. */
        checks: z.array(z.strictObject({ name: z.string(), state: z.enum(CI_STATES), url: z.string().optional() })),
        coveragePercent: z.number().min(0).max(100).optional(),
        /** The CI workflow run a deployment follows (`workflow_run`), as GitHub's API reports it. */
        workflowRun: z
            .strictObject({ id: z.number().int().min(1), name: z.string(), headSha: z.string(), conclusion: z.string().nullable(), url: z.string().optional() })
            .optional(),
    }),
    /** Open security alerts (code scanning, Dependabot) of severity high or critical. */
    alerts: z.strictObject({
        source,
        openHighCritical: z.number().int().min(0),
        items: z.array(z.strictObject({ id: z.string(), severity: z.string(), summary: z.string(), url: z.string().optional() })),
    }),
    /** Approving reviews of the pull request that brought the commit (latest review per reviewer). */
    reviews: z.strictObject({
        source,
        pullRequest: z.number().int().optional(),
        approvals: z.number().int().min(0),
        approvers: z.array(z.string()),
        /** Approvals that do not count, and why (not on the commit released, no write access). */
        notCounted: z.array(z.strictObject({ login: z.string(), reason: z.string() })).optional(),
    }),
    /** The latest backup of every database of the stack (from the stack's `backups` output); time null when there is none. */
    backups: z.array(
        z.strictObject({
            server: z.string(),
            database: z.string(),
            time: isoTime.nullable(),
            ageHours: z.number().nullable(),
            file: z.string().optional(),
        }),
    ),
    /** What runs on staging now (the staging stack's `services` output); null when it could not be read. */
    staging: z
        .strictObject({
            stack: z.string(),
            source,
            services: z.record(z.string(), versionsSchema),
        })
        .nullable(),
});

export type ReleaseEvidence = z.output<typeof releaseEvidenceSchema>;
export type ServiceVersions = z.output<typeof versionsSchema>;
