// Detects a service password changed by hand: MariaDB's mysql_native_password hash, computed in the provider only.

/** Required at call time: dynamic providers are serialized into the state and cannot capture modules. */
function nodeCrypto(): typeof import("node:crypto") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("node:crypto") as typeof import("node:crypto");
}

/** The plugin `IDENTIFIED BY` uses on MariaDB (and the only one these users are given). */
export const NATIVE_PASSWORD_PLUGIN = "mysql_native_password";

/**
 * `*` + upper(hex(sha1(sha1(password)))), what `mysql.user.authentication_string` holds for
 * mysql_native_password. The hash is as good as the password for this plugin's handshake: it is
 * only ever compared in memory, never stored, returned or printed.
 */
export function nativePasswordHash(password: string): string {
    const crypto = nodeCrypto();
    const inner = crypto.createHash("sha1").update(password, "utf8").digest();
    return "*" + crypto.createHash("sha1").update(inner).digest("hex").toUpperCase();
}

/** Whether the server's stored credential is exactly `password` under mysql_native_password. */
export function passwordMatches(password: string, plugin: string, authenticationString: string): boolean {
    if (plugin !== NATIVE_PASSWORD_PLUGIN) return false;
    const expected = Buffer.from(nativePasswordHash(password), "latin1");
    const stored = Buffer.from(authenticationString.toUpperCase(), "latin1");
    return expected.length === stored.length && nodeCrypto().timingSafeEqual(expected, stored);
}
