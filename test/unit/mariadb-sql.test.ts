// The MariaDB statement builders: quoting and the exact statements the providers run.
import { describe, expect, test } from "vitest";
import {
    accountSql,
    alterDatabaseSql,
    createDatabaseSql,
    createUserStatement,
    dropDatabaseSql,
    dropUserStatement,
    grantStatement,
    quoteIdentifier,
    requireTlsStatement,
    revokeStatement,
    setPasswordStatement,
    showGrantsSql,
    tlsRequirementOf,
} from "../../components/databases/mariadb/sql";

describe("quoteIdentifier", () => {
    test.each([
        ["mo_main", "`mo_main`"],
        ["we`ird", "`we``ird`"],
        ["a".repeat(64), "`" + "a".repeat(64) + "`"],
    ])("%s -> %s", (name, quoted) => {
        expect(quoteIdentifier(name)).toBe(quoted);
    });

    test.each([[""], ["a".repeat(65)], ["x\0y"]])("refuses %j", (name) => {
        expect(() => quoteIdentifier(name)).toThrow(/invalid MariaDB identifier/);
    });
});

describe("database statements", () => {
    test("create adopts an existing database instead of failing", () => {
        expect(createDatabaseSql("mo_crm", "utf8mb4", "utf8mb4_unicode_ci")).toBe(
            "CREATE DATABASE IF NOT EXISTS `mo_crm` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
        );
    });

    test("alter sets charset and collation", () => {
        expect(alterDatabaseSql("mo_crm", "utf8mb4", "utf8mb4_bin")).toBe("ALTER DATABASE `mo_crm` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    });

    test("drop is idempotent", () => {
        expect(dropDatabaseSql("mo_tmp")).toBe("DROP DATABASE IF EXISTS `mo_tmp`");
    });

    test.each([["utf8mb4; DROP DATABASE x"], ["UTF8"], [""]])("refuses charset %j", (charset) => {
        expect(() => createDatabaseSql("mo_x", charset, "utf8mb4_unicode_ci")).toThrow(/invalid MariaDB charset/);
    });
});

describe("account statements", () => {
    test.each([
        ["svc_crm", "10.10.20.10", "'svc_crm'@'10.10.20.10'"],
        ["svc_api_stg", "db-app.internal", "'svc_api_stg'@'db-app.internal'"],
        ["root", "::1", "'root'@'::1'"],
    ])("accountSql(%s, %s) -> %s", (user, host, account) => {
        expect(accountSql(user, host)).toBe(account);
    });

    test.each([
        ["", "h", /invalid MariaDB user name/],
        ["a".repeat(81), "h", /invalid MariaDB user name/],
        ["svc'x", "h", /invalid MariaDB user name/],
        ["svc x", "h", /invalid MariaDB user name/],
        ["svc", "%", /no wildcard/],
        ["svc", "10.0.0.%", /no wildcard/],
        ["svc", "10_0", /no wildcard/],
        ["svc", "h'; DROP USER root", /invalid MariaDB account host/],
        ["svc", "", /invalid MariaDB account host/],
    ])("refuses %j@%j", (user, host, message) => {
        expect(() => accountSql(user, host)).toThrow(message);
    });

    test("passwords are bound parameters, never part of the SQL text", () => {
        const create = createUserStatement("svc_x", "10.0.0.1", "p'w", "SSL");
        expect(create).toEqual({ sql: "CREATE USER 'svc_x'@'10.0.0.1' IDENTIFIED BY ? REQUIRE SSL", params: ["p'w"], secret: true });
        expect(setPasswordStatement("svc_x", "10.0.0.1", "p'w")).toEqual({ sql: "ALTER USER 'svc_x'@'10.0.0.1' IDENTIFIED BY ?", params: ["p'w"], secret: true });
    });

    test.each([
        [requireTlsStatement("svc_x", "h", "NONE"), "ALTER USER 'svc_x'@'h' REQUIRE NONE"],
        [grantStatement(["SELECT", "INSERT"], "`mo\\_x`.*", "svc_x", "h"), "GRANT SELECT, INSERT ON `mo\\_x`.* TO 'svc_x'@'h'"],
        [revokeStatement("GRANT OPTION ON *.*", "svc_x", "h"), "REVOKE GRANT OPTION ON *.* FROM 'svc_x'@'h'"],
        [dropUserStatement("svc_x", "h"), "DROP USER IF EXISTS 'svc_x'@'h'"],
    ])("%j", (statement, sql) => {
        expect(statement).toEqual({ sql, params: [], secret: false });
    });

    test("SHOW GRANTS for one account", () => {
        expect(showGrantsSql("svc_x", "10.0.0.1")).toBe("SHOW GRANTS FOR 'svc_x'@'10.0.0.1'");
    });

    test.each([
        ["", "NONE"],
        ["ANY", "SSL"],
        ["X509", "X509"],
        ["SPECIFIED", "SPECIFIED"],
    ])("ssl_type %j reads as %s", (sslType, tls) => {
        expect(tlsRequirementOf(sslType)).toBe(tls);
    });
});
