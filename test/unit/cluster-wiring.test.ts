// The Cluster component's wiring under Pulumi mocks: which resources each container gets, with which safety options.
// (Resources are only constructed in the tests, after beforeAll has set the mocks.)
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { Cluster } from "../../components/cluster";
import { parsePlatformConfig, type ClusterSpec } from "../../components/config";
import { readStackConfig } from "../../scripts/local-secrets";

interface Declared {
    type: string;
    name: string;
    props: Record<string, unknown>;
    opts: pulumi.CustomResourceOptions;
}

const declared: Declared[] = [];

beforeAll(() => {
    pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs as Record<string, unknown> }),
            call: (args) => args.inputs,
        },
        "release-platform",
        "test",
        false,
    );
});

function clusterOf(stack: string): ClusterSpec {
    return parsePlatformConfig(readStackConfig(path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`))).cluster;
}

/** Declares the cluster of a stack and records every child as the SDK hands it over (options included). */
function declare(spec: ClusterSpec): Declared[] {
    declared.length = 0;
    new Cluster(
        "cluster",
        { spec, apiToken: pulumi.secret("root@pam!test=00000000-0000-4000-8000-000000000000") },
        {
            transformations: [
                (args) => {
                    declared.push({ type: args.type, name: args.name, props: args.props as Record<string, unknown>, opts: args.opts as pulumi.CustomResourceOptions });
                    return undefined;
                },
            ],
        },
    );
    return declared;
}

function named(list: Declared[], name: string): Declared {
    const found = list.find((d) => d.name === name);
    if (!found) throw new Error(`${name} was not declared (have ${list.map((d) => d.name).join(", ")})`);
    return found;
}

function dependencies(d: Declared): string[] {
    const deps = d.opts.dependsOn;
    const list = (Array.isArray(deps) ? deps : deps ? [deps] : []) as (pulumi.Resource & { __name?: string })[];
    return list.map((r) => r.__name ?? "?").sort();
}

describe("Cluster wiring", () => {
    test("production: per container a ContainerLegacy, firewall options and rules, pool membership and HA resource; a rule per role", async () => {
        const list = declare(clusterOf("production"));
        const count = (type: string): number => list.filter((d) => d.type === type).length;
        expect(count("proxmoxve:index/containerLegacy:ContainerLegacy")).toBe(16);
        expect(count("proxmoxve:firewall/optionsLegacy:OptionsLegacy")).toBe(16);
        expect(count("proxmoxve:firewall/rulesLegacy:RulesLegacy")).toBe(16);
        expect(count("proxmoxve:pool/membership:Membership")).toBe(16);
        expect(count("proxmoxve:index/haresource:Haresource")).toBe(16);
        expect(count("proxmoxve:index/harule:Harule")).toBe(5);
        expect(count("proxmoxve:index/hagroup:Hagroup")).toBe(0);
        expect(count("proxmoxve:cluster/firewallLegacy:FirewallLegacy")).toBe(1);
        expect(count("proxmoxve:index/poolLegacy:PoolLegacy")).toBe(1);
        expect(count("pulumi:providers:proxmoxve")).toBe(1);
        // Every child talks to the cluster through the one explicit provider.
        expect(list.filter((d) => d.type.startsWith("proxmoxve:")).every((d) => d.opts.provider !== undefined)).toBe(true);
    });

    test.each([
        ["cluster-psa-db-master", { protect: true, deleteBeforeReplace: true, ignoreChanges: ["operatingSystem", "initialization.userAccount", "features", "disk.size"] }],
        ["cluster-psa-elasticsearch", { protect: true, deleteBeforeReplace: true, ignoreChanges: ["operatingSystem", "initialization.userAccount", "features", "disk.size"] }],
        ["cluster-psa-crm", { deleteBeforeReplace: true, ignoreChanges: ["features"] }],
    ] as const)("%s is declared with %j", async (name, options) => {
        const container = named(declare(clusterOf("production")), name);
        expect(container.opts).toEqual(expect.objectContaining(options));
        if (!("protect" in options)) expect(container.opts.protect).toBeFalsy();
    });

    test("the settings the provider cannot change through a token go through the PVE API, after their container", async () => {
        const list = declare(clusterOf("production"));
        const of = (type: string): string[] => list.filter((d) => d.type === type).map((d) => d.name);
        // Every container's nesting flag; the root disk of the protected (data-holding) ones only.
        expect(of("pulumi-nodejs:dynamic/cluster:ContainerNesting")).toHaveLength(16);
        expect(of("pulumi-nodejs:dynamic/cluster:ContainerRootDisk").sort()).toEqual(
            ["psa-db-master", "psa-db-replica-1", "psa-elasticsearch", "psa-rabbitmq", "psa-redis"].map((n) => `cluster-${n}-rootfs`),
        );
        const rootfs = named(list, "cluster-psa-db-master-rootfs");
        expect(dependencies(rootfs)).toEqual(["cluster-psa-db-master"]);
        expect(rootfs.props).toMatchObject({ sizeGiB: 200 });
        expect(rootfs.opts.provider).toBeUndefined();
        expect(dependencies(named(list, "cluster-psa-crm-nesting"))).toEqual(["cluster-psa-crm"]);
        // The token travels as a secret.
        expect(await pulumi.isSecret(rootfs.props["connection"] as pulumi.Output<unknown>)).toBe(true);
    });

    test("the HA resource and the firewall of a container depend on it, so they go first on removal", async () => {
        const list = declare(clusterOf("production"));
        expect(dependencies(named(list, "cluster-psa-db-master-ha"))).toEqual(["cluster-psa-db-master"]);
        expect(named(list, "cluster-psa-db-master-ha").opts).toMatchObject({ replaceOnChanges: ["resourceId"], deleteBeforeReplace: true });
        expect(dependencies(named(list, "cluster-psa-db-master-firewall-rules"))).toEqual(["cluster-psa-db-master"]);
        expect(dependencies(named(list, "cluster-psa-db-master-pool"))).toEqual(["cluster-pool", "cluster-psa-db-master"]);
        expect(dependencies(named(list, "cluster-ha-db"))).toEqual(["cluster-psa-db-master-ha", "cluster-psa-db-replica-1-ha"]);
        // PVE 9 purges a deleted HA resource from its rules: the rule is rebuilt around its members instead of going stale.
        expect(named(list, "cluster-ha-db").opts).toMatchObject({ replaceOnChanges: ["resources"], deleteBeforeReplace: true });
    });

    test("PVE 8 clusters get an HA group per role, named by each HA resource", async () => {
        const spec = { ...clusterOf("production"), haAffinity: "groups" as const };
        const list = declare(spec);
        expect(list.filter((d) => d.type === "proxmoxve:index/harule:Harule")).toEqual([]);
        expect(named(list, "cluster-ha-db").props).toMatchObject({ group: "cluster-db", nodes: { pve1: 1, pve2: 1 }, restricted: false });
        const resource = named(list, "cluster-psa-db-replica-1-ha").props;
        expect(resource).toMatchObject({ type: "ct", state: "started" });
        const group = pulumi.output(resource["group"] as pulumi.Input<string>);
        expect(await new Promise((resolve) => group.apply(resolve))).toBe("cluster-db");
        expect(dependencies(named(list, "cluster-psa-db-replica-1-ha"))).toEqual(["cluster-ha-db", "cluster-psa-db-replica-1"]);
    });

    test("local: no pool and no HA for containers without ha; the datacenter firewall is on", async () => {
        const list = declare(clusterOf("local"));
        expect(list.filter((d) => d.type === "proxmoxve:pool/membership:Membership")).toEqual([]);
        expect(list.filter((d) => d.type === "proxmoxve:index/haresource:Haresource").map((d) => d.name)).toEqual(["cluster-psa-api-gateway-ha", "cluster-psa-db-master-ha"]);
        expect(named(list, "cluster-firewall").props).toMatchObject({ enabled: true, inputPolicy: "DROP" });
        expect(named(list, "cluster-psa-redis-firewall-options").props).toMatchObject({ enabled: true, inputPolicy: "DROP", outputPolicy: "ACCEPT" });
    });
});
