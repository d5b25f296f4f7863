// Puts the evidence together, checks it against the schema the gate reads, and says it in one line per gate input.
import { EVIDENCE_FORMAT, releaseEvidenceSchema, type ReleaseEvidence } from "../evidence";
import { parseServicesOutput } from "../service-versions";
import { latestBackups, type BackupRecordLike, type StackDatabase } from "./backups";
import type { EvidenceSources } from "./sources";

export interface CollectInput {
    stack: string;
    now: Date;
    commit: { sha: string; ref?: string };
    /** The pull request, when known (`--pr`, the CI event); GitHub can look it up otherwise. */
    pullRequest?: number;
    sources: EvidenceSources;
    /** Every database of the stack (from its config). */
    databases: readonly StackDatabase[];
    /** The stack's `backups` output. */
    backupRecords: readonly BackupRecordLike[];
    staging: ReleaseEvidence["staging"];
    coveragePercent?: number;
}

export interface CollectedEvidence {
    evidence: ReleaseEvidence;
    /** How pieces were found (or not), for the person running the collector. */
    notes: string[];
}

/** Asks every source and returns evidence that passed `releaseEvidenceSchema`; throws naming the field that did not. */
export async function collectEvidence(input: CollectInput): Promise<CollectedEvidence> {
    const ci = await input.sources.ci(input.commit.sha);
    const alerts = await input.sources.alerts();
    const reviews = await input.sources.reviews(input.commit.sha, input.pullRequest);
    const run = await input.sources.run();
    const draft: ReleaseEvidence = {
        format: EVIDENCE_FORMAT,
        stack: input.stack,
        collectedAt: input.now.toISOString(),
        commit: { sha: input.commit.sha, ...(input.commit.ref ? { ref: input.commit.ref } : {}) },
        ...(run.value ? { run: run.value } : {}),
        ci: { ...ci.value, ...(input.coveragePercent === undefined ? {} : { coveragePercent: input.coveragePercent }) },
        alerts: alerts.value,
        reviews: reviews.value,
        backups: latestBackups(input.databases, input.backupRecords, input.now),
        staging: input.staging,
    };
    const parsed = releaseEvidenceSchema.safeParse(draft);
    if (!parsed.success) {
        const lines = parsed.error.issues.map((issue) => `evidence.${issue.path.map(String).join(".")}: ${issue.message}`);
        throw new Error(["the collected evidence does not match the release evidence schema:", ...lines].join("\n"));
    }
    return { evidence: parsed.data, notes: [...ci.notes, ...alerts.notes, ...reviews.notes, ...run.notes] };
}

/** The staging stack's `services` output as evidence. */
export function stagingEvidence(stack: string, source: "stack" | "file", servicesOutput: unknown): NonNullable<ReleaseEvidence["staging"]> {
    return { stack, source, services: parseServicesOutput(servicesOutput, `${stack} services`) };
}

/** istanbul's `coverage-summary.json` (vitest `--coverage.reporter=json-summary`): the line coverage of the whole run. */
export function coverageFromSummary(raw: unknown, file: string): number {
    const pct = (raw as { total?: { lines?: { pct?: unknown } } } | null)?.total?.lines?.pct;
    if (typeof pct !== "number" || pct < 0 || pct > 100) throw new Error(`${file}: expected total.lines.pct, a percentage (istanbul json-summary)`);
    return pct;
}

function hours(value: number): string {
    return value < 48 ? `${value.toFixed(1)} h` : `${(value / 24).toFixed(1)} d`;
}

/** One line per gate input, for the terminal. */
export function evidenceSummary(evidence: ReleaseEvidence): string[] {
    const { ci, alerts, reviews, backups, staging } = evidence;
    const failing = ci.checks.filter((c) => c.state !== "success").map((c) => `${c.name} ${c.state}`);
    const withBackup = backups.filter((b) => b.ageHours !== null);
    const oldest = withBackup.reduce<(typeof backups)[number] | undefined>((worst, b) => (worst === undefined || (b.ageHours ?? 0) > (worst.ageHours ?? 0) ? b : worst), undefined);
    const without = backups.filter((b) => b.time === null).map((b) => `${b.server}/${b.database}`);
    const services = Object.entries(staging?.services ?? {}).map(
        ([name, v]) => `${name} blue ${v.blue} (${v.weights.blue} %) green ${v.green} (${v.weights.green} %)`,
    );
    return [
        `commit     ${evidence.commit.sha}${evidence.commit.ref ? ` (${evidence.commit.ref})` : ""}`,
        `ci         ${ci.state} (${ci.source}: ${ci.checks.length} checks${failing.length > 0 ? `; ${failing.join(", ")}` : ""})` +
            (ci.coveragePercent === undefined ? "" : `, coverage ${ci.coveragePercent} %`),
        `alerts     ${alerts.openHighCritical} open high/critical (${alerts.source})${alerts.items.length > 0 ? `: ${alerts.items.map((a) => a.id).join(", ")}` : ""}`,
        `reviews    ${reviews.approvals} approval${reviews.approvals === 1 ? "" : "s"}${reviews.approvers.length > 0 ? ` (${reviews.approvers.join(", ")})` : ""}, ` +
            `${reviews.source}${reviews.pullRequest === undefined ? "" : `, pull request #${reviews.pullRequest}`}`,
        `backups    ${withBackup.length} of ${backups.length} databases backed up` +
            (oldest ? `, oldest ${oldest.server}/${oldest.database} ${hours(oldest.ageHours ?? 0)}` : "") +
            (without.length > 0 ? `; none for ${without.join(", ")}` : ""),
        `staging    ${staging === null ? "none" : `${staging.stack} (${staging.source}): ${services.join("; ") || "no services"}`}`,
        `run        ${evidence.run ? `${evidence.run.repository} ${evidence.run.workflow} run ${evidence.run.id} (${evidence.run.event}, ${evidence.run.status})` : "none (not collected in a workflow run)"}`,
        `collected  ${evidence.collectedAt}`,
    ];
}
