// Which HA rule (or group) each role gets: the role's HA containers, kept on the nodes they are placed on.
import type { ClusterSpec, ContainerRole } from "../config";

export interface RoleAffinity {
    role: ContainerRole;
    /** The containers of this role that are HA resources, by name, in config order. */
    containers: string[];
    /** `ct:<vmId>` of each. */
    resourceIds: string[];
    /**
     * The nodes the role's containers are placed on, all with the same priority: HA keeps a
     * container on one of them while any is up, and the rule is not strict, so a container still
     * moves elsewhere when all of them are down.
     */
    nodes: Record<string, number>;
}

/** One entry per role that has at least one HA container, in the order roles first appear in the config. */
export function haAffinityPlan(cluster: Pick<ClusterSpec, "containers">): RoleAffinity[] {
    const byRole = new Map<ContainerRole, RoleAffinity>();
    for (const container of cluster.containers) {
        if (!container.ha) continue;
        let entry = byRole.get(container.role);
        if (!entry) {
            entry = { role: container.role, containers: [], resourceIds: [], nodes: {} };
            byRole.set(container.role, entry);
        }
        entry.containers.push(container.name);
        entry.resourceIds.push(`ct:${container.vmId}`);
        entry.nodes[container.node] = 1;
    }
    return [...byRole.values()];
}
