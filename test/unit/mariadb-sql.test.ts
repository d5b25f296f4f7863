// The MariaDB statement builders: quoting and the exact statements the provider runs.
import { describe, expect, test } from "vitest";
import { alterDatabaseSql, createDatabaseSql, dropDatabaseSql, quoteIdentifier } from "../../components/databases/mariadb/sql";

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
