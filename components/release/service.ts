// One service's release: its colours deployed (local stack), then its traffic shifted behind the health gate.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec, DatabaseSpec, ServiceSpec } from "../config";
import { parseBackupRecord, releaseTargetVersion, renderBackupScript, type BackupRecord } from "./backup";
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
    /** Where the backups go. */
    backupLocation: string;
}

/** What a service's release looks like after the `up`. */
export interface ServiceReleaseState {
    backend: string;
    blue: { version: string; address: string; weight: number };
    green: { version: string; address: string; weight: number };
}

/** A script that puts `$VERSION` into `$FILE` atomically: the app reports it from its next request on. */
export const LOCAL_DEPLOY_SCRIPT = 'mkdir -p "$(dirname "$FILE")" && printf \'%s\\n\' "$VERSION" > "$FILE.tmp" && mv "$FILE.tmp" "$FILE"';

export class ReleasedService extends pulumi.ComponentResource {
    /** The weights the backend reported after the shift. */
    public readonly weights: pulumi.Output<Weights>;
    public readonly state: pulumi.Output<ServiceReleaseState>;
    /** The backups taken for the current target version (one per database of the service). */
    public readonly backups: pulumi.Output<BackupRecord[]>;

    constructor(name: string, args: ReleasedServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:release:Service", name, {}, opts);
        const { service, gate } = args;

        const deployments =
            args.localAppsDir === undefined
                ? []
                : COLOURS.map(
                      (colour) =>
                          new command.local.Command(
                              `${name}-${colour}-deploy`,
                              {
                                  create: LOCAL_DEPLOY_SCRIPT,
                                  environment: {
                                      VERSION: service[colour].version,
                                      FILE: `${args.localAppsDir}/${service.name}-${colour}.version`,
                                  },
                                  logging: "none",
                              },
                              { parent: this, dependsOn: [gate] },
                          ),
                  );

        // Backups, then migrations, then traffic: each runs once per target version (its trigger),
        // so a weight step alone never repeats them.
        const target = releaseTargetVersion(service);
        const backups = args.databases.map(
            ({ database, server, adminPassword }) =>
                new command.local.Command(
                    `${name}-backup-${database.name}`,
                    {
                        create: renderBackupScript(server.engine, server.admin.tls.mode),
                        triggers: [target],
                        environment: {
                            SERVER: server.name,
                            HOST: server.admin.host,
                            PORT: String(server.admin.port),
                            USER: server.admin.user,
                            DB: database.database,
                            DIR: args.backupLocation,
                            SERVICE: service.name,
                            VERSION: target,
                            ...(server.engine === "mariadb"
                                ? { MYSQL_PWD: adminPassword, ...(server.admin.tls.caFile ? { CA_FILE: server.admin.tls.caFile } : {}) }
                                : {
                                      PGPASSWORD: adminPassword,
                                      PGSSLMODE: server.admin.tls.mode,
                                      ...(server.admin.tls.caFile ? { PGSSLROOTCERT: server.admin.tls.caFile } : {}),
                                  }),
                        },
                        logging: "none",
                    },
                    { parent: this, dependsOn: [gate] },
                ),
        );
        const migration =
            service.migrationCommand === undefined
                ? undefined
                : new command.local.Command(
                      `${name}-migrate`,
                      {
                          create: service.migrationCommand,
                          triggers: [target],
                          // The migration runs against the new colour, which already runs the target version.
                          environment: { SERVICE: service.name, VERSION: target, COLOUR: "green", ADDRESS: service.green.address },
                      },
                      { parent: this, dependsOn: [gate, ...backups, ...deployments] },
                  );

        const shift = args.traffic.shift(
            `${name}-traffic`,
            { service, ladder: args.ladder, healthGate: args.healthGate, drainSeconds: args.drainSeconds },
            { parent: this, dependsOn: [gate, ...deployments, ...backups, ...(migration ? [migration] : [])] },
        );
        // The record holds no secret; its stdout is secret only because the password was an input.
        this.backups = pulumi.all(backups.map((b) => pulumi.unsecret(b.stdout).apply(parseBackupRecord)));
        this.weights = shift.observed;
        this.state = shift.observed.apply((weights) => ({
            backend: args.traffic.kind,
            blue: { version: service.blue.version, address: service.blue.address, weight: weights.blue },
            green: { version: service.green.version, address: service.green.address, weight: weights.green },
        }));
        this.registerOutputs({ weights: this.weights, state: this.state, backups: this.backups });
    }
}
