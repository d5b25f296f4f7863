// Cluster policies: the guards that make replacing a data-holding LXC container impossible from the engine's side.
import type { ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { normalizeTags } from "../components/cluster/tags";

export const CONTAINER_TYPE = "proxmoxve:index/containerLegacy:ContainerLegacy";

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

export const containerUnprivileged: ResourceValidationPolicy = {
    name: "cluster-container-unprivileged",
    description: "LXC containers run unprivileged (root in the container is not root on the host).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const ct = container(args);
        if (ct && ct.unprivileged !== true) {
            report(`${args.name} is a privileged container: set unprivileged: true (changing it later replaces the container)`);
        }
    },
};

export const containerDeleteBeforeReplace: ResourceValidationPolicy = {
    name: "cluster-container-delete-before-replace",
    description: "A container with a fixed CT-ID is replaced delete-first, never by a second container with the same ID.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const ct = container(args);
        if (ct && ct.vmId !== undefined && args.opts.deleteBeforeReplace !== true) {
            report(
                `${args.name} has the fixed CT-ID ${ct.vmId} but no deleteBeforeReplace: a create-first replace gets "already exists", which the provider takes as success before deleting the container`,
            );
        }
    },
};

export const dataContainerGuards: ResourceValidationPolicy = {
    name: "cluster-data-container-guards",
    description: "Data-holding containers are protected in Pulumi and in PVE, and ignore create-only fields, so no change replaces them.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const ct = container(args);
        if (!ct || !holdsData(ct)) return;
        if (args.opts.protect !== true) report(`${args.name} holds data: declare it with protect: true`);
        if (ct.protection !== true) report(`${args.name} holds data: set protection: true (PVE then refuses to destroy it)`);
        const missing = CREATE_ONLY_CONTAINER_FIELDS.filter((field) => !args.opts.ignoreChanges.includes(field));
        if (missing.length > 0) {
            report(`${args.name} holds data: add ignoreChanges ${JSON.stringify(missing)} (a change to a create-only field would replace it)`);
        }
    },
};

export const containerNoPoolId: ResourceValidationPolicy = {
    name: "cluster-container-no-pool-id",
    description: "Pool membership goes through pool.Membership; the container's poolId replaces the container when changed.",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const ct = container(args);
        if (ct?.poolId) report(`${args.name} sets poolId "${ct.poolId}": use proxmoxve.pool.Membership instead (a poolId change replaces the container)`);
    },
};

export const containerTagsNormalized: ResourceValidationPolicy = {
    name: "cluster-container-tags-normalized",
    description: "Container tags are lowercase, unique and sorted, the way PVE stores them (else every preview shows a diff).",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
        const tags = container(args)?.tags;
        if (tags && JSON.stringify(tags) !== JSON.stringify(normalizeTags(tags))) {
            report(`${args.name} has tags ${JSON.stringify(tags)}: use ${JSON.stringify(normalizeTags(tags))} (PVE lowercases and sorts them)`);
        }
    },
};

export const clusterPolicies: ResourceValidationPolicy[] = [
    containerUnprivileged,
    containerDeleteBeforeReplace,
    dataContainerGuards,
    containerNoPoolId,
    containerTagsNormalized,
];
