// Release gates: resource policies on the release gate, which every release step depends on, so they run before anything is shifted.
import type { ReportViolation } from "@pulumi/policy";
import { WEEKDAYS, type Weekday } from "../components/config/schema";
import type { ReleaseEvidence, ServiceVersions } from "../components/release/evidence";
import type { GateRequirements, ReleaseGateInputs } from "../components/release/gate-inputs";
import { COLOURS } from "../components/release/ladder";
import { gateEvidence, gatePolicy, listed, NOW_PROPERTY, nowFrom, policyConfig, type PolicyMeta } from "./support";

/**
 * A rollback: some service's green loses weight, and nothing else changes at all: no service gets
 * a new version, more green, another command (migration, nginx test or reload), or is new, and the
 * release fingerprint (the whole config but the weights, and the program's sources) is the one the
 * last deployment recorded: a new server, `firewall: none` or a code change rides on no rollback. The gates guard what a release brings to users; holding a rollback back (outside the
 * change window, with yesterday's backups, before CI of the revert finished) would keep them on
 * the failing version, so no gate applies to one. Everything else (databases, cluster, the
 * ladder) is checked as always.
 */
export function isRollback(release: ReleaseGateInputs["release"]): boolean {
    const deployed = release.deployed;
    if (deployed === null) return false;
    if (release.fingerprint === undefined || release.fingerprint.deployed === null || release.fingerprint.desired !== release.fingerprint.deployed) return false;
    let back = false;
    for (const [service, wanted] of Object.entries(release.services)) {
        const had = deployed[service];
        if (had === undefined || wanted.blue !== had.blue || wanted.green !== had.green || wanted.weights.green > had.weights.green) return false;
        if (changedCommands(wanted, had).length > 0) return false;
        if (wanted.weights.green < had.weights.green) back = true;
    }
    return back;
}

/**
 * The commands by design (migration, nginx test and reload) whose text a release changes for a
 * service, compared with the last deployment. A deployment from before commands were recorded
 * has none: then every command the config names counts as changed.
 */
export function changedCommands(wanted: ServiceVersions, had: ServiceVersions | undefined): { name: string; from: string | undefined; to: string | undefined }[] {
    const before = had?.commands ?? {};
    const after = wanted.commands ?? {};
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
        .sort()
        .filter((name) => before[name] !== after[name])
        .map((name) => ({ name, from: before[name], to: after[name] }));
}

/**
 * An update that changes nothing the config or the program declares: the same fingerprint and,
 * per service, the same versions, weights and commands as the last deployment recorded. It can
 * only repair drift back to what was deployed; it releases nothing.
 */
export function isUnchanged(release: ReleaseGateInputs["release"]): boolean {
    const deployed = release.deployed;
    if (deployed === null || release.fingerprint.deployed === null || release.fingerprint.desired !== release.fingerprint.deployed) return false;
    const names = new Set([...Object.keys(release.services), ...Object.keys(deployed)]);
    for (const name of names) {
        const wanted = release.services[name];
        const had = deployed[name];
        if (wanted === undefined || had === undefined) return false;
        if (wanted.blue !== had.blue || wanted.green !== had.green || wanted.weights.blue !== had.weights.blue || wanted.weights.green !== had.weights.green) return false;
        if (changedCommands(wanted, had).length > 0) return false;
    }
    return true;
}

/**
 * Whether the update moves traffic or versions: a service whose version or weights differ from
 * the last deployment, a new service, or the first deployment. Backup freshness and staging-first
 * apply to these; an infrastructure change alone (a firewall rule, a container's memory) meets
 * CI, approvals and the change window, not them.
 */
export function changesServices(release: ReleaseGateInputs["release"]): boolean {
    const deployed = release.deployed;
    if (deployed === null) return true;
    return Object.entries(release.services).some(([name, wanted]) => {
        const had = deployed[name];
        return had === undefined || wanted.blue !== had.blue || wanted.green !== had.green || wanted.weights.green !== had.weights.green || wanted.weights.blue !== had.weights.blue;
    });
}

/** A gate policy: checks every change, and passes a rollback (`isRollback`) and an update that changes nothing (`isUnchanged`). */
function releaseGatePolicy(meta: PolicyMeta, check: Parameters<typeof gatePolicy>[1]): ReturnType<typeof gatePolicy> {
    return gatePolicy({ ...meta, description: `${meta.description} A rollback and an update that changes nothing pass.` }, (gate, args, report) => {
        if (!isRollback(gate.release) && !isUnchanged(gate.release)) check(gate, args, report);
    });
}

const EVIDENCE_HINT = "Collect the evidence again with `npm run evidence -- --stack <stack>` once the cause is fixed, then preview again.";

/** Clock skew tolerated between the machine that collected the evidence and the one that previews. */
const FUTURE_SKEW_MINUTES = 5;

function shortSha(sha: string): string {
    return sha.slice(0, 12);
}

function again(gate: ReleaseGateInputs): string {
    return `collect the evidence again (\`npm run evidence -- --stack ${gate.stack}\`)`;
}

/** Runs `check` on the evidence; without evidence, reports that instead, so every evidence gate fails on its own. */
function withEvidence(gate: ReleaseGateInputs, report: ReportViolation, check: (evidence: ReleaseEvidence) => void): void {
    const evidence = gateEvidence(gate, report);
    if (evidence) check(evidence);
}

interface EvidenceConfig {
    maxEvidenceAgeMinutes: number;
    now?: string;
}

export const evidenceCurrent = releaseGatePolicy(
    {
        name: "gates-evidence-current",
        description:
            "The release evidence exists, was collected for this stack, and is recent (at most `maxEvidenceAgeMinutes` old, default 120). " +
            "Every other gate trusts it.",
        severity: "high",
        remediationSteps: "Run `npm run evidence -- --stack <stack>` on the machine that previews, then preview again.",
        configSchema: {
            properties: {
                maxEvidenceAgeMinutes: { type: "integer", minimum: 1, default: 120, description: "How old the evidence may be." },
                ...NOW_PROPERTY,
            },
        },
    },
    (gate, args, report) => {
        const config = policyConfig<EvidenceConfig>(args, { maxEvidenceAgeMinutes: 120 });
        withEvidence(gate, report, (evidence) => {
            if (evidence.stack !== gate.stack) {
                report(`the evidence in ${gate.evidenceFile} was collected for stack ${evidence.stack}, not ${gate.stack}: ${again(gate)}`);
            }
            const ageMinutes = (nowFrom(config).getTime() - Date.parse(evidence.collectedAt)) / 60_000;
            if (ageMinutes > config.maxEvidenceAgeMinutes) {
                report(
                    `the evidence was collected ${Math.round(ageMinutes)} min ago (${evidence.collectedAt}), more than ${config.maxEvidenceAgeMinutes} min: ${again(gate)}`,
                );
            } else if (ageMinutes < -FUTURE_SKEW_MINUTES) {
                report(
                    `the evidence claims to be collected ${Math.round(-ageMinutes)} min in the future (${evidence.collectedAt}): ` +
                        `check the clock of the machine that collected it, then ${again(gate)}`,
                );
            }
        });
    },
);

interface TrustedConfig {
    /** `owner/name`: the repository whose workflow runs may collect the evidence. */
    repository?: string;
}

/** The pieces of evidence that must come from GitHub's API, and where each sits. */
const FROM_GITHUB: readonly { what: string; source: (e: ReleaseEvidence) => string }[] = [
    { what: "ci", source: (e) => e.ci.source },
    { what: "reviews", source: (e) => e.reviews.source },
    { what: "alerts", source: (e) => e.alerts.source },
];

/** Why the evidence or the commit could have been typed in by hand, one reason per item; none when they came from a workflow run. */
export function untrustedEvidence(gate: ReleaseGateInputs, evidence: ReleaseEvidence, repository: string | undefined): string[] {
    const problems: string[] = [];
    if (gate.commitFrom === "RELEASE_COMMIT") {
        problems.push(`the program's commit ${shortSha(gate.commit)} was set by RELEASE_COMMIT, an override for the local stack: run from a checkout of the commit (git HEAD)`);
    } else if (gate.commitFrom === "none" || gate.commit === "") {
        problems.push("the program does not know its commit (no git checkout, no GITHUB_SHA): run from a checkout of the commit");
    }
    for (const { what, source } of FROM_GITHUB) {
        if (source(evidence) !== "github") problems.push(`evidence.${what} comes from ${source(evidence)}, not from GitHub's API`);
    }
    const run = evidence.run;
    if (run === undefined) {
        problems.push("the evidence was not collected inside a GitHub Actions workflow run (no evidence.run)");
    } else {
        if (run.status !== "in_progress") problems.push(`workflow run ${run.id} was ${run.status} when the evidence was collected, not in progress`);
        if (repository !== undefined && run.repository.toLowerCase() !== repository.toLowerCase()) {
            problems.push(`workflow run ${run.id} belongs to ${run.repository}, not ${repository}`);
        }
    }
    return problems;
}

export const evidenceTrusted = releaseGatePolicy(
    {
        name: "gates-evidence-trusted",
        description:
            "The evidence cannot have been typed in: CI, reviews and alerts come from GitHub's API (`source: github`), collected inside a GitHub Actions run " +
            "that GitHub reported in progress (of `repository` when the policy config names it), and the program runs from its checkout's own commit (no `RELEASE_COMMIT`).",
        severity: "critical",
        remediationSteps:
            "Release through the Deploy workflow (docs/pipelines.md): it collects the evidence with the workflow's token and runs the preview and the update in the same run. " +
            "Files of GitHub answers and RELEASE_COMMIT are for the local stack.",
        configSchema: { properties: { repository: { type: "string", pattern: "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description: "owner/name of the repository whose runs collect the evidence." } } },
    },
    (gate, args, report) => {
        const { repository } = policyConfig<TrustedConfig>(args, {});
        withEvidence(gate, report, (evidence) => {
            const problems = untrustedEvidence(gate, evidence, repository);
            if (problems.length > 0) report(`the release evidence is not from a workflow run: ${problems.join("; ")}`);
        });
    },
);

export const ciGreen = releaseGatePolicy(
    {
        name: "gates-ci-green",
        description: "CI is green (combined status and check runs: success) for the commit being released, and the evidence is for that commit.",
        severity: "critical",
        remediationSteps: `Fix the failing checks (or wait for pending ones) and release a commit whose CI passed. ${EVIDENCE_HINT}`,
    },
    (gate, _args, report) =>
        withEvidence(gate, report, (evidence) => {
            const sha = shortSha(evidence.commit.sha);
            if (gate.commit !== "" && evidence.commit.sha !== gate.commit) {
                report(`the evidence is for commit ${sha}, but the program runs from ${shortSha(gate.commit)}: ${again(gate)}`);
            }
            if (evidence.ci.state !== "success") {
                const failing = evidence.ci.checks.filter((check) => check.state !== "success").map((check) => `${check.name}: ${check.state}`);
                const detail = failing.length > 0 ? ` (${failing.join(", ")})` : "";
                report(`CI is ${evidence.ci.state} for commit ${sha}${detail}: release a commit whose checks all passed, then ${again(gate)}`);
            }
        }),
);

/** Alerts named in the message; the rest are counted. */
const ALERTS_LISTED = 5;

export const noOpenAlerts = releaseGatePolicy(
    {
        name: "gates-no-open-alerts",
        description: "Open high or critical security alerts (code scanning, Dependabot) do not exceed `release.gates.maxOpenHighCriticalAlerts` (0).",
        severity: "critical",
        remediationSteps: `Fix or dismiss (with a reason) the open high and critical alerts. ${EVIDENCE_HINT}`,
    },
    (gate, _args, report) =>
        withEvidence(gate, report, (evidence) => {
            const { openHighCritical, items } = evidence.alerts;
            const max = gate.requirements.maxOpenHighCriticalAlerts;
            if (openHighCritical <= max) return;
            const named = items.slice(0, ALERTS_LISTED).map((alert) => `${alert.id} (${alert.severity}: ${alert.summary})`);
            const rest = openHighCritical - named.length;
            const list = rest > 0 ? [...named, `${rest} more`] : named;
            report(`${openHighCritical} open high/critical security alerts (at most ${max}): ${list.join(", ")}; fix or dismiss them, then ${again(gate)}`);
        }),
);

export const approvals = releaseGatePolicy(
    {
        name: "gates-approvals",
        description: "The pull request that brought the commit has at least `release.gates.minApprovals` approving reviews (latest review per reviewer).",
        severity: "high",
        remediationSteps: `Get the pull request reviewed and approved (by someone other than its author). ${EVIDENCE_HINT}`,
    },
    (gate, _args, report) => {
        const min = gate.requirements.minApprovals;
        if (min === 0) return;
        withEvidence(gate, report, (evidence) => {
            const { approvals: count, pullRequest, approvers } = evidence.reviews;
            if (count >= min) return;
            const pr = pullRequest === undefined ? "the commit's pull request" : `pull request #${pullRequest}`;
            const by = approvers.length > 0 ? ` (by ${listed(approvers)})` : "";
            report(`${pr} has ${count} approving review${count === 1 ? "" : "s"}${by}, at least ${min} needed: get it approved, then ${again(gate)}`);
        });
    },
);

export const coverage = releaseGatePolicy(
    {
        name: "gates-coverage",
        description: "The test coverage CI measured for the commit is at least `release.gates.minCoveragePercent` (80 % in production).",
        severity: "medium",
        remediationSteps: `Add tests until CI reports enough coverage (CI must publish it for the evidence to read). ${EVIDENCE_HINT}`,
    },
    (gate, _args, report) => {
        const min = gate.requirements.minCoveragePercent;
        if (min === 0) return;
        withEvidence(gate, report, (evidence) => {
            const measured = evidence.ci.coveragePercent;
            const sha = shortSha(evidence.commit.sha);
            if (measured === undefined) {
                report(`CI reported no test coverage for commit ${sha} (at least ${min} % needed): make CI publish coverage, then ${again(gate)}`);
            } else if (measured < min) {
                report(`test coverage of commit ${sha} is ${measured} %, at least ${min} % needed: add tests, then ${again(gate)}`);
            }
        });
    },
);

interface TimedConfig {
    now?: string;
}

export const backupsFresh = releaseGatePolicy(
    {
        name: "gates-backups-fresh",
        description:
            "When an update changes a service's version or weights: every database of the stack has a backup younger than `release.gates.maxBackupAgeHours` (24 h), " +
            "its age taken from the backup's time and the clock now (the scheduled backup job records them; `npm run backup`).",
        severity: "critical",
        remediationSteps: `Back up the databases named (\`npm run backup -- --stack <stack>\`, which the scheduled job runs), so their records are fresh. ${EVIDENCE_HINT}`,
        configSchema: { properties: { ...NOW_PROPERTY } },
    },
    (gate, args, report) => {
        if (gate.databases.length === 0 || !changesServices(gate.release)) return;
        const now = nowFrom(policyConfig<TimedConfig>(args, {})).getTime();
        withEvidence(gate, report, (evidence) => {
            const max = gate.requirements.maxBackupAgeHours;
            const stale = gate.databases.flatMap(({ server, database }) => {
                const backup = evidence.backups.find((b) => b.server === server && b.database === database);
                if (!backup?.time) return [`${server}/${database} (none recorded)`];
                const hours = (now - Date.parse(backup.time)) / 3_600_000;
                return hours > max ? [`${server}/${database} (${hours.toFixed(1)} h old, ${backup.time})`] : [];
            });
            if (stale.length > 0) {
                report(`backups missing or older than ${max} h: ${stale.join(", ")}; back these databases up, then ${again(gate)}`);
            }
        });
    },
);

/** The versions a release deploys anew: per service, each colour whose version differs from what is deployed. */
function newVersions(gate: ReleaseGateInputs): { service: string; colour: (typeof COLOURS)[number]; version: string }[] {
    return Object.entries(gate.release.services).flatMap(([service, desired]) =>
        COLOURS.filter((colour) => gate.release.deployed?.[service]?.[colour] !== desired[colour]).map((colour) => ({
            service,
            colour,
            version: desired[colour],
        })),
    );
}

export const stagingFirst = releaseGatePolicy(
    {
        name: "gates-staging-first",
        description:
            "With `release.gates.requireStagingFirst`, every version a release deploys (per service and colour, where it differs from what is deployed) already runs on staging.",
        severity: "high",
        remediationSteps: `Release the version to staging first (its stack's \`services\` output must show it), or deploy a version staging runs. ${EVIDENCE_HINT}`,
    },
    (gate, _args, report) => {
        if (!gate.requirements.requireStagingFirst) return;
        const deploying = newVersions(gate);
        if (deploying.length === 0) return;
        withEvidence(gate, report, (evidence) => {
            const staging = evidence.staging;
            if (!staging) {
                report(`what runs on staging is unknown (the evidence could not read the staging stack's services): ${again(gate)} where the staging stack is readable`);
                return;
            }
            for (const { service, colour, version } of deploying) {
                const there = staging.services[service];
                if (there === undefined) {
                    report(`${service} ${colour} ${version} has not run on staging (staging has no ${service}): release it to staging first`);
                } else if (there.blue !== version && there.green !== version) {
                    report(`${service} ${colour} ${version} has not run on staging (it runs blue ${there.blue}, green ${there.green}): release it to staging first`);
                }
            }
        });
    },
);

type ChangeWindow = NonNullable<GateRequirements["changeWindow"]>;

function minutesOf(time: string): number {
    const [hours = 0, minutes = 0] = time.split(":").map(Number);
    return hours * 60 + minutes;
}

/** Weekday index (mon = 0) and minutes since midnight of `now` in `timezone`. */
function localTime(now: Date, timezone: string): { day: number; minutes: number } {
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(now);
    const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? "";
    const day = WEEKDAYS.indexOf(part("weekday").toLowerCase() as Weekday);
    return { day, minutes: Number(part("hour")) * 60 + Number(part("minute")) };
}

/** Whether `now` is inside the window; a window whose end is before its start runs past midnight into the next day. */
export function insideChangeWindow(window: ChangeWindow, now: Date): boolean {
    const { day, minutes } = localTime(now, window.timezone);
    const start = minutesOf(window.start);
    const end = minutesOf(window.end);
    const open = (index: number): boolean => (window.days as readonly string[]).includes(WEEKDAYS[(index + 7) % 7] ?? "");
    if (start < end) return open(day) && minutes >= start && minutes < end;
    return (open(day) && minutes >= start) || (open(day - 1) && minutes < end);
}

/** When the window next opens, e.g. `mon 09:00`. */
export function nextOpening(window: ChangeWindow, now: Date): string {
    const { day, minutes } = localTime(now, window.timezone);
    for (let offset = 0; offset <= 7; offset++) {
        const name = WEEKDAYS[(day + offset) % 7] ?? "mon";
        if ((window.days as readonly string[]).includes(name) && (offset > 0 || minutes < minutesOf(window.start))) return `${name} ${window.start}`;
    }
    return `${window.days[0] ?? "mon"} ${window.start}`;
}

function clock(minutes: number): string {
    return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

export const changeWindow = releaseGatePolicy(
    {
        name: "gates-change-window",
        description:
            "A release runs inside `release.gates.changeWindow` (days, start and end in its time zone; an end before the start runs past midnight). A stack without a window passes.",
        severity: "medium",
        remediationSteps: "Wait for the window (the message says when it opens next) and run the release then.",
        configSchema: { properties: { ...NOW_PROPERTY } },
    },
    (gate, args, report) => {
        const window = gate.requirements.changeWindow;
        if (!window) return;
        const now = nowFrom(policyConfig<TimedConfig>(args, {}));
        if (insideChangeWindow(window, now)) return;
        const { day, minutes } = localTime(now, window.timezone);
        report(
            `it is ${WEEKDAYS[day] ?? "?"} ${clock(minutes)} in ${window.timezone}, outside the change window ` +
                `(${window.days.join(", ")} ${window.start}-${window.end}): release when it opens (${nextOpening(window, now)})`,
        );
    },
);

/** The least a stack's `release.gates` may ask for, as a stack's policy config sets it. */
interface RequirementsFloor {
    /** The environment this policy config is for: applied to a stack of another environment, it is the wrong config. */
    environment?: string;
    minApprovals?: number;
    maxBackupAgeHours?: number;
    maxOpenHighCriticalAlerts?: number;
    minCoveragePercent?: number;
    requireStagingFirst?: boolean;
    requireChangeWindow?: boolean;
    /** The widest change window a stack may have: its own must lie inside it (same time zone). */
    changeWindow?: ChangeWindow;
}

/** The minutes of the week (mon 00:00 = 0) a window is open, one flag per minute. */
function openMinutes(window: ChangeWindow): Uint8Array {
    const week = new Uint8Array(7 * 1440);
    const start = minutesOf(window.start);
    const end = minutesOf(window.end);
    for (const name of window.days) {
        const day = WEEKDAYS.indexOf(name);
        const from = day * 1440 + start;
        // An end before the start runs past midnight into the next day (mon 22:00-02:00 ends tue 02:00).
        const length = end > start ? end - start : 1440 - start + end;
        for (let minute = 0; minute < length; minute++) week[(from + minute) % week.length] = 1;
    }
    return week;
}

/** Why `window` is not inside `outer`, or undefined when every minute it opens, `outer` opens too. */
export function windowOutside(window: ChangeWindow, outer: ChangeWindow): string | undefined {
    if (window.timezone !== outer.timezone) return `its time zone ${window.timezone} is not ${outer.timezone}`;
    const mine = openMinutes(window);
    const allowed = openMinutes(outer);
    const first = mine.findIndex((open, minute) => open === 1 && allowed[minute] !== 1);
    if (first === -1) return undefined;
    return `it is open on ${WEEKDAYS[Math.floor(first / 1440)] ?? "?"} at ${clock(first % 1440)}, outside ${outer.days.join(", ")} ${outer.start}-${outer.end}`;
}

/** Each requirement below the floor, as `<what> (<key> is X, at least Y)`. */
export function requirementsBelowFloor(requirements: GateRequirements, floor: RequirementsFloor): string[] {
    const below: string[] = [];
    const atLeast = (key: "minApprovals" | "minCoveragePercent") => {
        const least = floor[key];
        if (least !== undefined && requirements[key] < least) below.push(`${key} is ${requirements[key]}, at least ${least}`);
    };
    const atMost = (key: "maxBackupAgeHours" | "maxOpenHighCriticalAlerts") => {
        const most = floor[key];
        if (most !== undefined && requirements[key] > most) below.push(`${key} is ${requirements[key]}, at most ${most}`);
    };
    atLeast("minApprovals");
    atMost("maxBackupAgeHours");
    atMost("maxOpenHighCriticalAlerts");
    atLeast("minCoveragePercent");
    if (floor.requireStagingFirst === true && !requirements.requireStagingFirst) below.push("requireStagingFirst is false, must be true");
    if (floor.requireChangeWindow === true && requirements.changeWindow === undefined) below.push("changeWindow is not set, one is required");
    if (floor.changeWindow !== undefined && requirements.changeWindow !== undefined) {
        const outside = windowOutside(requirements.changeWindow, floor.changeWindow);
        if (outside !== undefined) below.push(`changeWindow must lie inside the policy's window: ${outside}`);
    }
    return below;
}

export const requirementsFloor = gatePolicy(
    {
        name: "gates-requirements-floor",
        description:
            "The stack's `release.gates` ask for no less than the stack's policy config allows (production: 1 approval, backups of at most 24 h, " +
            "0 open high/critical alerts, 80 % coverage, staging first, a change window inside mon-thu 09:00-15:00 Europe/Vienna), so a change of the stack file cannot weaken the gates, " +
            "and the policy config is the one of the stack's environment (`environment`), so no laxer config can be passed. It applies to rollbacks too.",
        severity: "critical",
        remediationSteps:
            "Put `release-platform:release.gates` in Pulumi.<stack>.yaml back to at least the floor; lowering the floor is a change of policies/config/<stack>.json, reviewed as such.",
        configSchema: {
            properties: {
                environment: { type: "string", enum: ["local", "staging", "production"], description: "The environment this config is for; a stack of another environment is refused." },
                minApprovals: { type: "integer", minimum: 0 },
                maxBackupAgeHours: { type: "integer", minimum: 1 },
                maxOpenHighCriticalAlerts: { type: "integer", minimum: 0 },
                minCoveragePercent: { type: "number", minimum: 0, maximum: 100 },
                requireStagingFirst: { type: "boolean" },
                requireChangeWindow: { type: "boolean" },
                changeWindow: { type: "object", description: "The widest window a stack may set: {days, start, end, timezone}; the stack's must lie inside it." },
            },
        },
    },
    (gate, args, report) => {
        const floor = policyConfig<RequirementsFloor>(args, {});
        if (floor.environment !== undefined && floor.environment !== gate.environment) {
            report(
                `stack ${gate.stack} is a ${gate.environment} stack, but this policy config is for ${floor.environment}: ` +
                    `preview and update it with policies/config/${gate.environment}.json (\`npm run preview -- --stack ${gate.stack}\`)`,
            );
        }
        const below = requirementsBelowFloor(gate.requirements, floor);
        if (below.length > 0) {
            report(`release.gates of stack ${gate.stack} ask for less than its policy config allows: ${below.join("; ")}: raise them in Pulumi.${gate.stack}.yaml`);
        }
    },
);

export const gatePolicies = [evidenceCurrent, evidenceTrusted, ciGreen, noOpenAlerts, approvals, coverage, backupsFresh, stagingFirst, changeWindow, requirementsFloor];
