// The database fleet: per server its admin connection, and per database the data holder and its credentials.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DatabaseServerSpec, DatabaseSpec } from "../config";
import { declareHostFirewall } from "./firewall";
import { declareMariaDbServer } from "./mariadb/server";
import { declarePostgresServer } from "./postgres/server";

/** Characters a generated password may hold: no quote, backslash, `$`, `@` or `/` (they break SQL, shells or URLs). */
export const PASSWORD_SPECIALS = "!#%&*()-_=+[]{}<>:?";
export const PASSWORD_LENGTH = 32;

export interface DatabaseFleetArgs {
    servers: DatabaseServerSpec[];
    /** Admin password per server name (secret config). */
    adminPasswords: Record<string, pulumi.Input<string>>;
    /** Service-user passwords taken from secret config, by database short name; others are generated. */
    configuredPasswords: Record<string, pulumi.Input<string>>;
    /** SSH private keys by target name (a server's name), for the commands run on database hosts. */
    sshPrivateKeys: Record<string, pulumi.Input<string>>;
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
    /** How a client verifies the server (the admin connection's mode and CA): db:check connects the same way. */
    tls: { mode: string; caFile?: string };
}

export class DatabaseFleet extends pulumi.ComponentResource {
    public readonly endpoints: DatabaseEndpoint[] = [];

    constructor(name: string, args: DatabaseFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:databases:DatabaseFleet", name, {}, opts);
        for (const server of args.servers) {
            const adminPassword = args.adminPasswords[server.name];
            if (adminPassword === undefined) throw new Error(`databases.servers.${server.name}: no admin password (secret dbAdminPassword.${server.name})`);
            const declare = server.engine === "mariadb" ? declareMariaDbServer : declarePostgresServer;
            const sshPrivateKey = args.sshPrivateKeys[server.name];
            const resources = declare(this, server, adminPassword, sshPrivateKey);
            declareHostFirewall(this, server, sshPrivateKey);
            for (const db of server.databases) {
                const password = this.servicePassword(db, args.configuredPasswords);
                resources.addDatabase(db, password);
                this.endpoints.push({
                    server: server.name,
                    engine: server.engine,
                    host: server.admin.host,
                    port: server.admin.port,
                    database: db.database,
                    user: db.user,
                    password,
                    tls: { mode: server.admin.tls.mode, ...(server.admin.tls.caFile === undefined ? {} : { caFile: server.admin.tls.caFile }) },
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
}
