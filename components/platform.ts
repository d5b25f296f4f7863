// The whole platform as one component: the parts in dependency order, from one validated spec.
import * as pulumi from "@pulumi/pulumi";
import { Cluster, replacementGate } from "./cluster";
import type { PlatformSecrets, PlatformSpec } from "./config";
import { DatabaseFleet, type DatabaseEndpoint } from "./databases/fleet";
import { Release } from "./release/release";

export interface PlatformArgs {
    spec: PlatformSpec;
    secrets: PlatformSecrets;
}

export class Platform extends pulumi.ComponentResource {
    public readonly databases: DatabaseEndpoint[];
    public readonly cluster: Cluster;
    public readonly release: Release;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Platform", name, {}, opts);
        // A change that would replace a data-holding container stops the program here, before any part registers a resource.
        const gate = replacementGate("cluster-previous-deployment", args.spec.cluster, { parent: this });
        const fleet = new DatabaseFleet(
            "databases",
            {
                servers: args.spec.databases.servers,
                adminPasswords: args.secrets.dbAdminPasswords,
                configuredPasswords: args.secrets.dbPasswords,
                sshPrivateKeys: args.secrets.sshPrivateKeys,
            },
            { parent: this, dependsOn: gate },
        );
        this.databases = fleet.endpoints;
        this.cluster = new Cluster("cluster", { spec: args.spec.cluster, apiToken: args.secrets.proxmoxApiToken }, { parent: this, dependsOn: gate });
        // After the databases: a release's migrations need them.
        this.release = new Release(
            "release",
            {
                services: args.spec.services,
                release: args.spec.release,
                sshPrivateKeys: args.secrets.sshPrivateKeys,
                localAppsDir: args.spec.local ? `${args.spec.local.runDir}/apps` : undefined,
                databases: args.spec.databases,
                adminPasswords: args.secrets.dbAdminPasswords,
            },
            { parent: this, dependsOn: [fleet] },
        );
        this.registerOutputs({});
    }
}
