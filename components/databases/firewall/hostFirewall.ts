// The host firewall of one database server as a component: one remote command over SSH that applies the rendered rules.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec } from "../../config";
import { requireHostKey } from "../../remote/pinning";
import { DEFAULT_NFT_RULES_DIR, renderNftablesApplyScript, renderNftablesRemoveScript, renderNftablesRuleset } from "./nftables";
import { renderUfwApplyScript, renderUfwRemoveScript } from "./ufw";

export interface HostFirewallArgs {
    server: DatabaseServerSpec;
    /** The SSH private key for `server.ssh` (secret config `sshPrivateKey.<server>`). */
    sshPrivateKey: pulumi.Input<string>;
    /** nftables only: where the ruleset file is kept on the host. */
    nftRulesDir?: string;
}

/** What one firewall kind needs from the remote command. */
interface FirewallScripts {
    kind: "nftables" | "ufw";
    apply: string;
    remove: string;
    /** The ruleset on stdin (nftables); ufw's rules are in `apply` itself. */
    stdin: string | undefined;
}

function scriptsFor(server: DatabaseServerSpec, nftRulesDir: string): FirewallScripts {
    const at = `databases.servers.${server.name}.firewall`;
    switch (server.firewall) {
        case "nftables":
            return {
                kind: "nftables",
                apply: renderNftablesApplyScript(server, nftRulesDir),
                remove: renderNftablesRemoveScript(server, nftRulesDir),
                stdin: renderNftablesRuleset(server),
            };
        case "ufw":
            return { kind: "ufw", apply: renderUfwApplyScript(server), remove: renderUfwRemoveScript(server), stdin: undefined };
        case "none":
            throw new Error(`${at}: is "none": this server has no host firewall to declare`);
    }
}

/**
 * Applies the rules on the database host and keeps them there.
 *
 * The rendered rules are ordinary inputs (`stdin`, `create`), not `triggers`: a changed app host
 * or port is then an update, which runs the apply script again and replaces the rules in place
 * (nft in one transaction, ufw allow-before-deny). Triggers would force a replace, i.e. a delete
 * that removes the rules and a create that puts them back. Unchanged rules mean no step at all.
 */
export class HostFirewall extends pulumi.ComponentResource {
    /** `nftables` or `ufw`. */
    public readonly kind: string;
    /** What the host printed after applying: our table (nftables) or our rules (ufw). */
    public readonly applied: pulumi.Output<string>;

    constructor(name: string, args: HostFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:databases:HostFirewall", name, {}, opts);
        const { server } = args;
        if (server.ssh === undefined) {
            throw new Error(`databases.servers.${server.name}.ssh: the ${server.firewall} firewall is applied over SSH: this server needs an ssh target`);
        }
        const scripts = scriptsFor(server, args.nftRulesDir ?? DEFAULT_NFT_RULES_DIR);
        this.kind = scripts.kind;

        const applied = new command.remote.Command(
            `${name}-${scripts.kind}`,
            {
                connection: {
                    host: server.ssh.host,
                    port: server.ssh.port,
                    user: server.ssh.user,
                    privateKey: pulumi.secret(args.sshPrivateKey),
                    // A host that presents another key is refused before the script is sent.
                    hostKey: requireHostKey(server.ssh, `databases.servers.${server.name}.ssh`),
                },
                create: scripts.apply,
                delete: scripts.remove,
                stdin: scripts.stdin,
                // We never read the previous output, and sshd without AcceptEnv would warn on every update.
                addPreviousOutputInEnv: false,
                logging: "stdoutAndStderr",
            },
            // Should a replace ever happen, the old delete must not run after the new create: it
            // would remove the rules the create just put in place.
            { parent: this, deleteBeforeReplace: true },
        );
        this.applied = applied.stdout;
        this.registerOutputs({ applied: this.applied });
    }
}
