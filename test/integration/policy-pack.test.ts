// The policy pack on the local stack through the real CLI, at production's enforcement levels (all
// mandatory) with the clock injected: a compliant stack and release step preview and apply; each
// of the release rules refuses a real `pulumi preview` (non-zero exit, the policy's own message)
// and nothing changes. The evidence comes from the real collector (scripts/evidence.ts) on files.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parsePlatformConfig } from "../../components/config";
import type { Weights } from "../../components/release/ladder";
import { readStackConfig } from "../../scripts/local-secrets";
import { allPolicies } from "../../policies/registry";
import { collectWorkspaceEvidence, type BackupRecordInput, type EvidenceInputs, type ServicesOutputInput } from "../support/evidence";
import { freshReleaseSite, haproxyWeights, isolateRelease, localRelease, type IsolatedRelease, tearDownLocalStack } from "../support/release-env";
import { dropTestObjects, mariaQuery, PLESK_STANDIN } from "../support/servers";
import { PROJECT_ROOT, Workspace, type CliResult, type StackConfigMap } from "../support/workspace";
import { prefixDatabaseNames, useProductionGates } from "../support/stack-config";

/** Test databases and users get their own names (mo_it6_*, svc_it6_*), so a local stack of `npm start` is never touched. */
const PREFIX = "it6_";
const STACK = "itpolicy";
const COMMIT = "6a7e6a7e6a7e6a7e6a7e6a7e6a7e6a7e6a7e6a7e";
/** The injected clock: a Wednesday, 11:00 in Vienna, inside production's change window (mon-thu 09:00-15:00). */
const NOW = "2026-03-04T10:00:00Z";
const HOUR = 3_600_000;
/** Set in the workspace's environment to declare one of the fixture resources (components/policy-fixture.ts in the workspace). */
const FIXTURE_SWITCH = "IT6_POLICY_FIXTURE";

interface RawService {
    blue: { version: string };
    green: { version: string };
    weights: Weights;
    databases?: string[];
}

const hoursBefore = (iso: string, hours: number) => new Date(Date.parse(iso) - hours * HOUR).toISOString();

/** The local stack with production's release gates, its databases renamed with the prefix, its release on its own ports. */
function prepareConfig(config: StackConfigMap, runDir: string, portBase: number): IsolatedRelease {
    prefixDatabaseNames(config, PREFIX);
    // Pulumi.production.yaml's gates; the local stack's drain (1 s) stays, and the policy config allows it.
    useProductionGates(config);
    return isolateRelease(config, runDir, portBase);
}

/** policies/config/production.json, with `now` for every policy that reads the clock and the local drain allowed. */
function policyConfig(): Record<string, unknown> {
    const production = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policies", "config", "production.json"), "utf8")) as Record<string, unknown>;
    const config: Record<string, unknown> = {};
    for (const policy of allPolicies) {
        const entry = production[policy.name];
        const settings: Record<string, unknown> = typeof entry === "string" ? { enforcementLevel: entry } : { ...(entry as Record<string, unknown> | undefined) };
        if (policy.configSchema?.properties?.["now"]) settings["now"] = NOW;
        if (policy.name === "release-drain-losing-colour") settings["minDrainSeconds"] = 1;
        // The loopback servers have no host firewall; the policy's refusal is tested in test/policies/databases.test.ts.
        if (policy.name === "databases-host-firewall") settings["enforcementLevel"] = "disabled";
        // This stack is a local one (production's levels, the local environment), its evidence comes from files of
        // GitHub's answers and its commit from RELEASE_COMMIT: the trust policy's refusals are tested in
        // test/policies/gates.test.ts, the collector's GitHub path in test/unit/release-evidence-github.test.ts.
        if (policy.name === "gates-requirements-floor") settings["environment"] = "local";
        if (policy.name === "gates-evidence-trusted") settings["enforcementLevel"] = "disabled";
        config[policy.name] = settings;
    }
    return config;
}

/**
 * Declared by the test's copy of index.ts only (never the project's): what a code change could
 * declare that the config layer never would. `all-privileges`: a resource of the service user's
 * type with ALL PRIVILEGES (MariaDbServiceUser itself refuses ALL), whose provider fails if ever
 * called; `wildcard-host`: the real MariaDbServiceUser bound to `%`.
 */
const FIXTURE_PROGRAM = `// Test fixture of test/integration/policy-pack.test.ts: resources the policy pack must refuse.
import * as pulumi from "@pulumi/pulumi";
import { SERVICE_PRIVILEGES } from "./databases/mariadb/grants";
import { MariaDbServiceUser } from "./databases/mariadb/user";

const connection = { host: "127.0.0.1", port: 3306, user: "root", password: "fixture-never-used", tls: "disable" };
const fixture = process.env.${FIXTURE_SWITCH};

/** Fails on any call that would touch a server: the policy must stop the resource first. */
const unreachable: pulumi.dynamic.ResourceProvider = {
    async create() {
        throw new Error("policy fixture: create reached; the policy pack should have refused this resource");
    },
    async update() {
        throw new Error("policy fixture: update reached; the policy pack should have refused this resource");
    },
};

class HandWrittenServiceUser extends pulumi.dynamic.Resource {
    constructor(name: string, props: Record<string, pulumi.Input<unknown>>) {
        super(unreachable, name, props, { additionalSecretOutputs: ["connection", "password"] }, "databases", "MariaDbServiceUser");
    }
}

if (fixture === "all-privileges") {
    new HandWrittenServiceUser("${PREFIX}all-privileges", {
        connection: pulumi.secret(connection),
        user: "svc_${PREFIX}allpriv",
        host: "127.0.0.1",
        password: pulumi.secret("fixture-never-used"),
        tls: "NONE",
        database: "mo_${PREFIX}main",
        privileges: ["ALL PRIVILEGES"],
        passwordState: "as-declared",
        extraGrants: [],
    });
} else if (fixture === "wildcard-host") {
    new MariaDbServiceUser("${PREFIX}wildcard-host", {
        connection,
        user: "svc_${PREFIX}wild",
        host: "%",
        password: "fixture-never-used",
        tls: "NONE",
        database: "mo_${PREFIX}main",
        privileges: [...SERVICE_PRIVILEGES],
    });
}
`;

describe("policy pack on the local stack, real CLI, production levels", () => {
    let ws: Workspace;
    let env!: IsolatedRelease;
    let site: { runDir: string; portBase: number } | undefined;
    let policyConfigFile = "";
    let goodEvidence: EvidenceInputs;
    const timings: string[] = [];

    /** `pulumi preview` (or `up`) with the pack and the test's policy config; the seconds noted for the report. */
    const withPack = (): string[] => ["--policy-pack", path.join(ws.dir, "policies"), "--policy-pack-config", policyConfigFile];
    /** How the CLI lists a mandatory violation under the pack: `- [mandatory] [severity: high]  <policy>  (<type>: <name>)`. */
    const mandatory = (policy: string, resource = "[^)]+") => new RegExp(`\\n\\s+- \\[mandatory\\] \\[severity: [a-z]+\\]\\s+${policy}\\s+\\(${resource}\\)\\n`);
    /** The policies named by violations in the output, each once. */
    const violatedPolicies = (output: string) => [...new Set([...output.matchAll(/\n\s+- \[(?:mandatory|advisory)\] \[severity: [a-z]+\]\s+(\S+)\s/g)].map((m) => m[1]))];
    /** The pack ran, and no policy reported anything. */
    const expectClean = (result: CliResult) => {
        expect(result.output).toMatch(/\nPolicies:\n\s+✅ release-platform@v[0-9.]+ \(local: \S+\/policies\)\n/);
        expect(result.output).not.toMatch(/\[(mandatory|advisory)\]/);
    };
    async function preview(label: string): Promise<CliResult> {
        const result = await ws.run(["preview", ...ws.stackArgs(), ...withPack()], { allowFailure: true });
        timings.push(`${label}: preview ${result.seconds.toFixed(1)} s, exit ${result.code}`);
        return result;
    }
    async function up(label: string): Promise<CliResult> {
        const result = await ws.run(["up", "--yes", ...ws.stackArgs(), ...withPack()], { allowFailure: true });
        timings.push(`${label}: up ${result.seconds.toFixed(1)} s, exit ${result.code}`);
        return result;
    }

    /** Writes the evidence through the real collector. */
    function collect(inputs: EvidenceInputs): void {
        collectWorkspaceEvidence(ws, inputs);
    }

    /** Every database of the stack, from its config, as the stack's `backups` output would list it. */
    function backupsAt(time: string): BackupRecordInput[] {
        const spec = parsePlatformConfig(readStackConfig(ws.configFile));
        return spec.databases.servers.flatMap((server) => server.databases.map((db) => ({ server: server.name, database: db.database, time, file: `/backups/${db.database}.sql` })));
    }

    /** What must stay as it was after a refused preview: the recorded state and HAProxy's weights. */
    async function snapshot(): Promise<{ resources: string; api: Weights }> {
        const state = JSON.parse(await ws.exportedState()) as { deployment: { resources?: unknown[] } };
        return { resources: JSON.stringify(state.deployment.resources ?? []), api: await haproxyWeights(env.admin, "api") };
    }

    /** A refused preview: non-zero exit, the policy named as a mandatory violation with its message, nothing changed. */
    async function expectRefused(label: string, policy: string, resource: string, messages: (string | RegExp)[], before: { resources: string; api: Weights }): Promise<CliResult> {
        const result = await preview(label);
        expect(result.code, result.output).not.toBe(0);
        expect(result.output).toMatch(/\nPolicies:\n\s+❌ release-platform@v[0-9.]+ /);
        expect(result.output).toMatch(mandatory(policy, resource.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
        // That policy alone: the case is refused for the reason it is about.
        expect(violatedPolicies(result.output)).toEqual([policy]);
        for (const message of messages) {
            if (typeof message === "string") expect(result.output).toContain(message);
            else expect(result.output).toMatch(message);
        }
        expect(await snapshot()).toEqual(before);
        return result;
    }

    const services = (config: StackConfigMap) => config["release-platform:services"] as Record<string, RawService>;
    const api = (config: StackConfigMap): RawService => {
        const service = services(config)["api"];
        if (!service) throw new Error("the local config lost its api service");
        return service;
    };

    beforeAll(async () => {
        await dropTestObjects(PREFIX);
        const fresh = await freshReleaseSite("it-policy");
        site = fresh;
        ws = await Workspace.create("policy", {
            stack: STACK,
            stackConfig: path.join(PROJECT_ROOT, "Pulumi.local.yaml"),
            env: { RELEASE_COMMIT: COMMIT },
            editConfig: (config) => (env = prepareConfig(config, fresh.runDir, fresh.portBase)),
        });
        await ws.setLocalSecrets();
        localRelease(ws.configFile, "start");

        // The workspace's copy of the program declares the fixture resources when asked to.
        // Below components/, which the build compiles (tsconfig.build.json).
        fs.writeFileSync(path.join(ws.dir, "components", "policy-fixture.ts"), FIXTURE_PROGRAM);
        fs.appendFileSync(path.join(ws.dir, "index.ts"), '\n// Test only (test/integration/policy-pack.test.ts).\nimport "./components/policy-fixture";\n');
        ws.build();

        policyConfigFile = path.join(ws.dir, "policy-config.json");
        fs.writeFileSync(policyConfigFile, JSON.stringify(policyConfig(), null, 2));

        // Evidence that passes every gate: CI green for the commit, no alerts, one approval, 85 %
        // coverage, every database backed up an hour ago, staging running what this stack will run.
        const staging: ServicesOutputInput = {
            api: { blue: { version: "1.0.0", weight: 0 }, green: { version: "1.1.0", weight: 100 } },
            frontend: { blue: { version: "1.0.0", weight: 100 }, green: { version: "1.0.0", weight: 0 } },
        };
        goodEvidence = {
            commit: COMMIT,
            now: NOW,
            pullRequest: 42,
            ciStatus: { state: "success", total_count: 1, statuses: [{ context: "ci/build", state: "success" }] },
            checkRuns: { total_count: 1, check_runs: [{ name: "npm test", status: "completed", conclusion: "success" }] },
            dependabotAlerts: [],
            codeScanningAlerts: [],
            reviews: [{ user: { login: "alice" }, state: "APPROVED", submitted_at: hoursBefore(NOW, 3) }],
            coverageSummary: { total: { lines: { total: 100, covered: 85, pct: 85 } } },
            backups: backupsAt(hoursBefore(NOW, 1)),
            staging,
        };
        collect(goodEvidence);
    });

    afterAll(async () => {
        if (timings.length > 0) console.log(["policy pack on the local stack (production levels), seconds per CLI call:", ...timings].join("\n  "));
        if (ws) delete ws.env[FIXTURE_SWITCH];
        await tearDownLocalStack(ws, site, STACK, PREFIX);
    });

    test("a compliant stack previews with no mandatory violation and applies with the pack", async () => {
        // Every policy of the pack runs at production's levels: all mandatory, but the one that only lists
        // changed commands (advisory), and the host firewall (the loopback servers have none: disabled).
        const config = policyConfig();
        const expected = (name: string) =>
            name === "release-commands-changed" ? "advisory" : name === "databases-host-firewall" || name === "gates-evidence-trusted" ? "disabled" : "mandatory";
        expect(Object.values(config).map((c) => (c as { enforcementLevel?: string }).enforcementLevel)).toEqual(allPolicies.map((policy) => expected(policy.name)));

        const planned = await preview("compliant stack");
        expect(planned.code, planned.output).toBe(0);
        expectClean(planned);

        const applied = await up("compliant stack");
        expect(applied.code, applied.output).toBe(0);
        expect(applied.output).toMatch(/\+ \d+ created/);
        expectClean(applied);
        expect(await haproxyWeights(env.admin, "api")).toEqual({ blue: 100, green: 0 });
    });

    test("green jumping from 0 to 100 in one update: release-one-ladder-step refuses it", async () => {
        const before = await snapshot();
        expect(before.api).toEqual({ blue: 100, green: 0 });
        ws.editConfig((config) => {
            api(config).green.version = "1.1.0"; // staging ran it: only the jump is wrong
            api(config).weights = { blue: 0, green: 100 };
        });
        try {
            await expectRefused("green 0 -> 100", "release-one-ladder-step", "pulumi-nodejs:dynamic/release:ReleaseGate: release-gate", [
                `api: green moves one ladder step per up (0, 10, 50, 100): from 0 the next step is 10, not 100: move green with \`npm run release:next -- --stack ${STACK} --service api\`, or set it to 0 to roll back`,
            ], before);
        } finally {
            ws.editConfig((config) => {
                api(config).green.version = "1.0.0";
                api(config).weights = { blue: 100, green: 0 };
            });
        }
    });

    test("a compliant release step (api green 1.1.0 at 10 %) previews and applies with the pack", async () => {
        ws.editConfig((config) => {
            api(config).green.version = "1.1.0";
            api(config).weights = { blue: 90, green: 10 };
        });
        const planned = await preview("release step api green 1.1.0 at 10 %");
        expect(planned.code, planned.output).toBe(0);
        expectClean(planned);
        expect(planned.output).toMatch(/release-api-traffic/);

        const applied = await up("release step api green 1.1.0 at 10 %");
        expect(applied.code, applied.output).toBe(0);
        expectClean(applied);
        expect(await haproxyWeights(env.admin, "api")).toEqual({ blue: 90, green: 10 });
        const outputs = (await ws.outputs()).services as Record<string, { green: { version: string; weight: number } }>;
        expect(outputs["api"]?.green).toMatchObject({ version: "1.1.0", weight: 10 });
    });

    test("a grant with ALL PRIVILEGES: databases-grants-allowed refuses it before any create", async () => {
        const before = await snapshot();
        ws.env[FIXTURE_SWITCH] = "all-privileges";
        try {
            const result = await expectRefused(
                "ALL PRIVILEGES grant",
                "databases-grants-allowed",
                `pulumi-nodejs:dynamic/databases:MariaDbServiceUser: ${PREFIX}all-privileges`,
                [
                    `${PREFIX}all-privileges (svc_${PREFIX}allpriv on mo_${PREFIX}main) asks for ALL PRIVILEGES: list the allowed privileges one by one (SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES)`,
                ],
                before,
            );
            // Its provider was never called.
            expect(result.output).not.toContain("policy fixture: create reached");
        } finally {
            delete ws.env[FIXTURE_SWITCH];
        }
        expect(await mariaQuery(PLESK_STANDIN, "SELECT User, Host FROM mysql.user WHERE User = ?", [`svc_${PREFIX}allpriv`])).toEqual([]);
    });

    test("a user with host %: databases-no-wildcard-host refuses it", async () => {
        const before = await snapshot();
        ws.env[FIXTURE_SWITCH] = "wildcard-host";
        try {
            // The real class: it grants exactly the allowed set and keeps its secrets secret, so the host is the one violation.
            await expectRefused(
                "user with host %",
                "databases-no-wildcard-host",
                `pulumi-nodejs:dynamic/databases:MariaDbServiceUser: ${PREFIX}wildcard-host`,
                [`${PREFIX}wildcard-host: the account 'svc_${PREFIX}wild'@'%' accepts clients from any host (empty, % and _ are wildcards): bind it to the app host's address`],
                before,
            );
        } finally {
            delete ws.env[FIXTURE_SWITCH];
        }
        expect(await mariaQuery(PLESK_STANDIN, "SELECT User, Host FROM mysql.user WHERE User = ?", [`svc_${PREFIX}wild`])).toEqual([]);
    });

    /** The next ladder step for api (10 -> 50): a change, so the gates apply to it (an unchanged stack passes them). */
    const nextApiStep = () => ws.editConfig((config) => (api(config).weights = { blue: 50, green: 50 }));
    const backToDeployed = () => ws.editConfig((config) => (api(config).weights = { blue: 90, green: 10 }));

    test("stale backup evidence (30 h old): gates-backups-fresh refuses the next step", async () => {
        const before = await snapshot();
        const stale = hoursBefore(NOW, 30);
        collect({ ...goodEvidence, backups: backupsAt(stale) });
        nextApiStep();
        try {
            await expectRefused(
                "backups 30 h old",
                "gates-backups-fresh", "pulumi-nodejs:dynamic/release:ReleaseGate: release-gate",
                [
                    new RegExp(
                        `backups missing or older than 24 h: .*plesk/mo_${PREFIX}main \\(30\\.0 h old, ${stale.replace(/[.]/g, "\\.")}\\).*; back these databases up, then collect the evidence again \\(\`npm run evidence -- --stack ${STACK}\`\\)`,
                    ),
                ],
                before,
            );
        } finally {
            collect(goodEvidence);
            backToDeployed();
        }
    });

    test("a production version that staging never ran (api green 1.2.0): gates-staging-first refuses it", async () => {
        const before = await snapshot();
        ws.editConfig((config) => (api(config).green.version = "1.2.0"));
        try {
            await expectRefused(
                "api green 1.2.0 not on staging",
                "gates-staging-first", "pulumi-nodejs:dynamic/release:ReleaseGate: release-gate",
                ["api green 1.2.0 has not run on staging (it runs blue 1.0.0, green 1.1.0): release it to staging first"],
                before,
            );
        } finally {
            ws.editConfig((config) => (api(config).green.version = "1.1.0"));
        }
    });

    test("a red CI status: gates-ci-green refuses the next step", async () => {
        const before = await snapshot();
        nextApiStep();
        collect({
            ...goodEvidence,
            ciStatus: { state: "failure", total_count: 1, statuses: [{ context: "ci/build", state: "failure" }] },
            checkRuns: { total_count: 1, check_runs: [{ name: "npm test", status: "completed", conclusion: "failure" }] },
        });
        try {
            await expectRefused(
                "red CI",
                "gates-ci-green", "pulumi-nodejs:dynamic/release:ReleaseGate: release-gate",
                [`CI is failure for commit ${COMMIT.slice(0, 12)} (ci/build: failure, npm test: failure): release a commit whose checks all passed, then collect the evidence again (\`npm run evidence -- --stack ${STACK}\`)`],
                before,
            );
        } finally {
            collect(goodEvidence);
            backToDeployed();
        }
    });

    test("with the good evidence and config back, the stack previews clean again", async () => {
        const result = await preview("compliant again");
        expect(result.code, result.output).toBe(0);
        expectClean(result);
    });
});
