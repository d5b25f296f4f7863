// The cluster's pure functions: start order, firewall rule sets, tags, HA plan, container args and the replacement guard.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, test } from "vitest";

import {
    REPLACEMENT_GUARD_OUTPUT,
    ReplacementRefusedError,
    assertNoReplacementOfStatefulContainer,
    bootSequence,
    checkClusterReplacements,
    containerArgs,
    containerFirewallRules,
    containerStartup,
    containerTags,
    guardRecordOf,
    guardedFieldsOf,
    haAffinityPlan,
    normalizeTags,
    osTypeOf,
    replacementViolations,
    type GuardedContainerFields,
} from "../../components/cluster";
import { checkPlatformConfig, parsePlatformConfig, type ClusterSpec, type ContainerSpec } from "../../components/config";
import { readStackConfig } from "../../scripts/local-secrets";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

function clusterOf(stack: string): ClusterSpec {
    return parsePlatformConfig(readStackConfig(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`))).cluster;
}

const production = clusterOf("production");
const local = clusterOf("local");

function container(cluster: ClusterSpec, name: string): ContainerSpec {
    const found = cluster.containers.find((c) => c.name === name);
    if (!found) throw new Error(`no container ${name}`);
    return found;
}

const APP_ADDRESSES = Array.from({ length: 11 }, (_, i) => `10.10.20.${100 + i}`).join(",");

describe("start order", () => {
    test.each([
        ["psa-db-master", { order: 10, upDelay: 60, downDelay: 180 }],
        ["psa-db-replica-1", { order: 11, upDelay: 60, downDelay: 180 }],
        ["psa-redis", { order: 20, upDelay: 15, downDelay: 60 }],
        ["psa-rabbitmq", { order: 20, upDelay: 30, downDelay: 120 }],
        ["psa-elasticsearch", { order: 20, upDelay: 60, downDelay: 120 }],
        ["psa-api-gateway", { order: 30, upDelay: 5, downDelay: 30 }],
    ] as const)("%s starts with %j", (name, expected) => {
        expect(containerStartup(container(production, name))).toEqual(expected);
    });

    test("a cold production cluster boots the master, its replica, cache/queue/search, then the apps", () => {
        const sequence = bootSequence(production.containers);
        expect(sequence.slice(0, 5)).toEqual(["psa-db-master", "psa-db-replica-1", "psa-redis", "psa-rabbitmq", "psa-elasticsearch"]);
        expect(sequence.slice(5)).toHaveLength(11);
        expect(sequence.slice(5).every((name) => container(production, name).role === "app")).toBe(true);
    });

    test.each([
        ["by order", [{ name: "app", vmId: 100, role: "app", startOrder: 30 }, { name: "db", vmId: 200, role: "db", startOrder: 10 }], ["db", "app"]],
        ["ties by CT-ID", [{ name: "b", vmId: 220, role: "queue", startOrder: 20 }, { name: "a", vmId: 210, role: "cache", startOrder: 20 }], ["a", "b"]],
        ["an override wins over the role", [{ name: "cache", vmId: 210, role: "cache", startOrder: 5 }, { name: "db", vmId: 200, role: "db", startOrder: 10 }], ["cache", "db"]],
    ] as const)("boot sequence %s", (_case, containers, expected) => {
        expect(bootSequence(containers)).toEqual(expected);
    });
});

describe("firewall rule sets", () => {
    type Row = [string, string, string, string];
    const rows = (name: string, cluster: ClusterSpec = production): Row[] =>
        containerFirewallRules(container(cluster, name), cluster).map((r) => [r.proto ?? r.macro ?? "", r.dport ?? "", r.source, r.comment]);
    const ssh: Row = ["tcp", "22", "10.10.10.0/24", "ssh from management"];
    const ping: Row = ["Ping", "", "10.10.10.0/24", "ping from management"];

    test.each<[string, Row[]]>([
        ["psa-db-master", [["tcp", "5432", `${APP_ADDRESSES},10.10.30.201`, "postgresql from app containers and db peers"], ssh, ping]],
        ["psa-db-replica-1", [["tcp", "5432", `${APP_ADDRESSES},10.10.30.200`, "postgresql from app containers and db peers"], ssh, ping]],
        ["psa-redis", [["tcp", "6379", APP_ADDRESSES, "redis from app containers"], ssh, ping]],
        [
            "psa-rabbitmq",
            [["tcp", "5672", APP_ADDRESSES, "amqp from app containers"], ["tcp", "15672", "10.10.10.0/24", "rabbitmq management from management"], ssh, ping],
        ],
        // A single search node has no transport peers: 9300 stays closed.
        ["psa-elasticsearch", [["tcp", "9200", APP_ADDRESSES, "elasticsearch from app containers"], ssh, ping]],
        [
            "psa-crm",
            [["tcp", "3000", "10.10.40.0/24", "app blue from the load balancer (dmz)"], ["tcp", "3001", "10.10.40.0/24", "app green from the load balancer (dmz)"], ssh, ping],
        ],
    ])("production %s", (name, expected) => {
        expect(rows(name)).toEqual(expected);
    });

    test("every rule accepts inbound traffic only, and never from everywhere", () => {
        for (const c of production.containers) {
            for (const rule of containerFirewallRules(c, production)) {
                expect(rule).toMatchObject({ type: "in", action: "ACCEPT" });
                expect(rule.source).not.toMatch(/0\.0\.0\.0|^$/);
            }
        }
    });

    test.each<[string, (c: ClusterSpec) => ClusterSpec, string, Row[]]>([
        ["without a management subnet SSH stays closed", (c) => ({ ...c, subnets: { ...c.subnets, management: undefined } }), "psa-redis", [["tcp", "6379", "10.10.20.100", "redis from app containers"]]],
        ["without a dmz subnet the app ports stay closed", (c) => ({ ...c, subnets: { management: "10.10.10.0/24" } }), "psa-api-gateway", [ssh, ping]],
        ["without app containers the database port stays closed", (c) => ({ ...c, containers: c.containers.filter((x) => x.role !== "app") }), "psa-db-master", [ssh, ping]],
        [
            "a second search node opens transport between the two",
            (c) => ({ ...c, containers: [...c.containers, { ...container(c, "psa-redis"), name: "es-1", role: "search", ip: "10.10.30.231" }, { ...container(c, "psa-redis"), name: "es-2", role: "search", ip: "10.10.30.232" }] }),
            "es-1",
            [["tcp", "9200", "10.10.20.100", "elasticsearch from app containers"], ["tcp", "9300", "10.10.30.232", "elasticsearch transport from search peers"], ssh, ping],
        ],
    ])("%s", (_case, edit, name, expected) => {
        expect(rows(name, edit(local))).toEqual(expected);
    });

    test("sources stay within PVE's 512 characters for the production apps", () => {
        for (const c of production.containers) for (const rule of containerFirewallRules(c, production)) expect(rule.source.length).toBeLessThanOrEqual(512);
    });
});

describe("tag normalisation", () => {
    test.each([
        [["psa", "redis"], ["psa", "redis"]],
        [["Redis", "PSA"], ["psa", "redis"]],
        [["b", "a", "b"], ["a", "b"]],
        [[" psa ", "", "  "], ["psa"]],
        [[], []],
    ])("%j → %j", (tags, expected) => {
        expect(normalizeTags(tags)).toEqual(expected);
    });

    test.each([
        [{ tags: ["psa", "redis"], role: "cache" }, ["cache", "psa", "redis"]],
        [{ tags: ["PostgreSQL", "psa"], role: "db" }, ["db", "postgresql", "psa"]],
        [{ tags: ["app"], role: "app" }, ["app"]],
    ] as const)("container tags of %j add the role: %j", (c, expected) => {
        expect(containerTags({ tags: [...c.tags], role: c.role })).toEqual(expected);
    });
});

describe("HA plan", () => {
    test("production: one rule per role, on the nodes the role's containers run on", () => {
        expect(haAffinityPlan(production).map((r) => [r.role, r.resourceIds.length, r.nodes])).toEqual([
            ["app", 11, { pve1: 1, pve2: 1, pve3: 1 }],
            ["db", 2, { pve1: 1, pve2: 1 }],
            ["cache", 1, { pve3: 1 }],
            ["queue", 1, { pve2: 1 }],
            ["search", 1, { pve3: 1 }],
        ]);
        expect(haAffinityPlan(production).find((r) => r.role === "db")?.resourceIds).toEqual(["ct:200", "ct:201"]);
    });

    test("local: containers without ha get no HA resource and no rule", () => {
        expect(haAffinityPlan(local).map((r) => [r.role, r.containers])).toEqual([
            ["app", ["psa-api-gateway"]],
            ["db", ["psa-db-master"]],
        ]);
    });
});

describe("container args", () => {
    test.each([
        ["local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "debian"],
        ["local:vztmpl/ubuntu-24.04-standard_24.04-2_amd64.tar.zst", "ubuntu"],
        ["nas:vztmpl/alpine-3.20-default_20240908_amd64.tar.xz", "alpine"],
        ["local:vztmpl/custom-image.tar.gz", "unmanaged"],
    ])("%s is ostype %s", (template, os) => {
        expect(osTypeOf(template)).toBe(os);
    });

    test.each([
        ["psa-db-master", { protection: true, unprivileged: true, timeoutDelete: 300, features: undefined, tags: ["db", "postgresql", "psa"] }],
        ["psa-api-gateway", { protection: false, unprivileged: true, timeoutDelete: 60, features: undefined, tags: ["app", "psa"] }],
    ] as const)("%s", (name, expected) => {
        expect(containerArgs(container(production, name), production)).toMatchObject(expected);
    });

    test("network, sizes, template and DNS come from the spec", () => {
        expect(containerArgs(container(production, "psa-db-replica-1"), production)).toMatchObject({
            nodeName: "pve2",
            vmId: 201,
            cpu: { cores: 4 },
            memory: { dedicated: 16384, swap: 0 },
            disk: { datastoreId: "ceph-vm", size: 200 },
            networkInterfaces: [{ name: "eth0", bridge: "vmbr0", vlanId: 30, firewall: true }],
            initialization: {
                hostname: "psa-db-replica-1",
                ipConfigs: [{ ipv4: { address: "10.10.30.201/24", gateway: "10.10.30.1" } }],
                dns: { domain: "platform.internal", servers: ["10.10.10.2", "10.10.10.3"] },
            },
            operatingSystem: { templateFileId: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", type: "debian" },
            startOnBoot: true,
            startup: { order: 11, upDelay: 60, downDelay: 180 },
        });
    });

    test("nesting only where a container asks for it", () => {
        const nested = { ...container(local, "psa-api-gateway"), nesting: true };
        expect(containerArgs(nested, local).features).toEqual({ nesting: true });
    });
});

describe("the replacement guard", () => {
    const db = container(production, "psa-db-master");
    const old: GuardedContainerFields = guardedFieldsOf(db, production);

    test.each<[string, Partial<GuardedContainerFields>, keyof GuardedContainerFields, RegExp]>([
        ["a new node", { node: "pve3" }, "node", /^changing node from "pve1" to "pve3": the provider would replace the container and its data would be lost; move it with `pct migrate`/],
        ["a new CT-ID", { vmId: 205 }, "vmId", /^changing vmId from 200 to 205: .*a CT-ID never changes/],
        ["privileged", { unprivileged: false }, "unprivileged", /^changing unprivileged from true to false:/],
        ["another datastore", { datastore: "local-lvm" }, "datastore", /^changing datastore from "ceph-vm" to "local-lvm": .*pct move-volume/],
        ["a smaller disk", { diskGiB: 150 }, "diskGiB", /^shrinking the root disk from 200 GiB to 150 GiB: .*can only grow in place/],
        ["another template", { template: "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst" }, "template", /^changing template from "local:vztmpl\/debian-12/],
        ["an added mount point", { mountPoints: [{ path: "/var/lib/postgresql", sizeGiB: 500 }] }, "mountPoints", /^changing the mount points from \[\] to \[\/var\/lib\/postgresql:500G\]/],
    ])("refuses %s, naming the field", (_case, change, field, message) => {
        const violations = replacementViolations(old, { ...old, ...change });
        expect(violations.map((v) => v.field)).toEqual([field]);
        expect(violations[0]?.message).toMatch(message);
        expect(() => assertNoReplacementOfStatefulContainer("psa-db-master", old, { ...old, ...change })).toThrow(
            new RegExp(`release-platform:psa-db-master\\.${field}: `),
        );
    });

    test.each<[string, Partial<GuardedContainerFields>]>([
        ["nothing", {}],
        ["a bigger disk (resized in place)", { diskGiB: 250 }],
    ])("allows %s", (_case, change) => {
        expect(replacementViolations(old, { ...old, ...change })).toEqual([]);
        expect(() => assertNoReplacementOfStatefulContainer("psa-db-master", old, { ...old, ...change })).not.toThrow();
    });

    test("names every field at once", () => {
        const fields = replacementViolations(old, { ...old, node: "pve2", datastore: "x", diskGiB: 1 }).map((v) => v.field);
        expect(fields).toEqual(["node", "datastore", "diskGiB"]);
        expect(() => assertNoReplacementOfStatefulContainer("psa-db-master", old, { ...old, node: "pve2" })).toThrow(ReplacementRefusedError);
    });

    test("records only the data-holding containers", () => {
        expect(Object.keys(guardRecordOf(production)).sort()).toEqual(["psa-db-master", "psa-db-replica-1", "psa-elasticsearch", "psa-rabbitmq", "psa-redis"]);
    });

    const record = guardRecordOf(local);
    type RawCluster = { template: string; datastore: string; containers: Record<string, unknown>[] };
    /** The local cluster after an edit of its raw config, parsed again (the way the next run sees it). */
    const localWith = (edit: (c: RawCluster) => void): ClusterSpec => {
        const raw = structuredClone(readStackConfig(path.join(PROJECT_ROOT, "Pulumi.local.yaml"))) as Record<string, unknown> & { cluster: RawCluster };
        edit(raw.cluster);
        return parsePlatformConfig(raw).cluster;
    };
    const edit = (name: string, change: Record<string, unknown>) => (c: RawCluster) => Object.assign(c.containers.find((x) => x["name"] === name) ?? {}, change);
    const OLD_TEMPLATE = "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst";
    const NEW_TEMPLATE = "local:vztmpl/debian-13-standard_13.1-1_amd64.tar.zst";

    test.each<[string, unknown, ClusterSpec, string[]]>([
        ["the first deployment (no record)", undefined, local, []],
        ["an unchanged cluster", record, local, []],
        ["a record that does not parse", { "psa-db-master": { vmId: "two hundred" } }, localWith(edit("psa-db-master", { node: "pve3" })), []],
        ["a grown disk and more memory", record, localWith(edit("psa-db-master", { diskGiB: 120, memoryMiB: 16384 })), []],
        ["a change to an app container", record, localWith(edit("psa-api-gateway", { node: "pve3" })), []],
        [
            "a moved database",
            record,
            localWith(edit("psa-db-master", { node: "pve3" })),
            ['cluster.containers[1].node: psa-db-master (CT 200) holds data; changing node from "pve2" to "pve3"'],
        ],
        [
            "a new template",
            record,
            localWith((c) => (c.template = NEW_TEMPLATE)),
            ["cluster.template: psa-db-master (CT 200) holds data; changing template", "cluster.template: psa-redis (CT 210) holds data; changing template"],
        ],
        [
            "a new template, the data containers pinned to their old one",
            record,
            localWith((c) => {
                c.template = NEW_TEMPLATE;
                edit("psa-db-master", { template: OLD_TEMPLATE })(c);
                edit("psa-redis", { template: OLD_TEMPLATE })(c);
            }),
            [],
        ],
        [
            "a new template on one pinned container",
            record,
            localWith(edit("psa-redis", { template: NEW_TEMPLATE })),
            ["cluster.containers[2].template: psa-redis (CT 210) holds data; changing template"],
        ],
        ["another datastore", record, localWith((c) => (c.datastore = "ceph-vm")), ["cluster.datastore: psa-db-master (CT 200)", "cluster.datastore: psa-redis (CT 210)"]],
        ["a shrunk disk", record, localWith(edit("psa-redis", { diskGiB: 8 })), ["cluster.containers[2].diskGiB: psa-redis (CT 210) holds data; shrinking the root disk from 16 GiB to 8 GiB"]],
        ["a removed database", record, localWith((c) => (c.containers = c.containers.filter((x) => x["name"] !== "psa-redis"))), ["cluster.containers: psa-redis (CT 210) holds data and is no longer declared"]],
        ["a database turned into an app", record, localWith(edit("psa-redis", { role: "app" })), ["cluster.containers[2].role: psa-redis (CT 210) holds data: changing its role to app"]],
    ])("against the last deployment: %s", (_case, previous, next, expected) => {
        const problems = checkClusterReplacements(previous, next).map((p) => `${p.path}: ${p.message}`);
        expect(problems).toHaveLength(expected.length);
        expected.forEach((start, i) => expect(problems[i]?.startsWith(start), problems[i]).toBe(true));
    });

    test("the template hint says how to keep a data container on its template", () => {
        const [problem] = checkClusterReplacements(record, localWith((c) => (c.template = NEW_TEMPLATE)));
        expect(problem?.message).toMatch(/pin this container to its old one \(`template` on the container\)$/);
    });

    test(`index.ts exports the record as the stack output ${REPLACEMENT_GUARD_OUTPUT}`, () => {
        const source = readFileSync(path.join(PROJECT_ROOT, "index.ts"), "utf8");
        expect(source).toMatch(new RegExp(`^export const ${REPLACEMENT_GUARD_OUTPUT} = platform\\.cluster\\.replacementGuardRecord;$`, "m"));
    });
});

describe("the cluster config keys the component adds", () => {
    const raw = (): Record<string, unknown> & { cluster: Record<string, unknown> } =>
        structuredClone(readStackConfig(path.join(PROJECT_ROOT, "Pulumi.production.yaml"))) as Record<string, unknown> & { cluster: Record<string, unknown> };

    test("production: the subnets behind the VLANs; HA rules unless told otherwise", () => {
        expect(production.subnets).toEqual({ management: "10.10.10.0/24", app: "10.10.20.0/24", db: "10.10.30.0/24", dmz: "10.10.40.0/24" });
        expect(production.haAffinity).toBe("rules");
    });

    test.each<[string, (c: Record<string, unknown>) => void, string[]]>([
        ["subnets may be left out (nothing opened from them)", (c) => delete c["subnets"], []],
        ["PVE 8 groups", (c) => (c["haAffinity"] = "groups"), []],
        ["an unknown HA kind", (c) => (c["haAffinity"] = "pools"), ['cluster.haAffinity: must be one of rules, groups, not "pools"']],
        ["PVE 8.4 with HA groups", (c) => Object.assign(c, { pveVersion: "8.4", haAffinity: "groups" }), []],
        ["PVE 9.1 with HA rules", (c) => Object.assign(c, { pveVersion: "9.1.2" }), []],
        ["PVE 8.4 with HA rules (it has none)", (c) => (c["pveVersion"] = "8.4"), ["cluster.haAffinity: PVE 8.4 has no HA rules (they came with PVE 9): use haAffinity: groups"]],
        [
            "PVE 9.1 with HA groups (it refuses new ones)",
            (c) => Object.assign(c, { pveVersion: "9.1", haAffinity: "groups" }),
            ["cluster.haAffinity: PVE 9.1 has migrated HA groups to rules and refuses new ones: use haAffinity: rules"],
        ],
        ["a version that is none", (c) => (c["pveVersion"] = "nine"), ["cluster.pveVersion: must be a Proxmox VE version such as 8.4 or 9.1"]],
        ["a subnet that is an address", (c) => (c["subnets"] = { management: "10.10.10.1" }), ["cluster.subnets.management: must be a network, e.g. 10.10.10.0/24"]],
        ["an unknown subnet role", (c) => (c["subnets"] = { storage: "10.10.50.0/24" }), ["cluster.subnets.storage: unknown key"]],
    ])("%s", (_case, edit, expected) => {
        const config = raw();
        edit(config.cluster);
        const result = checkPlatformConfig(config);
        expect(result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(expected);
    });
});
