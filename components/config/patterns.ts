// Strict patterns for every config value that reaches a shell, ssh, socat, a file name or a hand-built record.
// The schema checks them at load time (the error names the config path); the code that uses a value
// checks it again with `assertMatches`, so a value that bypassed the loader still cannot run anything.

export interface ValuePattern {
    /** What the value is, for messages ("an SSH user"). */
    what: string;
    test(value: string): boolean;
    /** What a valid value looks like, phrased for a human. */
    rule: string;
}

function pattern(what: string, regex: RegExp, rule: string): ValuePattern {
    return { what, rule, test: (value) => regex.test(value) };
}

export const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Host names and IPv4 addresses: letters, digits, '.' and '-', never starting with '-' (ssh would read an option). */
export const HOST = pattern(
    "a host",
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/,
    "must be a host name or an IPv4 address (letters, digits, '.', '-'; not starting with '-')",
);

/** POSIX-style login names: what `ssh -l` and sudoers accept without quoting. */
export const SSH_USER = pattern(
    "an SSH user",
    /^[a-z_][a-z0-9_-]{0,31}$/,
    "must be a login name: lowercase letters, digits, '_' or '-', starting with a letter or '_', at most 32 characters",
);

/** Database admin accounts (MariaDB allows more than POSIX, but nothing a shell or a URL would read). */
export const DB_USER = pattern(
    "a database user",
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/,
    "must be a user name of letters, digits, '_', '.' or '-', starting with a letter, digit or '_'",
);

/**
 * Absolute paths of plain segments: no whitespace, no quotes or shell characters, no `..`, no
 * segment starting with '.' or '-' (so no hidden files and nothing a tool reads as an option).
 */
export const ABSOLUTE_PATH = pattern(
    "an absolute path",
    /^(\/[A-Za-z0-9_][A-Za-z0-9._+-]*)+\/?$|^\/$/,
    "must be an absolute path of segments made of letters, digits, '.', '_', '+' or '-' (a segment starts with a letter, digit or '_'; no '..')",
);

/** A release version: a semantic version (1.2.0, 1.2.0-rc.1) or a safe tag (v1.2, 2026-12-06, sha-1a2b3c). */
export const VERSION = pattern(
    "a version",
    /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/,
    "must be a semantic version (1.2.0) or a tag of letters, digits, '.', '_', '+' or '-' starting with a letter or digit (at most 128 characters)",
);

/** An HTTP path for the health check: no query, no spaces, nothing a shell would read. */
export const URL_PATH = pattern(
    "a URL path",
    /^\/[A-Za-z0-9._~/-]*$/,
    "must be a path starting with / of letters, digits, '.', '_', '~', '/' or '-'",
);

/** `host:port` with a strict host. */
export const HOST_PORT = pattern("an address", /^(?=.{1,259}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$/, "must be host:port, e.g. 127.0.0.1:3000");

/** Kubernetes-style DNS labels (namespaces, contexts we name). */
export const DNS_LABEL = pattern("a name", /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be lowercase letters, digits or '-', at most 63 characters");

/** SSH public key types a host key may have (what `ssh-keyscan` prints in its second field). */
export const HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] as const;

const HOST_KEY_LINE = /^(ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) ([A-Za-z0-9+/]+={0,2})$/;

/**
 * A pinned SSH host key: `<type> <base64>`, the two fields `ssh-keyscan -t ed25519 host` prints
 * after the host name (a comment is not allowed: it would reach known_hosts). The base64 must
 * decode to a key of the named type.
 */
export const HOST_KEY = {
    what: "an SSH host key",
    rule: "must be the host's public key as `<type> <base64>` (e.g. `ssh-ed25519 AAAAC3Nza...`: the last two fields of `ssh-keyscan -t ed25519 -p <port> <host>`)",
    test(value: string): boolean {
        const match = HOST_KEY_LINE.exec(value);
        if (!match) return false;
        const [, type = "", base64 = ""] = match;
        const blob = Buffer.from(base64, "base64");
        if (blob.length < 4 || blob.toString("base64") !== base64) return false;
        // An SSH public key blob starts with its type as a length-prefixed string.
        const length = blob.readUInt32BE(0);
        return length === type.length && blob.subarray(4, 4 + length).toString("latin1") === type && blob.length > 4 + length;
    },
} as const satisfies ValuePattern;

/** A unix socket path (strict absolute path) or host:port: what socat and Node's net reach, nothing more. */
export const SOCKET_ADDRESS = {
    what: "a socket address",
    rule: "must be a unix socket path (an absolute path of plain segments) or host:port",
    test: (value: string): boolean => (value.startsWith("/") ? ABSOLUTE_PATH.test(value) && !value.endsWith("/") : HOST_PORT.test(value) && validPort(value)),
} as const satisfies ValuePattern;

function validPort(address: string): boolean {
    const port = Number(address.slice(address.lastIndexOf(":") + 1));
    return port >= 1 && port <= 65535;
}

/** Throws when `value` does not match: the re-check at the place a value is used. */
export function assertMatches(valuePattern: ValuePattern, value: unknown, where: string): string {
    if (typeof value !== "string" || !valuePattern.test(value)) {
        throw new Error(`${where}: ${JSON.stringify(value)} is not ${valuePattern.what}: ${valuePattern.rule}`);
    }
    return value;
}

/** `'text'` for a POSIX shell (one implementation for every script we render). */
export function shellQuote(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}
