// The ufw form of a database host firewall, for hosts whose firewall ufw already manages.
import type { DatabaseServerSpec } from "../../config";
import { dbPortAccess, type DbPortAccess } from "./access";
import { AS_ROOT, script, shellQuote } from "./shell";

/** The comment our rules carry, so that we find (and remove) exactly ours and no one else's. */
export function ufwRuleComment(server: DatabaseServerSpec): string {
    return `release-platform db ${dbPortAccess(server).server}`;
}

function allowRule(access: DbPortAccess, from: string): string {
    return `allow from ${from} to any port ${access.port} proto tcp`;
}

/**
 * The two rules of the runbooks, made safe to run again and in any order:
 * - `prepend` instead of `allow`: ufw applies the first matching rule and appends new ones, so an
 *   allow added after an existing `deny P` (an earlier run, a new app host) would never match;
 * - both are idempotent: ufw skips a rule it already has.
 * ufw accepts loopback in its before-rules, so the host itself still reaches the port.
 */
export function renderUfwCommands(server: DatabaseServerSpec): string[] {
    const access = dbPortAccess(server);
    const comment = shellQuote(ufwRuleComment(server));
    return [`ufw prepend ${allowRule(access, access.appHost)} comment ${comment}`, `ufw deny ${access.port} comment ${comment}`];
}

/**
 * Lists the sources of our allow rules for the port (from `ufw show added`, which prints rules in
 * the form they were added), one per line.
 */
function ourAllowSources(server: DatabaseServerSpec, access: DbPortAccess): string {
    const pattern = `^ufw ${allowRule(access, "\\([0-9.]*\\)")} comment '${ufwRuleComment(server)}'$`;
    return `$SUDO ufw show added | sed -n ${shellQuote(`s/${pattern}/\\1/p`)}`;
}

/**
 * Applies the rules: refuses a host where ufw is not active (the rules would not be enforced, and
 * enabling ufw here could lock out SSH), adds allow then deny, then removes allow rules of ours for
 * any other source (an earlier app host) once the new one is in place, and prints our rules.
 */
export function renderUfwApplyScript(server: DatabaseServerSpec): string {
    const access = dbPortAccess(server);
    return script([
        "set -eu",
        AS_ROOT,
        `$SUDO ufw status | grep -q '^Status: active' || { echo "ufw is not active on $(hostname): the rules would not be enforced; enable ufw on this host first" >&2; exit 1; }`,
        ...renderUfwCommands(server).map((command) => `$SUDO ${command}`),
        `${ourAllowSources(server, access)} | while read -r ip; do [ "$ip" = ${shellQuote(access.appHost)} ] || $SUDO ufw delete ${allowRule(access, '"$ip"')}; done`,
        `$SUDO ufw status | grep -F ${shellQuote(`# ${ufwRuleComment(server)}`)}`,
    ]);
}

/** Removes our rules: the deny first, so the app host is never shut out on the way. */
export function renderUfwRemoveScript(server: DatabaseServerSpec): string {
    const access = dbPortAccess(server);
    return script([
        "set -eu",
        AS_ROOT,
        `$SUDO ufw delete deny ${access.port}`,
        `${ourAllowSources(server, access)} | while read -r ip; do $SUDO ufw delete ${allowRule(access, '"$ip"')}; done`,
    ]);
}

/** What is in force, for the read-back: whether ufw is active, and our rules as ufw lists them. */
export function renderUfwReadScript(server: DatabaseServerSpec): string {
    return script([
        "set -eu",
        AS_ROOT,
        "$SUDO ufw status | head -n 1",
        `$SUDO ufw show added | grep -F ${shellQuote(`comment '${ufwRuleComment(server)}'`)} || true`,
    ]);
}
