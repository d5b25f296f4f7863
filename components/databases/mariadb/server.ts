// Everything Pulumi manages on one MariaDB server: per database the database, and its service user with its grants.
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec, DatabaseSpec } from "../../config";
import { DATA_GUARD, type ServerResources } from "../common";
import { MariaDbDatabase } from "./database";
import { SERVICE_PRIVILEGES } from "./grants";
import type { TlsRequirement } from "./sql";
import { MariaDbServiceUser } from "./user";

/**
 * Service users are protected like their databases: removing a database from config is refused
 * for both. They are not retained on delete: once someone unprotects and removes one on purpose,
 * the account is dropped, because a live credential nobody manages any more is the greater risk
 * (the database itself is always retained).
 */
export const SERVICE_USER_GUARD = { protect: true } as const satisfies pulumi.CustomResourceOptions;

/**
 * The TLS requirement of a server's service users: a server the admin reaches over TLS has TLS
 * set up, so the app's connections must use it too (`REQUIRE SSL`); a server reached without TLS
 * (the loopback stand-ins) cannot require it.
 */
export function serviceUserTls(server: Pick<DatabaseServerSpec, "admin">): TlsRequirement {
    return server.admin.tls.mode === "disable" ? "NONE" : "SSL";
}

export function declareMariaDbServer(
    parent: pulumi.Resource,
    server: DatabaseServerSpec,
    adminPassword: pulumi.Input<string>,
    _sshPrivateKey: pulumi.Input<string> | undefined,
): ServerResources {
    const connection = {
        host: server.admin.host,
        port: server.admin.port,
        user: server.admin.user,
        password: adminPassword,
        tls: server.admin.tls.mode,
        ...(server.admin.tls.caFile === undefined ? {} : { caFile: server.admin.tls.caFile }),
    };
    return {
        addDatabase(db: DatabaseSpec, password: pulumi.Output<string>): void {
            const database = new MariaDbDatabase(`${server.name}-${db.name}`, { connection, name: db.database }, { parent, ...DATA_GUARD });
            new MariaDbServiceUser(
                `${server.name}-${db.name}-user`,
                {
                    connection,
                    user: db.user,
                    host: server.appHost,
                    password,
                    tls: serviceUserTls(server),
                    database: db.database,
                    privileges: SERVICE_PRIVILEGES,
                },
                { parent, dependsOn: [database], ...SERVICE_USER_GUARD },
            );
        },
    };
}
