// The whole platform as one component: the parts in dependency order, from one validated spec.
import * as pulumi from "@pulumi/pulumi";
import { Cluster, previousDeployment, replacementGate, REPLACEMENT_GUARD_OUTPUT } from "./cluster";
import type { PlatformSecrets, PlatformSpec } from "./config";
import { DatabaseFleet, type DatabaseEndpoint } from "./databases/fleet";
import { ReleaseGate } from "./release/gate";
import {
    gateInputs,
    RELEASE_FINGERPRINT_OUTPUT,
    RELEASE_SERVICES_OUTPUT,
    releaseFingerprint,
    releaseGateSummary,
    type ReleaseGateContext,
    type ReleaseGateSummary,
} from "./release/gate-builder";
import { ReleaseRecord } from "./release/record";
import { Release } from "./release/release";

export interface PlatformArgs {
    spec: PlatformSpec;
    secrets: PlatformSecrets;
    /** What the release gate records beside the spec: the evidence file as read, the commit (components/release/gate-context.ts). */
    releaseGate: ReleaseGateContext;
}

export class Platform extends pulumi.ComponentResource {
    public readonly databases: DatabaseEndpoint[];
    public readonly cluster: Cluster;
    public readonly release: Release;
    /** Every release step depends on it; the policy pack checks its inputs first. */
    public readonly releaseGate: ReleaseGate;
    public readonly releaseGateSummary: ReleaseGateSummary;
    /** Everything this deployment brings but the weights; read back by the next one's gate (a rollback keeps it). */
    public readonly releaseFingerprint: pulumi.Output<string>;

    constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Platform", name, {}, opts);
        // One read of the last deployment's outputs, for the replacement guard and the release gate.
        const previous = previousDeployment("previous-deployment", { parent: this });
        // A change that would replace a data-holding container stops the program here, before any part registers a resource.
        const guard = replacementGate(previous, args.spec.cluster);
        // Its inputs are plain (StackReference outputs are known at preview), so the policies read all of them then.
        const inputs = pulumi
            .all([previous.getOutput(RELEASE_SERVICES_OUTPUT), previous.getOutput(REPLACEMENT_GUARD_OUTPUT), previous.getOutput(RELEASE_FINGERPRINT_OUTPUT)])
            .apply(([previousServices, previousGuard, previousFingerprint]) =>
                gateInputs({ spec: args.spec, context: args.releaseGate, previousServices, previousGuard, previousFingerprint }),
            );

        this.releaseGate = new ReleaseGate("release-gate", inputs, { parent: this, dependsOn: guard });
        this.releaseGateSummary = releaseGateSummary(args.releaseGate);

        const fleet = new DatabaseFleet(
            "databases",
            {
                servers: args.spec.databases.servers,
                adminPasswords: args.secrets.dbAdminPasswords,
                configuredPasswords: args.secrets.dbPasswords,
                sshPrivateKeys: args.secrets.sshPrivateKeys,
            },
            { parent: this, dependsOn: guard },
        );
        this.databases = fleet.endpoints;
        this.cluster = new Cluster("cluster", { spec: args.spec.cluster, apiToken: args.secrets.proxmoxApiToken }, { parent: this, dependsOn: guard });
        // After the databases: a release's migrations need them. Each release step also waits for the gate.
        this.release = new Release(
            "release",
            {
                services: args.spec.services,
                release: args.spec.release,
                gate: this.releaseGate,
                sshPrivateKeys: args.secrets.sshPrivateKeys,
                localAppsDir: args.spec.local ? `${args.spec.local.runDir}/apps` : undefined,
                databases: args.spec.databases,
                adminPasswords: args.secrets.dbAdminPasswords,
            },
            { parent: this, dependsOn: [fleet, this.releaseGate] },
        );
        // Written last, after every part applied: a failed or refused update records no new fingerprint.
        const record = new ReleaseRecord(
            "release-record",
            { fingerprint: releaseFingerprint(args.spec, args.releaseGate.programDigest ?? "") },
            { parent: this, dependsOn: [fleet, this.cluster, this.release, this.releaseGate] },
        );
        this.releaseFingerprint = record.recorded;
        this.registerOutputs({});
    }
}
