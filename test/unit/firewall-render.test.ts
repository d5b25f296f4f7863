// The host firewall renderers: exact nftables rulesets and ufw commands, ports by engine, the app host only, wildcards refused.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parsePlatformConfig, shellQuote, type DatabaseEngine, type DatabaseServerSpec, type FirewallKind } from "../../components/config";
import {
    dbPortAccess,
    NFT_BOOT_UNIT,
    nftBootCommand,
    renderNftablesReadScript,
    renderNftBootUnit,
    nftRulesetPath,
    nftTableName,
    renderNftablesApplyScript,
    renderNftablesRemoveScript,
    renderNftablesRuleset,
    renderUfwApplyScript,
    renderUfwCommands,
    renderUfwRemoveScript,
} from "../../components/databases/firewall";
import { readStackConfig } from "../../scripts/local-secrets";

function server(overrides: { name?: string; engine?: DatabaseEngine; port?: number; appHost?: string; firewall?: FirewallKind } = {}): DatabaseServerSpec {
    const engine = overrides.engine ?? "mariadb";
    return {
        name: overrides.name ?? "mariadb-ext",
        engine,
        version: undefined,
        admin: { host: "10.10.30.21", port: overrides.port ?? (engine === "mariadb" ? 3306 : 5432), user: "admin", tls: { mode: "verify-full", caFile: "/etc/release-platform/db-ca.crt" } },
        appHost: overrides.appHost ?? "10.10.20.10",
        ssh: { host: "10.10.30.21", port: 22, user: "deploy" },
        firewall: overrides.firewall ?? "nftables",
        maxDatabases: undefined,
        databases: [],
    };
}

describe("renderNftablesRuleset", () => {
    test("one table of our own, replaced atomically, the port open to the app host only", () => {
        expect(renderNftablesRuleset(server())).toBe(
            [
                "# Host firewall of database server mariadb-ext (MariaDB on tcp/3306), managed by release-platform (Pulumi).",
                "# tcp/3306 is open to the app host 10.10.20.10 only (and to this host over loopback); every other source is dropped.",
                "# Loaded as one transaction: the table is declared, deleted and re-created, so loading it again changes nothing.",
                "table inet release_platform_db_mariadb_ext",
                "delete table inet release_platform_db_mariadb_ext",
                "table inet release_platform_db_mariadb_ext {",
                "\tchain input {",
                "\t\ttype filter hook input priority filter; policy accept;",
                '\t\tiif "lo" tcp dport 3306 accept',
                "\t\tip saddr 10.10.20.10 tcp dport 3306 accept",
                "\t\ttcp dport 3306 counter drop",
                "\t}",
                "}",
                "",
            ].join("\n"),
        );
    });

    test.each([
        ["mariadb", 3306, "MariaDB"],
        ["postgresql", 5432, "PostgreSQL"],
        ["mariadb", 3307, "MariaDB"], // the local external stand-in: the port comes from admin.port
    ] as const)("%s on %i: every rule is about that port", (engine, port, label) => {
        const ruleset = renderNftablesRuleset(server({ engine, port }));
        expect(ruleset).toContain(`(${label} on tcp/${port})`);
        const rules = ruleset.split("\n").filter((line) => line.includes("dport"));
        expect(rules.map((line) => line.trim())).toEqual([
            `iif "lo" tcp dport ${port} accept`,
            `ip saddr 10.10.20.10 tcp dport ${port} accept`,
            `tcp dport ${port} counter drop`,
        ]);
    });

    test.each([["10.10.20.10"], ["192.168.1.7"], ["127.0.0.1"]])("only the app host %s is accepted from outside", (appHost) => {
        const ruleset = renderNftablesRuleset(server({ appHost }));
        const accepts = ruleset.split("\n").filter((line) => / accept$/.test(line));
        expect(accepts.map((line) => line.trim())).toEqual(['iif "lo" tcp dport 3306 accept', `ip saddr ${appHost} tcp dport 3306 accept`]);
        expect(ruleset.match(/saddr/g)).toHaveLength(1);
    });

    test("touches nothing but its own table", () => {
        const texts = [renderNftablesRuleset(server()), renderNftablesApplyScript(server()), renderNftablesRemoveScript(server())];
        for (const text of texts) {
            expect(text).not.toMatch(/flush ruleset|flush table|ruleset/);
            for (const table of text.match(/table inet \w+/g) ?? []) expect(table).toBe("table inet release_platform_db_mariadb_ext");
        }
    });

    test.each([
        ["plesk", "release_platform_db_plesk", "/etc/nftables.d/release-platform-db-plesk.nft"],
        ["mariadb-ext", "release_platform_db_mariadb_ext", "/etc/nftables.d/release-platform-db-mariadb-ext.nft"],
        ["postgres-ext", "release_platform_db_postgres_ext", "/etc/nftables.d/release-platform-db-postgres-ext.nft"],
    ])("server %s owns table %s and file %s", (name, table, file) => {
        expect(nftTableName(server({ name }))).toBe(table);
        expect(nftRulesetPath(server({ name }))).toBe(file);
    });

    test.each([["relative/dir"], ["/etc/nft ables"], ["/etc/../tmp"], ["/etc/$(reboot)"], [""]])("refuses the rules directory %j", (dir) => {
        expect(() => nftRulesetPath(server(), dir)).toThrow(/nftables rules directory must be an absolute path/);
        expect(() => renderNftablesApplyScript(server(), { unitDir: dir })).toThrow(/must be an absolute path/);
    });
});

describe("nftables scripts", () => {
    const paths = { rulesDir: "/etc/nftables.d", unitDir: "/etc/systemd/system" };

    test("apply reads the ruleset from stdin, checks it before anything changes, keeps it, loads it, and installs the boot unit", () => {
        const script = renderNftablesApplyScript(server(), paths);
        expect(spawnSync("sh", ["-n"], { input: script }).status).toBe(0);
        const lines = script.split("\n");
        const order = [
            'cat >"$tmp"',
            '$SUDO nft -c -f "$tmp"',
            "$SUDO install -D -m 0644 \"$tmp\" '/etc/nftables.d/release-platform-db-mariadb-ext.nft'",
            "$SUDO nft -f '/etc/nftables.d/release-platform-db-mariadb-ext.nft'",
            `$SUDO install -D -m 0644 "$unit" '/etc/systemd/system/${NFT_BOOT_UNIT}'`,
            `$SUDO ln -sfn '/etc/systemd/system/${NFT_BOOT_UNIT}' '/etc/systemd/system/sysinit.target.wants/${NFT_BOOT_UNIT}'`,
        ].map((line) => lines.indexOf(line));
        expect(order.every((at) => at > 0)).toBe(true);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        expect(script).toContain(shellQuote(renderNftBootUnit("/etc/nftables.d")));
    });

    test("the boot unit loads every ruleset of ours after nftables.service, before the network", () => {
        const unit = renderNftBootUnit("/etc/nftables.d");
        expect(unit).toContain("After=nftables.service");
        expect(unit).toContain("Before=network-pre.target shutdown.target");
        expect(unit).toContain(`ExecStart=/bin/sh -c '${nftBootCommand("/etc/nftables.d")}'`);
        expect(nftBootCommand("/etc/nftables.d")).toBe('for f in /etc/nftables.d/release-platform-db-*.nft; do [ -e "$f" ] || continue; nft -f "$f" || exit 1; done');
        expect(unit).toContain("WantedBy=sysinit.target");
    });

    test("remove deletes our file and our table, the boot unit once no ruleset of ours is left, and succeeds when they are gone", () => {
        const script = renderNftablesRemoveScript(server(), { rulesDir: "/srv/rules", unitDir: "/etc/systemd/system" });
        expect(spawnSync("sh", ["-n"], { input: script }).status).toBe(0);
        expect(script.split("\n").slice(2, 4)).toEqual([
            "$SUDO rm -f '/srv/rules/release-platform-db-mariadb-ext.nft'",
            "printf '%s\\n' 'table inet release_platform_db_mariadb_ext' 'delete table inet release_platform_db_mariadb_ext' | $SUDO nft -f -",
        ]);
        expect(script).toContain(`if ! ls '/srv/rules'/release-platform-db-*.nft >/dev/null 2>&1; then $SUDO rm -f '/etc/systemd/system/sysinit.target.wants/${NFT_BOOT_UNIT}' '/etc/systemd/system/${NFT_BOOT_UNIT}'; fi`);
    });

    test("read prints our table without counters, the file's digest and whether the boot unit is enabled", () => {
        const script = renderNftablesReadScript(server(), paths);
        expect(spawnSync("sh", ["-n"], { input: script }).status).toBe(0);
        expect(script).toContain("$SUDO nft list table inet release_platform_db_mariadb_ext 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/' || true");
        expect(script).toContain(`if [ -L '/etc/systemd/system/sysinit.target.wants/${NFT_BOOT_UNIT}' ]; then echo "boot enabled"; else echo "boot missing"; fi`);
    });
});

describe("renderUfwCommands", () => {
    test("allow (prepended, above any deny) then deny, both tagged as ours", () => {
        expect(renderUfwCommands(server({ firewall: "ufw" }))).toEqual([
            "ufw prepend allow from 10.10.20.10 to any port 3306 proto tcp comment 'release-platform db mariadb-ext'",
            "ufw deny 3306 comment 'release-platform db mariadb-ext'",
        ]);
    });

    test.each([
        ["mariadb", 3306],
        ["postgresql", 5432],
        ["postgresql", 6432],
    ] as const)("%s on %i", (engine, port) => {
        const [allow, deny] = renderUfwCommands(server({ name: "db", engine, port, firewall: "ufw" }));
        expect(allow).toBe(`ufw prepend allow from 10.10.20.10 to any port ${port} proto tcp comment 'release-platform db db'`);
        expect(deny).toBe(`ufw deny ${port} comment 'release-platform db db'`);
    });

    test("apply refuses an inactive ufw, adds allow before deny, then removes our allows for other sources", () => {
        const lines = renderUfwApplyScript(server({ firewall: "ufw" })).split("\n");
        const at = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line));
        expect(at(/ufw status \| grep -q '\^Status: active' \|\| .*exit 1/)).toBe(2);
        expect(at(/ufw prepend allow from 10\.10\.20\.10 /)).toBe(3);
        expect(at(/ufw deny 3306 /)).toBe(4);
        const cleanup = lines[5]!;
        expect(cleanup).toContain("$SUDO ufw show added | sed -n ");
        expect(cleanup).toContain(`[ "$ip" = '10.10.20.10' ] || $SUDO ufw delete allow from "$ip" to any port 3306 proto tcp`);
        expect(cleanup).toContain(`comment '\\''release-platform db mariadb-ext'\\''`);
    });

    test("remove deletes the deny first, so the app host is never shut out, then our allows", () => {
        const lines = renderUfwRemoveScript(server({ firewall: "ufw" })).split("\n");
        expect(lines[2]).toBe("$SUDO ufw delete deny 3306");
        expect(lines[3]).toMatch(/^\$SUDO ufw show added \| sed -n .* \| while read -r ip; do \$SUDO ufw delete allow from "\$ip" to any port 3306 proto tcp; done$/);
    });
});

describe("what the firewall opens is refused unless it is one address", () => {
    const renderers = [
        ["nftables", (s: DatabaseServerSpec): unknown => renderNftablesRuleset(s)],
        ["ufw", (s: DatabaseServerSpec): unknown => renderUfwCommands(s)],
    ] as const;

    test.each([["%"], ["10.10.20.%"], ["*"], ["0.0.0.0"], ["0.0.0.0/0"], ["10.10.20.0/24"]])("wildcard or network %j", (appHost) => {
        for (const [, render] of renderers) {
            expect(() => render(server({ appHost }))).toThrow(/^databases\.servers\.mariadb-ext\.appHost: the firewall opens the database port to one address only, never a wildcard/);
        }
    });

    test.each([[""], ["10.10.20.256"], ["app.example.com"], ["::1"], ["255.255.255.255"], ["10.10.20.10 "], ["10.10.20.10; flush ruleset"]])("not one IPv4 address %j", (appHost) => {
        for (const [, render] of renderers) {
            expect(() => render(server({ appHost }))).toThrow(/^databases\.servers\.mariadb-ext\.appHost: /);
        }
    });

    test.each([[0], [65536], [3306.5], [-1]])("port %d", (port) => {
        for (const [, render] of renderers) {
            expect(() => render(server({ port }))).toThrow(/^databases\.servers\.mariadb-ext\.admin\.port: must be a tcp port/);
        }
    });

    test.each([["Bad_Name"], ["x y"], ["a'b"]])("server name %j", (name) => {
        expect(() => dbPortAccess(server({ name }))).toThrow(/is not a valid server name/);
    });
});

describe.each([["production"], ["staging"]])("the %s stack", (stack) => {
    const spec = parsePlatformConfig(readStackConfig(path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`)));

    test("ufw on the two external database hosts with the runbooks' rules, Plesk's own firewall on the Plesk host", () => {
        const appHost = stack === "production" ? "10.10.20.10" : "10.20.20.10";
        const rules = Object.fromEntries(spec.databases.servers.map((s) => [s.name, s.firewall === "ufw" ? renderUfwCommands(s) : s.firewall]));
        expect(rules).toEqual({
            "mariadb-ext": [
                `ufw prepend allow from ${appHost} to any port 3306 proto tcp comment 'release-platform db mariadb-ext'`,
                "ufw deny 3306 comment 'release-platform db mariadb-ext'",
            ],
            plesk: "plesk",
            "postgres-ext": [
                `ufw prepend allow from ${appHost} to any port 5432 proto tcp comment 'release-platform db postgres-ext'`,
                "ufw deny 5432 comment 'release-platform db postgres-ext'",
            ],
        });
    });
});
