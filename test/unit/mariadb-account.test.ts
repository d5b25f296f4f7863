// MariaDB service users: the password hash, the statement plan that converges an account, and the drift fields.
import { describe, expect, test } from "vitest";
import {
    changedFields,
    observedState,
    PASSWORD_AS_DECLARED,
    PASSWORD_CHANGED_OUTSIDE,
    planServiceUser,
    type DeclaredServiceUser,
    type ObservedAccount,
    type ServiceUserState,
} from "../../components/databases/mariadb/account";
import { normalizePrivileges, SERVICE_PRIVILEGES } from "../../components/databases/mariadb/grants";
import { nativePasswordHash, passwordMatches } from "../../components/databases/mariadb/password";

describe("nativePasswordHash (values from MariaDB 10.11's PASSWORD())", () => {
    test.each([
        ["password", "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"],
        ["a", "*667F407DE7C6AD07358FA38DAED7828A72014B4E"],
        ["s3cr'et\\x", "*80B3C5F23FFE134D957B005DF37BD0CAAB6A8937"],
        ["Grüße!#%&*()-_=+[]{}<>:?", "*0D0FBD8A385735A8FD83D94391C3EEBEDB33C84C"],
    ])("%j", (password, hash) => {
        expect(nativePasswordHash(password)).toBe(hash);
    });
});

describe("passwordMatches", () => {
    const hash = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19";
    test.each([
        ["password", "mysql_native_password", hash, true],
        ["password", "mysql_native_password", hash.toLowerCase(), true],
        ["Password", "mysql_native_password", hash, false],
        ["password", "ed25519", hash, false],
        ["password", "mysql_native_password", "", false],
        ["password", "mysql_native_password", hash.slice(0, 20), false],
    ])("%j under %s against a stored credential -> %s", (password, plugin, stored, expected) => {
        expect(passwordMatches(password, plugin, stored)).toBe(expected);
    });
});

const PASSWORD = "Pa55-word!#";
const PRIVILEGES = normalizePrivileges(SERVICE_PRIVILEGES);
const declared: DeclaredServiceUser = {
    user: "svc_crm",
    host: "10.10.20.10",
    password: PASSWORD,
    tls: "SSL",
    database: "mo_crm",
    privileges: PRIVILEGES,
};
const inSync: ObservedAccount = {
    plugin: "mysql_native_password",
    authenticationString: nativePasswordHash(PASSWORD),
    sslType: "ANY",
    databasePrivileges: PRIVILEGES,
    extraGrants: [],
};
const ACCOUNT = "'svc_crm'@'10.10.20.10'";
const TARGET = "`mo\\_crm`.*";
const GRANT_ALL_DECLARED = `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON ${TARGET} TO ${ACCOUNT}`;

describe("planServiceUser", () => {
    test.each<[string, ObservedAccount | undefined, { user: string; host: string } | undefined, string[]]>([
        ["a new account: create with password and TLS, then grant", undefined, undefined, [`CREATE USER ${ACCOUNT} IDENTIFIED BY ? REQUIRE SSL`, GRANT_ALL_DECLARED]],
        ["in sync: nothing", inSync, undefined, []],
        ["password changed by hand", { ...inSync, authenticationString: nativePasswordHash("other") }, undefined, [`ALTER USER ${ACCOUNT} IDENTIFIED BY ?`]],
        ["another auth plugin", { ...inSync, plugin: "unix_socket", authenticationString: "" }, undefined, [`ALTER USER ${ACCOUNT} IDENTIFIED BY ?`]],
        ["TLS requirement dropped by hand", { ...inSync, sslType: "" }, undefined, [`ALTER USER ${ACCOUNT} REQUIRE SSL`]],
        ["X509 set by hand", { ...inSync, sslType: "X509" }, undefined, [`ALTER USER ${ACCOUNT} REQUIRE SSL`]],
        [
            "a privilege revoked by hand: grant it back",
            { ...inSync, databasePrivileges: PRIVILEGES.filter((p) => p !== "INDEX") },
            undefined,
            [`GRANT INDEX ON ${TARGET} TO ${ACCOUNT}`],
        ],
        [
            "privileges added by hand: revoke just those",
            { ...inSync, databasePrivileges: [...PRIVILEGES, "DROP", "EVENT"] },
            undefined,
            [`REVOKE DROP, EVENT ON ${TARGET} FROM ${ACCOUNT}`],
        ],
        [
            "one missing and one extra: the grant comes first",
            { ...inSync, databasePrivileges: [...PRIVILEGES.filter((p) => p !== "SELECT"), "DROP"] },
            undefined,
            [`GRANT SELECT ON ${TARGET} TO ${ACCOUNT}`, `REVOKE DROP ON ${TARGET} FROM ${ACCOUNT}`],
        ],
        [
            "extra grants elsewhere are revoked one by one",
            { ...inSync, extraGrants: ["PROCESS ON *.*", "GRANT OPTION ON `mo\\_crm`.*", "`app_role`"] },
            undefined,
            [`REVOKE PROCESS ON *.* FROM ${ACCOUNT}`, `REVOKE GRANT OPTION ON ${TARGET} FROM ${ACCOUNT}`, `REVOKE \`app_role\` FROM ${ACCOUNT}`],
        ],
        [
            "an app host change: the new account complete, then the old one dropped",
            undefined,
            { user: "svc_crm", host: "10.10.20.9" },
            [`CREATE USER ${ACCOUNT} IDENTIFIED BY ? REQUIRE SSL`, GRANT_ALL_DECLARED, "DROP USER IF EXISTS 'svc_crm'@'10.10.20.9'"],
        ],
        ["the previous account is this one: nothing dropped", inSync, { user: "svc_crm", host: "10.10.20.10" }, []],
    ])("%s", (_name, observed, previous, expected) => {
        const plan = planServiceUser(declared, observed, previous);
        expect(plan.map((s) => s.sql)).toEqual(expected);
        for (const statement of plan) {
            // The password is only ever a bound parameter of a statement marked secret.
            expect(statement.sql).not.toContain(PASSWORD);
            expect(statement.secret).toBe(statement.params.length > 0);
            expect(statement.params).toEqual(statement.secret ? [PASSWORD] : []);
        }
        // No plan ever revokes one of the declared privileges.
        const revokes = plan.filter((s) => s.sql.startsWith(`REVOKE`) && s.sql.includes(` ON ${TARGET} `));
        for (const r of revokes) for (const p of PRIVILEGES) expect(r.sql).not.toMatch(new RegExp(`[ ,]${p}[ ,]`));
    });

    test("TLS NONE is spelled out, so a later change is an ALTER", () => {
        expect(planServiceUser({ ...declared, tls: "NONE" }, undefined)[0]?.sql).toBe(`CREATE USER ${ACCOUNT} IDENTIFIED BY ? REQUIRE NONE`);
    });

    test.each([
        [{ ...declared, host: "%" }, /invalid MariaDB account host "%"/],
        [{ ...declared, host: "10.10.20._" }, /no wildcard/],
        [{ ...declared, user: "svc'x" }, /invalid MariaDB user name/],
    ])("refuses an account that is a wildcard or needs quoting: %j", (bad, message) => {
        expect(() => planServiceUser(bad, undefined)).toThrow(message);
    });
});

describe("drift as the state shows it", () => {
    const stored: ServiceUserState = { ...declared, passwordState: PASSWORD_AS_DECLARED, extraGrants: [] };

    test.each<[string, ObservedAccount, string[]]>([
        ["in sync", inSync, []],
        ["password changed by hand", { ...inSync, authenticationString: nativePasswordHash("x") }, ["passwordState"]],
        ["another auth plugin", { ...inSync, plugin: "ed25519", authenticationString: "" }, ["passwordState"]],
        ["TLS requirement dropped", { ...inSync, sslType: "" }, ["tls"]],
        ["a privilege revoked", { ...inSync, databasePrivileges: PRIVILEGES.slice(1) }, ["privileges"]],
        ["a global privilege added", { ...inSync, extraGrants: ["SUPER ON *.*"] }, ["extraGrants"]],
        ["everything at once", { ...inSync, authenticationString: "", sslType: "X509", databasePrivileges: [], extraGrants: ["`r`"] }, ["passwordState", "tls", "privileges", "extraGrants"]],
    ])("%s -> changed %j", (_name, observed, changed) => {
        const state = observedState(stored, observed);
        expect(changedFields(state, declared)).toEqual(changed);
        // The state keeps the declared password and says whether the server still has it; never the server's hash.
        expect(state.password).toBe(PASSWORD);
        expect(state.passwordState).toBe(changed.includes("passwordState") ? PASSWORD_CHANGED_OUTSIDE : PASSWORD_AS_DECLARED);
        expect(JSON.stringify(state)).not.toContain(observed.authenticationString || "never-empty");
    });

    test("a state written before passwordState existed counts as in sync", () => {
        const older: Partial<ServiceUserState> = { ...stored };
        delete older.passwordState;
        expect(changedFields(older as ServiceUserState, declared)).toEqual([]);
    });

    test.each<[string, Partial<DeclaredServiceUser>, string[]]>([
        ["another app host", { host: "10.10.20.11" }, ["host"]],
        ["another password in config", { password: "new" }, ["password"]],
        ["privileges in another order", { privileges: [...PRIVILEGES].reverse() }, []],
        ["one privilege less", { privileges: PRIVILEGES.slice(1) }, ["privileges"]],
        ["another user name", { user: "svc_other" }, ["user"]],
    ])("declaration changes: %s -> %j", (_name, change, changed) => {
        expect(changedFields(stored, { ...declared, ...change })).toEqual(changed);
    });
});
