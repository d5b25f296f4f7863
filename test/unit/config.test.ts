// The stack config: the three stack files parse, and every rule refuses a bad config with its exact message.
import { readFileSync } from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { TEST_HOST_KEY } from "../support/keys";

import {
    CONFIG_NAMESPACE,
    PlatformConfigError,
    SECRET_LIKE_KEY,
    checkPlatformConfig,
    findDependencyCycles,
    listDatabases,
    loadPlatformSpec,
    parsePlatformConfig,
    projectConfigKeys,
    readPlatformSecrets,
    requiredSecretKeys,
    topologicalOrder,
    type PlatformConfigReader,
    type PlatformSecretReader,
    type PlatformSpec,
    type platformConfigSchema,
} from "../../components/config/index";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const STACKS = ["local", "staging", "production"] as const;

/** What a stack file's `config:` holds, as the schema takes it in (before defaults). */
type RawConfig = z.input<typeof platformConfigSchema> & Record<string, unknown>;

/** A stack file's `config:` map with the `release-platform:` prefix taken off our keys. */
function readStackConfig(stack: string): RawConfig {
    const file = path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    const doc = parseYaml(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const prefix = `${CONFIG_NAMESPACE}:`;
    const entries = Object.entries(doc.config)
        .filter(([key]) => key.startsWith(prefix))
        .map(([key, value]) => [key.slice(prefix.length), value]);
    return Object.fromEntries(entries) as RawConfig;
}

function problemLines(raw: Readonly<Record<string, unknown>>): string[] {
    const result = checkPlatformConfig(raw);
    return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

/** The problems of production's config after one edit. */
function productionWith(edit: (config: RawConfig) => void): string[] {
    const config = structuredClone(readStackConfig("production"));
    edit(config);
    return problemLines(config);
}

function specOf(stack: string): PlatformSpec {
    return parsePlatformConfig(readStackConfig(stack));
}

/** The same data with every object's keys sorted, the way Pulumi hands structured config over. */
function sortKeysDeep(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortKeysDeep);
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(
            Object.keys(value)
                .sort()
                .map((key) => [key, sortKeysDeep((value as Record<string, unknown>)[key])]),
        );
    }
    return value;
}

/** A `pulumi.Config` stand-in over a raw config map, storing values as the engine does (JSON text). */
function fakeConfig(raw: Readonly<Record<string, unknown>>): PlatformConfigReader {
    const stored = new Map(
        Object.entries(raw).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(sortKeysDeep(value))]),
    );
    return {
        get: (key) => stored.get(key),
        getObject: <T>(key: string): T | undefined => {
            const text = stored.get(key);
            return text === undefined ? undefined : (JSON.parse(text) as T);
        },
    };
}

// pulumi.Config must satisfy the reader interfaces the loader asks for (checked by tsc).
const realConfigFits: PlatformConfigReader & PlatformSecretReader = new pulumi.Config(CONFIG_NAMESPACE);
void realConfigFits;

describe("the stack files", () => {
    test.each(STACKS)("Pulumi.%s.yaml parses and validates", (stack) => {
        expect(problemLines(readStackConfig(stack))).toEqual([]);
        expect(specOf(stack).environment).toBe(stack);
    });

    test.each(STACKS)("Pulumi.%s.yaml holds no secret in plain text", (stack) => {
        const file = readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8");
        const doc = parseYaml(file) as { config: Record<string, unknown> };
        // Any namespace's secret-looking key (ours, proxmoxve:apiToken, ...) must be encrypted.
        const plain = Object.entries(doc.config)
            .filter(([key]) => SECRET_LIKE_KEY.test(key))
            .filter(([, value]) => typeof (value as { secure?: unknown } | null)?.secure !== "string")
            .map(([key]) => key);
        expect(plain).toEqual([]);
        expect(file).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
    });

    test.each(STACKS)("Pulumi.%s.yaml gives the same spec whether its maps are sorted or not", (stack) => {
        const raw = readStackConfig(stack);
        expect(loadPlatformSpec(fakeConfig(raw))).toEqual(parsePlatformConfig(raw));
    });
});

describe("production", () => {
    const spec = specOf("production");

    test.each([
        ["plesk", "mariadb", ["main", "votes", "support", "newsletter", "forum"]],
        ["mariadb-ext", "mariadb", ["crm", "n8n", "hooks", "consent", "games", "analytics", "api_stg", "admin_stg", "nextcloud"]],
        ["postgres-ext", "postgresql", ["idp", "grafana", "discourse"]],
    ] as const)("server %s (%s) holds exactly %j", (server, engine, names) => {
        const found = spec.databases.servers.find((s) => s.name === server);
        expect(found?.engine).toBe(engine);
        expect(found?.databases.map((db) => db.name)).toEqual(names);
        expect(found?.databases.map((db) => db.database)).toEqual(names.map((n) => `mo_${n}`));
        expect(found?.databases.map((db) => db.user)).toEqual(names.map((n) => `svc_${n}`));
    });

    test("holds exactly 17 databases on 3 servers, plesk at its limit of 5", () => {
        expect(spec.databases.servers.map((s) => s.name)).toEqual(["mariadb-ext", "plesk", "postgres-ext"]);
        expect(listDatabases(spec.databases)).toHaveLength(17);
        expect(spec.databases.servers.find((s) => s.name === "plesk")?.maxDatabases).toBe(5);
    });

    test.each([
        [100, "psa-api-gateway", "app"],
        [101, "psa-crm", "app"],
        [102, "psa-tickets", "app"],
        [103, "psa-billing", "app"],
        [104, "psa-projects", "app"],
        [105, "psa-assets", "app"],
        [106, "psa-reports", "app"],
        [107, "psa-vcio", "app"],
        [108, "psa-workflows", "app"],
        [109, "psa-ai", "app"],
        [110, "psa-auth", "app"],
        [200, "psa-db-master", "db"],
        [201, "psa-db-replica-1", "db"],
        [210, "psa-redis", "cache"],
        [220, "psa-rabbitmq", "queue"],
        [230, "psa-elasticsearch", "search"],
    ] as const)("declares CT %i %s (%s)", (vmId, name, role) => {
        const container = spec.cluster.containers.find((c) => c.vmId === vmId);
        expect(container?.name).toBe(name);
        expect(container?.role).toBe(role);
        expect(container?.ha).toBe(true);
        // Every app container takes part in releases as a blue/green pair.
        expect(container?.blueGreen !== undefined).toBe(role === "app");
    });

    test("declares exactly the 16 containers on the 3 nodes, master and replica apart", () => {
        expect(spec.cluster.containers).toHaveLength(16);
        expect(spec.cluster.nodes).toEqual(["pve1", "pve2", "pve3"]);
        const nodeOf = (name: string) => spec.cluster.containers.find((c) => c.name === name)?.node;
        expect(nodeOf("psa-db-master")).not.toBe(nodeOf("psa-db-replica-1"));
    });

    test("releases migrations, then api, crm, frontend, games, admin, website, n8n; blue serves everything", () => {
        expect(spec.release.order).toEqual(["api", "crm", "frontend", "games", "admin", "website", "n8n"]);
        expect(spec.services.map((s) => s.name)).toEqual(spec.release.order);
        expect(spec.services.every((s) => s.weights.blue === 100 && s.weights.green === 0)).toBe(true);
        expect(spec.release.ladder).toEqual([0, 10, 50, 100]);
    });

    test("carries the inventory's gates, rollback triggers and monitoring bands", () => {
        expect(spec.release?.gates).toMatchObject({
            maxBackupAgeHours: 24,
            minApprovals: 1,
            maxOpenHighCriticalAlerts: 0,
            minCoveragePercent: 80,
            requireStagingFirst: true,
        });
        expect(spec.release.rollback).toEqual({
            maxErrorRatePercent: 5,
            baselineErrorRatePercent: 0.5,
            maxP95Ms: 2000,
            maxP95FactorOfNormal: 2,
            maxDownMinutes: 2,
        });
        expect(spec.release?.monitoring).toEqual({
            errorRatePercent: { normalBelow: 1, alertFrom: 2, criticalAbove: 5 },
            p95Ms: { normalBelow: 200, alertFrom: 200, criticalAbove: 500 },
        });
    });
});

describe("the spec derives what the config leaves out", () => {
    const production = specOf("production");
    const local = specOf("local");

    test.each([
        ["psa-api-gateway", { network: "app", vlanId: 20, ip: "10.10.20.100", prefixLength: 24, cores: 2, memoryMiB: 2048, startOrder: 30, stateful: false, blueGreen: { bluePort: 3000, greenPort: 3001 } }],
        ["psa-db-master", { network: "db", vlanId: 30, cores: 4, memoryMiB: 16384, swapMiB: 0, diskGiB: 200, startOrder: 10, stateful: true, blueGreen: undefined }],
        ["psa-db-replica-1", { startOrder: 11, stateful: true }],
        ["psa-redis", { network: "db", startOrder: 20, tags: ["psa", "redis"], nesting: false }],
    ] as const)("production container %s", (name, expected) => {
        expect(production.cluster.containers.find((c) => c.name === name)).toMatchObject(expected);
    });

    test("containers without sizes take the built-in role defaults", () => {
        expect(local.cluster.containers.find((c) => c.name === "psa-db-master")).toMatchObject({
            cores: 4,
            memoryMiB: 8192,
            swapMiB: 0,
            diskGiB: 100,
        });
    });

    test("services get health path, traffic name and ports filled in", () => {
        const api = local.services.find((s) => s.name === "api");
        expect(api).toMatchObject({
            healthPath: "/health",
            blue: { version: "1.0.0", address: "127.0.0.1:3000", host: "127.0.0.1", port: 3000 },
            green: { host: "127.0.0.1", port: 3001 },
            traffic: { backend: "haproxy", name: "api" },
            migrationCommand: undefined,
        });
        expect(local.release.order).toEqual(["api", "frontend"]);
    });

    test("only the local stack has a local section, filled with defaults", () => {
        expect(local.local).toEqual({
            runDir: "/tmp/release-platform",
            haproxy: { frontendAddress: "127.0.0.1:8080", statsAddress: "127.0.0.1:8404" },
            nginx: { listenAddress: "127.0.0.1:8081" },
        });
        expect(production.local).toBeUndefined();
    });
});

describe("a config with several mistakes", () => {
    test("fails with one problem per mistake, each naming its path", () => {
        const lines = productionWith((c) => {
            Object.assign(c.cluster.containers[2] ?? {}, { cpus: 4 }); // unknown key
            Object.assign(c.cluster.containers[3] ?? {}, { vmId: 100 }); // duplicate CT-ID
            c.databases.servers["plesk"]?.databases.push({ name: "shop", description: "Shop" }); // sixth on plesk
            Object.assign(c.services["crm"] ?? {}, { weights: { blue: 60, green: 60 } });
            Object.assign(c.services["api"] ?? {}, { dependsOn: ["crm"] }); // api -> crm -> api
        });
        expect(lines).toEqual([
            "cluster.containers[2].cpus: unknown key",
            "databases.servers.plesk.databases[5]: the plesk server allows at most 5 databases (has 6)",
            "cluster.containers[3].vmId: CT-ID 100 is already used by psa-api-gateway (cluster.containers[0])",
            "services.crm.weights: blue + green must be 100 (60 + 60 = 120)",
            "services.api.dependsOn: dependency cycle api -> crm -> api",
        ]);
    });

    test("the loader throws one PlatformConfigError listing them, one per line", () => {
        const raw = structuredClone(readStackConfig("production"));
        Object.assign(raw.cluster.containers[3] ?? {}, { vmId: 100 });
        Object.assign(raw.services["crm"] ?? {}, { weights: { blue: 60, green: 60 } });
        let error: unknown;
        try {
            loadPlatformSpec(fakeConfig(raw));
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(PlatformConfigError);
        expect((error as PlatformConfigError).message.split("\n")).toEqual([
            "the stack config has 2 problems:",
            "release-platform:cluster.containers[3].vmId: CT-ID 100 is already used by psa-api-gateway (cluster.containers[0])",
            "release-platform:services.crm.weights: blue + green must be 100 (60 + 60 = 120)",
        ]);
        expect((error as PlatformConfigError).problems).toHaveLength(2);
    });
});

const SECRETS_MESSAGE = "secrets come only from `pulumi config set --secret ...`, never from the structured config";

/** One rule broken per case, and the exact problems it must produce (nothing else). */
const RULES: [string, (c: RawConfig) => void, string[]][] = [
    // Shape
    [
        "an unknown key",
        (c) => Object.assign(c.databases.servers["plesk"]?.admin ?? {}, { hots: "x" }),
        ["databases.servers.plesk.admin.hots: unknown key"],
    ],
    [
        "an unknown top-level key",
        (c) => Object.assign(c, { databse: {} }),
        ["databse: unknown config key (expected one of environment, databases, cluster, services, release, local)"],
    ],
    ["a missing section", (c) => delete (c as Partial<RawConfig>).cluster, ["cluster: required"]],
    [
        "a missing field",
        (c) => delete (c.databases.servers["plesk"] as Record<string, unknown> | undefined)?.firewall,
        ["databases.servers.plesk.firewall: required (one of nftables, ufw, plesk, none)"],
    ],
    [
        "a wrong type",
        (c) => Object.assign(c.databases.servers["plesk"]?.admin ?? {}, { port: "3306" }),
        ['databases.servers.plesk.admin.port: must be a number, not "3306"'],
    ],
    [
        "an unknown environment",
        (c) => Object.assign(c, { environment: "prod" }),
        ['environment: must be one of local, staging, production, not "prod"'],
    ],
    // Secrets
    [
        "a password in the structured config",
        (c) => Object.assign(c.databases.servers["plesk"]?.admin ?? {}, { password: "hunter2" }),
        [`databases.servers.plesk.admin.password: ${SECRETS_MESSAGE}`],
    ],
    [
        "a token, a secret and a private key anywhere",
        (c) => {
            Object.assign(c.cluster, { apiToken: "x" });
            Object.assign(c.services["api"] ?? {}, { clientSecret: "x" });
            Object.assign(c.release?.traffic?.haproxy?.ssh ?? {}, { privateKey: "x" });
        },
        [
            `cluster.apiToken: ${SECRETS_MESSAGE}`,
            `services.api.clientSecret: ${SECRETS_MESSAGE}`,
            `release.traffic.haproxy.ssh.privateKey: ${SECRETS_MESSAGE}`,
        ],
    ],
    [
        "a secret key in plain text",
        (c) => Object.assign(c, { "dbAdminPassword.plesk": "hunter2" }),
        ["dbAdminPassword.plesk: is in plain text: set it with `pulumi config set --secret ...`"],
    ],
    // Databases
    [
        "a sixth database on plesk",
        (c) => c.databases.servers["plesk"]?.databases.push({ name: "shop", description: "Shop" }),
        ["databases.servers.plesk.databases[5]: the plesk server allows at most 5 databases (has 6)"],
    ],
    [
        "a database short name that is not ^[a-z][a-z0-9_]*$",
        (c) => Object.assign(c.databases.servers["plesk"]?.databases[4] ?? {}, { name: "Forum-2" }),
        ["databases.servers.plesk.databases[4].name: a database short name matches ^[a-z][a-z0-9_]*$ (it becomes mo_<name> and svc_<name>)"],
    ],
    [
        "a database short name too long for MySQL's user names",
        (c) => Object.assign(c.databases.servers["plesk"]?.databases[4] ?? {}, { name: "f".repeat(29) }),
        ["databases.servers.plesk.databases[4].name: a database short name has at most 28 characters (svc_<name> must fit MySQL's 32)"],
    ],
    [
        "an explicit database name other than mo_<name>",
        (c) => Object.assign(c.databases.servers["plesk"]?.databases[0] ?? {}, { database: "mo_mian", user: "svc_main" }),
        ["databases.servers.plesk.databases[0].database: must be mo_main: databases are named mo_<name> (got mo_mian)"],
    ],
    [
        "an explicit user name other than svc_<name>",
        (c) => Object.assign(c.databases.servers["plesk"]?.databases[0] ?? {}, { database: "mo_main", user: "main" }),
        ["databases.servers.plesk.databases[0].user: must be svc_main: service users are named svc_<name> (got main)"],
    ],
    [
        "a database declared on two servers",
        (c) => c.databases.servers["postgres-ext"]?.databases.push({ name: "main", description: "Website copy" }),
        ["databases.servers.postgres-ext.databases[3].name: database mo_main is already declared at databases.servers.plesk.databases[0]"],
    ],
    [
        "an app host of %",
        (c) => Object.assign(c.databases.servers["mariadb-ext"] ?? {}, { appHost: "%" }),
        ["databases.servers.mariadb-ext.appHost: the app host must be the one address allowed to connect, never a wildcard (`%`, 0.0.0.0/0)"],
    ],
    [
        "an app host of 0.0.0.0/0",
        (c) => Object.assign(c.databases.servers["postgres-ext"] ?? {}, { appHost: "0.0.0.0/0" }),
        ["databases.servers.postgres-ext.appHost: the app host must be the one address allowed to connect, never a wildcard (`%`, 0.0.0.0/0)"],
    ],
    [
        "an app host that is a network",
        (c) => Object.assign(c.databases.servers["plesk"] ?? {}, { appHost: "10.10.20.0/24" }),
        ["databases.servers.plesk.appHost: must be the app host's IPv4 address (one address, no CIDR)"],
    ],
    [
        "a host firewall without an ssh target",
        (c) => delete c.databases.servers["mariadb-ext"]?.ssh,
        ["databases.servers.mariadb-ext.ssh: the ufw firewall is managed over SSH: this server needs an ssh target"],
    ],
    [
        "a postgresql server without an ssh target",
        (c) => {
            Object.assign(c.databases.servers["postgres-ext"] ?? {}, { firewall: "none" });
            delete c.databases.servers["postgres-ext"]?.ssh;
        },
        ["databases.servers.postgres-ext.ssh: pg_hba.conf is managed over SSH: a postgresql server needs an ssh target"],
    ],
    [
        "a postgresql server without its version",
        (c) => delete c.databases.servers["postgres-ext"]?.version,
        ['databases.servers.postgres-ext.version: a postgresql server needs its major version (e.g. "15"): the provider then contacts the server only to make changes'],
    ],
    [
        "a production admin connection without TLS",
        (c) => Object.assign(c.databases.servers["plesk"]?.admin ?? {}, { tls: { mode: "disable" } }),
        ["databases.servers.plesk.admin.tls.mode: production admin connections must verify the server: verify-full with caFile (or verify-ca with a reason), not disable"],
    ],
    [
        "an admin connection that encrypts but trusts anyone (require: no such mode, on any stack)",
        (c) => Object.assign(c.databases.servers["postgres-ext"]?.admin ?? {}, { tls: { mode: "require" } }),
        ['databases.servers.postgres-ext.admin.tls.mode: must be one of disable, verify-ca, verify-full, not "require"'],
    ],
    [
        "verify-full without the CA that signed the server's certificate",
        (c) => Object.assign(c.databases.servers["plesk"]?.admin ?? {}, { tls: { mode: "verify-full" } }),
        ["databases.servers.plesk.admin.tls.caFile: verify-full needs the CA that signed the server's certificate (an absolute path on the machine that runs Pulumi)"],
    ],
    [
        "verify-ca without a reason",
        (c) => Object.assign(c.databases.servers["postgres-ext"]?.admin ?? {}, { tls: { mode: "verify-ca", caFile: "/etc/ca.crt" } }),
        ["databases.servers.postgres-ext.admin.tls.reason: verify-ca does not check the host name: say why verify-full cannot be used"],
    ],
    [
        "verify-ca on MariaDB",
        (c) => Object.assign(c.databases.servers["plesk"]?.admin ?? {}, { tls: { mode: "verify-ca", caFile: "/etc/ca.crt", reason: "shared certificate" } }),
        ["databases.servers.plesk.admin.tls.mode: verify-ca is for PostgreSQL: MariaDB's clients verify the certificate only with its host name, use verify-full"],
    ],
    [
        "an ssh target without a pinned host key",
        (c) => delete (c.databases.servers["mariadb-ext"]?.ssh as { hostKey?: string }).hostKey,
        [
            "databases.servers.mariadb-ext.ssh.hostKey: production pins every SSH host key: set it to the host's public key (`ssh-keyscan -t ed25519 -p <port> <host>`, checked against the host's own /etc/ssh/ssh_host_ed25519_key.pub)",
        ],
    ],
    [
        "a traffic ssh target without a pinned host key",
        (c) => delete (c.release?.traffic?.nginx?.ssh as { hostKey?: string }).hostKey,
        [
            "release.traffic.nginx.ssh.hostKey: production pins every SSH host key: set it to the host's public key (`ssh-keyscan -t ed25519 -p <port> <host>`, checked against the host's own /etc/ssh/ssh_host_ed25519_key.pub)",
        ],
    ],
    // Cluster
    [
        "a duplicate CT-ID",
        (c) => Object.assign(c.cluster.containers[12] ?? {}, { vmId: 200 }),
        ["cluster.containers[12].vmId: CT-ID 200 is already used by psa-db-master (cluster.containers[11])"],
    ],
    [
        "a duplicate container name",
        (c) => Object.assign(c.cluster.containers[1] ?? {}, { name: "psa-api-gateway" }),
        ["cluster.containers[1].name: container name psa-api-gateway is already used by cluster.containers[0]"],
    ],
    [
        "a CT-ID below 100",
        (c) => Object.assign(c.cluster.containers[0] ?? {}, { vmId: 99 }),
        ["cluster.containers[0].vmId: must be a CT-ID from 100 to 999999999"],
    ],
    [
        "a CT-ID above 999999999",
        (c) => Object.assign(c.cluster.containers[0] ?? {}, { vmId: 1_000_000_000 }),
        ["cluster.containers[0].vmId: must be a CT-ID from 100 to 999999999"],
    ],
    [
        "a container on an unknown node",
        (c) => Object.assign(c.cluster.containers[0] ?? {}, { node: "pve4" }),
        ['cluster.containers[0].node: unknown node "pve4" (cluster.nodes: pve1, pve2, pve3)'],
    ],
    [
        "a node listed twice",
        (c) => Object.assign(c.cluster, { nodes: ["pve1", "pve2", "pve3", "pve2"] }),
        ["cluster.nodes[3]: node pve2 is listed twice"],
    ],
    [
        "two containers on one address",
        (c) => Object.assign(c.cluster.containers[1] ?? {}, { ip: "10.10.20.100/24" }),
        ["cluster.containers[1].ip: address 10.10.20.100 is already used by psa-api-gateway"],
    ],
    [
        "a gateway outside the container's network",
        (c) => Object.assign(c.cluster.containers[0] ?? {}, { gateway: "10.10.30.1" }),
        ["cluster.containers[0].gateway: gateway 10.10.30.1 is outside 10.10.20.100/24"],
    ],
    [
        "an app container starting before the data services",
        (c) => Object.assign(c.cluster.containers[0] ?? {}, { startOrder: 5 }),
        ["cluster.containers[0].startOrder: an app container starts after the data services: 5 is not above psa-redis's 20"],
    ],
    [
        "blue/green ports on a container that is not blue/green",
        (c) => Object.assign(c.cluster.containers[11] ?? {}, { blueGreenPorts: { blue: 3000, green: 3001 } }),
        ["cluster.containers[11].blueGreenPorts: only a blueGreen container has blue/green ports (set blueGreen: true)"],
    ],
    [
        "blue and green on one port",
        (c) => Object.assign(c.cluster.containers[0] ?? {}, { blueGreenPorts: { blue: 3000, green: 3000 } }),
        ["cluster.containers[0].blueGreenPorts: blue and green need different ports (both 3000)"],
    ],
    [
        "two network roles on one VLAN",
        (c) => Object.assign(c.cluster.vlans, { dmz: 20 }),
        ["cluster.vlans.dmz: VLAN 20 is already used by app"],
    ],
    [
        "an uppercase tag",
        (c) => Object.assign(c.cluster.containers[0] ?? {}, { tags: ["PSA"] }),
        ["cluster.containers[0].tags[0]: tags are lowercase (Proxmox lowercases them, so an uppercase tag diffs forever)"],
    ],
    [
        "a plain http endpoint",
        (c) => Object.assign(c.cluster, { endpoint: "http://10.10.10.11:8006" }),
        ["cluster.endpoint: must be an https:// URL (the Proxmox provider only speaks HTTPS)"],
    ],
    [
        "an unverified Proxmox certificate in production",
        (c) => Object.assign(c.cluster, { insecure: true }),
        ["cluster.insecure: must be false: the Proxmox API certificate is always verified; give the API a certificate this machine trusts"],
    ],
    // Services
    [
        "weights 60/60",
        (c) => Object.assign(c.services["api"] ?? {}, { weights: { blue: 60, green: 60 } }),
        ["services.api.weights: blue + green must be 100 (60 + 60 = 120)"],
    ],
    [
        "a weight that is not a whole number from 0 to 100",
        (c) => Object.assign(c.services["api"] ?? {}, { weights: { blue: 99.5, green: 101 } }),
        [
            "services.api.weights.blue: must be a whole number from 0 to 100",
            "services.api.weights.green: must be a whole number from 0 to 100",
        ],
    ],
    [
        "a weight off the ladder",
        (c) => Object.assign(c.services["api"] ?? {}, { weights: { blue: 70, green: 30 } }),
        ["services.api.weights.green: 30 is not a step of release.ladder (0, 10, 50, 100)"],
    ],
    [
        "a dependency on an unknown service",
        (c) => Object.assign(c.services["crm"] ?? {}, { dependsOn: ["apii"] }),
        ['services.crm.dependsOn[0]: unknown service "apii"'],
    ],
    [
        "a dependency listed twice",
        (c) => Object.assign(c.services["crm"] ?? {}, { dependsOn: ["api", "api"] }),
        ["services.crm.dependsOn[1]: api is listed twice"],
    ],
    [
        "a dependency cycle",
        (c) => Object.assign(c.services["api"] ?? {}, { dependsOn: ["crm"] }),
        ["services.api.dependsOn: dependency cycle api -> crm -> api"],
    ],
    [
        "a longer dependency cycle",
        (c) => {
            Object.assign(c.services["website"] ?? {}, { dependsOn: ["crm"] });
            Object.assign(c.services["api"] ?? {}, { dependsOn: ["website"] });
        },
        ["services.api.dependsOn: dependency cycle api -> website -> crm -> api"],
    ],
    [
        "a service depending on itself",
        (c) => Object.assign(c.services["games"] ?? {}, { dependsOn: ["api", "games"] }),
        ["services.games.dependsOn: dependency cycle games -> games"],
    ],
    [
        "a service using an unknown database",
        (c) => Object.assign(c.services["api"] ?? {}, { databases: ["consnet"] }),
        ['services.api.databases[0]: unknown database "consnet" (no server declares it)'],
    ],
    [
        "blue and green on one address",
        (c) => Object.assign(c.services["api"]?.green ?? {}, { address: "10.10.20.10:3000" }),
        ["services.api.green.address: green must not share blue's address 10.10.20.10:3000: traffic could not be shifted"],
    ],
    [
        "an address without a port",
        (c) => Object.assign(c.services["api"]?.green ?? {}, { address: "10.10.20.10" }),
        ["services.api.green.address: must be host:port, e.g. 127.0.0.1:3000"],
    ],
    [
        "two services on one traffic backend",
        (c) => Object.assign(c.services["games"] ?? {}, { traffic: { backend: "haproxy", name: "api" } }),
        ["services.games.traffic.name: haproxy backend api is already used by service api"],
    ],
    [
        "a traffic backend that is not configured",
        (c) => delete c.release?.traffic?.nginx,
        [
            "services.admin.traffic.backend: nginx is not configured: add release.traffic.nginx",
            "services.frontend.traffic.backend: nginx is not configured: add release.traffic.nginx",
        ],
    ],
    // Release
    [
        "a release order that breaks a dependency",
        (c) => Object.assign(c.release ?? {}, { order: ["crm", "api", "frontend", "games", "admin", "website", "n8n"] }),
        ["release.order[0]: crm must come after api (crm dependsOn api)"],
    ],
    [
        "a release order that misses a service",
        (c) => Object.assign(c.release ?? {}, { order: ["api", "crm", "frontend", "games", "admin", "website"] }),
        ["release.order: must list every service; missing n8n"],
    ],
    [
        "a release order with an unknown or repeated service",
        (c) => Object.assign(c.release ?? {}, { order: ["api", "crm", "frontend", "games", "admin", "website", "n8n", "crm", "blog"] }),
        ["release.order[7]: crm is listed twice", 'release.order[8]: unknown service "blog"'],
    ],
    [
        "a ladder that does not rise from 0 to 100",
        (c) => Object.assign(c.release ?? {}, { ladder: [0, 50, 10, 100] }),
        ["release.ladder: must start at 0, rise strictly and end at 100 (got 0, 50, 10, 100)"],
    ],
    [
        "a ladder that stops short of 100",
        (c) => Object.assign(c.release ?? {}, { ladder: [0, 10, 50] }),
        ["release.ladder: must start at 0, rise strictly and end at 100 (got 0, 10, 50)"],
    ],
    [
        "monitoring bands out of order",
        (c) => Object.assign(c.release?.monitoring ?? {}, { p95Ms: { normalBelow: 200, alertFrom: 600, criticalAbove: 500 } }),
        ["release.monitoring.p95Ms: bands must rise: normalBelow <= alertFrom <= criticalAbove (got 200, 600, 500)"],
    ],
    [
        "an empty change window",
        (c) => Object.assign(c.release?.gates?.changeWindow ?? {}, { end: "09:00" }),
        ["release.gates.changeWindow.end: the change window is empty (starts and ends at 09:00)"],
    ],
    [
        "an unknown time zone and a bad time",
        (c) => Object.assign(c.release?.gates?.changeWindow ?? {}, { timezone: "Mars/Olympus", start: "9am" }),
        [
            "release.gates.changeWindow.start: must be a time HH:MM (24 h)",
            "release.gates.changeWindow.timezone: must be an IANA time zone, e.g. Europe/Vienna",
        ],
    ],
    // Environment
    [
        "a local section outside the local stack",
        (c) => Object.assign(c, { local: {} }),
        ["local: only the local stack has a local section (this is production)"],
    ],
];

describe("every rule, with its exact message", () => {
    test.each(RULES)("refuses %s", (_name, edit, expected) => {
        expect(productionWith(edit)).toEqual(expected);
    });

    test("accepts explicit database and user names that follow mo_<name> / svc_<name>", () => {
        expect(
            productionWith((c) => Object.assign(c.databases.servers["plesk"]?.databases[0] ?? {}, { database: "mo_main", user: "svc_main" })),
        ).toEqual([]);
    });

    test("accepts secret keys of ours when they are encrypted", () => {
        expect(productionWith((c) => Object.assign(c, { "dbAdminPassword.plesk": { secure: "v1:abc" } }))).toEqual([]);
    });

    test("reports an unreadable section once, by its key", () => {
        const reader: PlatformConfigReader = {
            ...fakeConfig(readStackConfig("local")),
            getObject: <T>(key: string): T | undefined => {
                if (key === "cluster") throw new Error("not JSON");
                return fakeConfig(readStackConfig("local")).getObject<T>(key);
            },
        };
        expect(() => loadPlatformSpec(reader)).toThrow(
            "the stack config has 1 problem:\nrelease-platform:cluster: cannot be read as structured config (not JSON)",
        );
    });
});

describe("secrets", () => {
    const production = specOf("production");

    test("the production stack needs these secret keys", () => {
        expect(requiredSecretKeys(production)).toEqual([
            "proxmoxApiToken",
            "dbAdminPassword.mariadb-ext",
            "dbAdminPassword.plesk",
            "dbAdminPassword.postgres-ext",
            "sshPrivateKey.mariadb-ext",
            "sshPrivateKey.plesk",
            "sshPrivateKey.postgres-ext",
            "sshPrivateKey.traffic.haproxy",
            "sshPrivateKey.traffic.nginx",
        ]);
    });

    test("a database with credentialSource config needs dbPassword.<name>", () => {
        const raw = structuredClone(readStackConfig("local"));
        Object.assign(raw.databases.servers["plesk"]?.databases[1] ?? {}, { credentialSource: "config" });
        expect(requiredSecretKeys(parsePlatformConfig(raw))).toContain("dbPassword.votes");
    });

    /** A secret reader over plain values; the Output is faked, the loader only passes it on. */
    function fakeSecrets(values: Record<string, string>): PlatformSecretReader {
        return {
            getSecret: (key) => (key in values ? (`secret(${values[key]})` as unknown as pulumi.Output<string>) : undefined),
        };
    }

    test("readPlatformSecrets returns each secret under its name", () => {
        const all = Object.fromEntries(requiredSecretKeys(production).map((key) => [key, key]));
        const secrets = readPlatformSecrets(fakeSecrets(all), production);
        expect(secrets.proxmoxApiToken).toBe("secret(proxmoxApiToken)");
        expect(Object.keys(secrets.dbAdminPasswords)).toEqual(["mariadb-ext", "plesk", "postgres-ext"]);
        expect(Object.keys(secrets.sshPrivateKeys)).toEqual(["mariadb-ext", "plesk", "postgres-ext", "traffic.haproxy", "traffic.nginx"]);
        expect(secrets.dbPasswords).toEqual({});
    });

    test("readPlatformSecrets names every missing secret in one error", () => {
        const some = Object.fromEntries(
            requiredSecretKeys(production)
                .filter((key) => key !== "proxmoxApiToken" && key !== "dbAdminPassword.plesk")
                .map((key) => [key, key]),
        );
        expect(() => readPlatformSecrets(fakeSecrets(some), production)).toThrow(
            [
                "the stack config has 2 problems:",
                "release-platform:proxmoxApiToken: missing secret: pulumi config set --secret proxmoxApiToken",
                "release-platform:dbAdminPassword.plesk: missing secret: pulumi config set --secret dbAdminPassword.plesk",
            ].join("\n"),
        );
    });
});

describe("dependency graph helpers", () => {
    const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

    test.each([
        ["no cycle", { api: [], crm: ["api"] }, []],
        ["a self-loop", { api: ["api"] }, [["api", "api"]]],
        ["a two-cycle found from either end", { crm: ["api"], api: ["crm"] }, [["api", "crm", "api"]]],
        ["one wrong edge closing two loops: the shortest, once", { api: ["website"], crm: ["api"], website: ["api", "crm"] }, [["api", "website", "api"]]],
        ["a long loop", { a: ["b"], b: ["c"], c: ["d"], d: ["a"] }, [["a", "b", "c", "d", "a"]]],
        ["two separate cycles", { a: ["b"], b: ["a"], c: ["d"], d: ["c"] }, [["a", "b", "a"], ["c", "d", "c"]]],
        ["an unknown dependency is no cycle", { api: ["db"] }, []],
    ])("findDependencyCycles: %s", (_name, edges, cycles) => {
        expect(findDependencyCycles(graph(edges))).toEqual(cycles);
    });

    test.each([
        ["ties break by name", { n8n: ["api"], crm: ["api"], api: [] }, [], ["api", "crm", "n8n"]],
        ["a preferred order breaks ties", { n8n: ["api"], crm: ["api"], api: [] }, ["n8n", "crm"], ["api", "n8n", "crm"]],
        ["dependencies beat preference", { api: [], crm: ["api"] }, ["crm", "api"], ["api", "crm"]],
        ["cycle members are left out", { a: ["b"], b: ["a"], c: [] }, [], ["c"]],
    ])("topologicalOrder: %s", (_name, edges, preferred, order) => {
        expect(topologicalOrder(graph(edges), preferred)).toEqual(order);
    });
});

describe("values that could reach a shell, ssh, socat, a file name or a record are refused at load, with their path", () => {
    const interpreterCases: [string, (c: RawConfig) => void, string][] = [
        [
            "an ssh user that ssh would read as an option",
            (c) => Object.assign(c.databases.servers["mariadb-ext"]?.ssh ?? {}, { user: "-oProxyCommand=touch /tmp/pwned" }),
            "databases.servers.mariadb-ext.ssh.user: must be a login name: lowercase letters, digits, '_' or '-', starting with a letter or '_', at most 32 characters",
        ],
        [
            "an ssh user with a shell character",
            (c) => Object.assign(c.release?.traffic?.haproxy?.ssh ?? {}, { user: "deploy;id" }),
            "release.traffic.haproxy.ssh.user: must be a login name: lowercase letters, digits, '_' or '-', starting with a letter or '_', at most 32 characters",
        ],
        [
            "an ssh host that starts like an option",
            (c) => Object.assign(c.databases.servers["plesk"]?.ssh ?? {}, { host: "-oProxyCommand=x" }),
            "databases.servers.plesk.ssh.host: must be a host name or an IPv4 address (letters, digits, '.', '-'; not starting with '-')",
        ],
        [
            "a host key with a second known_hosts line smuggled in",
            (c) => Object.assign(c.databases.servers["plesk"]?.ssh ?? {}, { hostKey: `${TEST_HOST_KEY}\n* ssh-ed25519 AAAA` }),
            "databases.servers.plesk.ssh.hostKey: must be the host's public key as `<type> <base64>` (e.g. `ssh-ed25519 AAAAC3Nza...`: the last two fields of `ssh-keyscan -t ed25519 -p <port> <host>`)",
        ],
        [
            "a host key whose base64 is not a key of its type",
            (c) => Object.assign(c.databases.servers["plesk"]?.ssh ?? {}, { hostKey: "ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ==" }),
            "databases.servers.plesk.ssh.hostKey: must be the host's public key as `<type> <base64>` (e.g. `ssh-ed25519 AAAAC3Nza...`: the last two fields of `ssh-keyscan -t ed25519 -p <port> <host>`)",
        ],
        [
            "a HAProxy admin address that socat would execute",
            (c) => Object.assign(c.release?.traffic?.haproxy ?? {}, { admin: "/run/haproxy/admin.sock!!EXEC:touch /tmp/pwned" }),
            "release.traffic.haproxy.admin: must be a unix socket path (an absolute path of plain segments) or host:port",
        ],
        [
            "a HAProxy admin address of another socat kind",
            (c) => Object.assign(c.release?.traffic?.haproxy ?? {}, { admin: "SYSTEM:id" }),
            "release.traffic.haproxy.admin: must be a unix socket path (an absolute path of plain segments) or host:port",
        ],
        [
            "a version with a path separator (it names the backup file)",
            (c) => Object.assign(c.services["api"]?.green ?? {}, { version: "1.2.0/x" }),
            "services.api.green.version: must be a semantic version (1.2.0) or a tag of letters, digits, '.', '_', '+' or '-' starting with a letter or digit (at most 128 characters)",
        ],
        [
            "a version with a quote (it goes into records)",
            (c) => Object.assign(c.services["api"]?.blue ?? {}, { version: 'v"1' }),
            "services.api.blue.version: must be a semantic version (1.2.0) or a tag of letters, digits, '.', '_', '+' or '-' starting with a letter or digit (at most 128 characters)",
        ],
        [
            "a backup location with a parent step",
            (c) => Object.assign(c.databases, { backups: { location: "/var/backups/../../etc" } }),
            "databases.backups.location: must be an absolute path of segments made of letters, digits, '.', '_', '+' or '-' (a segment starts with a letter, digit or '_'; no '..')",
        ],
        [
            "an upstream file with a shell substitution",
            (c) => Object.assign(c.release?.traffic?.nginx ?? {}, { upstreamFile: "/etc/nginx/$(id).conf" }),
            "release.traffic.nginx.upstreamFile: must be an absolute path of segments made of letters, digits, '.', '_', '+' or '-' (a segment starts with a letter, digit or '_'; no '..')",
        ],
        [
            "a health path with a query and a quote",
            (c) => Object.assign(c.services["api"] ?? {}, { healthPath: "/health?x='" }),
            "services.api.healthPath: must be a path starting with / of letters, digits, '.', '_', '~', '/' or '-'",
        ],
        [
            "an admin user with a space",
            (c) => Object.assign(c.databases.servers["plesk"]?.admin ?? {}, { user: "admin --skip-ssl" }),
            "databases.servers.plesk.admin.user: must be a user name of letters, digits, '_', '.' or '-', starting with a letter, digit or '_'",
        ],
    ];

    test.each(interpreterCases)("refuses %s", (_name, edit, line) => {
        expect(productionWith(edit)).toEqual([line]);
    });

    test("the committed stacks pass, with every ssh target pinned and every admin connection verified outside local", () => {
        for (const stack of ["staging", "production"]) {
            const spec = specOf(stack);
            for (const server of spec.databases.servers) {
                expect(server.admin.tls.mode, `${stack} ${server.name}`).toBe("verify-full");
                expect(server.admin.tls.caFile, `${stack} ${server.name}`).toBe("/etc/release-platform/db-ca.crt");
                expect(server.ssh?.hostKey, `${stack} ${server.name}`).toMatch(/^ssh-ed25519 AAAA/);
            }
        }
        for (const server of specOf("local").databases.servers) expect(server.admin.tls.mode).toBe("verify-full");
    });

    test("a stack key the loader does not know is named as unknown (a typo in a section name is not only 'required')", () => {
        const raw = readStackConfig("production");
        const { databases, ...rest } = raw;
        const misspelt: Record<string, unknown> = { ...rest, databasez: databases };
        const reader = {
            get: (key: string) => (key in misspelt ? (typeof misspelt[key] === "string" ? (misspelt[key] as string) : JSON.stringify(misspelt[key])) : undefined),
            getObject: <T,>(key: string) => misspelt[key] as T | undefined,
        };
        expect(() => loadPlatformSpec(reader, Object.keys(misspelt))).toThrow(
            /release-platform:databasez: unknown config key \(expected one of environment, databases, cluster, services, release, local\)/,
        );
        expect(projectConfigKeys({ "release-platform:databasez": "{}", "aws:region": "x", "release-platform:environment": "production" })).toEqual(["databasez", "environment"]);
    });
});
