// Host firewalls of the database servers: the database port open to the app host only (nftables or ufw over SSH).
import type * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec } from "../../config";
import { HostFirewall, type HostFirewallArgs } from "./hostFirewall";

export * from "./access";
export * from "./hostFirewall";
export * from "./nftables";
export * from "./ufw";

/** Settings a test host needs and the fleet leaves at their defaults. */
export type HostFirewallOptions = Omit<HostFirewallArgs, "server" | "sshPrivateKey">;

/** Declares the host firewall of one database server; nothing while the server's firewall is `none` or Plesk's own. */
export function declareHostFirewall(
    parent: pulumi.Resource,
    server: DatabaseServerSpec,
    sshPrivateKey: pulumi.Input<string> | undefined,
    options: HostFirewallOptions = {},
): HostFirewall | undefined {
    if (server.firewall === "none" || server.firewall === "plesk") return undefined;
    if (sshPrivateKey === undefined) {
        throw new Error(`databases.servers.${server.name}.firewall: ${server.firewall} is applied over SSH: set the secret sshPrivateKey.${server.name}`);
    }
    return new HostFirewall(`${server.name}-firewall`, { server, sshPrivateKey, ...options }, { parent });
}
