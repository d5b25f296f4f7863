// The shape of the stack config (`release-platform:<section>` keys) as strict zod schemas, with defaults.
import { z } from "zod";
import {
    ABSOLUTE_PATH,
    DB_USER,
    DNS_LABEL,
    HOST,
    HOST_KEY,
    HOST_PORT,
    IPV4_PATTERN,
    SOCKET_ADDRESS,
    SSH_USER,
    URL_PATH,
    VERSION,
    type ValuePattern,
} from "./patterns";

export { IPV4_PATTERN } from "./patterns";

// ---------------------------------------------------------------------------------------------
// Vocabulary shared by the schemas, the validator and the components.
// ---------------------------------------------------------------------------------------------

export const ENVIRONMENTS = ["local", "staging", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const DATABASE_ENGINES = ["mariadb", "postgresql"] as const;
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

/** libpq's sslmode names that either verify the server or say plainly that they do not (no `require`: encrypting without verifying); the MariaDB provider maps them to its tls flag. */
export const TLS_MODES = ["disable", "verify-ca", "verify-full"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/**
 * The host firewall of a database server: ours (`nftables`, `ufw`, applied over ssh), the Plesk
 * host's own (`plesk`: Plesk manages that host's firewall, we declare nothing), or `none` (the
 * database port stays open to every host; the policy pack refuses it where a stack requires a firewall).
 */
export const FIREWALL_KINDS = ["nftables", "ufw", "plesk", "none"] as const;
export type FirewallKind = (typeof FIREWALL_KINDS)[number];

/** Where a service user's password comes from: a generated random value, or secret config `dbPassword.<name>`. */
export const CREDENTIAL_SOURCES = ["generated", "config"] as const;
export type CredentialSource = (typeof CREDENTIAL_SOURCES)[number];

export const NETWORK_ROLES = ["management", "app", "db", "dmz"] as const;
export type NetworkRole = (typeof NETWORK_ROLES)[number];

export const CONTAINER_ROLES = ["app", "db", "cache", "queue", "search"] as const;
export type ContainerRole = (typeof CONTAINER_ROLES)[number];

/** How HA keeps containers near their nodes: node-affinity rules (PVE 9 and later) or HA groups (PVE 8). */
export const HA_AFFINITY_KINDS = ["rules", "groups"] as const;
export type HaAffinityKind = (typeof HA_AFFINITY_KINDS)[number];

export const TRAFFIC_BACKENDS = ["haproxy", "nginx", "kubernetes"] as const;
export type TrafficBackend = (typeof TRAFFIC_BACKENDS)[number];

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Sizes a container gets from its role unless it overrides them (the documents give none). */
export const DEFAULT_ROLE_SIZES: Readonly<Record<ContainerRole, ContainerSize>> = {
    app: { cores: 2, memoryMiB: 2048, swapMiB: 512, diskGiB: 16 },
    db: { cores: 4, memoryMiB: 8192, swapMiB: 0, diskGiB: 100 },
    // Redis and Elasticsearch want no swap: a swapped-out heap is slower than a refused write.
    cache: { cores: 2, memoryMiB: 4096, swapMiB: 0, diskGiB: 16 },
    queue: { cores: 2, memoryMiB: 2048, swapMiB: 512, diskGiB: 20 },
    search: { cores: 4, memoryMiB: 8192, swapMiB: 0, diskGiB: 50 },
};

/** Start order per role when a container sets none: data services come up before the apps. */
export const DEFAULT_START_ORDER: Readonly<Record<ContainerRole, number>> = {
    db: 10,
    cache: 20,
    queue: 20,
    search: 20,
    app: 30,
};

/** The ports of the two colours inside a blue/green app container (the documents' 3000 / 3001). */
export const DEFAULT_BLUE_GREEN_PORTS = { blue: 3000, green: 3001 } as const;

export const MIN_CT_ID = 100;
export const MAX_CT_ID = 999_999_999;

export interface ContainerSize {
    cores: number;
    memoryMiB: number;
    swapMiB: number;
    diskGiB: number;
}

// ---------------------------------------------------------------------------------------------
// Building blocks. Every message says what a valid value looks like, since it reaches a human.
// ---------------------------------------------------------------------------------------------

/** A string checked by one of the strict patterns (components/config/patterns.ts). */
function matching(valuePattern: ValuePattern) {
    return z.string().refine((value) => valuePattern.test(value), { error: valuePattern.rule });
}

/** A database's short name `x`: it becomes database `mo_x` and user `svc_x`. */
export const DATABASE_SHORT_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
/** `svc_` plus 28 characters is MySQL's 32-character user-name limit; MariaDB and PostgreSQL allow more. */
export const MAX_DATABASE_SHORT_NAME_LENGTH = 28;

const nonEmpty = z.string().min(1, { error: "must not be empty" });

function wholeNumber(min: number, max: number, message = `must be a whole number from ${min} to ${max}`) {
    return z.number().int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

const port = wholeNumber(1, 65535, "must be a TCP port from 1 to 65535");

const host = matching(HOST);

const ipv4 = z.string().regex(IPV4_PATTERN, { error: "must be an IPv4 address, e.g. 10.10.20.10" });

/** `host:port`, the way HAProxy and the documents write a service address. */
const address = z.string().superRefine((value, ctx) => {
    const portNumber = Number(value.slice(value.lastIndexOf(":") + 1));
    if (!HOST_PORT.test(value) || portNumber < 1 || portNumber > 65535) {
        ctx.addIssue({ code: "custom", message: HOST_PORT.rule });
    }
});

const absolutePath = matching(ABSOLUTE_PATH);

/** A version of a service: it names backup files and goes into records, so only safe characters. */
const version = matching(VERSION);

/** The one client address a database accepts: never a wildcard, since users exist only for the app host. */
const appHost = z.string().superRefine((value, ctx) => {
    const trimmed = value.trim();
    if (trimmed.includes("%") || trimmed === "0.0.0.0" || trimmed.startsWith("0.0.0.0/") || trimmed === "*") {
        ctx.addIssue({
            code: "custom",
            message: "the app host must be the one address allowed to connect, never a wildcard (`%`, 0.0.0.0/0)",
        });
    } else if (!IPV4_PATTERN.test(trimmed)) {
        ctx.addIssue({ code: "custom", message: "must be the app host's IPv4 address (one address, no CIDR)" });
    }
});

const serverName = z.string().regex(/^[a-z][a-z0-9-]*$/, {
    error: "server names are lowercase letters, digits and '-' (they name secret config keys)",
});

const serviceName = z.string().regex(/^[a-z][a-z0-9-]*$/, {
    error: "service names are lowercase letters, digits and '-'",
});

const databaseShortName = z
    .string()
    .regex(DATABASE_SHORT_NAME_PATTERN, {
        error: "a database short name matches ^[a-z][a-z0-9_]*$ (it becomes mo_<name> and svc_<name>)",
    })
    .max(MAX_DATABASE_SHORT_NAME_LENGTH, {
        error: `a database short name has at most ${MAX_DATABASE_SHORT_NAME_LENGTH} characters (svc_<name> must fit MySQL's 32)`,
    });

/**
 * A remote-command target. Its private key is secret config `sshPrivateKey.<target>`, never here.
 * `hostKey` pins the host's public key (required outside the local stack; validate.ts): every
 * connection refuses a host that presents another key, before anything is sent.
 */
export const sshTargetSchema = z.strictObject({
    host,
    port: port.default(22),
    user: matching(SSH_USER),
    hostKey: matching(HOST_KEY).optional(),
});

// ---------------------------------------------------------------------------------------------
// release-platform:databases
// ---------------------------------------------------------------------------------------------

export const databaseEntrySchema = z.strictObject({
    /** Short name `x`: database `mo_x`, user `svc_x`. */
    name: databaseShortName,
    /** The service or team the database belongs to, e.g. "CRM (Drupal + CiviCRM)". */
    description: nonEmpty,
    /** Optional, only to state the derived name explicitly; must equal `mo_<name>`. */
    database: z.string().optional(),
    /** Optional, only to state the derived name explicitly; must equal `svc_<name>`. */
    user: z.string().optional(),
    credentialSource: z.enum(CREDENTIAL_SOURCES).default("generated"),
});

export const databaseServerSchema = z.strictObject({
    engine: z.enum(DATABASE_ENGINES),
    /** Major version, e.g. "10.11" or "15"; tells the PostgreSQL provider what to expect. */
    version: version.optional(),
    /** How Pulumi reaches the server as its admin; the password is secret `dbAdminPassword.<server>`. */
    admin: z.strictObject({
        host,
        port,
        user: matching(DB_USER),
        /**
         * How the admin connection verifies the server (validate.ts): outside the local stack
         * `verify-full` with the CA that signed the server's certificate, or `verify-ca` with a
         * `reason` (the certificate does not name the host we connect to).
         */
        tls: z.strictObject({
            mode: z.enum(TLS_MODES),
            caFile: absolutePath.optional(),
            reason: nonEmpty.optional(),
        }),
    }),
    /** The only client address allowed: `'svc_x'@'<appHost>'`, pg_hba `<appHost>/32`, the firewall allow rule. */
    appHost,
    ssh: sshTargetSchema.optional(),
    firewall: z.enum(FIREWALL_KINDS),
    maxDatabases: wholeNumber(1, 10_000).optional(),
    databases: z.array(databaseEntrySchema),
});

export const databasesSchema = z.strictObject({
    servers: z.record(serverName, databaseServerSchema),
    backups: z
        .strictObject({
            /** Backups older than this are removed from `location` after each successful backup. */
            localRetentionDays: wholeNumber(1, 3650).default(30),
            /** Where a release's backups go (on the machine that runs `pulumi up`), before its migrations. */
            location: absolutePath.default("/var/backups/release-platform"),
        })
        .prefault({}),
});

// ---------------------------------------------------------------------------------------------
// release-platform:cluster
// ---------------------------------------------------------------------------------------------

function roleSize(defaults: ContainerSize) {
    return z
        .strictObject({
            cores: wholeNumber(1, 512).default(defaults.cores),
            memoryMiB: wholeNumber(16, 4_194_304).default(defaults.memoryMiB),
            swapMiB: wholeNumber(0, 4_194_304).default(defaults.swapMiB),
            diskGiB: wholeNumber(1, 131_072).default(defaults.diskGiB),
        })
        .prefault({});
}

export const containerSchema = z.strictObject({
    vmId: wholeNumber(MIN_CT_ID, MAX_CT_ID, `must be a CT-ID from ${MIN_CT_ID} to ${MAX_CT_ID}`),
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, {
        error: "must be a lowercase host name (letters, digits, '-', at most 63 characters)",
    }),
    role: z.enum(CONTAINER_ROLES),
    node: nonEmpty,
    /** Address with prefix length, e.g. 10.10.20.100/24. */
    ip: z.cidrv4({ error: "must be an IPv4 address with prefix length, e.g. 10.10.20.100/24" }),
    gateway: ipv4,
    /** VLAN role; app containers default to `app`, data services to `db`. */
    network: z.enum(NETWORK_ROLES).optional(),
    cores: wholeNumber(1, 512).optional(),
    memoryMiB: wholeNumber(16, 4_194_304).optional(),
    swapMiB: wholeNumber(0, 4_194_304).optional(),
    diskGiB: wholeNumber(1, 131_072).optional(),
    nesting: z.boolean().default(false),
    tags: z
        .array(
            z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, {
                error: "tags are lowercase (Proxmox lowercases them, so an uppercase tag diffs forever)",
            }),
        )
        .default([]),
    ha: z.boolean().default(false),
    startOrder: wholeNumber(0, 10_000).optional(),
    /** The container runs a blue and a green instance of its app side by side, on two ports. */
    blueGreen: z.boolean().default(false),
    blueGreenPorts: z.strictObject({ blue: port, green: port }).optional(),
    description: nonEmpty.optional(),
    /** This container's template instead of `cluster.template` (pin a data-holding container to the one it was built from). */
    template: nonEmpty.optional(),
});

const vlanId = wholeNumber(1, 4094, "must be a VLAN ID from 1 to 4094");

export const clusterSchema = z.strictObject({
    /** The PVE API, e.g. https://10.10.10.11:8006; the API token is secret `proxmoxApiToken`. */
    endpoint: z.url({ protocol: /^https$/, error: "must be an https:// URL (the Proxmox provider only speaks HTTPS)" }),
    /** Only `false`: the API's certificate is always verified (the local emulator's is signed by the local test CA). */
    insecure: z.literal(false, { error: "must be false: the Proxmox API certificate is always verified; give the API a certificate this machine trusts" }).default(false),
    nodes: z.array(nonEmpty).min(1, { error: "must name at least one node" }),
    datastore: nonEmpty,
    /** Template volume id, e.g. local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. */
    template: nonEmpty,
    bridge: nonEmpty.default("vmbr0"),
    pool: nonEmpty.optional(),
    dns: z
        .strictObject({
            domain: host.optional(),
            servers: z.array(ipv4).default([]),
        })
        .optional(),
    vlans: z.strictObject({ management: vlanId, app: vlanId, db: vlanId, dmz: vlanId }),
    /**
     * The address ranges behind the VLANs. The container firewall opens SSH only from `management`
     * and the blue/green app ports only from `dmz` (the load balancer); an unset range opens nothing.
     */
    subnets: z
        .strictObject({
            management: z.cidrv4({ error: "must be a network, e.g. 10.10.10.0/24" }).optional(),
            app: z.cidrv4({ error: "must be a network, e.g. 10.10.20.0/24" }).optional(),
            db: z.cidrv4({ error: "must be a network, e.g. 10.10.30.0/24" }).optional(),
            dmz: z.cidrv4({ error: "must be a network, e.g. 10.10.40.0/24" }).optional(),
        })
        .prefault({}),
    haAffinity: z.enum(HA_AFFINITY_KINDS).default("rules"),
    /** The Proxmox VE release the cluster runs (`8.4`, `9.1`): it decides which `haAffinity` the cluster has. */
    pveVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, { error: "must be a Proxmox VE version such as 8.4 or 9.1" }).optional(),
    roleDefaults: z
        .strictObject({
            app: roleSize(DEFAULT_ROLE_SIZES.app),
            db: roleSize(DEFAULT_ROLE_SIZES.db),
            cache: roleSize(DEFAULT_ROLE_SIZES.cache),
            queue: roleSize(DEFAULT_ROLE_SIZES.queue),
            search: roleSize(DEFAULT_ROLE_SIZES.search),
        })
        .prefault({}),
    containers: z.array(containerSchema),
});

// ---------------------------------------------------------------------------------------------
// release-platform:services
// ---------------------------------------------------------------------------------------------

const colourSchema = z.strictObject({
    version,
    address,
});

const weight = wholeNumber(0, 100);

export const serviceSchema = z.strictObject({
    blue: colourSchema,
    green: colourSchema,
    weights: z.strictObject({ blue: weight, green: weight }).prefault({ blue: 100, green: 0 }),
    healthPath: matching(URL_PATH).default("/health"),
    dependsOn: z.array(serviceName).default([]),
    /** Short names of the databases the service uses. */
    databases: z.array(databaseShortName).default([]),
    /** Run against the new colour before it takes traffic, after the backups. */
    migrationCommand: nonEmpty.optional(),
    traffic: z.strictObject({
        backend: z.enum(TRAFFIC_BACKENDS),
        /** HAProxy backend / nginx upstream prefix / Kubernetes Service; defaults to the service name. */
        name: z.string().regex(/^[a-z][a-z0-9_-]*$/, { error: "must be lowercase letters, digits, '_' or '-'" }).optional(),
    }),
});

export const servicesSchema = z.record(serviceName, serviceSchema);

// ---------------------------------------------------------------------------------------------
// release-platform:release
// ---------------------------------------------------------------------------------------------

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time HH:MM (24 h)" });

const timezone = z.string().superRefine((value, ctx) => {
    try {
        new Intl.DateTimeFormat("en", { timeZone: value });
    } catch {
        ctx.addIssue({ code: "custom", message: "must be an IANA time zone, e.g. Europe/Vienna" });
    }
});

const percent = z.number().min(0, { error: "must be a percentage from 0 to 100" }).max(100, {
    error: "must be a percentage from 0 to 100",
});

/** A band: below `normalBelow` is normal, from `alertFrom` an alert, above `criticalAbove` critical. */
const band = z.strictObject({
    normalBelow: z.number().min(0, { error: "must not be negative" }),
    alertFrom: z.number().min(0, { error: "must not be negative" }),
    criticalAbove: z.number().min(0, { error: "must not be negative" }),
});

export const releaseSchema = z.strictObject({
    /**
     * The order services are released in (database migrations always run first). It must respect
     * `dependsOn`; it is needed because the stack file's maps reach the program with their keys
     * sorted, so declaration order cannot break ties. Left out, ties break by name.
     */
    order: z.array(serviceName).optional(),
    /** Green's share of traffic, step by step. */
    ladder: z.array(weight).default([0, 10, 50, 100]),
    /** How long to watch the metrics after each step before the next (the documents: 10 to 15). */
    observeMinutes: wholeNumber(0, 1440).default(10),
    healthGate: z
        .strictObject({
            timeoutSeconds: wholeNumber(1, 3600).default(60),
            intervalSeconds: wholeNumber(1, 600).default(5),
            retries: wholeNumber(0, 100).default(5),
        })
        .prefault({}),
    /** Time a colour keeps serving in-flight requests after its weight drops to 0. */
    drainSeconds: wholeNumber(0, 3600).default(30),
    gates: z
        .strictObject({
            maxBackupAgeHours: wholeNumber(1, 8760).default(24),
            minApprovals: wholeNumber(0, 100).default(1),
            maxOpenHighCriticalAlerts: wholeNumber(0, 10_000).default(0),
            minCoveragePercent: percent.default(80),
            /** The same version must have been released to staging first. */
            requireStagingFirst: z.boolean().default(false),
            changeWindow: z
                .strictObject({
                    days: z.array(z.enum(WEEKDAYS)).min(1, { error: "must name at least one day" }),
                    start: timeOfDay,
                    end: timeOfDay,
                    timezone,
                })
                .optional(),
        })
        .prefault({}),
    rollback: z
        .strictObject({
            maxErrorRatePercent: percent.default(5),
            baselineErrorRatePercent: percent.default(0.5),
            maxP95Ms: wholeNumber(1, 600_000).default(2000),
            /** Also roll back when p95 exceeds this multiple of its normal value. */
            maxP95FactorOfNormal: z.number().min(1, { error: "must be at least 1" }).default(2),
            maxDownMinutes: wholeNumber(1, 1440).default(2),
        })
        .prefault({}),
    monitoring: z
        .strictObject({
            errorRatePercent: band.prefault({ normalBelow: 1, alertFrom: 2, criticalAbove: 5 }),
            p95Ms: band.prefault({ normalBelow: 200, alertFrom: 200, criticalAbove: 500 }),
        })
        .prefault({}),
    /** Where the traffic backends are reached; a service's `traffic.backend` needs its entry here. */
    traffic: z
        .strictObject({
            haproxy: z
                .strictObject({
                    /** Runtime API: a unix socket path (on the ssh host if `ssh` is set) or host:port. */
                    admin: matching(SOCKET_ADDRESS),
                    /** Where weights are saved so a reload keeps them (`server-state-file`). */
                    serverStateFile: absolutePath.optional(),
                    ssh: sshTargetSchema.optional(),
                })
                .optional(),
            nginx: z
                .strictObject({
                    upstreamFile: absolutePath,
                    /** Validates the config with the new upstreams before the reload. */
                    testCommand: nonEmpty.default("nginx -t"),
                    reloadCommand: nonEmpty.default("nginx -s reload"),
                    ssh: sshTargetSchema.optional(),
                })
                .optional(),
            kubernetes: z
                .strictObject({
                    namespace: matching(DNS_LABEL),
                    context: nonEmpty.optional(),
                })
                .optional(),
        })
        .prefault({}),
});

// ---------------------------------------------------------------------------------------------
// release-platform:local (the local stack only)
// ---------------------------------------------------------------------------------------------

/**
 * What the setup scripts need to start the loopback stand-ins that the rest of the local config
 * already points at (database servers, sshd, the Proxmox API emulator as cluster.endpoint).
 */
export const localSchema = z.strictObject({
    /** Data directories, sockets, pid files and logs of the stand-ins. */
    runDir: absolutePath.default("/tmp/release-platform"),
    haproxy: z
        .strictObject({
            frontendAddress: address.default("127.0.0.1:8080"),
            statsAddress: address.default("127.0.0.1:8404"),
        })
        .prefault({}),
    /** The local nginx, in front of the services whose traffic backend is nginx. */
    nginx: z
        .strictObject({
            listenAddress: address.default("127.0.0.1:8081"),
        })
        .prefault({}),
});

// ---------------------------------------------------------------------------------------------
// The whole stack config.
// ---------------------------------------------------------------------------------------------

export const environmentSchema = z.enum(ENVIRONMENTS);

/** One schema per `release-platform:<key>`; parsed one by one so one broken section hides no other's problems. */
export const sectionSchemas = {
    environment: environmentSchema,
    databases: databasesSchema,
    cluster: clusterSchema,
    services: servicesSchema,
    release: releaseSchema,
    local: localSchema,
} as const;

export type SectionName = keyof typeof sectionSchemas;

/** Sections that must be present; `release` falls back to its defaults, `local` belongs to the local stack. */
export const REQUIRED_SECTIONS: readonly SectionName[] = ["environment", "databases", "cluster", "services"];

export const platformConfigSchema = z.strictObject({
    environment: environmentSchema,
    databases: databasesSchema,
    cluster: clusterSchema,
    services: servicesSchema,
    release: releaseSchema.prefault({}),
    local: localSchema.optional(),
});

export type PlatformConfig = z.output<typeof platformConfigSchema>;
export type DatabasesConfig = z.output<typeof databasesSchema>;
export type DatabaseServerConfig = z.output<typeof databaseServerSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type ContainerConfig = z.output<typeof containerSchema>;
export type ServicesConfig = z.output<typeof servicesSchema>;
export type ServiceConfig = z.output<typeof serviceSchema>;
export type ReleaseConfig = z.output<typeof releaseSchema>;
export type LocalConfig = z.output<typeof localSchema>;
export type SshTargetConfig = z.output<typeof sshTargetSchema>;

// ---------------------------------------------------------------------------------------------
// Messages for zod's own checks (types, enums, required keys), phrased like ours.
// ---------------------------------------------------------------------------------------------

function describeValue(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "a list";
    if (typeof value === "object") return "an object";
    if (typeof value === "string") return JSON.stringify(value);
    return String(value);
}

const EXPECTED: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list",
    object: "an object",
    record: "an object",
};

/** Error map for `safeParse`: messages our own checks did not set. */
export const describeIssue: z.core.$ZodErrorMap = (issue) => {
    switch (issue.code) {
        case "invalid_type": {
            const expected = EXPECTED[issue.expected] ?? issue.expected;
            return issue.input === undefined
                ? `required (${expected})`
                : `must be ${expected}, not ${describeValue(issue.input)}`;
        }
        case "invalid_value": {
            const allowed = issue.values.map((v) => String(v)).join(", ");
            return issue.input === undefined ? `required (one of ${allowed})` : `must be one of ${allowed}, not ${describeValue(issue.input)}`;
        }
        case "too_small":
            if (issue.origin === "array") return `must have at least ${String(issue.minimum)} entries`;
            if (issue.origin === "string") return "must not be empty";
            return `must be at least ${String(issue.minimum)}`;
        case "too_big":
            if (issue.origin === "array") return `must have at most ${String(issue.maximum)} entries`;
            if (issue.origin === "string") return `must have at most ${String(issue.maximum)} characters`;
            return `must be at most ${String(issue.maximum)}`;
        case "invalid_format":
            return `must be a valid ${issue.format}`;
        case "invalid_key":
            return issue.issues[0]?.message ?? "invalid key";
        case "unrecognized_keys":
            return "unknown key";
        default:
            return undefined;
    }
};
