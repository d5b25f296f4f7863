// The MariaDB service-user provider called in-process against the real local MariaDB: TLS, adoption, host moves, errors.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PASSWORD_AS_DECLARED } from "../../components/databases/mariadb/account";
import type { MariaDbAdminConnection } from "../../components/databases/mariadb/connection";
import { withAdminConnection } from "../../components/databases/mariadb/connection";
import { normalizePrivileges, SERVICE_PRIVILEGES } from "../../components/databases/mariadb/grants";
import { mariaDbServiceUserProvider as provider, runStatements, type MariaDbServiceUserInputs, type MariaDbServiceUserOutputs } from "../../components/databases/mariadb/user";
import { dropTestObjects, mariaQuery, PLESK_STANDIN } from "../support/servers";

/** svc_it3p_* / mo_it3p_*: dropped before and after by dropTestObjects. */
const PREFIX = "it3p_";
const connection: MariaDbAdminConnection = { host: PLESK_STANDIN.host, port: PLESK_STANDIN.port, user: PLESK_STANDIN.user, password: "", tls: "disable" };

function inputs(name: string, change: Partial<MariaDbServiceUserInputs> = {}): MariaDbServiceUserInputs {
    return {
        connection,
        user: `svc_${PREFIX}${name}`,
        host: "127.0.0.1",
        password: `pw-${name}-Xy7!`,
        tls: "NONE",
        database: `mo_${PREFIX}${name}`,
        privileges: normalizePrivileges(SERVICE_PRIVILEGES),
        ...change,
    };
}

async function accounts(name: string): Promise<{ Host: string; ssl_type: string }[]> {
    return mariaQuery(PLESK_STANDIN, "SELECT Host, ssl_type FROM mysql.user WHERE User = ? ORDER BY Host", [`svc_${PREFIX}${name}`]);
}

async function grants(name: string, host = "127.0.0.1"): Promise<string[]> {
    const rows = await mariaQuery<Record<string, string>>(PLESK_STANDIN, `SHOW GRANTS FOR 'svc_${PREFIX}${name}'@'${host}'`);
    return rows.map((r) => (Object.values(r)[0] ?? "").replace(/PASSWORD '\*[0-9A-F]{40}'/, "PASSWORD '<hash>'")).sort();
}

describe("MariaDB service-user provider, real server", () => {
    beforeAll(() => dropTestObjects(PREFIX));
    afterAll(() => dropTestObjects(PREFIX));

    test("REQUIRE SSL is set, read back, and a change of it alone is an in-place update", async () => {
        const created = await provider.create!(inputs("tls", { tls: "SSL" }));
        expect(await accounts("tls")).toEqual([{ Host: "127.0.0.1", ssl_type: "ANY" }]);
        expect(created.outs).toMatchObject({ tls: "SSL", passwordState: PASSWORD_AS_DECLARED, extraGrants: [] });

        const read = await provider.read!(created.id, created.outs);
        expect(read.props).toMatchObject({ tls: "SSL", privileges: inputs("tls").privileges });
        expect(await provider.diff!(created.id, read.props as MariaDbServiceUserOutputs, inputs("tls", { tls: "SSL" }))).toMatchObject({ changes: false, replaces: [] });

        const diff = await provider.diff!(created.id, read.props as MariaDbServiceUserOutputs, inputs("tls"));
        expect(diff).toMatchObject({ changes: true, replaces: [] });
        await provider.update!(created.id, read.props as MariaDbServiceUserOutputs, inputs("tls"));
        expect(await accounts("tls")).toEqual([{ Host: "127.0.0.1", ssl_type: "" }]);
    });

    test("create adopts an account the runbooks made (ALL on the unescaped name, a global privilege, another password) and converges it", async () => {
        const user = `svc_${PREFIX}adopt`;
        await mariaQuery(PLESK_STANDIN, `CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY 'runbook-password'`);
        await mariaQuery(PLESK_STANDIN, `GRANT ALL PRIVILEGES ON \`mo_${PREFIX}adopt\`.* TO '${user}'@'127.0.0.1' WITH GRANT OPTION`);
        await mariaQuery(PLESK_STANDIN, `GRANT PROCESS ON *.* TO '${user}'@'127.0.0.1'`);

        const created = await provider.create!(inputs("adopt"));
        expect(created.outs).toMatchObject({ passwordState: PASSWORD_AS_DECLARED, extraGrants: [], privileges: inputs("adopt").privileges });
        expect(await grants("adopt")).toEqual([
            `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, REFERENCES, INDEX, ALTER ON \`mo\\_${PREFIX.replace("_", "\\_")}adopt\`.* TO \`${user}\`@\`127.0.0.1\``,
            `GRANT USAGE ON *.* TO \`${user}\`@\`127.0.0.1\` IDENTIFIED BY PASSWORD '<hash>'`,
        ]);
    });

    test("an app host change moves the account: the new one holds the grants, the old one is dropped", async () => {
        const created = await provider.create!(inputs("move"));
        const state = created.outs!;
        const moved = inputs("move", { host: "127.0.0.3" });
        expect(await provider.diff!(created.id, state, moved)).toMatchObject({ changes: true, replaces: [] });
        const updated = await provider.update!(created.id, state, moved);
        expect(updated.outs).toMatchObject({ host: "127.0.0.3", extraGrants: [] });
        expect(await accounts("move")).toEqual([{ Host: "127.0.0.3", ssl_type: "" }]);
        expect(await grants("move", "127.0.0.3")).toHaveLength(2);
    });

    test("another user name or another server is a replace; a grant change never is", async () => {
        const olds = { ...inputs("diff"), passwordState: PASSWORD_AS_DECLARED, extraGrants: [] } as MariaDbServiceUserOutputs;
        expect(await provider.diff!("id", olds, inputs("other"))).toMatchObject({ changes: true, replaces: ["user"] });
        expect(await provider.diff!("id", olds, inputs("diff", { connection: { ...connection, port: 3307 } }))).toMatchObject({ changes: true, replaces: ["connection"] });
        expect(await provider.diff!("id", olds, inputs("diff", { privileges: ["SELECT"] }))).toMatchObject({ changes: true, replaces: [] });
        expect(await provider.diff!("id", { ...olds, extraGrants: ["PROCESS ON *.*"] }, inputs("diff"))).toMatchObject({ changes: true, replaces: [] });
    });

    test("read of an account dropped by hand reports it gone; delete drops it and is idempotent", async () => {
        const created = await provider.create!(inputs("gone"));
        const state = created.outs!;
        await provider.delete!(created.id, state);
        expect(await accounts("gone")).toEqual([]);
        expect(await provider.read!(created.id, state)).toEqual({});
        await provider.delete!(created.id, state);
    });

    test("a failing statement that carries a password fails without the server's text", async () => {
        const secret = "Very-Secret-Pw-123";
        const error = await withAdminConnection(connection, (c) =>
            runStatements(c, [{ sql: `ALTER USER 'svc_${PREFIX}nobody'@'127.0.0.1' IDENTIFIED BY ?`, params: [secret], secret: true }]),
        ).then(
            () => undefined,
            (e: unknown) => e as Error,
        );
        expect(error?.message).toMatch(/ALTER USER 'svc_it3p_nobody'@'127\.0\.0\.1' IDENTIFIED BY <secret> failed \(ER_CANNOT_USER\); details withheld/);
        expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(secret);
    });
});
