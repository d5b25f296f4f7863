// Wiring of the host firewall under Pulumi mocks: which rules resource is declared, with which inputs and options.
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
                return { id: `${args.name}-id`, state: { ...args.inputs, applied: "applied", inForce: "applied" } };
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
        admin: { host: "10.10.30.22", port: 5432, user: "postgres", tls: { mode: "verify-full", caFile: "/etc/release-platform/db-ca.crt" } },
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

    test("nftables: one resource that applies the ruleset over ssh (pinned host key, the key secret) and reads it back", async () => {
        const spec = server("pg-nft", "nftables");
        const fw = firewall.declareHostFirewall(new Parent("p-nft"), spec, pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"))!;
        expect(fw.kind).toBe("nftables");
        const rules = await declared("pg-nft-firewall-nftables");
        expect(rules.type).toBe(firewall.HOST_FIREWALL_RULES_TYPE);
        const { __provider: provider, ...inputs } = rules.inputs;
        expect(typeof provider).toBe("string");
        expect(inputs).toEqual({
            kind: "nftables",
            server: "pg-nft",
            apply: firewall.renderNftablesApplyScript(spec),
            remove: firewall.renderNftablesRemoveScript(spec),
            read: firewall.renderNftablesReadScript(spec),
            stdin: firewall.renderNftablesRuleset(spec),
            // The whole ssh access travels as a secret (the SDK's secret envelope).
            ssh: {
                [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
                value: { host: "10.10.30.22", port: 2200, user: "deploy", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", hostKey: TEST_HOST_KEY },
            },
        });
        // The key never reaches a script: it is only in the (secret) ssh access.
        expect(`${String(inputs.apply)}${String(inputs.remove)}${String(inputs.read)}${String(inputs.stdin)}`).not.toContain("PRIVATE KEY");
        expect(await resolved(fw.applied)).toBe("applied");
    });

    test("ufw: the rules are in the script itself, nothing on stdin", async () => {
        const spec = server("pg-ufw", "ufw");
        firewall.declareHostFirewall(new Parent("p-ufw"), spec, pulumi.secret("key"));
        const rules = await declared("pg-ufw-firewall-ufw");
        expect(rules.inputs.apply).toBe(firewall.renderUfwApplyScript(spec));
        expect(rules.inputs.remove).toBe(firewall.renderUfwRemoveScript(spec));
        expect(rules.inputs.read).toBe(firewall.renderUfwReadScript(spec));
        expect(rules.inputs.stdin).toBe("");
        expect((rules.inputs.ssh as { value: { hostKey?: string } }).value.hostKey).toBe(TEST_HOST_KEY);
    });

    test("the rules replace delete-first, so an old delete never removes the rules a new create applied; the ssh key stays secret", async () => {
        await declared("pg-nft-firewall-nftables");
        const opts = options.get("pg-nft-firewall-nftables");
        expect(opts?.deleteBeforeReplace).toBe(true);
        expect(opts?.additionalSecretOutputs).toContain("ssh");
    });

    test("a server whose firewall Plesk manages gets nothing of ours", async () => {
        expect(firewall.declareHostFirewall(new Parent("p-plesk"), server("plesky", "plesk"), pulumi.secret("key"))).toBeUndefined();
        await declared("p-plesk");
        expect(recorded.filter((r) => r.name.startsWith("plesky"))).toEqual([]);
    });

    test("a missing pinned host key is refused with the config path", () => {
        const spec = { ...server("nopin", "nftables"), ssh: { host: "10.10.30.22", port: 22, user: "deploy" } };
        expect(() => firewall.declareHostFirewall(new Parent("p-nopin"), spec, "key")).toThrow(/^databases\.servers\.nopin\.ssh\.hostKey: no pinned host key/);
    });

    test.each([
        ["no ssh target", { ...server("nossh", "nftables"), ssh: undefined }, "key", /^databases\.servers\.nossh\.ssh: the nftables firewall is applied over SSH/],
        ["no ssh key", server("nokey", "ufw"), undefined, /^databases\.servers\.nokey\.firewall: ufw is applied over SSH: set the secret sshPrivateKey\.nokey/],
        ["a wildcard app host", { ...server("wild", "nftables"), appHost: "%" }, "key", /^databases\.servers\.wild\.appHost: /],
    ])("%s is refused with the config path", (_case, spec, key, message) => {
        expect(() => firewall.declareHostFirewall(new Parent(`p-${spec.name}`), spec, key)).toThrow(message);
    });
});
