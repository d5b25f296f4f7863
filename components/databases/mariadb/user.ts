// A MariaDB service user with its grants as a Pulumi dynamic resource: created, read back for drift, converged, dropped.
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "mariadb";
import {
    changedFields,
    observedState,
    PASSWORD_AS_DECLARED,
    planServiceUser,
    type DeclaredServiceUser,
    type ObservedAccount,
    type ServiceUserState,
} from "./account";
import { withAdminConnection, type MariaDbAdminConnection } from "./connection";
import { normalizePrivileges, summarizeGrants } from "./grants";
import { dropUserStatement, READ_ACCOUNT_SQL, showGrantsSql, type Statement, type TlsRequirement } from "./sql";

/** What the provider receives (all values resolved). */
export interface MariaDbServiceUserInputs extends DeclaredServiceUser {
    connection: MariaDbAdminConnection;
}

export interface MariaDbServiceUserOutputs extends ServiceUserState {
    connection: MariaDbAdminConnection;
}

/** Reads `'user'@'host'` and its grants; undefined when the account does not exist. */
async function readAccount(c: Connection, user: string, host: string, database: string): Promise<ObservedAccount | undefined> {
    const rows = await c.query<{ plugin: string; authenticationString: string; sslType: string }[]>(READ_ACCOUNT_SQL, [user, host]);
    const row = rows[0];
    if (!row) return undefined;
    const grantRows = await c.query<Record<string, string>[]>(showGrantsSql(user, host));
    // One column per row, named `Grants for user@host`.
    const lines = grantRows.map((r) => Object.values(r)[0] ?? "");
    return { plugin: row.plugin, authenticationString: row.authenticationString, sslType: row.sslType, ...summarizeGrants(lines, database) };
}

/**
 * Runs the statements in order. An error of a statement that carried a password is replaced by
 * one without the server's text, which may quote the statement and with it the password.
 */
export async function runStatements(c: Connection, statements: readonly Statement[]): Promise<void> {
    for (const statement of statements) {
        try {
            await c.query(statement.sql, statement.params.length > 0 ? statement.params : undefined);
        } catch (error) {
            if (!statement.secret) throw error;
            const code = (error as { code?: unknown }).code;
            throw new Error(`${statement.sql.replace(/\?/g, "<secret>")} failed (${typeof code === "string" ? code : "error"}); details withheld: they may quote the password`);
        }
    }
}

/** Brings the server to the declaration and returns the state read back after it. */
async function converge(inputs: MariaDbServiceUserInputs, previous?: { user: string; host: string }): Promise<MariaDbServiceUserOutputs> {
    const declared = { ...inputs, privileges: normalizePrivileges(inputs.privileges) };
    return withAdminConnection(inputs.connection, async (c) => {
        const before = await readAccount(c, declared.user, declared.host, declared.database);
        await runStatements(c, planServiceUser(declared, before, previous));
        const after = await readAccount(c, declared.user, declared.host, declared.database);
        if (!after) throw new Error(`MariaDB user ${declared.user}@${declared.host} is missing right after it was created`);
        const state = { ...observedState({ ...declared, passwordState: PASSWORD_AS_DECLARED, extraGrants: [] }, after), connection: inputs.connection };
        // Whatever the statements did, the server must now hold exactly the declaration.
        const left = changedFields(state, declared);
        if (left.length > 0) throw new Error(`MariaDB user ${declared.user}@${declared.host} still differs after converging: ${left.join(", ")}`);
        return state;
    });
}

function idOf(inputs: MariaDbServiceUserInputs): string {
    return `${inputs.connection.host}:${inputs.connection.port}/${inputs.user}`;
}

export const mariaDbServiceUserProvider: pulumi.dynamic.ResourceProvider<MariaDbServiceUserInputs, MariaDbServiceUserOutputs> = {
    async create(inputs) {
        // An account that already exists (set up by the runbooks) is adopted and converged.
        return { id: idOf(inputs), outs: await converge(inputs) };
    },

    async read(id, props) {
        if (!props) throw new Error(`cannot read MariaDB user ${id} without its connection (import is not supported)`);
        const observed = await withAdminConnection(props.connection, (c) => readAccount(c, props.user, props.host, props.database));
        // Gone on the server: an empty result tells the engine, so refresh shows it and up recreates it.
        if (!observed) return {};
        const state = { ...observedState(props, observed), connection: props.connection };
        // Returned as inputs too, so `preview --refresh` shows which field drifted, not just that one did.
        return { id, props: state, inputs: state };
    },

    async diff(_id, olds, news) {
        const replaces: string[] = [];
        if (olds.user !== news.user) replaces.push("user");
        // Another server is another account (the same guard as the database's).
        if (olds.connection.host !== news.connection.host || olds.connection.port !== news.connection.port) replaces.push("connection");
        const connectionChanged =
            olds.connection.user !== news.connection.user ||
            olds.connection.password !== news.connection.password ||
            olds.connection.tls !== news.connection.tls ||
            olds.connection.caFile !== news.connection.caFile;
        const fields = changedFields(olds, { ...news, privileges: normalizePrivileges(news.privileges) });
        return { changes: replaces.length > 0 || connectionChanged || fields.length > 0, replaces, deleteBeforeReplace: false };
    },

    async update(_id, olds, news) {
        // An app host change is an update: the new account is made complete before the old one is dropped.
        return { outs: await converge(news, { user: olds.user, host: olds.host }) };
    },

    async delete(_id, props) {
        // Reached only once the resource is unprotected and removed from config (or replaced): see README.
        await withAdminConnection(props.connection, async (c) => {
            const statement = dropUserStatement(props.user, props.host);
            await c.query(statement.sql);
        });
    },
};

export interface MariaDbServiceUserArgs {
    connection: pulumi.Input<{ [K in keyof MariaDbAdminConnection]: pulumi.Input<MariaDbAdminConnection[K]> }>;
    user: pulumi.Input<string>;
    /** The one client address allowed, never a wildcard. */
    host: pulumi.Input<string>;
    password: pulumi.Input<string>;
    tls: TlsRequirement;
    database: pulumi.Input<string>;
    /** Privileges on `database.*`; checked and normalized here, so a bad list fails before any step runs. */
    privileges: readonly string[];
}

/** The type token the engine records (dynamic resources live under `pulumi-nodejs:dynamic/`). */
export const MARIADB_SERVICE_USER_TYPE = "pulumi-nodejs:dynamic/databases:MariaDbServiceUser";

/** `'user'@'host'` with its password and TLS requirement, holding exactly `privileges` on `database.*` and nothing else. */
export class MariaDbServiceUser extends pulumi.dynamic.Resource {
    public declare readonly user: pulumi.Output<string>;
    public declare readonly host: pulumi.Output<string>;
    public declare readonly tls: pulumi.Output<string>;
    public declare readonly privileges: pulumi.Output<string[]>;
    public declare readonly passwordState: pulumi.Output<string>;
    public declare readonly extraGrants: pulumi.Output<string[]>;

    constructor(name: string, args: MariaDbServiceUserArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            mariaDbServiceUserProvider,
            name,
            {
                connection: pulumi.secret(args.connection),
                user: args.user,
                host: args.host,
                password: pulumi.secret(args.password),
                tls: args.tls,
                database: args.database,
                privileges: normalizePrivileges(args.privileges),
                // What the program declares for the read-back fields, so drift in them shows as a diff.
                passwordState: PASSWORD_AS_DECLARED,
                extraGrants: [],
            },
            // The admin connection and the service password stay secret in the state's outputs too.
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["connection", "password"] }),
            "databases",
            "MariaDbServiceUser",
        );
    }
}
