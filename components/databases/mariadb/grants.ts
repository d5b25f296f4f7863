// Pure grant logic for MariaDB service users: the declared privilege set, SHOW GRANTS parsing, and what differs.

/** The inventory's grant set on `mo_x.*` (section 1): nothing more, no ALL, no GRANT OPTION, no global privileges. */
export const SERVICE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX", "REFERENCES"] as const;

/**
 * Every privilege MariaDB 10.11 can hold at database level (the columns of `mysql.db`), in the
 * order SHOW GRANTS prints them. `ALL PRIVILEGES` on a database means exactly these, so an `ALL`
 * found by hand is revoked privilege by privilege and the declared ones never lapse.
 */
export const DATABASE_LEVEL_PRIVILEGES = [
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
    "DELETE HISTORY",
] as const;

/** Canonical order for privilege lists: the server's own, so state and SHOW GRANTS read alike. */
function privilegeRank(privilege: string): number {
    const index = (DATABASE_LEVEL_PRIVILEGES as readonly string[]).indexOf(privilege);
    return index === -1 ? DATABASE_LEVEL_PRIVILEGES.length : index;
}

export function sortPrivileges(privileges: Iterable<string>): string[] {
    return [...new Set(privileges)].sort((a, b) => privilegeRank(a) - privilegeRank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Checks and normalizes a declared privilege list: upper case, known database-level privileges
 * only, no duplicates, in canonical order. `ALL`, `GRANT OPTION` and `USAGE` are refused: the
 * grant set is always spelled out, so it can be compared with what the server holds.
 */
export function normalizePrivileges(privileges: readonly string[], path = "privileges"): string[] {
    if (privileges.length === 0) throw new Error(`${path}: at least one privilege is needed`);
    const normalized = privileges.map((p) => p.trim().replace(/\s+/g, " ").toUpperCase());
    for (const privilege of normalized) {
        if (privilege === "ALL" || privilege === "ALL PRIVILEGES" || privilege === "GRANT OPTION" || privilege === "USAGE") {
            throw new Error(`${path}: ${privilege} is not allowed; list the privileges one by one`);
        }
        if (!(DATABASE_LEVEL_PRIVILEGES as readonly string[]).includes(privilege)) {
            throw new Error(`${path}: ${JSON.stringify(privilege)} is not a MariaDB database-level privilege`);
        }
    }
    return sortPrivileges(normalized);
}

/**
 * The `db.*` target a database grant uses. `_` and `%` in a database name are wildcards in
 * GRANT; escaped, the grant on `mo_x` covers `mo_x` alone and not e.g. `moAx`. SHOW GRANTS
 * prints the target exactly like this.
 */
export function databaseGrantTarget(database: string): string {
    if (database.length === 0 || database.length > 64 || /[`\0]/.test(database)) {
        throw new Error(`invalid MariaDB database name ${JSON.stringify(database)}`);
    }
    return "`" + database.replace(/[\\_%]/g, "\\$&") + "`.*";
}

/** One line of SHOW GRANTS, without its account and without any password hash it carried. */
export interface GrantLine {
    /** `privileges` (GRANT ... ON ... TO), `role` (GRANT `role` TO) or `proxy` (GRANT PROXY ON ... TO). */
    kind: "privileges" | "role" | "proxy";
    /** Privileges as printed (column lists kept), e.g. `["SELECT", "INSERT"]`, `["ALL PRIVILEGES"]`, `["USAGE"]`; the role for `role`. */
    privileges: string[];
    /** The object, as printed: `*.*`, `` `db`.* ``, `` `db`.`t` ``, `` PROCEDURE `db`.`p` ``, or the proxied account. */
    on: string;
    grantOption: boolean;
}

/** Position of each character's quoting context: only top-level text is searched for keywords. */
function topLevelMask(text: string): boolean[] {
    const mask: boolean[] = [];
    let quote: string | undefined;
    for (let i = 0; i < text.length; i++) {
        const ch = text[i] ?? "";
        if (quote) {
            mask.push(false);
            if (ch === "\\" && quote !== "`") {
                // A backslash escapes the next character inside '...' and "...".
                mask.push(false);
                i++;
            } else if (ch === quote) {
                if (text[i + 1] === quote) {
                    mask.push(false);
                    i++;
                } else {
                    quote = undefined;
                }
            }
        } else if (ch === "`" || ch === "'" || ch === '"') {
            quote = ch;
            mask.push(false);
        } else {
            mask.push(true);
        }
    }
    return mask;
}

/** Index of the first top-level, whole-word, case-insensitive `keyword` at or after `from`; -1 if none. */
function findKeyword(text: string, mask: boolean[], keyword: string, from = 0): number {
    const pattern = new RegExp(`(^|\\s)${keyword.replace(/ /g, "\\s+")}(?=\\s|$)`, "gi");
    pattern.lastIndex = from;
    for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
        const start = m.index + (m[1] ?? "").length;
        if (mask[start]) return start;
    }
    return -1;
}

/** Splits on top-level commas that are outside parentheses (column lists). */
function splitPrivileges(text: string): string[] {
    const mask = topLevelMask(text);
    const parts: string[] = [];
    let depth = 0;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
        if (!mask[i]) continue;
        if (text[i] === "(") depth++;
        else if (text[i] === ")") depth--;
        else if (text[i] === "," && depth === 0) {
            parts.push(text.slice(start, i));
            start = i + 1;
        }
    }
    parts.push(text.slice(start));
    return parts.map((p) => {
        const trimmed = p.trim();
        const paren = trimmed.indexOf("(");
        // Keywords in upper case with single spaces; a column list stays as the server printed it.
        const head = (paren === -1 ? trimmed : trimmed.slice(0, paren)).replace(/\s+/g, " ").trim().toUpperCase();
        return paren === -1 ? head : `${head} ${trimmed.slice(paren)}`;
    });
}

/**
 * Parses one SHOW GRANTS line. Returns undefined for lines that grant nothing (`SET DEFAULT ROLE`).
 * Whatever follows the account (`IDENTIFIED BY PASSWORD '<hash>'`, `REQUIRE`, resource limits) is
 * dropped, apart from the grant option: the hash never leaves this function.
 */
export function parseGrantLine(line: string): GrantLine | undefined {
    const text = line.trim();
    if (!/^GRANT\s/i.test(text)) return undefined;
    const mask = topLevelMask(text);
    const to = findKeyword(text, mask, "TO");
    if (to === -1) throw new Error("cannot parse a SHOW GRANTS line: no TO clause");
    const on = findKeyword(text, mask, "ON");
    const tail = text.slice(to);
    const tailMask = mask.slice(to);
    const grantOption = findKeyword(tail, tailMask, "GRANT OPTION") !== -1 || findKeyword(tail, tailMask, "ADMIN OPTION") !== -1;
    const body = text.slice("GRANT".length, on !== -1 && on < to ? on : to).trim();
    if (on === -1 || on > to) {
        return { kind: "role", privileges: [body], on: "", grantOption };
    }
    const target = text.slice(on + "ON".length, to).trim();
    const privileges = splitPrivileges(body);
    if (privileges.length === 1 && privileges[0] === "PROXY") return { kind: "proxy", privileges, on: target, grantOption };
    return { kind: "privileges", privileges, on: target, grantOption };
}

/** What a service user holds, compared with what it should hold. */
export interface ObservedGrants {
    /** Privileges on the user's own database target, canonical order; `ALL PRIVILEGES` expanded. */
    databasePrivileges: string[];
    /**
     * Everything else, each written so that `REVOKE <it> FROM <account>` takes it away: global
     * privileges, GRANT OPTION anywhere, other databases, tables, columns, routines, roles, proxies.
     */
    extraGrants: string[];
}

/** Sorts SHOW GRANTS lines into the user's own database privileges and everything beyond them. */
export function summarizeGrants(lines: readonly string[], database: string): ObservedGrants {
    const ownTarget = databaseGrantTarget(database);
    const databasePrivileges = new Set<string>();
    const extraGrants: string[] = [];
    for (const raw of lines) {
        const grant = parseGrantLine(raw);
        if (!grant) continue;
        if (grant.kind === "role") {
            extraGrants.push(grant.privileges[0] ?? "");
            continue;
        }
        if (grant.kind === "proxy") {
            extraGrants.push(`PROXY ON ${grant.on}`);
            continue;
        }
        const privileges = grant.privileges.filter((p) => p !== "USAGE");
        if (grant.on === ownTarget) {
            for (const p of privileges) {
                if (p === "ALL" || p === "ALL PRIVILEGES") DATABASE_LEVEL_PRIVILEGES.forEach((q) => databasePrivileges.add(q));
                else databasePrivileges.add(p);
            }
            if (grant.grantOption) extraGrants.push(`GRANT OPTION ON ${grant.on}`);
            continue;
        }
        if (privileges.length > 0) extraGrants.push(`${privileges.join(", ")} ON ${grant.on}`);
        // Its own entry: `REVOKE ALL PRIVILEGES, GRANT OPTION ON x` is a syntax error (that pair is only valid without ON).
        if (grant.grantOption) extraGrants.push(`GRANT OPTION ON ${grant.on}`);
    }
    return { databasePrivileges: sortPrivileges(databasePrivileges), extraGrants: extraGrants.sort() };
}

/** Set difference of two privilege lists, in canonical order. */
export function privilegeChanges(declared: readonly string[], held: readonly string[]): { missing: string[]; extra: string[] } {
    const heldSet = new Set(held);
    const declaredSet = new Set(declared);
    return {
        missing: sortPrivileges(declared.filter((p) => !heldSet.has(p))),
        extra: sortPrivileges(held.filter((p) => !declaredSet.has(p))),
    };
}

export function samePrivileges(a: readonly string[], b: readonly string[]): boolean {
    const { missing, extra } = privilegeChanges(a, b);
    return missing.length === 0 && extra.length === 0;
}
