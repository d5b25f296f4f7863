// The Proxmox VE cluster as one component: provider, containers, HA, firewall and pool, from a validated ClusterSpec.
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, ContainerRole } from "../config";
import { containerArgs } from "./container-args";
import { ContainerNesting, ContainerRootDisk } from "./container-settings";
import { containerFirewallRules } from "./firewall-rules";
import { guardRecordOf, type GuardRecord } from "./guard";
import { haAffinityPlan } from "./ha-plan";

export interface ClusterArgs {
    /** Decides which resources exist. */
    spec: ClusterSpec;
    /** `user@realm!tokenid=secret` (secret config `proxmoxApiToken`). */
    apiToken: pulumi.Input<string>;
}

export interface ClusterContainer {
    name: string;
    role: ContainerRole;
    node: string;
    /** Address without prefix, e.g. 10.10.30.200. */
    address: string;
    /** The CT-ID as the provider confirmed it. */
    vmId: pulumi.Output<number>;
    ha: boolean;
    stateful: boolean;
}

/** The two addresses of an app container that runs its app as a blue and a green instance. */
export interface BlueGreenEndpoints {
    container: string;
    blue: string;
    green: string;
}

/** Fields a ContainerLegacy must never change through a replace-on-change: see guard.ts and README.md. */
const CREATE_ONLY_FIELDS = ["operatingSystem", "initialization.userAccount"];

/**
 * Set at creation, changed afterwards by ContainerNesting (and, on protected containers,
 * ContainerRootDisk) through the PVE API, because the provider's own update is refused on a real
 * cluster: see container-settings.ts.
 */
const FEATURES = "features";
const ROOT_DISK_SIZE = "disk.size";

export class Cluster extends pulumi.ComponentResource {
    public readonly provider: proxmoxve.Provider;
    public readonly containers: ClusterContainer[];
    public readonly blueGreenEndpoints: BlueGreenEndpoints[];
    /** What the next deployment's guard compares against (export it as the stack output REPLACEMENT_GUARD_OUTPUT). */
    public readonly replacementGuardRecord: GuardRecord;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:cluster:Cluster", name, {}, opts);
        const { spec } = args;

        this.provider = new proxmoxve.Provider(
            `${name}-provider`,
            { endpoint: spec.endpoint, apiToken: pulumi.secret(args.apiToken), insecure: false, randomVmIds: false },
            { parent: this },
        );
        const child = { parent: this, provider: this.provider };

        // The datacenter firewall must be on for any container rule to apply.
        new proxmoxve.cluster.FirewallLegacy(
            `${name}-firewall`,
            { enabled: true, ebtables: true, inputPolicy: "DROP", outputPolicy: "ACCEPT", forwardPolicy: "ACCEPT" },
            child,
        );

        const pool = spec.pool
            ? new proxmoxve.PoolLegacy(`${name}-pool`, { poolId: spec.pool, comment: "release-platform containers (managed by Pulumi)" }, child)
            : undefined;

        const haResources = new Map<string, proxmoxve.Haresource>();
        const haGroups = new Map<ContainerRole, proxmoxve.Hagroup>();
        const plan = haAffinityPlan(spec);
        if (spec.haAffinity === "groups") {
            // PVE 8: the group must exist before a resource names it.
            for (const role of plan) {
                haGroups.set(
                    role.role,
                    new proxmoxve.Hagroup(`${name}-ha-${role.role}`, { group: `${name}-${role.role}`, nodes: role.nodes, restricted: false, noFailback: false }, child),
                );
            }
        }

        const connection = { endpoint: spec.endpoint, apiToken: args.apiToken };
        this.containers = spec.containers.map((container) => {
            const ct = new proxmoxve.ContainerLegacy(`${name}-${container.name}`, containerArgs(container, spec), {
                ...child,
                // A fixed CT-ID cannot exist twice: any replacement must delete first, or bpg would adopt the old one and then delete it.
                deleteBeforeReplace: true,
                ...(container.stateful ? { protect: true, ignoreChanges: [...CREATE_ONLY_FIELDS, FEATURES, ROOT_DISK_SIZE] } : { ignoreChanges: [FEATURES] }),
            });
            const guest = { ...child, dependsOn: [ct] };
            const vmId = ct.vmId.apply((id) => id ?? container.vmId);

            // Feature flags: a token may change `nesting` alone (the provider's update sends all four flags, which PVE refuses).
            new ContainerNesting(`${name}-${container.name}-nesting`, { connection, node: ct.nodeName, vmId, nesting: container.nesting }, { parent: this, dependsOn: [ct] });
            if (container.stateful) {
                // PVE refuses a config update carrying rootfs while protection is on; resize is allowed.
                new ContainerRootDisk(`${name}-${container.name}-rootfs`, { connection, node: ct.nodeName, vmId, sizeGiB: container.diskGiB }, { parent: this, dependsOn: [ct] });
            }

            new proxmoxve.firewall.OptionsLegacy(
                `${name}-${container.name}-firewall-options`,
                {
                    nodeName: ct.nodeName,
                    containerId: vmId,
                    enabled: true,
                    inputPolicy: "DROP",
                    outputPolicy: "ACCEPT",
                    dhcp: false,
                    ipfilter: true,
                    macfilter: true,
                    ndp: false,
                    radv: false,
                    logLevelIn: "nolog",
                    logLevelOut: "nolog",
                },
                { ...guest, replaceOnChanges: ["containerId", "nodeName"], deleteBeforeReplace: true },
            );
            const rules = containerFirewallRules(container, spec);
            if (rules.length > 0) {
                new proxmoxve.firewall.RulesLegacy(
                    `${name}-${container.name}-firewall-rules`,
                    {
                        nodeName: ct.nodeName,
                        containerId: vmId,
                        rules: rules.map((rule) => ({ ...rule, enabled: true })),
                    },
                    // One resource owns all rules of a container (its create aborts if any exist).
                    { ...guest, replaceOnChanges: ["containerId", "nodeName"], deleteBeforeReplace: true },
                );
            }

            if (pool) {
                new proxmoxve.pool.Membership(
                    `${name}-${container.name}-pool`,
                    { poolId: pool.poolId, vmId },
                    { ...guest, dependsOn: [ct, pool], deleteBeforeReplace: true },
                );
            }

            if (container.ha) {
                const group = haGroups.get(container.role);
                // `ct:<id>` built from the container's output: the HA resource is created after the
                // container and deleted before it (PVE refuses to destroy a CT that HA still manages).
                const resource = new proxmoxve.Haresource(
                    `${name}-${container.name}-ha`,
                    {
                        resourceId: pulumi.interpolate`ct:${ct.vmId}`,
                        type: "ct",
                        state: "started",
                        comment: `${container.name} (managed by Pulumi)`,
                        ...(group ? { group: group.group } : {}),
                    },
                    { ...guest, dependsOn: group ? [ct, group] : [ct], replaceOnChanges: ["resourceId"], deleteBeforeReplace: true },
                );
                haResources.set(container.name, resource);
            }

            return {
                name: container.name,
                role: container.role,
                node: container.node,
                address: container.ip,
                vmId,
                ha: container.ha,
                stateful: container.stateful,
            };
        });

        if (spec.haAffinity === "rules") {
            // PVE 9: a node-affinity rule per role names HA resources, so it comes after them.
            for (const role of plan) {
                const members = role.containers.flatMap((n) => haResources.get(n) ?? []);
                new proxmoxve.Harule(
                    `${name}-ha-${role.role}`,
                    {
                        rule: `${name}-${role.role}`,
                        type: "node-affinity",
                        resources: members.map((r) => r.resourceId),
                        nodes: role.nodes,
                        strict: false,
                        comment: `${role.role} containers stay on their nodes while one is up (managed by Pulumi)`,
                    },
                    // PVE 9 drops a deleted HA resource from its rules (and a rule left empty), so a rule
                    // whose members change is deleted first and created again after them, never left stale.
                    { ...child, dependsOn: members, replaceOnChanges: ["resources"], deleteBeforeReplace: true },
                );
            }
        }

        this.blueGreenEndpoints = spec.containers.flatMap((c) =>
            c.blueGreen ? [{ container: c.name, blue: `${c.ip}:${c.blueGreen.bluePort}`, green: `${c.ip}:${c.blueGreen.greenPort}` }] : [],
        );
        this.replacementGuardRecord = guardRecordOf(spec);
        this.registerOutputs({ containers: this.containers, blueGreenEndpoints: this.blueGreenEndpoints });
    }
}
