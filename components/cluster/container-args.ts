// The ContainerLegacy arguments for one container of the spec (plain data, so it can be tested without an engine).
import type { ClusterSpec, ContainerSpec } from "../config";
import { containerStartup } from "./start-order";
import { containerTags } from "./tags";

/** PVE's `ostype` names; anything else is left to the template (`unmanaged`). */
const OS_TYPES = ["debian", "ubuntu", "centos", "fedora", "opensuse", "archlinux", "alpine", "gentoo", "nixos", "devuan"];

/** `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst` → `debian`. */
export function osTypeOf(template: string): string {
    const file = template.slice(template.lastIndexOf("/") + 1).toLowerCase();
    return OS_TYPES.find((os) => file.startsWith(`${os}-`) || file.startsWith(`${os}_`)) ?? "unmanaged";
}

const ROLE_LABELS: Record<ContainerSpec["role"], string> = {
    app: "App container",
    db: "Database",
    cache: "Cache",
    queue: "Message queue",
    search: "Search",
};

export function containerDescription(container: Pick<ContainerSpec, "description" | "role">): string {
    return `${container.description ?? ROLE_LABELS[container.role]}\nManaged by Pulumi (release-platform): change it in the stack config.`;
}

/** Everything but the provider: a data-holding container only differs in PVE `protection` (and the resource options). */
export function containerArgs(container: ContainerSpec, cluster: Pick<ClusterSpec, "bridge" | "datastore" | "dns">) {
    const dns = cluster.dns && (cluster.dns.domain !== undefined || cluster.dns.servers.length > 0) ? cluster.dns : undefined;
    return {
        nodeName: container.node,
        vmId: container.vmId,
        description: containerDescription(container),
        tags: containerTags(container),
        // Privileged containers share root with the host; never.
        unprivileged: true,
        // `nesting` only where a container runs its own containers or systemd services that need it.
        features: container.nesting ? { nesting: true } : undefined,
        operatingSystem: { templateFileId: container.template, type: osTypeOf(container.template) },
        cpu: { cores: container.cores },
        memory: { dedicated: container.memoryMiB, swap: container.swapMiB },
        disk: { datastoreId: cluster.datastore, size: container.diskGiB },
        networkInterfaces: [{ name: "eth0", bridge: cluster.bridge, vlanId: container.vlanId, firewall: true }],
        initialization: {
            hostname: container.name,
            ipConfigs: [{ ipv4: { address: container.cidr, gateway: container.gateway } }],
            ...(dns ? { dns: { ...(dns.domain ? { domain: dns.domain } : {}), ...(dns.servers.length > 0 ? { servers: [...dns.servers] } : {}) } } : {}),
        },
        startOnBoot: true,
        started: true,
        startup: containerStartup(container),
        protection: container.stateful,
        // A database needs time for a clean shutdown before the provider forces it off.
        timeoutDelete: container.stateful ? 300 : 60,
    };
}
