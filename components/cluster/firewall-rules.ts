// The per-container firewall: which role may reach which port, from where. Everything else is dropped.
import type { ClusterSpec, ContainerRole, ContainerSpec } from "../config";

/** One PVE firewall rule, in the shape `firewall.RulesLegacy` takes. */
export interface ContainerFirewallRule {
    type: "in";
    action: "ACCEPT";
    /** A PVE macro (e.g. `Ping`) instead of proto/port. */
    macro?: string;
    proto?: "tcp" | "udp";
    dport?: string;
    /** Comma-separated addresses or networks. */
    source: string;
    comment: string;
}

interface ServicePort {
    service: string;
    port: number;
    /** Who may connect: the app containers, the other containers of the same role, or both. */
    from: ("apps" | "peers")[];
}

/** The ports each data role serves. Clients are always containers of this cluster. */
export const ROLE_SERVICE_PORTS: Readonly<Record<Exclude<ContainerRole, "app">, readonly ServicePort[]>> = {
    // PostgreSQL: the apps, and the other db containers (streaming replication, failover).
    db: [{ service: "postgresql", port: 5432, from: ["apps", "peers"] }],
    cache: [{ service: "redis", port: 6379, from: ["apps"] }],
    queue: [{ service: "amqp", port: 5672, from: ["apps"] }],
    search: [
        { service: "elasticsearch", port: 9200, from: ["apps"] },
        { service: "elasticsearch transport", port: 9300, from: ["peers"] },
    ],
};

/** Ports only operators need, opened from the management network alone. */
const MANAGEMENT_PORTS: Readonly<Partial<Record<ContainerRole, readonly { service: string; port: number }[]>>> = {
    queue: [{ service: "rabbitmq management", port: 15672 }],
};

function ipToNumber(ip: string): number {
    return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function addressList(containers: readonly ContainerSpec[]): string {
    return [...new Set(containers.map((c) => c.ip))].sort((a, b) => ipToNumber(a) - ipToNumber(b)).join(",");
}

function tcp(port: number | string, source: string, comment: string): ContainerFirewallRule {
    return { type: "in", action: "ACCEPT", proto: "tcp", dport: String(port), source, comment };
}

/**
 * The inbound rules of one container, in order. With input policy DROP these are all it accepts:
 * its role's service ports from the containers that use them, the blue/green ports of an app from
 * the dmz (the load balancer), and SSH and ping from the management network. A rule whose sources
 * would be empty is left out rather than opened wider.
 */
export function containerFirewallRules(
    container: ContainerSpec,
    cluster: Pick<ClusterSpec, "containers" | "subnets">,
): ContainerFirewallRule[] {
    const others = cluster.containers.filter((c) => c.name !== container.name);
    const apps = others.filter((c) => c.role === "app");
    const peers = others.filter((c) => c.role === container.role);
    const rules: ContainerFirewallRule[] = [];

    if (container.role === "app") {
        const lb = cluster.subnets.dmz;
        if (container.blueGreen && lb) {
            const { bluePort, greenPort } = container.blueGreen;
            rules.push(tcp(bluePort, lb, "app blue from the load balancer (dmz)"));
            rules.push(tcp(greenPort, lb, "app green from the load balancer (dmz)"));
        }
    } else {
        for (const { service, port, from } of ROLE_SERVICE_PORTS[container.role]) {
            const clients = [...(from.includes("apps") ? apps : []), ...(from.includes("peers") ? peers : [])];
            const who = from.map((f) => (f === "apps" ? "app containers" : `${container.role} peers`)).join(" and ");
            if (clients.length > 0) rules.push(tcp(port, addressList(clients), `${service} from ${who}`));
        }
    }

    const management = cluster.subnets.management;
    if (management) {
        for (const { service, port } of MANAGEMENT_PORTS[container.role] ?? []) {
            rules.push(tcp(port, management, `${service} from management`));
        }
        rules.push(tcp(22, management, "ssh from management"));
        rules.push({ type: "in", action: "ACCEPT", macro: "Ping", source: management, comment: "ping from management" });
    }
    return rules;
}
