// The whole platform as one component: the parts in dependency order, from one validated spec.
import * as pulumi from "@pulumi/pulumi";
import type { PlatformSecrets, PlatformSpec } from "./config";
import { DatabaseFleet, type DatabaseEndpoint } from "./databases/fleet";

export interface PlatformArgs {
    spec: PlatformSpec;
    secrets: PlatformSecrets;
}

export class Platform extends pulumi.ComponentResource {
    public readonly databases: DatabaseEndpoint[];

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Platform", name, {}, opts);
        const fleet = new DatabaseFleet(
            "databases",
            {
                servers: args.spec.databases.servers,
                adminPasswords: args.secrets.dbAdminPasswords,
                configuredPasswords: args.secrets.dbPasswords,
                sshPrivateKeys: args.secrets.sshPrivateKeys,
            },
            { parent: this },
        );
        this.databases = fleet.endpoints;
        this.registerOutputs({});
    }
}
