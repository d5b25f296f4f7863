// Everything Pulumi manages on one PostgreSQL server: an explicit provider, per database its role and database.
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec, DatabaseSpec } from "../../config";
import { DATA_GUARD, type ServerResources } from "../common";

export function declarePostgresServer(
    parent: pulumi.Resource,
    server: DatabaseServerSpec,
    adminPassword: pulumi.Input<string>,
    _sshPrivateKey: pulumi.Input<string> | undefined,
): ServerResources {
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
        { parent },
    );
    return {
        addDatabase(db: DatabaseSpec, password: pulumi.Output<string>): void {
            const role = new postgresql.Role(
                `${server.name}-${db.name}-role`,
                { name: db.user, login: true, password },
                { parent, provider, ...DATA_GUARD },
            );
            new postgresql.Database(
                `${server.name}-${db.name}`,
                { name: db.database, owner: role.name, template: "template1", encoding: "UTF8", lcCollate: "C.UTF-8", lcCtype: "C.UTF-8" },
                { parent, provider, ...DATA_GUARD },
            );
        },
    };
}
