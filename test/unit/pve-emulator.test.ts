// The PVE emulator answers as PVE 8.4 and 9.x do: the vendored schema's checks, the runtime rules of the
// Perl sources, and the exact texts, statuses and shapes the provider (and our product) meet on a real cluster.
import * as https from "node:https";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { formatPropertyString, parsePropertyString, PveEmulator } from "../support/pve-emulator";
import { knowsFormat } from "../support/pve-emulator/formats";
import { apiSchema, type SchemaNode } from "../support/pve-emulator/schema";
import { SCHEMA_ENDPOINTS } from "../support/pve-emulator/schema/endpoints";

const TOKEN = "root@pam!test=00000000-0000-4000-8000-000000000000";

interface Answer {
    status: number;
    /** The reason phrase: where PVE (and so the emulator) puts the first line of the error text. */
    reason: string;
    /** The body's `message` (PVE's `die` text, final newline included). */
    message?: string;
    errors?: Record<string, string>;
    data: unknown;
}

/** One API call the way bpg's client makes it: token header, form body, `{data}` back. */
function call(pve: PveEmulator, method: string, path: string, args: Record<string, string> = {}, token: string | null = TOKEN): Promise<Answer> {
    const form = new URLSearchParams(args).toString();
    const query = (method === "GET" || method === "DELETE") && form ? `?${form}` : "";
    return new Promise((resolve, reject) => {
        const req = https.request(
            `${pve.endpoint}/api2/json/${path}${query}`,
            {
                method,
                // The emulator's throwaway self-signed certificate, on loopback.
                rejectUnauthorized: false,
                headers: {
                    Accept: "application/json",
                    ...(token ? { Authorization: `PVEAPIToken=${token}` } : {}),
                    ...(query === "" && form ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
                },
            },
            (res) => {
                let body = "";
                res.on("data", (d: Buffer) => (body += d.toString()));
                res.on("end", () => {
                    const parsed = JSON.parse(body) as { data: unknown; message?: string; errors?: Record<string, string> };
                    resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? "", ...parsed });
                });
            },
        );
        req.on("error", reject);
        req.end(query === "" ? form : undefined);
    });
}

const CT = { vmid: "300", ostemplate: "local:vztmpl/debian-12.tar.zst", rootfs: "local-lvm:8", net0: "name=eth0,bridge=vmbr0,ip=10.0.0.3/24,tag=20", start: "1" };
const NOT_IN_SCHEMA = "property is not defined in schema and the schema does not allow additional properties";

let pve9: PveEmulator;
let pve8: PveEmulator;
const api = (method: string, path: string, args?: Record<string, string>, token?: string | null): Promise<Answer> => call(pve9, method, path, args, token);
const api8 = (method: string, path: string, args?: Record<string, string>): Promise<Answer> => call(pve8, method, path, args);

beforeAll(async () => {
    pve9 = await PveEmulator.start({ version: "9.1.2", taskRunningPolls: 1 });
    pve8 = await PveEmulator.start({ version: "8.4.1", taskRunningPolls: 0 });
});

afterAll(async () => {
    await pve9.stop();
    await pve8.stop();
});

describe("property strings", () => {
    test.each([
        ["local-lvm:vm-100-disk-0,size=16G", "volume", [["volume", "local-lvm:vm-100-disk-0"], ["size", "16G"]]],
        ["volume=local-lvm:16,acl=0", "volume", [["volume", "local-lvm:16"], ["acl", "0"]]],
        ["name=eth0,bridge=vmbr0,tag=20", undefined, [["name", "eth0"], ["bridge", "vmbr0"], ["tag", "20"]]],
        ["", undefined, []],
    ])("%j", (text, defaultKey, pairs) => {
        expect(parsePropertyString(text, defaultKey)).toEqual(pairs);
        if (text.startsWith("local-lvm")) expect(formatPropertyString(parsePropertyString(text, defaultKey), defaultKey)).toBe(text);
    });

    test("a positional value needs a default key", () => {
        expect(() => parsePropertyString("eth0,bridge=vmbr0")).toThrow(/value without key/);
    });
});

describe("the vendored schema", () => {
    test.each([
        [8, "stable-bookworm", "8.4.2", "fa0b4f6ba0eb7c6a77dec8cb6713bb3bbcd83ebc"],
        [9, "master", "9.1.3", "e5010dcea566a205770572cfbc5fe0af220d5077"],
    ])("PVE %i comes from pve-docs %s (%s) at %s", (major, branch, version, commit) => {
        expect(apiSchema(major).source).toEqual({ repository: "https://github.com/proxmox/pve-docs", file: "api-viewer/apidata.js", branch, commit, version });
    });

    test("holds our endpoints only; PVE 8.4 has no HA rules, and no host has IP sets or aliases", () => {
        const ours = new Set(SCHEMA_ENDPOINTS.map(([m, p]) => `${m} ${p}`));
        for (const major of [8, 9]) for (const key of Object.keys(apiSchema(major).endpoints)) expect(ours.has(key), key).toBe(true);
        expect(Object.keys(apiSchema(8).endpoints).filter((k) => k.includes("/cluster/ha/rules"))).toEqual([]);
        expect(Object.keys(apiSchema(9).endpoints).filter((k) => k.includes("/cluster/ha/rules"))).toHaveLength(5);
        expect(Object.keys(apiSchema(9).endpoints).filter((k) => /nodes\/\{node\}\/firewall\/(ipset|aliases)/.test(k))).toEqual([]);
    });

    test("every named format the schema uses is implemented", () => {
        const formats = new Set<string>();
        const visit = (node: SchemaNode | undefined): void => {
            if (!node) return;
            if (typeof node.format === "string") formats.add(node.format);
            else if (node.format) Object.values(node.format).forEach(visit);
            Object.values(node.properties ?? {}).forEach(visit);
            if (node.items) visit(node.items);
        };
        for (const major of [8, 9]) for (const endpoint of Object.values(apiSchema(major).endpoints)) visit(endpoint.parameters);
        expect([...formats].filter((f) => f !== "string" && !knowsFormat(f))).toEqual([]);
        expect(formats.size).toBeGreaterThan(30);
    });
});

describe("the API contract", () => {
    test("without a token: 401", async () => {
        expect(await api("GET", "version", {}, null)).toMatchObject({ status: 401, reason: "No ticket" });
    });

    test("create answers a UPID whose task reports running, then stopped OK", async () => {
        const { status, data } = await api("POST", "nodes/pve1/lxc", CT);
        expect(status).toBe(200);
        expect(data).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzcreate:300:root@pam!test:$/);
        const upid = String(data);
        expect((await api("GET", `nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).data).toMatchObject({ status: "running" });
        expect((await api("GET", `nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).data).toMatchObject({ status: "stopped", exitstatus: "OK" });
    });

    test("config comes back as PVE stores it: allocated volume, MAC, unprivileged by default, digest", async () => {
        const { data } = await api("GET", "nodes/pve1/lxc/300/config");
        expect(data).toMatchObject({ rootfs: "local-lvm:vm-300-disk-0,size=8G", memory: 512, hostname: "CT300", unprivileged: 1, digest: expect.stringMatching(/^[0-9a-f]{40}$/) });
        expect((data as Record<string, string>)["net0"]).toMatch(/^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:01:2C:00,ip=10\.0\.0\.3\/24,tag=20,type=veth$/);
    });

    test("an error carries its text in the status line and as the body's message, with PVE's final newline", async () => {
        expect(await api("GET", "nodes/pve1/lxc/999/config")).toEqual({
            status: 500,
            reason: "Configuration file 'nodes/pve1/lxc/999.conf' does not exist",
            message: "Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n",
            data: null,
        });
    });

    test.each<[string, () => Promise<Answer>, number, string]>([
        ["a container on another node", () => api("GET", "nodes/pve2/lxc/300/config"), 500, "Configuration file 'nodes/pve2/lxc/300.conf' does not exist"],
        ["a CT-ID taken on another node", () => api("POST", "nodes/pve2/lxc", CT), 500, "CT 300 already exists on node 'pve1'"],
        ["an unknown node", () => api("GET", "nodes/pve9/lxc/300/status/current"), 595, "hostname lookup 'pve9' failed"],
        ["an unknown HA resource", () => api("GET", "cluster/ha/resources/ct:300"), 500, "no such resource 'ct:300'"],
        ["an unknown HA rule", () => api("GET", "cluster/ha/rules/nope"), 500, "no such ha rule 'nope'"],
        ["an unknown firewall rule", () => api("GET", "nodes/pve1/lxc/300/firewall/rules/7"), 500, "no rule at position 7"],
        ["an unknown path", () => api("GET", "nodes/pve1/qemu"), 501, "Method 'GET /nodes/pve1/qemu' not implemented"],
        ["a method the path does not have", () => api("PATCH", "version"), 501, "Method 'PATCH /version' not implemented"],
        ["a pool that does not exist", () => api("POST", "nodes/pve1/lxc", { ...CT, vmid: "399", pool: "nope" }), 403, "Permission check failed (pool 'nope' does not exist)"],
    ])("%s: the status and text PVE answers", async (_case, request, status, reason) => {
        const answer = await request();
        expect(answer.status).toBe(status);
        expect(answer.reason.startsWith(reason), answer.reason).toBe(true);
        expect(answer.data).toBeNull();
    });

    test("tags are stored lowercase and sorted; a description gets PVE's final newline", async () => {
        await api("PUT", "nodes/pve1/lxc/300/config", { tags: "Zeta;alpha", description: "db" });
        expect((await api("GET", "nodes/pve1/lxc/300/config")).data).toMatchObject({ tags: "alpha;zeta", description: "db\n" });
    });

    test("the request log records every call with its answer", () => {
        expect(pve9.requests.some((r) => r.status === 401 && r.path === "version")).toBe(true);
        expect(pve9.requests.at(-1)).toMatchObject({ method: "GET", path: "nodes/pve1/lxc/300/config", status: 200 });
        expect(pve9.mutations().every((r) => r.method !== "GET")).toBe(true);
    });
});

describe("every request is checked against the schema (400 Parameter verification failed.)", () => {
    test.each<[string, string, string, Record<string, string>, Record<string, string>]>([
        ["an unknown parameter", "PUT", "nodes/pve1/lxc/300/config", { colour: "blue" }, { colour: NOT_IN_SCHEMA }],
        ["a create without its template", "POST", "nodes/pve1/lxc", { vmid: "301" }, { ostemplate: "property is missing and it is not optional" }],
        ["an integer that is none", "PUT", "nodes/pve1/lxc/300/config", { memory: "lots" }, { memory: "type check ('integer') failed - got 'lots'" }],
        ["a boolean that is none", "PUT", "nodes/pve1/lxc/300/config", { onboot: "yes" }, { onboot: "type check ('boolean') failed - got 'yes'" }],
        ["a value below its minimum", "PUT", "nodes/pve1/lxc/300/config", { cores: "0" }, { cores: "value must have a minimum value of 1" }],
        [
            "a value outside its enumeration",
            "PUT",
            "nodes/pve1/lxc/300/config",
            { ostype: "windows" },
            { ostype: "value 'windows' does not have a value in the enumeration 'debian, devuan, ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'" },
        ],
        ["a host name that is none", "PUT", "nodes/pve1/lxc/300/config", { hostname: "db_1" }, { hostname: "invalid format - value does not look like a valid DNS name\n" }],
        ["a tag with a space", "PUT", "nodes/pve1/lxc/300/config", { tags: "a;b c!" }, { tags: "invalid format - invalid characters in tag\n" }],
        ["a start order that does not parse", "PUT", "nodes/pve1/lxc/300/config", { startup: "order=first" }, { startup: "invalid format - unable to parse startup options\n" }],
        [
            "a VLAN tag out of range in a NIC",
            "PUT",
            "nodes/pve1/lxc/300/config",
            { net0: "name=eth0,bridge=vmbr0,tag=5000" },
            { net0: "invalid format - format error\nnet0.tag: value must have a maximum value of 4094\n" },
        ],
        [
            "an address that is no CIDR in a NIC",
            "PUT",
            "nodes/pve1/lxc/300/config",
            { net0: "name=eth0,ip=10.0.0.3" },
            { net0: "invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n" },
        ],
        ["a NIC key PVE does not have", "PUT", "nodes/pve1/lxc/300/config", { net0: "name=eth0,colour=red" }, { net0: "invalid format - invalid key in comma-separated list property: colour\n" }],
        ["a NIC without its name", "PUT", "nodes/pve1/lxc/300/config", { net1: "bridge=vmbr0" }, { net1: "invalid format - format error\nnet1.name: property is missing and it is not optional\n" }],
        ["a NIC number beyond net31", "PUT", "nodes/pve1/lxc/300/config", { net32: "name=eth9" }, { net32: NOT_IN_SCHEMA }],
        ["a feature flag PVE does not have", "PUT", "nodes/pve1/lxc/300/config", { features: "nesting=1,docker=1" }, { features: "invalid format - invalid key in comma-separated list property: docker\n" }],
        ["a resize size that is no size", "PUT", "nodes/pve1/lxc/300/resize", { disk: "rootfs", size: "10GB" }, { size: "value does not match the regex pattern" }],
        ["a resize of a disk key that is none", "PUT", "nodes/pve1/lxc/300/resize", { disk: "net0", size: "10G" }, { disk: expect.stringMatching(/^value 'net0' does not have a value in the enumeration 'rootfs, mp0, /) as unknown as string }],
        ["a firewall policy PVE does not know", "PUT", "nodes/pve1/lxc/300/firewall/options", { policy_in: "ALLOW" }, { policy_in: "value 'ALLOW' does not have a value in the enumeration 'ACCEPT, REJECT, DROP'" }],
        ["a port out of range", "POST", "nodes/pve1/lxc/300/firewall/rules", { type: "in", action: "ACCEPT", proto: "tcp", dport: "70000" }, { dport: "invalid format - invalid port '70000'\n" }],
        ["a source that is no address", "POST", "nodes/pve1/lxc/300/firewall/rules", { type: "in", action: "ACCEPT", source: "10.0.0.300" }, { source: expect.stringMatching(/^invalid format - invalid IP address: /) as unknown as string }],
        ["a network with host bits set", "POST", "nodes/pve1/lxc/300/firewall/rules", { type: "in", action: "ACCEPT", source: "10.10.10.5/24" }, { source: expect.stringMatching(/^invalid format - invalid IP address: Invalid prefix/) as unknown as string }],
        ["an HA state PVE does not have", "POST", "cluster/ha/resources", { sid: "ct:300", state: "running" }, { state: "value 'running' does not have a value in the enumeration 'started, stopped, enabled, disabled, ignored'" }],
        ["a pool name with a space", "POST", "pools", { poolid: "my pool" }, { poolid: "invalid format - pool name 'my pool' contains invalid characters\n" }],
        ["a path parameter that contradicts the body", "PUT", "nodes/pve1/lxc/300/config", { vmid: "301", memory: "1024" }, { vmid: "duplicate parameter (already defined in URI) with conflicting values!" }],
    ])("%s", async (_case, method, path, args, errors) => {
        const answer = await api(method, path, args);
        expect(answer).toMatchObject({ status: 400, reason: "Parameter verification failed.", message: "Parameter verification failed.\n", data: null });
        expect(answer.errors).toEqual(errors);
    });

    test("`key=` counts as absent, as pve-http-server decodes it (an optional key passes, a required one is missing)", async () => {
        expect((await api("PUT", "nodes/pve1/lxc/300/firewall/options", { enable: "1", log_level_in: "" })).status).toBe(200);
        expect((await api("POST", "pools", { poolid: "" })).errors).toEqual({ poolid: "property is missing and it is not optional" });
    });
});

describe("the version a test asks for", () => {
    test("PVE 8.4 has no HA rules: 501, as pveproxy answers a path it does not have", async () => {
        expect(await api8("GET", "cluster/ha/rules")).toMatchObject({ status: 501, reason: "Method 'GET /cluster/ha/rules' not implemented" });
        expect((await api8("POST", "cluster/ha/rules", { rule: "r", type: "node-affinity", resources: "ct:100" })).status).toBe(501);
    });

    test("PVE 8.4's schema has no `host-managed` NIC key, no HA `failback` and no `purge` on an HA delete", async () => {
        await api8("POST", "nodes/pve1/lxc", { ...CT, vmid: "800" });
        expect((await api8("PUT", "nodes/pve1/lxc/800/config", { net0: "name=eth0,bridge=vmbr0,host-managed=0" })).errors).toEqual({
            net0: "invalid format - invalid key in comma-separated list property: host-managed\n",
        });
        expect((await api8("POST", "cluster/ha/resources", { sid: "ct:800", failback: "1" })).errors).toEqual({ failback: NOT_IN_SCHEMA });
        expect((await api8("POST", "cluster/ha/resources", { sid: "ct:800" })).status).toBe(200);
        expect((await api8("DELETE", "cluster/ha/resources/ct:800", { purge: "1" })).errors).toEqual({ purge: NOT_IN_SCHEMA });
    });

    test("PVE 8.4 has HA groups; a resource may name one, and a group in use cannot go", async () => {
        expect((await api8("POST", "cluster/ha/groups", { group: "db", nodes: "pve1:1,pve2" })).status).toBe(200);
        expect((await api8("POST", "cluster/ha/groups", { group: "db", nodes: "pve1" })).reason).toBe("create ha group failed: ha group ID 'db' already defined");
        expect((await api8("PUT", "cluster/ha/resources/ct:800", { group: "nope" })).reason).toBe("HA group 'nope' does not exist");
        expect((await api8("PUT", "cluster/ha/resources/ct:800", { group: "db" })).status).toBe(200);
        expect((await api8("GET", "cluster/ha/resources/ct:800")).data).toMatchObject({ group: "db" });
        expect((await api8("DELETE", "cluster/ha/groups/db")).reason).toBe("delete ha group failed: ha group is used by service 'ct:800'");
        expect((await api8("POST", "cluster/ha/groups", { group: "app", nodes: "pve9?" })).errors).toEqual({ nodes: "invalid format - value does not look like a valid ha group node\n" });
    });

    test("PVE 9 has migrated groups to rules: no group can be made or named", async () => {
        expect(await api("POST", "cluster/ha/groups", { group: "db", nodes: "pve1" })).toMatchObject({ status: 500, reason: "cannot create group: ha groups have been migrated to rules" });
        expect((await api("GET", "cluster/ha/groups")).reason).toBe("cannot index groups: ha groups have been migrated to rules");
        expect((await api("POST", "cluster/ha/resources", { sid: "ct:300", group: "db" })).reason).toBe("invalid parameter 'group': ha groups have been migrated to rules");
    });
});

describe("runtime rules the schema does not show", () => {
    const ops = "ops@pve!ci=00000000-0000-4000-8000-000000000000";

    test("a protected container refuses a config update that carries a disk, but grows through resize (pve-container update_pct_config, resize_vm)", async () => {
        await api("POST", "nodes/pve1/lxc", { ...CT, vmid: "310", start: "0", protection: "1", mp0: "local-lvm:4,mp=/data" });
        expect(await api("PUT", "nodes/pve1/lxc/310/config", { rootfs: "local-lvm:vm-310-disk-0,size=8G" })).toMatchObject({
            status: 500,
            message: "can't update CT 310 drive 'rootfs' - protection mode enabled\n",
        });
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { mp0: "local-lvm:vm-310-disk-1,mp=/srv" })).reason).toBe("can't update CT 310 drive 'mp0' - protection mode enabled");
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { delete: "mp0" })).reason).toBe("can't remove CT 310 drive 'mp0' - protection mode enabled");
        // Lifting protection in the same request does not help: PVE checks the stored config.
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { protection: "0", rootfs: "local-lvm:vm-310-disk-0" })).reason).toBe("can't update CT 310 drive 'rootfs' - protection mode enabled");
        expect((await api("PUT", "nodes/pve1/lxc/310/resize", { disk: "rootfs", size: "12G" })).status).toBe(200);
        expect((await api("GET", "nodes/pve1/lxc/310/config")).data).toMatchObject({ rootfs: "local-lvm:vm-310-disk-0,size=12G", protection: 1 });
    });

    test.each<[string, Record<string, string>, number, string]>([
        ["to its current size", { size: "12G" }, 500, "disk is already at specified size"],
        ["to a smaller one", { size: "10G" }, 500, "unable to shrink disk size"],
        ["by a relative amount", { size: "+1G" }, 200, ""],
    ])("resizing %s", async (_case, args, status, reason) => {
        const answer = await api("PUT", "nodes/pve1/lxc/310/resize", { disk: "rootfs", ...args });
        expect([answer.status, answer.status === 200 ? "" : answer.reason]).toEqual([status, reason]);
    });

    test("read-only and required options (update_pct_config)", async () => {
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { unprivileged: "0" })).reason).toBe("unable to modify read-only option: 'unprivileged'");
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { delete: "unprivileged" })).reason).toBe("unable to delete read-only option: 'unprivileged'");
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { delete: "memory" })).reason).toBe("unable to delete required option 'memory'");
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { delete: "colour" })).errors).toEqual({ delete: "unknown option 'colour'" });
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { delete: "cores", cores: "2" })).errors).toEqual({ delete: "you can't use '-cores' and -delete cores' at the same time" });
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { digest: "0".repeat(40) })).reason).toBe("no options specified");
        expect((await api("PUT", "nodes/pve1/lxc/310/config", { digest: "0".repeat(40), cores: "2" })).reason).toBe("detected modified configuration - file changed by other user? Try again.");
    });

    // check_ct_modify_config_perm: only root@pam may change feature flags other than nesting; an absent flag ('') differs from 0.
    test.each<[string, string | undefined, Record<string, string>, number]>([
        ["nesting alone on a new container", undefined, { features: "nesting=1" }, 200],
        ["keyctl on a new container", undefined, { features: "keyctl=1" }, 403],
        ["what the provider sends to turn nesting on: all four flags", undefined, { features: "fuse=0,keyctl=0,nesting=1,mknod=0" }, 403],
        ["nesting switched off alone", "nesting=1", { features: "nesting=0" }, 200],
        ["what the provider sends to turn nesting off: all four flags", "nesting=1", { features: "fuse=0,keyctl=0,nesting=0,mknod=0" }, 403],
        ["the same four flags again", "fuse=0,keyctl=0,nesting=1,mknod=0", { features: "fuse=0,keyctl=0,nesting=0,mknod=0" }, 200],
        ["removing nesting alone", "nesting=1", { delete: "features" }, 200],
        ["removing more than nesting", "nesting=1,fuse=1", { delete: "features" }, 403],
    ])("feature flags from a token: %s", async (_case, before, change, status) => {
        await api("POST", "nodes/pve2/lxc", { vmid: "320", ostemplate: CT.ostemplate });
        // What root@pam would have set before (a token may not).
        const ct = pve9.state.containers.get(320);
        if (ct && before) ct.config["features"] = before;
        const answer = await api("PUT", "nodes/pve2/lxc/320/config", change, ops);
        expect(answer.status).toBe(status);
        if (status === 403) expect(answer.reason).toBe("Permission check failed (changing feature flags (except nesting) is only allowed for root@pam)");
        expect((await api("DELETE", "nodes/pve2/lxc/320")).status).toBe(200);
    });

    test("a token is never root@pam, not even root@pam's own; a privileged container's flags are root's alone", async () => {
        expect((await api("POST", "nodes/pve2/lxc", { vmid: "330", ostemplate: CT.ostemplate, features: "fuse=1" })).status).toBe(403);
        expect((await api("POST", "nodes/pve2/lxc", { vmid: "330", ostemplate: CT.ostemplate, unprivileged: "0", features: "nesting=1" })).reason).toBe(
            "Permission check failed (changing feature flags for privileged container is only allowed for root@pam)",
        );
        expect((await api("POST", "nodes/pve2/lxc", { vmid: "330", ostemplate: CT.ostemplate, hookscript: "local:snippets/hook.sh" })).reason).toBe(
            "Permission check failed (changing the hookscript is only allowed for root@pam)",
        );
        expect((await api("POST", "nodes/pve2/lxc", { vmid: "330", ostemplate: CT.ostemplate, mp0: "/srv/data,mp=/data" })).reason).toBe(
            "Permission check failed (mount point type bind is only allowed for root@pam)",
        );
    });

    test("destroy checks in pve-container's order: protection, HA without purge, running without force", async () => {
        await api("POST", "nodes/pve1/lxc", { ...CT, vmid: "340", protection: "1" });
        await api("POST", "cluster/ha/resources", { sid: "ct:340", state: "started" });
        expect((await api("DELETE", "nodes/pve1/lxc/340")).reason).toBe("can't remove CT 340 - protection mode enabled");
        await api("PUT", "nodes/pve1/lxc/340/config", { delete: "protection" });
        expect((await api("DELETE", "nodes/pve1/lxc/340")).reason).toBe("unable to remove CT 340 - used in HA resources and purge parameter not set.");
        expect((await api("DELETE", "nodes/pve1/lxc/340", { purge: "1" })).reason).toBe("unable to destroy CT 340 - container is running");
        // A shutdown of an HA-managed container goes through the HA manager, which then keeps it stopped.
        expect((await api("POST", "nodes/pve1/lxc/340/status/shutdown", { forceStop: "1", timeout: "5" })).data).toMatch(/:hastop:340:/);
        expect((await api("GET", "cluster/ha/resources/ct:340")).data).toMatchObject({ state: "stopped" });
        expect((await api("DELETE", "nodes/pve1/lxc/340", { purge: "1" })).status).toBe(200);
        expect(pve9.state.haResources.has("ct:340")).toBe(false);
        expect((await api("GET", "nodes/pve1/lxc/340/status/current")).reason).toMatch(/does not exist$/);
    });

    test("HA resources: the guest must exist, a sid is defined once, and deleting one HA does not manage is an error", async () => {
        expect((await api("POST", "cluster/ha/resources", { sid: "ct:399" })).reason).toBe("resource 'ct:399' does not exist in cluster");
        expect((await api("POST", "cluster/ha/resources", { sid: "300", type: "vm" })).reason).toBe("types does not match");
        expect((await api("POST", "cluster/ha/resources", { sid: "ct:300" })).status).toBe(200);
        expect((await api("POST", "cluster/ha/resources", { sid: "ct:300" })).reason).toBe("create resource failed: resource ID 'ct:300' already defined");
        expect((await api("DELETE", "cluster/ha/resources/ct:399")).reason).toBe("cannot delete service 'ct:399', not HA managed!");
    });

    test("HA rules (PVE 9): managed resources, existing nodes, one node-affinity rule per resource", async () => {
        expect((await api("POST", "cluster/ha/rules", { rule: "r1", type: "node-affinity", resources: "ct:300,ct:310", nodes: "pve1" })).reason).toBe(
            "create ha rule failed: cannot use unmanaged resource(s) ct:310.",
        );
        expect((await api("POST", "cluster/ha/rules", { rule: "r1", type: "node-affinity", resources: "ct:300", nodes: "pve1,pve7:2" })).reason).toBe(
            "create ha rule failed: cannot use non-existent node(s) pve7.",
        );
        expect((await api("POST", "cluster/ha/rules", { rule: "r1", type: "node-affinity", resources: "ct:300", nodes: "pve1" })).status).toBe(200);
        const conflict = await api("POST", "cluster/ha/rules", { rule: "r2", type: "node-affinity", resources: "ct:300", nodes: "pve2" });
        expect(conflict).toMatchObject({
            status: 500,
            reason: "create ha rule failed: 400 Rule 'r2' is invalid.",
            message: "create ha rule failed: 400 Rule 'r2' is invalid.\nresources: resource 'ct:300' is already used in another node affinity rule\n",
        });
        expect((await api("POST", "cluster/ha/rules", { rule: "r1", type: "node-affinity", resources: "ct:300", nodes: "pve1" })).reason).toBe("create ha rule failed: HA rule 'r1' already defined");
        expect((await api("PUT", "cluster/ha/rules/r9", { type: "node-affinity", comment: "x" })).reason).toBe("update HA rules failed: HA rule 'r9' does not exist");
        // Deleting a rule that is not there is no error.
        expect((await api("DELETE", "cluster/ha/rules/r9")).status).toBe(200);
    });

    test("deleting an HA resource (purge, the default in PVE 9) takes it out of its rules and drops a rule left empty", async () => {
        expect((await api("GET", "cluster/ha/rules/r1")).data).toMatchObject({ rule: "r1", resources: "ct:300", order: 1 });
        expect((await api("DELETE", "cluster/ha/resources/ct:300")).status).toBe(200);
        expect((await api("GET", "cluster/ha/rules/r1")).reason).toBe("no such ha rule 'r1'");
    });

    test("pool membership: a guest is in one pool, added once, removed only if a member; only an empty pool goes", async () => {
        expect((await api("POST", "pools", { poolid: "a" })).status).toBe(200);
        expect((await api("POST", "pools", { poolid: "b" })).status).toBe(200);
        expect((await api("POST", "pools", { poolid: "a" })).reason).toBe("create pool failed: pool 'a' already exists");
        expect((await api("PUT", "pools", { poolid: "a", vms: "300" })).status).toBe(200);
        expect((await api("PUT", "pools", { poolid: "a", vms: "300" })).reason).toBe("update pools failed: VM 300 is already a pool member");
        expect((await api("PUT", "pools", { poolid: "b", vms: "300" })).reason).toBe("update pools failed: VM 300 belongs already to pool 'a' and 'allow-move' is not set");
        expect((await api("DELETE", "pools", { poolid: "a" })).reason).toBe("delete pool failed: pool 'a' is not empty (contains VM 300)");
        expect((await api("PUT", "pools", { poolid: "b", vms: "300", "allow-move": "1" })).status).toBe(200);
        expect((await api("PUT", "pools", { poolid: "a", vms: "300", delete: "1" })).reason).toBe("update pools failed: VM 300 is not a pool member");
        expect((await api("DELETE", "pools", { poolid: "a" })).status).toBe(200);
        expect((await api("GET", "pools", { poolid: "b" })).data).toEqual([{ poolid: "b", members: [expect.objectContaining({ id: "lxc/300", vmid: 300, type: "lxc" })] }]);
    });

    test("firewall rules: a new rule goes on top, disabled unless enabled; verify_rule's checks", async () => {
        await api("POST", "nodes/pve1/lxc", { ...CT, vmid: "350" });
        const rules = "nodes/pve1/lxc/350/firewall/rules";
        for (const port of ["3", "2", "1"]) await api("POST", rules, { type: "in", action: "ACCEPT", proto: "tcp", dport: port, pos: "2" });
        const list = async (): Promise<{ dport: string; enable: number; pos: number; digest: string }[]> => (await api("GET", rules)).data as never;
        expect((await list()).map((r) => [r.pos, r.dport, r.enable])).toEqual([[0, "1", 0], [1, "2", 0], [2, "3", 0]]);
        // One digest for the whole list, as copy_list_with_digest hands it out.
        expect(new Set((await list()).map((r) => r.digest)).size).toBe(1);
        await api("PUT", `${rules}/0`, { moveto: "2" });
        expect((await list()).map((r) => r.dport)).toEqual(["2", "1", "3"]);
        await api("PUT", `${rules}/0`, { moveto: "3" });
        expect((await list()).map((r) => r.dport)).toEqual(["1", "3", "2"]);
        expect((await api("GET", `${rules}/1`)).data).toMatchObject({ pos: "1", dport: "3", enable: 0 });
        const refused = async (args: Record<string, string>): Promise<Record<string, string> | undefined> => (await api("POST", rules, { type: "in", action: "ACCEPT", ...args })).errors;
        expect(await refused({ dport: "22" })).toEqual({ proto: "missing property - 'dport' requires this property" });
        expect(await refused({ proto: "icmp", sport: "22" })).toEqual({ sport: "protocol 'icmp' does not support ports" });
        expect(await refused({ macro: "Pong" })).toEqual({ macro: "unknown macro 'Pong'" });
        expect(await refused({ iface: "eth0" })).toEqual({ iface: "value does not match the regex pattern 'net\\d+'" });
        expect(await refused({ type: "forward" })).toEqual({ type: "invalid rule type 'forward' for rule_env 'ct'" });
        expect(await refused({ source: "+trusted" })).toEqual({ source: "no such ipset 'trusted'" });
        expect(await refused({ source: "office" })).toEqual({ source: "no such alias 'office'" });
        expect(await refused({ source: "10.0.0.1", dest: "fd00::1" })).toEqual({ dest: "detected mixed ipv4/ipv6 addresses in rule" });
        expect((await api("PUT", `${rules}/0`, { delete: "action" })).errors).toEqual({ delete: "unable to delete required property 'action'" });
        expect((await api("PUT", `${rules}/0`, { digest: "0".repeat(40), comment: "x" })).reason).toBe("detected modified configuration - file changed by other user? Try again.");
        expect((await api("POST", "cluster/firewall/ipset", { name: "trusted" })).status).toBe(200);
        expect(await refused({ source: "+trusted", macro: "ping" })).toBeUndefined();
        expect((await api("GET", `${rules}/0`)).data).toMatchObject({ macro: "Ping", source: "+trusted" });
    });
});
