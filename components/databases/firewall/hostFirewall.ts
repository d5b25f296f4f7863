// The host firewall of one database server: its rules applied over ssh (pinned host key), read back on refresh.
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseServerSpec } from "../../config";
import { requireHostKey } from "../../remote/pinning";
import { runShellOrThrow, type SshAccess } from "../../remote/transport";
import { renderNftablesApplyScript, renderNftablesReadScript, renderNftablesRemoveScript, renderNftablesRuleset, type NftPaths } from "./nftables";
import { renderUfwApplyScript, renderUfwReadScript, renderUfwRemoveScript } from "./ufw";

export interface HostFirewallArgs {
    server: DatabaseServerSpec;
    /** The SSH private key for `server.ssh` (secret config `sshPrivateKey.<server>`). */
    sshPrivateKey: pulumi.Input<string>;
    /** nftables only: where the ruleset file and the boot unit are kept on the host (tests use their own). */
    nftRulesDir?: string;
    systemdUnitDir?: string;
}

/** What one firewall kind runs on the host. */
export interface FirewallScripts {
    kind: "nftables" | "ufw";
    apply: string;
    remove: string;
    /** Prints what is in force (the read-back a refresh compares). */
    read: string;
    /** The ruleset on stdin (nftables); ufw's rules are in `apply` itself. */
    stdin: string;
}

export function firewallScripts(server: DatabaseServerSpec, paths: NftPaths = {}): FirewallScripts {
    const at = `databases.servers.${server.name}.firewall`;
    switch (server.firewall) {
        case "nftables":
            return {
                kind: "nftables",
                apply: renderNftablesApplyScript(server, paths),
                remove: renderNftablesRemoveScript(server, paths),
                read: renderNftablesReadScript(server, paths),
                stdin: renderNftablesRuleset(server),
            };
        case "ufw":
            return { kind: "ufw", apply: renderUfwApplyScript(server), remove: renderUfwRemoveScript(server), read: renderUfwReadScript(server), stdin: "" };
        case "plesk":
        case "none":
            throw new Error(`${at}: is "${server.firewall}": this server has no host firewall of ours to declare`);
    }
}

export interface HostFirewallRulesInputs extends FirewallScripts {
    ssh: SshAccess;
    server: string;
}

export interface HostFirewallRulesOutputs extends HostFirewallRulesInputs {
    /** What the host reported right after the rules were applied. */
    applied: string;
    /** What it reports now (a refresh reads it again): when it differs from `applied`, the rules drifted. */
    inForce: string;
}

async function readInForce(props: HostFirewallRulesInputs): Promise<string> {
    return runShellOrThrow(props.ssh, `reading the ${props.kind} rules of ${props.server}`, props.read);
}

async function apply(news: HostFirewallRulesInputs): Promise<HostFirewallRulesOutputs> {
    await runShellOrThrow(news.ssh, `applying the ${news.kind} rules of ${news.server}`, news.apply, news.stdin);
    const applied = await readInForce(news);
    return { ...news, applied, inForce: applied };
}

const COMPARED: readonly (keyof HostFirewallRulesInputs)[] = ["kind", "apply", "remove", "read", "stdin", "server"];

/**
 * The rules as a resource: an update when what it would apply changes, or when a refresh found the
 * host holding something else than it applied (a flushed table, `ufw reset`, a removed boot unit);
 * the update applies them again. A replace removes first (`deleteBeforeReplace` below): the rules
 * are named per server, so the old resource's delete would otherwise remove what the new one applied.
 */
export const hostFirewallRulesProvider: pulumi.dynamic.ResourceProvider<HostFirewallRulesInputs, HostFirewallRulesOutputs> = {
    async diff(_id, olds, news) {
        const replaces = olds.ssh.host !== news.ssh.host || olds.ssh.port !== news.ssh.port || olds.kind !== news.kind ? ["ssh"] : [];
        const changed = COMPARED.some((key) => olds[key] !== news[key]) || JSON.stringify(olds.ssh) !== JSON.stringify(news.ssh);
        const drifted = olds.inForce !== olds.applied;
        return { changes: replaces.length > 0 || changed || drifted, replaces, deleteBeforeReplace: true };
    },
    async create(inputs) {
        return { id: `${inputs.server}/${inputs.kind}`, outs: await apply(inputs) };
    },
    async update(_id, _olds, news) {
        return { outs: await apply(news) };
    },
    async read(id, props) {
        if (!props) throw new Error(`cannot read host firewall ${id} without its inputs (import is not supported)`);
        return { id, props: { ...props, inForce: await readInForce(props) } };
    },
    async delete(_id, props) {
        await runShellOrThrow(props.ssh, `removing the ${props.kind} rules of ${props.server}`, props.remove);
    },
};

export const HOST_FIREWALL_RULES_TYPE = "pulumi-nodejs:dynamic/databases:HostFirewallRules";

class HostFirewallRules extends pulumi.dynamic.Resource {
    public declare readonly applied: pulumi.Output<string>;
    public declare readonly inForce: pulumi.Output<string>;

    constructor(name: string, args: Omit<HostFirewallRulesInputs, "ssh"> & { ssh: pulumi.Input<SshAccess> }, opts?: pulumi.CustomResourceOptions) {
        super(
            hostFirewallRulesProvider,
            name,
            { ...args, ssh: pulumi.secret(args.ssh), applied: undefined, inForce: undefined },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["ssh"], deleteBeforeReplace: true }),
            "databases",
            "HostFirewallRules",
        );
    }
}

/**
 * Applies the rules on the database host and keeps them there: a changed app host or port is an
 * update that applies the new rules in place (nft in one transaction, ufw allow-before-deny);
 * unchanged rules mean no step at all; rules changed on the host show in `refresh` and `up` puts
 * them back.
 */
export class HostFirewall extends pulumi.ComponentResource {
    /** `nftables` or `ufw`. */
    public readonly kind: string;
    /** What the host reported after applying: our table (nftables) or our rules (ufw). */
    public readonly applied: pulumi.Output<string>;

    constructor(name: string, args: HostFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:databases:HostFirewall", name, {}, opts);
        const { server } = args;
        if (server.ssh === undefined) {
            throw new Error(`databases.servers.${server.name}.ssh: the ${server.firewall} firewall is applied over SSH: this server needs an ssh target`);
        }
        const scripts = firewallScripts(server, { rulesDir: args.nftRulesDir, unitDir: args.systemdUnitDir });
        this.kind = scripts.kind;
        const target = server.ssh;
        // A host that presents another key is refused before any script is sent.
        const hostKey = requireHostKey(target, `databases.servers.${server.name}.ssh`);
        const rules = new HostFirewallRules(
            `${name}-${scripts.kind}`,
            {
                ...scripts,
                server: server.name,
                ssh: pulumi.output(args.sshPrivateKey).apply((privateKey) => ({ host: target.host, port: target.port, user: target.user, privateKey, hostKey })),
            },
            { parent: this },
        );
        this.applied = rules.applied;
        this.registerOutputs({ applied: this.applied });
    }
}
