// A MariaDB database as a Pulumi dynamic resource: created, read back, altered, never dropped by accident.
import * as pulumi from "@pulumi/pulumi";
import { withAdminConnection, type MariaDbAdminConnection } from "./connection";
import {
    alterDatabaseSql,
    createDatabaseSql,
    DEFAULT_CHARSET,
    DEFAULT_COLLATION,
    dropDatabaseSql,
    READ_DATABASE_SQL,
} from "./sql";

/** What the provider receives (all values resolved). */
export interface MariaDbDatabaseInputs {
    connection: MariaDbAdminConnection;
    name: string;
    charset: string;
    collation: string;
    /**
     * Only for scratch databases (tests): lets a delete drop the database. Platform databases
     * never set it, and carry `protect` and `retainOnDelete` besides.
     */
    dropOnDelete: boolean;
}

export type MariaDbDatabaseOutputs = MariaDbDatabaseInputs;

/** Fields whose change means a different database: a replace, which `protect` then refuses. */
const REPLACE_FIELDS = ["name", "connection.host", "connection.port"] as const;

function replaceKeys(olds: MariaDbDatabaseOutputs, news: MariaDbDatabaseInputs): string[] {
    const keys: string[] = [];
    if (olds.name !== news.name) keys.push("name");
    if (olds.connection.host !== news.connection.host) keys.push("connection.host");
    if (olds.connection.port !== news.connection.port) keys.push("connection.port");
    return keys;
}

export const mariaDbDatabaseProvider: pulumi.dynamic.ResourceProvider<MariaDbDatabaseInputs, MariaDbDatabaseOutputs> = {
    async create(inputs) {
        await withAdminConnection(inputs.connection, async (c) => {
            await c.query(createDatabaseSql(inputs.name, inputs.charset, inputs.collation));
            // An adopted database may have another charset: bring it to the declared one.
            await c.query(alterDatabaseSql(inputs.name, inputs.charset, inputs.collation));
        });
        return { id: `${inputs.connection.host}:${inputs.connection.port}/${inputs.name}`, outs: inputs };
    },

    async read(id, props) {
        if (!props) throw new Error(`cannot read MariaDB database ${id} without its connection (import is not supported)`);
        const rows = await withAdminConnection(props.connection, (c) =>
            c.query<{ charset: string; collation: string }[]>(READ_DATABASE_SQL, [props.name]),
        );
        const row = rows[0];
        // Gone on the server: an empty result tells the engine, so refresh shows it and up recreates it.
        if (!row) return {};
        return { id, props: { ...props, charset: row.charset, collation: row.collation } };
    },

    async diff(_id, olds, news) {
        const replaces = replaceKeys(olds, news);
        const changed =
            replaces.length > 0 ||
            olds.charset !== news.charset ||
            olds.collation !== news.collation ||
            olds.dropOnDelete !== news.dropOnDelete ||
            olds.connection.user !== news.connection.user ||
            olds.connection.password !== news.connection.password ||
            olds.connection.tls !== news.connection.tls ||
            olds.connection.caFile !== news.connection.caFile;
        return { changes: changed, replaces, deleteBeforeReplace: false };
    },

    async update(_id, _olds, news) {
        await withAdminConnection(news.connection, (c) => c.query(alterDatabaseSql(news.name, news.charset, news.collation)));
        return { outs: news };
    },

    async delete(id, props) {
        if (!props.dropOnDelete) {
            throw new Error(
                `refusing to drop MariaDB database ${props.name} (${id}): platform databases are never dropped by Pulumi; ` +
                    "drop it by hand after a backup if that is really meant, then `pulumi state delete` the resource",
            );
        }
        await withAdminConnection(props.connection, (c) => c.query(dropDatabaseSql(props.name)));
    },
};

export interface MariaDbDatabaseArgs {
    connection: pulumi.Input<{ [K in keyof MariaDbAdminConnection]: pulumi.Input<MariaDbAdminConnection[K]> }>;
    name: pulumi.Input<string>;
    charset?: pulumi.Input<string>;
    collation?: pulumi.Input<string>;
    dropOnDelete?: pulumi.Input<boolean>;
}

/** The type token the engine records (dynamic resources live under `pulumi-nodejs:dynamic/`). */
export const MARIADB_DATABASE_TYPE = "pulumi-nodejs:dynamic/databases:MariaDbDatabase";

/** One database on a MariaDB server (`utf8mb4` / `utf8mb4_unicode_ci` unless told otherwise). */
export class MariaDbDatabase extends pulumi.dynamic.Resource {
    public declare readonly name: pulumi.Output<string>;
    public declare readonly charset: pulumi.Output<string>;
    public declare readonly collation: pulumi.Output<string>;

    constructor(name: string, args: MariaDbDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            mariaDbDatabaseProvider,
            name,
            {
                connection: pulumi.secret(args.connection),
                name: args.name,
                charset: args.charset ?? DEFAULT_CHARSET,
                collation: args.collation ?? DEFAULT_COLLATION,
                dropOnDelete: args.dropOnDelete ?? false,
            },
            // The connection holds the admin password: keep it secret in the state's outputs too.
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["connection"] }),
            "databases",
            "MariaDbDatabase",
        );
    }
}

export { REPLACE_FIELDS as MARIADB_DATABASE_REPLACE_FIELDS };
