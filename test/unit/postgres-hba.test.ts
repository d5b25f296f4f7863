// The pg_hba.conf rules of a PostgreSQL server: rendering, first-match effect, the block splice (real awk) and the install script.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import {
    PG_HBA_EDIT_SCRIPT,
    PG_HBA_STRIP_AWK,
    pgHbaMarkers,
    pgHbaScript,
    renderPgHbaBlock,
    renderPgHbaLines,
    markBlock,
    type PgHbaServer,
} from "../../components/databases/postgres/hba";
import { shellQuote } from "../../components/config";

const db = (x: string) => ({ database: `mo_${x}`, user: `svc_${x}` });
const server = (appHost: string, ...names: string[]): PgHbaServer => ({ name: "postgres-ext", appHost, databases: names.map(db) });

const rejects = (user: string) => [`host all ${user} all reject`, `host replication ${user} all reject`, `local all ${user} reject`, `local replication ${user} reject`];

describe("renderPgHbaLines", () => {
    test.each([
        ["no databases", server("10.0.0.5"), []],
        ["one database", server("10.0.0.5", "idp"), ["hostssl mo_idp svc_idp 10.0.0.5/32 scram-sha-256", ...rejects("svc_idp")]],
        [
            "the inventory's three, allow lines first in config order, then the rejects",
            server("192.168.1.20", "idp", "grafana", "discourse"),
            [
                "hostssl mo_idp svc_idp 192.168.1.20/32 scram-sha-256",
                "hostssl mo_grafana svc_grafana 192.168.1.20/32 scram-sha-256",
                "hostssl mo_discourse svc_discourse 192.168.1.20/32 scram-sha-256",
                ...rejects("svc_idp"),
                ...rejects("svc_grafana"),
                ...rejects("svc_discourse"),
            ],
        ],
    ])("%s", (_name, input, lines) => {
        expect(renderPgHbaLines(input)).toEqual(lines);
    });

    test.each([
        ["an app host with a CIDR", server("10.0.0.0/24", "idp"), /postgres-ext\.appHost: "10\.0\.0\.0\/24" is not an IPv4 address/],
        ["a wildcard app host", server("all", "idp"), /postgres-ext\.appHost/],
        ["a database named like a keyword", { name: "pg", appHost: "10.0.0.5", databases: [{ database: "all", user: "svc_x" }] }, /pg\.databases: database name "all"/],
        ["a user named like a keyword", { name: "pg", appHost: "10.0.0.5", databases: [{ database: "mo_x", user: "replication" }] }, /user name "replication"/],
        ["a name pg_hba would need quoted", { name: "pg", appHost: "10.0.0.5", databases: [{ database: "mo x", user: "svc_x" }] }, /database name "mo x"/],
    ])("refuses %s", (_name, input, message) => {
        expect(() => renderPgHbaLines(input)).toThrow(message);
    });
});

// pg_hba.conf semantics, reduced to what these rules use: the first line whose type, database,
// user and address match decides; `host` matches TCP with or without TLS, `hostssl` only with TLS.
interface Attempt {
    tls: boolean | "socket";
    database: string;
    user: string;
    from: string;
}
function firstMatch(lines: string[], a: Attempt): string {
    for (const line of lines) {
        const f = line.trim().split(/\s+/);
        if (f[0] === undefined || f[0].startsWith("#")) continue;
        const [type, database, user] = f as [string, string, string];
        const typeOk = a.tls === "socket" ? type === "local" : type === "host" || (type === "hostssl" && a.tls) || (type === "hostnossl" && !a.tls);
        const dbOk = database === "all" ? a.database !== "replication" : database === a.database;
        const userOk = user === "all" || user === a.user;
        const addr = type === "local" ? undefined : f[3];
        const addrOk = addr === undefined || addr === "all" || addr === `${a.from}/32`;
        if (typeOk && dbOk && userOk && addrOk) return f[type === "local" ? 3 : 4]!;
    }
    return "no line (refused)";
}

describe("the rendered block above a permissive file", () => {
    // What the local servers' base rules and an untouched Debian file both end with: broad rules for `all`.
    const permissive = ["local all all trust", "host all all 127.0.0.1/32 trust", "host all all 10.0.0.0/8 trust", "host all all 0.0.0.0/0 md5"];
    const lines = [...renderPgHbaBlock(server("10.0.0.5", "idp", "grafana"), "production").split("\n"), ...permissive];

    test.each<[string, Attempt, string]>([
        ["its own database, TLS, from the app host: SCRAM", { tls: true, database: "mo_idp", user: "svc_idp", from: "10.0.0.5" }, "scram-sha-256"],
        ["the other service's database", { tls: true, database: "mo_grafana", user: "svc_idp", from: "10.0.0.5" }, "reject"],
        ["the postgres database", { tls: true, database: "postgres", user: "svc_idp", from: "10.0.0.5" }, "reject"],
        ["without TLS", { tls: false, database: "mo_idp", user: "svc_idp", from: "10.0.0.5" }, "reject"],
        ["from another host", { tls: true, database: "mo_idp", user: "svc_idp", from: "10.0.0.6" }, "reject"],
        ["from loopback (where the file trusts all)", { tls: true, database: "mo_idp", user: "svc_idp", from: "127.0.0.1" }, "reject"],
        ["over the unix socket", { tls: "socket", database: "mo_idp", user: "svc_idp", from: "" }, "reject"],
        ["a replication connection", { tls: true, database: "replication", user: "svc_idp", from: "10.0.0.5" }, "reject"],
        ["the second service on its own database", { tls: true, database: "mo_grafana", user: "svc_grafana", from: "10.0.0.5" }, "scram-sha-256"],
        ["a role the block does not name keeps the file's rules", { tls: false, database: "postgres", user: "postgres", from: "127.0.0.1" }, "trust"],
    ])("a service user %s", (_name, attempt, method) => {
        expect(firstMatch(lines, attempt)).toBe(method);
    });
});

describe("renderPgHbaBlock", () => {
    test("is marked by stack and server, with the rules between the markers", () => {
        const block = renderPgHbaBlock(server("10.0.0.5", "idp"), "production");
        const lines = block.split("\n");
        expect(lines[0]).toBe("# BEGIN release-platform managed: stack production, server postgres-ext");
        expect(lines.at(-2)).toBe("# END release-platform managed: stack production, server postgres-ext");
        expect(lines.at(-1)).toBe("");
        expect(lines.filter((l) => !l.startsWith("#") && l !== "")).toEqual(renderPgHbaLines(server("10.0.0.5", "idp")));
    });

    test("is empty for a server without databases", () => {
        expect(renderPgHbaBlock(server("10.0.0.5"), "production")).toBe("");
    });

    test.each([["two words"], ["a'b"], [""]])("refuses the stack name %j as a marker", (stack) => {
        expect(() => pgHbaMarkers(stack, "postgres-ext")).toThrow(/cannot mark a pg_hba.conf block/);
    });
});

describe("PG_HBA_STRIP_AWK (real awk)", () => {
    const { begin, end } = pgHbaMarkers("local", "postgres-ext");
    const other = pgHbaMarkers("other", "postgres-ext");
    const ours = [begin, "hostssl mo_a svc_a 1.2.3.4/32 scram-sha-256", end];
    const theirs = [other.begin, "hostssl mo_b svc_b 1.2.3.4/32 scram-sha-256", other.end];
    const base = ["# base", "local all postgres trust"];

    function strip(lines: string[]): { status: number | null; out: string } {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hba-"));
        try {
            const file = path.join(dir, "pg_hba.conf");
            fs.writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
            const r = spawnSync("awk", ["-v", `begin=${begin}`, "-v", `end=${end}`, PG_HBA_STRIP_AWK, file], { encoding: "utf8" });
            return { status: r.status, out: r.stdout };
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
    const text = (lines: string[]) => lines.map((l) => `${l}\n`).join("");

    test.each([
        ["a file without the block is kept as it is", base, base],
        ["our block at the top is taken out", [...ours, ...base], base],
        ["our block in the middle is taken out", ["# head", ...ours, ...base], ["# head", ...base]],
        ["two copies are both taken out", [...ours, ...ours, ...base], base],
        ["another stack's block stays", [...theirs, ...ours, ...base], [...theirs, ...base]],
        ["a line that only contains the marker text stays", [`${begin} (old)`, ...base], [`${begin} (old)`, ...base]],
    ])("%s", (_name, input, expected) => {
        expect(strip(input)).toEqual({ status: 0, out: text(expected) });
    });

    test.each([
        ["a block that is never closed", [...base, begin, "hostssl mo_a svc_a 1.2.3.4/32 scram-sha-256"]],
        ["a block opened twice", [begin, begin, end, ...base]],
    ])("fails on %s instead of cutting the file short", (_name, input) => {
        expect(strip(input).status).toBe(3);
    });
});

describe("pgHbaScript", () => {
    test.each([["plain", "'plain'"], ["it's", `'it'\\''s'`], ["$(rm -rf /)", "'$(rm -rf /)'"]])("shellQuote %j", (value, quoted) => {
        expect(shellQuote(value)).toBe(quoted);
        expect(execFileSync("sh", ["-c", `printf %s ${quoted}`], { encoding: "utf8" })).toBe(value);
    });

    test.each([["install" as const], ["remove" as const], ["read" as const]])("%s is valid POSIX sh and hands its own block's markers (with its id) to the postgres part", (action) => {
        const script = pgHbaScript(action, { stack: "local", server: "postgres-ext", port: 5433, blockId: "0a1b2c3d4e5f" });
        expect(spawnSync("sh", ["-n"], { input: script }).status).toBe(0);
        expect(script).toContain(
            `pg-hba ${action} 5433 '# BEGIN release-platform managed: stack local, server postgres-ext, block 0a1b2c3d4e5f' '# END release-platform managed: stack local, server postgres-ext, block 0a1b2c3d4e5f' ` +
                `'# BEGIN release-platform managed: stack local, server postgres-ext' '# END release-platform managed: stack local, server postgres-ext'`,
        );
        expect(script).toContain(shellQuote(PG_HBA_EDIT_SCRIPT));
    });

    test("the block id goes into the markers and back out; nothing else changes", () => {
        const block = renderPgHbaBlock(server("10.0.0.5", "idp"), "production");
        const marked = markBlock(block, "production", "postgres-ext", undefined, "00ff00ff00ff");
        expect(marked.split("\n")[0]).toBe("# BEGIN release-platform managed: stack production, server postgres-ext, block 00ff00ff00ff");
        expect(marked.split("\n").at(-2)).toBe("# END release-platform managed: stack production, server postgres-ext, block 00ff00ff00ff");
        expect(markBlock(marked, "production", "postgres-ext", "00ff00ff00ff", undefined)).toBe(block);
        expect(() => pgHbaMarkers("production", "postgres-ext", "not-hex!")).toThrow(/is not a hex id/);
    });

    test("the postgres part is valid POSIX sh, validates before it reloads and puts the previous file back on errors", () => {
        expect(spawnSync("sh", ["-n"], { input: PG_HBA_EDIT_SCRIPT }).status).toBe(0);
        const validate = PG_HBA_EDIT_SCRIPT.indexOf("FROM pg_hba_file_rules WHERE error IS NOT NULL");
        const restore = PG_HBA_EDIT_SCRIPT.indexOf(`mv -f "$previous" "$hba"`);
        const reload = PG_HBA_EDIT_SCRIPT.indexOf("pg_reload_conf()");
        expect(validate).toBeGreaterThan(0);
        expect(restore).toBeGreaterThan(validate);
        expect(reload).toBeGreaterThan(restore);
        // A file that would not change is neither rewritten nor reloaded.
        expect(PG_HBA_EDIT_SCRIPT.indexOf(`cmp -s "$staged" "$hba"`)).toBeLessThan(PG_HBA_EDIT_SCRIPT.indexOf(`mv -f "$staged" "$hba"`));
        // An install or removal holds the folder's lock from before it reads the file to after it reloads
        // (the real race is in test/integration/postgres-access.test.ts); a read takes no lock.
        const lock = PG_HBA_EDIT_SCRIPT.indexOf("flock -w 120 9");
        expect(lock).toBeGreaterThan(PG_HBA_EDIT_SCRIPT.indexOf('if [ "$action" = read ]; then'));
        expect(lock).toBeLessThan(PG_HBA_EDIT_SCRIPT.indexOf('"$hba" >"$mine"'));
    });

    test("the postgres part runs as postgres: directly, through runuser as root, else through sudo", () => {
        const script = pgHbaScript("install", { stack: "s", server: "pg", port: 5432, blockId: "abcdef01" });
        expect(script).toMatch(/= postgres \]; then set -- sh -c\n.*= 0 \]; then set -- runuser -u postgres -- sh -c\nelse set -- sudo -n -u postgres -- sh -c/);
    });

    test.each([[0], [70000], [5432.5]])("refuses port %d", (port) => {
        expect(() => pgHbaScript("install", { stack: "s", server: "pg", port, blockId: "abcdef01" })).toThrow(/pg\.admin\.port/);
    });
});
