// Host firewalls of the database servers (nftables or ufw over SSH). Filled in by the firewall work.
import type * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec } from "../../config";

/** Declares the host firewall of one database server; nothing while the server's firewall is `none`. */
export function declareHostFirewall(_parent: pulumi.Resource, server: DatabaseServerSpec, _sshPrivateKey: pulumi.Input<string> | undefined): void {
    if (server.firewall === "none") return;
    throw new Error(`databases.servers.${server.name}.firewall: ${server.firewall} is not implemented yet`);
}
