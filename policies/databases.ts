// Database policies: least-privilege service users bound to the app host, protected databases, TLS + SCRAM only, no password in a command.
import type { ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { DATABASE_LEVEL_PRIVILEGES, SERVICE_PRIVILEGES } from "../components/databases/mariadb/grants";
import { gatePolicy, listed, policyConfig, resourcePolicy } from "./support";

// The type tokens the engine records. The policy pack does not import the resource classes (they
// pull in the providers); test/policies/databases.test.ts checks these against them.
export const MARIADB_SERVICE_USER_TYPE = "pulumi-nodejs:dynamic/databases:MariaDbServiceUser";
export const MARIADB_DATABASE_TYPE = "pulumi-nodejs:dynamic/databases:MariaDbDatabase";
export const POSTGRES_ROLE_TYPE = "postgresql:index/role:Role";
export const POSTGRES_DATABASE_TYPE = "postgresql:index/database:Database";
export const POSTGRES_GRANT_TYPE = "postgresql:index/grant:Grant";
export const POSTGRES_PROVIDER_TYPE = "pulumi:providers:postgresql";
export const REMOTE_COMMAND_TYPE = "command:remote:Command";
export const LOCAL_COMMAND_TYPE = "command:local:Command";
export const PG_HBA_BLOCK_TYPE = "pulumi-nodejs:dynamic/databases:PgHbaBlock";
export const DATA_CHANGE_TYPE = "pulumi-nodejs:dynamic/release:DataChange";

/** The first line of a managed pg_hba.conf block (components/databases/postgres/hba.ts, `pgHbaMarkers`). */
export const PG_HBA_BLOCK_MARKER = "# BEGIN release-platform managed: ";

const SERVICE_PRIVILEGE_LIST = SERVICE_PRIVILEGES.join(", ");

// ---------------------------------------------------------------------------------------------
// pg_hba.conf lines, as a managed block carries them (the PgHbaBlock resource's `block`).
// ---------------------------------------------------------------------------------------------

export interface PgHbaLine {
    text: string;
    type: string;
    /** The client address (host* lines; "" for local and include lines), with its mask if given apart. */
    address: string;
    method: string;
}

/** The rule lines of a managed pg_hba block (comments and blank lines dropped); undefined when `stdin` carries none. */
export function pgHbaBlockLines(stdin: unknown): PgHbaLine[] | undefined {
    if (typeof stdin !== "string" || !stdin.split("\n").some((line) => line.startsWith(PG_HBA_BLOCK_MARKER))) return undefined;
    return stdin
        .split("\n")
        .map((line) => line.replace(/#.*$/, "").trim())
        .filter((line) => line !== "")
        .map((text) => {
            const [type = "", , , ...rest] = text.split(/\s+/);
            if (type === "local") return { text, type, address: "", method: rest[0] ?? "" };
            if (!type.startsWith("host")) return { text, type, address: "", method: "" };
            const [address = "", second = "", third = ""] = rest;
            // An IPv4 address may take its mask as a field of its own.
            const mask = /^\d+\.\d+\.\d+\.\d+$/.test(second) ? second : undefined;
            return { text, type, address: mask ? `${address} ${mask}` : address, method: mask ? third : second };
        });
}

function commandProps(args: ResourceValidationArgs): Record<string, unknown> | undefined {
    return args.type === REMOTE_COMMAND_TYPE || args.type === LOCAL_COMMAND_TYPE ? args.props : undefined;
}

/** The managed pg_hba block a resource declares: a PgHbaBlock's `block` (or, from before it, a command's stdin). */
function declaredPgHbaBlock(args: ResourceValidationArgs): unknown {
    if (args.type === PG_HBA_BLOCK_TYPE) return args.props.block;
    return commandProps(args)?.stdin;
}

/** The command texts a resource runs: a command's create/update/delete, a data change's migration. */
function commandTexts(args: ResourceValidationArgs): [string, unknown][] {
    if (args.type === DATA_CHANGE_TYPE) return [["migration", args.props.migrationCommand]];
    const command = commandProps(args);
    return command ? ["create", "update", "delete"].map((field): [string, unknown] => [field, command[field]]) : [];
}

/** Addresses in a pg_hba line that admit more than one host. */
function wideAddress(address: string): string | undefined {
    if (["all", "samenet", "0.0.0.0/0", "::/0", "::0/0"].includes(address)) return "any host";
    if (address.startsWith(".")) return "every host of a domain";
    const prefix = /^[0-9.]+\/(\d+)$/.exec(address)?.[1] ?? /^[0-9a-f:]+\/(\d+)$/i.exec(address)?.[1];
    const full = address.includes(":") ? 128 : 32;
    if (prefix !== undefined && Number(prefix) < full) return `a network of hosts (/${prefix})`;
    const mask = /^\S+ (\S+)$/.exec(address)?.[1];
    if (mask !== undefined && mask !== "255.255.255.255") return `a network of hosts (mask ${mask})`;
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// Policies.
// ---------------------------------------------------------------------------------------------

export const noWildcardHost = resourcePolicy(
    {
        name: "databases-no-wildcard-host",
        description:
            "Every MariaDB service user is bound to one client host (no `%` or `_` wildcard, not empty), and every pg_hba line that lets a client in names one host (/32 or /128).",
        severity: "critical",
        remediationSteps: "Set the server's `databases.servers.<server>.appHost` to the one address of the app host; the program writes it into the account and the pg_hba block.",
    },
    (args, report) => {
        if (args.type === MARIADB_SERVICE_USER_TYPE) {
            const { user, host } = args.props as { user?: string; host?: string };
            if (typeof host !== "string" || host === "" || /[%_]/.test(host)) {
                report(`${args.name}: the account '${user ?? ""}'@'${host ?? ""}' accepts clients from any host (empty, % and _ are wildcards): bind it to the app host's address`);
            }
            return;
        }
        for (const line of pgHbaBlockLines(declaredPgHbaBlock(args)) ?? []) {
            const wide = line.method === "reject" ? undefined : wideAddress(line.address);
            if (wide) report(`${args.name}: the pg_hba line "${line.text}" lets in ${wide}: name the app host alone (<address>/32)`);
        }
    },
);

function normalizedPrivileges(privileges: unknown): string[] {
    return Array.isArray(privileges) ? privileges.map((p) => String(p).trim().replace(/\s+/g, " ").toUpperCase()) : [];
}

const NEVER_GRANTED = ["ALL", "ALL PRIVILEGES", "GRANT OPTION", "USAGE"];

function checkMariaDbGrants(args: ResourceValidationArgs, report: ReportViolation): void {
    const { user, database, extraGrants } = args.props as { user?: string; database?: string; extraGrants?: unknown };
    const who = `${args.name} (${user ?? "?"} on ${database ?? "?"})`;
    const privileges = normalizedPrivileges(args.props.privileges);
    const databaseLevel: readonly string[] = DATABASE_LEVEL_PRIVILEGES;
    const allowed: readonly string[] = SERVICE_PRIVILEGES;
    const never = privileges.filter((p) => NEVER_GRANTED.includes(p));
    if (never.length > 0) report(`${who} asks for ${listed(never)}: list the allowed privileges one by one (${SERVICE_PRIVILEGE_LIST})`);
    const global = privileges.filter((p) => !NEVER_GRANTED.includes(p) && !databaseLevel.includes(p));
    if (global.length > 0) report(`${who} asks for ${listed(global)}, not database-level privileges: global privileges are never granted; remove them`);
    const beyond = privileges.filter((p) => databaseLevel.includes(p) && !allowed.includes(p));
    if (beyond.length > 0) report(`${who} asks for ${listed(beyond)} beyond the allowed set (${SERVICE_PRIVILEGE_LIST}): remove them`);
    const missing = allowed.filter((p) => !privileges.includes(p));
    // After ALL the message above already says to list the allowed set.
    if (missing.length > 0 && never.length === 0) report(`${who} lacks ${listed(missing)} of the allowed set (${SERVICE_PRIVILEGE_LIST}): grant exactly that set`);
    if (Array.isArray(extraGrants) && extraGrants.length > 0) {
        report(`${who} declares grants beyond its database (${extraGrants.join("; ")}): declare none; the provider revokes what it finds`);
    }
}

/** PostgreSQL role attributes that reach beyond the role's own database. */
const POSTGRES_ROLE_POWERS = ["superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity"] as const;

export const grantsAllowed = resourcePolicy(
    {
        name: "databases-grants-allowed",
        description:
            `A MariaDB service user holds exactly ${SERVICE_PRIVILEGE_LIST} on its own database: no ALL, no GRANT OPTION, no global privilege, no grant elsewhere. ` +
            "PostgreSQL grants name their privileges (no ALL) without grant option, and service roles have no cluster-wide attribute (superuser, createdb, createrole, replication, bypassrls).",
        severity: "high",
        remediationSteps: "Declare service users through the database fleet (components/databases), which grants exactly the allowed set; remove hand-written privileges, grant options and role attributes.",
    },
    (args, report) => {
        if (args.type === MARIADB_SERVICE_USER_TYPE) {
            checkMariaDbGrants(args, report);
        } else if (args.type === POSTGRES_GRANT_TYPE) {
            const { role, privileges, withGrantOption } = args.props as { role?: string; privileges?: unknown; withGrantOption?: boolean };
            if (normalizedPrivileges(privileges).includes("ALL")) report(`${args.name} grants ALL to ${role ?? "?"}: name the privileges one by one`);
            if (withGrantOption === true) report(`${args.name} lets ${role ?? "?"} grant its privileges on (withGrantOption): set withGrantOption false`);
        } else if (args.type === POSTGRES_ROLE_TYPE) {
            const powers = POSTGRES_ROLE_POWERS.filter((power) => args.props[power] === true);
            if (powers.length > 0) {
                report(`${args.name} (role ${String(args.props.name)}) has ${listed(powers)}: a service role gets no cluster-wide attribute; set them false`);
            }
        }
    },
);

export const databasesProtected = resourcePolicy(
    {
        name: "databases-protected",
        description:
            "Every database (MariaDB and PostgreSQL) is declared with protect, and a MariaDB database never with dropOnDelete. " +
            "(retainOnDelete is not visible to policies; the fleet sets it with protect, see components/databases/common.ts.)",
        severity: "critical",
        remediationSteps: "Declare databases through the fleet (DATA_GUARD: protect and retainOnDelete); dropOnDelete is for scratch databases in tests only.",
    },
    (args, report) => {
        if (args.type !== MARIADB_DATABASE_TYPE && args.type !== POSTGRES_DATABASE_TYPE) return;
        const database = String(args.props.name);
        if (args.opts.protect !== true) report(`${args.name} (database ${database}) is not protected: declare it with protect: true (and retainOnDelete: true)`);
        if (args.props.dropOnDelete === true) report(`${args.name} (database ${database}) sets dropOnDelete: removing it from the stack would drop its data; set it false`);
    },
);

export const postgresHostsslScram = resourcePolicy(
    {
        name: "databases-postgres-hostssl-scram",
        description:
            "PostgreSQL is reached only over TLS with SCRAM: every line of a managed pg_hba block either rejects or is `hostssl … scram-sha-256`, and the admin provider connects with sslmode require or stricter.",
        severity: "critical",
        remediationSteps: "Render the pg_hba block with `renderPgHbaBlock` (components/databases/postgres/hba.ts) and keep `databases.servers.<server>.admin.tls.mode` at require, verify-ca or verify-full.",
    },
    (args, report) => {
        if (args.type === POSTGRES_PROVIDER_TYPE) {
            const sslmode = args.props.sslmode as string | undefined;
            if (!["require", "verify-ca", "verify-full"].includes(sslmode ?? "")) {
                report(`${args.name} connects to PostgreSQL with sslmode ${sslmode ?? "unset (prefer)"}: use require, verify-ca or verify-full`);
            }
            return;
        }
        for (const line of pgHbaBlockLines(declaredPgHbaBlock(args)) ?? []) {
            if (line.method === "reject") continue;
            if (line.type !== "local" && !line.type.startsWith("host")) {
                report(`${args.name}: the pg_hba line "${line.text}" is not a client rule: the managed block holds its hostssl and reject rules itself`);
            } else if (line.type !== "hostssl") {
                report(`${args.name}: the pg_hba line "${line.text}" accepts ${line.type} connections: only hostssl lines may let a client in; make it hostssl or reject`);
            } else if (line.method !== "scram-sha-256") {
                report(`${args.name}: the pg_hba line "${line.text}" authenticates with ${line.method || "no method"}: use scram-sha-256`);
            }
        }
    },
);

/** Ways a password ends up in a command's text (and so in the state, every diff, and the process list). */
const PASSWORD_IN_COMMAND: { what: string; pattern: RegExp }[] = [
    { what: "IDENTIFIED BY '…'", pattern: /\bIDENTIFIED\s+BY\s+(?!PASSWORD\b)['"](?!\$)/i },
    { what: "PASSWORD '…'", pattern: /\bPASSWORD\b\s*=?\s*\(?\s*['"](?!\$)/i },
    { what: "--password=…", pattern: /--password=(?![\s'"]*$)\S/ },
    { what: "-p<password>", pattern: /\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump|mariadb-admin)\b[^|;&\n]*?\s-p[^\s-]/ },
    { what: "MYSQL_PWD=…", pattern: /\bMYSQL_PWD=(?!["']?\$)[^\s;&|]/ },
    { what: "PGPASSWORD=…", pattern: /\bPGPASSWORD=(?!["']?\$)[^\s;&|]/ },
    { what: "a URL with user:password@", pattern: /\b(?:postgres(?:ql)?|mysql|mariadb):\/\/[^\s:@/]+:(?!\$)[^\s@/]+@/i },
];

/** The kinds of password found in `text` (never the password itself). */
export function passwordsInCommand(text: string): string[] {
    return PASSWORD_IN_COMMAND.filter(({ pattern }) => pattern.test(text)).map(({ what }) => what);
}

/** The outputs of the dynamic database resources that hold a password (the admin connection, the service password). */
const SECRET_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
    [MARIADB_SERVICE_USER_TYPE]: ["connection", "password"],
    [MARIADB_DATABASE_TYPE]: ["connection"],
    [DATA_CHANGE_TYPE]: ["databases"],
    [PG_HBA_BLOCK_TYPE]: ["ssh"],
};

export const noPlaintextPassword = resourcePolicy(
    {
        name: "databases-no-plaintext-password",
        description:
            "No command (local or remote, or a service's migration) carries a password in its text (IDENTIFIED BY '…', PASSWORD '…', --password=…, mysql -p…, MYSQL_PWD=… or PGPASSWORD=… inline, user:password@ URLs), " +
            "and the dynamic resources that hold a password or key (database resources, data changes, pg_hba blocks) keep it secret in the state (additionalSecretOutputs).",
        severity: "critical",
        remediationSteps:
            "Pass passwords through the command's environment (MYSQL_PWD, PGPASSWORD) or stdin, from a secret config value; declare database resources through their classes, which mark the password outputs secret.",
    },
    (args, report) => {
        const secrets = SECRET_OUTPUTS[args.type];
        if (secrets) {
            const declared = args.opts.additionalSecretOutputs ?? [];
            const missing = secrets.filter((output) => !declared.includes(output));
            if (missing.length > 0) {
                report(`${args.name} does not mark ${listed(missing)} secret (additionalSecretOutputs): the state would hold a password or key in plaintext; add them`);
            }
        }
        for (const [field, text] of commandTexts(args)) {
            const found = typeof text === "string" ? passwordsInCommand(text) : [];
            if (found.length > 0) {
                report(
                    `${args.name} has a password in its ${field} command (${found.join(", ")}): pass it through the command's environment (MYSQL_PWD, PGPASSWORD) or stdin; ` +
                        "the command text is stored in the state and shown in every diff",
                );
            }
        }
    },
);

interface ServerLimitConfig {
    maxDatabasesPerServer: Record<string, number>;
}

export const databasesPerServer = gatePolicy(
    {
        name: "databases-per-server-limit",
        description:
            "A database server holds no more databases than it allows: the smaller of its `maxDatabases` (stack config) and the policy config's `maxDatabasesPerServer` (plesk: 5, the Plesk licence).",
        severity: "medium",
        remediationSteps: "Move a database to another server (`databases.servers.<server>.databases`), or raise the server's limit where the licence allows it.",
        configSchema: {
            properties: {
                maxDatabasesPerServer: {
                    type: "object",
                    additionalProperties: { type: "integer", minimum: 0 },
                    default: { plesk: 5 },
                    description: "The most databases per server name.",
                },
            },
        },
    },
    (gate, args, report) => {
        const { maxDatabasesPerServer } = policyConfig<ServerLimitConfig>(args, { maxDatabasesPerServer: { plesk: 5 } });
        const servers = [...new Set(gate.databases.map((db) => db.server))];
        for (const server of servers) {
            const databases = gate.databases.filter((db) => db.server === server);
            const limits = [maxDatabasesPerServer[server], ...databases.map((db) => db.maxDatabasesOnServer)].filter((n): n is number => n !== undefined);
            if (limits.length === 0) continue;
            const limit = Math.min(...limits);
            if (databases.length > limit) {
                report(
                    `the ${server} server would hold ${databases.length} databases (${databases.map((db) => db.database).join(", ")}), at most ${limit}: ` +
                        `move ${databases.length - limit} to another server`,
                );
            }
        }
    },
);

export const hostFirewall = gatePolicy(
    {
        name: "databases-host-firewall",
        description:
            "Every database server has a host firewall that admits the app host only: ours (`nftables` or `ufw`, applied over ssh) or, on the Plesk host, Plesk's own (`plesk`). `none` leaves the database port open to every host that can route to it.",
        severity: "high",
        remediationSteps: "Set `databases.servers.<server>.firewall` to nftables or ufw (with an ssh target), or to plesk on the Plesk host; `none` is for the local stack's loopback servers.",
    },
    (gate, _args, report) => {
        for (const server of gate.servers ?? []) {
            if (server.firewall === "none") {
                report(`the ${server.name} server has no host firewall (firewall: none): its ${server.engine} port is open to every host; use nftables or ufw (or plesk on the Plesk host)`);
            }
        }
    },
);

export const databasePolicies = [noWildcardHost, grantsAllowed, databasesProtected, postgresHostsslScram, noPlaintextPassword, databasesPerServer, hostFirewall];
