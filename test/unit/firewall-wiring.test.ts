// Wiring of the host firewall under Pulumi mocks: which remote command is declared, with which inputs and options.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import type { DatabaseServerSpec, FirewallKind } from "../../components/config";
// Importing declares nothing: resources are only created by the calls below, after the mocks are set.
import * as firewall from "../../components/databases/firewall";
import { TEST_HOST_KEY } from "../support/keys";

interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

const recorded: Recorded[] = [];
/** Options as the children receive them (mocks never see options; legacy transformations run in-process and do). */
const options = new Map<string, pulumi.CustomResourceOptions>();

beforeAll(async () => {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
                return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "applied" } };
            },
            call: () => ({}),
        },
        "project",
        "stack",
        false,
    );
});

class Parent extends pulumi.ComponentResource {
    constructor(name: string) {
        super("test:index:Parent", name, {}, {
            transformations: [
                (args) => {
                    options.set(args.name, args.opts as pulumi.CustomResourceOptions);
                    return undefined;
                },
            ],
        });
    }
}

function server(name: string, kind: FirewallKind): DatabaseServerSpec {
    return {
        name,
        engine: "postgresql",
        version: "15",
        admin: { host: "10.10.30.22", port: 5432, user: "postgres", tls: { mode: "require", caFile: undefined } },
        appHost: "10.10.20.10",
        ssh: { host: "10.10.30.22", port: 2200, user: "deploy", hostKey: TEST_HOST_KEY },
        firewall: kind,
        maxDatabases: undefined,
        databases: [],
    };
}

/** Resolves an Output the way the engine would (mocks resolve them at once). */
function resolved<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((value) => resolve(value)));
}

async function declared(name: string): Promise<Recorded> {
    // Registration is asynchronous: wait until the command of this firewall arrived.
    for (let i = 0; i < 100; i++) {
        const found = recorded.find((r) => r.name === name);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`${name} was not declared; declared: ${recorded.map((r) => r.name).join(", ")}`);
}

describe("declareHostFirewall", () => {
    test("a server whose firewall is none gets nothing", async () => {
        expect(firewall.declareHostFirewall(new Parent("p-none"), server("plain", "none"), pulumi.secret("key"))).toBeUndefined();
        await declared("p-none");
        expect(recorded.filter((r) => r.name.startsWith("plain"))).toEqual([]);
    });

    test("nftables: one remote command over SSH with the ruleset on stdin, no triggers, the key secret", async () => {
        const spec = server("pg-nft", "nftables");
        const fw = firewall.declareHostFirewall(new Parent("p-nft"), spec, pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"))!;
        expect(fw.kind).toBe("nftables");
        const command = await declared("pg-nft-firewall-nftables");
        expect(command.type).toBe("command:remote:Command");
        expect(command.inputs).toEqual({
            // The whole connection travels as a secret (the SDK's secret envelope).
            connection: {
                [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
                value: {
                    host: "10.10.30.22",
                    port: 2200,
                    user: "deploy",
                    privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n",
                    hostKey: TEST_HOST_KEY,
                    dialErrorLimit: 10,
                    perDialTimeout: 15,
                },
            },
            create: firewall.renderNftablesApplyScript(spec),
            delete: firewall.renderNftablesRemoveScript(spec),
            stdin: firewall.renderNftablesRuleset(spec),
            addPreviousOutputInEnv: false,
            logging: "stdoutAndStderr",
        });
        // The key never reaches a command line: it is only in the (secret) connection.
        expect(`${String(command.inputs.create)}${String(command.inputs.delete)}${String(command.inputs.stdin)}`).not.toContain("PRIVATE KEY");
        expect(await resolved(fw.applied)).toBe("applied");
    });

    test("ufw: the rules are in the script itself, nothing on stdin", async () => {
        const spec = server("pg-ufw", "ufw");
        firewall.declareHostFirewall(new Parent("p-ufw"), spec, pulumi.secret("key"));
        const command = await declared("pg-ufw-firewall-ufw");
        expect(command.inputs.create).toBe(firewall.renderUfwApplyScript(spec));
        expect(command.inputs.delete).toBe(firewall.renderUfwRemoveScript(spec));
        expect(command.inputs.stdin).toBeUndefined();
        expect(command.inputs.triggers).toBeUndefined();
        expect((command.inputs.connection as { value: { hostKey?: string } }).value.hostKey).toBe(TEST_HOST_KEY);
    });

    test("the command replaces delete-first, so an old delete never removes the rules a new create applied", async () => {
        await declared("pg-nft-firewall-nftables");
        const opts = options.get("pg-nft-firewall-nftables");
        expect(opts?.deleteBeforeReplace).toBe(true);
        // The SDK marks the connection secret and replaces on trigger changes; we set no triggers.
        expect(opts?.additionalSecretOutputs).toContain("connection");
    });

    test.each([
        ["no ssh target", { ...server("nossh", "nftables"), ssh: undefined }, "key", /^databases\.servers\.nossh\.ssh: the nftables firewall is applied over SSH/],
        ["no ssh key", server("nokey", "ufw"), undefined, /^databases\.servers\.nokey\.firewall: ufw is applied over SSH: set the secret sshPrivateKey\.nokey/],
        ["a wildcard app host", { ...server("wild", "nftables"), appHost: "%" }, "key", /^databases\.servers\.wild\.appHost: /],
    ])("%s is refused with the config path", (_case, spec, key, message) => {
        expect(() => firewall.declareHostFirewall(new Parent(`p-${spec.name}`), spec, key)).toThrow(message);
    });
});
