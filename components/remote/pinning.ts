// The pinned host key of an ssh target, required wherever a connection is declared.
import type { SshTarget } from "../config";

/**
 * The target's pinned host key. The loader requires one outside the local stack; the local stack's
 * are filled in by `npm start` and the test workspaces from the local sshd (scripts/local-pins.ts).
 * Nothing connects without one, so a missing pin fails here, naming the config path.
 */
export function requireHostKey(target: SshTarget, at: string): string {
    if (target.hostKey === undefined) {
        throw new Error(
            `${at}.hostKey: no pinned host key; every ssh connection verifies its host (set it to the last two fields of \`ssh-keyscan -t ed25519 -p ${target.port} ${target.host}\`, checked against the host's own key)`,
        );
    }
    return target.hostKey;
}
