// What the remote firewall scripts share: the root prefix and quoting for the few values they carry.

/**
 * First line of every remote script after `set -eu`: the SSH user may be root, or a deploy user
 * allowed to run the firewall tools through sudo without a password (`-n` fails instead of
 * waiting for a password prompt that would hang the update).
 */
export const AS_ROOT = '[ "$(id -u)" -eq 0 ] && SUDO= || SUDO="sudo -n"';

export { shellQuote } from "../../config/patterns";

/** Joins script lines; the scripts run under the SSH user's POSIX login shell. */
export function script(lines: readonly string[]): string {
    return [...lines, ""].join("\n");
}
