// The Platform's release gate under Pulumi mocks in preview mode: one StackReference read for the
// replacement guard and the gate, the gate's inputs plain (no unknowns), every release step waiting for it.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { guardRecordOf } from "../../components/cluster/guard";
import { listSshTargets, parsePlatformConfig, type PlatformSpec } from "../../components/config";
import { Platform } from "../../components/platform";
import { RELEASE_RECORD_TYPE } from "../../components/release/record";
import { RELEASE_GATE_TYPE, type ReleaseGateInputs } from "../../components/release/gate-inputs";
import { readStackConfig } from "../../scripts/local-secrets";
import { pinLocalSshTargets } from "../support/keys";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
const dependsOn = new Map<string, string[]>();
/** What the mocked StackReference reports as this stack's last outputs. */
let previousOutputs: Record<string, unknown> = {};

/** The marker the engine uses for a value unknown at preview. */
const UNKNOWN = pulumi.runtime.unknownValue;

beforeAll(() => {
    pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
                if (args.type === "pulumi:pulumi:StackReference") {
                    return { id: String(args.inputs.name), state: { name: args.inputs.name, outputs: previousOutputs, secretOutputNames: [] } };
                }
                // A backup command prints its record; the mocks print one for the database it names.
                const env = revealed(args.inputs.environment);
                const stdout = args.name.includes("-backup-")
                    ? JSON.stringify({ server: env.SERVER, engine: "mariadb", database: env.DB, service: env.SERVICE, version: env.VERSION, file: "/tmp/dump", time: "2026-01-01T00:00:00Z", bytes: 1, sha256: "0".repeat(64) })
                    : undefined;
                return { id: `${args.name}-id`, state: { ...args.inputs, observed: args.inputs.weights, stdout } };
            },
            call: (args) => args.inputs,
        },
        "release-platform",
        "gatetest",
        true, // preview
        "organization",
    );
});

/** A value as the mocks see it, with the secret wrapper taken off. */
function revealed(value: unknown): Record<string, unknown> {
    const record = (value ?? {}) as Record<string, unknown>;
    return (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig ? record.value : record) as Record<string, unknown>;
}

function specOf(stack: string): PlatformSpec {
    return parsePlatformConfig(pinLocalSshTargets(readStackConfig(path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`))));
}

/** Declares the whole platform of a stack; resolves with the gate's registered inputs once they went out. */
async function declarePlatform(spec: PlatformSpec): Promise<Platform> {
    registered.length = 0;
    dependsOn.clear();
    const secret = (value: string) => pulumi.secret(value);
    const platform = new Platform(
        "platform",
        {
            spec,
            secrets: {
                proxmoxApiToken: secret("root@pam!test=00000000-0000-4000-8000-000000000000"),
                dbAdminPasswords: Object.fromEntries(spec.databases.servers.map((s) => [s.name, secret(`${s.name}-admin`)])),
                dbPasswords: {},
                sshPrivateKeys: Object.fromEntries([...listSshTargets(spec).keys()].map((target) => [target, secret(`${target}-key`)])),
            },
            releaseGate: {
                stack: "gatetest",
                evidenceFile: ".release-evidence/gatetest.json",
                read: { evidence: null, problem: "missing" },
                commit: "a".repeat(40),
            },
        },
        {
            transformations: [
                (args: pulumi.ResourceTransformationArgs) => {
                    const deps = args.opts.dependsOn;
                    const list = Array.isArray(deps) ? deps : deps ? [deps] : [];
                    dependsOn.set(args.name, list.map((d) => (d as pulumi.Resource & { __name?: string }).__name ?? "?"));
                    return undefined;
                },
            ],
        },
    );
    await new Promise((resolve) => platform.release.services.apply(resolve));
    return platform;
}

const gateOf = (): Record<string, unknown> => {
    const gates = registered.filter((r) => r.type === RELEASE_GATE_TYPE);
    expect(gates.map((g) => g.name)).toEqual(["release-gate"]);
    return gates[0]?.inputs ?? {};
};

describe("the release gate in the platform", () => {
    test("first deployment: one StackReference, the gate with deployed null and the evidence problem, no unknowns", async () => {
        previousOutputs = {};
        const spec = specOf("local");
        const platform = await declarePlatform(spec);
        expect(registered.filter((r) => r.type === "pulumi:pulumi:StackReference").map((r) => r.inputs.name)).toEqual(["organization/release-platform/gatetest"]);
        const gate = gateOf() as Partial<ReleaseGateInputs> & Record<string, unknown>;
        expect(JSON.stringify(gate)).not.toContain(UNKNOWN);
        expect(gate).toMatchObject({
            stack: "gatetest",
            environment: "local",
            commit: "a".repeat(40),
            evidenceFile: ".release-evidence/gatetest.json",
            evidenceProblem: "missing",
            release: { ladder: [0, 10, 50, 100], deployed: null },
            cluster: { desired: guardRecordOf(spec.cluster), deployed: null },
        });
        expect(gate.evidence ?? null).toBeNull();
        expect(platform.releaseGateSummary).toEqual({
            commit: "a".repeat(40),
            evidenceFile: ".release-evidence/gatetest.json",
            evidenceCollectedAt: null,
            evidenceProblem: "missing",
        });
    });

    test("a later deployment: the gate carries the last services and guard record, read through the same StackReference", async () => {
        const spec = specOf("local");
        previousOutputs = {
            services: {
                api: { backend: "haproxy", blue: { version: "1.0.0", address: "127.0.0.1:3000", weight: 90 }, green: { version: "1.1.0", address: "127.0.0.1:3001", weight: 10 } },
            },
            clusterReplacementGuard: guardRecordOf(spec.cluster),
        };
        await declarePlatform(spec);
        expect(registered.filter((r) => r.type === "pulumi:pulumi:StackReference")).toHaveLength(1);
        const gate = gateOf() as unknown as ReleaseGateInputs;
        expect(JSON.stringify(gate)).not.toContain(UNKNOWN);
        expect(gate.release.deployed).toEqual({ api: { blue: "1.0.0", green: "1.1.0", weights: { blue: 90, green: 10 } } });
        expect(gate.cluster.deployed).toEqual(guardRecordOf(spec.cluster));
        expect(gate.release.services.api).toEqual({ blue: "1.0.0", green: "1.0.0", weights: { blue: 100, green: 0 }, commands: {} });
    });

    test("every release step (data changes, deploys, traffic) depends on the gate; the release waits for it too", async () => {
        previousOutputs = {};
        await declarePlatform(specOf("local"));
        const steps = registered.filter((r) => r.name.startsWith("release-") && r.type !== RELEASE_GATE_TYPE && r.type !== RELEASE_RECORD_TYPE && !r.type.startsWith("platform:"));
        expect(steps.map((s) => s.name).sort()).toEqual(
            [
                "release-api-data",
                "release-api-blue-deploy",
                "release-api-green-deploy",
                "release-api-traffic",
                "release-frontend-data",
                "release-frontend-blue-deploy",
                "release-frontend-green-deploy",
                "release-frontend-traffic",
            ].sort(),
        );
        for (const step of steps) expect(dependsOn.get(step.name), step.name).toContain("release-gate");
        expect(dependsOn.get("release")).toEqual(["databases", "release-gate"]);
        // The fingerprint is recorded last, after every part: a failed update records none.
        expect(dependsOn.get("release-record")).toEqual(["databases", "cluster", "release", "release-gate"]);
    });
});
