// Everything Pulumi manages on one PostgreSQL server: an explicit provider, its pg_hba.conf rules, per database its role and database.
import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec, DatabaseSpec } from "../../config";
import { requireHostKey } from "../../remote/pinning";
import { DATA_GUARD, type ServerResources } from "../common";
import { renderPgHbaBlock } from "./hba";
import { PgHbaBlock } from "./hba-block";

/**
 * The admin provider's settings: the server verified with the CA of `admin.tls` (verify-full outside
 * the local stack), the password from secret config, and the server's version, so that configuring
 * the provider connects nowhere (a preview contacts no server).
 */
export function postgresProviderArgs(server: Pick<DatabaseServerSpec, "admin" | "version">, adminPassword: pulumi.Input<string>): postgresql.ProviderArgs {
    return {
        host: server.admin.host,
        port: server.admin.port,
        username: server.admin.user,
        password: adminPassword,
        sslmode: server.admin.tls.mode,
        sslrootcert: server.admin.tls.caFile,
        superuser: true,
        database: "postgres",
        connectTimeout: 10,
        expectedVersion: server.version,
    };
}

export function declarePostgresServer(
    parent: pulumi.Resource,
    server: DatabaseServerSpec,
    adminPassword: pulumi.Input<string>,
    sshPrivateKey: pulumi.Input<string> | undefined,
): ServerResources {
    // One explicit provider per server: nothing ever falls back to ambient PG* settings.
    const provider = new postgresql.Provider(server.name, postgresProviderArgs(server, adminPassword), { parent });
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
 * Installs the server's managed pg_hba.conf block over SSH (with the host's pinned key). The block
 * changes (and the host reloads) only when the rendered rules change, or when a refresh found the
 * file holding something else. Deleting the resource takes its block out again.
 */
function declarePgHbaRules(parent: pulumi.Resource, server: DatabaseServerSpec, sshPrivateKey: pulumi.Input<string> | undefined): PgHbaBlock | undefined {
    const block = renderPgHbaBlock(server, pulumi.getStack());
    if (block === "") return undefined;
    if (server.ssh === undefined) throw new Error(`databases.servers.${server.name}.ssh: pg_hba.conf is managed over SSH: this server needs an ssh target`);
    if (sshPrivateKey === undefined) throw new Error(`databases.servers.${server.name}.ssh: no SSH key (secret sshPrivateKey.${server.name})`);
    const target = server.ssh;
    const hostKey = requireHostKey(target, `databases.servers.${server.name}.ssh`);
    return new PgHbaBlock(
        `${server.name}-pg-hba`,
        {
            ssh: pulumi.output(sshPrivateKey).apply((privateKey) => ({ host: target.host, port: target.port, user: target.user, privateKey, hostKey })),
            stack: pulumi.getStack(),
            server: server.name,
            port: server.admin.port,
            block,
        },
        { parent },
    );
}
