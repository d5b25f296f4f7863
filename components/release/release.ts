// The release: every service in dependency order, each waiting for the ones it depends on.
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseFleetSpec, ReleaseSpec, ServiceSpec } from "../config";
import type { BackupRecord } from "./backup";
import { releaseDependencies } from "./order";
import { ReleasedService, type ServiceDatabase, type ServiceReleaseState } from "./service";
import { serviceCommands } from "./service-versions";
import { trafficBackends } from "./traffic";

export interface ReleaseArgs {
    /** In release order (the spec's `services`). */
    services: ServiceSpec[];
    release: ReleaseSpec;
    /** The release gate: every step of every service depends on it, so the policies check it first. */
    gate: pulumi.Resource;
    /** By ssh target name (`traffic.haproxy`, `traffic.nginx`). */
    sshPrivateKeys: Record<string, pulumi.Output<string>>;
    /** Local stack only: see `ReleasedServiceArgs.localAppsDir`. */
    localAppsDir?: string;
    /** The fleet the services' databases live in (for the backups), and its admin passwords by server. */
    databases: DatabaseFleetSpec;
    adminPasswords: Record<string, pulumi.Input<string>>;
}

/** A service's databases with their servers (the config validator checked that each exists). */
function databasesOf(service: ServiceSpec, fleet: DatabaseFleetSpec, passwords: Record<string, pulumi.Input<string>>): ServiceDatabase[] {
    return service.databases.flatMap((shortName) =>
        fleet.servers.flatMap((server) =>
            server.databases
                .filter((db) => db.name === shortName)
                .map((database) => ({ database, server, adminPassword: passwords[server.name] ?? "" })),
        ),
    );
}

export class Release extends pulumi.ComponentResource {
    /** Per service: versions, addresses and the weights the backend reported. */
    public readonly services: pulumi.Output<Record<string, ServiceReleaseState>>;
    /** The order the services were released in. */
    public readonly order: string[];
    /** Every backup taken for the services' current target versions. */
    public readonly backups: pulumi.Output<BackupRecord[]>;

    constructor(name: string, args: ReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:release:Release", name, {}, opts);
        const dependencies = releaseDependencies(args.services, args.release.order);
        this.order = [...dependencies.keys()];
        const backends = trafficBackends(args.release.traffic, args.sshPrivateKeys);
        const byName = new Map(args.services.map((s) => [s.name, s] as const));

        const released = new Map<string, ReleasedService>();
        let previous: ReleasedService | undefined;
        for (const serviceName of this.order) {
            const service = byName.get(serviceName);
            if (service === undefined) continue;
            const traffic = backends[service.traffic.backend];
            if (traffic === undefined) {
                throw new Error(`services.${service.name}.traffic.backend: the ${service.traffic.backend} backend is not available yet`);
            }
            // Its dependencies first; and one service at a time, in release order, so shifts never overlap.
            const waitFor = [...(dependencies.get(serviceName) ?? []).flatMap((dep) => released.get(dep) ?? []), ...(previous ? [previous] : [])];
            const step = new ReleasedService(
                `${name}-${service.name}`,
                {
                    service,
                    traffic,
                    gate: args.gate,
                    ladder: args.release.ladder,
                    healthGate: args.release.healthGate,
                    drainSeconds: args.release.drainSeconds,
                    localAppsDir: args.localAppsDir,
                    databases: databasesOf(service, args.databases, args.adminPasswords),
                    backupLocation: args.databases.backups.location,
                    retentionDays: args.databases.backups.localRetentionDays,
                    commands: serviceCommands(service, args.release.traffic),
                },
                { parent: this, dependsOn: [...new Set(waitFor)] },
            );
            released.set(serviceName, step);
            previous = step;
        }

        const states = [...released.entries()].map(([serviceName, step]) => step.state.apply((state) => [serviceName, state] as const));
        this.services = pulumi.all(states).apply((entries) => Object.fromEntries(entries));
        this.backups = pulumi.all([...released.values()].map((step) => step.backups)).apply((lists) => lists.flat());
        this.registerOutputs({ services: this.services, backups: this.backups });
    }
}
