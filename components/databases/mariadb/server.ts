// Everything Pulumi manages on one MariaDB server: per database the database itself (users and grants next).
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec, DatabaseSpec } from "../../config";
import { DATA_GUARD, type ServerResources } from "../common";
import { MariaDbDatabase } from "./database";

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
    };
    return {
        addDatabase(db: DatabaseSpec, _password: pulumi.Output<string>): void {
            new MariaDbDatabase(`${server.name}-${db.name}`, { connection, name: db.database }, { parent, ...DATA_GUARD });
        },
    };
}
