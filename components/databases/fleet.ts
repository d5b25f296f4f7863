// The database fleet: per server its admin connection, and per database the data holder and its credentials.
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import type { DatabaseServerSpec, DatabaseSpec } from "../config";
import { MariaDbDatabase } from "./mariadb/database";

/** Characters a generated password may hold: no quote, backslash, `$`, `@` or `/` (they break SQL, shells or URLs). */
export const PASSWORD_SPECIALS = "!#%&*()-_=+[]{}<>:?";
export const PASSWORD_LENGTH = 32;

export interface DatabaseFleetArgs {
    servers: DatabaseServerSpec[];
    /** Admin password per server name (secret config). */
    adminPasswords: Record<string, pulumi.Input<string>>;
    /** Service-user passwords taken from secret config, by database short name; others are generated. */
    configuredPasswords: Record<string, pulumi.Input<string>>;
}

/** What the fleet exports per database (the password stays a secret Output). */
export interface DatabaseEndpoint {
    server: string;
    engine: string;
    host: string;
    port: number;
    database: string;
    user: string;
    password: pulumi.Output<string>;
}

/** Data-holding resources are never deleted or replaced by accident: protected, and kept if removed. */
const DATA_GUARD: pulumi.CustomResourceOptions = { protect: true, retainOnDelete: true };

export class DatabaseFleet extends pulumi.ComponentResource {
    public readonly endpoints: DatabaseEndpoint[] = [];

    constructor(name: string, args: DatabaseFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:databases:DatabaseFleet", name, {}, opts);
        for (const server of args.servers) {
            const adminPassword = args.adminPasswords[server.name];
            if (adminPassword === undefined) throw new Error(`databases.servers.${server.name}: no admin password (secret dbAdminPassword.${server.name})`);
            const addDatabase = server.engine === "mariadb" ? this.mariaDbDatabases(server, adminPassword) : this.postgresDatabases(server, adminPassword);
            for (const db of server.databases) {
                const password = this.servicePassword(db, args.configuredPasswords);
                addDatabase(db, password);
                this.endpoints.push({
                    server: server.name,
                    engine: server.engine,
                    host: server.admin.host,
                    port: server.admin.port,
                    database: db.database,
                    user: db.user,
                    password,
                });
            }
        }
        this.registerOutputs({});
    }

    private servicePassword(db: DatabaseSpec, configured: Record<string, pulumi.Input<string>>): pulumi.Output<string> {
        const fromConfig = configured[db.name];
        if (db.credentialSource === "config") {
            if (fromConfig === undefined) throw new Error(`databases: ${db.name} takes its password from secret config dbPassword.${db.name}, which is not set`);
            return pulumi.secret(fromConfig);
        }
        const generated = new random.RandomPassword(
            `${db.server}-${db.name}-password`,
            { length: PASSWORD_LENGTH, special: true, overrideSpecial: PASSWORD_SPECIALS, minLower: 2, minUpper: 2, minNumeric: 2 },
            { parent: this },
        );
        return generated.result;
    }

    private mariaDbDatabases(server: DatabaseServerSpec, adminPassword: pulumi.Input<string>) {
        const connection = {
            host: server.admin.host,
            port: server.admin.port,
            user: server.admin.user,
            password: adminPassword,
            tls: server.admin.tls.mode,
        };
        return (db: DatabaseSpec, _password: pulumi.Output<string>): void => {
            new MariaDbDatabase(`${server.name}-${db.name}`, { connection, name: db.database }, { parent: this, ...DATA_GUARD });
        };
    }

    private postgresDatabases(server: DatabaseServerSpec, adminPassword: pulumi.Input<string>) {
        // One explicit provider per server: nothing ever falls back to ambient PG* settings.
        const provider = new postgresql.Provider(
            server.name,
            {
                host: server.admin.host,
                port: server.admin.port,
                username: server.admin.user,
                password: adminPassword,
                sslmode: server.admin.tls.mode,
                superuser: true,
                database: "postgres",
                connectTimeout: 10,
            },
            { parent: this },
        );
        return (db: DatabaseSpec, password: pulumi.Output<string>): void => {
            const role = new postgresql.Role(
                `${server.name}-${db.name}-role`,
                { name: db.user, login: true, password },
                { parent: this, provider, protect: true, retainOnDelete: true },
            );
            new postgresql.Database(
                `${server.name}-${db.name}`,
                { name: db.database, owner: role.name, template: "template1", encoding: "UTF8", lcCollate: "C.UTF-8", lcCtype: "C.UTF-8" },
                { parent: this, provider, ...DATA_GUARD },
            );
        };
    }
}
