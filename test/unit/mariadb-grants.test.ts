// MariaDB grant logic: the declared set, SHOW GRANTS parsing, and sorting what a user holds into own and extra.
import { describe, expect, test } from "vitest";
import {
    DATABASE_LEVEL_PRIVILEGES,
    databaseGrantTarget,
    normalizePrivileges,
    parseGrantLine,
    privilegeChanges,
    samePrivileges,
    SERVICE_PRIVILEGES,
    summarizeGrants,
} from "../../components/databases/mariadb/grants";

const HASH = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19";
const ACCOUNT = "`svc_crm`@`10.10.20.10`";

describe("the declared privilege set", () => {
    test("is the inventory's eight, in the server's order", () => {
        expect(normalizePrivileges(SERVICE_PRIVILEGES)).toEqual(["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "REFERENCES", "INDEX", "ALTER"]);
    });

    test.each([
        [["select", " insert "], ["SELECT", "INSERT"]],
        [["ALTER", "SELECT", "ALTER"], ["SELECT", "ALTER"]],
        [["create   temporary tables", "lock tables"], ["CREATE TEMPORARY TABLES", "LOCK TABLES"]],
    ])("normalizes %j -> %j", (input, expected) => {
        expect(normalizePrivileges(input)).toEqual(expected);
    });

    test.each([
        [["ALL"], /ALL is not allowed/],
        [["SELECT", "ALL PRIVILEGES"], /ALL PRIVILEGES is not allowed/],
        [["GRANT OPTION"], /GRANT OPTION is not allowed/],
        [["USAGE"], /USAGE is not allowed/],
        [["SUPER"], /"SUPER" is not a MariaDB database-level privilege/],
        [["SELECT; DROP USER x"], /is not a MariaDB database-level privilege/],
        [[], /at least one privilege/],
    ])("refuses %j", (input, message) => {
        expect(() => normalizePrivileges(input, "databases.servers.plesk.privileges")).toThrow(message);
        expect(() => normalizePrivileges(input, "databases.servers.plesk.privileges")).toThrow(/^databases\.servers\.plesk\.privileges: /);
    });
});

describe("databaseGrantTarget", () => {
    test.each([
        ["mo_crm", "`mo\\_crm`.*"],
        ["mo_api_stg", "`mo\\_api\\_stg`.*"],
        ["plain", "`plain`.*"],
        ["we%ird\\", "`we\\%ird\\\\`.*"],
    ])("%s -> %s (wildcards escaped, so the grant covers that database alone)", (name, target) => {
        expect(databaseGrantTarget(name)).toBe(target);
    });

    test.each([[""], ["a".repeat(65)], ["x`y"]])("refuses %j", (name) => {
        expect(() => databaseGrantTarget(name)).toThrow(/invalid MariaDB database name/);
    });
});

describe("parseGrantLine", () => {
    test.each([
        [
            `GRANT USAGE ON *.* TO ${ACCOUNT} IDENTIFIED BY PASSWORD '${HASH}'`,
            { kind: "privileges", privileges: ["USAGE"], on: "*.*", grantOption: false },
        ],
        [
            `GRANT RELOAD, PROCESS ON *.* TO ${ACCOUNT} IDENTIFIED BY PASSWORD '${HASH}' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10`,
            { kind: "privileges", privileges: ["RELOAD", "PROCESS"], on: "*.*", grantOption: false },
        ],
        [
            `GRANT USAGE ON *.* TO ${ACCOUNT} IDENTIFIED BY PASSWORD '${HASH}' WITH GRANT OPTION`,
            { kind: "privileges", privileges: ["USAGE"], on: "*.*", grantOption: true },
        ],
        [
            `GRANT SELECT, INSERT ON \`mo\\_crm\`.* TO ${ACCOUNT} WITH GRANT OPTION`,
            { kind: "privileges", privileges: ["SELECT", "INSERT"], on: "`mo\\_crm`.*", grantOption: true },
        ],
        [`GRANT ALL PRIVILEGES ON \`mo_yy\`.* TO ${ACCOUNT}`, { kind: "privileges", privileges: ["ALL PRIVILEGES"], on: "`mo_yy`.*", grantOption: false }],
        [
            `GRANT SELECT (\`User\`, \`Host\`), INSERT (\`a\`) ON \`mysql\`.\`user\` TO ${ACCOUNT}`,
            { kind: "privileges", privileges: ["SELECT (`User`, `Host`)", "INSERT (`a`)"], on: "`mysql`.`user`", grantOption: false },
        ],
        [
            `GRANT EXECUTE ON PROCEDURE \`mysql\`.\`addgeometrycolumn\` TO ${ACCOUNT}`,
            { kind: "privileges", privileges: ["EXECUTE"], on: "PROCEDURE `mysql`.`addgeometrycolumn`", grantOption: false },
        ],
        [`GRANT \`app_role\` TO ${ACCOUNT}`, { kind: "role", privileges: ["`app_role`"], on: "", grantOption: false }],
        [`GRANT \`app_role\` TO ${ACCOUNT} WITH ADMIN OPTION`, { kind: "role", privileges: ["`app_role`"], on: "", grantOption: true }],
        [`GRANT PROXY ON ''@'%' TO ${ACCOUNT} WITH GRANT OPTION`, { kind: "proxy", privileges: ["PROXY"], on: "''@'%'", grantOption: true }],
        // Keywords inside quoted names are not keywords.
        [
            "GRANT SELECT ON `a TO b`.`on ON` TO `u`@`h`",
            { kind: "privileges", privileges: ["SELECT"], on: "`a TO b`.`on ON`", grantOption: false },
        ],
        [
            "GRANT SELECT ON `x`.* TO `u`@`h` IDENTIFIED BY PASSWORD '* WITH GRANT OPTION'",
            { kind: "privileges", privileges: ["SELECT"], on: "`x`.*", grantOption: false },
        ],
    ])("%s", (line, expected) => {
        const parsed = parseGrantLine(line);
        expect(parsed).toEqual(expected);
        // The password hash never survives parsing.
        expect(JSON.stringify(parsed)).not.toContain(HASH);
    });

    test.each([["SET DEFAULT ROLE `app_role` FOR `u`@`h`"], [""]])("%j grants nothing", (line) => {
        expect(parseGrantLine(line)).toBeUndefined();
    });

    test("a GRANT line without TO is an error that does not quote the line", () => {
        expect(() => parseGrantLine(`GRANT USAGE ON *.* IDENTIFIED BY PASSWORD '${HASH}'`)).toThrow(/^cannot parse a SHOW GRANTS line: no TO clause$/);
    });
});

describe("summarizeGrants", () => {
    const usage = `GRANT USAGE ON *.* TO ${ACCOUNT} IDENTIFIED BY PASSWORD '${HASH}'`;
    const declared = `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON \`mo\\_crm\`.* TO ${ACCOUNT}`;

    test.each([
        ["exactly the declared set", [usage, declared], normalizePrivileges(SERVICE_PRIVILEGES), []],
        ["a privilege revoked by hand", [usage, declared.replace("INDEX, ", "")], ["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "REFERENCES", "ALTER"], []],
        ["a privilege added by hand", [usage, declared.replace("CREATE,", "CREATE, DROP,")], normalizePrivileges([...SERVICE_PRIVILEGES, "DROP"]), []],
        ["ALL PRIVILEGES on its database is expanded", [usage, `GRANT ALL PRIVILEGES ON \`mo\\_crm\`.* TO ${ACCOUNT}`], [...DATABASE_LEVEL_PRIVILEGES], []],
        ["grant option on its database", [usage, `${declared} WITH GRANT OPTION`], normalizePrivileges(SERVICE_PRIVILEGES), ["GRANT OPTION ON `mo\\_crm`.*"]],
        ["global privileges and global grant option", [usage.replace("USAGE", "PROCESS, SUPER") + " WITH GRANT OPTION", declared], normalizePrivileges(SERVICE_PRIVILEGES), ["GRANT OPTION ON *.*", "PROCESS, SUPER ON *.*"]],
        ["ALL on another database with grant option: two revocable entries", [usage, `GRANT ALL PRIVILEGES ON \`mo_yy\`.* TO ${ACCOUNT} WITH GRANT OPTION`], [], ["ALL PRIVILEGES ON `mo_yy`.*", "GRANT OPTION ON `mo_yy`.*"]],
        ["the same database unescaped is another grant", [usage, declared.replace("mo\\_crm", "mo_crm")], [], ["SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON `mo_crm`.*"]],
        [
            "other databases, tables, routines, roles and proxies",
            [
                usage,
                declared,
                `GRANT SELECT ON \`mo\\_games\`.* TO ${ACCOUNT}`,
                `GRANT SELECT (\`User\`) ON \`mysql\`.\`user\` TO ${ACCOUNT}`,
                `GRANT EXECUTE ON PROCEDURE \`mo\\_crm\`.\`p\` TO ${ACCOUNT} WITH GRANT OPTION`,
                `GRANT \`app_role\` TO ${ACCOUNT}`,
                `GRANT PROXY ON ''@'%' TO ${ACCOUNT}`,
                "SET DEFAULT ROLE `app_role` FOR `svc_crm`@`10.10.20.10`",
            ],
            normalizePrivileges(SERVICE_PRIVILEGES),
            [
                "EXECUTE ON PROCEDURE `mo\\_crm`.`p`",
                "GRANT OPTION ON PROCEDURE `mo\\_crm`.`p`",
                "PROXY ON ''@'%'",
                "SELECT (`User`) ON `mysql`.`user`",
                "SELECT ON `mo\\_games`.*",
                "`app_role`",
            ],
        ],
        ["no grants at all", [usage], [], []],
    ])("%s", (_name, lines, databasePrivileges, extraGrants) => {
        const summary = summarizeGrants(lines, "mo_crm");
        expect(summary).toEqual({ databasePrivileges, extraGrants });
        expect(JSON.stringify(summary)).not.toContain(HASH);
    });
});

describe("privilegeChanges", () => {
    test.each([
        [["SELECT", "INSERT"], ["SELECT", "INSERT"], [], []],
        [["SELECT", "INSERT"], ["INSERT"], ["SELECT"], []],
        [["SELECT"], ["SELECT", "DROP", "INSERT"], [], ["INSERT", "DROP"]],
        [["SELECT", "ALTER"], ["ALTER", "EVENT"], ["SELECT"], ["EVENT"]],
        [["SELECT"], [], ["SELECT"], []],
    ])("declared %j, held %j: missing %j, extra %j", (declared, held, missing, extra) => {
        expect(privilegeChanges(declared, held)).toEqual({ missing, extra });
        expect(samePrivileges(declared, held)).toBe(missing.length === 0 && extra.length === 0);
    });

    test("order does not matter", () => {
        expect(samePrivileges(["ALTER", "SELECT"], ["SELECT", "ALTER"])).toBe(true);
    });
});
