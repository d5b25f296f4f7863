// Everything Pulumi manages on one PostgreSQL server: an explicit provider, its pg_hba.conf rules, per database its role and database.
import * as command from "@pulumi/command";
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec, DatabaseSpec } from "../../config";
import { requireHostKey } from "../../remote/pinning";
import { DATA_GUARD, type ServerResources } from "../common";
import { pgHbaScript, renderPgHbaBlock } from "./hba";

export function declarePostgresServer(
    parent: pulumi.Resource,
    server: DatabaseServerSpec,
    adminPassword: pulumi.Input<string>,
    sshPrivateKey: pulumi.Input<string> | undefined,
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
            sslrootcert: server.admin.tls.caFile,
            superuser: true,
            database: "postgres",
            connectTimeout: 10,
            // Known, so configuring the provider connects nowhere: a preview contacts no server.
            expectedVersion: server.version,
        },
        { parent },
    );
    const hba = declarePgHbaRules(parent, server, sshPrivateKey);
    return {
        addDatabase(db: DatabaseSpec, password: pulumi.Output<string>): void {
            // The password goes to the server in clear inside TLS; the server stores it hashed as
            // its password_encryption says (scram-sha-256). The role waits for the pg_hba rules, so a
            // service user never exists while a broader rule of the file could let it in.
            const role = new postgresql.Role(
                `${server.name}-${db.name}-role`,
                { name: db.user, login: true, password },
                { parent, provider, dependsOn: hba ? [hba] : [], ...DATA_GUARD },
            );
            const database = new postgresql.Database(
                `${server.name}-${db.name}`,
                { name: db.database, owner: role.name, template: "template1", encoding: "UTF8", lcCollate: "C.UTF-8", lcCtype: "C.UTF-8" },
                { parent, provider, ...DATA_GUARD },
            );
            // PostgreSQL grants CONNECT on every new database to PUBLIC: take it back, only the owner connects.
            new postgresql.Grant(
                `${server.name}-${db.name}-no-public-connect`,
                { database: database.name, role: "public", objectType: "database", privileges: [] },
                { parent, provider },
            );
        },
    };
}

/**
 * Installs the server's managed pg_hba.conf block over SSH. The scripts are fixed per stack and
 * server; the block travels on stdin, so the resource changes (and the host reloads) only when
 * the rendered rules change. Deleting the resource takes the block out again.
 */
function declarePgHbaRules(
    parent: pulumi.Resource,
    server: DatabaseServerSpec,
    sshPrivateKey: pulumi.Input<string> | undefined,
): command.remote.Command | undefined {
    const block = renderPgHbaBlock(server, pulumi.getStack());
    if (block === "") return undefined;
    if (server.ssh === undefined) throw new Error(`databases.servers.${server.name}.ssh: pg_hba.conf is managed over SSH: this server needs an ssh target`);
    if (sshPrivateKey === undefined) throw new Error(`databases.servers.${server.name}.ssh: no SSH key (secret sshPrivateKey.${server.name})`);
    const scriptArgs = { stack: pulumi.getStack(), server: server.name, port: server.admin.port };
    const install = pgHbaScript("install", scriptArgs);
    return new command.remote.Command(
        `${server.name}-pg-hba`,
        {
            connection: {
                host: server.ssh.host,
                port: server.ssh.port,
                user: server.ssh.user,
                privateKey: pulumi.secret(sshPrivateKey),
                // A host that presents another key is refused before the script is sent.
                hostKey: requireHostKey(server.ssh, `databases.servers.${server.name}.ssh`),
            },
            create: install,
            update: install,
            delete: pgHbaScript("remove", scriptArgs),
            stdin: block,
            // Nothing to hand to the next run: the script reads the file itself.
            addPreviousOutputInEnv: false,
        },
        { parent },
    );
}
