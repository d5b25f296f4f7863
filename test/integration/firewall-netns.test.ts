// Host firewalls for real: the fixture program through the real CLI, over SSH (pinned host keys) into test hosts in network namespaces.
//
// The test network (test/support/netns.ts), subnet 10.231.0.0/24, only on veths inside namespaces:
//   rp-db     10.231.0.1  database host with nftables: listeners on 3306 (managed) and 5432 (not), sshd
//   rp-dbu    10.231.0.4  database host with ufw (private /etc/ufw): listeners on 5432 (managed) and 3306 (not), sshd
//   rp-app    10.231.0.2  the app host
//   rp-other  10.231.0.3  any other host
//   root      10.231.0.254 where vitest and the Pulumi CLI run; the CLI reaches the sshds over this veth
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { DatabaseServerSpec } from "../../components/config";
import { NFT_BOOT_UNIT, nftBootCommand, renderNftablesApplyScript, renderNftablesRuleset, renderNftBootUnit, renderUfwApplyScript } from "../../components/databases/firewall";
import { ensureNetnsTools, TestNetwork, type TestHost } from "../support/netns";
import { FixtureStack } from "../support/fixture-stack";
import { changingSteps } from "../support/workspace";

const PROJECT = "rp-firewall-fixture";

const ADDRESS = { db: "10.231.0.1", app: "10.231.0.2", other: "10.231.0.3", dbu: "10.231.0.4", root: "10.231.0.254" } as const;
const NFT_TABLE = "release_platform_db_fw_nft";
const UFW_COMMENT = "release-platform db fw-ufw";
/** A table and a ufw rule that were on the hosts before us: they must survive every step. */
const FOREIGN_NFT_TABLE = "rp_host_own";
const FOREIGN_UFW_RULE = "allow from 10.231.0.3 to any port 9999 proto tcp";

interface FixtureServer {
    name: string;
    engine: "mariadb" | "postgresql";
    host: string;
    port: number;
    appHost: string;
    firewall: "nftables" | "ufw";
    hostKey: string;
}

/** The fixture's config: the servers, and where their rulesets and boot unit go (beside each other, never the machine's own). */
function writeFirewallConfig(stack: FixtureStack, servers: FixtureServer[], nftRulesDir: string): void {
    stack.writeConfig({ servers, nftRulesDir, systemdUnitDir: unitDirBeside(nftRulesDir) });
}

/** The test hosts' systemd unit directory: beside their rules directory, never the machine's own. */
const unitDirBeside = (nftRulesDir: string): string => path.join(path.dirname(nftRulesDir), "systemd");

/** What `nft list tables` shows in a host (its own ruleset, never the machine's). */
function nftTables(host: TestHost): string[] {
    return host
        .exec(["nft", "list", "tables"])
        .stdout.split("\n")
        .map((l) => l.trim())
        .filter((l) => l.length > 0);
}

function ufwAdded(host: TestHost): string[] {
    return host
        .exec(["ufw", "show", "added"])
        .stdout.split("\n")
        .filter((l) => l.startsWith("ufw "));
}

describe("database host firewalls in network namespaces, real CLI over SSH", () => {
    let work: string;
    let network: TestNetwork | undefined;
    let stack: FixtureStack | undefined;
    let db: TestHost, dbu: TestHost, app: TestHost, other: TestHost;
    let servers: FixtureServer[];
    let nftRulesDir: string;
    let privateKey: string;
    let rootRulesetBefore: string;
    const outputs: string[] = [];

    beforeAll(async () => {
        ensureNetnsTools();
        // Read-only: the machine's own ruleset, to show at the end that nothing here touched it.
        rootRulesetBefore = execFileSync("nft", ["list", "ruleset"], { encoding: "utf8" });
        work = fs.mkdtempSync(path.join(os.tmpdir(), "rp-firewall-"));
        network = TestNetwork.create({
            workDir: path.join(work, "hosts"),
            rootAddress: ADDRESS.root,
            prefixLength: 24,
            hosts: [
                { name: "rp-db", address: ADDRESS.db },
                { name: "rp-dbu", address: ADDRESS.dbu, privatePaths: ["/etc/ufw", "/etc/default/ufw"] },
                { name: "rp-app", address: ADDRESS.app },
                { name: "rp-other", address: ADDRESS.other },
            ],
        });
        db = network.host("rp-db");
        dbu = network.host("rp-dbu");
        app = network.host("rp-app");
        other = network.host("rp-other");

        const keyFile = path.join(work, "id_ed25519");
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "rp-firewall-test", "-f", keyFile]);
        privateKey = fs.readFileSync(keyFile, "utf8");
        const publicKey = fs.readFileSync(`${keyFile}.pub`, "utf8");

        // rp-db: a table of its own that is not ours, then the listeners and sshd.
        db.exec(["nft", "-f", "-"], { input: `table inet ${FOREIGN_NFT_TABLE} {\n\tchain input {\n\t\ttype filter hook input priority 10; policy accept;\n\t\tcounter\n\t}\n}\n` });
        db.listen(3306);
        db.listen(5432);
        const dbHostKey = db.startSshd(publicKey);

        // rp-dbu: ufw active (on its private /etc/ufw), letting everything in until our rules come.
        dbu.exec(["ufw", "default", "allow", "incoming"]);
        dbu.exec(["ufw", ...FOREIGN_UFW_RULE.split(" ")]);
        dbu.exec(["ufw", "--force", "enable"]);
        dbu.listen(5432);
        dbu.listen(3306);
        const dbuHostKey = dbu.startSshd(publicKey);

        nftRulesDir = path.join(work, "rp-db-etc", "nftables.d");
        servers = [
            { name: "fw-nft", engine: "mariadb", host: ADDRESS.db, port: 3306, appHost: ADDRESS.app, firewall: "nftables", hostKey: dbHostKey },
            { name: "fw-ufw", engine: "postgresql", host: ADDRESS.dbu, port: 5432, appHost: ADDRESS.app, firewall: "ufw", hostKey: dbuHostKey },
        ];
        stack = new FixtureStack(path.join(work, "project"), "firewall", PROJECT);
        writeFirewallConfig(stack, servers, nftRulesDir);
        await stack.init();
        // The key goes through stdin: never on a command line.
        await stack.setSecret("sshPrivateKey", privateKey);
    });

    afterAll(async () => {
        try {
            if (stack) await stack.run(["destroy", "--yes", "--skip-preview"], { allowFailure: true });
        } finally {
            network?.destroy();
            if (work) fs.rmSync(work, { recursive: true, force: true });
        }
    });

    test("before up, the app host and any other host reach both database ports", () => {
        for (const from of [app, other]) {
            expect(from.connect(ADDRESS.db, 3306)).toMatchObject({ connected: true, reply: "rp-db port 3306" });
            expect(from.connect(ADDRESS.dbu, 5432)).toMatchObject({ connected: true, reply: "rp-dbu port 5432" });
        }
        expect(nftTables(db)).toEqual([`table inet ${FOREIGN_NFT_TABLE}`]);
        expect(ufwAdded(dbu)).toEqual([`ufw ${FOREIGN_UFW_RULE}`]);
    });

    test("up applies both firewalls: the app host connects, another host is refused, nothing else changes", async () => {
        const result = await stack!.up();
        outputs.push(result.output);
        expect(result.output).toMatch(/\+ 6 created/);
        expectOnlyAllowed(ADDRESS.app);

        // nftables: our table beside the host's own, exactly as rendered, and kept in the rules directory.
        expect(nftTables(db)).toEqual([`table inet ${FOREIGN_NFT_TABLE}`, `table inet ${NFT_TABLE}`]);
        expect(ourTable()).toBe(expectedTable(ADDRESS.app));
        expect(fs.readFileSync(path.join(nftRulesDir, "release-platform-db-fw-nft.nft"), "utf8")).toBe(renderNftablesRuleset(specOf(servers[0]!)));
        // ufw: allow before deny, the host's own rule still there.
        expect(ufwAdded(dbu)).toEqual([
            `ufw allow from ${ADDRESS.app} to any port 5432 proto tcp comment '${UFW_COMMENT}'`,
            `ufw ${FOREIGN_UFW_RULE}`,
            `ufw deny 5432 comment '${UFW_COMMENT}'`,
        ]);
    });

    test("a ruleset nft refuses changes nothing: the running table stays as it was", () => {
        const applyScript = renderNftablesApplyScript(specOf(servers[0]!), { rulesDir: nftRulesDir, unitDir: unitDirBeside(nftRulesDir) });
        const refused = db.exec(["sh", "-c", applyScript], { input: `table inet ${NFT_TABLE} {\n\tchain input { nonsense }\n}\n`, allowFailure: true });
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/Error: syntax error/);
        expect(ourTable()).toBe(expectedTable(ADDRESS.app));
        expect(fs.readFileSync(path.join(nftRulesDir, "release-platform-db-fw-nft.nft"), "utf8")).toBe(renderNftablesRuleset(specOf(servers[0]!)));
    });

    test("a second up changes nothing", async () => {
        expect(changingSteps(await stack!.previewJson())).toEqual([]);
        const result = await stack!.up();
        outputs.push(result.output);
        expect(result.output).toMatch(/6 unchanged/);
        expect(result.output).not.toMatch(/created|updated|replaced|deleted/);
    });

    test("rules changed on the hosts show in preview --refresh, and up --refresh applies them again", async () => {
        db.exec(["nft", "delete", "table", "inet", NFT_TABLE]);
        dbu.exec(["ufw", "delete", "deny", "5432"]);
        expect(other.connect(ADDRESS.db, 3306).connected).toBe(true);
        // Without a refresh the state does not know.
        expect(changingSteps(await stack!.previewJson())).toEqual([]);
        const drift = changingSteps(await stack!.previewJson(["--refresh"])).filter((s) => s.op !== "refresh");
        expect(drift.map((s) => [s.urn.split("::").pop(), s.op]).sort()).toEqual([
            ["fw-nft-firewall-nftables", "update"],
            ["fw-ufw-firewall-ufw", "update"],
        ]);
        const result = await stack!.run(["up", "--yes", "--skip-preview", "--refresh"]);
        outputs.push(result.output);
        expectOnlyAllowed(ADDRESS.app);
        expect(ourTable()).toBe(expectedTable(ADDRESS.app));
        expect(changingSteps(await stack!.previewJson(["--refresh"])).filter((s) => s.op !== "refresh")).toEqual([]);
    });

    test("the nftables rules survive a reboot: the boot unit loads the kept ruleset again", () => {
        const unitDir = unitDirBeside(nftRulesDir);
        expect(fs.readFileSync(path.join(unitDir, NFT_BOOT_UNIT), "utf8")).toBe(renderNftBootUnit(nftRulesDir));
        expect(fs.readlinkSync(path.join(unitDir, "sysinit.target.wants", NFT_BOOT_UNIT))).toBe(path.join(unitDir, NFT_BOOT_UNIT));
        // A reboot empties the kernel's ruleset; then the unit runs its command.
        db.exec(["nft", "delete", "table", "inet", NFT_TABLE]);
        expect(nftTables(db)).toEqual([`table inet ${FOREIGN_NFT_TABLE}`]);
        db.exec(["sh", "-c", nftBootCommand(nftRulesDir)]);
        expect(ourTable()).toBe(expectedTable(ADDRESS.app));
        expectOnlyAllowed(ADDRESS.app);
    });

    test("a changed app host is applied in place: the new one connects, the old one is refused", async () => {
        servers = servers.map((s) => ({ ...s, appHost: ADDRESS.other }));
        writeFirewallConfig(stack!, servers, nftRulesDir);
        const steps = changingSteps(await stack!.previewJson());
        expect(steps.map((s) => [s.urn.split("::").pop(), s.op]).sort()).toEqual([
            ["fw-nft-firewall-nftables", "update"],
            ["fw-ufw-firewall-ufw", "update"],
        ]);
        const result = await stack!.up();
        outputs.push(result.output);
        expect(result.output).toMatch(/~ 2 updated/);
        expectOnlyAllowed(ADDRESS.other);
        expect(ourTable()).toBe(expectedTable(ADDRESS.other));
        // The earlier app host's allow rule is gone; the host's own rule is not.
        expect(ufwAdded(dbu)).toEqual([
            `ufw allow from ${ADDRESS.other} to any port 5432 proto tcp comment '${UFW_COMMENT}'`,
            `ufw ${FOREIGN_UFW_RULE}`,
            `ufw deny 5432 comment '${UFW_COMMENT}'`,
        ]);
    });

    test("the SSH private key is a secret: not in the state, the outputs or any CLI output", async () => {
        const keyBody = privateKey.split("\n").filter((line) => line.length > 0 && !line.startsWith("-----"));
        expect(keyBody.length).toBeGreaterThan(0);
        const state = (await stack!.run(["stack", "export"])).stdout;
        const shown = (await stack!.run(["stack", "output", "--json", "--show-secrets"])).stdout;
        for (const text of [state, shown, ...outputs]) {
            expect(text).not.toContain("OPENSSH PRIVATE KEY");
            for (const line of keyBody) expect(text).not.toContain(line);
        }
    });

    test("destroy removes our table, our file and our rules, and leaves the hosts' own", async () => {
        const result = await stack!.run(["destroy", "--yes", "--skip-preview"]);
        outputs.push(result.output);
        expect(result.output).toMatch(/- 6 deleted/);
        expect(nftTables(db)).toEqual([`table inet ${FOREIGN_NFT_TABLE}`]);
        expect(fs.existsSync(path.join(nftRulesDir, "release-platform-db-fw-nft.nft"))).toBe(false);
        // No ruleset of ours is left, so the boot unit is gone too.
        expect(fs.existsSync(path.join(unitDirBeside(nftRulesDir), NFT_BOOT_UNIT))).toBe(false);
        expect(ufwAdded(dbu)).toEqual([`ufw ${FOREIGN_UFW_RULE}`]);
        expect(dbu.exec(["ufw", "status"]).stdout).toMatch(/^Status: active/);
        for (const from of [app, other]) {
            expect(from.connect(ADDRESS.db, 3306).connected).toBe(true);
            expect(from.connect(ADDRESS.dbu, 5432).connected).toBe(true);
        }
    });

    test("ufw rules are refused on a host where ufw is not active (they would not be enforced)", () => {
        dbu.exec(["ufw", "disable"]);
        const refused = dbu.exec(["sh", "-c", renderUfwApplyScript(specOf(servers[1]!))], { allowFailure: true });
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/ufw is not active on .*enable ufw on this host first/);
        expect(ufwAdded(dbu)).toEqual([`ufw ${FOREIGN_UFW_RULE}`]);
    });

    test("the machine's own nftables ruleset was never touched", () => {
        expect(execFileSync("nft", ["list", "ruleset"], { encoding: "utf8" })).toBe(rootRulesetBefore);
    });

    /** The database port of each host answers the allowed address and no other; the ports we do not manage answer everyone. */
    function expectOnlyAllowed(allowed: string): void {
        const [allowedHost, refusedHost] = allowed === ADDRESS.app ? [app, other] : [other, app];
        expect(allowedHost.connect(ADDRESS.db, 3306)).toMatchObject({ connected: true, reply: "rp-db port 3306" });
        expect(refusedHost.connect(ADDRESS.db, 3306)).toMatchObject({ connected: false, error: expect.stringMatching(/timed out|refused|reset/) });
        expect(allowedHost.connect(ADDRESS.dbu, 5432)).toMatchObject({ connected: true, reply: "rp-dbu port 5432" });
        expect(refusedHost.connect(ADDRESS.dbu, 5432)).toMatchObject({ connected: false, error: expect.stringMatching(/timed out|refused|reset/) });
        // Untouched: the other engine's port on each host, and loopback on the managed port.
        expect(refusedHost.connect(ADDRESS.db, 5432).connected).toBe(true);
        expect(refusedHost.connect(ADDRESS.dbu, 3306).connected).toBe(true);
        expect(db.connect("127.0.0.1", 3306).connected).toBe(true);
        expect(dbu.connect("127.0.0.1", 5432).connected).toBe(true);
    }

    function ourTable(): string {
        return db.exec(["nft", "list", "table", "inet", NFT_TABLE]).stdout.replace(/counter packets \d+ bytes \d+/g, "counter");
    }
});

/** What the fixture builds from one entry (test/integration/fixtures/firewall/index.ts). */
function specOf(s: FixtureServer): DatabaseServerSpec {
    return {
        name: s.name,
        engine: s.engine,
        version: undefined,
        admin: { host: s.host, port: s.port, user: "admin", tls: { mode: "disable", caFile: undefined } },
        appHost: s.appHost,
        ssh: { host: s.host, port: 22, user: "root", hostKey: s.hostKey },
        firewall: s.firewall,
        maxDatabases: undefined,
        databases: [],
    };
}

/** `nft list table` of our table as the kernel holds it (counters left out). */
function expectedTable(appHost: string): string {
    return [
        `table inet ${NFT_TABLE} {`,
        "\tchain input {",
        "\t\ttype filter hook input priority filter; policy accept;",
        '\t\tiif "lo" tcp dport 3306 accept',
        `\t\tip saddr ${appHost} tcp dport 3306 accept`,
        "\t\ttcp dport 3306 counter drop",
        "\t}",
        "}",
        "",
    ].join("\n");
}
