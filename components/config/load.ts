// Reads the stack config once into a validated, plain PlatformSpec, and its secrets apart from it.
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";

import {
    DEFAULT_BLUE_GREEN_PORTS,
    DEFAULT_START_ORDER,
    REQUIRED_SECTIONS,
    describeIssue,
    sectionSchemas,
    type ClusterConfig,
    type ContainerConfig,
    type ContainerRole,
    type ContainerSize,
    type CredentialSource,
    type DatabaseEngine,
    type DatabaseServerConfig,
    type DatabasesConfig,
    type Environment,
    type FirewallKind,
    type HaAffinityKind,
    type LocalConfig,
    type NetworkRole,
    type ReleaseConfig,
    type SectionName,
    type ServiceConfig,
    type ServicesConfig,
    type TlsMode,
    type TrafficBackend,
} from "./schema";
import {
    PLAINTEXT_SECRET_MESSAGE,
    SECRET_LIKE_KEY,
    databaseNameFor,
    databaseUserFor,
    findSecretLikeKeys,
    formatPath,
    topologicalOrder,
    validatePlatformConfig,
    type ConfigProblem,
    type ParsedSections,
    type PathSegment,
} from "./validate";

/** The Pulumi project name: every key of ours is `release-platform:<key>`. */
export const CONFIG_NAMESPACE = "release-platform";

// ---------------------------------------------------------------------------------------------
// The spec the components receive: plain data, defaults filled in, names derived.
// ---------------------------------------------------------------------------------------------

export interface SshTarget {
    host: string;
    port: number;
    user: string;
    /** The host's pinned public key (`<type> <base64>`); required outside the local stack. */
    hostKey?: string | undefined;
}

export interface DatabaseSpec {
    /** Short name `x`. */
    name: string;
    /** `mo_x`. */
    database: string;
    /** `svc_x`. */
    user: string;
    description: string;
    /** The server it lives on. */
    server: string;
    engine: DatabaseEngine;
    credentialSource: CredentialSource;
}

export interface DatabaseServerSpec {
    name: string;
    engine: DatabaseEngine;
    version: string | undefined;
    admin: { host: string; port: number; user: string; tls: { mode: TlsMode; caFile: string | undefined; reason?: string | undefined } };
    appHost: string;
    ssh: SshTarget | undefined;
    firewall: FirewallKind;
    maxDatabases: number | undefined;
    databases: DatabaseSpec[];
}

export interface DatabaseFleetSpec {
    /** Sorted by name (Pulumi hands maps over with sorted keys; tests read YAML in file order). */
    servers: DatabaseServerSpec[];
    backups: { localRetentionDays: number; location: string };
}

export interface ContainerSpec extends ContainerSize {
    vmId: number;
    name: string;
    role: ContainerRole;
    node: string;
    network: NetworkRole;
    vlanId: number;
    /** As configured, e.g. 10.10.20.100/24 (what `initialization.ipConfigs[].ipv4.address` takes). */
    cidr: string;
    ip: string;
    prefixLength: number;
    gateway: string;
    nesting: boolean;
    /** Lowercase, sorted, unique: the way Proxmox stores them, so they never diff. */
    tags: string[];
    ha: boolean;
    startOrder: number;
    /** Holds data (every role but app): guard it against replacement. */
    stateful: boolean;
    /** Set when the container runs a blue and a green instance of its app. */
    blueGreen: { bluePort: number; greenPort: number } | undefined;
    description: string | undefined;
    /** Template volume id: the container's own, else `cluster.template`. */
    template: string;
}

export interface ClusterSpec {
    endpoint: string;
    nodes: string[];
    datastore: string;
    template: string;
    bridge: string;
    pool: string | undefined;
    dns: { domain: string | undefined; servers: string[] } | undefined;
    vlans: Record<NetworkRole, number>;
    /** The networks behind the VLANs, where configured (firewall sources). */
    subnets: Partial<Record<NetworkRole, string>>;
    haAffinity: HaAffinityKind;
    roleDefaults: Record<ContainerRole, ContainerSize>;
    /** In config order. */
    containers: ContainerSpec[];
}

export interface ColourSpec {
    version: string;
    /** host:port */
    address: string;
    host: string;
    port: number;
}

export interface ServiceSpec {
    name: string;
    blue: ColourSpec;
    green: ColourSpec;
    weights: { blue: number; green: number };
    healthPath: string;
    dependsOn: string[];
    /** Short names. */
    databases: string[];
    migrationCommand: string | undefined;
    traffic: { backend: TrafficBackend; name: string };
}

export type ReleaseSpec = Omit<ReleaseConfig, "order"> & {
    /** Every service, dependencies first (migrations run before all of them). */
    order: string[];
};
export type LocalSpec = LocalConfig;

export interface PlatformSpec {
    environment: Environment;
    databases: DatabaseFleetSpec;
    cluster: ClusterSpec;
    /** In release order (`release.order`). */
    services: ServiceSpec[];
    release: ReleaseSpec;
    /** Only for the local stack. */
    local: LocalSpec | undefined;
}

/** Every database of every server, in config order. */
export function listDatabases(fleet: DatabaseFleetSpec): DatabaseSpec[] {
    return fleet.servers.flatMap((server) => server.databases);
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

export function formatProblems(problems: readonly ConfigProblem[]): string {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const lines = problems.map((p) => `${CONFIG_NAMESPACE}:${p.path}: ${p.message}`);
    return [`the stack config has ${count}:`, ...lines].join("\n");
}

/** The one error a bad config raises, before any resource is registered. */
export class PlatformConfigError extends Error {
    readonly problems: readonly ConfigProblem[];

    constructor(problems: readonly ConfigProblem[]) {
        super(formatProblems(problems));
        this.name = "PlatformConfigError";
        this.problems = problems;
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing (pure: no Pulumi engine needed)
// ---------------------------------------------------------------------------------------------

const SECTION_NAMES = Object.keys(sectionSchemas) as SectionName[];

/** Secret keys of ours: they sit beside the sections in the stack file and are read apart from them. */
const SECRET_CONFIG_KEY = /^(proxmoxApiToken|dbAdminPassword\.[^.]+|dbPassword\.[^.]+|sshPrivateKey\..+)$/;

export type ParseResult = { ok: true; spec: PlatformSpec } | { ok: false; problems: ConfigProblem[] };

function isEncrypted(value: unknown): boolean {
    return typeof value === "object" && value !== null && typeof (value as { secure?: unknown }).secure === "string";
}

function toSegments(path: readonly PropertyKey[]): PathSegment[] {
    return path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
}

function deleteAt(root: unknown, path: readonly PathSegment[], key: string): void {
    let node: unknown = root;
    for (const segment of path) {
        if (node === null || typeof node !== "object") return;
        node = (node as Record<PathSegment, unknown>)[segment];
    }
    if (node !== null && typeof node === "object") delete (node as Record<string, unknown>)[key];
}

/**
 * Parses one section strictly. Unknown keys are reported, then dropped and the section parsed
 * again, so a typo does not hide the section from the cross-field rules.
 */
function parseSection<S extends z.ZodType>(
    schema: S,
    value: unknown,
    base: PathSegment[],
): { data: z.output<S> | undefined; problems: ConfigProblem[] } {
    const first = schema.safeParse(value, { error: describeIssue });
    if (first.success) return { data: first.data, problems: [] };

    const problems: ConfigProblem[] = [];
    const unknownKeys = first.error.issues.filter((issue) => issue.code === "unrecognized_keys");
    if (unknownKeys.length === 0) {
        return { data: undefined, problems: first.error.issues.map((issue) => issueToProblem(base, issue)) };
    }
    const cleaned: unknown = structuredClone(value);
    for (const issue of unknownKeys) {
        const at = toSegments(issue.path);
        for (const key of issue.keys) {
            // A credential-like key was already reported as such; "unknown key" would say it twice.
            if (!SECRET_LIKE_KEY.test(key)) problems.push({ path: formatPath([...base, ...at, key]), message: "unknown key" });
            deleteAt(cleaned, at, key);
        }
    }
    const second = schema.safeParse(cleaned, { error: describeIssue });
    if (second.success) return { data: second.data, problems };
    return { data: undefined, problems: [...problems, ...second.error.issues.map((issue) => issueToProblem(base, issue))] };
}

function issueToProblem(base: PathSegment[], issue: z.core.$ZodIssue): ConfigProblem {
    return { path: formatPath([...base, ...toSegments(issue.path)]), message: issue.message };
}

/**
 * Checks a raw config map (keys without the `release-platform:` prefix, values as YAML/JSON gives
 * them) and either returns the spec or every problem found.
 */
export function checkPlatformConfig(raw: Readonly<Record<string, unknown>>): ParseResult {
    const problems: ConfigProblem[] = [];

    for (const [key, value] of Object.entries(raw)) {
        if ((SECTION_NAMES as string[]).includes(key)) continue;
        if (SECRET_CONFIG_KEY.test(key) || SECRET_LIKE_KEY.test(key)) {
            // Stack files carry secrets as `{ secure: ... }`; a plain value here was set without --secret.
            if (!isEncrypted(value)) problems.push({ path: key, message: PLAINTEXT_SECRET_MESSAGE });
            continue;
        }
        problems.push({ path: key, message: `unknown config key (expected one of ${SECTION_NAMES.join(", ")})` });
    }

    const sections: ParsedSections = { hasLocalKey: "local" in raw };
    const parsed: Partial<Record<SectionName, unknown>> = {};
    for (const name of SECTION_NAMES) {
        if (!(name in raw)) {
            if (REQUIRED_SECTIONS.includes(name)) problems.push({ path: name, message: "required" });
            continue;
        }
        const value = raw[name];
        problems.push(...findSecretLikeKeys(value, [name]));
        const result = parseSection(sectionSchemas[name], value, [name]);
        problems.push(...result.problems);
        if (result.data !== undefined) parsed[name] = result.data;
    }
    if (!("release" in raw)) parsed.release = sectionSchemas.release.parse({});

    sections.environment = parsed.environment as Environment | undefined;
    sections.databases = parsed.databases as DatabasesConfig | undefined;
    sections.cluster = parsed.cluster as ClusterConfig | undefined;
    sections.services = parsed.services as ServicesConfig | undefined;
    sections.release = parsed.release as ReleaseConfig | undefined;
    sections.local = parsed.local as LocalConfig | undefined;
    problems.push(...validatePlatformConfig(sections));

    const { environment, databases, cluster, services, release } = sections;
    if (problems.length > 0 || !environment || !databases || !cluster || !services || !release) {
        return { ok: false, problems };
    }
    const local = sections.local ?? (environment === "local" ? sectionSchemas.local.parse({}) : undefined);
    return { ok: true, spec: resolveSpec(environment, databases, cluster, services, release, local) };
}

/** Like `checkPlatformConfig`, but throws one `PlatformConfigError` listing every problem. */
export function parsePlatformConfig(raw: Readonly<Record<string, unknown>>): PlatformSpec {
    const result = checkPlatformConfig(raw);
    if (!result.ok) throw new PlatformConfigError(result.problems);
    return result.spec;
}

function splitAddress(address: string): { host: string; port: number } {
    const colon = address.lastIndexOf(":");
    return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

function sshTarget(ssh: { host: string; port: number; user: string; hostKey?: string | undefined }): SshTarget {
    return { host: ssh.host, port: ssh.port, user: ssh.user, hostKey: ssh.hostKey };
}

function byName(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

function resolveServer(name: string, server: DatabaseServerConfig): DatabaseServerSpec {
    return {
        name,
        engine: server.engine,
        version: server.version,
        admin: {
            host: server.admin.host,
            port: server.admin.port,
            user: server.admin.user,
            tls: { mode: server.admin.tls.mode, caFile: server.admin.tls.caFile, reason: server.admin.tls.reason },
        },
        appHost: server.appHost.trim(),
        ssh: server.ssh ? sshTarget(server.ssh) : undefined,
        firewall: server.firewall,
        maxDatabases: server.maxDatabases,
        databases: server.databases.map((db) => ({
            name: db.name,
            database: databaseNameFor(db.name),
            user: databaseUserFor(db.name),
            description: db.description,
            server: name,
            engine: server.engine,
            credentialSource: db.credentialSource,
        })),
    };
}

function resolveContainer(cluster: ClusterConfig, c: ContainerConfig): ContainerSpec {
    const [ip = "", prefix = "32"] = c.ip.split("/");
    const sizes = cluster.roleDefaults[c.role];
    const network: NetworkRole = c.network ?? (c.role === "app" ? "app" : "db");
    const blueGreen = c.blueGreen
        ? {
              bluePort: c.blueGreenPorts?.blue ?? DEFAULT_BLUE_GREEN_PORTS.blue,
              greenPort: c.blueGreenPorts?.green ?? DEFAULT_BLUE_GREEN_PORTS.green,
          }
        : undefined;
    return {
        vmId: c.vmId,
        name: c.name,
        role: c.role,
        node: c.node,
        network,
        vlanId: cluster.vlans[network],
        cidr: c.ip,
        ip,
        prefixLength: Number(prefix),
        gateway: c.gateway,
        cores: c.cores ?? sizes.cores,
        memoryMiB: c.memoryMiB ?? sizes.memoryMiB,
        swapMiB: c.swapMiB ?? sizes.swapMiB,
        diskGiB: c.diskGiB ?? sizes.diskGiB,
        nesting: c.nesting,
        tags: [...new Set(c.tags)].sort(),
        ha: c.ha,
        startOrder: c.startOrder ?? DEFAULT_START_ORDER[c.role],
        stateful: c.role !== "app",
        blueGreen,
        description: c.description,
        template: c.template ?? cluster.template,
    };
}

function resolveService(name: string, s: ServiceConfig): ServiceSpec {
    return {
        name,
        blue: { version: s.blue.version, address: s.blue.address, ...splitAddress(s.blue.address) },
        green: { version: s.green.version, address: s.green.address, ...splitAddress(s.green.address) },
        weights: { ...s.weights },
        healthPath: s.healthPath,
        dependsOn: [...s.dependsOn],
        databases: [...s.databases],
        migrationCommand: s.migrationCommand,
        traffic: { backend: s.traffic.backend, name: s.traffic.name ?? name },
    };
}

function resolveSpec(
    environment: Environment,
    databases: DatabasesConfig,
    cluster: ClusterConfig,
    services: ServicesConfig,
    release: ReleaseConfig,
    local: LocalConfig | undefined,
): PlatformSpec {
    // A configured order was checked against dependsOn; without one, derive it.
    const graph = new Map(Object.entries(services).map(([name, s]) => [name, s.dependsOn] as const));
    const order = release.order ?? topologicalOrder(graph);
    return {
        environment,
        databases: {
            servers: Object.keys(databases.servers)
                .sort(byName)
                .flatMap((name) => {
                    const server = databases.servers[name];
                    return server ? [resolveServer(name, server)] : [];
                }),
            backups: { ...databases.backups },
        },
        cluster: {
            endpoint: cluster.endpoint,
            nodes: [...cluster.nodes],
            datastore: cluster.datastore,
            template: cluster.template,
            bridge: cluster.bridge,
            pool: cluster.pool,
            dns: cluster.dns ? { domain: cluster.dns.domain, servers: [...cluster.dns.servers] } : undefined,
            vlans: { ...cluster.vlans },
            subnets: Object.fromEntries(Object.entries(cluster.subnets).filter(([, cidr]) => cidr !== undefined)),
            haAffinity: cluster.haAffinity,
            roleDefaults: cluster.roleDefaults,
            containers: cluster.containers.map((c) => resolveContainer(cluster, c)),
        },
        services: order.flatMap((name) => {
            const service = services[name];
            return service ? [resolveService(name, service)] : [];
        }),
        release: { ...release, order: [...order] },
        local,
    };
}

// ---------------------------------------------------------------------------------------------
// Reading from Pulumi config
// ---------------------------------------------------------------------------------------------

/** What the loader needs of `pulumi.Config` (so tests can pass a plain object). */
export interface PlatformConfigReader {
    get(key: string): string | undefined;
    getObject<T>(key: string): T | undefined;
}

/**
 * Every `release-platform:` key the stack sets, without the prefix (index.ts reads them from
 * `pulumi.runtime.allConfig()`): a key the loader does not know is named as unknown instead of
 * passing unseen (a typo in a section name would otherwise only show as that section missing).
 */
export function projectConfigKeys(all: Readonly<Record<string, string>>): string[] {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.keys(all)
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length));
}

/**
 * Reads `release-platform:<section>` for every section, validates it and returns the spec, or
 * throws one `PlatformConfigError` listing every problem.
 */
export function loadPlatformSpec(config: PlatformConfigReader, setKeys: readonly string[] = []): PlatformSpec {
    const raw: Record<string, unknown> = {};
    const problems: ConfigProblem[] = [];
    // Keys beside the sections: secrets are checked as such, anything else is reported as unknown.
    for (const key of setKeys) if (!(SECTION_NAMES as string[]).includes(key)) raw[key] = SECRET_CONFIG_KEY.test(key) || SECRET_LIKE_KEY.test(key) ? { secure: "set" } : config.get(key);
    for (const name of SECTION_NAMES) {
        try {
            // environment is a plain string; the sections are structured (getObject parses their JSON).
            // Whatever comes back is unknown until the schema has checked it.
            const value: unknown = name === "environment" ? config.get(name) : config.getObject<unknown>(name);
            if (value !== undefined) raw[name] = value;
        } catch (error) {
            problems.push({ path: name, message: `cannot be read as structured config (${(error as Error).message})` });
        }
    }
    const result = checkPlatformConfig(raw);
    // A section that could not be read also shows up as "required": keep only the real cause.
    const unreadable = new Set(problems.map((p) => p.path));
    const rest = result.ok ? [] : result.problems.filter((p) => !(unreadable.has(p.path) && p.message === "required"));
    if (problems.length > 0 || !result.ok) throw new PlatformConfigError([...problems, ...rest]);
    return result.spec;
}

// ---------------------------------------------------------------------------------------------
// Secrets: kept apart from the spec so that parsing never touches them.
// ---------------------------------------------------------------------------------------------

/** The secret config keys (all `release-platform:<key>`, set with `pulumi config set --secret`). */
export const SECRET_KEYS = {
    proxmoxApiToken: "proxmoxApiToken",
    dbAdminPassword: (server: string): string => `dbAdminPassword.${server}`,
    dbPassword: (databaseShortName: string): string => `dbPassword.${databaseShortName}`,
    /** Target: a database server's name, or `traffic.haproxy` / `traffic.nginx`. */
    sshPrivateKey: (target: string): string => `sshPrivateKey.${target}`,
} as const;

/** Every SSH target in the spec, by the name its key is stored under. */
export function listSshTargets(spec: PlatformSpec): Map<string, SshTarget> {
    const targets = new Map<string, SshTarget>();
    for (const server of spec.databases.servers) if (server.ssh) targets.set(server.name, server.ssh);
    const { haproxy, nginx } = spec.release.traffic;
    if (haproxy?.ssh) targets.set("traffic.haproxy", sshTarget(haproxy.ssh));
    if (nginx?.ssh) targets.set("traffic.nginx", sshTarget(nginx.ssh));
    return targets;
}

/** The secret keys this spec needs, in a stable order. */
export function requiredSecretKeys(spec: PlatformSpec): string[] {
    return [
        SECRET_KEYS.proxmoxApiToken,
        ...spec.databases.servers.map((server) => SECRET_KEYS.dbAdminPassword(server.name)),
        ...listDatabases(spec.databases)
            .filter((db) => db.credentialSource === "config")
            .map((db) => SECRET_KEYS.dbPassword(db.name)),
        ...[...listSshTargets(spec).keys()].map((target) => SECRET_KEYS.sshPrivateKey(target)),
    ];
}

/** What the secret reader needs of `pulumi.Config`. */
export interface PlatformSecretReader {
    getSecret(key: string): pulumi.Output<string> | undefined;
}

export interface PlatformSecrets {
    proxmoxApiToken: pulumi.Output<string>;
    /** By server name. */
    dbAdminPasswords: Record<string, pulumi.Output<string>>;
    /** By database short name; only databases with `credentialSource: config`. */
    dbPasswords: Record<string, pulumi.Output<string>>;
    /** By SSH target (see `listSshTargets`). */
    sshPrivateKeys: Record<string, pulumi.Output<string>>;
}

/** Reads every secret the spec needs, or throws one `PlatformConfigError` naming each missing key. */
export function readPlatformSecrets(config: PlatformSecretReader, spec: PlatformSpec): PlatformSecrets {
    const missing: ConfigProblem[] = [];
    const read = (key: string): pulumi.Output<string> | undefined => {
        const value = config.getSecret(key);
        if (value === undefined) missing.push({ path: key, message: `missing secret: pulumi config set --secret ${key}` });
        return value;
    };
    const collect = (names: string[], keyOf: (name: string) => string): Record<string, pulumi.Output<string>> => {
        const out: Record<string, pulumi.Output<string>> = {};
        for (const name of names) {
            const value = read(keyOf(name));
            if (value !== undefined) out[name] = value;
        }
        return out;
    };

    const proxmoxApiToken = read(SECRET_KEYS.proxmoxApiToken);
    const dbAdminPasswords = collect(
        spec.databases.servers.map((s) => s.name),
        SECRET_KEYS.dbAdminPassword,
    );
    const dbPasswords = collect(
        listDatabases(spec.databases)
            .filter((db) => db.credentialSource === "config")
            .map((db) => db.name),
        SECRET_KEYS.dbPassword,
    );
    const sshPrivateKeys = collect([...listSshTargets(spec).keys()], SECRET_KEYS.sshPrivateKey);

    if (missing.length > 0 || proxmoxApiToken === undefined) throw new PlatformConfigError(missing);
    return { proxmoxApiToken, dbAdminPasswords, dbPasswords, sshPrivateKeys };
}
