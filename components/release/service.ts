// One service's release: its colours deployed (local stack), then its traffic shifted behind the health gate.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { shellQuote, type DatabaseServerSpec, type DatabaseSpec, type ServiceSpec } from "../config";
import { releaseTargetVersion, type BackupRecord } from "./backup";
import { DataChange } from "./data-change";
import type { HealthGateSettings } from "./health";
import { COLOURS, type Weights } from "./ladder";
import type { TrafficBackend } from "./traffic";

/** A database a service uses, with the server it lives on and that server's admin password. */
export interface ServiceDatabase {
    database: DatabaseSpec;
    server: DatabaseServerSpec;
    adminPassword: pulumi.Input<string>;
}

export interface ReleasedServiceArgs {
    service: ServiceSpec;
    traffic: TrafficBackend;
    /** The release gate; each step below lists it in `dependsOn` (children do not inherit the component's). */
    gate: pulumi.Resource;
    ladder: number[];
    healthGate: HealthGateSettings;
    /** How long a colour whose weight drops to 0 keeps serving its in-flight requests. */
    drainSeconds: number;
    /**
     * Local stack only: the directory the app processes read the version they run from
     * (`<service>-<colour>.version`). Elsewhere the colours are deployed by their own pipeline
     * and the health gate checks that the expected version is what runs.
     */
    localAppsDir?: string;
    /** The databases the service uses: backed up when its target version changes. */
    databases: ServiceDatabase[];
    /** Where the backups go, and how many days they are kept there. */
    backupLocation: string;
    retentionDays: number;
    /** The commands by design its release runs (`serviceCommands`), recorded in its state. */
    commands: Record<string, string>;
}

/** What a service's release looks like after the `up`. */
export interface ServiceReleaseState {
    backend: string;
    blue: { version: string; address: string; weight: number };
    green: { version: string; address: string; weight: number };
    /** The commands the release runs for it by design (see `serviceCommands`), as deployed. */
    commands: Record<string, string>;
}

/** A script that puts `$VERSION` into `$FILE` atomically: the app reports it from its next request on. */
export const LOCAL_DEPLOY_SCRIPT = 'mkdir -p "$(dirname "$FILE")" && printf \'%s\\n\' "$VERSION" > "$FILE.tmp" && mv "$FILE.tmp" "$FILE"';

/**
 * The local deploy script under an explicit environment: the command provider hands a local command
 * our whole environment, so the script starts itself again with only what it needs.
 */
export const LOCAL_DEPLOY_COMMAND = `exec env -i PATH="$PATH" VERSION="$VERSION" FILE="$FILE" /bin/sh -c ${shellQuote(LOCAL_DEPLOY_SCRIPT)}`;

export class ReleasedService extends pulumi.ComponentResource {
    /** The weights the backend reported after the shift. */
    public readonly weights: pulumi.Output<Weights>;
    public readonly state: pulumi.Output<ServiceReleaseState>;
    /** The backups taken for the current target version (one per database of the service). */
    public readonly backups: pulumi.Output<BackupRecord[]>;

    constructor(name: string, args: ReleasedServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:release:Service", name, {}, opts);
        const { service, gate } = args;

        // Backups, then the migration, in one step once per target version, so a migration never
        // runs without fresh backups taken for it; then the deploy; then traffic. Each waits for the
        // one before it: a failed backup leaves green's version where it was.
        const target = releaseTargetVersion(service);
        const dataChange = new DataChange(
            `${name}-data`,
            {
                service: service.name,
                version: target,
                databases: args.databases.map(({ database, server, adminPassword }) =>
                    pulumi.output(adminPassword).apply((password) => ({
                        server: server.name,
                        engine: server.engine,
                        database: database.database,
                        service: service.name,
                        version: target,
                        host: server.admin.host,
                        port: server.admin.port,
                        user: server.admin.user,
                        tls: server.admin.tls.mode,
                        ...(server.admin.tls.caFile === undefined ? {} : { caFile: server.admin.tls.caFile }),
                        password,
                    })),
                ),
                targets: args.databases.map(({ database, server }) => ({ server: server.name, database: database.database })),
                backupLocation: args.backupLocation,
                retentionDays: args.retentionDays,
                ...(service.migrationCommand === undefined ? {} : { migrationCommand: service.migrationCommand }),
                // The migration runs against the new colour, before it is deployed and takes traffic.
                colour: "green",
                address: service.green.address,
            },
            { parent: this, dependsOn: [gate] },
        );

        const deployments =
            args.localAppsDir === undefined
                ? []
                : COLOURS.map(
                      (colour) =>
                          new command.local.Command(
                              `${name}-${colour}-deploy`,
                              {
                                  create: LOCAL_DEPLOY_COMMAND,
                                  environment: {
                                      VERSION: service[colour].version,
                                      FILE: `${args.localAppsDir}/${service.name}-${colour}.version`,
                                  },
                                  logging: "none",
                              },
                              { parent: this, dependsOn: [gate, dataChange] },
                          ),
                  );

        const shift = args.traffic.shift(
            `${name}-traffic`,
            { service, ladder: args.ladder, healthGate: args.healthGate, drainSeconds: args.drainSeconds },
            { parent: this, dependsOn: [gate, dataChange, ...deployments] },
        );
        this.backups = dataChange.backups;
        this.weights = shift.observed;
        this.state = shift.observed.apply((weights) => ({
            backend: args.traffic.kind,
            blue: { version: service.blue.version, address: service.blue.address, weight: weights.blue },
            green: { version: service.green.version, address: service.green.address, weight: weights.green },
            commands: args.commands,
        }));
        this.registerOutputs({ weights: this.weights, state: this.state, backups: this.backups });
    }
}
