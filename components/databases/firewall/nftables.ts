// The nftables form of a database host firewall: one table of our own per server, and the scripts that load and remove it.
import type { DatabaseServerSpec } from "../../config";
import { dbPortAccess, engineLabel } from "./access";
import { AS_ROOT, script, shellQuote } from "./shell";

/** Where rulesets are kept on the host; the boot unit loads them from there. */
export const DEFAULT_NFT_RULES_DIR = "/etc/nftables.d";

/** Where the boot unit goes (systemd's directory for local units). */
export const DEFAULT_SYSTEMD_UNIT_DIR = "/etc/systemd/system";

/** The unit that loads every ruleset of ours at boot, after nftables.service (whose `flush ruleset` would drop them). */
export const NFT_BOOT_UNIT = "release-platform-nftables.service";

function plainDir(dir: string, what: string): string {
    if (!/^\/[A-Za-z0-9._/-]*$/.test(dir) || dir.includes("..")) {
        throw new Error(`${what} must be an absolute path of plain characters; got ${JSON.stringify(dir)}`);
    }
    return dir.replace(/\/+$/, "");
}

/** The command the boot unit runs: load each of our rulesets in the rules directory (none is fine). */
export function nftBootCommand(rulesDir: string = DEFAULT_NFT_RULES_DIR): string {
    const dir = plainDir(rulesDir, "nftables rules directory");
    return `for f in ${dir}/release-platform-db-*.nft; do [ -e "$f" ] || continue; nft -f "$f" || exit 1; done`;
}

/**
 * The systemd unit that makes the rules survive a reboot: a oneshot that loads every ruleset of
 * ours before the network comes up and after nftables.service, so the host's own /etc/nftables.conf
 * (with its `flush ruleset`) cannot drop them. Nothing of the host's own configuration is edited.
 */
export function renderNftBootUnit(rulesDir: string = DEFAULT_NFT_RULES_DIR): string {
    return [
        "# Managed by release-platform (Pulumi): the database host firewall tables, loaded at boot.",
        "[Unit]",
        "Description=release-platform database host firewalls (nftables)",
        "DefaultDependencies=no",
        "Wants=network-pre.target",
        "Before=network-pre.target shutdown.target",
        "After=nftables.service",
        "Conflicts=shutdown.target",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=/bin/sh -c '${nftBootCommand(rulesDir)}'`,
        "",
        "[Install]",
        "WantedBy=sysinit.target",
        "",
    ].join("\n");
}

/**
 * The table name: one per server, not one per host, so two database servers on one host each
 * own their table and removing one never touches the other.
 */
export function nftTableName(server: DatabaseServerSpec): string {
    return `release_platform_db_${dbPortAccess(server).server.replace(/-/g, "_")}`;
}

/** The ruleset file on the host. */
export function nftRulesetPath(server: DatabaseServerSpec, rulesDir: string = DEFAULT_NFT_RULES_DIR): string {
    return `${plainDir(rulesDir, "nftables rules directory")}/release-platform-db-${dbPortAccess(server).server}.nft`;
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

/** Where the ruleset and the boot unit live on the host. */
export interface NftPaths {
    rulesDir?: string;
    unitDir?: string;
}

/**
 * Reads the ruleset from stdin, checks it (`nft -c`) before anything changes, keeps it in the
 * rules directory, loads it, and installs the boot unit that loads it again after a reboot. A
 * ruleset that does not check fails the update with nft's message and leaves the running firewall
 * as it was.
 */
export function renderNftablesApplyScript(server: DatabaseServerSpec, paths: NftPaths = {}): string {
    const rulesDir = paths.rulesDir ?? DEFAULT_NFT_RULES_DIR;
    const unitDir = plainDir(paths.unitDir ?? DEFAULT_SYSTEMD_UNIT_DIR, "systemd unit directory");
    const file = shellQuote(nftRulesetPath(server, rulesDir));
    const unit = shellQuote(`${unitDir}/${NFT_BOOT_UNIT}`);
    return script([
        "set -eu",
        AS_ROOT,
        "tmp=$(mktemp)",
        "unit=$(mktemp)",
        `trap 'rm -f "$tmp" "$unit"' EXIT`,
        'cat >"$tmp"',
        '$SUDO nft -c -f "$tmp"',
        `$SUDO install -D -m 0644 "$tmp" ${file}`,
        `$SUDO nft -f ${file}`,
        `printf '%s' ${shellQuote(renderNftBootUnit(rulesDir))} >"$unit"`,
        `$SUDO install -D -m 0644 "$unit" ${unit}`,
        `$SUDO mkdir -p ${shellQuote(`${unitDir}/sysinit.target.wants`)}`,
        `$SUDO ln -sfn ${unit} ${shellQuote(`${unitDir}/sysinit.target.wants/${NFT_BOOT_UNIT}`)}`,
        // A running systemd learns about the unit now; a host without one (a container, a test namespace) reads it at boot.
        "if [ -d /run/systemd/system ]; then $SUDO systemctl daemon-reload; fi",
    ]);
}

/** Removes our file and our table (and nothing else), and the boot unit once no ruleset of ours is left; succeeds when they are already gone. */
export function renderNftablesRemoveScript(server: DatabaseServerSpec, paths: NftPaths = {}): string {
    const rulesDir = plainDir(paths.rulesDir ?? DEFAULT_NFT_RULES_DIR, "nftables rules directory");
    const unitDir = plainDir(paths.unitDir ?? DEFAULT_SYSTEMD_UNIT_DIR, "systemd unit directory");
    const table = `inet ${nftTableName(server)}`;
    return script([
        "set -eu",
        AS_ROOT,
        `$SUDO rm -f ${shellQuote(nftRulesetPath(server, rulesDir))}`,
        `printf '%s\\n' 'table ${table}' 'delete table ${table}' | $SUDO nft -f -`,
        `if ! ls ${shellQuote(rulesDir)}/release-platform-db-*.nft >/dev/null 2>&1; then $SUDO rm -f ${shellQuote(`${unitDir}/sysinit.target.wants/${NFT_BOOT_UNIT}`)} ${shellQuote(`${unitDir}/${NFT_BOOT_UNIT}`)}; fi`,
    ]);
}

/**
 * What is in force, for the read-back: our table as the kernel holds it (counters left out), the
 * kept file's digest and whether the boot unit is enabled. A flushed table, a file edited by hand
 * or a boot unit removed all change the answer.
 */
export function renderNftablesReadScript(server: DatabaseServerSpec, paths: NftPaths = {}): string {
    const rulesDir = paths.rulesDir ?? DEFAULT_NFT_RULES_DIR;
    const unitDir = plainDir(paths.unitDir ?? DEFAULT_SYSTEMD_UNIT_DIR, "systemd unit directory");
    const file = shellQuote(nftRulesetPath(server, rulesDir));
    return script([
        "set -eu",
        AS_ROOT,
        `$SUDO nft list table inet ${nftTableName(server)} 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/' || true`,
        `if [ -f ${file} ]; then echo "file $($SUDO sha256sum ${file} | cut -c1-64)"; else echo "file missing"; fi`,
        `if [ -L ${shellQuote(`${unitDir}/sysinit.target.wants/${NFT_BOOT_UNIT}`)} ]; then echo "boot enabled"; else echo "boot missing"; fi`,
    ]);
}
