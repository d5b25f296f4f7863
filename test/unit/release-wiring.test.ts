// The Release component's wiring under Pulumi mocks: which resources each stack gets, with what inputs, in what order.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, parsePlatformConfig, type PlatformSpec } from "../../components/config";
// Registers nothing when imported: every resource below is declared after setMocks.
import { ReleaseGate } from "../../components/release/gate";
import { gateInputs } from "../../components/release/gate-builder";
import { RELEASE_GATE_TYPE, type ReleaseGateInputs } from "../../components/release/gate-inputs";
import { Release } from "../../components/release/release";
import { DATA_CHANGE_TYPE } from "../../components/release/data-change";

interface Registered {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
const dependsOn = new Map<string, string[]>();

beforeAll(() => {
    pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
                // A data change records one backup per database it names.
                const databases = args.type === DATA_CHANGE_TYPE ? (revealed(args.inputs.databases) as unknown as { server: string; engine: string; database: string }[]) : [];
                const backups = databases.map((db) => ({ server: db.server, engine: db.engine, database: db.database, service: args.inputs.service, version: args.inputs.version, file: `${String(args.inputs.backupLocation)}/dump`, time: "2026-01-01T00:00:00Z", bytes: 1, sha256: "0".repeat(64) }));
                return { id: `${args.name}-id`, state: { ...args.inputs, observed: args.inputs.weights, backups } };
            },
            call: (args) => args.inputs,
        },
        "release-platform",
        "test",
        false,
    );
});

/** A value as the mocks see it, with the secret wrapper taken off. */
function revealed(value: unknown): Record<string, unknown> | unknown[] {
    const record = (value ?? {}) as Record<string, unknown>;
    return (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig ? record.value : record) as Record<string, unknown>;
}

function specOf(stack: string): PlatformSpec {
    const doc = parseYaml(readFileSync(path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(
        Object.entries(doc.config)
            .filter(([key]) => key.startsWith(`${CONFIG_NAMESPACE}:`))
            .map(([key, value]) => [key.slice(CONFIG_NAMESPACE.length + 1), value]),
    );
    return parsePlatformConfig(raw);
}

/** The host key production pins for an ssh target (from Pulumi.production.yaml). */
function productionHostKey(host: string): string | undefined {
    const spec = specOf("production");
    const targets = [...spec.databases.servers.flatMap((s) => (s.ssh ? [s.ssh] : [])), spec.release.traffic.haproxy?.ssh, spec.release.traffic.nginx?.ssh];
    return targets.find((t) => t?.host === host)?.hostKey;
}

/** Declares a Release for a stack's spec; resolves once every registration has gone out. */
async function declare(stack: string, edit: (spec: PlatformSpec) => void = () => undefined) {
    registered.length = 0;
    dependsOn.clear();
    const spec = specOf(stack);
    edit(spec);
    const keys = { "traffic.haproxy": pulumi.secret("haproxy-key"), "traffic.nginx": pulumi.secret("nginx-key") };
    const inputs = gateInputs({
        spec,
        context: { stack, evidenceFile: `.release-evidence/${stack}.json`, read: { evidence: null, problem: "missing" }, commit: "0".repeat(40) },
        previousServices: undefined,
        previousGuard: undefined,
    });
    const gate = new ReleaseGate("release-gate", inputs);
    const release = new Release(
        `release-${stack}`,
        {
            services: spec.services,
            release: spec.release,
            gate,
            sshPrivateKeys: keys,
            localAppsDir: spec.local ? `${spec.local.runDir}/apps` : undefined,
            databases: spec.databases,
            adminPasswords: Object.fromEntries(spec.databases.servers.map((server) => [server.name, pulumi.secret(`${server.name}-admin-password`)])),
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
    const services = await new Promise<unknown>((resolve) => release.services.apply(resolve));
    return { release, services, spec, inputs };
}

/** Every resource the release registers below its services (commands and traffic resources). */
const releaseSteps = () => registered.filter((r) => r.type === "command:local:Command" || (r.type.startsWith("pulumi-nodejs:dynamic/release:") && r.type !== RELEASE_GATE_TYPE));

describe("Release wiring", () => {
    test("production: one traffic resource per service on its backend, no local deploy step, in release order", async () => {
        const { release } = await declare("production");
        expect(release.order).toEqual(["api", "crm", "frontend", "games", "admin", "website", "n8n"]);
        const traffic = registered.filter((r) => r.name.endsWith("-traffic")).map((r) => `${r.type.split(":").pop() ?? ""} ${r.name}`);
        expect(traffic.sort()).toEqual(
            [
                "HaproxyWeights release-production-api-traffic",
                "HaproxyWeights release-production-crm-traffic",
                "HaproxyWeights release-production-games-traffic",
                "HaproxyWeights release-production-n8n-traffic",
                "HaproxyWeights release-production-website-traffic",
                "NginxWeights release-production-admin-traffic",
                "NginxWeights release-production-frontend-traffic",
            ].sort(),
        );
        expect(registered.filter((r) => r.name.endsWith("-deploy"))).toEqual([]);
    });

    test("production: the api's weights carry what the gate and the runtime API need, the ssh key as a secret", async () => {
        await declare("production");
        const api = registered.find((r) => r.name === "release-production-api-traffic");
        const { __provider: provider, ssh, ...inputs } = api?.inputs ?? {};
        expect(typeof provider).toBe("string");
        // Marked secret for the engine (so the state holds it encrypted).
        expect(ssh).toEqual({
            [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
            value: { host: "10.10.40.5", port: 22, user: "deploy", privateKey: "haproxy-key", hostKey: productionHostKey("10.10.40.5") },
        });
        expect(inputs).toEqual({
            service: "api",
            backend: "api",
            admin: "/run/haproxy/admin.sock",
            serverStateFile: "/var/lib/haproxy/server-state",
            blue: { version: "1.0.0", address: "10.10.20.10:3000", healthUrl: "http://10.10.20.10:3000/health" },
            green: { version: "1.0.0", address: "10.10.20.10:3001", healthUrl: "http://10.10.20.10:3001/health" },
            weights: { blue: 100, green: 0 },
            ladder: [0, 10, 50, 100],
            healthGate: { timeoutSeconds: 60, intervalSeconds: 5, retries: 5 },
            drainSeconds: 30,
        });
    });

    test.each([["production", 30], ["local", 1]])("%s: every traffic resource carries the stack's drain time (%s s)", async (stack, seconds) => {
        await declare(stack);
        const traffic = registered.filter((r) => r.name.endsWith("-traffic"));
        expect(traffic.length).toBeGreaterThan(0);
        expect(traffic.map((r) => r.inputs.drainSeconds)).toEqual(traffic.map(() => seconds));
    });

    test.each(["production", "local"])("%s: the gate is registered with the plain inputs gateInputs built, and every release step depends on it", async (stack) => {
        const { inputs, spec } = await declare(stack);
        const gates = registered.filter((r) => r.type === RELEASE_GATE_TYPE);
        expect(gates.map((g) => g.name)).toEqual(["release-gate"]);
        const { __provider: provider, ...recorded } = gates[0]?.inputs ?? {};
        expect(typeof provider).toBe("string");
        expect(recorded).toEqual(JSON.parse(JSON.stringify(inputs)) as ReleaseGateInputs);
        const steps = releaseSteps();
        // Per service: its data change (backups, then migration), its traffic resource, and on the local stack a deploy per colour.
        const expected = spec.services.reduce((n) => n + 2 + (spec.local ? 2 : 0), 0);
        expect(steps.length).toBe(expected);
        expect(expected).toBeGreaterThan(stack === "production" ? 13 : 5);
        const withoutGate = steps.filter((step) => !(dependsOn.get(step.name) ?? []).includes("release-gate")).map((step) => step.name);
        expect(withoutGate).toEqual([]);
    });

    test("each service waits for its dependencies and for the service released before it", async () => {
        await declare("production");
        const name = (s: string) => `release-production-${s}`;
        expect(dependsOn.get(name("api"))).toEqual([]);
        expect(dependsOn.get(name("crm"))).toEqual([name("api")]);
        expect(dependsOn.get(name("frontend"))).toEqual([name("api"), name("crm")]);
        expect(dependsOn.get(name("website"))).toEqual([name("api"), name("crm"), name("admin")]);
        expect(dependsOn.get(name("n8n"))).toEqual(["api", "crm", "frontend", "games", "admin", "website"].map(name));
    });

    test("local: each colour is deployed (its version written for the app) before the traffic moves", async () => {
        await declare("local");
        const deploys = registered.filter((r) => r.type === "command:local:Command" && r.name.endsWith("-deploy")).map((r) => [r.name, (r.inputs.environment as Record<string, string>)]);
        expect(deploys).toEqual([
            ["release-local-api-blue-deploy", { VERSION: "1.0.0", FILE: "/tmp/release-platform/apps/api-blue.version" }],
            ["release-local-api-green-deploy", { VERSION: "1.0.0", FILE: "/tmp/release-platform/apps/api-green.version" }],
            ["release-local-frontend-blue-deploy", { VERSION: "1.0.0", FILE: "/tmp/release-platform/apps/frontend-blue.version" }],
            ["release-local-frontend-green-deploy", { VERSION: "1.0.0", FILE: "/tmp/release-platform/apps/frontend-green.version" }],
        ]);
        // Backups and migration, then the deploys, then traffic: a failed backup leaves green's version where it was.
        expect(dependsOn.get("release-local-api-green-deploy")).toEqual(["release-gate", "release-local-api-data"]);
        expect(dependsOn.get("release-local-api-traffic")).toEqual([
            "release-gate",
            "release-local-api-data",
            "release-local-api-blue-deploy",
            "release-local-api-green-deploy",
        ]);
        // The deploy script runs with an explicit environment, not the engine's.
        const deploy = registered.find((r) => r.name === "release-local-api-green-deploy");
        expect(String(deploy?.inputs.create)).toMatch(/^exec env -i PATH="\$PATH" VERSION="\$VERSION" FILE="\$FILE" \/bin\/sh -c '/);
        const frontend = registered.find((r) => r.name === "release-local-frontend-traffic");
        expect(frontend?.type).toBe("pulumi-nodejs:dynamic/release:NginxWeights");
        expect(frontend?.inputs).toMatchObject({
            upstream: "frontend",
            upstreamFile: "/tmp/release-platform/nginx/upstreams.conf",
            testCommand: "nginx -q -t -c /tmp/release-platform/nginx/nginx.conf",
            reloadCommand: "nginx -c /tmp/release-platform/nginx/nginx.conf -s reload",
        });
        expect(frontend?.inputs.ssh).toBeUndefined();
    });

    test("the stack output lists each service's versions and read-back weights", async () => {
        const { services } = await declare("local");
        expect(services).toEqual({
            api: { backend: "haproxy", blue: { version: "1.0.0", address: "127.0.0.1:3000", weight: 100 }, green: { version: "1.0.0", address: "127.0.0.1:3001", weight: 0 }, commands: {} },
            frontend: {
                backend: "nginx",
                blue: { version: "1.0.0", address: "127.0.0.1:3010", weight: 100 },
                green: { version: "1.0.0", address: "127.0.0.1:3011", weight: 0 },
                commands: { nginxTest: "nginx -q -t -c /tmp/release-platform/nginx/nginx.conf", nginxReload: "nginx -c /tmp/release-platform/nginx/nginx.conf -s reload" },
            },
        });
    });

    test("production api: one data change (a backup per database, then the migration) before the traffic, once per target version", async () => {
        await declare("production");
        const name = (s: string) => `release-production-api-${s}`;
        const changes = registered.filter((r) => r.type === DATA_CHANGE_TYPE && r.name.startsWith(name("")));
        expect(changes.map((r) => r.name)).toEqual([name("data")]);
        const { databases, __provider: provider, ...inputs } = changes[0]?.inputs ?? {};
        expect(typeof provider).toBe("string");
        expect(inputs).toEqual({
            service: "api",
            version: "1.0.0",
            targets: [
                { server: "mariadb-ext", database: "mo_consent" },
                { server: "mariadb-ext", database: "mo_hooks" },
                { server: "mariadb-ext", database: "mo_analytics" },
            ],
            backupLocation: "/var/backups/release-platform",
            retentionDays: 30,
            migrationCommand: "alembic upgrade head",
            colour: "green",
            address: "10.10.20.10:3001",
        });
        // The databases carry the admin password, so the whole list is a secret.
        expect((databases as Record<string, unknown>)[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
        const list = revealed(databases) as Record<string, unknown>[];
        expect(list.map((db) => db.database)).toEqual(["mo_consent", "mo_hooks", "mo_analytics"]);
        expect(list[0]).toEqual({
            server: "mariadb-ext",
            engine: "mariadb",
            database: "mo_consent",
            service: "api",
            version: "1.0.0",
            host: "10.10.30.21",
            port: 3306,
            user: "admin",
            tls: "verify-full",
            caFile: "/etc/release-platform/db-ca.crt",
            password: "mariadb-ext-admin-password",
        });
        expect(dependsOn.get(name("data"))).toEqual(["release-gate"]);
        expect(dependsOn.get(name("traffic"))).toEqual(["release-gate", name("data")]);
    });

    test("the release lists every backup record (the stack output `backups`)", async () => {
        const { release } = await declare("production");
        const records = await new Promise<{ database: string; service: string }[]>((resolve) => release.backups.apply(resolve));
        expect(records.map((r) => `${r.service} ${r.database}`)).toEqual([
            "api mo_consent",
            "api mo_hooks",
            "api mo_analytics",
            "crm mo_crm",
            "games mo_games",
            "website mo_main",
            "website mo_votes",
            "website mo_support",
            "website mo_newsletter",
            "website mo_forum",
            "n8n mo_n8n",
        ]);
    });

    test("a PostgreSQL database is backed up over the server's verified TLS", async () => {
        await declare("production");
        const all = registered.filter((r) => r.type === DATA_CHANGE_TYPE).flatMap((r) => revealed(r.inputs.databases) as Record<string, unknown>[]);
        expect(all.filter((db) => db.database === "mo_grafana")).toHaveLength(0); // no service lists grafana
        await declare("local");
        const change = registered.find((r) => r.name === "release-local-api-data");
        expect((revealed(change?.inputs.databases) as Record<string, unknown>[]).find((db) => db.database === "mo_idp")).toMatchObject({
            server: "postgres-ext",
            engine: "postgresql",
            tls: "verify-full",
            caFile: "/var/lib/release-platform/tls/ca.crt",
        });
        expect(change?.inputs.backupLocation).toBe("/tmp/release-platform/backups");
    });

    test("a service on a backend that does not exist yet (kubernetes) is refused by name", async () => {
        await expect(
            declare("local", (spec) => {
                const api = spec.services[0];
                if (api) api.traffic = { backend: "kubernetes", name: "api" };
            }),
        ).rejects.toThrow("services.api.traffic.backend: the kubernetes backend is not available yet");
    });
});
