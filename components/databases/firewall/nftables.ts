// The nftables form of a database host firewall: one table of our own per server, and the scripts that load and remove it.
import type { DatabaseServerSpec } from "../../config";
import { dbPortAccess, engineLabel } from "./access";
import { AS_ROOT, script, shellQuote } from "./shell";

/** Where rulesets are kept on the host so they can be loaded again at boot (include it from /etc/nftables.conf). */
export const DEFAULT_NFT_RULES_DIR = "/etc/nftables.d";

/**
 * The table name: one per server, not one per host, so two database servers on one host each
 * own their table and removing one never touches the other.
 */
export function nftTableName(server: DatabaseServerSpec): string {
    return `release_platform_db_${dbPortAccess(server).server.replace(/-/g, "_")}`;
}

/** The ruleset file on the host. */
export function nftRulesetPath(server: DatabaseServerSpec, rulesDir: string = DEFAULT_NFT_RULES_DIR): string {
    if (!/^\/[A-Za-z0-9._/-]*$/.test(rulesDir) || rulesDir.includes("..")) {
        throw new Error(`nftables rules directory must be an absolute path of plain characters; got ${JSON.stringify(rulesDir)}`);
    }
    return `${rulesDir.replace(/\/+$/, "")}/release-platform-db-${dbPortAccess(server).server}.nft`;
}

/**
 * One self-contained ruleset for `nft -f`. It is loaded as one transaction: declaring the table
 * first makes the `delete` valid when the table does not exist yet (nft 1.0.6 of Debian 12 has no
 * `destroy`), so every load replaces our table atomically, and loading it twice changes nothing.
 * Only our table is named: no `flush ruleset`, nothing else on the host is touched.
 *
 * Loopback is accepted on the port, as ufw does in its before-rules: tools on the database host
 * itself (dumps, local checks) keep working, and both renderers mean the same thing.
 * The `ip saddr` rule is IPv4; the final drop is for both families (the table is `inet`).
 */
export function renderNftablesRuleset(server: DatabaseServerSpec): string {
    const access = dbPortAccess(server);
    const table = `inet ${nftTableName(server)}`;
    const port = access.port;
    return [
        `# Host firewall of database server ${access.server} (${engineLabel(access.engine)} on tcp/${port}), managed by release-platform (Pulumi).`,
        `# tcp/${port} is open to the app host ${access.appHost} only (and to this host over loopback); every other source is dropped.`,
        `# Loaded as one transaction: the table is declared, deleted and re-created, so loading it again changes nothing.`,
        `table ${table}`,
        `delete table ${table}`,
        `table ${table} {`,
        `\tchain input {`,
        `\t\ttype filter hook input priority filter; policy accept;`,
        `\t\tiif "lo" tcp dport ${port} accept`,
        `\t\tip saddr ${access.appHost} tcp dport ${port} accept`,
        `\t\ttcp dport ${port} counter drop`,
        `\t}`,
        `}`,
        ``,
    ].join("\n");
}

/**
 * Reads the ruleset from stdin, checks it (`nft -c`) before anything changes, keeps it in the
 * rules directory and loads it. A ruleset that does not check fails the update with nft's message
 * and leaves the running firewall as it was.
 */
export function renderNftablesApplyScript(server: DatabaseServerSpec, rulesDir: string = DEFAULT_NFT_RULES_DIR): string {
    const file = shellQuote(nftRulesetPath(server, rulesDir));
    return script([
        "set -eu",
        AS_ROOT,
        "tmp=$(mktemp)",
        `trap 'rm -f "$tmp"' EXIT`,
        'cat >"$tmp"',
        '$SUDO nft -c -f "$tmp"',
        `$SUDO install -D -m 0644 "$tmp" ${file}`,
        `$SUDO nft -f ${file}`,
        `$SUDO nft list table inet ${nftTableName(server)}`,
    ]);
}

/** Removes our file and our table (and nothing else); succeeds when they are already gone. */
export function renderNftablesRemoveScript(server: DatabaseServerSpec, rulesDir: string = DEFAULT_NFT_RULES_DIR): string {
    const table = `inet ${nftTableName(server)}`;
    return script([
        "set -eu",
        AS_ROOT,
        `$SUDO rm -f ${shellQuote(nftRulesetPath(server, rulesDir))}`,
        `printf '%s\\n' 'table ${table}' 'delete table ${table}' | $SUDO nft -f -`,
    ]);
}
