// Cluster policies: the guards that make replacing a data-holding LXC container impossible from the engine's side.
import type { ResourceValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { replacementViolations } from "../components/cluster/guard";
import { normalizeTags } from "../components/cluster/tags";
import { gatePolicy, resourcePolicy, type PlatformPolicy } from "./support";

export const CONTAINER_TYPE = "proxmoxve:index/containerLegacy:ContainerLegacy";
export const HA_RESOURCE_TYPE = "proxmoxve:index/haresource:Haresource";

/** Roles whose containers hold data; the cluster component tags every container with its role. */
const DATA_ROLES = ["db", "cache", "queue", "search"];

/** Fields used only at create: a change to them must be ignored, not turned into a replace. */
export const CREATE_ONLY_CONTAINER_FIELDS = ["operatingSystem", "initialization.userAccount"];

interface ContainerProps {
    vmId?: number;
    unprivileged?: boolean;
    protection?: boolean;
    poolId?: string;
    tags?: string[];
}

function container(args: ResourceValidationArgs): ContainerProps | undefined {
    return args.type === CONTAINER_TYPE ? (args.props as ContainerProps) : undefined;
}

/** Data-holding: PVE protection on, or a data role among its tags. */
export function holdsData(props: ContainerProps): boolean {
    return props.protection === true || (props.tags ?? []).some((tag) => DATA_ROLES.includes(tag));
}

export const containerUnprivileged = resourcePolicy(
    {
        name: "cluster-container-unprivileged",
        description: "LXC containers run unprivileged (root in the container is not root on the host).",
        severity: "high",
        remediationSteps: "Declare the container with unprivileged: true (the cluster component always does). An existing privileged container has to be rebuilt: back it up, create an unprivileged one, restore.",
    },
    (args, report) => {
        const ct = container(args);
        if (ct && ct.unprivileged !== true) {
            report(`${args.name} is a privileged container: set unprivileged: true (changing it later replaces the container)`);
        }
    },
    CONTAINER_TYPE,
);

export const containerDeleteBeforeReplace = resourcePolicy(
    {
        name: "cluster-container-delete-before-replace",
        description: "A container with a fixed CT-ID is replaced delete-first, never by a second container with the same ID.",
        severity: "high",
        remediationSteps: "Declare the container with deleteBeforeReplace: true (the cluster component always does).",
    },
    (args, report) => {
        const ct = container(args);
        if (ct && ct.vmId !== undefined && args.opts.deleteBeforeReplace !== true) {
            report(
                `${args.name} has the fixed CT-ID ${ct.vmId} but no deleteBeforeReplace: a create-first replace gets "already exists", which the provider takes as success before deleting the container`,
            );
        }
    },
    CONTAINER_TYPE,
);

export const dataContainerGuards = resourcePolicy(
    {
        name: "cluster-data-container-guards",
        description: "Data-holding containers are protected in Pulumi and in PVE, and ignore create-only fields, so no change replaces them.",
        severity: "critical",
        remediationSteps: "Give data-holding containers protect: true, PVE protection: true and ignoreChanges on the create-only fields (the cluster component does for stateful roles).",
    },
    (args, report) => {
        const ct = container(args);
        if (!ct || !holdsData(ct)) return;
        if (args.opts.protect !== true) report(`${args.name} holds data: declare it with protect: true`);
        if (ct.protection !== true) report(`${args.name} holds data: set protection: true (PVE then refuses to destroy it)`);
        const missing = CREATE_ONLY_CONTAINER_FIELDS.filter((field) => !args.opts.ignoreChanges.includes(field));
        if (missing.length > 0) {
            report(`${args.name} holds data: add ignoreChanges ${JSON.stringify(missing)} (a change to a create-only field would replace it)`);
        }
    },
    CONTAINER_TYPE,
);

export const containerNoPoolId = resourcePolicy(
    {
        name: "cluster-container-no-pool-id",
        description: "Pool membership goes through pool.Membership; the container's poolId replaces the container when changed.",
        severity: "medium",
        remediationSteps: "Remove poolId and add the container to the pool with proxmoxve.pool.Membership (the cluster component does).",
    },
    (args, report) => {
        const ct = container(args);
        if (ct?.poolId) report(`${args.name} sets poolId "${ct.poolId}": use proxmoxve.pool.Membership instead (a poolId change replaces the container)`);
    },
    CONTAINER_TYPE,
);

export const containerTagsNormalized = resourcePolicy(
    {
        name: "cluster-container-tags-normalized",
        description: "Container tags are lowercase, unique and sorted, the way PVE stores them (else every preview shows a diff).",
        severity: "low",
        remediationSteps: "Write tags lowercase, unique and sorted (normalizeTags in components/cluster/tags.ts).",
    },
    (args, report) => {
        const tags = container(args)?.tags;
        if (tags && JSON.stringify(tags) !== JSON.stringify(normalizeTags(tags))) {
            report(`${args.name} has tags ${JSON.stringify(tags)}: use ${JSON.stringify(normalizeTags(tags))} (PVE lowercases and sorts them)`);
        }
    },
    CONTAINER_TYPE,
);

interface HaResourceProps {
    resourceId?: string;
    state?: string;
}

export const appContainersHa: StackValidationPolicy = {
    name: "cluster-app-containers-ha",
    description:
        "Every app container (tag `app`) has an HA resource `ct:<vmId>` in state started, so HA restarts it on another node when its node fails. " +
        "A stack policy: it reads the deployed outputs and runs after an update has applied its changes.",
    severity: "high",
    remediationSteps: "Set `ha: true` on the container in `release-platform:cluster.containers`; the cluster component then declares its HA resource (state started).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const ha = new Map<string, HaResourceProps>();
        for (const resource of args.resources) {
            if (resource.type !== HA_RESOURCE_TYPE) continue;
            const props = resource.props as HaResourceProps;
            if (props.resourceId !== undefined) ha.set(props.resourceId, props);
        }
        for (const resource of args.resources) {
            const ct = resource.type === CONTAINER_TYPE ? (resource.props as ContainerProps) : undefined;
            if (!ct?.tags?.includes("app")) continue;
            const entry = ha.get(`ct:${String(ct.vmId)}`);
            const label = `${resource.name} (CT ${String(ct.vmId)})`;
            if (!entry) {
                report(`${label} is an app container without an HA resource: set ha: true on it in cluster.containers`, resource.urn);
            } else if ((entry.state ?? "started") !== "started") {
                report(`${label} has its HA resource in state ${entry.state ?? ""}, not started: HA does not restart it; set the state back to started`, resource.urn);
            }
        }
    },
};

export const noDataContainerReplacement = gatePolicy(
    {
        name: "cluster-no-data-container-replacement",
        description:
            "No update replaces or drops a data-holding container: the release gate's desired guard record is compared field by field with the one the last deployment recorded (CT-ID, node, unprivileged, datastore, template, disk shrink, mount points).",
        severity: "critical",
        remediationSteps:
            "Put the field back as recorded; a real move (pct migrate, pct move-volume) is done by hand and then recorded in the state, see components/cluster/README.md.",
    },
    (gate, _args, report) => {
        const { desired, deployed } = gate.cluster;
        for (const [name, old] of Object.entries(deployed ?? {})) {
            const next = desired[name];
            const label = `${name} (CT ${old.vmId}) holds data`;
            if (!next) {
                report(
                    `${label} and is no longer declared as a data-holding container: the update would destroy it or drop its guards; ` +
                        "keep it, or take it out of the stack deliberately (pulumi state unprotect, then remove)",
                );
                continue;
            }
            for (const violation of replacementViolations(old, next)) report(`${label}; ${violation.message}`);
        }
    },
);

export const clusterPolicies: PlatformPolicy[] = [
    containerUnprivileged,
    containerDeleteBeforeReplace,
    dataContainerGuards,
    containerNoPoolId,
    containerTagsNormalized,
    appContainersHa,
    noDataContainerReplacement,
];
