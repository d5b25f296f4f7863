// Database policies: the resources as the fleet declares them pass, then one changed property per case with the exact violations.
import * as command from "@pulumi/command";
import type { PolicyResourceOptions } from "@pulumi/policy";
import * as postgresql from "@pulumi/postgresql";
import { describe, expect, test } from "vitest";
import { MARIADB_DATABASE_TYPE as DATABASE_CLASS_TYPE } from "../../components/databases/mariadb/database";
import { SERVICE_PRIVILEGES } from "../../components/databases/mariadb/grants";
import { MARIADB_SERVICE_USER_TYPE as USER_CLASS_TYPE } from "../../components/databases/mariadb/user";
import { renderPgHbaBlock } from "../../components/databases/postgres/hba";
import { PG_HBA_BLOCK_TYPE as PG_HBA_BLOCK_CLASS_TYPE } from "../../components/databases/postgres/hba-block";
import { DATA_CHANGE_TYPE as DATA_CHANGE_CLASS_TYPE } from "../../components/release/data-change";
import { TEST_HOST_KEY } from "../support/keys";
import type { ReleaseGateInputs } from "../../components/release/gate-inputs";
import { renderBackupScript } from "../../components/release/backup";
import { LOCAL_DEPLOY_SCRIPT } from "../../components/release/service";
import {
    databasePolicies,
    DATA_CHANGE_TYPE,
    LOCAL_COMMAND_TYPE,
    PG_HBA_BLOCK_TYPE,
    MARIADB_DATABASE_TYPE,
    MARIADB_SERVICE_USER_TYPE,
    passwordsInCommand,
    POSTGRES_DATABASE_TYPE,
    POSTGRES_GRANT_TYPE,
    POSTGRES_PROVIDER_TYPE,
    POSTGRES_ROLE_TYPE,
    REMOTE_COMMAND_TYPE,
} from "../../policies/databases";
import { allResourceViolations, gateArgs, resourceArgs, type PolicyConfigs, type ResourceCase } from "./support";

const ADMIN = { host: "10.10.30.20", port: 3306, user: "admin", password: "admin-secret", tls: "require" };
const ALLOWED = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES";

/** What the fleet declares for the database `main` on the plesk server and for `idp` on postgres-ext. */
const FLEET = {
    user: {
        type: MARIADB_SERVICE_USER_TYPE,
        name: "plesk-main-user",
        props: {
            connection: ADMIN,
            user: "svc_main",
            host: "10.10.20.100",
            password: "service-secret",
            tls: "SSL",
            database: "mo_main",
            privileges: ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "REFERENCES", "INDEX", "ALTER"],
            passwordState: "as declared",
            extraGrants: [],
        },
        opts: { protect: true, additionalSecretOutputs: ["connection", "password"] },
    },
    database: {
        type: MARIADB_DATABASE_TYPE,
        name: "plesk-main",
        props: { connection: ADMIN, name: "mo_main", charset: "utf8mb4", collation: "utf8mb4_unicode_ci", dropOnDelete: false },
        opts: { protect: true, additionalSecretOutputs: ["connection"] },
    },
    pgDatabase: {
        type: POSTGRES_DATABASE_TYPE,
        name: "postgres-ext-idp",
        props: { name: "mo_idp", owner: "svc_idp", template: "template1", encoding: "UTF8" },
        opts: { protect: true },
    },
    pgRole: {
        type: POSTGRES_ROLE_TYPE,
        name: "postgres-ext-idp-role",
        props: { name: "svc_idp", login: true, password: "service-secret" },
        opts: { protect: true },
    },
    pgGrant: {
        type: POSTGRES_GRANT_TYPE,
        name: "postgres-ext-idp-no-public-connect",
        props: { database: "mo_idp", role: "public", objectType: "database", privileges: [] },
    },
    pgProvider: {
        type: POSTGRES_PROVIDER_TYPE,
        name: "postgres-ext",
        props: { host: "10.10.30.30", port: "5432", username: "postgres", sslmode: "require", superuser: "true" },
    },
    pgHba: {
        type: PG_HBA_BLOCK_TYPE,
        name: "postgres-ext-pg-hba",
        props: {
            ssh: { host: "10.10.30.30", port: 22, user: "deploy", privateKey: "key", hostKey: TEST_HOST_KEY },
            stack: "production",
            server: "postgres-ext",
            port: 5432,
            block: renderPgHbaBlock({ name: "postgres-ext", appHost: "10.10.20.100", databases: [{ database: "mo_idp", user: "svc_idp" }] }, "production"),
        },
        opts: { additionalSecretOutputs: ["ssh"] },
    },
    dataChange: {
        type: DATA_CHANGE_TYPE,
        name: "release-api-data",
        props: { service: "api", version: "1.1.0", databases: [], migrationCommand: "alembic upgrade head", colour: "green", address: "10.10.20.10:3001" },
        opts: { additionalSecretOutputs: ["databases"] },
    },
    backup: {
        type: LOCAL_COMMAND_TYPE,
        name: "release-api-backup-main",
        props: {
            create: renderBackupScript("mariadb", "verify-full"),
            environment: { MYSQL_PWD: "admin-secret", HOST: "10.10.30.20", PORT: "3306", USER: "admin", DB: "mo_main" },
        },
    },
} satisfies Record<string, ResourceCase>;

type Fixture = keyof typeof FLEET;

interface Change {
    props?: Record<string, unknown>;
    opts?: Partial<PolicyResourceOptions>;
}

function fixture(name: Fixture, change: Change = {}): ResourceCase {
    const base: ResourceCase = FLEET[name];
    return { ...base, props: { ...base.props, ...change.props }, opts: { ...base.opts, ...change.opts } };
}

async function violations(name: Fixture, change: Change = {}, configs: PolicyConfigs = {}): Promise<string[]> {
    return allResourceViolations(databasePolicies, resourceArgs(fixture(name, change)), configs);
}

const HBA_ALLOW = "hostssl mo_idp svc_idp 10.10.20.100/32 scram-sha-256";

/** The rendered pg_hba block with its allow line replaced by `line`. */
function hbaWith(line: string): Change {
    const block = FLEET.pgHba.props.block;
    if (!block.includes(HBA_ALLOW)) throw new Error("the rendered block has changed: update HBA_ALLOW");
    return { props: { block: block.replace(HBA_ALLOW, line) } };
}

describe("database policies", () => {
    test("the type tokens are the resources' own", () => {
        const tokenOf = (cls: unknown): string => (cls as { __pulumiType: string }).__pulumiType;
        expect(MARIADB_SERVICE_USER_TYPE).toBe(USER_CLASS_TYPE);
        expect(MARIADB_DATABASE_TYPE).toBe(DATABASE_CLASS_TYPE);
        expect(POSTGRES_ROLE_TYPE).toBe(tokenOf(postgresql.Role));
        expect(POSTGRES_DATABASE_TYPE).toBe(tokenOf(postgresql.Database));
        expect(POSTGRES_GRANT_TYPE).toBe(tokenOf(postgresql.Grant));
        expect(POSTGRES_PROVIDER_TYPE).toBe(`pulumi:providers:${tokenOf(postgresql.Provider)}`);
        expect(REMOTE_COMMAND_TYPE).toBe(tokenOf(command.remote.Command));
        expect(LOCAL_COMMAND_TYPE).toBe(tokenOf(command.local.Command));
        expect(PG_HBA_BLOCK_TYPE).toBe(PG_HBA_BLOCK_CLASS_TYPE);
        expect(DATA_CHANGE_TYPE).toBe(DATA_CHANGE_CLASS_TYPE);
    });

    test("the allowed grant set is the fleet's", () => {
        expect(ALLOWED).toBe(SERVICE_PRIVILEGES.join(", "));
    });

    test.each(Object.keys(FLEET) as Fixture[])("passes the fleet's %s", async (name) => {
        expect(await violations(name)).toEqual([]);
    });

    test.each<[string, Fixture, Change]>([
        ["privileges in another case and order", "user", { props: { privileges: ["select", "insert", "update", "delete", "create", "alter", "index", "references"] } }],
        ["the postgresql backup script", "backup", { props: { create: renderBackupScript("postgresql", "verify-full") } }],
        ["the local deploy script", "backup", { props: { create: LOCAL_DEPLOY_SCRIPT } }],
        ["a password from the environment", "backup", { props: { create: 'PGPASSWORD="$ADMIN_PASSWORD" pg_dump -Fc "$DB"; mysql --password < /dev/null' } }],
        ["flags that only look like -p", "backup", { props: { create: 'mkdir -p "$DIR" && mysql -P 3306 -h db && ssh -p22 db' } }],
        ["SQL with a password from the environment over stdin", "backup", { props: { create: "psql <<SQL\nALTER ROLE svc PASSWORD '$PW';\nSQL\n" } }],
        ["a setting named like a password", "backup", { props: { create: "psql -c \"SET password_encryption = 'scram-sha-256'\"" } }],
        ["a migration that takes its password from its own environment", "dataChange", { props: { migrationCommand: 'PGPASSWORD="$APP_DB_PASSWORD" alembic upgrade head' } }],
        ["pg_hba lines on another command's stdin", "backup", { props: { stdin: "host all all 0.0.0.0/0 trust\n" } }],
        ["a pg_hba rule written with a full host mask", "pgHba", hbaWith("hostssl mo_idp svc_idp 10.10.20.100 255.255.255.255 scram-sha-256")],
        ["a pg_hba rule for one IPv6 host", "pgHba", hbaWith("hostssl mo_idp svc_idp fd00::5/128 scram-sha-256")],
    ])("passes %s", async (_case, name, change) => {
        expect(await violations(name, change)).toEqual([]);
    });

    test.each<[string, Fixture, Change, string[]]>([
        // databases-no-wildcard-host
        [
            "a user for any host",
            "user",
            { props: { host: "%" } },
            ["databases-no-wildcard-host: plesk-main-user: the account 'svc_main'@'%' accepts clients from any host (empty, % and _ are wildcards): bind it to the app host's address"],
        ],
        [
            "a user for a network",
            "user",
            { props: { host: "10.10.20.%" } },
            ["databases-no-wildcard-host: plesk-main-user: the account 'svc_main'@'10.10.20.%' accepts clients from any host (empty, % and _ are wildcards): bind it to the app host's address"],
        ],
        [
            "a user without host",
            "user",
            { props: { host: "" } },
            ["databases-no-wildcard-host: plesk-main-user: the account 'svc_main'@'' accepts clients from any host (empty, % and _ are wildcards): bind it to the app host's address"],
        ],
        [
            "a pg_hba rule for every address",
            "pgHba",
            hbaWith("hostssl mo_idp svc_idp 0.0.0.0/0 scram-sha-256"),
            ['databases-no-wildcard-host: postgres-ext-pg-hba: the pg_hba line "hostssl mo_idp svc_idp 0.0.0.0/0 scram-sha-256" lets in any host: name the app host alone (<address>/32)'],
        ],
        [
            "a pg_hba rule for a subnet",
            "pgHba",
            hbaWith("hostssl mo_idp svc_idp 10.10.20.0/24 scram-sha-256"),
            ['databases-no-wildcard-host: postgres-ext-pg-hba: the pg_hba line "hostssl mo_idp svc_idp 10.10.20.0/24 scram-sha-256" lets in a network of hosts (/24): name the app host alone (<address>/32)'],
        ],
        [
            "a pg_hba rule for a subnet by mask",
            "pgHba",
            hbaWith("hostssl mo_idp svc_idp 10.10.20.0 255.255.255.0 scram-sha-256"),
            [
                'databases-no-wildcard-host: postgres-ext-pg-hba: the pg_hba line "hostssl mo_idp svc_idp 10.10.20.0 255.255.255.0 scram-sha-256" lets in a network of hosts (mask 255.255.255.0): name the app host alone (<address>/32)',
            ],
        ],
        [
            "a pg_hba rule for a domain",
            "pgHba",
            hbaWith("hostssl mo_idp svc_idp .example.com scram-sha-256"),
            ['databases-no-wildcard-host: postgres-ext-pg-hba: the pg_hba line "hostssl mo_idp svc_idp .example.com scram-sha-256" lets in every host of a domain: name the app host alone (<address>/32)'],
        ],
        // databases-grants-allowed
        [
            "ALL PRIVILEGES",
            "user",
            { props: { privileges: [...SERVICE_PRIVILEGES, "ALL PRIVILEGES"] } },
            [`databases-grants-allowed: plesk-main-user (svc_main on mo_main) asks for ALL PRIVILEGES: list the allowed privileges one by one (${ALLOWED})`],
        ],
        [
            "ALL PRIVILEGES alone (one message: the allowed set is named in it)",
            "user",
            { props: { privileges: ["ALL PRIVILEGES"] } },
            [`databases-grants-allowed: plesk-main-user (svc_main on mo_main) asks for ALL PRIVILEGES: list the allowed privileges one by one (${ALLOWED})`],
        ],
        [
            "GRANT OPTION",
            "user",
            { props: { privileges: [...SERVICE_PRIVILEGES, "grant option"] } },
            [`databases-grants-allowed: plesk-main-user (svc_main on mo_main) asks for GRANT OPTION: list the allowed privileges one by one (${ALLOWED})`],
        ],
        [
            "a global privilege",
            "user",
            { props: { privileges: [...SERVICE_PRIVILEGES, "SUPER", "FILE"] } },
            ["databases-grants-allowed: plesk-main-user (svc_main on mo_main) asks for SUPER and FILE, not database-level privileges: global privileges are never granted; remove them"],
        ],
        [
            "a database privilege beyond the allowed set",
            "user",
            { props: { privileges: [...SERVICE_PRIVILEGES, "DROP"] } },
            [`databases-grants-allowed: plesk-main-user (svc_main on mo_main) asks for DROP beyond the allowed set (${ALLOWED}): remove them`],
        ],
        [
            "a privilege of the set missing",
            "user",
            { props: { privileges: SERVICE_PRIVILEGES.filter((p) => p !== "INDEX") } },
            [`databases-grants-allowed: plesk-main-user (svc_main on mo_main) lacks INDEX of the allowed set (${ALLOWED}): grant exactly that set`],
        ],
        [
            "grants on another database",
            "user",
            { props: { extraGrants: ["SELECT ON `mo_other`.*"] } },
            ["databases-grants-allowed: plesk-main-user (svc_main on mo_main) declares grants beyond its database (SELECT ON `mo_other`.*): declare none; the provider revokes what it finds"],
        ],
        [
            "a PostgreSQL grant of ALL",
            "pgGrant",
            { props: { privileges: ["ALL"] } },
            ["databases-grants-allowed: postgres-ext-idp-no-public-connect grants ALL to public: name the privileges one by one"],
        ],
        [
            "a PostgreSQL grant with grant option",
            "pgGrant",
            { props: { withGrantOption: true } },
            ["databases-grants-allowed: postgres-ext-idp-no-public-connect lets public grant its privileges on (withGrantOption): set withGrantOption false"],
        ],
        [
            "a PostgreSQL superuser",
            "pgRole",
            { props: { superuser: true } },
            ["databases-grants-allowed: postgres-ext-idp-role (role svc_idp) has superuser: a service role gets no cluster-wide attribute; set them false"],
        ],
        [
            "a PostgreSQL role that creates roles and replicates",
            "pgRole",
            { props: { createRole: true, replication: true } },
            ["databases-grants-allowed: postgres-ext-idp-role (role svc_idp) has createRole and replication: a service role gets no cluster-wide attribute; set them false"],
        ],
        // databases-protected
        [
            "an unprotected MariaDB database",
            "database",
            { opts: { protect: false } },
            ["databases-protected: plesk-main (database mo_main) is not protected: declare it with protect: true (and retainOnDelete: true)"],
        ],
        [
            "a MariaDB database dropped on delete",
            "database",
            { props: { dropOnDelete: true } },
            ["databases-protected: plesk-main (database mo_main) sets dropOnDelete: removing it from the stack would drop its data; set it false"],
        ],
        [
            "an unprotected PostgreSQL database",
            "pgDatabase",
            { opts: { protect: false } },
            ["databases-protected: postgres-ext-idp (database mo_idp) is not protected: declare it with protect: true (and retainOnDelete: true)"],
        ],
        // databases-postgres-hostssl-scram
        [
            "a pg_hba rule without TLS",
            "pgHba",
            hbaWith("host mo_idp svc_idp 10.10.20.100/32 scram-sha-256"),
            [
                'databases-postgres-hostssl-scram: postgres-ext-pg-hba: the pg_hba line "host mo_idp svc_idp 10.10.20.100/32 scram-sha-256" accepts host connections: only hostssl lines may let a client in; make it hostssl or reject',
            ],
        ],
        [
            "a pg_hba rule with md5",
            "pgHba",
            hbaWith("hostssl mo_idp svc_idp 10.10.20.100/32 md5"),
            ['databases-postgres-hostssl-scram: postgres-ext-pg-hba: the pg_hba line "hostssl mo_idp svc_idp 10.10.20.100/32 md5" authenticates with md5: use scram-sha-256'],
        ],
        [
            "a pg_hba rule for the unix socket",
            "pgHba",
            hbaWith("local mo_idp svc_idp peer"),
            [
                'databases-postgres-hostssl-scram: postgres-ext-pg-hba: the pg_hba line "local mo_idp svc_idp peer" accepts local connections: only hostssl lines may let a client in; make it hostssl or reject',
            ],
        ],
        [
            "an include in the managed block",
            "pgHba",
            hbaWith("include_if_exists extra_hba.conf"),
            [
                'databases-postgres-hostssl-scram: postgres-ext-pg-hba: the pg_hba line "include_if_exists extra_hba.conf" is not a client rule: the managed block holds its hostssl and reject rules itself',
            ],
        ],
        [
            "the admin connection without TLS",
            "pgProvider",
            { props: { sslmode: "disable" } },
            ["databases-postgres-hostssl-scram: postgres-ext connects to PostgreSQL with sslmode disable: use require, verify-ca or verify-full"],
        ],
        [
            "the admin connection with libpq's default",
            "pgProvider",
            { props: { sslmode: undefined } },
            ["databases-postgres-hostssl-scram: postgres-ext connects to PostgreSQL with sslmode unset (prefer): use require, verify-ca or verify-full"],
        ],
        // databases-no-plaintext-password
        [
            "a user whose password is not secret in the state",
            "user",
            { opts: { additionalSecretOutputs: ["connection"] } },
            ["databases-no-plaintext-password: plesk-main-user does not mark password secret (additionalSecretOutputs): the state would hold a password or key in plaintext; add them"],
        ],
        [
            "a password in a migration command",
            "dataChange",
            { props: { migrationCommand: "mysql -uroot -ps3cret mo_main < migrate.sql" } },
            [
                "databases-no-plaintext-password: release-api-data has a password in its migration command (-p<password>): pass it through the command's environment (MYSQL_PWD, PGPASSWORD) or stdin; the command text is stored in the state and shown in every diff",
            ],
        ],
        [
            "a data change whose admin passwords are not secret in the state",
            "dataChange",
            { opts: { additionalSecretOutputs: [] } },
            ["databases-no-plaintext-password: release-api-data does not mark databases secret (additionalSecretOutputs): the state would hold a password or key in plaintext; add them"],
        ],
        [
            "a pg_hba block whose ssh key is not secret in the state",
            "pgHba",
            { opts: { additionalSecretOutputs: [] } },
            ["databases-no-plaintext-password: postgres-ext-pg-hba does not mark ssh secret (additionalSecretOutputs): the state would hold a password or key in plaintext; add them"],
        ],
        [
            "a database whose admin connection is not secret in the state",
            "database",
            { opts: { additionalSecretOutputs: [] } },
            ["databases-no-plaintext-password: plesk-main does not mark connection secret (additionalSecretOutputs): the state would hold a password or key in plaintext; add them"],
        ],
    ])("refuses %s", async (_case, name, change, expected) => {
        expect(await violations(name, change)).toEqual(expected);
    });

    const PASSWORD_FIX =
        "pass it through the command's environment (MYSQL_PWD, PGPASSWORD) or stdin; the command text is stored in the state and shown in every diff";

    test.each<[string, string, string]>([
        ["IDENTIFIED BY '…'", "create", `mysql -e "CREATE USER 'svc'@'10.0.0.5' IDENTIFIED BY 's3cret'"`],
        ["PASSWORD '…'", "create", `psql -c "ALTER ROLE svc WITH LOGIN PASSWORD 's3cret'"`],
        ["PASSWORD '…'", "update", `mysql -e "SET PASSWORD FOR 'svc'@'h' = PASSWORD('s3cret')"`],
        ["--password=…", "create", "mysqldump --password=s3cret mo_main > dump.sql"],
        ["-p<password>", "create", "mysql -uroot -ps3cret -e 'SELECT 1'"],
        ["-p<password>", "delete", 'mariadb-dump -h db -p"$PW" mo_main'],
        ["MYSQL_PWD=…", "create", "MYSQL_PWD=s3cret mysqldump mo_main"],
        ["PGPASSWORD=…", "create", "export PGPASSWORD='s3cret'; pg_dump mo_idp"],
        ["a URL with user:password@", "create", "pg_dump postgresql://svc:s3cret@10.0.0.5/mo_idp"],
    ])("refuses a password in a command: %s in %s", async (kind, field, text) => {
        const expected = [`databases-no-plaintext-password: release-api-backup-main has a password in its ${field} command (${kind}): ${PASSWORD_FIX}`];
        const found = await violations("backup", { props: { create: FLEET.backup.props.create, [field]: text } });
        expect(found).toEqual(expected);
        expect(found.join("\n")).not.toContain("s3cret");
    });

    test("names every kind of password a command carries, never the password", () => {
        expect(passwordsInCommand("MYSQL_PWD=s3cret mysql -uroot -ps3cret")).toEqual(["-p<password>", "MYSQL_PWD=…"]);
    });

    describe("databases-per-server-limit (on the release gate)", () => {
        const plesk = (count: number, limit?: number): ReleaseGateInputs["databases"] =>
            Array.from({ length: count }, (_, i) => ({ server: "plesk", engine: "mariadb", database: `mo_${i + 1}`, ...(limit === undefined ? {} : { maxDatabasesOnServer: limit }) }));
        const gateViolations = (change: (g: ReleaseGateInputs) => void, configs: PolicyConfigs = {}): Promise<string[]> =>
            allResourceViolations(databasePolicies, gateArgs(change), configs);

        test.each<[string, (g: ReleaseGateInputs) => void, PolicyConfigs?]>([
            ["five databases on plesk", (g) => void (g.databases = plesk(5, 5))],
            ["many databases on a server without a limit", (g) => void (g.databases = Array.from({ length: 9 }, (_, i) => ({ server: "mariadb-ext", engine: "mariadb", database: `mo_${i}` })))],
            ["six databases on plesk where the stack config and the policy config allow them", (g) => void (g.databases = plesk(6)), { "databases-per-server-limit": { maxDatabasesPerServer: { plesk: 6 } } }],
        ])("passes %s", async (_case, change, configs) => {
            expect(await gateViolations(change, configs)).toEqual([]);
        });

        test.each<[string, (g: ReleaseGateInputs) => void, string[], PolicyConfigs?]>([
            [
                "six databases on plesk (stack config: at most 5)",
                (g) => void (g.databases = plesk(6, 5)),
                ["databases-per-server-limit: the plesk server would hold 6 databases (mo_1, mo_2, mo_3, mo_4, mo_5, mo_6), at most 5: move 1 to another server"],
                { "databases-per-server-limit": { maxDatabasesPerServer: {} } },
            ],
            [
                "six databases on plesk (policy default: at most 5)",
                (g) => void (g.databases = plesk(6)),
                ["databases-per-server-limit: the plesk server would hold 6 databases (mo_1, mo_2, mo_3, mo_4, mo_5, mo_6), at most 5: move 1 to another server"],
            ],
            [
                "two databases where the policy config allows one",
                (g) => void g.databases.push({ server: "postgres-ext", engine: "postgresql", database: "mo_grafana" }),
                ["databases-per-server-limit: the postgres-ext server would hold 2 databases (mo_idp, mo_grafana), at most 1: move 1 to another server"],
                { "databases-per-server-limit": { maxDatabasesPerServer: { "postgres-ext": 1 } } },
            ],
        ])("refuses %s", async (_case, change, expected, configs) => {
            expect(await gateViolations(change, configs)).toEqual(expected);
        });
    });
});

describe("databases-host-firewall (on the release gate)", () => {
    const gateViolations = (change: (g: ReleaseGateInputs) => void): Promise<string[]> => allResourceViolations(databasePolicies, gateArgs(change), {});

    test.each<[string, (g: ReleaseGateInputs) => void]>([
        ["the passing gate: plesk guarded by Plesk, postgres-ext by ufw", () => undefined],
        ["nftables", (g) => void (g.servers = [{ name: "mariadb-ext", engine: "mariadb", firewall: "nftables" }])],
    ])("passes %s", async (_case, change) => {
        expect(await gateViolations(change)).toEqual([]);
    });

    test("refuses a database server without a host firewall", async () => {
        expect(await gateViolations((g) => void (g.servers = [{ name: "mariadb-ext", engine: "mariadb", firewall: "none" }]))).toEqual([
            "databases-host-firewall: the mariadb-ext server has no host firewall (firewall: none): its mariadb port is open to every host; use nftables or ufw (or plesk on the Plesk host)",
        ]);
    });
});
