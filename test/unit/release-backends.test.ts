// Traffic backends in text: HAProxy runtime commands and `show servers state`, nginx upstream blocks, the local configs.
import * as path from "node:path";
import { describe, expect, test } from "vitest";
import { parsePlatformConfig } from "../../components/config";
import { parseFault } from "../../scripts/apps/health-app";
import { planLocalRelease } from "../../scripts/local-release";
import { readStackConfig } from "../../scripts/local-secrets";
import {
    colourWeights,
    CONFIG_FILE_WEIGHTS,
    expectEmptyAnswer,
    HAPROXY_SERVERS,
    parseServersState,
    parseUpstreamWeights,
    renderLocalHaproxyConfig,
    renderLocalNginxConfig,
    renderUpstreamBlock,
    replaceUpstreamBlock,
    setWeightCommand,
    showServersStateCommand,
    weightChangeCommands,
    weightsForGreen,
    type Weights,
} from "../../components/release";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** As HAProxy 2.6 (Debian 12) answers `show servers state`, two backends. */
const STATE_2_6 = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 api 1 blue 127.0.0.1 2 0 90 100 12 6 3 4 6 0 0 0 - 3000 - 0 0 - - 0
3 api 2 green 127.0.0.1 2 0 10 0 12 6 3 4 6 0 0 0 - 3001 - 0 0 - - 0
4 crm 1 blue 10.10.20.10 0 1 100 100 3 7 2 0 6 0 0 0 - 3010 - 0 0 - - 0

`;

describe("HAProxy runtime API", () => {
    test.each([
        ["api", "green", 10, "set weight api/green 10"],
        ["api", "blue", 0, "set weight api/blue 0"],
        ["be_web.1", "green", 256, "set weight be_web.1/green 256"],
    ])("set weight %s/%s %s", (backend, server, weight, command) => {
        expect(setWeightCommand(backend, server, weight)).toBe(command);
    });

    test.each([
        ["api;shutdown", "green", 10, 'invalid HAProxy backend name "api;shutdown"'],
        ["api", "green\nshow", 10, "invalid HAProxy server name"],
        ["api", "green", -1, "HAProxy weight must be a whole number from 0 to 256, not -1"],
        ["api", "green", 10.5, "not 10.5"],
        ["api", "green", 257, "not 257"],
    ])("refuses %j/%j %s", (backend, server, weight, message) => {
        expect(() => setWeightCommand(backend, server, weight)).toThrow(message);
    });

    test("show servers state, of one backend or all", () => {
        expect(showServersStateCommand("api")).toBe("show servers state api");
        expect(showServersStateCommand()).toBe("show servers state");
    });

    test.each<[Weights | undefined, number, string[]]>([
        [{ blue: 100, green: 0 }, 10, ["set weight api/green 10", "set weight api/blue 90"]],
        [{ blue: 50, green: 50 }, 100, ["set weight api/green 100", "set weight api/blue 0"]],
        // Rollback: blue takes traffic before green lets go, so no request finds both at 0.
        [{ blue: 0, green: 100 }, 0, ["set weight api/blue 100", "set weight api/green 0"]],
        [undefined, 0, ["set weight api/blue 100", "set weight api/green 0"]],
        [{ blue: 90, green: 10 }, 10, ["set weight api/blue 90", "set weight api/green 10"]],
    ])("from %j to green %s: the rising colour first", (from, green, commands) => {
        expect(weightChangeCommands("api", HAPROXY_SERVERS, weightsForGreen(green), from)).toEqual(commands);
    });

    test("parses show servers state by its header", () => {
        const states = parseServersState(STATE_2_6);
        expect(states.map(({ fields: _fields, ...s }) => s)).toEqual([
            { backendId: 3, backend: "api", serverId: 1, server: "blue", address: "127.0.0.1", opState: 2, adminState: 0, weight: 90, initialWeight: 100, port: 3000 },
            { backendId: 3, backend: "api", serverId: 2, server: "green", address: "127.0.0.1", opState: 2, adminState: 0, weight: 10, initialWeight: 0, port: 3001 },
            { backendId: 4, backend: "crm", serverId: 1, server: "blue", address: "10.10.20.10", opState: 0, adminState: 1, weight: 100, initialWeight: 100, port: 3010 },
        ]);
        expect(states[0]?.fields["srv_check_status"]).toBe("6");
    });

    test("a version with more columns, in another order, still parses", () => {
        const text = [
            "1",
            "# be_name be_id srv_name srv_id srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_port extra_col",
            "api 3 blue 1 ::1 2 0 50 100 3000 x",
            "api 3 green 2 ::1 2 0 50 0 3001 y",
        ].join("\n");
        expect(colourWeights(parseServersState(text), "api", HAPROXY_SERVERS)).toEqual({ blue: 50, green: 50 });
    });

    test.each([
        ["Unknown command. Please enter one of the following commands only :\n  help : this message\n", "show servers state did not answer in format 1"],
        ["", "show servers state did not answer in format 1"],
        ["Can't find backend.\n", "show servers state did not answer in format 1"],
        ["1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight\n3 api 1 blue 127.0.0.1 2 0 abc 100\n", "no number in srv_uweight"],
    ])("refuses an answer that is not the state: %j", (text, message) => {
        expect(() => parseServersState(text)).toThrow(message);
    });

    test.each([
        ["api", { blue: 90, green: 10 }],
        ["nope", "HAProxy has no backend nope"],
        ["crm", "HAProxy backend crm has no server green (has blue)"],
    ])("weights of backend %s: %j", (backend, expected) => {
        const states = parseServersState(STATE_2_6);
        if (typeof expected === "string") expect(() => colourWeights(states, backend, HAPROXY_SERVERS)).toThrow(expected);
        else expect(colourWeights(states, backend, HAPROXY_SERVERS)).toEqual(expected);
    });

    test.each([
        ["", undefined],
        ["\n", undefined],
        ["No such server.\n\n", "HAProxy refused `set weight api/pink 10`: No such server."],
        ["Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n", "static LB algorithm"],
    ])("the answer %j to set weight", (answer, error) => {
        if (error === undefined) expect(() => expectEmptyAnswer("set weight api/pink 10", answer)).not.toThrow();
        else expect(() => expectEmptyAnswer("set weight api/pink 10", answer)).toThrow(error);
    });
});

describe("local HAProxy config", () => {
    const config = renderLocalHaproxyConfig({
        adminSocket: "/run/rp/admin.sock",
        serverStateFile: "/run/rp/server-state",
        frontendAddress: "127.0.0.1:8080",
        statsAddress: "127.0.0.1:8404",
        pidFile: "/run/rp/haproxy.pid",
        backends: [
            { name: "api", blue: "127.0.0.1:3000", green: "127.0.0.1:3001", healthPath: "/health" },
            { name: "crm", blue: "127.0.0.1:3010", green: "127.0.0.1:3011", healthPath: "/healthz" },
        ],
    });

    test.each([
        "    stats socket /run/rp/admin.sock mode 600 level admin",
        "    server-state-file /run/rp/server-state",
        "    load-server-state-from-file global",
        "    bind 127.0.0.1:8080",
        "    use_backend api if { path_beg /api/ } || { path /api }",
        "    default_backend api",
        "backend crm",
        "    option httpchk GET /healthz",
        "    http-request replace-path ^/crm/?(.*)$ /\\1",
        "    server blue 127.0.0.1:3010 weight 100 check inter 2s fall 3 rise 2",
        "    server green 127.0.0.1:3011 weight 0 check inter 2s fall 3 rise 2",
        "    option redispatch 1",
    ])("has %j", (line) => {
        expect(config.split("\n")).toContain(line);
    });

    test("the file's weights never follow a release, so the state file's weights apply after a restart", () => {
        expect(CONFIG_FILE_WEIGHTS).toEqual({ blue: 100, green: 0 });
        expect(config.match(/^\s+server (blue|green) .*$/gm)).toHaveLength(4);
    });
});

describe("nginx upstreams", () => {
    const spec = (weights: Weights, name = "frontend") => ({
        name,
        blue: { address: "127.0.0.1:3010", version: "1.0.0" },
        green: { address: "127.0.0.1:3011", version: "1.1.0" },
        weights,
    });

    test("renders the weighted upstream and one per colour", () => {
        expect(renderUpstreamBlock(spec({ blue: 90, green: 10 }))).toBe(
            [
                "# BEGIN release-platform upstream frontend (managed by Pulumi, do not edit)",
                "upstream frontend {",
                "    server 127.0.0.1:3010 weight=90; # blue 1.0.0",
                "    server 127.0.0.1:3011 weight=10; # green 1.1.0",
                "}",
                "upstream frontend_blue { server 127.0.0.1:3010; }",
                "upstream frontend_green { server 127.0.0.1:3011; }",
                "# END release-platform upstream frontend",
            ].join("\n"),
        );
    });

    test("a colour without traffic is down, not weight=0 (which nginx refuses)", () => {
        expect(renderUpstreamBlock(spec({ blue: 100, green: 0 }))).toContain("    server 127.0.0.1:3011 down; # green 1.1.0");
    });

    test.each([0, 10, 50, 100])("green %s reads back as written", (green) => {
        const text = replaceUpstreamBlock("", "frontend", renderUpstreamBlock(spec(weightsForGreen(green))));
        expect(parseUpstreamWeights(text, "frontend")).toEqual(weightsForGreen(green));
    });

    test("replacing one block keeps the rest of the file", () => {
        const other = renderUpstreamBlock(spec({ blue: 100, green: 0 }, "admin"));
        const before = `# hand-written\nupstream legacy { server 10.0.0.1:80; }\n${other}\n${renderUpstreamBlock(spec({ blue: 100, green: 0 }))}\n`;
        const after = replaceUpstreamBlock(before, "frontend", renderUpstreamBlock(spec({ blue: 50, green: 50 })));
        expect(parseUpstreamWeights(after, "frontend")).toEqual({ blue: 50, green: 50 });
        expect(parseUpstreamWeights(after, "admin")).toEqual({ blue: 100, green: 0 });
        expect(after.startsWith("# hand-written\nupstream legacy { server 10.0.0.1:80; }\n")).toBe(true);
        expect(after.match(/# BEGIN release-platform upstream frontend/g)).toHaveLength(1);
    });

    test("a file without the block gains it at the end; parsing it before gives undefined", () => {
        expect(parseUpstreamWeights("upstream x { server a:1; }", "frontend")).toBeUndefined();
        expect(replaceUpstreamBlock("upstream x { server a:1; }", "frontend", "B")).toBe("upstream x { server a:1; }\nB\n");
    });

    test.each([
        [{ ...spec({ blue: 100, green: 0 }), name: "Front End" }, 'invalid nginx upstream name "Front End"'],
        [{ ...spec({ blue: 100, green: 0 }), green: { address: "127.0.0.1:3011; include /etc/passwd", version: "1" } }, "invalid green address"],
        [{ ...spec({ blue: 100, green: 0 }), blue: { address: "127.0.0.1:3010", version: "1\n}" } }, "invalid blue version"],
        [spec({ blue: 0, green: 0 }), "upstream frontend needs a colour with weight"],
        [spec({ blue: 101, green: 0 }), "blue weight must be 0 to 100, not 101"],
    ])("refuses %j", (bad, message) => {
        expect(() => renderUpstreamBlock(bad)).toThrow(message);
    });

    test("a block cut off by hand is an error, not a silent rewrite", () => {
        const cut = renderUpstreamBlock(spec({ blue: 100, green: 0 })).split("\n").slice(0, 4).join("\n");
        expect(() => parseUpstreamWeights(cut, "frontend")).toThrow("has the start of frontend's block but not its end");
    });

    test("the local nginx.conf includes the upstream file and proxies each service", () => {
        const conf = renderLocalNginxConfig({ runDir: "/run/rp/nginx", listenAddress: "127.0.0.1:8081", upstreamFile: "/run/rp/nginx/upstreams.conf", upstreams: ["frontend"] });
        expect(conf).toContain("    include /run/rp/nginx/upstreams.conf;");
        expect(conf).toContain("        listen 127.0.0.1:8081;");
        expect(conf).toContain("        location /frontend/ { proxy_pass http://frontend/; proxy_next_upstream error timeout http_502; }");
        expect(conf).toContain("pid /run/rp/nginx/nginx.pid;");
    });
});

describe("local release environment", () => {
    test("the local stack's plan: two processes per service, HAProxy for api, nginx for frontend", () => {
        const plan = planLocalRelease(parsePlatformConfig(readStackConfig(path.join(PROJECT_ROOT, "Pulumi.local.yaml"))));
        expect(plan.apps.map((a) => `${a.service}-${a.colour} ${a.host}:${a.port} ${a.version}`)).toEqual([
            "api-blue 127.0.0.1:3000 1.0.0",
            "api-green 127.0.0.1:3001 1.0.0",
            "frontend-blue 127.0.0.1:3010 1.0.0",
            "frontend-green 127.0.0.1:3011 1.0.0",
        ]);
        expect(plan.haproxy?.backends).toEqual(["api"]);
        expect(plan.haproxy?.admin).toBe("/tmp/release-platform/haproxy/admin.sock");
        expect(plan.haproxy?.config).toContain("    server-state-file /tmp/release-platform/haproxy/server-state");
        expect(plan.nginx?.services.map((s) => s.name)).toEqual(["frontend"]);
        expect(plan.nginx?.configFile).toBe("/tmp/release-platform/nginx/nginx.conf");
        expect(plan.nginx?.config).toContain("    include /tmp/release-platform/nginx/upstreams.conf;");
    });

    test("refuses any stack but the local one", () => {
        expect(() => planLocalRelease(parsePlatformConfig(readStackConfig(path.join(PROJECT_ROOT, "Pulumi.staging.yaml"))))).toThrow(
            "the local release environment is only for the local stack (this config is staging)",
        );
    });

    test.each([
        [undefined, { kind: "none" }],
        ["", { kind: "none" }],
        ["500", { kind: "status", status: 500 }],
        ["503\n", { kind: "status", status: 503 }],
        ["version 1.0.9", { kind: "version", version: "1.0.9" }],
        ["gibberish", { kind: "status", status: 500 }],
    ])("the app's fault file %j means %j", (text, fault) => {
        expect(parseFault(text)).toEqual(fault);
    });
});
