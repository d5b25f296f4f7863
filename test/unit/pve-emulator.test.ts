// The PVE emulator keeps the contract the provider relies on: property strings, tasks, and the exact error texts.
import * as https from "node:https";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { formatPropertyString, parsePropertyString, PveEmulator } from "../support/pve-emulator";

const TOKEN = "root@pam!test=00000000-0000-4000-8000-000000000000";

interface Answer {
    status: number;
    /** The reason phrase: where PVE (and so the emulator) puts the error text. */
    message: string;
    data: unknown;
}

let pve: PveEmulator;

/** One API call the way bpg's client makes it: token header, form body, `{data}` back. */
function call(method: string, path: string, args: Record<string, string> = {}, token: string | null = TOKEN): Promise<Answer> {
    const form = new URLSearchParams(args).toString();
    const query = (method === "GET" || method === "DELETE") && form ? `?${form}` : "";
    return new Promise((resolve, reject) => {
        const req = https.request(
            `${pve.endpoint}/api2/json/${path}${query}`,
            {
                method,
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
                res.on("end", () => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? "", data: (JSON.parse(body) as { data: unknown }).data }));
            },
        );
        req.on("error", reject);
        req.end(query === "" ? form : undefined);
    });
}

const CT = { vmid: "300", ostemplate: "local:vztmpl/debian-12.tar.zst", rootfs: "local-lvm:8", net0: "name=eth0,bridge=vmbr0,ip=10.0.0.3/24,tag=20", start: "1" };

beforeAll(async () => {
    pve = await PveEmulator.start({ taskRunningPolls: 1 });
});

afterAll(() => pve.stop());

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

describe("the API contract", () => {
    test("without a token: 401", async () => {
        expect(await call("GET", "version", {}, null)).toMatchObject({ status: 401, message: "No ticket" });
    });

    test("create answers a UPID whose task reports running, then stopped OK", async () => {
        const { status, data } = await call("POST", "nodes/pve1/lxc", CT);
        expect(status).toBe(200);
        expect(data).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:vzcreate:300:root@pam!test:$/);
        const upid = String(data);
        expect((await call("GET", `nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).data).toMatchObject({ status: "running" });
        expect((await call("GET", `nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).data).toMatchObject({ status: "stopped", exitstatus: "OK" });
    });

    test("config comes back as PVE stores it: allocated volume, MAC, digest", async () => {
        const { data } = await call("GET", "nodes/pve1/lxc/300/config");
        expect(data).toMatchObject({ rootfs: "local-lvm:vm-300-disk-0,size=8G", memory: 512, hostname: "CT300", digest: expect.stringMatching(/^[0-9a-f]{40}$/) });
        expect((data as Record<string, string>)["net0"]).toMatch(/^name=eth0,bridge=vmbr0,hwaddr=BC:24:11:01:2C:00,ip=10\.0\.0\.3\/24,tag=20,type=veth$/);
    });

    test.each<[string, () => Promise<Answer>, number, string]>([
        ["a container on another node", () => call("GET", "nodes/pve2/lxc/300/config"), 500, "Configuration file 'nodes/pve2/lxc/300.conf' does not exist"],
        ["a CT-ID taken on another node", () => call("POST", "nodes/pve2/lxc", CT), 500, "CT 300 already exists on node 'pve1'"],
        ["an unknown node", () => call("GET", "nodes/pve9/lxc/300/status/current"), 595, "hostname lookup 'pve9' failed"],
        ["an unknown HA resource", () => call("GET", "cluster/ha/resources/ct:300"), 500, "no such resource 'ct:300'"],
        ["an unknown HA rule", () => call("GET", "cluster/ha/rules/nope"), 500, "no such ha rule 'nope'"],
        ["an unknown firewall rule", () => call("GET", "nodes/pve1/lxc/300/firewall/rules/7"), 400, "no rule at position 7"],
        ["a shrinking disk", () => call("PUT", "nodes/pve1/lxc/300/resize", { disk: "rootfs", size: "4G" }), 500, "unable to shrink disk size"],
        ["a feature flag from a non-root token", () => call("PUT", "nodes/pve1/lxc/300/config", { features: "keyctl=1" }, "ops@pve!ci=00000000-0000-4000-8000-000000000000"), 403, "Permission check failed"],
    ])("%s: the error text the provider matches", async (_case, request, status, message) => {
        const answer = await request();
        expect(answer.status).toBe(status);
        expect(answer.message.startsWith(message), answer.message).toBe(true);
        expect(answer.data).toBeNull();
    });

    test("tags are stored lowercase and sorted; a description gets PVE's final newline", async () => {
        await call("PUT", "nodes/pve1/lxc/300/config", { tags: "Zeta;alpha", description: "db" });
        expect((await call("GET", "nodes/pve1/lxc/300/config")).data).toMatchObject({ tags: "alpha;zeta", description: "db\n" });
    });

    test("a container under HA, running or protected cannot be destroyed", async () => {
        await call("POST", "cluster/ha/resources", { sid: "ct:300", type: "ct", state: "started" });
        expect((await call("DELETE", "nodes/pve1/lxc/300")).message).toBe("CT 300 is running - destroy failed");
        await call("POST", "nodes/pve1/lxc/300/status/shutdown", { forceStop: "1", timeout: "5" });
        expect((await call("DELETE", "nodes/pve1/lxc/300")).message).toBe("unable to remove CT 300 - used in HA resources and purge parameter not set.");
        await call("DELETE", "cluster/ha/resources/ct:300");
        await call("PUT", "nodes/pve1/lxc/300/config", { protection: "1" });
        expect((await call("DELETE", "nodes/pve1/lxc/300")).message).toBe("can't remove CT 300 - protection mode enabled");
        await call("PUT", "nodes/pve1/lxc/300/config", { delete: "protection" });
        expect((await call("DELETE", "nodes/pve1/lxc/300")).status).toBe(200);
        expect((await call("GET", "nodes/pve1/lxc/300/status/current")).message).toMatch(/does not exist$/);
    });

    test("firewall rules are inserted at the top and moved the way PVE moves them", async () => {
        await call("POST", "nodes/pve1/lxc", { ...CT, vmid: "301" });
        for (const port of ["3", "2", "1"]) await call("POST", "nodes/pve1/lxc/301/firewall/rules", { type: "in", action: "ACCEPT", proto: "tcp", dport: port, enable: "1", comment: "" });
        const ports = async (): Promise<unknown[]> => ((await call("GET", "nodes/pve1/lxc/301/firewall/rules")).data as { dport: string }[]).map((r) => r.dport);
        expect(await ports()).toEqual(["1", "2", "3"]);
        await call("PUT", "nodes/pve1/lxc/301/firewall/rules/0", { moveto: "2" });
        expect(await ports()).toEqual(["2", "1", "3"]);
        await call("PUT", "nodes/pve1/lxc/301/firewall/rules/0", { moveto: "3" });
        expect(await ports()).toEqual(["1", "3", "2"]);
        // A single rule echoes its position as a string (what bpg's struct expects), and has no empty fields.
        expect((await call("GET", "nodes/pve1/lxc/301/firewall/rules/1")).data).toMatchObject({ pos: "1", dport: "3", enable: 1 });
        expect((await call("GET", "nodes/pve1/lxc/301/firewall/rules/1")).data).not.toHaveProperty("comment");
    });

    test("the request log records every call with its answer", () => {
        expect(pve.requests.at(-1)).toMatchObject({ method: "GET", path: "nodes/pve1/lxc/301/firewall/rules/1", status: 200 });
        expect(pve.requests.some((r) => r.status === 401 && r.path === "version")).toBe(true);
        expect(pve.mutations().every((r) => r.method !== "GET")).toBe(true);
    });
});
