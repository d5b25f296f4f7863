// Pure SQL builders for MariaDB: identifier and literal quoting, and the statements the provider runs.

/** MariaDB's own limit for database (schema) names. */
export const MAX_IDENTIFIER_LENGTH = 64;

/**
 * Quotes an identifier with backticks. Names come from validated config, but quoting is the
 * last line of defence: a backtick inside is doubled, and empty or over-long names are refused.
 */
export function quoteIdentifier(name: string): string {
    if (name.length === 0 || name.length > MAX_IDENTIFIER_LENGTH) {
        throw new Error(`invalid MariaDB identifier ${JSON.stringify(name)}: 1..${MAX_IDENTIFIER_LENGTH} characters`);
    }
    if (name.includes("\0")) {
        throw new Error(`invalid MariaDB identifier ${JSON.stringify(name)}: NUL character`);
    }
    return "`" + name.replaceAll("`", "``") + "`";
}

/** The charset and collation every platform database uses (inventory section 1). */
export const DEFAULT_CHARSET = "utf8mb4";
export const DEFAULT_COLLATION = "utf8mb4_unicode_ci";

const CHARSET_PATTERN = /^[a-z0-9_]+$/;

function checkCharsetName(kind: string, value: string): string {
    if (!CHARSET_PATTERN.test(value)) {
        throw new Error(`invalid MariaDB ${kind} ${JSON.stringify(value)}: only a-z, 0-9 and _`);
    }
    return value;
}

/** `CREATE DATABASE IF NOT EXISTS`: adopting an existing database is safe, recreating never happens. */
export function createDatabaseSql(name: string, charset: string, collation: string): string {
    return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(name)} CHARACTER SET ${checkCharsetName("charset", charset)} COLLATE ${checkCharsetName("collation", collation)}`;
}

export function alterDatabaseSql(name: string, charset: string, collation: string): string {
    return `ALTER DATABASE ${quoteIdentifier(name)} CHARACTER SET ${checkCharsetName("charset", charset)} COLLATE ${checkCharsetName("collation", collation)}`;
}

export function dropDatabaseSql(name: string): string {
    return `DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`;
}

/** Reads a database's charset and collation back; no row means it does not exist. */
export const READ_DATABASE_SQL =
    "SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?";

// ---------------------------------------------------------------------------------------------
// Service users: accounts, passwords, TLS requirement and grants.
// ---------------------------------------------------------------------------------------------

/** MariaDB's limit for user names. */
export const MAX_USER_LENGTH = 80;

const USER_PATTERN = /^[A-Za-z0-9_]+$/;
/** One client address or name; `%` and `_` are wildcards in a MariaDB host and never allowed. */
const HOST_PATTERN = /^[A-Za-z0-9.:-]+$/;

/**
 * `'user'@'host'`. Both parts are checked to plain characters (no quote, backslash or wildcard),
 * so the literal needs no escaping and means the same under any sql_mode.
 */
export function accountSql(user: string, host: string): string {
    if (user.length === 0 || user.length > MAX_USER_LENGTH || !USER_PATTERN.test(user)) {
        throw new Error(`invalid MariaDB user name ${JSON.stringify(user)}: 1..${MAX_USER_LENGTH} of A-Z, a-z, 0-9, _`);
    }
    if (host.length === 0 || host.length > 255 || !HOST_PATTERN.test(host)) {
        throw new Error(`invalid MariaDB account host ${JSON.stringify(host)}: one address or host name, no wildcard (% or _)`);
    }
    return `'${user}'@'${host}'`;
}

/** What a service user's connections must use: `SSL` (any TLS) or `NONE`. */
export type TlsRequirement = "SSL" | "NONE";

/** `mysql.user.ssl_type` as this program names it: '' is NONE, ANY is SSL; X509/SPECIFIED stay as they are. */
export function tlsRequirementOf(sslType: string): string {
    if (sslType === "") return "NONE";
    if (sslType === "ANY") return "SSL";
    return sslType;
}

/**
 * A statement with its bound parameters. The only parameter ever bound is a password, which the
 * connector escapes client-side (honouring NO_BACKSLASH_ESCAPES); MariaDB cannot prepare
 * `IDENTIFIED BY ?` server-side. `secret` marks statements whose errors must be scrubbed.
 */
export interface Statement {
    sql: string;
    params: string[];
    secret: boolean;
}

export function createUserStatement(user: string, host: string, password: string, tls: TlsRequirement): Statement {
    return { sql: `CREATE USER ${accountSql(user, host)} IDENTIFIED BY ? REQUIRE ${tls}`, params: [password], secret: true };
}

export function setPasswordStatement(user: string, host: string, password: string): Statement {
    return { sql: `ALTER USER ${accountSql(user, host)} IDENTIFIED BY ?`, params: [password], secret: true };
}

export function requireTlsStatement(user: string, host: string, tls: TlsRequirement): Statement {
    return { sql: `ALTER USER ${accountSql(user, host)} REQUIRE ${tls}`, params: [], secret: false };
}

export function grantStatement(privileges: readonly string[], target: string, user: string, host: string): Statement {
    return { sql: `GRANT ${privileges.join(", ")} ON ${target} TO ${accountSql(user, host)}`, params: [], secret: false };
}

/** `what` is one of our own privilege lists or an extra grant as read back from SHOW GRANTS. */
export function revokeStatement(what: string, user: string, host: string): Statement {
    return { sql: `REVOKE ${what} FROM ${accountSql(user, host)}`, params: [], secret: false };
}

export function dropUserStatement(user: string, host: string): Statement {
    return { sql: `DROP USER IF EXISTS ${accountSql(user, host)}`, params: [], secret: false };
}

export function showGrantsSql(user: string, host: string): string {
    return `SHOW GRANTS FOR ${accountSql(user, host)}`;
}

/** The account row: plugin, stored credential (compared in memory only) and TLS requirement. */
export const READ_ACCOUNT_SQL =
    "SELECT plugin, authentication_string AS authenticationString, ssl_type AS sslType FROM mysql.user WHERE User = ? AND Host = ?";
