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
